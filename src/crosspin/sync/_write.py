"""Writing checked placements into the target: link or copy, never through a link.

Every file lands by an operation that replaces a name and never opens an
existing one: ``os.link`` (a final link in the way is unlinked first, not
followed) or a new temporary file (``O_EXCL | O_NOFOLLOW``) renamed over
the name. RECORD is written last, so a dist-info without RECORD means an
install that did not finish (the next sync repairs it).
"""

from __future__ import annotations

import contextlib
import csv
import errno
import hashlib
import io
import os
import re
import shutil
import sys
import threading
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from installer.utils import fix_shebang

from crosspin.errors import SyncError
from crosspin.sync._checks import record_hash
from crosspin.sync._place import Placement

if sys.platform.startswith("linux"):
    import fcntl

    _FCNTL = True
else:  # macOS's clonefile is not in the stdlib: clone falls back to copy there
    _FCNTL = False

__all__ = ["LINK_MODES", "LinkMode", "Linker", "drop_temporaries", "write_new",
           "write_placement"]

LinkMode = Literal["auto", "hardlink", "clone", "copy"]
LINK_MODES: tuple[LinkMode, ...] = ("auto", "hardlink", "clone", "copy")

#: ``os.link`` failures that mean "this filesystem (pair) cannot hardlink".
_NO_LINKS = frozenset({errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP,
                       errno.EACCES, errno.ENOSYS})
#: ``FICLONE`` failures that mean "no copy-on-write clones here".
_NO_CLONES = frozenset({errno.EXDEV, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL,
                        errno.ENOTTY, errno.ENOSYS, errno.EPERM, errno.EBADF})
#: Linux's ``FICLONE`` ioctl (btrfs, xfs, bcachefs): a copy sharing the blocks.
_FICLONE = 0x40049409
_CHUNK = 1 << 20
#: The name of a temporary file :func:`_temporary` makes (``.NAME.<12 hex>.crosspin``).
_TEMPORARY = re.compile(r"\..+\.[0-9a-f]{12}\.crosspin")


class Linker:
    """Puts one file at a destination by hardlink, clone or copy.

    ``auto`` links until the first failure that says the filesystems cannot
    (the unpacked files on another device, a filesystem without links),
    then clones (copy-on-write, where the filesystem can) and else copies,
    for the rest of the run; a file with too many links (``EMLINK``) is
    copied alone. The other modes use only their own way, and fail when
    it fails.
    """

    def __init__(self, mode: LinkMode = "auto") -> None:
        self.mode: LinkMode = mode
        self._way: LinkMode = "hardlink" if mode == "auto" else mode
        self._lock = threading.Lock()

    @property
    def used(self) -> str:
        """The way in effect now (``hardlink``, ``clone`` or ``copy``)."""
        return self._way

    def place_all(self, pairs: Iterable[tuple[str, str]]) -> None:
        """:meth:`place` every ``(source, dest)``; a plain ``os.link`` each while links work."""
        link = os.link
        for source, dest in pairs:
            if self._way == "hardlink":
                try:
                    link(source, dest, follow_symlinks=False)
                    continue
                except OSError:
                    pass  # a name in the way, or no links here: place() decides
            self.place(source, dest)

    def place(self, source: str, dest: str) -> None:
        """Make ``dest`` a link to (or a clone or copy of) ``source``, replacing what is there."""
        way = self._way
        try:
            if way == "hardlink":
                _link(source, dest)
            elif way == "clone":
                _clone(source, dest)
            else:
                _copy(source, dest)
            return
        except OSError as exc:
            if self.mode != "auto" or way == "copy":
                raise
            if way == "hardlink" and exc.errno == errno.EMLINK:
                _copy(source, dest)
                return
            if exc.errno not in (_NO_LINKS if way == "hardlink" else _NO_CLONES):
                raise
            with self._lock:
                if self._way == way:
                    self._way = "clone" if way == "hardlink" and _FCNTL else "copy"
        self.place(source, dest)


def _link(source: str, dest: str) -> None:
    try:
        os.link(source, dest, follow_symlinks=False)
    except FileExistsError:
        os.unlink(dest)  # removes a link itself, never what it points to
        os.link(source, dest, follow_symlinks=False)


def _clone(source: str, dest: str) -> None:
    if not _FCNTL:
        raise OSError(errno.ENOTSUP, "no copy-on-write clones on this system")
    mode = os.stat(source).st_mode & 0o777
    fd, temp = _temporary(dest, mode)
    try:
        with open(source, "rb") as src:
            fcntl.ioctl(fd, _FICLONE, src.fileno())
        os.close(fd)
        fd = -1
        os.chmod(temp, mode)
        os.replace(temp, dest)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        _discard(temp)
        raise


def _temporary(dest: str, mode: int) -> tuple[int, str]:
    folder, name = os.path.split(dest)
    temp = os.path.join(folder, f".{name}.{uuid.uuid4().hex[:12]}.crosspin")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) \
        | getattr(os, "O_BINARY", 0)
    return os.open(temp, flags, mode), temp


