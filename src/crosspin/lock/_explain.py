"""Questions people ask of a lock: which environments install the same, and why a package.

An *environment class* is a set of environments whose markers select exactly
the same pins: they install the same thing, so a test run on one of them
stands for all (``crosspin envs``). The *chains* to a package are the paths
from the roots to it in one environment (``crosspin why``), read from the
lock alone: each pin's ``# via`` entries name its parents (other pins, or
the origins of root requirements such as ``-r requirements.in``). In one
environment a parent counts only if that environment selects it and, when
the lock knows its per-environment edges (a lock compiled in-process), only
if its edge to the child exists there.
"""

from __future__ import annotations

import attrs
from packaging.utils import canonicalize_name

from crosspin.environments import Environment
from crosspin.lock._checker import selected_sets
from crosspin.lock._model import Lock, LockedPackage

__all__ = ["MAX_CHAINS", "EnvironmentClass", "chains_to", "environment_classes"]

#: Chains worth showing per group; the rest are counted (a hub package has hundreds).
MAX_CHAINS = 20


@attrs.frozen(kw_only=True)
class EnvironmentClass:
    """Environments (in matrix order) that select the same ``name==version`` pins."""

    environments: tuple[str, ...]
    pins: frozenset[str]


def environment_classes(lock: Lock) -> list[EnvironmentClass]:
    """The lock's environment classes, largest first, then in matrix order."""
    groups: dict[frozenset[str], list[str]] = {}
    for env, pins in selected_sets(lock).items():
        groups.setdefault(pins, []).append(env)
    classes = [EnvironmentClass(environments=tuple(envs), pins=pins)
               for pins, envs in groups.items()]
    order = {e.name: i for i, e in enumerate(lock.matrix.environments)}
    return sorted(classes, key=lambda c: (-len(c.environments), order[c.environments[0]]))


def chains_to(lock: Lock, name: str, env: Environment) -> list[tuple[str, ...]]:
    """Every chain ``(root origin, pin, ..., name==version)`` in ``env``, sorted."""
    wanted = canonicalize_name(name)
    selected = {p.name: p for p in lock.select(env)}
    if wanted not in selected:
        return []
    pinned = {p.name for p in lock.packages}
    out: set[tuple[str, ...]] = set()

    def walk(pkg: LockedPackage, tail: tuple[str, ...], seen: frozenset[str]) -> None:
        if len(out) >= MAX_CHAINS * 5:  # enough to show; the walk can explode
            return
        label = f"{pkg.name}=={pkg.version}"
        tail = (label, *tail)
        parents = pkg.via or ("(not required by anything: extra pin)",)
        for parent in parents:
            # "pyproject.toml" or "setup.py" read like names: a parent that
            # no pin of the lock carries is where a root requirement came from
            key = canonicalize_name(parent) if _is_name(parent) else None
            if key is not None and key not in pinned:
                key = None
            if key is not None and key in selected:
                if key not in seen and _edge_here(selected[key], pkg.name, env):
                    walk(selected[key], tail, seen | {key})
            elif key is None and not parent.startswith("-c "):
                # A constraint file ("-c main.txt") pins a package, never requires it.
                out.add((parent, *tail))

    walk(selected[wanted], (), frozenset({wanted}))
    return sorted(out, key=lambda c: (len(c), c))


def _edge_here(parent: LockedPackage, child: str, env: Environment) -> bool:
    """Whether ``parent -> child`` exists in ``env``, as far as the lock knows.

    A lock compiled in-process knows each edge's environments; a lock read
    back from requirements.txt has only ``# via`` lines, so there a parent
    that ``env`` selects is taken to need the child there.
    """
    if not parent.dependency_environments:
        return True
    return parent.depends_on(child, env)


def _is_name(via: str) -> bool:
    # Root origins look like "-r requirements.in", "-c constraints.txt",
    # "pyproject.toml (project)" or "app (pyproject.toml)"; names have no blanks.
    return " " not in via and not via.startswith("-")
