"""``crosspin sync`` into real virtual environments, from a loopback fixture index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from crosspin.lockfiles import read_lock
from crosspin.sync import inspect_target
from fixtures.catalog import IndexFactory
from fixtures.server import IndexServer, Request, Response
from tests.helpers import run_cli
from tests.helpers.pythons import full_version, python_params, require_python

PIP_ENV = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
PIP_ENV.pop("PIP_FIND_LINKS", None)

PACKAGES = {
    "app": {"1.0.0": {"requires_python": ">=3.8",
                      "requires": ["lin ; sys_platform == 'linux'",
                                   "old ; python_version < '3.11'", "split", "dep"]}},
    "lin": {"1.0.0": {"requires_python": ">=3.8"}},
    "win": {"1.0.0": {"requires_python": ">=3.8"}},
    "old": {"1.0.0": {"requires_python": ">=3.8"}},
    "dep": {"1.0.0": {"requires_python": ">=3.8"}, "2.0.0": {"requires_python": ">=3.8"}},
    "extra": {"1.0.0": {"requires_python": ">=3.8"}},
    "split": {"1.0.0": {"requires_python": ">=3.8"}, "2.0.0": {"requires_python": ">=3.11"}},
}


def _venv(base: Path, minor: str = "3.12", *, pip: bool = False) -> Path:
    args = [str(require_python(minor)), "-m", "venv", str(base)]
    if not pip:
        args.insert(3, "--without-pip")
    subprocess.run(args, check=True, env=PIP_ENV)
    return base / "bin" / "python"


def _dists(python: Path) -> set[str]:
    target = inspect_target(python)
    return {p.name for d in target.site_dirs for p in d.glob("*.dist-info")}


def _sync(python: Path, *args: str, cwd: Path) -> tuple[int, str]:
    result = run_cli(["sync", "--python", str(python), "--isolated", "--no-cache", *args],
                     cwd=cwd)
    return result.code, result.stdout + result.stderr


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """One fixture index for the module."""
    factory = IndexFactory(tmp_path_factory.mktemp("sync-index"))
    try:
        yield factory(PACKAGES, api="json")
    finally:
        factory.close()


@pytest.fixture(scope="module")
def universal(index: IndexServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A hashed lock for python >=3.8 on every default platform."""
    work = tmp_path_factory.mktemp("universal")
    (work / "requirements.in").write_text("app\n")
    result = run_cli(["compile", "requirements.in", "-o", "requirements.txt", "--isolated",
                      "--no-cache", "--generate-hashes", "--python", ">=3.8",
                      "--index-url", index.index_url], cwd=work)
    assert result.code == 0, result.stderr
    return work / "requirements.txt"


@pytest.mark.slow
@pytest.mark.parametrize("minor", python_params())
def test_sync_installs_exact_subset(minor: str, universal: Path, tmp_path: Path) -> None:
    """A fresh venv of each CPython gets exactly the lock's subset, and pip check is clean."""
    python = _venv(tmp_path / "venv", minor, pip=True)
    code, out = _sync(python, str(universal), cwd=tmp_path)
    assert code == 0, out
    assert "Installed" in out
    listed = subprocess.run([str(python), "-m", "pip", "list", "--format", "json"],
                            capture_output=True, text=True, check=True, env=PIP_ENV)
    installed = {(d["name"].lower(), d["version"]) for d in json.loads(listed.stdout)
                 if d["name"].lower() not in {"pip", "setuptools"}}
    target = inspect_target(python)
    expected = {(p.name, str(p.version)) for p in read_lock(universal).select(target.markers)}
    assert installed == expected
    check = subprocess.run([str(python), "-m", "pip", "check"], capture_output=True,
                           text=True, env=PIP_ENV)
    assert check.returncode == 0, check.stdout
    assert "pip" in {d["name"] for d in json.loads(listed.stdout)}  # left alone
    code, out = _sync(python, str(universal), "--dry-run", cwd=tmp_path)
    assert code == 0 and "Everything up to date" in out


