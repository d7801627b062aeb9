"""Which extras and dependency groups reach each pin, as PEP 751 markers.

One ``pylock.toml`` serves the base install and every extra and group at
once (PEP 751 ``extras`` / ``dependency_groups`` marker variables). The lock
knows, for each pin, its parents and the origins of the root requirements
that name it (``LockedPackage.via``); walking from the roots gives each pin
its *reach labels*: reached from a base root means unconditional, reached
only from extra ``E`` roots means ``'E' in extras``, only from group ``G``
means ``'G' in dependency_groups``. The walk is done per environment, over
the pins that environment selects, so a package that is a base dependency
on Linux and an extra's on Windows gets a marker that says exactly that.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

from crosspin.environments import Environment, Matrix
from crosspin.lock import Lock, LockedPackage
from crosspin.markers import conjoin, disjoin, marker_for

__all__ = ["BASE", "Label", "label_of_origin", "reach_markers", "root_labels"]

#: A reach label: ``BASE``, ``("extra", name)`` or ``("group", name)``.
Label = tuple[str, str]

#: The label of requirements every install gets.
BASE: Label = ("base", "")

_EXTRA = re.compile(r"::optional-dependencies\.([^:]+)$")
_GROUP = re.compile(r"::dependency-groups\.([^:]+)$")


def label_of_origin(origin: str) -> Label:
    """The reach label of a root requirement's origin string.

    ``pyproject.toml::optional-dependencies.test`` is extra ``test``,
    ``pyproject.toml::dependency-groups.dev`` group ``dev``; anything else
    (``pyproject.toml``, ``-r requirements.in``) is a base requirement.
    """
    m = _EXTRA.search(origin)
    if m:
        return ("extra", canonicalize_name(m.group(1)))
    m = _GROUP.search(origin)
    if m:
        return ("group", canonicalize_name(m.group(1)))
    return BASE


def root_labels(lock: Lock) -> tuple[list[str], list[str]]:
    """Sorted extras and dependency groups that some root requirement comes from."""
    names = {p.name for p in lock.packages}
    extras: set[str] = set()
    groups: set[str] = set()
    for p in lock.packages:
        for via in p.via:
            if via in names:
                continue
            kind, name = label_of_origin(via)
            if kind == "extra":
                extras.add(name)
            elif kind == "group":
                groups.add(name)
    return sorted(extras), sorted(groups)


def _label_marker(labels: frozenset[Label]) -> Marker | None:
    if BASE in labels or not labels:
        return None
    parts = []
    for kind, name in sorted(labels):
        variable = "extras" if kind == "extra" else "dependency_groups"
        parts.append(Marker(f"'{name}' in {variable}"))
    return disjoin(*parts)


def _env_sets(lock: Lock) -> dict[int, list[Environment]]:
    """Index of each package in ``lock.packages`` -> environments that select it."""
    return {
        i: [e for e in lock.matrix.environments if p.applies_to(e)]
        for i, p in enumerate(lock.packages)
    }


def _walk(
    lock: Lock,
    env: Environment,
    selected: Sequence[int],
    root_markers: Mapping[str, Sequence[Requirement]],
) -> dict[int, frozenset[Label]]:
    """Reach labels of each selected package in one environment (a fixed point)."""
    by_name = {lock.packages[i].name: i for i in selected}
    names = {p.name for p in lock.packages}
    labels: dict[int, set[Label]] = {i: set() for i in selected}
    values = dict(env.marker_environment, extra="")
    for i in selected:
        p = lock.packages[i]
        for via in p.via:
            if via in names:
                continue  # a parent package, not a root origin
            if via.startswith("-c "):
                continue  # a constraint file pins it but reaches nothing
            reqs = root_markers.get(via)
            if reqs is not None and not any(
                canonicalize_name(r.name) == p.name
                and (r.marker is None or r.marker.evaluate(values))
                for r in reqs
            ):
                continue  # this origin names the package only in other environments
            labels[i].add(label_of_origin(via))
    changed = True
    while changed:
        changed = False
        for i in selected:
            p = lock.packages[i]
            for parent in p.via:
                j = by_name.get(NormalizedName(parent))
                # Only edges present in this environment: an edge that exists
                # only on Windows must not carry a label on Linux.
                if j is None or j == i or not lock.packages[j].depends_on(p.name, env):
                    continue
                new = labels[j] - labels[i]
                if new:
                    labels[i] |= new
                    changed = True
    return {i: frozenset(v) for i, v in labels.items()}


def reach_markers(
    lock: Lock, root_markers: Mapping[str, Sequence[Requirement]] | None = None
) -> list[Marker | None]:
    """The PEP 751 marker of each package of ``lock`` (same order).

    Each marker is the package's environment marker ``and`` the extras and
    groups that reach it there. ``root_markers`` (origin -> the root
    requirements read from it) lets a root's own marker count: a root
    ``a; sys_platform == 'win32'`` reaches ``a`` on Windows only. Without
    it, every origin in ``via`` is taken to reach the package everywhere
    the package is selected.
    """
    roots = dict(root_markers or {})
    env_sets = _env_sets(lock)
    per_env: dict[int, dict[str, frozenset[Label]]] = {i: {} for i in env_sets}
    for env in lock.matrix.environments:
        selected = [i for i, envs in env_sets.items() if env in envs]
        for i, labels in _walk(lock, env, selected, roots).items():
            per_env[i][env.name] = labels
    out: list[Marker | None] = []
    for i, p in enumerate(lock.packages):
        out.append(_package_marker(p, lock.matrix, per_env[i]))
    return out


def _package_marker(
    package: LockedPackage, matrix: Matrix, labels_by_env: Mapping[str, frozenset[Label]]
) -> Marker | None:
    """``or`` over reach labels of (where the label reaches ``and`` the label).

    A pin is installed in an environment exactly when one of the labels
    that reach it there is selected (the base label always is), so this
    is exact, and reads as ``"dev" in dependency_groups or (sys_platform
    == "win32" and "test" in extras)``.
    """
    where: dict[Label, set[str]] = {}
    for env_name, labels in labels_by_env.items():
        for label in labels or {BASE}:
            where.setdefault(label, set()).add(env_name)
    everywhere = set(labels_by_env)
    if not where or where.get(BASE) == everywhere:
        return package.marker
    parts: list[Marker | None] = []
    for label in sorted(where):
        envs = where[label]
        try:
            env_marker = package.marker if envs == everywhere else marker_for(envs, matrix)
        except ValueError:
            # Environments no marker can tell apart resolve alike: widen.
            env_marker = package.marker
        parts.append(conjoin(env_marker, _label_marker(frozenset({label}))))
    return disjoin(*parts)
