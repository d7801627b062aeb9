"""Removing an installed distribution by its RECORD."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Sequence
from pathlib import Path

from crosspin.errors import SyncError
from crosspin.sync._installed import InstalledDist

__all__ = ["uninstall"]


def _inside(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == r or r in path.parents for r in roots)


def uninstall(dist: InstalledDist, *, roots: Sequence[Path], keep: Sequence[Path] = ()) -> None:
    """Remove the files RECORD lists, the dist-info and emptied folders.

    Every path must resolve inside ``roots`` (the target's prefix): one
    that does not makes the whole removal refused before anything is
    deleted. Folders in ``keep`` (the scheme's) are never pruned.
    """
    site = dist.dist_info.parent
    record = dist.dist_info / "RECORD"
    resolved_roots = [r.resolve() for r in roots]
    try:
        with record.open(encoding="utf-8", newline="") as fh:
            entries = [row[0] for row in csv.reader(fh) if row and row[0]]
    except OSError:
        raise SyncError(f"cannot uninstall {dist.name}: {record} is missing",
                        hint="remove it with pip, then run sync again") from None
    paths: list[Path] = []
    for entry in entries:
        # Resolve the parent only: a symlinked file is removed, not its target.
        raw = site / entry
        full = raw.parent.resolve() / raw.name
        if not _inside(full, resolved_roots):
            raise SyncError(f"refusing to uninstall {dist.name}: its RECORD names {entry}, "
                            "outside the environment")
        paths.append(full)
    folders: set[Path] = set()
    for path in paths:
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
                raise SyncError(f"cannot remove {c}: {exc.strerror or exc}") from None
        folders.add(path.parent)
    if dist.dist_info.is_dir():
        shutil.rmtree(dist.dist_info, ignore_errors=True)
    site_resolved = site.resolve()
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        _prune(folder, stop=[*resolved_roots, site_resolved, *(k.resolve() for k in keep)])


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
