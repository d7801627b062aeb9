"""Progress for people: a live bar on a terminal, nothing (or plain lines) elsewhere.

A live display only helps someone watching a terminal; in CI logs and pipes
it is noise, so it is shown only when stderr is a TTY, ``CI`` is unset,
``TERM`` is not ``dumb`` and ``-q`` was not given. ``rich`` is imported only
when a live display is actually shown, which keeps ``crosspin --version``
and piped runs light. ``NO_COLOR`` (https://no-color.org) turns colour off,
and ``-v`` adds one plain line per finished step in every mode.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

import attrs

__all__ = ["Reporter", "force_color", "interactive", "reporter", "use_color"]

#: ``--color`` (True) / ``--no-color`` (False) of this run; ``None`` decides by the terminal.
_forced: list[bool | None] = [None]


def force_color(value: bool | None) -> None:
    """Force colour on or off for the rest of this run (``None``: decide by the terminal)."""
    _forced[0] = value


def use_color(stream: TextIO | None = None) -> bool:
    """Whether to colour output on ``stream``: ``--color``, else a TTY and no ``NO_COLOR``."""
    if _forced[0] is not None:
        return _forced[0]
    stream = stream or sys.stderr
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return _isatty(stream) and os.environ.get("TERM") != "dumb"


def interactive(stream: TextIO | None = None, *, quiet: bool = False) -> bool:
    """Whether a live display suits ``stream``: a TTY outside CI, not ``-q``."""
    stream = stream or sys.stderr
    if quiet or os.environ.get("CI") or os.environ.get("TERM") == "dumb":
        return False
    return _isatty(stream)


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or replaced streams
        return False


@attrs.define(kw_only=True)
class Reporter:
    """Reports the steps of one long operation (resolving, downloading).

    ``start`` opens a task of ``total`` steps; ``advance`` marks one done
    and, with ``-v``, prints a plain line naming it; ``note`` prints a plain
    line when verbose, ``say`` one in every mode. ``advance`` may be called
    from worker threads (rich's progress updates take a lock). Without a
    live display every method but the plain lines is a no-op, so callers
    never branch on the mode.
    """

    verbose: int = 0
    quiet: bool = False
    stream: TextIO = attrs.field(factory=lambda: sys.stderr)
    _progress: Any = None
    _task: Any = None

    def start(self, description: str, total: int) -> None:
        """Begin a task of ``total`` steps (replaces the previous task)."""
        if self._progress is None:
            return
        if self._task is not None:
            self._progress.remove_task(self._task)
        self._task = self._progress.add_task(description, total=total, item="")

    def advance(self, item: str = "", *, detail: str = "") -> None:
        """One step done: ``item`` is what finished (shown live, and with -v)."""
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, advance=1, item=item)
        if self.verbose and item:
            self.note(f"{item}{f' ({detail})' if detail else ''}")

    def say(self, message: str) -> None:
        """A plain line in every mode but ``-q`` (above the live display, if any).

        For the rare events worth a line of their own, such as a build.
        """
        if self.quiet:
            return
        if self._progress is not None:
            self._progress.console.print(message, markup=False, highlight=False)
        else:
            print(message, file=self.stream, flush=True)

    def note(self, message: str) -> None:
        """A plain line when ``-v`` was given (above the live display, if any)."""
        if self.verbose:
            self.say(message)


@contextmanager
def reporter(*, quiet: bool = False, verbose: int = 0,
             stream: TextIO | None = None) -> Iterator[Reporter]:
    """A :class:`Reporter` with a live display when :func:`interactive` says so."""
    out = stream or sys.stderr
    if not interactive(out, quiet=quiet):
        yield Reporter(verbose=0 if quiet else verbose, quiet=quiet, stream=out)
        return
    # lazy: rich is only needed for a live display on a terminal.
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(file=out, no_color=not use_color(out), highlight=False)
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("[dim]{task.fields[item]}"),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        yield Reporter(verbose=verbose, stream=out, progress=progress)
