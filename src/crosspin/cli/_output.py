"""Printing for people and writing output files: the CLI's edge to the terminal and disk."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Optional

import click

from crosspin.lockfiles import LoadedLock

__all__ = ["echo", "report_ok", "write_atomically"]


def echo(message: Any = "", *, err: bool = True) -> None:
    """Print a line for people (stderr by default so stdout stays data)."""
    click.echo(message, err=err)


def report_ok(loaded: LoadedLock, note: Optional[str], quiet: bool) -> None:
    """Say the lock is consistent (and current, unless ``note`` says why that was not checked)."""
    if quiet:
        return
    count = len(loaded.lock.matrix)
    plural = "s" if count != 1 else ""
    click.echo(f"{loaded.path}: consistent in {count} environment{plural}"
               + ("" if note else " and up to date with its inputs"), err=True)
    if note:
        click.echo(f"note: {loaded.path} {note}", err=True)


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step: never a half-written lock."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
