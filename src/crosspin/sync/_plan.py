"""The difference between a lock's subset and what is installed."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path

import attrs
from packaging.utils import NormalizedName

from crosspin.lock import LockedPackage
from crosspin.sync._installed import InstalledDist

__all__ = ["PROTECTED", "SyncPlan", "later_wins", "make_plan"]

#: Left alone unless the lock names them (pip-sync does the same): removing
#: them would break the environment's own tooling.
PROTECTED: frozenset[str] = frozenset({"pip", "setuptools", "wheel", "crosspin", "distribute"})


@attrs.frozen(kw_only=True)
class SyncPlan:
    """What to install and what to remove; empty when the target is in sync.

    ``install`` are lock pins; ``remove`` installed distributions, both the
    ones the lock drops and the old versions of pins being replaced.
    ``selected`` is the lock's whole subset for the target (what the
    environment holds afterwards): every wheel's own dependencies are
    checked against it.
    """

    install: tuple[LockedPackage, ...]
    remove: tuple[InstalledDist, ...]
    #: ``.egg-info`` installs the plan would remove or replace: sync cannot
    #: uninstall them (no RECORD), so they are only reported.
    legacy: tuple[InstalledDist, ...] = ()
    #: ``.dist-info`` folders without RECORD (killed installs) of pins being
    #: installed again: their folder goes once the pin is installed.
    repair: tuple[InstalledDist, ...] = ()
    selected: tuple[LockedPackage, ...] = ()
    #: ``.dist-info`` folders without METADATA (killed uninstalls): deleted.
    leftovers: tuple[Path, ...] = ()
    #: Kept names (``--keep``, crosspin's own) the lock pins at another
    #: version: ``(lock's pin, installed pin)``, left as installed.
    held: tuple[tuple[str, str], ...] = ()

    @property
    def is_empty(self) -> bool:
        """Whether nothing needs to change (``.egg-info`` leftovers aside)."""
        return not self.install and not self.remove and not self.leftovers

    def describe(self) -> list[str]:
        """``Would install: ...`` / ``Would uninstall: ...`` lines."""
        lines = []
        if self.install:
            lines.append("Would install: " + ", ".join(_pin(p) for p in self.install))
        if self.remove:
            lines.append("Would uninstall: " + ", ".join(
                f"{d.name}=={d.raw_version}" for d in self.remove))
        if self.leftovers:
            lines.append("Would clean up (left by an interrupted sync): "
                         + ", ".join(p.name for p in self.leftovers))
        return lines

    def warnings(self) -> list[str]:
        """One line per ``.egg-info`` install that must be removed by hand, and per held pin."""
        return [*(f"cannot uninstall {d.name}=={d.raw_version}: it is an .egg-info install "
                  f"({d.dist_info}); remove it by hand" for d in self.legacy),
                *(f"keeping {installed} as it is: the lock pins {pin}"
                  for pin, installed in self.held)]


def _pin(p: LockedPackage) -> str:
    return f"{p.name} @ {p.url}" if p.url else f"{p.name}=={p.version}"


def make_plan(
    wanted: Iterable[LockedPackage],
    installed: Mapping[NormalizedName, list[InstalledDist]],
    *,
    leftovers: Iterable[Path] = (),
    keep: Collection[NormalizedName] = (),
) -> SyncPlan:
    """Install missing, changed or broken pins; remove what the lock does not name.

    A broken dist-info (no RECORD) never counts as installed: its pin is
    installed again. One the lock does not name stays in ``remove``, where
    the removal check refuses it (nothing says which files are its).
    Names in ``keep`` that are installed stay as they are (a pin of
    another version is reported in ``held``); missing ones are installed.
    """
    wanted = list(wanted)
    # A folder pin may be named from its path (``-e ./src/pkg``): what its
    # URL installed says the real name.
    by_url = {d.direct_url: d.name for ds in installed.values() for d in ds if d.direct_url}
    by_name = {by_url.get(p.url, p.name) if p.url else p.name: p for p in wanted}
    install: list[LockedPackage] = []
    remove: list[InstalledDist] = []
    repair: list[InstalledDist] = []
    held: list[tuple[str, str]] = []
    for name, dists in sorted(installed.items()):
        if name not in by_name and name not in PROTECTED and name not in keep:
            remove.extend(dists)
    for name, pin in sorted(by_name.items()):
        dists = installed.get(name, [])
        broken = [d for d in dists if d.broken]
        others = [d for d in dists if not d.broken]
        current = _current(others)
        if name in keep and current:
            if not any(_matches(pin, d) for d in current):
                held.append((_pin(pin), f"{current[0].name}=={current[0].raw_version}"))
            continue
        if not broken and len(current) == 1 and _matches(pin, current[0]):
            remove.extend(d for d in others if d not in current)
            continue
        install.append(pin)
        remove.extend(others)
        repair.extend(broken)
    legacy = tuple(d for d in remove if d.legacy)
    remove = sorted((d for d in remove if not d.legacy), key=lambda d: (d.name, d.raw_version))
    return SyncPlan(install=tuple(install), remove=tuple(remove), legacy=legacy,
                    repair=tuple(repair), selected=tuple(wanted), leftovers=tuple(leftovers),
                    held=tuple(held))


def _current(dists: list[InstalledDist]) -> list[InstalledDist]:
    # A dist-info install wins over an .egg-info leftover of the same name,
    # so a reported leftover does not make every run reinstall the pin.
    modern = [d for d in dists if not d.legacy]
    return modern or dists


def _matches(pin: LockedPackage, dist: InstalledDist) -> bool:
    if pin.url:
        return dist.direct_url == pin.url
    # An index pin replaces a URL install of the same version (pip-sync too):
    # the lock's hashes cannot vouch for it.
    return dist.direct_url is None and dist.version == pin.version


def later_wins(
    selections: Sequence[tuple[str, Sequence[LockedPackage]]],
) -> tuple[list[LockedPackage], list[str]]:
    """Several locks' selections as one, a later lock's pin replacing an earlier one's.

    ``selections`` are ``(lock path, its selected pins)`` in command-line
    order; the second value is one line per replaced pin (pip-sync
    ``--force`` replaces silently; crosspin says so).
    """
    chosen: dict[NormalizedName, tuple[str, LockedPackage]] = {}
    notes: list[str] = []
    for path, pins in selections:
        for pin in pins:
            before = chosen.get(pin.name)
            if before is not None and (before[1].version, before[1].url) != (pin.version,
                                                                              pin.url):
                notes.append(f"{_pin(pin)} from {path} replaces {_pin(before[1])} from "
                             f"{before[0]} (--force)")
            chosen[pin.name] = (path, pin)
    return [pin for _, pin in chosen.values()], notes
