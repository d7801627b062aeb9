"""Printing for people: the lines every command shares."""

from __future__ import annotations

from typing import Any

import click

from crosspin.lockfiles import LoadedLock

__all__ = ["echo", "report_ok"]


def echo(message: Any = "", *, err: bool = True) -> None:
    """Print a line for people (stderr by default so stdout stays data)."""
    click.echo(message, err=err)


def report_ok(loaded: LoadedLock, note: str | None, quiet: bool) -> None:
    """Say the lock is consistent (and current, unless ``note`` says why that was not checked)."""
    if quiet:
        return
    count = len(loaded.lock.matrix)
    plural = "s" if count != 1 else ""
    click.echo(f"{loaded.path}: consistent in {count} environment{plural}"
               + ("" if note else " and up to date with its inputs"), err=True)
    if note:
        click.echo(f"note: {loaded.path} {note}", err=True)
