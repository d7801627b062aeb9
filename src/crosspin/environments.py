"""Target environments and the matrix a lock covers.

An :class:`Environment` is one concrete target: a CPython minor version
(standing for every patch release of it, or a patch range where a
Requires-Python cuts the minor) on one :class:`Platform`. Its PEP 508 marker
environment and its wheel tags are computed for the target with
:mod:`packaging.tags`, never read from the host, so the output does not
depend on the machine crosspin runs on.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from typing import Any, Optional

import attrs
from packaging import tags as _tags
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from crosspin.errors import UsageError

__all__ = [
    "DEFAULT_PLATFORMS",
    "DEFAULT_PYTHONS",
    "PLATFORMS",
    "Environment",
    "Matrix",
    "Platform",
    "describe_environments",
]

#: The highest patch number probed when deciding whether a Requires-Python
#: admits every patch release of a minor. No CPython minor has come close.
_MAX_PATCH = 60

#: CPython minors a default matrix draws from (those still in use).
DEFAULT_PYTHONS: tuple[tuple[int, int], ...] = tuple((3, m) for m in range(9, 15))

#: CPython minors a specifier such as ``>=3.7,<3.16`` may select.
_KNOWN_PYTHONS: tuple[tuple[int, int], ...] = tuple((3, m) for m in range(0, 16))


@attrs.frozen(kw_only=True, order=False)
class Platform:
    """An operating system and CPU, with the wheel platform tags it accepts.

    ``glibc`` (Linux) and ``macos`` (macOS) give the oldest OS release the
    lock must serve: wheels that need a newer one are not installable there.
    """

    name: str
    sys_platform: str
    platform_system: str
    os_name: str
    platform_machine: str
    arch: str
    glibc: Optional[tuple[int, int]] = None
    macos: Optional[tuple[int, int]] = None

    @classmethod
    def from_name(cls, name: str) -> Platform:
        """Parse a platform name: a known one, or a variant with an OS floor.

        Accepted: ``linux-x86_64``, ``linux-aarch64``, ``macos-arm64``,
        ``macos-x86_64``, ``windows-x86_64``, ``windows-arm64``; a Linux one
        with a glibc floor (``linux-x86_64-manylinux_2_17``); a macOS one with
        a release floor (``macos-arm64-14.0``); and uv's spellings
        (``x86_64-manylinux2014``, ``aarch64-apple-darwin``,
        ``x86_64-pc-windows-msvc``, ``x86_64-unknown-linux-gnu``).
        """
        key = name.strip().lower()
        if key in PLATFORMS:
            return PLATFORMS[key]
        alias = _UV_ALIASES.get(key)
        if alias is not None:
            return alias
        m = re.fullmatch(r"(linux-(?:x86_64|aarch64))-manylinux_?(\d+)_(\d+)", key)
        if m:
            base = PLATFORMS[m.group(1)]
            return attrs.evolve(base, name=key, glibc=(int(m.group(2)), int(m.group(3))))
        m = re.fullmatch(r"(x86_64|aarch64)-manylinux_?(\d+)_(\d+)", key)
        if m:
            base = PLATFORMS[f"linux-{m.group(1)}"]
            glibc = (int(m.group(2)), int(m.group(3)))
            name = f"{base.name}-manylinux_{glibc[0]}_{glibc[1]}"
            return attrs.evolve(base, name=name, glibc=glibc)
        m = re.fullmatch(r"(macos-(?:arm64|x86_64))-(\d+)\.(\d+)", key)
        if m:
            base = PLATFORMS[m.group(1)]
            return attrs.evolve(base, name=key, macos=(int(m.group(2)), int(m.group(3))))
        known = ", ".join(sorted(PLATFORMS))
        raise UsageError(f"unknown platform {name!r}", hint=f"use one of: {known}")

    @functools.cached_property
    def platform_tags(self) -> tuple[str, ...]:
        """Wheel platform tags this platform installs, most specific first."""
        if self.sys_platform == "linux":
            assert self.glibc is not None
            return tuple(_manylinux_platforms(self.glibc, self.arch))
        if self.sys_platform == "darwin":
            assert self.macos is not None
            return tuple(_tags.mac_platforms(self.macos, self.arch))
        return (self.arch,)

    def __str__(self) -> str:
        return self.name


def _manylinux_platforms(glibc: tuple[int, int], arch: str) -> Iterable[str]:
    # PEP 600 tags from the floor down, with the legacy aliases of PEP 513,
    # 571 and 599 at the glibc release each stands for, then the bare tag.
    legacy = {(2, 17): "manylinux2014", (2, 12): "manylinux2010", (2, 5): "manylinux1"}
    major, minor = glibc
    for m in range(minor, 4, -1):
        yield f"manylinux_{major}_{m}_{arch}"
        alias = legacy.get((major, m))
        if alias and (alias != "manylinux2014" or arch in {"x86_64", "aarch64", "i686"}):
            yield f"{alias}_{arch}"
    yield f"linux_{arch}"


_LINUX: dict[str, Any] = {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"}
_MACOS: dict[str, Any] = {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix"}
_WINDOWS: dict[str, Any] = {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt"}

#: Every platform crosspin knows by name.
PLATFORMS: dict[str, Platform] = {
    p.name: p
    for p in (
        Platform(name="linux-x86_64", platform_machine="x86_64", arch="x86_64",
                 glibc=(2, 28), **_LINUX),
        Platform(name="linux-aarch64", platform_machine="aarch64", arch="aarch64",
                 glibc=(2, 28), **_LINUX),
        Platform(name="macos-arm64", platform_machine="arm64", arch="arm64",
                 macos=(13, 0), **_MACOS),
        Platform(name="macos-x86_64", platform_machine="x86_64", arch="x86_64",
                 macos=(13, 0), **_MACOS),
        Platform(name="windows-x86_64", platform_machine="AMD64", arch="win_amd64",
                 **_WINDOWS),
        Platform(name="windows-arm64", platform_machine="ARM64", arch="win_arm64",
                 **_WINDOWS),
    )
}

#: The platforms of a default matrix.
DEFAULT_PLATFORMS: tuple[str, ...] = (
    "linux-x86_64",
    "linux-aarch64",
    "macos-arm64",
    "macos-x86_64",
    "windows-x86_64",
)

_UV_ALIASES: dict[str, Platform] = {
    "linux": PLATFORMS["linux-x86_64"],
    "macos": PLATFORMS["macos-arm64"],
    "windows": PLATFORMS["windows-x86_64"],
    "x86_64-unknown-linux-gnu": PLATFORMS["linux-x86_64"],
    "aarch64-unknown-linux-gnu": PLATFORMS["linux-aarch64"],
    "aarch64-apple-darwin": PLATFORMS["macos-arm64"],
    "x86_64-apple-darwin": PLATFORMS["macos-x86_64"],
    "x86_64-pc-windows-msvc": PLATFORMS["windows-x86_64"],
    "aarch64-pc-windows-msvc": PLATFORMS["windows-arm64"],
    "x86_64-manylinux2014": attrs.evolve(
        PLATFORMS["linux-x86_64"], name="linux-x86_64-manylinux_2_17", glibc=(2, 17)
    ),
    "aarch64-manylinux2014": attrs.evolve(
        PLATFORMS["linux-aarch64"], name="linux-aarch64-manylinux_2_17", glibc=(2, 17)
    ),
}


@attrs.frozen(kw_only=True)
class Environment:
    """One target: CPython ``major.minor`` (patches ``[floor, ceiling)``) on a platform.

    ``patch_ceiling`` of ``None`` means every later patch release too. The
    environment stands for every patch release in that range, so a
    Requires-Python must admit all of them (see :meth:`admits_python`).
    """

    python: tuple[int, int]
    platform: Platform
    patch_floor: int = 0
    patch_ceiling: Optional[int] = None

    @property
    def python_version(self) -> str:
        """``"3.12"``: the ``python_version`` marker value."""
        return f"{self.python[0]}.{self.python[1]}"

    @property
    def python_full_version(self) -> str:
        """The lowest full version covered, e.g. ``"3.12.0"``."""
        return f"{self.python_version}.{self.patch_floor}"

    @property
    def is_patch_split(self) -> bool:
        """Whether this environment covers only some patch releases of its minor."""
        return self.patch_floor != 0 or self.patch_ceiling is not None

    @property
    def python_label(self) -> str:
        """The Python part of :attr:`name`: ``3.12``, ``3.9.2+`` or ``3.9.0-3.9.1``."""
        if not self.is_patch_split:
            return self.python_version
        if self.patch_ceiling is None:
            return f"{self.python_full_version}+"
        return f"{self.python_full_version}-{self.python_version}.{self.patch_ceiling - 1}"

    @property
    def name(self) -> str:
        """A stable, readable id: ``3.12-linux-x86_64``."""
        return f"{self.python_label}-{self.platform.name}"

    def __str__(self) -> str:
        return self.name

    @property
    def sort_key(self) -> tuple[int, int, int, str]:
        """Newest Python first, then platform name: the order forks are solved in."""
        return (-self.python[0], -self.python[1], -self.patch_floor, self.platform.name)

    @functools.cached_property
    def marker_environment(self) -> dict[str, str]:
        """The PEP 508 marker environment of the target (lowest covered patch)."""
        p = self.platform
        return {
            "implementation_name": "cpython",
            "implementation_version": self.python_full_version,
            "os_name": p.os_name,
            "platform_machine": p.platform_machine,
            "platform_python_implementation": "CPython",
            "platform_release": "",
            "platform_system": p.platform_system,
            "platform_version": "",
            "python_full_version": self.python_full_version,
            "python_version": self.python_version,
            "sys_platform": p.sys_platform,
        }

    @functools.cached_property
    def tags(self) -> tuple[_tags.Tag, ...]:
        """Wheel tags the target installs, most preferred first."""
        interpreter = f"cp{self.python[0]}{self.python[1]}"
        platforms = self.platform.platform_tags
        return (
            *_tags.cpython_tags(self.python, abis=[interpreter], platforms=platforms),
            *_tags.compatible_tags(self.python, interpreter, platforms),
        )

    @functools.cached_property
    def _tag_pairs(
        self,
    ) -> tuple[frozenset[str], frozenset[tuple[str, str]], frozenset[tuple[str, str]]]:
        """:attr:`tags` factored: ``(platforms, pairs, any_pairs)``.

        packaging emits the same interpreter-abi pairs for every platform, so
        :attr:`tags` is exactly ``pairs x platforms`` plus ``any_pairs x
        {"any"}``. Checking a wheel against these three small sets is the
        same answer as looking it up among the hundreds of expanded tags,
        without building them for each of the matrix's environments.
        """
        interpreter = f"cp{self.python[0]}{self.python[1]}"
        probe = ["crosspin_probe"]
        generated = (
            *_tags.cpython_tags(self.python, abis=[interpreter], platforms=probe),
            *_tags.compatible_tags(self.python, interpreter, probe),
        )
        pairs = frozenset((t.interpreter, t.abi) for t in generated if t.platform == probe[0])
        any_pairs = frozenset((t.interpreter, t.abi) for t in generated if t.platform == "any")
        platforms = frozenset(p.lower() for p in self.platform.platform_tags)
        return platforms, pairs, any_pairs

    @functools.cached_property
    def _wheel_answers(self) -> dict[frozenset[_tags.Tag], bool]:
        # Wheels of a page share a few dozen tag sets (the same objects:
        # distributions memoises them), so each is looked at once per target.
        return {}

    def supports_wheel(self, wheel_tags: Iterable[_tags.Tag]) -> bool:
        """Whether any of a wheel's tags is installable here."""
        if not isinstance(wheel_tags, frozenset):
            return self._supports(wheel_tags)
        memo = self._wheel_answers
        got = memo.get(wheel_tags)
        if got is None:
            got = memo[wheel_tags] = self._supports(wheel_tags)
        return got

    def _supports(self, wheel_tags: Iterable[_tags.Tag]) -> bool:
        platforms, pairs, any_pairs = self._tag_pairs
        for t in wheel_tags:
            if t.platform == "any":
                if (t.interpreter, t.abi) in any_pairs:
                    return True
            elif t.platform in platforms and (t.interpreter, t.abi) in pairs:
                return True
        return False

    def admits_python(self, requires_python: SpecifierSet) -> bool:
        """Whether every covered patch release satisfies ``requires_python``."""
        memo = self._python_answers
        got = memo.get(id(requires_python))
        if got is None:
            answer = _admits(
                str(requires_python), self.python, self.patch_floor, self.patch_ceiling
            )
            got = memo[id(requires_python)] = (requires_python, answer)
        return got[1]

    @functools.cached_property
    def _python_answers(self) -> dict[int, tuple[SpecifierSet, bool]]:
        # Files share Requires-Python objects (distributions memoises them).
        # Keyed by identity: hashing a SpecifierSet canonicalises every
        # clause each time; the value keeps the object alive, so ids stay unique.
        return {}

    def with_patches(self, floor: int, ceiling: Optional[int]) -> Environment:
        """This environment narrowed to patch releases ``[floor, ceiling)``."""
        return attrs.evolve(self, patch_floor=floor, patch_ceiling=ceiling)


