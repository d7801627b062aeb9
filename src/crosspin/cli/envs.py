"""``crosspin envs``: a lock's matrix and its environment classes.

An *environment class* is a set of environments whose markers select exactly
the same pins (:func:`crosspin.lock.environment_classes`): they install the
same thing, so a test run on one of them stands for all. Knowing the classes
tells a release pipeline how few CI jobs cover the whole matrix.
"""

from __future__ import annotations

from pathlib import Path

import click

from crosspin.environments import describe_in_order, python_first
from crosspin.lock import environment_classes
from crosspin.lockfiles import load_lock

__all__ = ["envs_command"]


@click.command("envs")
@click.argument("lockfile", required=False, default="requirements.txt",
                type=click.Path(dir_okay=False))
@click.option("--list", "list_all", is_flag=True, help="Also list every environment by name.")
def envs_command(lockfile: str, list_all: bool) -> None:
    """Show LOCKFILE's matrix and its environment classes (same pins, same install)."""
    lock = load_lock(Path(lockfile)).lock
    matrix = lock.matrix
    click.echo(f"matrix: {matrix.describe()}")
    click.echo(f"environments: {len(matrix)}")
    if list_all:
        for env in sorted(matrix.environments, key=python_first):
            click.echo(f"  {env.name}")
    classes = environment_classes(lock)
    click.echo(f"classes: {len(classes)} (environments that install the same pins)")
    for number, cls in enumerate(classes, 1):
        where = "; ".join(describe_in_order(cls.environments, matrix))
        count = len(cls.environments)
        click.echo(f"  {number}. {len(cls.pins)} pins, {count} environment"
                   f"{'s' if count != 1 else ''}: {where}")
