"""A wheel's own METADATA against the lock: every dependency it declares is pinned.

The lock was made from the index's metadata; the wheel's METADATA is what
will run. If the wheel asks for something the lock's subset does not
provide (a dependency the index's metadata never mentioned, or a version
the pin does not satisfy), the lock does not describe this wheel, and it
is refused before anything changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from packaging.markers import InvalidMarker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name

from crosspin.lock import UNSAFE_PACKAGES, LockedPackage

__all__ = ["unmet_requirement"]


def unmet_requirement(
    requires: Iterable[str],
    *,
    extras: Iterable[str],
    selected: Mapping[NormalizedName, LockedPackage],
    markers: Mapping[str, str],
) -> str | None:
    """Why the lock's ``selected`` pins do not satisfy these Requires-Dist lines, else ``None``.

    Each line is evaluated in the target's ``markers``, with no extra and
    with each of ``extras`` (the extras the lock asked of this package).
    pip, setuptools and distribute are left out of locks unless asked for
    (pip-tools' "unsafe" packages): a requirement on one the lock does not
    pin is not held against the wheel.
    """
    cases = [{**markers, "extra": extra} for extra in ("", *extras)]
    for line in requires:
        try:
            req = Requirement(line)
            if req.marker is not None and not any(req.marker.evaluate(c) for c in cases):
                continue
        except (InvalidRequirement, InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
            return f"its METADATA has the Requires-Dist {line!r}, which cannot be read"
        name = canonicalize_name(req.name)
        pin = selected.get(name)
        if pin is None:
            if name in UNSAFE_PACKAGES:
                continue
            return (f"its METADATA requires {line}, which the lock does not pin "
                    "for this environment")
        if pin.url is None and not req.specifier.contains(pin.version, prereleases=True):
            return f"its METADATA requires {line}, and the lock pins {name}=={pin.version}"
    return None
