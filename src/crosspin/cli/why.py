"""``crosspin why NAME``: the chains from the roots to a package, per environment class.

Chains come from the lock alone (:func:`crosspin.lock.chains_to`).
Environments whose chains come out identical are printed together, so a
30-environment matrix usually reads as two or three groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click
from packaging.utils import canonicalize_name

from crosspin.environments import Environment, describe_in_order
from crosspin.errors import UsageError
from crosspin.lock import MAX_CHAINS, Lock, chains_to
from crosspin.lockfiles import load_lock

__all__ = ["why_command"]


def _filter(lock: Lock, python: str | None, platforms: Sequence[str]) -> list[Environment]:
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
def why_command(name: str, lockfile: str, python: str | None,
                platforms: tuple[str, ...]) -> None:
    """Show why NAME is in LOCKFILE: its chains from the roots, per environment group."""
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
        for chain in chains[:MAX_CHAINS]:
            click.echo("  " + " -> ".join(chain))
        if len(chains) > MAX_CHAINS:
            click.echo(f"  ... and {len(chains) - MAX_CHAINS} more chains")
    if absent:
        where = "; ".join(describe_in_order(absent, lock.matrix))
        click.echo(f"not installed in: {where} ({len(absent)} environment"
                   f"{'s' if len(absent) != 1 else ''})")
