"""The ten most likely failures: each is a real command that prints one exact error and hint.

Every test runs ``crosspin`` in-process against loopback indexes, local
files and (for ``sync``) real virtual environments, and pins the whole of
stderr and the exit code. docs/output.md quotes the same texts.
"""

from __future__ import annotations

import re
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run_cli, write_sdist
from tests.helpers.pythons import full_version, require_python

ANY = ">=3.8"

#: A PEP 517 backend whose metadata hook works (so compile succeeds) and
#: whose build_wheel always raises (so sync fails building the sdist).
_FAILING_BACKEND = '''\
import os


def get_requires_for_build_wheel(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    path = os.path.join(metadata_directory, "broken-0.1.dist-info")
    os.makedirs(path)
    with open(os.path.join(path, "METADATA"), "w") as fh:
        fh.write("Metadata-Version: 2.1\\nName: broken\\nVersion: 0.1\\n")
    return "broken-0.1.dist-info"


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    raise RuntimeError("this backend always fails")
'''


@pytest.fixture(autouse=True)
def _plain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")


def _compile(cwd: Path, index_url: str, *extra: str) -> Any:
    return run_cli(["compile", "requirements.in", "--isolated", "--index-url", index_url,
                    "--cache-dir", str(cwd / "cache"), "-q", *extra], cwd=cwd)


def _dead_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _venv(minor: str, where: Path) -> Path:
    """A bare virtual environment of CPython ``minor`` (no pip: sync needs none)."""
    python = require_python(minor)
    subprocess.run([str(python), "-m", "venv", "--without-pip", str(where)], check=True)
    return where


def _six_lock(make_index: Any, cwd: Path, *extra: str) -> Any:
    """Compile ``six`` from a loopback index into cwd/requirements.txt; the server."""
    server = make_index.serve(make_index.build({"six": {"1.16.0": {"requires_python": ANY}}}))
    (cwd / "requirements.in").write_text("six\n", encoding="utf-8")
    result = _compile(cwd, server.index_url, *extra)
    assert result.code == 0, result.stderr
    return server


def test_no_version_fits_in_some_environments(make_index: Any, tmp_path: Path) -> None:
    """A Linux-only wheel: the message names the package and the other platforms."""
    server = make_index.serve(make_index.build({"native": {"1.0.0": {
        "requires_python": ANY, "sdist": False,
        "wheel_tags": [f"cp3{m}-cp3{m}-manylinux_2_17_x86_64" for m in range(9, 15)]}}}))
    (tmp_path / "requirements.in").write_text("native\n", encoding="utf-8")
    result = _compile(tmp_path, server.index_url)
    assert result.code == 1
    assert result.stderr == (
        "error: native has wheels only for linux-x86_64; no file installs on linux-aarch64, "
        "macos-arm64, macos-x86_64, windows-x86_64\n"
        "hint: if you need it only where it installs, write it as: native ; "
        "sys_platform == \"linux\" and platform_machine == \"x86_64\"\n"
    )


def test_index_unreachable(tmp_path: Path) -> None:
    """Nothing listens on the index port: the URL and a network hint."""
    port = _dead_port()
    (tmp_path / "requirements.in").write_text("six\n", encoding="utf-8")
    result = _compile(tmp_path, f"http://127.0.0.1:{port}/simple/")
    assert result.code == 1
    assert result.stderr == (
        f"error: cannot fetch http://127.0.0.1:{port}/simple/six/: connection failed "
        "(ConnectError: [Errno 111] Connection refused) (after 3 attempts)\n"
        "hint: check the index URL, your network and credentials\n"
    )


def test_bad_requirement_line(tmp_path: Path) -> None:
    """A malformed line names file:line and says to fix it."""
    (tmp_path / "requirements.in").write_text("six\nrequests>=>2\n", encoding="utf-8")
    result = _compile(tmp_path, f"http://127.0.0.1:{_dead_port()}/simple/")
    assert result.code == 2
    assert result.stderr == (
        "error: requirements.in:2: invalid requirement 'requests>=>2': Expected semicolon "
        "(after name with no version specifier) or end\n"
        "hint: fix the line(s) named above and run again\n"
    )


def test_environment_outside_the_matrix(make_index: Any, tmp_path: Path) -> None:
    """sync with Python 3.8 into a default-matrix (3.9-3.14) lock: refused before anything."""
    py38 = require_python("3.8")
    server = _six_lock(make_index, tmp_path)
    result = run_cli(["sync", "--python", str(py38), "--isolated",
                      "--index-url", server.index_url], cwd=tmp_path)
    assert result.code == 1
    assert result.stderr == (
        f"error: this environment (python {full_version(py38)} on linux x86_64) is outside "
        "the lock's matrix "
        "(python 3.9, 3.10, 3.11, 3.12, 3.13, 3.14 x linux-aarch64, linux-x86_64, macos-arm64, "
        "macos-x86_64, windows-x86_64 (30 environments))\n"
        "hint: add it to the matrix and compile again, or use a matching interpreter\n"
    )


