"""A byte-level picture of a virtual environment, for "nothing changed" assertions.

:func:`snapshot` walks a venv without following links and records every
entry as ``(kind, mode, content)``: a file's sha256, a link's target, nothing
for a folder. Links that lead outside the venv (``bin/python`` -> the base
interpreter, a linked folder) are followed once and their targets (a linked
folder with its contents) recorded too, under ``"<outside>/<absolute path>"``:
a sync that writes *through* such a link changes the base interpreter, not
the venv, and must still be caught::

    before = snapshot(venv)
    ...  # a sync that must fail
    assert_unchanged(before, snapshot(venv))

Bytecode caches (``__pycache__``) are left out: the interpreter writes them
whenever it imports something, which is not a sync changing the venv.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import Optional

__all__ = ["Entry", "Snapshot", "assert_unchanged", "describe_changes", "snapshot"]

#: ``(kind, permission bits, sha256 | link target | None)``.
Entry = tuple[str, int, Optional[str]]
Snapshot = dict[str, Entry]

OUTSIDE = "<outside>"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _entry(path: Path) -> Entry:
    info = path.lstat()
    mode = stat.S_IMODE(info.st_mode)
    if stat.S_ISLNK(info.st_mode):
        return ("link", mode, str(path.readlink()))
    if stat.S_ISDIR(info.st_mode):
        return ("dir", mode, None)
    if stat.S_ISREG(info.st_mode):
        return ("file", mode, _sha256(path))
    return ("other", mode, None)


def snapshot(root: Path, *, outside: bool = True) -> Snapshot:
    """Every entry under ``root`` by relative POSIX path; with ``outside``, link targets too."""
    root = Path(root)
    found: Snapshot = {}
    reached: set[Path] = set()
    resolved_root = root.resolve()
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in [*dirs, *files]:
            path = Path(folder, name)
            found[path.relative_to(root).as_posix()] = _entry(path)
            if outside and path.is_symlink():
                target = path.resolve()
                if target != resolved_root and resolved_root not in target.parents:
                    reached.add(target)
    for target in sorted(reached):
        found[f"{OUTSIDE}{target.as_posix()}"] = (
            _entry(target) if target.exists() else ("missing", 0, None))
        if target.is_dir():  # a linked folder: what is inside it can be written through it
            for path in sorted(target.rglob("*")):
                found[f"{OUTSIDE}{path.as_posix()}"] = _entry(path)
    return found


def describe_changes(before: Snapshot, after: Snapshot, limit: int = 20) -> list[str]:
    """``+ path``, ``- path``, ``~ path`` lines for what differs (at most ``limit``)."""
    lines = [f"+ {p}" for p in sorted(after.keys() - before.keys())]
    lines += [f"- {p}" for p in sorted(before.keys() - after.keys())]
    lines += [f"~ {p}: {before[p]} -> {after[p]}"
              for p in sorted(before.keys() & after.keys()) if before[p] != after[p]]
    return lines[:limit] + ([f"... {len(lines) - limit} more"] if len(lines) > limit else [])


def assert_unchanged(before: Snapshot, after: Snapshot) -> None:
    """Fail with the first differences when two snapshots are not identical."""
    changes = describe_changes(before, after)
    assert not changes, "the environment changed:\n" + "\n".join(changes)
