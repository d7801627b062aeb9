"""``crosspin sync`` from pylock.toml, merged locks, folders, builds and egg-info leftovers."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest
from packaging.pylock import Pylock
from packaging.utils import canonicalize_name

from crosspin.sync import inspect_target
from fixtures.catalog import IndexFactory
from tests.helpers import run_cli
from tests.helpers.pythons import require_python

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

#: base -> a; extra "test" -> t -> f; group "dev" -> d -> e; group "lint" -> e.
PACKAGES: dict[str, Any] = {
    "a": {"1.0.0": {"requires_python": ">=3.8"}},
    "f": {"1.0.0": {"requires_python": ">=3.8"}},
    "t": {"1.0.0": {"requires": ["f"], "requires_python": ">=3.8"}},
    "d": {"1.0.0": {"requires": ["e"], "requires_python": ">=3.8"}},
    "e": {"1.0.0": {"requires_python": ">=3.8"}},
}

PYPROJECT = """\
[project]
name = "app"
version = "0.1"
requires-python = ">=3.9"
dependencies = ["a"]

[project.optional-dependencies]
test = ["t"]

[dependency-groups]
dev = ["d"]
lint = ["e"]
"""

DEAD_INDEX = "http://127.0.0.1:9/simple"


def _venv(base: Path, minor: str = "3.12") -> Path:
    python = require_python(minor)
    subprocess.run([str(python), "-m", "venv", "--without-pip", str(base)], check=True)
    return base / "bin" / "python"


def _dists(python: Path) -> set[str]:
    target = inspect_target(python)
    return {canonicalize_name(p.name.split("-")[0]) for d in target.site_dirs
            for p in d.glob("*.dist-info")}


def _sync(python: Path, *args: str, cwd: Path) -> tuple[int, str]:
    result = run_cli(["sync", "--python", str(python), "--isolated", "--no-cache", *args],
                     cwd=cwd)
    return result.code, result.stdout + result.stderr


def _pylock(tmp_path: Path, make_index: IndexFactory) -> Path:
    srv = make_index(PACKAGES)
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    result = run_cli(["compile", "pyproject.toml", "--isolated", "--no-cache", "--index-url",
                      srv.index_url, "--all-extras", "--all-groups", "--group", "dev",
                      "-o", "pylock.toml"], cwd=tmp_path)
    assert result.code == 0, result.stderr
    return tmp_path / "pylock.toml"


def _expected(lock: Path, python: Path, extras: tuple[str, ...] = (),
              groups: tuple[str, ...] | None = None) -> set[str]:
    pylock = Pylock.from_dict(tomllib.loads(lock.read_text(encoding="utf-8")))
    target = inspect_target(python)
    chosen = pylock.select(environment=target.markers,  # type: ignore[arg-type]
                           tags=target.tags, extras=extras,
                           dependency_groups=groups)
    return {p.name for p, _ in chosen}


@pytest.mark.slow
def test_sync_from_pylock_with_and_without_groups(
    make_index: IndexFactory, tmp_path: Path
) -> None:
    """pylock.toml syncs its default groups, or the --group/--extras asked for, from its URLs."""
    lock = _pylock(tmp_path, make_index)
    python = _venv(tmp_path / "venv")
    # The file lists every wheel's URL and hash: a dead index is never asked.
    code, out = _sync(python, "pylock.toml", "--index-url", DEAD_INDEX, cwd=tmp_path)
    assert code == 0, out
    assert _dists(python) == {"a", "d", "e"} == _expected(lock, python)
    code, out = _sync(python, "pylock.toml", "--group", "lint", cwd=tmp_path)
    assert code == 0, out
    assert _dists(python) == {"a", "e"} == _expected(lock, python, groups=("lint",))
    code, out = _sync(python, "pylock.toml", "--extras", "test", "--group", "lint",
                      cwd=tmp_path)
    assert code == 0, out
    assert _dists(python) == {"a", "e", "f", "t"} == _expected(lock, python, ("test",),
                                                               ("lint",))
    code, out = _sync(python, "pylock.toml", "--extras", "test", "--group", "lint",
                      "--dry-run", cwd=tmp_path)
    assert code == 0 and "Everything up to date" in out, out


def test_unknown_group_or_extra_is_one_error(make_index: IndexFactory, tmp_path: Path) -> None:
    """Asking a pylock.toml for a group or extra it lacks names what it has."""
    _pylock(tmp_path, make_index)
    code, out = _sync(Path(sys.executable), "pylock.toml", "--group", "docs", "--dry-run",
                      cwd=tmp_path)
    assert code == 2 and "no dependency group 'docs' in the lock" in out, out
    assert "dev, lint" in out and "Traceback" not in out
    code, out = _sync(Path(sys.executable), "pylock.toml", "--extras", "nope", "--dry-run",
                      cwd=tmp_path)
    assert code == 2 and "no extra 'nope' in the lock" in out, out


def test_requirements_lock_has_no_groups(tmp_path: Path) -> None:
    """--group on a requirements lock is refused, not ignored."""
    (tmp_path / "requirements.txt").write_text("")
    code, out = _sync(Path(sys.executable), "requirements.txt", "--group", "dev", "--dry-run",
                      cwd=tmp_path)
    assert code == 2 and "has no extras or groups" in out, out


def _plain(url: str, *pins: str) -> str:
    return "\n".join([f"--index-url {url}", *pins]) + "\n"


@pytest.mark.slow
def test_several_locks_merge_and_conflicts_fail(make_index: IndexFactory, tmp_path: Path) -> None:
    """Two locks install their union; two different pins of one name fail before any change."""
    srv = make_index({"a": {"1.0.0": {}, "2.0.0": {}}, "e": {"1.0.0": {}}}, api="json")
    (tmp_path / "one.txt").write_text(_plain(srv.index_url, "a==1.0.0"))
    (tmp_path / "two.txt").write_text(_plain(srv.index_url, "e==1.0.0", "a==1.0.0"))
    (tmp_path / "bad.txt").write_text(_plain(srv.index_url, "a==2.0.0"))
    python = _venv(tmp_path / "venv")
    code, out = _sync(python, "one.txt", "two.txt", cwd=tmp_path)
    assert code == 0, out
    assert _dists(python) == {"a", "e"}
    code, out = _sync(python, "one.txt", "bad.txt", cwd=tmp_path)
    assert code == 2 and "conflicting pins for this environment: a==1.0.0 and a==2.0.0" in out
    assert _dists(python) == {"a", "e"}


def _unpack_sdist(sdist: Path, dest: Path) -> Path:
    with tarfile.open(sdist) as tf:
        tf.extractall(dest)
    (folder,) = list(dest.iterdir())
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("editable", [False, True])
def test_local_folder_pin(editable: bool, make_index: IndexFactory, tmp_path: Path) -> None:
    """A folder pin is built (PEP 660 editable with -e) and recorded in direct_url.json."""
    built = make_index.build({"loc": {"1.0.0": {}}})
    folder = _unpack_sdist(built.files_for("loc", "1.0.0")[-1], tmp_path / "src")
    pin = f"-e {folder}" if editable else f"loc @ {folder.as_uri()}"
    (tmp_path / "requirements.txt").write_text(pin + "\n")
    python = _venv(tmp_path / "venv")
    code, out = _sync(python, "requirements.txt", "--index-url", DEAD_INDEX, cwd=tmp_path)
    assert code == 0, out
    (info,) = [p for d in inspect_target(python).site_dirs for p in d.glob("loc-*.dist-info")]
    direct = json.loads((info / "direct_url.json").read_text())
    assert direct == {"url": folder.as_uri(), "dir_info": {"editable": True} if editable else {}}
    code, out = _sync(python, "requirements.txt", "--dry-run", cwd=tmp_path)
    assert code == 0 and "Everything up to date" in out, out


def _with_build_requirement(sdist: Path, requirement: str, out: Path) -> Path:
    buf = io.BytesIO()
    with tarfile.open(sdist) as src, tarfile.open(fileobj=buf, mode="w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read() if member.isfile() else None  # type: ignore[union-attr]
            if data is not None and member.name.endswith("/pyproject.toml"):
                data = data.replace(b"requires = []", f'requires = ["{requirement}"]'.encode())
                member.size = len(data)
            dst.addfile(member, io.BytesIO(data) if data is not None else None)
    out.write_bytes(buf.getvalue())
    return out


@pytest.mark.slow
def test_sdist_with_build_requirements(make_index: IndexFactory, tmp_path: Path) -> None:
    """An sdist whose build needs a package gets it in an isolated env, not in the target."""
    srv = make_index({"helper": {"1.0.0": {"requires_python": ">=3.8"}}}, api="json")
    built = make_index.build({"needs": {"1.0.0": {}}})
    sdist = _with_build_requirement(built.files_for("needs", "1.0.0")[-1], "helper",
                                    tmp_path / "needs-1.0.0.tar.gz")
    (tmp_path / "requirements.txt").write_text(f"needs @ {sdist.as_uri()}\n")
    python = _venv(tmp_path / "venv")
    code, out = _sync(python, "requirements.txt", "--index-url", srv.index_url, cwd=tmp_path)
    assert code == 0, out
    assert _dists(python) == {"needs"}  # helper only lived in the build environment
    code, out = _sync(python, "requirements.txt", "--index-url", DEAD_INDEX, "--dry-run",
                      cwd=tmp_path)
    assert code == 0, out


def test_missing_build_requirement_is_one_error(make_index: IndexFactory, tmp_path: Path) -> None:
    """A build requirement no index has ends the run with one BuildError line."""
    built = make_index.build({"needs": {"1.0.0": {}}})
    sdist = _with_build_requirement(built.files_for("needs", "1.0.0")[-1], "nowhere-xyz",
                                    tmp_path / "needs-1.0.0.tar.gz")
    (tmp_path / "requirements.txt").write_text(f"needs @ {sdist.as_uri()}\n")
    python = _venv(tmp_path / "venv")
    code, out = _sync(python, "requirements.txt", "--index-url", DEAD_INDEX, cwd=tmp_path)
    assert code != 0 and "cannot install build requirements (nowhere-xyz)" in out, out
    assert "Traceback" not in out
    assert _dists(python) == set()


def test_egg_info_is_reported_not_removed(tmp_path: Path) -> None:
    """An .egg-info install the lock drops is reported (no RECORD to uninstall) and kept."""
    python = _venv(tmp_path / "venv")
    site = inspect_target(python).site_dirs[0]
    egg = site / "legacy_pkg-0.1-py3.12.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 1.0\nName: legacy-pkg\nVersion: 0.1\n")
    (tmp_path / "requirements.txt").write_text("")
    code, out = _sync(python, "requirements.txt", cwd=tmp_path)
    assert code == 0, out
    assert "warning: cannot uninstall legacy-pkg==0.1: it is an .egg-info install" in out
    assert egg.is_dir()


@pytest.mark.network
def test_live_jupyter_pylock_syncs_into_312(tmp_path: Path) -> None:
    """The live 30-environment jupyter pylock.toml syncs into a fresh 3.12 venv that imports."""
    (tmp_path / "requirements.in").write_text("jupyter\n", encoding="utf-8")
    result = run_cli(["compile", "requirements.in", "-q", "-o", "pylock.toml"], cwd=tmp_path)
    assert result.code == 0, result.stderr
    python = _venv(tmp_path / "venv")
    code, out = _sync(python, "pylock.toml", cwd=tmp_path)
    assert code == 0, out
    subprocess.run([str(python), "-c", "import jupyter_server, jupyter"], check=True)
    assert _dists(python) == _expected(tmp_path / "pylock.toml", python)