@pytest.mark.slow
def test_default_matrix_refuses_python_38(index: IndexServer, tmp_path: Path) -> None:
    """A 3.8 interpreter is refused by a lock whose (default) matrix starts at 3.9."""
    (tmp_path / "requirements.in").write_text("dep\n")
    result = run_cli(["compile", "requirements.in", "-o", "requirements.txt", "--isolated",
                      "--no-cache", "--index-url", index.index_url], cwd=tmp_path)
    assert result.code == 0, result.stderr
    python = _venv(tmp_path / "venv", "3.8")
    patch = full_version(python)
    before = _dists(python)
    code, out = _sync(python, "requirements.txt", cwd=tmp_path)
    assert code != 0
    assert f"error: this environment (python {patch} on linux x86_64) is outside the lock's " \
           "matrix (python 3.9, 3.10, 3.11, 3.12, 3.13, 3.14 x" in out
    assert "Traceback" not in out
    assert _dists(python) == before


def _plain(index: IndexServer, *pins: str) -> str:
    return "\n".join([f"--index-url {index.index_url}", *pins]) + "\n"


@pytest.mark.slow
def test_resync_applies_exactly_the_difference(index: IndexServer, tmp_path: Path) -> None:
    """Upgrading, dropping and adding one pin each changes exactly those dist-infos."""
    python = _venv(tmp_path / "venv")
    lock = tmp_path / "requirements.txt"
    lock.write_text(_plain(index, "dep==1.0.0", "old==1.0.0", "lin==1.0.0"))
    assert _sync(python, str(lock), cwd=tmp_path)[0] == 0
    before = _dists(python)
    assert {"dep-1.0.0.dist-info", "old-1.0.0.dist-info", "lin-1.0.0.dist-info"} <= before
    lock.write_text(_plain(index, "dep==2.0.0", "lin==1.0.0", "extra==1.0.0"))
    code, out = _sync(python, str(lock), "--dry-run", cwd=tmp_path)
    assert code == 1
    assert "Would install: dep==2.0.0, extra==1.0.0" in out
    assert "Would uninstall: dep==1.0.0, old==1.0.0" in out
    code, out = _sync(python, str(lock), cwd=tmp_path)
    assert code == 0, out
    assert "Installed 2, uninstalled 2 packages" in out
    after = _dists(python)
    assert before - after == {"dep-1.0.0.dist-info", "old-1.0.0.dist-info"}
    assert after - before == {"dep-2.0.0.dist-info", "extra-1.0.0.dist-info"}
    site = inspect_target(python).site_dirs[0]
    assert not (site / "old").exists() and (site / "dep" / "__init__.py").exists()


