"""Removing an installed distribution by its RECORD: planned (checked) first, then done.

:func:`plan_removal` reads and checks everything a removal needs -- RECORD
present, readable, under its size cap, every path inside the environment
after resolving links -- without changing anything, so a sync plans every
removal before it performs the first. :func:`remove` then only deletes.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Sequence
from pathlib import Path

import attrs

from crosspin.errors import SyncError
from crosspin.sync._installed import InstalledDist

__all__ = ["Removal", "plan_removal", "read_record_paths", "remove"]

#: The most an installed RECORD may hold.
_MAX_RECORD = 16 << 20


@attrs.frozen(kw_only=True)
class Removal:
    """One checked removal: the files to delete (absolute, links not followed)."""

    dist: InstalledDist
    paths: tuple[Path, ...]
    stop: tuple[Path, ...]


def _inside(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == r or r in path.parents for r in roots)


def read_record_paths(dist_info: Path) -> list[Path]:
    """The files an installed RECORD lists, absolute, each parent resolved (the file itself not).

    ``OSError`` when RECORD is missing or unreadable, ``ValueError`` when it
    is too large or does not parse.
    """
    record = dist_info / "RECORD"
    if record.stat().st_size > _MAX_RECORD:
        raise ValueError(f"{record} is larger than {_MAX_RECORD >> 20} MiB")
    with record.open(encoding="utf-8", newline="") as fh:
        try:
            entries = [row[0] for row in csv.reader(fh) if row and row[0]]
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ValueError(f"{record} cannot be read: {exc}") from None
    site = dist_info.parent
    paths = []
    for entry in entries:
        # Resolve the parent only: a symlinked file is removed, not its target.
        raw = site / entry
        paths.append(raw.parent.resolve() / raw.name)
    return paths


def plan_removal(
    dist: InstalledDist, *, roots: Sequence[Path], keep: Sequence[Path] = ()
) -> Removal:
    """Check that ``dist`` can be removed; nothing is deleted.

    Its RECORD must be present and readable, and every path it lists must
    resolve inside ``roots`` (the target's prefix). Folders in ``keep``
    (the scheme's) are never pruned afterwards.
    """
    pin = f"{dist.name}=={dist.raw_version}"
    try:
        paths = read_record_paths(dist.dist_info)
    except FileNotFoundError:
        raise SyncError(f"cannot uninstall {pin}: {dist.dist_info / 'RECORD'} is missing",
                        hint="remove it with pip (or delete its files by hand), "
                        "then run sync again") from None
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise SyncError(f"cannot uninstall {pin}: its RECORD cannot be read ({reason})",
                        hint="remove it with pip, then run sync again") from None
    resolved_roots = [r.resolve() for r in roots]
    for path in paths:
        if not _inside(path, resolved_roots):
            raise SyncError(f"refusing to uninstall {pin}: its RECORD names {path}, "
                            "outside the environment")
    stop = (*resolved_roots, dist.dist_info.parent.resolve(), *(k.resolve() for k in keep))
    return Removal(dist=dist, paths=tuple(paths), stop=stop)


def remove(removal: Removal) -> None:
    """Delete what :func:`plan_removal` checked: the files, the dist-info, emptied folders."""
    folders: set[Path] = set()
    for path in sorted(removal.paths, key=lambda p: _last(p, removal.dist.dist_info)):
        candidates = [path]
        if path.suffix == ".py":
            cache = path.parent / "__pycache__"
            if cache.is_dir():
                candidates.extend(cache.glob(f"{path.stem}.*.pyc"))
                folders.add(cache)
        for c in candidates:
            try:
                c.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise SyncError(f"cannot remove {c}: {exc.strerror or exc}",
                                hint="run sync again: it resumes from what is installed"
                                ) from None
        folders.add(path.parent)
    if removal.dist.dist_info.is_dir():
        shutil.rmtree(removal.dist.dist_info, ignore_errors=True)
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        _prune(folder, stop=removal.stop)


def _last(path: Path, dist_info: Path) -> int:
    """Sort key: the dist-info's METADATA, then its RECORD, go last.

    A kill before the end then leaves either a RECORD (the rerun removes the
    rest by it) or a folder without METADATA whose other files are gone
    (a leftover the rerun deletes).
    """
    if path.parent.name != dist_info.name:
        return 0
    return {"METADATA": 2, "RECORD": 3}.get(path.name, 1)


def _prune(folder: Path, *, stop: Sequence[Path]) -> None:
    """Remove ``folder`` and its parents while they are empty (never a root)."""
    current = folder
    while current not in stop and _inside(current, stop):
        try:
            if any(current.iterdir()):
                return
            current.rmdir()
        except OSError:
            return
        current = current.parent
