"""Held back: why an environment got an older version than the newest release.

Each environment gets the newest release that installs there (DESIGN.md
item 4); when it gets less, crosspin says which constraint held it there.
For a pin below the project's newest release, :func:`held_back` names what
rules the newest release out *in that environment*: a bound on the name (a
root requirement, a constraint, or a dependency, naming the dependent), the
environment's own limits (Requires-Python, no wheel for its platform or for
its glibc/macOS floor, builds not allowed), metadata that cannot be used, or
one of the newest release's own requirements that the other pins here do not
meet; when nothing rules it out, the existing lock's pin kept it (pip-tools'
behaviour, ``--upgrade-package`` moves it).

The answers are computed from the oracle's facts without recording
questions on any view, so explaining never changes which environments share
a resolution or where a minor is split.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from crosspin.distributions import DistFile
from crosspin.environments import Environment
from crosspin.errors import CrosspinError
from crosspin.resolver._model import Bound, HeldBack, Pin, evaluate_marker
from crosspin.resolver._oracle import Oracle
from crosspin.resolver._provider import Metadata

__all__ = ["HeldBack", "held_back"]

_PYTHON = "(Requires-Python)"
_KEPT = "the existing lock pins"


def held_back(
    env: Environment,
    pins: Mapping[NormalizedName, Pin],
    bounds: Mapping[NormalizedName, Sequence[Bound]],
    *,
    oracle: Oracle,
    metadata: Metadata,
    lowest: frozenset[str] = frozenset(),
    direct: frozenset[str] = frozenset(),
) -> list[HeldBack]:
    """Every pin of ``pins`` below its newest release in ``env``, with the reasons.

    ``bounds`` are the requirements on each name in this environment's
    graph (roots, constraints, dependencies of the pins); ``lowest`` names
    packages resolved to their lowest version on purpose (``--resolution``),
    which are never reported. For ``direct`` requirements the newest
    release's own requirements are read even where the existing lock's pin
    kept the version (a rerun says what a fresh compile says); elsewhere
    only when nothing else explains it, when the resolver has just read them.
    """
    out = []
    for name, pin in sorted(pins.items()):
        if pin.link is not None or name in lowest:
            continue
        newest = _newest(oracle, name, pre=oracle.options.pre or pin.version.is_prerelease)
        if newest is None or newest <= pin.version:
            continue
        reasons = _reasons(env, name, newest, bounds.get(name, ()), oracle)
        kept = oracle.existing_pins(env).get(name) == pin.version
        if not reasons and (name in direct or not kept):
            reasons = _own_requirements(env, name, newest, pins, oracle, metadata)
        if not reasons:
            reasons = [f"{_KEPT} {pin.version} (--upgrade-package {name} moves it)" if kept
                       else f"{newest} does not fit with the other pins here"]
        out.append(HeldBack(name=name, version=pin.version, newest=newest,
                            reasons=tuple(reasons), environment=env.name,
                            expected=all(r.endswith(_PYTHON) or r.startswith(_KEPT)
                                         for r in reasons)))
    return out


def _newest(oracle: Oracle, name: str, *, pre: bool) -> Version | None:
    """The newest release with a live file (finals only unless ``pre``)."""
    files = oracle.versions(name)
    for version in oracle.newest_first(name):
        if (pre or not version.is_prerelease) and any(not f.is_yanked for f in files[version]):
            return version
    return None


def _reasons(
    env: Environment, name: NormalizedName, newest: Version, bounds: Sequence[Bound],
    oracle: Oracle,
) -> list[str]:
    """What rules ``newest`` out before any metadata is read: bounds, limits, broken metadata."""
    reasons = [f"{b.who} requires {name}{b.specifier}" for b in bounds
               if not oracle.admits(b.specifier, newest)]
    limit = _environment_limit(env, name, newest, oracle)
    if limit is not None:
        reasons.append(limit)
    broken = oracle.broken.get((name, newest, None))
    if broken is not None:
        reasons.append(str(broken))
    return sorted(set(reasons))


def _environment_limit(env: Environment, name: str, version: Version, oracle: Oracle) -> str | None:
    """Why no file of ``name==version`` installs in ``env``, or ``None`` when one does."""
    live = [f for f in oracle.versions(name).get(version, ()) if not f.is_yanked]
    options = oracle.options
    fits = [f for f in live if f.requires_python is None or env.admits_python(f.requires_python)]
    if not fits:
        spec = next((f.requires_python for f in live if f.requires_python is not None), None)
        return f"{version} needs Python{spec} {_PYTHON}"
    wheels_ok = options.may_use_wheels(name)
    if any(f.is_wheel and wheels_ok and env.supports_wheel(f.tags) for f in fits):
        return None
    sdists = [f for f in fits if not f.is_wheel]
    if sdists and options.may_build(name):
        return None
    wheels = [f for f in fits if f.is_wheel] if wheels_ok else []
    floor = _floor_too_high(env, wheels)
    if floor is not None:
        return f"{version} has no wheel for {env.platform.name}: {floor}"
    if sdists:
        return f"{version} has no wheel for {env.platform.name} and building is not allowed"
    return f"{version} has no wheel for {env.platform.name} and no sdist"


def _floor_too_high(env: Environment, wheels: Sequence[DistFile]) -> str | None:
    """``its wheels need glibc 2.34, ...`` when the wheels for this OS and CPU need a newer one."""
    platform = env.platform
    own = platform.glibc if platform.glibc is not None else platform.macos
    if own is None:
        return None
    pattern = _MANYLINUX if platform.glibc is not None else _MACOS
    arches = {platform.arch, "universal2"} if platform.macos is not None else {platform.arch}
    need = sorted(
        (int(m.group(1)), int(m.group(2)))
        for f in wheels for tag in f.tags
        for m in [pattern.fullmatch(tag.platform)]
        if m is not None and m.group(3) in arches
    )
    higher = [n for n in need if n > own]
    if not higher or len(higher) < len(need):
        return None
    what = "glibc" if platform.glibc is not None else "macOS"
    lowest = ".".join(map(str, higher[0]))
    return f"its wheels need {what} {lowest}, the matrix targets {what} {own[0]}.{own[1]}"


#: ``manylinux_2_34_x86_64`` and ``macosx_14_0_arm64``: (major, minor, arch).
_MANYLINUX = re.compile(r"manylinux_(\d+)_(\d+)_(\w+)")
_MACOS = re.compile(r"macosx_(\d+)_(\d+)_(\w+)")


def _own_requirements(
    env: Environment, name: str, version: Version, pins: Mapping[NormalizedName, Pin],
    oracle: Oracle, metadata: Metadata,
) -> list[str]:
    """The newest release's own requirements that this environment's pins do not meet."""
    files = oracle.usable_files(name, version, False)
    try:
        meta = metadata.get(name, version, files)
    except CrosspinError:  # a reason is a best effort, never a failure
        return []
    reasons = []
    if meta.requires_python is not None and not env.admits_python(meta.requires_python):
        reasons.append(f"{version} needs Python{meta.requires_python} {_PYTHON}")
    for req in meta.requires_dist:
        if req.marker is not None and not evaluate_marker(req.marker, env, frozenset()):
            continue
        dep = canonicalize_name(req.name)
        other = pins.get(dep)
        if other is not None and other.link is None and not req.specifier.contains(
                other.version, prereleases=True):
            reasons.append(f"{version} requires {req.name}{req.specifier}, "
                           f"and {other.name} is {other.version} here")
        elif other is None and req.url is None:
            nothing = _nothing_installs(env, dep, req.specifier, oracle)
            if nothing is not None:
                reasons.append(f"{version} requires {req.name}{req.specifier}, and {nothing}")
    return reasons


def _nothing_installs(
    env: Environment, name: NormalizedName, spec: SpecifierSet, oracle: Oracle
) -> str | None:
    """Why no version of ``name`` that ``spec`` admits installs in ``env`` (``None``: one does)."""
    admitted = [v for v in oracle.newest_first(name) if spec.contains(v)][:_SCAN]
    limits = [_environment_limit(env, name, v, oracle) for v in admitted]
    if not admitted or any(limit is None for limit in limits):
        return None
    return f"no version of {name} installs here ({name} {limits[0]})"


#: Versions of a dependency looked at for "no version installs here".
_SCAN = 50