@functools.lru_cache(maxsize=8192)
def _admits(spec: str, python: tuple[int, int], floor: int, ceiling: Optional[int]) -> bool:
    specifier = SpecifierSet(spec)
    top = _MAX_PATCH if ceiling is None else ceiling
    patches = _patch_versions(python)[floor:top]
    if not _splits_minor(specifier, python):
        patches = patches[:1]  # the answer is the same for every patch of the minor
    return all(specifier.contains(v, prereleases=True) for v in patches)


def _splits_minor(specifier: SpecifierSet, python: tuple[int, int]) -> bool:
    """Whether ``specifier`` may answer differently for two patch releases of ``python``.

    Only a clause whose version starts with the same ``major.minor``
    (``>=3.11.2``, ``!=3.11.*``, ``<3.11``) can; ``>=3.8`` or ``<4`` holds
    or fails for a whole minor. ``===`` compares strings: always checked.
    """
    for clause in specifier:
        text = clause.version
        if clause.operator == "===":
            return True
        if text.endswith(".*"):
            text = text[:-2]
        try:
            release = Version(text).release
        except InvalidVersion:
            return True
        if release[:2] == python:
            return True
    return False


@functools.lru_cache(maxsize=64)
def _patch_versions(python: tuple[int, int]) -> tuple[Version, ...]:
    """``X.Y.0`` ... ``X.Y.59`` as versions, parsed once per minor."""
    return tuple(Version(f"{python[0]}.{python[1]}.{patch}") for patch in range(_MAX_PATCH))


