"""Universal locks over the default 30-environment matrix, against a local index."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from crosspin.environments import Matrix
from crosspin.index import IndexClient, IndexSettings
from crosspin.lock import Lock, check_lock
from crosspin.lockfiles.requirements import read
from crosspin.metadata import MetadataProvider
from tests.helpers import UNIVERSAL_PROJECT, run_cli, selected_by_env

#: The project every test here locks (tests.helpers.UNIVERSAL_PROJECT).
PACKAGES = UNIVERSAL_PROJECT
ANY = ">=3.8"


@pytest.fixture
def project(make_index: Any, tmp_path: Path) -> tuple[Any, Path]:
    built = make_index.build(PACKAGES)
    server = make_index.serve(built)
    server.built_index = built
    (tmp_path / "requirements.in").write_text("app\n", encoding="utf-8")
    return server, tmp_path


def _compile(server: Any, cwd: Path, *extra: str) -> str:
    result = run_cli(
        ["compile", "requirements.in", "--isolated", "--index-url", server.index_url,
         "--cache-dir", str(cwd / "cache"), "-q", *extra],
        cwd=cwd,
    )
    assert result.code == 0, result.stderr
    return (cwd / "requirements.txt").read_text(encoding="utf-8")


def _check(text: str, server: Any, cache: Path) -> list[Any]:
    lockfile = read(text)
    assert lockfile.matrix is not None
    lock = Lock.build(matrix=lockfile.matrix, packages=lockfile.packages)
    with IndexClient(IndexSettings(index_url=server.index_url, cache_dir=cache)) as client:
        return check_lock(lock, finder=client, metadata=MetadataProvider(client))


def test_non_sibling_platform_split_resolves(project: tuple[Any, Path]) -> None:
    """pa needs pc<2 on Linux, pb needs pc>=2 on Windows: both pins, exact markers."""
    server, cwd = project
    text = _compile(server, cwd)
    assert 'pc==1.0.0 ; sys_platform == "linux"' in text
    assert 'pc==2.0.0 ; sys_platform == "win32"' in text
    assert "pc==" not in "".join(
        line for line in text.splitlines() if "darwin" in line
    )


def test_universal_lock_meets_the_contract(project: tuple[Any, Path]) -> None:
    """Every environment's selected set is closed, installable and unambiguous."""
    server, cwd = project
    text = _compile(server, cwd)
    assert _check(text, server, cwd / "cache") == []
    sets = selected_by_env(text, Matrix.from_options())
    assert len(sets) == 30
    assert "modern==2.0.0" in sets["3.11-linux-x86_64"]
    assert "modern==1.0.0" in sets["3.10-linux-x86_64"]
    assert "colorama==0.4.6" in sets["3.12-windows-x86_64"]
    assert "colorama==0.4.6" not in sets["3.12-macos-arm64"]
    assert "backport==1.0.0" in sets["3.9-macos-x86_64"]
    assert "backport==1.0.0" not in sets["3.11-macos-x86_64"]


def test_markers_read_like_a_person_wrote_them(project: tuple[Any, Path]) -> None:
    """Graph markers are kept when exact; Python splits use python_version."""
    server, cwd = project
    text = _compile(server, cwd)
    assert 'colorama==0.4.6 ; os_name == "nt"' in text
    assert 'backport==1.0.0 ; python_version < "3.11"' in text
    assert 'modern==1.0.0 ; python_version < "3.11"' in text
    assert 'modern==2.0.0 ; python_version >= "3.11"' in text


def test_hashes_only_for_files_the_matrix_can_install(project: tuple[Any, Path]) -> None:
    """win32 (32-bit) wheels are in no environment of the matrix: no hash for them."""
    server, cwd = project
    text = _compile(server, cwd, "--generate-hashes")
    lockfile = read(text)
    native = next(p for p in lockfile.packages if p.name == "native")
    assert len(native.recorded_hashes) == 6 * 5
    built = server.built_index
    win32 = [p for p in built.files_for("native", "1.0.0") if p.name.endswith("-win32.whl")]
    import hashlib

    for wheel in win32:
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        assert f"sha256:{digest}" not in text


