"""The sync run: inspect, plan, fetch everything, then change the target."""

from __future__ import annotations

import concurrent.futures
import tempfile
import time
from collections.abc import Collection
from pathlib import Path
from typing import Protocol

import attrs

from crosspin.lock import LockedPackage
from crosspin.lockfiles import LockData, merge_locks, read_lock
from crosspin.sync._build import build_wheel
from crosspin.sync._fetch import FileSource, fetch_all, is_sdist
from crosspin.sync._install import Origin, check_wheel_paths, install_wheel, make_parent_dirs
from crosspin.sync._installed import scan_installed
from crosspin.sync._plan import SyncPlan, make_plan
from crosspin.sync._target import Target, inspect_target
from crosspin.sync._uninstall import uninstall

__all__ = ["SyncResult", "apply_plan", "plan_for"]

_INSTALL_WORKERS = 6


class Reporter(Protocol):
    """Where a sync reports its phases (the CLI's live display is one)."""

    def start(self, description: str, total: int) -> None:
        """A phase of ``total`` steps begins (Downloading, Uninstalling, Installing)."""

    def advance(self, item: str = "", *, detail: str = "") -> None:
        """One step of the phase is done: ``item`` is what finished."""

    def say(self, message: str) -> None:
        """A rare line worth printing on its own (a build)."""


@attrs.frozen(kw_only=True)
class InstallOptions:
    """How a sync installs: whether sdists and local folders may be built, and how.

    ``pip_args`` (index options) are given to the pip that installs build
    requirements into an isolated build environment.
    """

    allow_build: bool = True
    pip_args: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class SyncRequest:
    """One sync: the locks (merged), the interpreter, the selection and how to install.

    ``extras`` and ``groups`` select from a PEP 751 lock (``groups=None``:
    its ``default-groups``).
    """

    locks: tuple[Path, ...]
    interpreter: Path
    extras: tuple[str, ...] = ()
    groups: tuple[str, ...] | None = None
    install: InstallOptions = InstallOptions()


@attrs.frozen(kw_only=True)
class Prepared:
    """What a sync would do, before anything is downloaded or changed."""

    lock: LockData
    target: Target
    plan: SyncPlan


@attrs.frozen(kw_only=True)
class SyncResult:
    """What a sync changed, and how long it took."""

    installed: int
    uninstalled: int
    seconds: float

    def summary(self) -> str:
        """``Installed 3, uninstalled 1 package in 0.4s``."""
        noun = "package" if self.uninstalled == 1 else "packages"
        return (f"Installed {self.installed}, uninstalled {self.uninstalled} {noun} "
                f"in {self.seconds:.1f}s")


def plan_for(
    lock: LockData,
    target: Target,
    *,
    extras: Collection[str] = (),
    groups: Collection[str] | None = None,
) -> SyncPlan:
    """Refuse a target outside the lock's matrix; else diff lock subset and target.

    ``extras`` and ``groups`` select from a PEP 751 lock (``groups=None``:
    its ``default-groups``).
    """
    micro = target.version_info[2]
    lock.environment_for(target.python, micro, target.markers["sys_platform"],
                         target.markers["platform_machine"], target.description)
    wanted = lock.select(target.markers, extras=extras, groups=groups)
    return make_plan(wanted, scan_installed(target.site_dirs))


def prepare(request: SyncRequest) -> Prepared:
    """Read and merge the locks, inspect the interpreter, and plan (see :func:`plan_for`)."""
    lock = merge_locks([read_lock(p) for p in request.locks])
    target = inspect_target(request.interpreter)
    plan = plan_for(lock, target, extras=request.extras, groups=request.groups)
    return Prepared(lock=lock, target=target, plan=plan)


def apply_plan(
    plan: SyncPlan,
    target: Target,
    source: FileSource,
    *,
    options: InstallOptions = InstallOptions(),
    reporter: Reporter | None = None,
) -> SyncResult:
    """Download and verify every file, then uninstall, then install.

    Nothing in the target changes before every file is on disk, verified
    and (for sdists and local folders) built and checked; an interrupted
    run converges when repeated, since the next plan starts from what is
    installed. ``reporter`` hears of each phase (Downloading, Uninstalling,
    Installing), of every item done in it, and of builds.
    """
    start = time.monotonic()
    bar = reporter or _Silent()
    with tempfile.TemporaryDirectory(prefix="crosspin-sync-") as tmp:
        work = Path(tmp)
        bar.start("Downloading", len(plan.install))
        fetched = fetch_all(plan.install, source, target.tags, work / "dl",
                            allow_build=options.allow_build,
                            on_fetched=lambda f: bar.advance(_pin(f.package),
                                                             detail="downloaded"))
        wheels: list[tuple[Path, Origin | None]] = []
        for item in fetched:
            path = item.path
            editable: bool | None = None
            if path.is_dir() or is_sdist(path):
                what = (item.package.url if path.is_dir()
                        else f"{item.package.name}=={item.package.version}")
                bar.say(f"Building {what}")
                out = work / "built" / item.package.name
                out.mkdir(parents=True)
                if path.is_dir():
                    editable = item.package.editable
                path = build_wheel(path, target.executable, out, name=item.package.name,
                                   editable=bool(editable), pip_args=options.pip_args)
            check_wheel_paths(path)
            digest = None
            if item.file is not None and editable is None:
                digest = item.file.sha256 or next(iter(item.package.recorded_hashes), None)
            if digest and ":" not in digest:
                digest = f"sha256:{digest}"
            origin = None if item.direct_url is None else Origin(
                url=item.direct_url, archive_hash=digest, editable=editable)
            wheels.append((path, origin))
        roots = [Path(target.prefix)]
        keep = [Path(p) for p in target.scheme.values()]
        if plan.remove:
            bar.start("Uninstalling", len(plan.remove))
        for dist in plan.remove:
            uninstall(dist, roots=roots, keep=keep)
            bar.advance(f"{dist.name}=={dist.raw_version}", detail="uninstalled")
        # Wheels write disjoint files and the work is file I/O (the GIL is
        # released), so a few threads install ~3x faster than one on 2 cores.
        def one(item: tuple[Path, Origin | None]) -> None:
            path, origin = item
            install_wheel(path, target, origin=origin, checked=True)
            bar.advance(names[path], detail="installed")

        for path, *_ in wheels:
            make_parent_dirs(path, target.scheme)
        names = {w[0]: _pin(i.package) for w, i in zip(wheels, fetched)}
        bar.start("Installing", len(wheels))
        with concurrent.futures.ThreadPoolExecutor(max_workers=_INSTALL_WORKERS) as pool:
            futures = [pool.submit(one, w) for w in wheels]
            concurrent.futures.wait(futures)
        for future in futures:
            future.result()  # the first failure, after every worker stopped
    return SyncResult(installed=len(wheels), uninstalled=len(plan.remove),
                      seconds=time.monotonic() - start)


class _Silent:
    """No progress display: every report is dropped."""

    def start(self, description: str, total: int) -> None:
        """Ignored."""

    def advance(self, item: str = "", *, detail: str = "") -> None:
        """Ignored."""

    def say(self, message: str) -> None:
        """Ignored."""


def _pin(package: LockedPackage) -> str:
    return f"{package.name}=={package.version}"