def _patch_ranges(spec: SpecifierSet, python: tuple[int, int]) -> list[tuple[int, Optional[int]]]:
    """The runs of patch releases of ``python`` that ``spec`` admits."""
    runs: list[tuple[int, Optional[int]]] = []
    start: Optional[int] = None
    for patch, version in enumerate(_patch_versions(python)):
        ok = spec.contains(version, prereleases=True)
        if ok and start is None:
            start = patch
        elif not ok and start is not None:
            runs.append((start, patch))
            start = None
    if start is not None:
        runs.append((start, None))
    return runs


@attrs.frozen(kw_only=True)
class Matrix:
    """The environments a lock covers, newest Python first."""

    environments: tuple[Environment, ...]

    @classmethod
    def from_options(
        cls,
        *,
        python: Optional[str] = None,
        platforms: Sequence[str] = (),
        requires_python: Optional[SpecifierSet] = None,
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
            wanted = python or "the default Pythons"
            raise UsageError(
                f"no Python version in {wanted} satisfies requires-python {requires_python}",
                hint="change --python or the project's requires-python",
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


def describe_environments(names: Sequence[str], matrix: Matrix) -> list[str]:
    """Readable groups for a set of environments: ``windows-x86_64 (3.9, 3.10)``.

    A platform whose every matrix Python is in the set reads ``(every Python)``,
    so a message names 24 environments in one short line.
    """
    wanted = set(names)
    if len(wanted) <= 3:
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


def _min_ceiling(a: Optional[int], b: Optional[int]) -> Optional[int]:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def _label_key(label: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", label))


def _parse_label(label: str) -> tuple[tuple[int, int], int, Optional[int]]:
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


def _python_ranges(python: Optional[str]) -> list[tuple[tuple[int, int], int, Optional[int]]]:
    """Minor versions (with patch ranges) named by a ``--python`` value."""
    if python is None or not python.strip():
        return [(minor, 0, None) for minor in DEFAULT_PYTHONS]
    text = python.strip()
    out: list[tuple[tuple[int, int], int, Optional[int]]] = []
    if re.fullmatch(r"[\d.,\s]+", text):
        for part in (p.strip() for p in text.split(",") if p.strip()):
            try:
                v = Version(part)
            except InvalidVersion:
                raise UsageError(f"bad Python version {part!r} in --python {python!r}") from None
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
    return out
