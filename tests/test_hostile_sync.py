"""Issue 13, part 2: sync is all or nothing, never writes through a link, names what it refused.

A module-wide venv (CPython 3.12 from pyenv, no pip) gets version 1.0 of one
project per malformed-wheel case; each test syncs a copy of it to a lock
asking for 2.0, whose wheel is crafted (``fixtures.hostile.MALFORMED_WHEELS``;
its published ``.metadata`` is honest, so compile locks it without opening
it). The venv, and the stand-ins for the base interpreter its
``python3``/``python3.12`` links reach, must be byte-identical afterwards
(``venv_snapshot``), and the one error line must name the wheel and why.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from packaging.utils import canonicalize_name

from fixtures.hostile import (
    MALFORMED_WHEELS,
    HostileIndex,
    MalformedCase,
    sdist_hanging_backend,
    sdist_with_build_requires,
    wheel_good,
)
from fixtures.server import IndexServer, Request, Response
from tests.helpers.hostile import (
    ONE_ENV,
    Run,
    argv_logging_env,
    assert_one_error,
    children_with,
    compile_lock,
    isolated_env,
    make_venv,
    run_crosspin,
    site_packages,
)
from tests.helpers.venv_snapshot import assert_unchanged, snapshot

pytestmark = pytest.mark.slow

ISSUE = "issue 13: "

#: Projects that only exist to be removed or repaired.
EXTRA = ("r-one", "r-two", "r-three", "linked")


def project(case: MalformedCase) -> str:
    return canonicalize_name(f"v-{case.id}")


@attrs.frozen
class Bed:
    """The module's index, its server and a venv holding every project at 1.0."""

    index: HostileIndex
    server: IndexServer
    venv: Path
    work: Path

    def lock(self, pins: dict[str, str], name: str) -> Path:
        """A hashed lock of every project at 1.0 except ``pins`` (name -> version)."""
        names = [project(c) for c in MALFORMED_WHEELS] + list(EXTRA)
        wanted = [f"{n}=={pins.get(n, '1.0')}" for n in names if pins.get(n) != "-"]
        return compile_lock(self.server.index_url, self.work / name, wanted)

    def clone(self, where: Path) -> Path:
        """A copy of the venv and of its base stand-ins; returns the copy's venv folder."""
        return clone_venv(self.venv, where)


def clone_venv(source: Path, where: Path) -> Path:
    """Copy a :func:`make_venv` venv and its ``-base`` folder, re-pointing the links."""
    source_base = source.parent / f"{source.name}-base"
    base = where.parent / f"{where.name}-base"
    shutil.copytree(source, where, symlinks=True)
    shutil.copytree(source_base, base)
    for link in (where / "bin").iterdir():
        target = link.readlink() if link.is_symlink() else None
        if target is not None and target.parent == source_base:
            link.unlink()
            link.symlink_to(base / target.name)
    return where


def sync(lock: Path, venv: Path, *args: str, timeout: float = 120) -> Run:
    return run_crosspin(["sync", str(lock), "--python", str(venv / "bin" / "python"),
                         "--isolated", "--no-cache", *args], cwd=lock.parent, timeout=timeout)


@pytest.fixture(scope="module")
def bed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bed]:
    root = tmp_path_factory.mktemp("hostile-sync")
    index = HostileIndex(root / "index")
    for case in MALFORMED_WHEELS:
        index.add_good(project(case), "1.0")
        index.add(project(case), case.build(project(case), "2.0"))
    for name in EXTRA:
        index.add_good(name, "1.0")
        index.add_good(name, "2.0")
    with index.serve(api="json") as server:
        venv = root / "venv"
        make_venv(venv)
        bed = Bed(index=index, server=server, venv=venv, work=root / "locks")
        done = sync(bed.lock({}, "base"), venv)
        assert done.code == 0, str(done)
        yield bed


def test_clone_is_independent(bed: Bed, tmp_path: Path) -> None:
    """The per-test copy's interpreter links lead to its own base stand-ins."""
    venv = bed.clone(tmp_path / "venv")
    for name in ("python3", "python3.12"):
        assert (venv / "bin" / name).resolve().parent == tmp_path / "venv-base"


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in MALFORMED_WHEELS])
def test_malformed_wheel_leaves_the_venv_byte_identical(
    bed: Bed, tmp_path: Path, case: MalformedCase
) -> None:
    """Refused before anything changes: venv and base interpreter identical, one line naming why."""
    name = project(case)
    lock = bed.lock({name: "2.0"}, f"lock-{case.id}")
    venv = bed.clone(tmp_path / "venv")
    before = snapshot(venv)
    run = sync(lock, venv)
    after = snapshot(venv)
    assert_unchanged(before, after)
    wheel = case.build(name, "2.0")
    assert_one_error(run, wheel.filename, wheel.reason)
    assert "<installer" not in run.stderr


