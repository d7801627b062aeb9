"""The sync run: inspect, hold the environment, plan, check everything, then change it.

:func:`apply_plan` is all or nothing up to the first change: every file is
downloaded and hash-checked, every sdist or folder built, every wheel
verified and unpacked (:mod:`~crosspin.sync._wheel`) and checked against
the lock (:mod:`~crosspin.sync._closure`), every removal planned
(:mod:`~crosspin.sync._uninstall`) and every placement checked
(:mod:`~crosspin.sync._place`) *before* the first file is removed. Every
module the changes need is imported by then (this module imports them).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Protocol

import attrs
from packaging.utils import NormalizedName, canonicalize_name

from crosspin.errors import WheelError
from crosspin.lock import LockedPackage
from crosspin.lockfiles import LockData, merge_locks, read_lock
from crosspin.sync._bytecode import compile_bytecode
from crosspin.sync._closure import unmet_requirement
from crosspin.sync._fetch import FileSource
from crosspin.sync._installed import scan_installed, scan_leftovers
from crosspin.sync._obtain import builder, obtain_all
from crosspin.sync._place import Placement, check_placements, layout
from crosspin.sync._plan import SyncPlan, later_wins, make_plan
from crosspin.sync._protect import externally_managed_error, is_own_environment, own_requirements
from crosspin.sync._serial import hold_environment
from crosspin.sync._target import Target, start_inspection
from crosspin.sync._uninstall import Removal, plan_removal, read_record_paths, remove
from crosspin.sync._unpacked import UnpackedCache
from crosspin.sync._wheel import Unpacked
from crosspin.sync._write import Linker, LinkMode, drop_temporaries, write_placement

__all__ = [
    "InstallOptions",
    "Prepared",
    "Reporter",
    "SyncRequest",
    "SyncResult",
    "apply_plan",
    "plan_for",
    "prepare",
    "session",
]

#: Wheels written at once: one per core, at most 6 (each ``link``/``mkdir`` releases
#: the GIL; more threads than cores only trade it back and forth).
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
    """How a sync installs.

    ``allow_build``: whether sdists and local folders may be built.
    ``build_environment``: the environment of build children (pip's index
    settings as ``PIP_*`` variables: never on a command line, where other
    users could read credentials). ``build_timeout``: seconds a build step
    may take before its process group is killed. ``link_mode``: how files
    get from the unpacked wheels into the environment (``auto``: hardlink,
    else clone, else copy). ``compile_bytecode``: compile the installed
    modules afterwards (off: the target compiles on import).
    """

    allow_build: bool = True
    build_environment: Mapping[str, str] | None = None
    build_timeout: float | None = None
    link_mode: LinkMode = "auto"
    compile_bytecode: bool = False


@attrs.frozen(kw_only=True)
class SyncRequest:
    """One sync: the locks (merged), the interpreter, the selection and how to install.

    ``extras`` and ``groups`` select from a PEP 751 lock (``groups=None``:
    its ``default-groups``). ``lock_timeout`` is how long to wait for
    another sync of the same environment. ``keep`` names packages left as
    installed (a package under test); ``force`` lets a later lock's pin
    replace an earlier one's instead of refusing the conflict;
    ``break_system_packages`` allows an externally managed (PEP 668)
    interpreter.
    """

    locks: tuple[Path, ...]
    interpreter: Path
    extras: tuple[str, ...] = ()
    groups: tuple[str, ...] | None = None
    install: InstallOptions = InstallOptions()
    lock_timeout: float = 300.0
    keep: tuple[str, ...] = ()
    force: bool = False
    break_system_packages: bool = False


@attrs.frozen(kw_only=True)
class Prepared:
    """What a sync would do, before anything is downloaded or changed."""

    lock: LockData
    target: Target
    plan: SyncPlan
    #: Lines worth a ``note:`` (crosspin keeping its own environment).
    notes: tuple[str, ...] = ()
    #: Lines worth a ``warning:`` (a lock's pin replaced under ``force``; a
    #: dry run of an externally managed interpreter).
    warnings: tuple[str, ...] = ()


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
    keep: Collection[NormalizedName] = (),
    later_wins_from: Sequence[LockData] = (),
) -> SyncPlan:
    """Refuse a target outside the lock's matrix; else diff lock subset and target.

    ``extras`` and ``groups`` select from a PEP 751 lock (``groups=None``:
    its ``default-groups``); ``keep`` names stay as installed. With
    ``later_wins_from`` (the locks ``lock`` merges), each is selected on
    its own and a later one's pin wins (:func:`prepare` reports which).
    """
    micro = target.version_info[2]
    lock.environment_for(target.python, micro, target.markers["sys_platform"],
                         target.markers["platform_machine"], target.description)
    if later_wins_from:
        wanted, _ = _forced(later_wins_from, target, extras=extras, groups=groups)
    else:
        wanted = lock.select(target.markers, extras=extras, groups=groups)
    return make_plan(wanted, scan_installed(target.site_dirs),
                     leftovers=scan_leftovers(target.site_dirs), keep=keep)


def _forced(locks: Sequence[LockData], target: Target, *, extras: Collection[str],
            groups: Collection[str] | None) -> tuple[list[LockedPackage], list[str]]:
    return later_wins([(d.path, d.select(target.markers, extras=extras, groups=groups))
                       for d in locks])


def prepare(request: SyncRequest) -> Prepared:
    """Read and merge the locks, inspect the interpreter, and plan (see :func:`plan_for`)."""
    with session(request, on_wait=lambda _: None, hold=False) as prepared:
        return prepared


def _locks_and_target(request: SyncRequest) -> tuple[list[LockData], LockData, Target]:
    """The locks, merged, and the inspected interpreter (its probe runs while the locks
    are read)."""
    inspection = start_inspection(request.interpreter)
    try:
        locks = [read_lock(p) for p in request.locks]
        return locks, merge_locks(locks), inspection.result()
    finally:
        inspection.close()


@contextlib.contextmanager
def session(
    request: SyncRequest, *, on_wait: Callable[[str], None], hold: bool = True
) -> Iterator[Prepared]:
    """:func:`prepare` with the environment held (``hold``) until the block ends.

    The plan is made under the lock, so a second sync of the same
    environment plans from what the first one left. An externally managed
    interpreter is refused before anything (unless the request allows it;
    without ``hold``, a dry run, it is a warning).
    """
    locks, lock, target = _locks_and_target(request)
    notes: list[str] = []
    warnings: list[str] = []
    refusal = None if request.break_system_packages else externally_managed_error(target)
    if refusal is not None:
        if hold:
            raise refusal
        warnings.append(refusal.message)
    keep = {canonicalize_name(n) for n in request.keep}
    if is_own_environment(target):
        own = own_requirements() - {"crosspin"}
        keep |= own | {canonicalize_name("crosspin")}
        shown = ", ".join(sorted(own)[:6]) + (", ..." if len(own) > 6 else "")
        notes.append(f"{target.prefix} is crosspin's own environment: keeping crosspin and "
                     f"the {len(own)} packages it runs on ({shown})")
    forced = locks if request.force and len(locks) > 1 else []
    if forced:
        warnings.extend(_forced(forced, target, extras=request.extras,
                                groups=request.groups)[1])
    held = (hold_environment(Path(target.prefix), timeout=request.lock_timeout,
                             on_wait=on_wait) if hold else contextlib.nullcontext())
    with held:
        plan = plan_for(lock, target, extras=request.extras, groups=request.groups,
                        keep=keep, later_wins_from=forced)
        yield Prepared(lock=lock, target=target, plan=plan, notes=tuple(notes),
                       warnings=tuple(warnings))


def apply_plan(
    plan: SyncPlan,
    target: Target,
    source: FileSource,
    *,
    options: InstallOptions = InstallOptions(),
    reporter: Reporter | None = None,
) -> SyncResult:
    """Fetch, build, verify and check everything, then uninstall, then install.

    Nothing in the target changes before every wheel is verified and
    agrees with the lock, every removal is checked and every file's place
    is checked (module docstring); an interrupted run converges when
    repeated, since the next plan starts from what is installed (a
    dist-info without RECORD counts as not installed). ``reporter`` hears
    of each phase and of every item done in it.
    """
    start = time.monotonic()
    bar = reporter or _Silent()
    with tempfile.TemporaryDirectory(prefix="crosspin-sync-") as tmp:
        work = Path(tmp)
        folder = source.state_folder("unpacked")
        cache = UnpackedCache(folder if folder is not None else work / "unpacked-cache")
        with cache.in_use():
            bar.start("Downloading", len(plan.install))
            build = builder(target, work, environment=options.build_environment,
                            timeout=options.build_timeout, say=bar.say)
            obtained = obtain_all(plan.install, source, target, cache=cache, work=work,
                                  build=build, allow_build=options.allow_build,
                                  on_fetched=lambda f: bar.advance(
                                      _pin(f.package),
                                      detail="cached" if f.path is None else "downloaded"))
            selected = {p.name: p for p in plan.selected}
            for item in obtained:
                _check_requirements(item.unpacked, item.package, selected, target)
            placements = [layout(item.unpacked, target, item.origin) for item in obtained]
            roots = [Path(target.prefix)]
            keep = [Path(p) for p in target.scheme.values()]
            removals = [plan_removal(d, roots=roots, keep=keep) for d in plan.remove]
            removed = {str(p) for r in removals for p in r.paths}
            placements = check_placements(
                placements, target, removed=removed,
                repairing={d.name for d in plan.repair},
                owned=lambda: _owned(target, exclude=removals))
            # Nothing has changed so far; from here on the target does.
            _remove_all(removals, bar)
            for folder in plan.leftovers:  # before installs, which may reuse the name
                shutil.rmtree(folder, ignore_errors=True)
            _install_all(placements, Linker(options.link_mode), bar)
            _drop_repaired(plan, placements)
            if options.compile_bytecode:
                compile_bytecode(target.executable, placements,
                                 timeout=options.build_timeout or 3600.0)
    return SyncResult(installed=len(placements), uninstalled=len(plan.remove),
                      seconds=time.monotonic() - start)


def _check_requirements(unpacked: Unpacked, package: LockedPackage,
                        selected: Mapping[NormalizedName, LockedPackage], target: Target) -> None:
    reason = unmet_requirement(unpacked.requires, extras=package.extras, selected=selected,
                               markers=target.markers)
    if reason:
        raise WheelError(unpacked.filename, reason)


def _owned(target: Target, *, exclude: Sequence[Removal]) -> set[str]:
    """Every file an installed package (other than those being removed) lists in RECORD."""
    skip = {r.dist.dist_info for r in exclude}
    owned: set[str] = set()
    for dists in scan_installed(target.site_dirs).values():
        for dist in dists:
            if dist.dist_info in skip or dist.legacy or dist.broken:
                continue
            try:
                owned.update(str(p) for p in read_record_paths(dist.dist_info))
            except (OSError, ValueError):
                continue
    return owned


def _remove_all(removals: Sequence[Removal], bar: Reporter) -> None:
    if removals:
        bar.start("Uninstalling", len(removals))
    for removal in removals:
        remove(removal)
        bar.advance(f"{removal.dist.name}=={removal.dist.raw_version}", detail="uninstalled")


def _install_all(placements: Sequence[Placement], linker: Linker, bar: Reporter) -> None:
    """Write every placement, a few at a time (file I/O releases the GIL)."""

    def one(placement: Placement) -> None:
        write_placement(placement, linker)
        unpacked = placement.unpacked
        bar.advance(f"{unpacked.name}=={unpacked.version}", detail="installed")

    bar.start("Installing", len(placements))
    workers = max(1, min(_INSTALL_WORKERS, os.cpu_count() or 1))
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(one, p) for p in placements]
        concurrent.futures.wait(futures)
    for future in futures:
        future.result()  # the first failure, after every worker stopped


def _drop_repaired(plan: SyncPlan, placements: Sequence[Placement]) -> None:
    """Remove RECORD-less dist-info folders the new installs did not write over.

    One they wrote over keeps only its new files: a killed write's
    temporary files go.
    """
    written = {Path(p.record).parent for p in placements}
    for dist in plan.repair:
        if dist.dist_info in written:
            drop_temporaries(dist.dist_info)
        else:
            shutil.rmtree(dist.dist_info, ignore_errors=True)


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
