"""Lockfiles: ``requirements.txt`` (pip-compatible) and PEP 751 ``pylock.toml``, read and rendered.

One subpackage per format, each with a pure ``render(lock, options) -> str``
and a ``read(text, path)``: :mod:`crosspin.lockfiles.requirements` and
:mod:`crosspin.lockfiles.pylock`. The functions here are the only ones that
touch the disk: telling the format from a file name and reading a lock
whole (:func:`read_lockfile`, the one reader; ``load_lock`` for
check/why/envs, ``read_existing`` for the pins compile keeps, ``read_lock``
for sync and export, several merged by ``merge_locks``).
"""

from __future__ import annotations

from crosspin.lockfiles._load import (
    LoadedLock,
    LockFile,
    LockFormat,
    format_of,
    is_pylock_path,
    load_lock,
    read_existing,
    read_lock_text,
    read_lockfile,
    recorded_command,
)
from crosspin.lockfiles._lockdata import LockData, merge_locks, read_lock

__all__ = [
    "LoadedLock",
    "LockData",
    "LockFile",
    "LockFormat",
    "format_of",
    "is_pylock_path",
    "load_lock",
    "merge_locks",
    "read_existing",
    "read_lock",
    "read_lock_text",
    "read_lockfile",
    "recorded_command",
]
