"""``crosspin why --not-newest NAME``: why some environments got less than the newest release.

The lock's recorded compile runs again in memory (nothing is written, the
memo is not used, the lock's own pins are the existing pins as on any
rerun) and its held-back report (``resolver._held``) is kept for ``NAME``:
per environment, the constraint that rules the newest release out there.
"""

from __future__ import annotations

import shlex

import attrs
from packaging.utils import canonicalize_name

from crosspin.errors import UsageError
from crosspin.lockfiles import LoadedLock
from crosspin.pipeline._check import ParseCommand, _cwd, compiled_in
from crosspin.pipeline._run import run_compile
from crosspin.settings import Access, Tuning

__all__ = ["not_newest"]

_PREFIX = "held back: "


class _Listener:
    """A reporter that keeps the held-back notes and shows nothing."""

    def __init__(self) -> None:
        self.held: list[str] = []

    def start(self, description: str, total: int) -> None:
        """Progress is not shown."""

    def advance(self, item: str = "", *, detail: str = "") -> None:
        """Progress is not shown."""

    def note(self, message: str) -> None:
        """Keep the held-back lines."""
        if message.startswith(_PREFIX):
            self.held.append(message[len(_PREFIX):])


def not_newest(
    loaded: LoadedLock, name: str, parse_command: ParseCommand, *, access: Access, tuning: Tuning
) -> list[str]:
    """``name 1.0 (newest 2.0) on <environments>: <why>`` lines for ``name`` (empty: newest).

    ``access`` replaces the recorded command's cache and network switches
    where it sets them (``--offline``, ``--cache-dir``).
    """
    if loaded.command is None:
        raise UsageError(f"{loaded.path} records no compile command to run again",
                         hint="compile it with crosspin, then ask again")
    recorded = parse_command(shlex.split(loaded.command)[2:])  # drop "crosspin compile"
    given = recorded.access
    options = attrs.evolve(
        recorded,
        access=attrs.evolve(given, offline=access.offline or given.offline,
                            cache_dir=access.cache_dir or given.cache_dir),
        tuning=attrs.evolve(tuning, memo=False),
    )
    listener = _Listener()
    with _cwd(compiled_in(loaded, recorded)):
        run_compile(options, reporter=listener)
    wanted = canonicalize_name(name)
    return [line for line in listener.held if line.split(" ", 1)[0] == wanted]
