"""The ten most likely failures: each prints one exact error line and one exact hint.

Where a real command reaches the failure cheaply the test runs it (against a
loopback index); the rest build the error crosspin raises at that spot and
check what ``crosspin`` prints for it.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import pytest

from crosspin.cli import report_error
from crosspin.errors import BuildError, CrosspinError, HashMismatchError, MatrixError
from tests.helpers import run_cli

ANY = ">=3.8"


def _printed(exc: CrosspinError) -> str:
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        report_error(exc)
    return err.getvalue()


def _compile(cwd: Path, index_url: str, *extra: str) -> Any:
    return run_cli(["compile", "requirements.in", "--isolated", "--index-url", index_url,
                    "--cache-dir", str(cwd / "cache"), "-q", *extra], cwd=cwd)


@pytest.fixture(autouse=True)
def _plain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")


def test_no_version_fits_in_some_environments(make_index: Any, tmp_path: Path) -> None:
    """A Linux-only wheel: the message names the package and the other platforms."""
    server = make_index.serve(make_index.build({"native": {"1.0.0": {
        "requires_python": ANY, "sdist": False,
        "wheel_tags": [f"cp3{m}-cp3{m}-manylinux_2_17_x86_64" for m in range(9, 15)]}}}))
    (tmp_path / "requirements.in").write_text("native\n", encoding="utf-8")
    result = _compile(tmp_path, server.index_url)
    assert result.code == 1
    assert result.stderr == (
        "error: no solution for linux-aarch64, macos-arm64, macos-x86_64, windows-x86_64 "
        "(every Python): no version of native can be installed (no file is installable here)\n"
        "hint: narrow the matrix (--python/--platform or [tool.crosspin]) "
        "or allow source builds\n"
    )


def test_index_unreachable(tmp_path: Path) -> None:
    """Nothing listens on the index port: the URL and a network hint."""
    (tmp_path / "requirements.in").write_text("six\n", encoding="utf-8")
    result = _compile(tmp_path, "http://127.0.0.1:9/simple/")
    assert result.code == 1
    assert result.stderr == (
        "error: cannot fetch http://127.0.0.1:9/simple/six/: connection failed "
        "(ConnectError: [Errno 111] Connection refused) (after 3 attempts)\n"
        "hint: check the index URL, your network and credentials\n"
    )


def test_bad_requirement_line(tmp_path: Path) -> None:
    """A malformed line names file:line and says to fix it."""
    (tmp_path / "requirements.in").write_text("six\nrequests>=>2\n", encoding="utf-8")
    result = _compile(tmp_path, "http://127.0.0.1:9/simple/")
    assert result.code == 2
    assert result.stderr == (
        "error: requirements.in:2: invalid requirement 'requests>=>2': Expected semicolon "
        "(after name with no version specifier) or end\n"
        "hint: fix the line(s) named above and run again\n"
    )


def test_environment_outside_the_matrix() -> None:
    """sync into an interpreter the lock does not cover."""
    exc = MatrixError("CPython 3.8.18 on linux-x86_64",
                      "python 3.9-3.14 x linux-x86_64 (6 environments)")
    assert _printed(exc) == (
        "error: this environment (CPython 3.8.18 on linux-x86_64) is outside the lock's "
        "matrix (python 3.9-3.14 x linux-x86_64 (6 environments))\n"
        "hint: add it to the matrix and compile again, or use a matching interpreter\n"
    )


def test_hash_mismatch() -> None:
    """A downloaded file differs from the lock's hash: nothing is installed."""
    exc = HashMismatchError("https://files.example/six-1.16.0-py2.py3-none-any.whl",
                            "sha256:aaaa", "sha256:bbbb")
    assert _printed(exc) == (
        "error: hash mismatch for https://files.example/six-1.16.0-py2.py3-none-any.whl: "
        "expected sha256:aaaa, got sha256:bbbb\n"
        "hint: the file changed on the index or in transit; nothing was installed\n"
    )


def test_stale_lock(make_index: Any, tmp_path: Path) -> None:
    """requirements.in changed after compile: check names both files."""
    server = make_index.serve(make_index.build({"six": {"1.16.0": {"requires_python": ANY}}}))
    (tmp_path / "requirements.in").write_text("six\n", encoding="utf-8")
    assert _compile(tmp_path, server.index_url).code == 0
    (tmp_path / "requirements.in").write_text("six>=1\n", encoding="utf-8")
    result = run_cli(["check", "--cache-dir", str(tmp_path / "cache")], cwd=tmp_path)
    assert result.code == 1
    assert result.stderr == (
        "error: requirements.txt is stale: requirements.in changed since it was compiled\n"
        "hint: run 'crosspin compile' to update requirements.txt, then commit both\n"
    )


def test_sdist_build_failure() -> None:
    """An sdist whose backend fails: the package and a way out."""
    exc = BuildError("oldpkg 0.1", "the build backend failed (exit 1)")
    assert _printed(exc) == (
        "error: cannot build oldpkg 0.1: the build backend failed (exit 1)\n"
        "hint: pin a version that has wheels, or install the build requirements\n"
    )


def test_offline_cache_miss(tmp_path: Path) -> None:
    """--offline with an empty cache: the URL and to run online once."""
    (tmp_path / "requirements.in").write_text("six\n", encoding="utf-8")
    result = _compile(tmp_path, "http://127.0.0.1:9/simple/", "--offline")
    assert result.code == 1
    assert result.stderr == (
        "error: cannot fetch http://127.0.0.1:9/simple/six/: not in the cache and --offline "
        "forbids the network\n"
        "hint: run once without --offline to fill the cache\n"
    )


def test_conflicting_layers(make_index: Any, tmp_path: Path) -> None:
    """A constraints layer that contradicts the requirements: both lines are named."""
    server = make_index.serve(make_index.build({"six": {"1.16.0": {"requires_python": ANY}}}))
    (tmp_path / "requirements.in").write_text("six>=1.16\n", encoding="utf-8")
    (tmp_path / "constraints.txt").write_text("six<1.16\n", encoding="utf-8")
    result = _compile(tmp_path, server.index_url, "-c", "constraints.txt",
                      "--python", "3.12", "--platform", "linux-x86_64")
    assert result.code == 1
    assert result.stderr == (
        "error: no solution for 3.12-linux-x86_64: conflicting requirements on six\n"
        "  -r requirements.in -> six>=1.16\n"
        "  -c constraints.txt -> six<1.16\n"
        "hint: relax the conflicting requirements, or narrow the matrix\n"
    )


def test_invalid_pylock(tmp_path: Path) -> None:
    """A pylock.toml with a broken key: the key path and to regenerate."""
    (tmp_path / "pylock.toml").write_text('lock-version = "1.0"\ncreated-by = "x"\n'
                                          'packages = [{name = "six"}]\n', encoding="utf-8")
    result = run_cli(["check", "pylock.toml"], cwd=tmp_path)
    assert result.code == 2
    assert result.stderr == (
        "error: pylock.toml: packages[0]: Exactly one of vcs, directory, archive must be set "
        "if sdist and wheels are not set\n"
        "hint: regenerate the lock with 'crosspin compile' or fix it by hand\n"
    )