def test_second_run_is_byte_identical(project: tuple[Any, Path]) -> None:
    """Compiling again with the output present changes nothing."""
    server, cwd = project
    first = _compile(server, cwd, "--generate-hashes")
    second = _compile(server, cwd, "--generate-hashes")
    assert first == second


def test_single_environment_is_a_one_cell_matrix(project: tuple[Any, Path]) -> None:
    """--python X --platform P gives a lock for exactly that environment, no markers."""
    server, cwd = project
    text = _compile(server, cwd, "--python", "3.12", "--platform", "windows-x86_64")
    assert "# crosspin-matrix: python=3.12; platforms=windows-x86_64" in text
    assert " ; " not in text
    assert "pc==2.0.0" in text and "colorama==0.4.6" in text and "backport" not in text


def test_not_installable_names_package_and_environments(make_index: Any, tmp_path: Path) -> None:
    """A package with Linux-only wheels fails with a clear line naming it and the marker hint."""
    server = make_index({"linuxonly": {"1.0.0": {
        "requires_python": ANY, "sdist": False,
        "wheel_tags": ["py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64"]}}})
    (tmp_path / "requirements.in").write_text("linuxonly\n", encoding="utf-8")
    result = run_cli(["compile", "requirements.in", "--isolated", "--index-url",
                      server.index_url, "--cache-dir", str(tmp_path / "c")], cwd=tmp_path)
    assert result.code == 1
    first = result.stderr.splitlines()[0]
    assert first == ("error: linuxonly has wheels only for linux-x86_64; no file installs on "
                     "linux-aarch64, macos-arm64, macos-x86_64, windows-x86_64")
    assert result.stderr.splitlines()[1] == (
        "hint: if you need it only where it installs, write it as: linuxonly ; "
        "sys_platform == \"linux\" and platform_machine == \"x86_64\"")
    assert not (tmp_path / "requirements.txt").exists()


def _pip_platform(env: Any) -> list[str]:
    # pip does not widen a custom --platform to older manylinux/macOS tags.
    return [arg for tag in env.platform.platform_tags for arg in ("--platform", tag)]


@pytest.mark.slow
@pytest.mark.parametrize("hashes", [False, True], ids=["plain", "require-hashes"])
def test_pip_accepts_the_lock_in_every_environment(
    project: tuple[Any, Path], hashes: bool
) -> None:
    """pip install --dry-run accepts the one file for each of the 30 environments."""
    server, cwd = project
    text = _compile(server, cwd, *(["--generate-hashes"] if hashes else []))
    lock_path = cwd / "requirements.txt"
    assert lock_path.read_text(encoding="utf-8") == text
    env_vars = {**os.environ, "PIP_CONFIG_FILE": os.devnull}
    env_vars.pop("PIP_FIND_LINKS", None)
    def run_pip(env: Any) -> str | None:
        # pip evaluates markers for the interpreter it runs on, whatever
        # --python-version/--platform say; this test shim makes pip see the
        # target's marker environment so the whole file is checked per target.
        shim = (
            "import runpy, sys\n"
            "import pip._vendor.packaging.markers as m\n"
            f"m.default_environment = lambda: dict({dict(env.marker_environment)!r})\n"
            "sys.argv[0] = 'pip'\n"
            "runpy.run_module('pip', run_name='__main__', alter_sys=True)\n"
        )
        cmd = [
            sys.executable, "-c", shim, "install", "--dry-run", "--ignore-installed",
            "--only-binary", ":all:", "--python-version", env.python_version,
            *_pip_platform(env), "--target", str(cwd / f"target-{env.name}"), "--index-url",
            server.index_url, "--disable-pip-version-check", "-q", "-r", str(lock_path),
        ]
        if hashes:
            cmd.append("--require-hashes")
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env_vars, check=False)
        if proc.returncode != 0:
            return f"{env.name}: {proc.stderr.strip().splitlines()[-1:]}"
        return None

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(run_pip, Matrix.from_options().environments))
    assert [r for r in results if r] == []
