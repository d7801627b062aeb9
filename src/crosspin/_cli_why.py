"""``crosspin why NAME``: the chains from the roots to a package, per environment class.

Chains come from the lock alone: each pin's ``# via`` entries name its
parents (other pins, or the origins of root requirements such as ``-r
requirements.in``). In one environment, a parent counts only if that
environment selects it and, when the lock knows its per-environment edges
(a lock compiled in-process), only if its edge to the child exists there.
Environments whose chains come out identical are printed together, so a
30-environment matrix usually reads as two or three groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Optional

import click
from packaging.utils import canonicalize_name

from crosspin._cli_envs import describe_in_order
from crosspin.environments import Environment
from crosspin.errors import UsageError
from crosspin.lock import Lock, LockedPackage

__all__ = ["chains_to", "why_command"]

#: Chains printed per group; the rest are counted (a hub package has hundreds).
_MAX_CHAINS = 20


def chains_to(lock: Lock, name: str, env: Environment) -> list[tuple[str, ...]]:
    """Every chain ``(root origin, pin, ..., name==version)`` in ``env``, sorted."""
    wanted = canonicalize_name(name)
    selected = {p.name: p for p in lock.select(env)}
    if wanted not in selected:
        return []
    out: set[tuple[str, ...]] = set()

    def walk(pkg: LockedPackage, tail: tuple[str, ...], seen: frozenset[str]) -> None:
        if len(out) >= _MAX_CHAINS * 5:  # enough to show; the walk can explode
            return
        label = f"{pkg.name}=={pkg.version}"
        tail = (label, *tail)
        parents = pkg.via or ("(not required by anything: extra pin)",)
        for parent in parents:
            key = canonicalize_name(parent) if _is_name(parent) else None
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


def _filter(lock: Lock, python: Optional[str], platforms: Sequence[str]) -> list[Environment]:
    envs = list(lock.matrix.environments)
    if python:
        envs = [e for e in envs if python in (e.python_version, e.python_label)]
    if platforms:
        envs = [e for e in envs if e.platform.name in platforms]
    if not envs:
        raise UsageError(
            f"no environment of the lock matches --python {python or '*'} "
            f"--platform {','.join(platforms) or '*'}",
            hint=f"the lock's matrix is {lock.matrix.describe()}; run 'crosspin envs'",
        )
    return envs


@click.command("why")
@click.argument("name")
@click.argument("lockfile", required=False, default="requirements.txt",
                type=click.Path(dir_okay=False))
@click.option("--python", help="Only environments of this Python (3.12).")
@click.option("--platform", "platforms", multiple=True,
              help="Only environments of this platform (repeatable).")
def why_command(name: str, lockfile: str, python: Optional[str],
                platforms: tuple[str, ...]) -> None:
    """Show why NAME is in LOCKFILE: its chains from the roots, per environment group."""
    from crosspin._cli_check import load_lock

    lock = load_lock(Path(lockfile)).lock
    wanted = canonicalize_name(name)
    if not lock.for_name(wanted):
        raise UsageError(f"{name} is not in {lockfile}",
                         hint="check the spelling; 'pip' and 'setuptools' may be unpinned")
    envs = _filter(lock, python, platforms)
    groups: dict[tuple[tuple[str, ...], ...], list[str]] = {}
    absent: list[str] = []
    for env in envs:
        chains = tuple(chains_to(lock, wanted, env))
        if chains:
            groups.setdefault(chains, []).append(env.name)
        else:
            absent.append(env.name)
    for chains, names in groups.items():
        where = "; ".join(describe_in_order(names, lock.matrix))
        count = len(names)
        click.secho(f"{where} ({count} environment{'s' if count != 1 else ''}):", bold=True)
        for chain in chains[:_MAX_CHAINS]:
            click.echo("  " + " -> ".join(chain))
        if len(chains) > _MAX_CHAINS:
            click.echo(f"  ... and {len(chains) - _MAX_CHAINS} more chains")
    if absent:
        where = "; ".join(describe_in_order(absent, lock.matrix))
        click.echo(f"not installed in: {where} ({len(absent)} environment"
                   f"{'s' if len(absent) != 1 else ''})")
