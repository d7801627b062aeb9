"""``crosspin export``: one environment of a lock as a flat, hash-checked file."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.catalog import IndexFactory
from fixtures.hostile import HostileIndex, wheel_good
from tests.helpers import run_cli
from tests.helpers.hostile import assert_one_error, compile_run, run_crosspin

PIP_ENV = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
PIP_ENV.pop("PIP_FIND_LINKS", None)


def _lock(make_index: IndexFactory, tmp_path: Path) -> str:
    srv = make_index({
        "app": {"1.0.0": {"requires_python": ">=3.8",
                          "requires": ["lin ; sys_platform == 'linux'",
                                       "win ; sys_platform == 'win32'", "split"]}},
        "lin": {"1.0.0": {"requires_python": ">=3.8"}},
        "win": {"1.0.0": {"requires_python": ">=3.8"}},
        "split": {"1.0.0": {"requires_python": ">=3.8"},
                  "2.0.0": {"requires_python": ">=3.11"}},
    }, api="json")
    (tmp_path / "requirements.in").write_text("app\n")
    result = run_cli(["compile", "requirements.in", "-o", "requirements.txt", "--isolated",
                      "--no-cache", "--generate-hashes", "--index-url", srv.index_url],
                     cwd=tmp_path)
    assert result.code == 0, result.stderr
    return srv.index_url


def test_export_one_environment_pip_accepts(make_index: IndexFactory, tmp_path: Path) -> None:
    """The exported file has no markers and pip --require-hashes installs it for 3.12 linux."""
    url = _lock(make_index, tmp_path)
    result = run_cli(["export", "requirements.txt", "--python", "3.12", "--platform",
                      "linux-x86_64", "-o", "exported.txt", "--isolated", "--no-cache"],
                     cwd=tmp_path)
    assert result.code == 0, result.stderr
    text = (tmp_path / "exported.txt").read_text()
    assert ";" not in text
    assert "lin==1.0.0" in text and "split==2.0.0" in text and "win" not in text
    assert "--hash=sha256:" in text
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
         "--require-hashes", "--no-deps", "--only-binary", ":all:", "--python-version", "3.12",
         "--platform", "manylinux_2_28_x86_64", "--target", str(tmp_path / "t"),
         "--index-url", url, "-r", "exported.txt"],
        capture_output=True, text=True, cwd=tmp_path, env=PIP_ENV)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    assert "Would install app-1.0.0 lin-1.0.0 split-2.0.0" in pip.stdout


def test_export_outside_matrix(make_index: IndexFactory, tmp_path: Path) -> None:
    """An environment outside the lock's matrix is refused with the matrix named."""
    _lock(make_index, tmp_path)
    result = run_cli(["export", "requirements.txt", "--python", "3.7", "--platform",
                      "linux-x86_64", "--isolated", "--no-cache"], cwd=tmp_path)
    assert result.code == 1
    assert "outside the lock's matrix (python 3.9, 3.10" in result.stderr


@pytest.mark.parametrize("python", ["3.9", "3.12"])
def test_export_windows_selects_by_marker(
    make_index: IndexFactory, tmp_path: Path, python: str
) -> None:
    """Windows gets win and not lin; older Pythons get the older split pin."""
    _lock(make_index, tmp_path)
    result = run_cli(["export", "requirements.txt", "--python", python, "--platform",
                      "windows-x86_64", "--isolated", "--no-cache"], cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert "win==1.0.0" in result.stdout and "lin" not in result.stdout
    expected = "split==1.0.0" if python == "3.9" else "split==2.0.0"
    assert expected in result.stdout


@pytest.mark.parametrize("api", ["html", "json"])
@pytest.mark.parametrize("recorded", [False, True], ids=["lock-without-hashes", "hashed-lock"])
def test_export_never_writes_an_unhashed_pin(
    hostile: HostileIndex, tmp_path: Path, api: str, recorded: bool
) -> None:
    """An index that gives no hashes: ``export --generate-hashes`` downloads and hashes the
    file (as compile does), and a lock that records hashes keeps them checked against the
    file; never a pin without ``--hash`` (issue 13)."""
    wheel = wheel_good("a", "1.0")
    hostile.add("a", wheel, hashes={})
    server = hostile.start(api=api)
    work = tmp_path / "work"
    made = compile_run(server.index_url, work, "a\n", *(["--generate-hashes"] if recorded else []))
    assert made.code == 0, str(made)
    digest = hashlib.sha256(wheel.data).hexdigest()
    assert (f"--hash=sha256:{digest}" in (work / "requirements.txt").read_text()) == recorded
    run = run_crosspin(["export", "requirements.txt", "--python", "3.12", "--platform",
                        "linux-x86_64", "--isolated", "--no-cache",
                        *([] if recorded else ["--generate-hashes"])], cwd=work)
    assert run.code == 0, str(run)
    assert "a==1.0 \\\n    --hash=sha256:" + digest in run.stdout, str(run)


def test_export_refuses_a_file_that_is_not_the_locked_one(
    hostile: HostileIndex, tmp_path: Path
) -> None:
    """The lock records a hash; the index (no hashes) now serves other bytes under that name:
    one error naming the pin, not a pin without a hash."""
    wheel = wheel_good("a", "1.0")
    hostile.add("a", wheel, hashes={})
    server = hostile.start(api="json")
    work = tmp_path / "work"
    made = compile_run(server.index_url, work, "a\n", "--generate-hashes")
    assert made.code == 0, str(made)
    other = HostileIndex(tmp_path / "other")
    try:
        other.add("a", wheel_good("a", "1.0", requires=["b"]), hashes={})
        swapped = other.start(api="json")
        run = run_crosspin(["export", "requirements.txt", "--python", "3.12", "--platform",
                            "linux-x86_64", "--isolated", "--no-cache",
                            "--index-url", swapped.index_url], cwd=work)
    finally:
        other.close()
    assert_one_error(run, "a==1.0", "hash")
