"""Unpacking sdists safely: one place decides what an archive may contain.

Used to read an sdist's metadata (``metadata``) and to build it (``sync``).
Only plain files and folders inside the destination are accepted: no
absolute paths, no ``..``, no drive letters, no links or devices.
"""

from __future__ import annotations

import sys
import tarfile
import zipfile
from pathlib import Path

from crosspin.errors import BuildError

__all__ = ["unpack_sdist"]


def unpack_sdist(archive: Path, dest: Path, name: str) -> Path:
    """Unpack ``archive`` into ``dest``; return the project folder inside it.

    ``name`` (the package) is used in the :class:`BuildError` raised for an
    unsafe member, before anything is written.
    """
    dest.mkdir(parents=True, exist_ok=True)
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            for entry in zf.namelist():
                _check_member(entry, name)
            zf.extractall(dest)
    else:
        with tarfile.open(archive) as tf:
            for member in tf.getmembers():
                _check_member(member.name, name)
                if not (member.isfile() or member.isdir()):
                    raise BuildError(name, f"sdist member {member.name!r} is not a plain file")
            if sys.version_info >= (3, 12):
                tf.extractall(dest, filter="data")
            else:
                tf.extractall(dest)
    entries = list(dest.iterdir())
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return dest


def _check_member(member: str, name: str) -> None:
    parts = member.replace("\\", "/").split("/")
    if member.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
        raise BuildError(name, f"sdist member {member!r} points outside the archive")