def _copy(source: str, dest: str) -> None:
    mode = os.stat(source).st_mode & 0o777
    fd, temp = _temporary(dest, mode)
    try:
        with open(source, "rb") as src, os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(src, out, _CHUNK)
        os.chmod(temp, mode)
        os.replace(temp, dest)
    except BaseException:
        _discard(temp)
        raise


def write_new(dest: str, content: bytes, *, executable: bool = False) -> None:
    """Write ``content`` to a new temporary file and rename it over ``dest``."""
    fd, temp = _temporary(dest, 0o777 if executable else 0o666)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
        os.replace(temp, dest)
    except BaseException:
        _discard(temp)
        raise


def drop_temporaries(folder: Path) -> None:
    """Delete the temporary files a killed write left in ``folder`` (crosspin's names only)."""
    for entry in folder.glob(".*.crosspin"):
        if _TEMPORARY.fullmatch(entry.name) and not entry.is_dir():
            _discard(str(entry))


def _discard(temp: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(temp)


def write_placement(placement: Placement, linker: Linker) -> None:
    """Write every file of ``placement`` (folders first), then its RECORD.

    The placement was checked (:func:`~crosspin.sync._place.check_placements`);
    an ``OSError`` here (a full disk, a permission) is a ``SyncError`` that
    says a rerun converges.
    """
    unpacked = placement.unpacked
    base = os.path.join(unpacked.root, "")  # the files' paths are checked relative paths
    skip = placement.skip
    relative = _Relative(placement.root)
    # Below a plain root a file's RECORD path is its path in the wheel (most rows).
    data = unpacked.data_dir + "/" if relative.plain else None
    try:
        _make_folders(placement.folders)
        linker.place_all((base + f.path, dest) for f, dest in placement.files
                         if dest not in skip)
        rows = [(f.path if data is not None and not f.path.startswith(data)
                 else relative(dest), f.hash, str(f.size)) for f, dest in placement.files]
        generated = []
        for f, dest in placement.rewrite:
            with open(os.path.join(unpacked.root, f.path), "rb") as fh, \
                    fix_shebang(fh, placement.interpreter) as fixed:
                content = fixed.read()
            generated.append(_write_generated(placement, dest, content, executable=True))
        for dest, content, executable in placement.generated:
            generated.append(_write_generated(placement, dest, content, executable=executable))
        generated.append((placement.record, "", ""))
        rows.extend((relative(dest), digest, size) for dest, digest, size in generated)
        write_new(placement.record, _record_text(rows).encode("utf-8"))
    except OSError as exc:
        raise SyncError(f"cannot install {unpacked.filename}: {exc.strerror or exc}"
                        + (f" ({exc.filename})" if exc.filename else ""),
                        hint="run sync again: it resumes from what is installed") from None


def _write_generated(placement: Placement, dest: str, content: bytes,
                     *, executable: bool) -> tuple[str, str, str]:
    if dest not in placement.skip:
        write_new(dest, content, executable=executable)
    return (dest, record_hash("sha256", hashlib.sha256(content).digest()), str(len(content)))


def _make_folders(folders: Iterable[str]) -> None:
    """Create ``folders`` (sorted: parents first); one ``mkdir`` each when the parent is
    known."""
    made: set[str] = set()
    for folder in folders:
        if os.path.dirname(folder) in made:
            try:
                os.mkdir(folder)
            except FileExistsError:
                os.makedirs(folder, exist_ok=True)  # a folder, or the error for a file
        else:
            os.makedirs(folder, exist_ok=True)
        made.add(folder)


def _record_text(rows: list[tuple[str, str, str]]) -> str:
    """RECORD's CSV, sorted: paths relative to the root (``../../../bin/x`` for other
    folders)."""
    out = io.StringIO()
    rows.sort()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


class _Relative:
    """``os.path.relpath(dest, root)`` with ``/`` separators; a prefix cut for paths below
    ``root`` (most of them: ``relpath`` is slow, and RECORD has one row per file).

    ``plain``: ``root`` is absolute and normalised and separators are ``/``, so
    ``os.path.join(root, path)`` of a plain relative ``path`` is ``path`` again.
    """

    def __init__(self, root: str) -> None:
        self._root = root
        self._prefix = os.path.join(os.path.abspath(root), "")
        self.plain = os.sep == "/" and os.path.abspath(root) == root

    def __call__(self, dest: str) -> str:
        if dest.startswith(self._prefix) and os.path.normpath(dest) == dest:
            rel = dest[len(self._prefix):]
            return rel if os.sep == "/" else rel.replace(os.sep, "/")
        try:
            return os.path.relpath(dest, self._root).replace(os.sep, "/")
        except ValueError:  # another drive (Windows): absolute, as installer writes it
            return dest
