"""The difference between a lock's subset and what is installed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs
from packaging.utils import NormalizedName

from crosspin.lock import LockedPackage
from crosspin.sync._installed import InstalledDist

__all__ = ["PROTECTED", "SyncPlan", "make_plan"]

#: Left alone unless the lock names them (pip-sync does the same): removing
#: them would break the environment's own tooling.
PROTECTED: frozenset[str] = frozenset({"pip", "setuptools", "wheel", "crosspin", "distribute"})


@attrs.frozen(kw_only=True)
class SyncPlan:
    """What to install and what to remove; empty when the target is in sync.

    ``install`` are lock pins; ``remove`` installed distributions, both the
    ones the lock drops and the old versions of pins being replaced.
    """

    install: tuple[LockedPackage, ...]
    remove: tuple[InstalledDist, ...]

    @property
    def is_empty(self) -> bool:
        """Whether nothing needs to change."""
        return not self.install and not self.remove

    def describe(self) -> list[str]:
        """``Would install: ...`` / ``Would uninstall: ...`` lines."""
        lines = []
        if self.install:
            lines.append("Would install: " + ", ".join(_pin(p) for p in self.install))
        if self.remove:
            lines.append("Would uninstall: " + ", ".join(
                f"{d.name}=={d.raw_version}" for d in self.remove))
        return lines


def _pin(p: LockedPackage) -> str:
    return f"{p.name} @ {p.url}" if p.url else f"{p.name}=={p.version}"


def make_plan(
    wanted: Iterable[LockedPackage],
    installed: Mapping[NormalizedName, list[InstalledDist]],
) -> SyncPlan:
    """Install missing or changed pins; remove what the lock does not name."""
    by_name = {p.name: p for p in wanted}
    install: list[LockedPackage] = []
    remove: list[InstalledDist] = []
    for name, dists in sorted(installed.items()):
        pin = by_name.get(name)
        if pin is None:
            if name not in PROTECTED:
                remove.extend(dists)
            continue
        if len(dists) == 1 and _matches(pin, dists[0]):
            continue
        remove.extend(dists)
    for name, pin in sorted(by_name.items()):
        dists = installed.get(name, [])
        if not (len(dists) == 1 and _matches(pin, dists[0])):
            install.append(pin)
    return SyncPlan(install=tuple(install), remove=tuple(remove))


def _matches(pin: LockedPackage, dist: InstalledDist) -> bool:
    if pin.url:
        return dist.direct_url == pin.url
    # An index pin replaces a URL install of the same version (pip-sync too):
    # the lock's hashes cannot vouch for it.
    return dist.direct_url is None and dist.version == pin.version
