"""The matrix a lock covers: the environments of ``--python`` x ``--platform``.

:meth:`Matrix.from_options` builds it from the command line and the
project's Requires-Python (splitting a minor at a patch boundary where that
cuts one); :meth:`Matrix.to_spec` / :meth:`Matrix.from_spec` are the form
lock headers record it in.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence

import attrs
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from crosspin.environments._environment import Environment, _patch_ranges
from crosspin.environments._platforms import DEFAULT_PLATFORMS, Platform
from crosspin.errors import UsageError

__all__ = [
    "DEFAULT_PYTHONS",
    "Matrix",
    "describe_environments",
    "describe_in_order",
    "python_first",
]

#: CPython minors a default matrix draws from (those still in use).
DEFAULT_PYTHONS: tuple[tuple[int, int], ...] = tuple((3, m) for m in range(9, 15))

#: CPython minors a specifier such as ``>=3.7,<3.16`` may select.
_KNOWN_PYTHONS: tuple[tuple[int, int], ...] = tuple((3, m) for m in range(0, 16))


@attrs.frozen(kw_only=True)
class Matrix:
    """The environments a lock covers, newest Python first."""

    environments: tuple[Environment, ...]

    @classmethod
    def from_options(
        cls,
        *,
        python: str | None = None,
        platforms: Sequence[str] = (),
        requires_python: SpecifierSet | None = None,
    ) -> Matrix:
        """Build the matrix from ``--python``/``--platform`` and the project's bounds.

        ``python`` is a minor (``3.12``), a full version (``3.9.2``), a list
        (``3.10,3.12``) or a specifier (``>=3.9,<3.15``); ``None`` means every
        default CPython minor. ``requires_python`` (the project's) narrows
        whatever is chosen, splitting a minor at a patch boundary if it cuts
        one. Platforms default to the five of :data:`DEFAULT_PLATFORMS`.
        """
        plats = [Platform.from_name(p) for p in (platforms or DEFAULT_PLATFORMS)]
        plats = list({p.name: p for p in plats}.values())
        python_ranges = _python_ranges(python)
        if requires_python is not None:
            narrowed = []
            for minor, floor, ceiling in python_ranges:
                for lo, hi in _patch_ranges(requires_python, minor):
                    new_lo = max(lo, floor)
                    new_hi = _min_ceiling(hi, ceiling)
                    if new_hi is None or new_lo < new_hi:
                        narrowed.append((minor, new_lo, new_hi))
            python_ranges = narrowed
        if not python_ranges:
            wanted = f"--python {python}" if python else (
                f"the default Pythons ({_range_text(DEFAULT_PYTHONS)})")
            raise UsageError(
                f"{wanted} and requires-python {requires_python} have no Python version "
                "in common",
                hint="change --python, or the project's requires-python",
            )
        envs = [
            Environment(python=minor, platform=plat, patch_floor=lo, patch_ceiling=hi)
            for minor, lo, hi in python_ranges
            for plat in plats
        ]
        return cls(environments=tuple(sorted(envs, key=lambda e: e.sort_key)))

    @property
    def pythons(self) -> tuple[str, ...]:
        """Distinct Python labels, newest first."""
        return tuple(dict.fromkeys(e.python_label for e in self.environments))

    @property
    def platforms(self) -> tuple[Platform, ...]:
        """Distinct platforms, in name order."""
        seen = {e.platform.name: e.platform for e in self.environments}
        return tuple(seen[k] for k in sorted(seen))

    def __len__(self) -> int:
        return len(self.environments)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.environments)

    def by_name(self) -> dict[str, Environment]:
        """Environment name -> environment."""
        return {e.name: e for e in self.environments}

    def describe(self) -> str:
        """One line for headers and messages: ``python 3.9-3.14 x linux-x86_64, ...``."""
        pythons = sorted(self.pythons, key=_label_key)
        platforms = ", ".join(p.name for p in self.platforms)
        count = f"{len(self)} environment{'s' if len(self) != 1 else ''}"
        return f"python {', '.join(pythons)} x {platforms} ({count})"

    def covers_same(self, other: Matrix) -> bool:
        """Whether both matrices cover the same targets, however their minors are split.

        A lock whose 3.9 was split at a patch boundary (``3.9.0-3.9.1``,
        ``3.9.2+``) still covers the ``--python 3.9`` it was asked for.
        """
        return _targets(self) == _targets(other)

    def patch_cuts(self) -> dict[tuple[int, int], frozenset[int]]:
        """Where this matrix splits minors: minor -> the patch numbers its parts start or end at.

        ``3.9.0-3.9.1`` and ``3.9.2+`` give ``{(3, 9): {2}}``; an unsplit
        minor is left out.
        """
        found: dict[tuple[int, int], set[int]] = {}
        for env in self.environments:
            for edge in (env.patch_floor, env.patch_ceiling):
                if edge:
                    found.setdefault(env.python, set()).add(edge)
        return {minor: frozenset(edges) for minor, edges in found.items()}

    def to_spec(self) -> str:
        """A machine-readable form that :meth:`from_spec` reads back exactly."""
        pythons = ",".join(sorted(self.pythons, key=_label_key))
        platforms = ",".join(p.name for p in self.platforms)
        return f"python={pythons}; platforms={platforms}"

    @classmethod
    def from_spec(cls, spec: str) -> Matrix:
        """Read the form written by :meth:`to_spec` (lock headers record it)."""
        fields = dict(part.strip().split("=", 1) for part in spec.split(";") if "=" in part)
        try:
            labels = [x for x in fields["python"].split(",") if x]
            plats = [Platform.from_name(p) for p in fields["platforms"].split(",") if p]
        except KeyError as exc:
            raise ValueError(f"matrix spec lacks {exc}") from None
        envs = [
            Environment(python=minor, platform=p, patch_floor=lo, patch_ceiling=hi)
            for label in labels
            for (minor, lo, hi) in [_parse_label(label)]
            for p in plats
        ]
        return cls(environments=tuple(sorted(envs, key=lambda e: e.sort_key)))


def describe_environments(
    names: Sequence[str], matrix: Matrix, *, grouped: bool = False
) -> list[str]:
    """Readable groups for a set of environments: ``windows-x86_64 (3.9, 3.10)``.

    A platform whose every matrix Python is in the set reads ``(every Python)``,
    so a message names 24 environments in one short line. Up to three
    environments are named one by one, unless ``grouped``.
    """
    wanted = set(names)
    if len(wanted) <= 3 and not grouped:
        return [e.name for e in matrix.environments if e.name in wanted]
    by_platform: dict[str, list[str]] = {}
    for env in matrix.environments:
        by_platform.setdefault(env.platform.name, [])
        if env.name in wanted:
            by_platform[env.platform.name].append(env.python_label)
    all_pythons = sorted(matrix.pythons, key=_label_key)
    groups: dict[tuple[str, ...], list[str]] = {}
    for platform in sorted(by_platform):
        labels = tuple(sorted(by_platform[platform], key=_label_key))
        if labels:
            groups.setdefault(labels, []).append(platform)
    out = []
    for labels, platforms in groups.items():
        pythons = "every Python" if list(labels) == all_pythons else ", ".join(labels)
        out.append(f"{', '.join(platforms)} ({pythons})")
    return out


def describe_in_order(names: Sequence[str], matrix: Matrix) -> list[str]:
    """:func:`describe_environments`, single environments sorted by Python then platform.

    ``3.9-linux-x86_64`` comes before ``3.10-linux-x86_64``: people scan
    these lists by version, and matrix order (newest Python first) or text
    order (``3.10`` before ``3.9``) reads as shuffled.
    """
    by_name = {e.name: e for e in matrix.environments}
    known = [n for n in dict.fromkeys(names) if n in by_name]
    if len(known) == len(set(names)) and len(known) <= 3:
        return sorted(known, key=lambda n: python_first(by_name[n]))
    return describe_environments(names, matrix)


def python_first(env: Environment) -> tuple[tuple[int, int], int, str]:
    """Sort key: oldest Python first, then patch floor, then platform name."""
    return env.python, env.patch_floor, env.platform.name


def _targets(matrix: Matrix) -> set[tuple[tuple[int, int], int, str]]:
    """Every (minor, patch, platform) a matrix covers (open ranges up to the probe limit)."""
    return {(e.python, patch, e.platform.name)
            for e in matrix.environments for patch in e.patches}


def _min_ceiling(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def _label_key(label: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", label))


def _parse_label(label: str) -> tuple[tuple[int, int], int, int | None]:
    m = re.fullmatch(r"(\d+)\.(\d+)(?:\.(\d+)(\+|-\d+\.\d+\.(\d+))?)?", label)
    if not m:
        raise ValueError(f"bad Python label {label!r}")
    minor = (int(m.group(1)), int(m.group(2)))
    if m.group(3) is None:
        return minor, 0, None
    floor = int(m.group(3))
    if m.group(4) == "+":
        return minor, floor, None
    if m.group(5) is not None:
        return minor, floor, int(m.group(5)) + 1
    return minor, floor, floor + 1


def _range_text(minors: Sequence[tuple[int, int]]) -> str:
    return f"{minors[0][0]}.{minors[0][1]}-{minors[-1][0]}.{minors[-1][1]}"


def _known_minor(v: Version, python: str) -> None:
    """Refuse a Python that is not a CPython 3 minor crosspin knows (``2.7``, ``3.99``)."""
    if v.major != 3:
        raise UsageError(f"--python {python}: crosspin locks CPython 3 only",
                         hint="give Python 3 versions, e.g. --python 3.12")
    if (v.major, v.minor) not in _KNOWN_PYTHONS:
        raise UsageError(
            f"--python {python}: no such CPython version "
            f"(crosspin knows {_range_text(_KNOWN_PYTHONS)})",
            hint="give released versions, e.g. --python 3.12 or --python '>=3.9,<3.15'",
        )


def _python_ranges(python: str | None) -> list[tuple[tuple[int, int], int, int | None]]:
    """Minor versions (with patch ranges) named by a ``--python`` value.

    Versions crosspin does not know (Python 2, a minor after the newest it
    knows) are a :class:`UsageError`, as is a specifier that admits none.
    """
    if python is None or not python.strip():
        return [(minor, 0, None) for minor in DEFAULT_PYTHONS]
    text = python.strip()
    out: list[tuple[tuple[int, int], int, int | None]] = []
    if re.fullmatch(r"[\d.,\s]+", text):
        for part in (p.strip() for p in text.split(",") if p.strip()):
            try:
                v = Version(part)
            except InvalidVersion:
                raise UsageError(f"bad Python version {part!r} in --python {python!r}") from None
            _known_minor(v, python)
            if len(v.release) == 2:
                out.append(((v.major, v.minor), 0, None))
            elif len(v.release) == 3:
                out.append(((v.major, v.minor), v.micro, v.micro + 1))
            else:
                raise UsageError(f"bad Python version {part!r}: give 3.X or 3.X.Y")
        return list(dict.fromkeys(out))
    try:
        spec = SpecifierSet(text)
    except InvalidSpecifier:
        raise UsageError(
            f"--python {python!r} is neither a version list nor a specifier",
            hint="examples: --python 3.12, --python 3.10,3.12, --python '>=3.9,<3.15'",
        ) from None
    has_upper = any(s.operator in {"<", "<=", "==", "~=", "==="} for s in spec)
    candidates = _KNOWN_PYTHONS if has_upper else tuple(
        m for m in _KNOWN_PYTHONS if m <= DEFAULT_PYTHONS[-1]
    )
    for minor in candidates:
        for lo, hi in _patch_ranges(spec, minor):
            out.append((minor, lo, hi))
    if not out:
        raise UsageError(
            f"--python {shlex.quote(python)} admits no CPython 3 version "
            f"(crosspin knows {_range_text(_KNOWN_PYTHONS)})",
            hint=f"give e.g. --python '>={DEFAULT_PYTHONS[0][0]}.{DEFAULT_PYTHONS[0][1]},"
                 f"<{DEFAULT_PYTHONS[-1][0]}.{DEFAULT_PYTHONS[-1][1] + 1}'",
        )
    return out
