"""Against the live index (opt in with ``pytest -m network``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from crosspin.environments import Matrix
from crosspin.lock import Lock, check_lock
from crosspin.lockfiles.requirements import read
from crosspin.metadata import MetadataProvider
from tests.helpers import REPO, parse_pins, run_cli, selected_by_env

pytestmark = pytest.mark.network

ISSUE_SET = """\
sphinx>=4,<6.2
jinja2
attrs>=19.2
sortedcontainers
idna
outcome
sniffio
cffi; os_name == "nt"
pyOpenSSL
"""


def _tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    scratch = Path(os.environ.get("CROSSPIN_TOOLS", "/tmp/tools")) / "bin" / name
    return str(scratch) if scratch.exists() else None


def _pins(text: str) -> set[str]:
    return {f"{n}=={v}" for n, v, _ in parse_pins(text)}


def test_linux_311_pins_equal_pip_compile(tmp_path: Path) -> None:
    """For Linux/3.11 the live pins equal pip-compile's, made the same minute."""
    pip_compile = _tool("pip-compile")
    if pip_compile is None or sys.version_info[:2] != (3, 11) or sys.platform != "linux":
        pytest.skip("needs pip-compile and a Linux CPython 3.11 host (pip install pip-tools)")
    (tmp_path / "requirements.in").write_text(ISSUE_SET, encoding="utf-8")
    result = run_cli(["compile", "requirements.in", "-o", "ours.txt", "--python", "3.11",
                      "--platform", "linux-x86_64"], cwd=tmp_path)
    assert result.code == 0, result.stderr
    subprocess.run([pip_compile, "-q", "requirements.in", "-o", "theirs.txt"], cwd=tmp_path,
                   check=True)
    ours = _pins((tmp_path / "ours.txt").read_text())
    theirs = _pins((tmp_path / "theirs.txt").read_text())
    assert ours == theirs


def test_jupyter_universal_lock_passes_the_checker(tmp_path: Path) -> None:
    """jupyter over 6 Pythons x 5 platforms: 0 checker problems, no more versions than uv."""
    (tmp_path / "requirements.in").write_text("jupyter\n", encoding="utf-8")
    result = run_cli(["compile", "requirements.in"], cwd=tmp_path)
    assert result.code == 0, result.stderr
    text = (tmp_path / "requirements.txt").read_text(encoding="utf-8")
    lockfile = read(text)
    assert lockfile.matrix == Matrix.from_options()
    assert len(lockfile.matrix) == 30
    lock = Lock.build(matrix=lockfile.matrix, packages=lockfile.packages)
    from crosspin.index import IndexClient, IndexSettings

    with IndexClient(IndexSettings()) as client:
        problems = check_lock(lock, finder=client, metadata=MetadataProvider(client),
                              assume_present=lockfile.unpinned_unsafe)
    assert problems == []
    uv = _tool("uv")
    if uv is not None:
        env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
        subprocess.run([uv, "pip", "compile", "--universal", "--python-version", "3.9",
                        "--python", sys.executable, "-q", "requirements.in", "-o", "uv.txt"],
                       cwd=tmp_path, check=True, env=env)
        theirs = _pins((tmp_path / "uv.txt").read_text())
        assert len(_pins(text)) <= len(theirs)


def test_rerun_keeps_the_live_lock(tmp_path: Path) -> None:
    """A second compile with the output present is byte-identical."""
    (tmp_path / "requirements.in").write_text(ISSUE_SET, encoding="utf-8")
    first = run_cli(["compile", "requirements.in", "--generate-hashes"], cwd=tmp_path)
    assert first.code == 0, first.stderr
    text = (tmp_path / "requirements.txt").read_text()
    second = run_cli(["compile", "requirements.in", "--generate-hashes"], cwd=tmp_path)
    assert second.code == 0, second.stderr
    assert (tmp_path / "requirements.txt").read_text() == text


