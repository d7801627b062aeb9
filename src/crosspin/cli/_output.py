"""Printing for people, and writing output files: the lines and files every command shares."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from crosspin.cli._progress import force_color
from crosspin.errors import OutputError
from crosspin.index import atomic_write
from crosspin.lockfiles import LoadedLock

__all__ = ["echo", "report_ok", "set_color", "write_output"]


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


def set_color(value: bool | None) -> None:
    """``--color``/``--no-color``: force colour on or off for this run (``None``: decide)."""
    force_color(value)


def write_output(path: Path, text: str, *, newline: str = "\n") -> None:
    """Write a lock or export with :func:`crosspin.index.atomic_write`; a failure (a full
    disk, a read-only folder, a target that is not a file) is one
    :class:`~crosspin.errors.OutputError` line, the previous file untouched.

    ``newline`` ends every line (``text`` uses ``\\n``).
    """
    try:
        atomic_write(path, text.replace("\n", newline).encode("utf-8"))
    except OSError as exc:
        hint = None
        if exc.strerror == "not a regular file":
            hint = "write to a file, to stdout with '-o -', or use --dry-run"
        raise OutputError(str(path), exc.strerror or str(exc), hint=hint) from None