def test_hash_mismatch(make_index: Any, tmp_path: Path) -> None:
    """A lock whose --hash was edited: sync names the file, installs nothing."""
    server = _six_lock(make_index, tmp_path, "--generate-hashes")
    lock = tmp_path / "requirements.txt"
    zero = "sha256:" + "0" * 64
    lock.write_text(re.sub(r"sha256:[0-9a-f]{64}", zero, lock.read_text(encoding="utf-8")),
                    encoding="utf-8")
    venv = _venv("3.12", tmp_path / "venv")
    result = run_cli(["sync", "--venv", str(venv), "--isolated", "--index-url", server.index_url,
                      "--cache-dir", str(tmp_path / "cache")], cwd=tmp_path)
    wheel = (tmp_path / "indexes").rglob("six-1.16.0-py3-none-any.whl")
    import hashlib

    actual = hashlib.sha256(next(iter(wheel)).read_bytes()).hexdigest()
    assert result.code == 1
    assert result.stderr == (
        f"error: hash mismatch for {server.url}/files/six-1.16.0-py3-none-any.whl: "
        f"expected {zero}, got sha256:{actual}\n"
        "hint: the file changed on the index or in transit; nothing was installed\n"
    )
    assert not list(venv.rglob("six.py"))


def test_stale_lock(make_index: Any, tmp_path: Path) -> None:
    """requirements.in changed after compile: check names both files and the exact command."""
    server = _six_lock(make_index, tmp_path)
    (tmp_path / "requirements.in").write_text("six>=1\n", encoding="utf-8")
    result = run_cli(["check", "--cache-dir", str(tmp_path / "cache")], cwd=tmp_path)
    assert result.code == 1
    assert result.stderr == (
        "error: requirements.txt is stale: requirements.in changed since it was compiled\n"
        f"hint: run 'crosspin compile --index-url={server.index_url} --isolated "
        "--output-file=requirements.txt requirements.in' to update requirements.txt, "
        "then commit both\n"
    )


def _failing_sdist(folder: Path) -> Path:
    """broken-0.1.tar.gz: an in-tree backend that can tell its metadata but never builds."""
    folder.mkdir()
    members = {
        "broken-0.1/PKG-INFO": "Metadata-Version: 2.1\nName: broken\nVersion: 0.1\n",
        "broken-0.1/pyproject.toml": ('[build-system]\nrequires = []\n'
                                      'build-backend = "backend"\nbackend-path = ["."]\n'),
        "broken-0.1/backend.py": _FAILING_BACKEND,
    }
    return write_sdist(folder / "broken-0.1.tar.gz", members)


def test_sdist_build_failure(make_index: Any, tmp_path: Path,
                             capfd: pytest.CaptureFixture[str]) -> None:
    """An sdist whose backend raises: the package, the backend's last line, a way out."""
    links = _failing_sdist(tmp_path / "links").parent
    server = make_index.serve(make_index.build({"six": {"1.16.0": {"requires_python": ANY}}}))
    (tmp_path / "requirements.in").write_text("broken\n", encoding="utf-8")
    compiled = _compile(tmp_path, server.index_url, "-f", str(links),
                        "--python", "3.12", "--platform", "linux-x86_64")
    assert compiled.code == 0, compiled.stderr
    venv = _venv("3.12", tmp_path / "venv")
    result = run_cli(["sync", "--venv", str(venv), "--isolated", "--index-url", server.index_url,
                      "-f", str(links), "--cache-dir", str(tmp_path / "cache")], cwd=tmp_path)
    assert result.code == 1
    assert result.stderr == (
        "Building broken==0.1\n"
        "error: cannot build broken: the build backend failed: "
        "RuntimeError: this backend always fails\n"
        "hint: pin a version that has wheels, or install the build requirements\n"
    )
    assert "Traceback" not in capfd.readouterr().err  # the backend's output is not leaked


def test_offline_cache_miss(tmp_path: Path) -> None:
    """--offline with an empty cache: the URL and to run online once."""
    port = _dead_port()
    (tmp_path / "requirements.in").write_text("six\n", encoding="utf-8")
    result = _compile(tmp_path, f"http://127.0.0.1:{port}/simple/", "--offline")
    assert result.code == 1
    assert result.stderr == (
        f"error: cannot fetch http://127.0.0.1:{port}/simple/six/: not in the cache and "
        "--offline forbids the network\n"
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
