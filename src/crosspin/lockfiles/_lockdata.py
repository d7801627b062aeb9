"""The locks sync and export read, whatever their format, merged into one :class:`LockData`.

Dispatch is on the file name: ``pylock.toml`` / ``pylock.*.toml`` are PEP
751 locks (read with :func:`crosspin.lockfiles.pylock.read`: their package
markers may name extras and dependency groups, and they list every file's
URL and hashes, so no index is searched); everything else is a
requirements file (crosspin's, with a matrix, or a plain pip-compile one).
Several locks are merged into one :class:`LockData`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
from packaging.markers import Marker
from packaging.utils import canonicalize_name

from crosspin.environments import Environment, Matrix
from crosspin.errors import LockFileError, MatrixError
from crosspin.lock import LockedPackage, Sources
from crosspin.lockfiles._load import read_lockfile

__all__ = ["LockData", "merge_locks", "read_lock"]


@attrs.frozen(kw_only=True)
class LockData:
    """What sync and export need from one or more lockfiles: matrices, pins, sources.

    ``lock_markers`` is set for PEP 751 locks: parallel to ``packages``, the
    markers as written there (``'dev' in dependency_groups``), evaluated by
    :meth:`select` like ``packaging.pylock.Pylock.select`` does.
    ``default_groups`` are the file's ``default-groups``.
    """

    path: str
    matrix: Matrix | None
    packages: tuple[LockedPackage, ...]
    sources: Sources
    other_matrices: tuple[Matrix, ...] = ()
    lock_markers: tuple[Marker | None, ...] | None = None
    extras: tuple[str, ...] = ()
    dependency_groups: tuple[str, ...] = ()
    default_groups: tuple[str, ...] = ()

    @property
    def is_pylock(self) -> bool:
        """Whether markers may select extras and dependency groups (PEP 751)."""
        return self.lock_markers is not None

    def select(
        self,
        markers: Mapping[str, str],
        *,
        extras: Collection[str] = (),
        groups: Collection[str] | None = None,
    ) -> list[LockedPackage]:
        """The pins whose marker is true in this marker environment.

        For a PEP 751 lock, ``extras`` and ``groups`` are the selection
        (``groups=None`` means the file's ``default-groups``); a
        requirements lock has none, and ``LockFileError`` says so when any
        is asked for. Two selected pins of one name that differ (several
        locks pinning it differently) are an error.
        """
        if self.lock_markers is None:
            if extras or groups:
                raise LockFileError(self.path, "a requirements lock has no extras or groups "
                                    "to select", hint="compile a pylock.toml to select them")
            env = {**markers, "extra": ""}
            chosen = [p for p in self.packages if p.marker is None or p.marker.evaluate(env)]
        else:
            self._check_selection(extras, groups)
            values: dict[str, Any] = dict(
                markers,
                extras=frozenset(canonicalize_name(e) for e in extras),
                dependency_groups=frozenset(canonicalize_name(g) for g in (
                    self.default_groups if groups is None else groups)),
            )
            chosen = [p for p, m in zip(self.packages, self.lock_markers)
                      if m is None or m.evaluate(values, context="lock_file")]
        return _no_conflicts(chosen, self.path)

    def _check_selection(self, extras: Collection[str], groups: Collection[str] | None) -> None:
        for kind, asked, known in (("extra", extras, self.extras),
                                   ("dependency group", groups or (), self.dependency_groups)):
            known_names = {canonicalize_name(k) for k in known}
            for name in asked:
                if canonicalize_name(name) not in known_names:
                    raise LockFileError(self.path, f"no {kind} {name!r} in the lock",
                                        hint=f"it has: {', '.join(known) or 'none'}")

    def environment_for(
        self, python: tuple[int, int], micro: int, sys_platform: str, machine: str,
        description: str,
    ) -> Environment | None:
        """The matrix environment covering a target, or ``MatrixError``.

        ``None`` when the lock records no matrix (then markers alone decide).
        With several locks, the target must be inside every recorded matrix.
        """
        found: Environment | None = None
        for matrix in ([self.matrix] if self.matrix else []) + list(self.other_matrices):
            env = _covering(matrix, python, micro, sys_platform, machine)
            if env is None:
                raise MatrixError(description, matrix.describe())
            found = found or env
        return found


def _covering(matrix: Matrix, python: tuple[int, int], micro: int, sys_platform: str,
              machine: str) -> Environment | None:
    for env in matrix.environments:
        p = env.platform
        if (env.python == python and p.sys_platform == sys_platform
                and p.platform_machine.lower() == machine.lower()
                and env.patch_floor <= micro
                and (env.patch_ceiling is None or micro < env.patch_ceiling)):
            return env
    return None


def _no_conflicts(chosen: list[LockedPackage], path: str) -> list[LockedPackage]:
    by_name: dict[str, LockedPackage] = {}
    out = []
    for p in chosen:
        seen = by_name.get(p.name)
        if seen is None:
            by_name[p.name] = p
            out.append(p)
        elif (seen.version, seen.url) != (p.version, p.url):
            shown = [f"{q.name} @ {q.url}" if q.url else f"{q.name}=={q.version}"
                     for q in (seen, p)]
            raise LockFileError(path, f"conflicting pins for this environment: {shown[0]} "
                                f"and {shown[1]}", hint="sync from locks that agree")
    return out


def read_lock(path: Path) -> LockData:
    """Read a lockfile for sync or export; ``LockFileError`` when it is missing or invalid.

    A PEP 751 lock's pins are selected by ``lock_markers`` on the target, so
    their environments over the matrix are not worked out.
    """
    read = read_lockfile(path, environments=False)
    if read.pylock is None:
        # pip reads relative paths in a requirements file from the working folder.
        packages = tuple(_absolute(p, Path.cwd()) for p in read.packages)
        return LockData(path=str(path), matrix=read.matrix, packages=packages,
                        sources=read.sources)
    parsed = read.pylock
    packages = tuple(
        attrs.evolve(_absolute(p, path.parent.resolve()), files=files)
        for p, files in zip(parsed.packages, parsed.lock_files)
    )
    return LockData(path=str(path), matrix=parsed.matrix, packages=packages,
                    sources=parsed.sources, lock_markers=parsed.lock_markers,
                    extras=parsed.extras, dependency_groups=parsed.dependency_groups,
                    default_groups=parsed.default_groups)


def _absolute(package: LockedPackage, base: Path) -> LockedPackage:
    """A local path pin as a ``file:`` URL (PEP 610 records URLs)."""
    url = package.url
    if not url or "://" in url or url.startswith(("file:", "git+", "hg+", "svn+", "bzr+")):
        return package
    return attrs.evolve(package, url=(base / Path(url).expanduser()).resolve().as_uri())


def merge_locks(datas: Sequence[LockData]) -> LockData:
    """Several locks as one: the union of their pins; conflicts surface on selection."""
    if len(datas) == 1:
        return datas[0]
    kinds = {d.is_pylock for d in datas}
    if len(kinds) > 1:
        raise LockFileError(", ".join(d.path for d in datas),
                            "cannot mix pylock.toml and requirements locks in one sync")
    seen: set[tuple[Any, ...]] = set()
    packages: list[LockedPackage] = []
    markers: list[Marker | None] = []
    for d in datas:
        for i, p in enumerate(d.packages):
            m = d.lock_markers[i] if d.lock_markers is not None else p.marker
            key = (p.name, p.version, p.url, str(m))
            if key in seen:
                continue
            seen.add(key)
            packages.append(p)
            markers.append(m)
    matrices = [d.matrix for d in datas if d.matrix is not None]
    first = datas[0]
    return LockData(
        path=", ".join(d.path for d in datas),
        matrix=matrices[0] if matrices else None,
        other_matrices=tuple(matrices[1:]),
        packages=tuple(packages),
        sources=_merge_sources([d.sources for d in datas]),
        lock_markers=tuple(markers) if first.is_pylock else None,
        extras=tuple(sorted({e for d in datas for e in d.extras})),
        dependency_groups=tuple(sorted({g for d in datas for g in d.dependency_groups})),
        default_groups=tuple(sorted({g for d in datas for g in d.default_groups})),
    )


def _merge_sources(all_sources: Sequence[Sources]) -> Sources:
    index = next((s.index_url for s in all_sources if s.index_url), None)
    extra: list[str] = []
    links: list[str] = []
    hosts: list[str] = []
    for s in all_sources:
        for u in ([s.index_url] if s.index_url and s.index_url != index else []) + list(
                s.extra_index_urls):
            if u not in extra:
                extra.append(u)
        links.extend(f for f in s.find_links if f not in links)
        hosts.extend(h for h in s.trusted_hosts if h not in hosts)
    return Sources(index_url=index, extra_index_urls=tuple(extra), find_links=tuple(links),
                   trusted_hosts=tuple(hosts))
