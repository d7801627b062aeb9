"""Merge: the pins of every fork into one lock, each with the marker of its environments.

Each ``name==version`` gets the marker that selects exactly the
environments whose fork chose it (DESIGN.md "Merge"), preferring the
markers the dependency graph carries when they are exact. The forks come
from the resolver; this module needs only their shape (:class:`Fork`,
:class:`ForkPin`), so the lock does not depend on the resolver.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from packaging.markers import Marker
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName
from packaging.version import Version

from crosspin.distributions import DistFile
from crosspin.environments import Environment, Matrix
from crosspin.lock._model import Lock, LockedPackage, Sources
from crosspin.markers import disjoin, marker_for

__all__ = ["Fork", "ForkPin", "merge_forks"]


class ForkPin(Protocol):
    """What one fork chose for one name (``crosspin.resolver.Pin`` is one)."""

    @property
    def name(self) -> NormalizedName: ...
    @property
    def version(self) -> Version: ...
    @property
    def extras(self) -> frozenset[str]: ...
    @property
    def files(self) -> tuple[DistFile, ...]: ...
    @property
    def link(self) -> str | None: ...
    @property
    def editable(self) -> bool: ...
    @property
    def via(self) -> frozenset[str]: ...
    @property
    def dependencies(self) -> frozenset[NormalizedName]: ...
    @property
    def requires_python(self) -> SpecifierSet | None: ...
    @property
    def edge_markers(self) -> frozenset[str]: ...
    @property
    def unconditional(self) -> bool: ...


class Fork(Protocol):
    """One resolution and the environments it serves (``crosspin.resolver.ForkResult`` is one)."""

    @property
    def environments(self) -> tuple[Environment, ...]: ...
    @property
    def pins(self) -> Mapping[NormalizedName, ForkPin]: ...


def merge_forks(
    forks: Sequence[Fork],
    matrix: Matrix,
    *,
    sources: Sources = Sources(),
    meta: Mapping[str, str] | None = None,
) -> Lock:
    """Merge fork results into one lock with exact markers."""
    groups: dict[tuple[NormalizedName, Version, str | None], list[tuple[Fork, ForkPin]]]
    groups = defaultdict(list)
    #: id(fork) -> the names of its environments (built once, not per pin and edge)
    names: dict[int, frozenset[str]] = {}
    for fork in forks:
        names[id(fork)] = frozenset(e.name for e in fork.environments)
        for pin in fork.pins.values():
            groups[(pin.name, pin.version, pin.link)].append((fork, pin))
    packages = []
    for (name, version, link), entries in groups.items():
        envs = [e for fork, _ in entries for e in fork.environments]
        env_names = frozenset().union(*(names[id(fork)] for fork, _ in entries))
        hints = _hints(p for _, p in entries)
        marker = marker_for(env_names, matrix, hints=hints)
        first = entries[0][1]
        edges: dict[NormalizedName, set[str]] = defaultdict(set)
        for fork, pin in entries:
            for child in pin.dependencies:
                edges[child].update(names[id(fork)])
        packages.append(
            LockedPackage(
                name=name,
                version=version,
                marker=marker,
                environments=env_names,
                extras=tuple(sorted(set().union(*(p.extras for _, p in entries)))),
                files=_installable_files(first.files, envs),
                via=tuple(sorted(set().union(*(p.via for _, p in entries)))),
                dependencies=tuple(sorted(edges)),
                dependency_environments={c: frozenset(e) for c, e in sorted(edges.items())},
                requires_python=first.requires_python,
                index=next((f.index for f in first.files if f.index), None),
                url=link,
                editable=first.editable,
            )
        )
    return Lock.build(matrix=matrix, packages=packages, sources=sources, meta=meta)


def _hints(pins: Iterable[ForkPin]) -> list[Marker]:
    """Markers the dependency graph carries for a package, as candidates."""
    texts: set[str] = set()
    for pin in pins:
        if pin.unconditional:
            return []
        texts |= pin.edge_markers
    markers = [Marker(t) for t in sorted(texts)]
    if len(markers) > 1:
        combined = disjoin(*markers)
        if combined is not None:
            markers.append(combined)
    return markers


def _installable_files(
    files: Sequence[DistFile], envs: Sequence[Environment]
) -> tuple[DistFile, ...]:
    """The sdists plus the wheels some environment of ``envs`` can install."""
    keep = []
    for f in files:
        if not f.is_wheel:
            keep.append(f)
            continue
        for env in envs:
            if env.supports_wheel(f.tags) and (
                f.requires_python is None or env.admits_python(f.requires_python)
            ):
                keep.append(f)
                break
    return tuple(sorted(keep, key=lambda f: f.filename))