def test_a_linked_folder_in_site_packages_is_not_written_through(
    bed: Bed, tmp_path: Path
) -> None:
    """``site-packages/linked`` -> a folder outside: installing ``linked`` writes nothing there."""
    venv = bed.clone(tmp_path / "venv")
    site = site_packages(venv)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine\n")
    shutil.rmtree(site / "linked")
    shutil.rmtree(site / "linked-1.0.dist-info")  # not installed: nothing to uninstall first
    (site / "linked").symlink_to(outside, target_is_directory=True)
    before = snapshot(venv)
    run = sync(bed.lock({"linked": "2.0"}, "lock-linked"), venv)
    assert_unchanged(before, snapshot(venv))
    assert sorted(p.name for p in outside.iterdir()) == ["keep.txt"]
    assert_one_error(run, "linked")


def test_an_uninstall_never_follows_a_linked_folder_out(bed: Bed, tmp_path: Path) -> None:
    """A RECORD entry that resolves outside the venv (through a link) stops the removal first."""
    venv = bed.clone(tmp_path / "venv")
    site = site_packages(venv)
    outside = tmp_path / "outside"
    shutil.copytree(site / "linked", outside)
    shutil.rmtree(site / "linked")
    (site / "linked").symlink_to(outside, target_is_directory=True)
    before = snapshot(venv)
    run = sync(bed.lock({"linked": "2.0"}, "lock-unlink"), venv)
    assert_unchanged(before, snapshot(venv))
    assert (outside / "__init__.py").is_file()
    assert_one_error(run, "linked", "outside")


def test_every_removal_is_checked_before_any(bed: Bed, tmp_path: Path) -> None:
    """Two dists to remove, the second without RECORD: nothing is removed, one line names it."""
    venv = bed.clone(tmp_path / "venv")
    (site_packages(venv) / "r_two-1.0.dist-info" / "RECORD").unlink()
    before = snapshot(venv)
    run = sync(bed.lock({"r-one": "-", "r-two": "-"}, "lock-removals"), venv)
    assert_unchanged(before, snapshot(venv))
    assert_one_error(run, "r-two", "RECORD")


def test_a_dist_info_without_record_is_repaired(bed: Bed, tmp_path: Path) -> None:
    """A killed install left METADATA but no RECORD: the next sync reinstalls it."""
    venv = bed.clone(tmp_path / "venv")
    record = site_packages(venv) / "r_three-1.0.dist-info" / "RECORD"
    record.unlink()
    run = sync(bed.lock({}, "lock-repair"), venv)
    assert run.code == 0, str(run)
    assert record.is_file(), f"not repaired:\n{run}"


def test_a_corrupt_cached_file_is_fetched_again(tmp_path: Path) -> None:
    """A wheel in the cache whose bytes changed is thrown away and downloaded once more."""
    index = HostileIndex(tmp_path / "index")
    index.add_good("cached", "1.0")
    cache = tmp_path / "cache"
    with index.serve(api="json") as server:
        lock = compile_lock(server.index_url, tmp_path / "lock", ["cached==1.0"])
        first = make_venv(tmp_path / "venv1")
        args = ["sync", str(lock), "--isolated", "--cache-dir", str(cache)]
        done = run_crosspin([*args, "--python", str(first)], cwd=tmp_path)
        assert done.code == 0, str(done)
        entries = [p for p in (cache / "v1" / "files").rglob("*") if p.is_file()]
        assert entries
        for entry in entries:
            entry.write_bytes(entry.read_bytes()[:-10] + b"corrupted!")
        # Without its unpacked copy (sync/_unpacked.py) the wheel file must be read again.
        shutil.rmtree(cache / "v1" / "unpacked")
        second = make_venv(tmp_path / "venv2")
        run = run_crosspin([*args, "--python", str(second)], cwd=tmp_path)
    assert run.code == 0, str(run)
    assert (site_packages(tmp_path / "venv2") / "cached-1.0.dist-info").is_dir()