@pytest.mark.slow
def test_wrong_hash_leaves_venv_unchanged(index: IndexServer, tmp_path: Path) -> None:
    """A lock hash that matches no file stops the sync before anything is removed."""
    python = _venv(tmp_path / "venv")
    lock = tmp_path / "requirements.txt"
    lock.write_text(_plain(index, "old==1.0.0"))
    assert _sync(python, str(lock), cwd=tmp_path)[0] == 0
    before = _dists(python)
    lock.write_text(_plain(index, "dep==1.0.0 --hash=sha256:" + "0" * 64))
    code, out = _sync(python, str(lock), cwd=tmp_path)
    assert code != 0
    errors = [line for line in out.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "hash mismatch" in errors[0], out
    assert "Traceback" not in out
    assert _dists(python) == before


@pytest.mark.slow
def test_truncated_download_leaves_venv_unchanged(
    index: IndexServer, universal: Path, tmp_path: Path
) -> None:
    """A file cut short by the server fails the sync with one error and no change."""
    python = _venv(tmp_path / "venv")
    lock = tmp_path / "requirements.txt"
    lock.write_text(_plain(index, "old==1.0.0"))
    assert _sync(python, str(lock), cwd=tmp_path)[0] == 0
    before = _dists(python)

    def truncate(request: Request, response: Response) -> Response | None:
        if request.path.endswith(".whl") and response.status == 200:
            body = response.body[: len(response.body) // 2]
            return Response(status=200, headers=tuple(
                (k, v) for k, v in response.headers if k.lower() != "content-length"),
                body=body)
        return None

    index.before_response = truncate
    try:
        code, out = _sync(python, str(universal), cwd=tmp_path)
    finally:
        index.before_response = None
    assert code != 0
    errors = [line for line in out.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, out
    assert "Traceback" not in out
    assert _dists(python) == before


def _evil_wheel(path: Path) -> Path:
    name = "evil-1.0-py3-none-any.whl"
    wheel = path / name
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("evil/__init__.py", "")
        zf.writestr("evil-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: evil\n"
                    "Version: 1.0\n")
        zf.writestr("evil-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n"
                    "Tag: py3-none-any\n")
        record = "evil/__init__.py,,\n../../../../tmp/escape.py,,\nevil-1.0.dist-info/RECORD,,\n"
        zf.writestr("evil-1.0.dist-info/RECORD", record)
    return wheel


@pytest.mark.slow
def test_sync_refuses_evil_url_pin(tmp_path: Path) -> None:
    """Syncing a URL pin to a wheel with ``../`` RECORD paths changes nothing."""
    python = _venv(tmp_path / "venv")
    before = _dists(python)
    wheel = _evil_wheel(tmp_path)
    lock = tmp_path / "requirements.txt"
    lock.write_text(f"evil @ {wheel.as_uri()}\n")
    code, out = _sync(python, str(lock), "--index-url", "file:///nonexistent", cwd=tmp_path)
    assert code != 0 and "error: refusing evil-1.0-py3-none-any.whl" in out, out
    assert _dists(python) == before


@pytest.mark.slow
def test_dry_run_exit_codes_and_pip_left_alone(index: IndexServer, tmp_path: Path) -> None:
    """--dry-run exits 1 with pending changes, 0 in sync; pip is never uninstalled."""
    python = _venv(tmp_path / "venv", pip=True)
    lock = tmp_path / "requirements.txt"
    lock.write_text(_plain(index, "dep==1.0.0"))
    code, out = _sync(python, str(lock), "--dry-run", cwd=tmp_path)
    assert code == 1 and "Would install: dep==1.0.0" in out and "pip" not in out
    assert _sync(python, str(lock), cwd=tmp_path)[0] == 0
    code, out = _sync(python, str(lock), "--dry-run", cwd=tmp_path)
    assert code == 0, out
    assert any(d.startswith("pip-") for d in _dists(python))


@pytest.mark.network
def test_live_jupyter_lock(tmp_path: Path) -> None:
    """A live jupyter-server lock syncs into a fresh 3.12 venv and imports."""
    (tmp_path / "requirements.in").write_text("jupyter-server\n")
    result = run_cli(["compile", "requirements.in", "-o", "requirements.txt", "--isolated",
                      "--generate-hashes", "--python", "3.12", "--platform", "linux-x86_64"],
                     cwd=tmp_path)
    assert result.code == 0, result.stderr
    python = _venv(tmp_path / "venv", pip=True)
    code, out = _sync(python, "requirements.txt", cwd=tmp_path)
    assert code == 0, out
    subprocess.run([str(python), "-c", "import jupyter_server"], check=True)


def test_pylock_is_dispatched_by_name(tmp_path: Path) -> None:
    """A pylock.toml goes to the PEP 751 reader: an empty one is one key-path error."""
    (tmp_path / "pylock.toml").write_text("")
    result = run_cli(["sync", "--python", sys.executable, "pylock.toml"], cwd=tmp_path)
    assert result.code == 2 and "error: pylock.toml: lock-version" in result.stderr, \
        result.stderr
    assert "Traceback" not in result.stderr