@pytest.mark.parametrize("minor", ["3.9.18", "3.13.0"])
def test_output_is_the_same_under_other_pythons(minor: str, tmp_path: Path) -> None:
    """crosspin under Python 3.9 and 3.13 writes the same bytes as under this Python."""
    python = Path(f"/root/.pyenv/versions/{minor}/bin/python3")
    if not python.exists():
        pytest.skip(f"no CPython {minor} here")
    venv = tmp_path / "venv"
    subprocess.run([str(python), "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(REPO)], check=True)
    (tmp_path / "requirements.in").write_text(ISSUE_SET, encoding="utf-8")
    args = ["compile", "requirements.in", "--python", "3.12", "--platform", "linux-x86_64",
            "--generate-hashes", "--exclude-newer", "2026-10-01", "-o"]
    subprocess.run([str(venv / "bin" / "crosspin"), *args, "theirs.txt"], cwd=tmp_path,
                   check=True)
    ours = run_cli([*args, "ours.txt"], cwd=tmp_path)
    assert ours.code == 0, ours.stderr
    theirs_text = (tmp_path / "theirs.txt").read_text().replace("theirs.txt", "X")
    ours_text = (tmp_path / "ours.txt").read_text().replace("ours.txt", "X")
    assert theirs_text == ours_text


def test_layered_locks_share_pins_on_a_real_project(tmp_path: Path) -> None:
    """main.in -> main.txt, dev.in (-c main.txt) -> dev.txt: every shared pin identical."""
    (tmp_path / "main.in").write_text("flask\nrequests\n", encoding="utf-8")
    (tmp_path / "dev.in").write_text("-c main.txt\npytest\nrequests-mock\nflask\n",
                                     encoding="utf-8")
    result = run_cli(["compile", "dev.in", "main.in"], cwd=tmp_path)
    assert result.code == 0, result.stderr
    main_text = (tmp_path / "main.txt").read_text()
    dev_text = (tmp_path / "dev.txt").read_text()
    matrix = Matrix.from_options()
    main_sets = selected_by_env(main_text, matrix)
    dev_sets = selected_by_env(dev_text, matrix)
    shared_seen: set[str] = set()
    for env in matrix.environments:
        main_v = dict(p.split("==") for p in main_sets[env.name])
        dev_v = dict(p.split("==") for p in dev_sets[env.name])
        # Everything main.txt installs here, dev.txt installs at the same version.
        for name, version in main_v.items():
            assert dev_v.get(name) == version, (env.name, name, version, dev_v.get(name))
        shared_seen |= set(main_v) & set(dev_v)
    assert len(shared_seen) >= 8


@pytest.mark.parametrize(("requirement", "args"), [
    ("cryptography", ["--python", ">=3.9"]),
    ("torchvision", ["--platform", "linux-x86_64", "--platform", "macos-arm64",
                     "--platform", "windows-x86_64", "--python", ">=3.10,<3.15"]),
], ids=["cryptography", "torchvision"])
def test_issue14_real_locks_newest_where_it_installs_and_stable(
    requirement: str, args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's real cases: the direct requirement is held back only by its own limits,
    and a rerun with the lock present and a fresh compile give the same bytes.

    Wherever ``-v`` reports the direct requirement below its newest release, the
    reason is the environment's own (a Requires-Python, no wheel for it) or a bound
    that names the dependent, never another environment's choice (issue 14).
    """
    monkeypatch.setenv("CROSSPIN_MEMO", "0")  # the rerun resolves again
    for folder in ("first", "fresh"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "requirements.in").write_text(f"{requirement}\n", encoding="utf-8")
    command = ["compile", "requirements.in", *args]
    first = run_cli([*command, "-v"], cwd=tmp_path / "first")
    assert first.code == 0, first.stderr
    lock = (tmp_path / "first" / "requirements.txt").read_text(encoding="utf-8")
    held = [line for line in first.stderr.splitlines()
            if line.startswith(f"held back: {requirement} ")]
    for line in held:
        assert "(Requires-Python)" in line or "has no wheel for" in line, line
    assert run_cli(command, cwd=tmp_path / "first").code == 0
    assert (tmp_path / "first" / "requirements.txt").read_text(encoding="utf-8") == lock
    assert run_cli(command, cwd=tmp_path / "fresh").code == 0
    assert (tmp_path / "fresh" / "requirements.txt").read_text(encoding="utf-8") == lock
    assert run_cli(["check"], cwd=tmp_path / "first").code == 0
