"""One target environment: a CPython minor (or patch range) on one platform.

An :class:`Environment` stands for every patch release of its minor (or
the patch range a Requires-Python cuts out of it). Its PEP 508 marker
environment and its wheel tags are computed for the target with
:mod:`packaging.tags`, never read from the host, so the output does not
depend on the machine crosspin runs on.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import attrs
from packaging import tags as _tags
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from crosspin.environments._platforms import Platform

__all__ = ["Environment"]

#: The highest patch number probed when deciding whether a Requires-Python
#: admits every patch release of a minor. No CPython minor has come close.
_MAX_PATCH = 60


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
    patch_ceiling: int | None = None

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
        """The Python part of :attr:`name`: ``3.12``, ``3.9.2+``, ``3.9.0-3.9.1`` or ``3.14.1``."""
        if not self.is_patch_split:
            return self.python_version
        if self.patch_ceiling is None:
            return f"{self.python_full_version}+"
        if self.patch_ceiling == self.patch_floor + 1:
            return self.python_full_version
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

    def with_patches(self, floor: int, ceiling: int | None) -> Environment:
        """This environment narrowed to patch releases ``[floor, ceiling)``."""
        return attrs.evolve(self, patch_floor=floor, patch_ceiling=ceiling)

    @property
    def patches(self) -> range:
        """The patch numbers this environment covers (an open range stops at a probe limit)."""
        return range(self.patch_floor,
                     _MAX_PATCH if self.patch_ceiling is None else self.patch_ceiling)

    def at_patch(self, patch: int) -> Environment:
        """The one patch release ``X.Y.patch`` of this environment (memoised)."""
        return _at_patch(self, patch)


@functools.lru_cache(maxsize=4096)
def _at_patch(env: Environment, patch: int) -> Environment:
    return env.with_patches(patch, patch + 1)


@functools.lru_cache(maxsize=8192)
def _admits(spec: str, python: tuple[int, int], floor: int, ceiling: int | None) -> bool:
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


def _patch_ranges(spec: SpecifierSet, python: tuple[int, int]) -> list[tuple[int, int | None]]:
    """The runs of patch releases of ``python`` that ``spec`` admits."""
    runs: list[tuple[int, int | None]] = []
    start: int | None = None
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