def test_two_syncs_into_one_venv_are_serialised(tmp_path: Path) -> None:
    """A second sync waits while the first one holds the venv: never two versions installed."""
    gate, first_waits, second_downloads = threading.Event(), threading.Event(), threading.Event()
    index = HostileIndex(tmp_path / "index")
    old, new = index.add_good("ser", "1.0"), index.add_good("ser", "2.0")

    def hold(request: Request, response: Response) -> None:
        first_waits.set()
        gate.wait(60)

    def note(request: Request, response: Response) -> None:
        second_downloads.set()

    index.route(rf"/files/{old.filename}$", hold)
    index.route(rf"/files/{new.filename}$", note)
    with index.serve(api="json") as server:
        lock_a = compile_lock(server.index_url, tmp_path / "a", ["ser==1.0"])
        lock_b = compile_lock(server.index_url, tmp_path / "b", ["ser==2.0"])
        python = make_venv(tmp_path / "venv")
        env = isolated_env()

        def start(lock: Path) -> subprocess.Popen[str]:
            return subprocess.Popen(
                [sys.executable, "-m", "crosspin", "sync", str(lock), "--python", str(python),
                 "--isolated", "--no-cache"], cwd=lock.parent, env=env, text=True,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

        first = start(lock_a)
        try:
            assert first_waits.wait(60), "the first sync never asked for its wheel"
            second = start(lock_b)
            _wait(lambda: second.poll() is not None or second_downloads.is_set(), 10)
            early = second_downloads.is_set()
        finally:
            gate.set()
        outputs = [p.communicate(timeout=120) for p in (first, second)]
    infos = sorted(p.name for p in site_packages(tmp_path / "venv").glob("ser-*.dist-info"))
    assert len(infos) == 1, f"{infos}\n{outputs}"
    assert not early, "the second sync downloaded while the first held the venv"


def _wait(condition: object, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not condition():  # type: ignore[operator]
        time.sleep(0.05)


def test_a_pylock_file_name_is_never_a_path(tmp_path: Path) -> None:
    """``[packages.sdist] name = "../../x-1.0.tar.gz"`` is refused (packaging.pylock)."""
    index = HostileIndex(tmp_path / "index")
    index.add("pathy", sdist_with_build_requires("pathy", "1.0", []))
    work = tmp_path / "work"
    work.mkdir()
    (work / "requirements.in").write_text("pathy\n")
    with index.serve(api="json") as server:
        made = run_crosspin(["compile", "requirements.in", "-o", "pylock.toml", "--isolated",
                             "--no-cache", "--index-url", server.index_url, *ONE_ENV], cwd=work)
        assert made.code == 0, str(made)
        escape = "../" * 24 + str(tmp_path).lstrip("/") + "/pathy-1.0.tar.gz"
        text = (work / "pylock.toml").read_text()
        (work / "pylock.toml").write_text(text.replace('name = "pathy-1.0.tar.gz"',
                                                       f'name = "{escape}"'))
        python = make_venv(tmp_path / "venv")
        run = run_crosspin(["sync", "pylock.toml", "--python", str(python), "--isolated",
                            "--no-cache"], cwd=work, timeout=300)
    assert not (tmp_path / "pathy-1.0.tar.gz").exists(), f"written outside:\n{run}"
    assert "Traceback" not in run.stderr, str(run)


def test_a_url_pin_file_name_is_never_a_path(tmp_path: Path) -> None:
    """``x @ http://host/files/..%2F..%2Fx-1.0.tar.gz`` in a lock: nothing written outside."""
    index = HostileIndex(tmp_path / "index")
    sdist = sdist_with_build_requires("pathy", "1.0", [])
    index.add("pathy", sdist)
    escape = "..%2F" * 24 + str(tmp_path).lstrip("/").replace("/", "%2F") + "%2F" + sdist.filename
    index.route(r"%2F", lambda request, response: Response(status=200, body=sdist.data))
    with index.serve(api="json") as server:
        lock = compile_lock(server.index_url, tmp_path / "work",
                            [f"pathy @ {server.url}/files/{sdist.filename}"])
        text = lock.read_text()
        lock.write_text(text.replace(f"/files/{sdist.filename}", f"/files/{escape}"))
        python = make_venv(tmp_path / "venv")
        run = sync(lock, python.parent.parent, timeout=300)
    assert not (tmp_path / sdist.filename).exists(), f"written outside:\n{run}"
    assert "Traceback" not in run.stderr, str(run)


@pytest.fixture
def build_indexes(tmp_path: Path) -> Iterator[tuple[IndexServer, IndexServer, Path]]:
    """A private index (an sdist needing a private build dependency), a decoy default index
    standing for pypi.org, and a hashed lock of the sdist naming the private index."""
    private = HostileIndex(tmp_path / "private")
    private.add("needs-build", sdist_with_build_requires("needs-build", "1.0",
                                                         ["private-build-dep"]))
    private.add_good("private-build-dep", "1.0")
    decoy = HostileIndex(tmp_path / "decoy")
    with private.serve(api="json") as server, decoy.serve() as default:
        # Written by hand: compiling it would build the sdist, the other half of the problem.
        yield server, default, _hand_lock(server, tmp_path / "lock")


def _hand_lock(server: IndexServer, work: Path, project: str = "needs-build") -> Path:
    """A lock of ``project==1.0`` with the sdist's hash and the index's option line."""
    page = json.loads((Path(server.roots[""]) / "simple" / project / "hostile.json")
                      .read_text())
    digest = page["files"][0]["hashes"]["sha256"]
    work.mkdir()
    lock = work / "requirements.txt"
    lock.write_text(f"# crosspin-matrix: python=3.12; platforms=linux-x86_64\n"
                    f"--index-url {server.index_url}\n\n"
                    f"{project}==1.0 \\\n    --hash=sha256:{digest}\n")
    return lock


def _sync_building(lock: Path, default: IndexServer, tmp_path: Path,
                   *args: str) -> tuple[Run, Path]:
    """Sync ``lock`` (it needs a build) into a new venv, pip's default index being ``default``.

    Not ``--isolated``: pip's configuration is the decoy; returns the run and the argv log.
    """
    python = make_venv(tmp_path / "venv")
    env, argv_log = argv_logging_env(tmp_path / "site", PIP_INDEX_URL=default.index_url)
    run = run_crosspin(["sync", str(lock), "--python", str(python), "--no-cache", *args],
                       cwd=lock.parent, env=env, timeout=300)
    return run, argv_log


def test_sync_build_requirements_come_from_the_locks_index(
    build_indexes: tuple[IndexServer, IndexServer, Path], tmp_path: Path
) -> None:
    """Building an sdist at sync: its private build dependency comes from the lock's index."""
    _server, default, lock = build_indexes
    run, _log = _sync_building(lock, default, tmp_path)
    asked = [r.path for r in default.requests]
    assert not asked, f"pip's default index was asked for {asked}\n{run}"
    assert run.code == 0, str(run)


def test_sync_never_puts_credentials_in_a_childs_argv(
    build_indexes: tuple[IndexServer, IndexServer, Path], tmp_path: Path
) -> None:
    """``sync --index-url http://user:secret@...`` and a build: no child's argv holds it."""
    server, default, lock = build_indexes
    host = server.url.split("//", 1)[1]
    url = f"http://builder:bu1ld-s3cret@{host}/simple"
    run, argv_log = _sync_building(lock, default, tmp_path, "--index-url", url)
    assert run.code == 0, str(run)
    leaked = children_with(argv_log, "bu1ld-s3cret")
    assert not leaked, f"credentials in a child's argv: {leaked[:1]}"


def test_a_hanging_build_backend_at_sync_times_out(tmp_path: Path) -> None:
    """A backend that never answers: killed with its child at CROSSPIN_BUILD_TIMEOUT, one
    error line naming the package, the venv unchanged."""
    index = HostileIndex(tmp_path / "index")
    index.add("hang", sdist_hanging_backend("hang", "1.0"))
    pidfile = tmp_path / "backend.pids"
    with index.serve(api="json") as server:
        lock = _hand_lock(server, tmp_path / "lock", "hang")
        python = make_venv(tmp_path / "venv")
        before = snapshot(tmp_path / "venv")
        env = isolated_env(CROSSPIN_BUILD_TIMEOUT="3", HOSTILE_PIDFILE=str(pidfile))
        run = run_crosspin(["sync", str(lock), "--python", str(python), "--isolated",
                            "--no-cache"], cwd=lock.parent, env=env, timeout=60)
    assert_one_error(run, "hang", "longer than 3s")
    assert_unchanged(before, snapshot(tmp_path / "venv"))
    pids = [int(p) for p in pidfile.read_text().split()]
    assert len(pids) == 2
    _wait(lambda: not any(_running(p) for p in pids), 5)
    assert not any(_running(p) for p in pids), "the backend outlived crosspin"


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_wheel_good_installs(bed: Bed, tmp_path: Path) -> None:
    """The control case: an honest 2.0 of the same shape installs (the bed itself is sound)."""
    venv = bed.clone(tmp_path / "venv")
    run = sync(bed.lock({"r-one": "2.0"}, "lock-control"), venv)
    assert run.code == 0, str(run)
    assert (site_packages(venv) / "r_one-2.0.dist-info" / "RECORD").is_file()
    assert wheel_good("r-one", "2.0").filename.startswith("r_one-2.0")
