"""``crosspin envs``: a lock's matrix and its environment classes.

An *environment class* is a set of environments whose markers select exactly
the same pins: they install the same thing, so a test run on one of them
stands for all. Knowing the classes tells a release pipeline how few CI
jobs cover the whole matrix.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import attrs
import click

from crosspin.environments import Environment, Matrix, describe_environments
from crosspin.lock import Lock

__all__ = ["EnvironmentClass", "describe_in_order", "environment_classes", "envs_command"]


@attrs.frozen(kw_only=True)
class EnvironmentClass:
    """Environments (in matrix order) that select the same ``name==version`` pins."""

    environments: tuple[str, ...]
    pins: frozenset[str]


def environment_classes(lock: Lock) -> list[EnvironmentClass]:
    """The lock's environment classes, largest first, then in matrix order."""
    from crosspin.checker import selected_sets

    groups: dict[frozenset[str], list[str]] = {}
    for env, pins in selected_sets(lock).items():
        groups.setdefault(pins, []).append(env)
    classes = [EnvironmentClass(environments=tuple(envs), pins=pins)
               for pins, envs in groups.items()]
    order = {e.name: i for i, e in enumerate(lock.matrix.environments)}
    return sorted(classes, key=lambda c: (-len(c.environments), order[c.environments[0]]))


def describe_in_order(names: Sequence[str], matrix: Matrix) -> list[str]:
    """:func:`describe_environments`, single environments sorted by Python then platform.

    ``3.9-linux-x86_64`` comes before ``3.10-linux-x86_64``: people scan
    these lists by version, and matrix order (newest Python first) or text
    order (``3.10`` before ``3.9``) reads as shuffled.
    """
    by_name = {e.name: e for e in matrix.environments}
    known = [n for n in dict.fromkeys(names) if n in by_name]
    if len(known) == len(set(names)) and len(known) <= 3:
        return sorted(known, key=lambda n: _env_key(by_name[n]))
    return describe_environments(names, matrix)


def _env_key(env: Environment) -> tuple[tuple[int, int], int, str]:
    return env.python, env.patch_floor, env.platform.name


@click.command("envs")
@click.argument("lockfile", required=False, default="requirements.txt",
                type=click.Path(dir_okay=False))
@click.option("--list", "list_all", is_flag=True, help="Also list every environment by name.")
def envs_command(lockfile: str, list_all: bool) -> None:
    """Show LOCKFILE's matrix and its environment classes (same pins, same install)."""
    from crosspin._cli_check import load_lock

    lock = load_lock(Path(lockfile)).lock
    matrix = lock.matrix
    click.echo(f"matrix: {matrix.describe()}")
    click.echo(f"environments: {len(matrix)}")
    if list_all:
        for env in sorted(matrix.environments, key=_env_key):
            click.echo(f"  {env.name}")
    classes = environment_classes(lock)
    click.echo(f"classes: {len(classes)} (environments that install the same pins)")
    for number, cls in enumerate(classes, 1):
        where = "; ".join(describe_in_order(cls.environments, matrix))
        count = len(cls.environments)
        click.echo(f"  {number}. {len(cls.pins)} pins, {count} environment"
                   f"{'s' if count != 1 else ''}: {where}")
