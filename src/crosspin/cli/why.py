"""``crosspin why NAME``: the chains from the roots to a package, per environment class.

Chains come from the lock alone (:func:`crosspin.lock.chains_to`).
Environments whose chains come out identical are printed together, so a
30-environment matrix usually reads as two or three groups.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import click
from packaging.utils import canonicalize_name

from crosspin.cli.check import _parse_compile_args
from crosspin.environments import Environment, describe_in_order
from crosspin.errors import UsageError
from crosspin.lock import MAX_CHAINS, Lock, chains_to
from crosspin.lockfiles import LoadedLock, load_lock
from crosspin.pipeline import not_newest
from crosspin.settings import Access, Tuning

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
@click.option("--not-newest", is_flag=True,
              help="Say why some environments got an older NAME than its newest release "
                   "(runs the lock's compile again, in memory; reads the index).")
@click.option("--offline", is_flag=True, help="With --not-newest: use only the cache.")
@click.option("--cache-dir", type=click.Path(file_okay=False),
              help="With --not-newest: cache location.")
def why_command(name: str, lockfile: str, python: str | None, platforms: tuple[str, ...],
                not_newest: bool, offline: bool, cache_dir: str | None) -> None:
    """Show why NAME is in LOCKFILE: its chains from the roots, per environment group.

    With --not-newest: where NAME is below its newest release, which
    constraint held it there, per environment (a Requires-Python, no wheel
    for the platform or its glibc/macOS floor, a dependency's bound naming
    the dependent, a constraint, the existing pin).
    """
    loaded = load_lock(Path(lockfile))
    lock = loaded.lock
    wanted = canonicalize_name(name)
    if not lock.for_name(wanted):
        raise UsageError(f"{name} is not in {lockfile}",
                         hint="check the spelling; 'pip' and 'setuptools' may be unpinned")
    if not_newest:
        if python or platforms:
            raise UsageError("--not-newest reports every environment of the lock",
                             hint="leave out --python and --platform")
        _not_newest(loaded, wanted, Access(offline=offline, cache_dir=cache_dir))
        return
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


def _not_newest(loaded: LoadedLock, name: str, access: Access) -> None:
    """Print where ``name`` is below its newest release and why (``--not-newest``)."""
    lines = not_newest(loaded, name, _parse_compile_args, access=access,
                       tuning=Tuning.from_environ(os.environ))
    if not lines:
        click.echo(f"{name} is at its newest release wherever the lock installs it")
    for line in lines:
        click.echo(line)
