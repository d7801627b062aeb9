"""The no-op sync's stamp (crosspin._noop): real venvs, real interpreters, ``python -m crosspin``.

Whether a run took the stamp is read from ``-X importtime``: the full sync
imports click and ``crosspin.sync``; an answer from the stamp imports
neither. Every change a user can make to the environment, the lock or the
command line must bring the full sync back, and it must then do what it
always did.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import attrs
import pytest

from crosspin import _noop
from fixtures.catalog import IndexFactory
from fixtures.server import IndexServer
from tests.helpers.pythons import require_python

pytestmark = pytest.mark.slow

PACKAGES = {
    "dep": {"1.0.0": {"requires_python": ">=3.8"}, "2.0.0": {"requires_python": ">=3.8"}},
    "extra": {"1.0.0": {"requires_python": ">=3.8"}},
    "other": {"1.0.0": {"requires_python": ">=3.8"}},
}
PIP_ENV = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
PIP_ENV.pop("PIP_FIND_LINKS", None)


@attrs.frozen
class Run:
    """One ``crosspin sync``: exit code, its lines (importtime's taken out), the path taken."""

    code: int
    lines: list[str]
    full: bool


@attrs.frozen
class Project:
    """A venv with the lock's packages installed, the lock, and how to sync it."""

    index: IndexServer
    lock: Path
    python: Path
    cache: Path

    @property
    def site(self) -> Path:
        return next((self.python.parent.parent / "lib").glob("python*/site-packages"))

    def sync(self, *args: str, env: Mapping[str, str] | None = None,
             lock: str | None = None) -> Run:
        argv = [sys.executable, "-X", "importtime", "-m", "crosspin", "sync",
                lock or str(self.lock), "--python", str(self.python), "--isolated",
                "--cache-dir", str(self.cache), *args]
        return _run(argv, cwd=self.lock.parent, env=env)

    def settled(self, *args: str) -> Run:
        """The full sync's no-op, once what the last change wrote is old enough to trust
        (a stat younger than ``_noop._RACY_NS`` is never stamped)."""
        time.sleep(2 * _noop._RACY_NS / 1e9)
        return self.sync(*args)

    def pip(self, *args: str) -> None:
        subprocess.run([sys.executable, "-m", "pip", "--python", str(self.python), *args,
                        "-q"], check=True, env=PIP_ENV, capture_output=True)


def _run(argv: list[str], *, cwd: Path, env: Mapping[str, str] | None) -> Run:
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=env, check=False,
                          timeout=300)
    imported = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines()
                if line.startswith("import time:")}
    lines = [line for line in (proc.stdout + proc.stderr).splitlines()
             if not line.startswith("import time:")]
    full = "click" in imported and "crosspin.sync" in imported
    assert full or not {"click", "attrs", "packaging", "crosspin.cli"} & imported
    return Run(proc.returncode, lines, full)


def _lock(index: IndexServer, *pins: str) -> str:
    return "\n".join([f"--index-url {index.index_url}", *pins]) + "\n"


@pytest.fixture
def index(make_index: IndexFactory) -> IndexServer:
    """The fixture index: dep 1.0.0 and 2.0.0, extra, other."""
    return make_index(PACKAGES, api="json")


@pytest.fixture
def project(index: IndexServer, tmp_path: Path) -> Project:
    """``dep==1.0.0`` and ``other==1.0.0`` synced into a new 3.12 venv; no stamp yet."""
    venv = tmp_path / "venv"
    subprocess.run([str(require_python("3.12")), "-m", "venv", "--without-pip", str(venv)],
                   check=True)
    work = tmp_path / "work"
    work.mkdir()
    lock = work / "requirements.txt"
    lock.write_text(_lock(index, "dep==1.0.0", "other==1.0.0"))
    made = Project(index=index, lock=lock, python=venv / "bin" / "python",
                   cache=tmp_path / "cache")
    first = made.sync()
    assert first.code == 0 and first.full, first.lines
    assert len(first.lines) == 1
    assert first.lines[0].startswith("Installed 2, uninstalled 0 packages in ")
    return made


def _stamped(project: Project) -> Project:
    """The full no-op (which writes the stamp), then the stamp's answer."""
    slow = project.settled()
    assert (slow.code, slow.lines, slow.full) == (0, ["Everything up to date"], True)
    fast = project.sync()
    assert (fast.code, fast.lines, fast.full) == (0, ["Everything up to date"], False)
    return project


