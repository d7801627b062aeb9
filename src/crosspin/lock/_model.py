"""The merged result of a compile: the one contract for writers and sync.

A :class:`Lock` is a matrix plus the pins every fork chose, each pin a
:class:`LockedPackage` carrying the marker that selects exactly the
environments whose fork chose it. Writers render a lock; readers turn a
lockfile back into one; ``sync`` installs the subset a lock selects for one
interpreter.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping

import attrs
from packaging.markers import Marker
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName
from packaging.version import Version

from crosspin.distributions import DistFile
from crosspin.environments import Environment, Matrix

__all__ = ["UNSAFE_PACKAGES", "Lock", "LockedPackage", "Sources"]

#: Packages pip-compile leaves out unless ``--allow-unsafe`` is given.
UNSAFE_PACKAGES: frozenset[str] = frozenset({"distribute", "pip", "setuptools"})


@attrs.frozen(kw_only=True)
class Sources:
    """Where packages came from: written as option lines, used again by sync."""

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    trusted_hosts: tuple[str, ...] = ()
    #: ``--no-index`` in an input file: packages come from find-links only.
    no_index: bool = False


@attrs.frozen(kw_only=True)
class LockedPackage:
    """One ``name==version`` of the lock and the environments that select it.

    ``marker`` is ``None`` when every environment of the matrix selects the
    pin. ``files`` are the files some environment of the marker can install,
    plus the sdist. ``via`` names what requires it: other package names and
    the origins of root requirements (``-r requirements.in``). ``url`` is set
    for direct references, local paths and VCS pins (then ``version`` is
    what their metadata says).

    ``dependencies`` is the union of this pin's dependency edges over every
    environment that selects it; ``dependency_environments`` says where each
    edge exists (child name -> environment names), since an edge can be
    platform-only (``c; sys_platform == 'win32'``). It is empty for a lock
    read back from a file that does not record it: then the union is all
    that is known.
    """

    name: NormalizedName
    version: Version
    marker: Marker | None = None
    environments: frozenset[str] = frozenset()
    extras: tuple[str, ...] = ()
    files: tuple[DistFile, ...] = ()
    via: tuple[str, ...] = ()
    dependencies: tuple[NormalizedName, ...] = ()
    dependency_environments: Mapping[NormalizedName, frozenset[str]] = attrs.field(
        factory=dict, hash=False
    )
    requires_python: SpecifierSet | None = None
    index: str | None = None
    url: str | None = None
    editable: bool = False
    #: ``algo:digest`` hashes read back from a lockfile whose files are unknown.
    recorded_hashes: tuple[str, ...] = ()

    @property
    def sort_key(self) -> tuple[bool, str, Version, str]:
        """Editables first, then by canonical name, version and marker."""
        return (not self.editable, self.name, self.version, str(self.marker or ""))

    def applies_to(self, environment: Environment) -> bool:
        """Whether this pin is selected in ``environment``."""
        if self.environments:
            return environment.name in self.environments
        if self.marker is None:
            return True
        return _holds(self.marker, environment)

    def depends_on(self, child: str, environment: Environment) -> bool:
        """Whether this pin depends on ``child`` in ``environment``.

        Uses the per-environment edges when the lock has them, else the
        union (a lock read back from requirements.txt knows only that).
        """
        if child not in self.dependencies:
            return False
        if not self.dependency_environments:
            return True
        envs = self.dependency_environments.get(NormalizedName(child), frozenset())
        return environment.name in envs

    def hashes(self) -> list[str]:
        """``algo:digest`` strings of all locked files (sha256 preferred), sorted."""
        if not self.files:
            return sorted(self.recorded_hashes)
        out: set[str] = set()
        for f in self.files:
            d = f.hash_dict
            algo = "sha256" if "sha256" in d else (min(d) if d else None)
            if algo:
                out.add(f"{algo}:{d[algo]}")
        return sorted(out)


@attrs.frozen(kw_only=True)
class Lock:
    """A matrix and the pins that serve every environment of it."""

    matrix: Matrix
    packages: tuple[LockedPackage, ...]
    sources: Sources = Sources()
    #: Extra facts for headers: the normalised command, input digest, ...
    meta: Mapping[str, str] = attrs.field(factory=dict)

    @classmethod
    def build(
        cls,
        *,
        matrix: Matrix,
        packages: Iterable[LockedPackage],
        sources: Sources = Sources(),
        meta: Mapping[str, str] | None = None,
    ) -> Lock:
        """A lock with its packages in the canonical order."""
        return cls(
            matrix=matrix,
            packages=tuple(sorted(packages, key=lambda p: p.sort_key)),
            sources=sources,
            meta=dict(meta or {}),
        )

    def select(self, environment: Environment) -> list[LockedPackage]:
        """The pins that ``environment`` installs."""
        return [p for p in self.packages if p.applies_to(environment)]

    def for_name(self, name: str) -> list[LockedPackage]:
        """Every pin of one (canonical) name."""
        return [p for p in self.packages if p.name == name]


@functools.lru_cache(maxsize=16384)
def _holds(marker: Marker, environment: Environment) -> bool:
    """Whether a pin's marker holds in an environment; pins share markers, so once each.

    Markers hash and compare by their text, so equal markers share an entry.
    """
    return marker.evaluate(dict(environment.marker_environment))