def test_second_noop_sync_answers_from_the_stamp(project: Project) -> None:
    """The first no-op runs the full sync and writes a private stamp; the second prints the
    same line without importing click or crosspin.sync, for every verbosity."""
    _stamped(project)
    stamps = list((project.cache / "sync-stamps").iterdir())
    assert len(stamps) == 1
    assert stat.S_IMODE(stamps[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(stamps[0].parent.stat().st_mode) == 0o700
    for args, lines in ((("-q",), []), (("-v",), ["Everything up to date"]),
                        (("--dry-run",), ["Everything up to date"]),
                        (("-n", "-q"), [])):
        slow, fast = project.sync(*args), project.sync(*args)
        assert (slow.code, slow.lines, slow.full) == (0, lines, True), args
        assert (fast.code, fast.lines, fast.full) == (0, lines, False), args
    # One stamp per command line: each keeps answering.
    assert len(list((project.cache / "sync-stamps").iterdir())) == 5
    assert [project.sync(*args).full for args in ((), ("-q",), ("-n", "-q"))] == [False] * 3


def test_pip_install_and_uninstall_bring_the_full_sync_back(project: Project) -> None:
    """A package pip adds is removed, one pip removes is installed again: by the full sync."""
    _stamped(project)
    project.pip("install", "--index-url", project.index.index_url, "extra==1.0.0")
    run = project.sync()
    assert run.full and run.code == 0
    assert run.lines[0].startswith("Installed 0, uninstalled 1 package in")
    _stamped(project)
    project.pip("uninstall", "-y", "dep")
    run = project.sync()
    assert run.full and run.code == 0
    assert run.lines[0].startswith("Installed 1, uninstalled 0 packages in")
    _stamped(project)


def test_edits_inside_a_dist_info_bring_the_full_sync_back(project: Project) -> None:
    """A deleted dist-info, a deleted RECORD (a killed install) and a METADATA edited in
    place are each noticed, and the full sync repairs them."""
    _stamped(project)
    shutil.rmtree(project.site / "dep-1.0.0.dist-info")
    run = project.sync()
    assert run.full and run.lines[0].startswith("Installed 1, uninstalled 0 packages")
    _stamped(project)
    (project.site / "other-1.0.0.dist-info" / "RECORD").unlink()
    run = project.sync()
    assert run.full and run.lines[0].startswith("Installed 1, uninstalled 0 packages")
    _stamped(project)
    metadata = project.site / "dep-1.0.0.dist-info" / "METADATA"
    text = metadata.read_text()
    with metadata.open("r+") as handle:  # in place: the folder's mtime stays
        handle.write(text.replace("Version: 1.0.0", "Version: 1.0.1"))
    run = project.sync()
    assert run.full and run.lines[0].startswith("Installed 1, uninstalled 1 package")
    _stamped(project)


def test_lock_options_and_configuration_changes_bring_the_full_sync_back(
        project: Project) -> None:
    """An edited lock, another option, a new pyproject.toml beside the lock, another
    CROSSPIN_* variable: each runs the full sync, which does the right thing."""
    _stamped(project)
    project.lock.write_text(_lock(project.index, "dep==2.0.0", "other==1.0.0"))
    run = project.sync()
    assert run.full and run.lines[0].startswith("Installed 1, uninstalled 1 package")
    _stamped(project)
    run = project.sync("--keep", "dep")
    assert (run.code, run.lines, run.full) == (0, ["Everything up to date"], True)
    assert not project.sync().full  # the plain command line's stamp still holds
    (project.lock.parent / "pyproject.toml").write_text('[tool.pip-tools]\nquiet = true\n')
    run = project.sync()
    assert (run.code, run.lines, run.full) == (0, [], True)  # the configuration's -q
    # The stamp would print what the command line says: none is written.
    assert project.settled() == run
    (project.lock.parent / "pyproject.toml").unlink()
    _stamped(project)
    run = project.sync(env={**os.environ, "CROSSPIN_SYNC_LOCK_TIMEOUT": "30"})
    assert run.full and run.lines == ["Everything up to date"]


def test_a_bad_stamp_is_the_full_sync(project: Project) -> None:
    """A corrupt, empty or foreign stamp, a folder in its place, or CROSSPIN_NO_STAMP=1:
    the full sync runs and prints what it always prints."""
    _stamped(project)
    (stamp,) = (project.cache / "sync-stamps").iterdir()
    good = stamp.read_bytes()
    other = good[:-2] + (b"1" if good[-2:-1] == b"0" else b"0") + b"\n"
    for bad in (b"", b"\x00\xff garbage", good.replace(b"1 ", b"2 "), other, good * 2):
        stamp.write_bytes(bad)
        run = project.sync()
        assert (run.code, run.lines, run.full) == (0, ["Everything up to date"], True), bad
        assert stamp.read_bytes() == good  # written again
    stamp.unlink()
    stamp.mkdir()
    run = project.sync()
    assert (run.code, run.lines, run.full) == (0, ["Everything up to date"], True)
    stamp.rmdir()
    os.mkfifo(stamp)  # nobody writes to it: reading it must not hang
    run = project.sync()
    assert (run.code, run.lines, run.full) == (0, ["Everything up to date"], True)
    stamp.unlink()
    off = {**os.environ, _noop.OFF_VARIABLE: "1"}
    for _ in range(2):
        run = project.sync(env=off)
        assert (run.code, run.lines, run.full) == (0, ["Everything up to date"], True)
    assert not stamp.exists()


def test_a_changing_sync_removes_the_stamps(project: Project) -> None:
    """A sync that changes the environment removes its stamps before the first change."""
    _stamped(project)
    assert project.sync("-q").full and not project.sync("-q").full
    assert len(list((project.cache / "sync-stamps").iterdir())) == 2
    project.lock.write_text(_lock(project.index, "dep==1.0.0"))
    run = project.sync()
    assert run.full and run.lines[0].startswith("Installed 0, uninstalled 1 package")
    assert list((project.cache / "sync-stamps").iterdir()) == []
    _stamped(project)


def test_default_cache_folder_and_venv_resolution(project: Project, tmp_path: Path) -> None:
    """Without --cache-dir the stamp lives in the user cache folder crosspin uses
    (platformdirs'); ``--venv`` and ``$VIRTUAL_ENV`` name the environment as the full sync
    does."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    venv = str(project.python.parent.parent)
    base = [sys.executable, "-X", "importtime", "-m", "crosspin", "sync", str(project.lock),
            "--isolated"]
    for args, run_env in ((["--venv", venv], env), ([], {**env, "VIRTUAL_ENV": venv})):
        time.sleep(2 * _noop._RACY_NS / 1e9)
        runs = [_run([*base, *args], cwd=project.lock.parent, env=run_env) for _ in range(2)]
        assert runs == [Run(0, ["Everything up to date"], True),
                        Run(0, ["Everything up to date"], False)]
    stamps = sorted(p.name for p in (tmp_path / "xdg" / "crosspin" / "sync-stamps").iterdir())
    assert len(stamps) == 2 and stamps[0][:33] == stamps[1][:33]  # one environment


def test_command_lines_the_stamp_does_not_know_run_the_full_sync(project: Project) -> None:
    """Options the fast path does not read (or cannot reproduce) never take the stamp."""
    _stamped(project)
    for args in (("-qv",), ("--pip-args", "--no-deps"), ("--no-cache",), ("--help",)):
        assert project.sync(*args).full, args
        assert project.sync(*args).full, args
    fifo = project.lock.parent / "fifo.txt"
    os.mkfifo(fifo)  # a lock nobody writes to: refused by the full sync, never waited for
    run = project.sync(lock=str(fifo))
    assert run.full and run.code != 0
    assert _noop.answer(["sync", "--", str(project.lock)]) is False
    assert _noop.answer(["compile"]) is False
    assert _noop.answer(["sync", "--venv"]) is False
    assert _noop.answer(["sync", "--venv="]) is False


def test_the_stamp_covers_every_file_the_no_op_decision_reads(tmp_path: Path) -> None:
    """sync's scan of the installed set opens only files whose stat the stamp keeps: a scan
    that starts reading another file (INSTALLER, entry_points.txt...) fails here until
    crosspin._noop covers it too."""
    site = tmp_path / "site"
    for info, files in (("a-1.0.dist-info", ("METADATA", "RECORD", "INSTALLER",
                                             "direct_url.json", "entry_points.txt",
                                             "top_level.txt", "REQUESTED")),
                        ("b-1.0.egg-info", ("PKG-INFO", "SOURCES.txt", "direct_url.json")),
                        ("c-1.0.dist-info", ("RECORD",))):
        (site / info).mkdir(parents=True)
        for name in files:
            text = "Name: x\nVersion: 1.0\n" if name in ("METADATA", "PKG-INFO") else "{}"
            (site / info / name).write_text(text)
    (site / "d-1.0.egg-info").write_text("Name: d\nVersion: 1.0\n")
    code = (
        "import os, sys\n"
        "from crosspin.sync._installed import scan_installed, scan_leftovers\n"
        "seen = []\n"
        "sys.addaudithook(lambda e, a: seen.append(os.fspath(a[0])) if e == 'open' and "
        "isinstance(a[0], (str, os.PathLike)) else None)\n"
        f"scan_installed([__import__('pathlib').Path({str(site)!r})])\n"
        f"scan_leftovers([__import__('pathlib').Path({str(site)!r})])\n"
        f"print('\\n'.join(sorted({{os.path.relpath(p, {str(site)!r}) for p in seen "
        f"if p.startswith({str(site)!r})}})))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert {"a-1.0.dist-info/METADATA", "a-1.0.dist-info/direct_url.json",
            "b-1.0.egg-info/PKG-INFO", "d-1.0.egg-info"} <= set(out)
    for path in out:
        folder, _, name = path.partition("/")
        kept = _noop._DIST_INFO if folder.endswith(".dist-info") else _noop._EGG_INFO
        assert not name or name in kept, path  # a bare egg-info file: its own stat
