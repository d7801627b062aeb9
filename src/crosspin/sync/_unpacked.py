"""The unpacked-wheel cache: a wheel verified once is unpacked once, keyed by its sha256.

Layout, below ``<cache>/v1/unpacked/``::

    <hh>/<sha256>/manifest.json   what the verification found (see :class:`Unpacked`),
                                  and each file's size and mtime once unpacked
    <hh>/<sha256>/tree/...        the wheel's members, named as in the zip

An entry is unpacked by :func:`~crosspin.sync._wheel.unpack_wheel` -- every
check of the all-or-nothing sync -- into a temporary folder beside it and
renamed into place, so readers only ever see complete, verified entries; a
wheel that fails any check never gets one. An entry is reached only
through a sha256 the lock vouches for and holds what that hash names, so
it is shared by every index and every environment on purpose.

The cache is untrusted on read, cheaply: the manifest is parsed strictly
(its paths checked again) and every file is ``lstat``-ed before use: a
regular file with the recorded size, mtime and executable bit. Anything
else (a truncated or replaced file, an installed hardlinked file edited in
place) moves the entry to the trash, and the wheel is unpacked again.

Environments are linked from here, so an entry must not vanish under a
running install: a sync holds a shared lock on ``.lock`` while it uses the
cache, and pruning (entries unused for :data:`MAX_AGE` days, when a new
entry is stored) takes it exclusively and is skipped when any sync holds
it. Deleting the cache never breaks an installed environment: a hardlink
is a name of its own, and uninstalling reads the environment's RECORD.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import stat
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from crosspin.errors import SyncError, WheelError
from crosspin.sync._checks import EntryScript, is_plain_member
from crosspin.sync._wheel import Expected, Unpacked, UnpackedFile, unpack_wheel

__all__ = ["MAX_AGE", "UnpackedCache"]

#: Bump when the checks of ``unpack_wheel`` get stricter: older entries are
#: then verified again instead of trusted.
VERIFY_VERSION = 1
_FORMAT = 1

#: Days an entry may go unused before pruning removes it.
MAX_AGE = 30
_DAY = 86400.0
_SHA256 = re.compile(r"[0-9a-f]{64}")

if sys.platform == "win32":  # pragma: no cover
    fcntl = None
else:
    import fcntl


class UnpackedCache:
    """Verified, unpacked wheels under ``root``, by sha256 (see the module docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock_fd: int | None = None
        self._stored = False

    @contextlib.contextmanager
    def in_use(self) -> Iterator[UnpackedCache]:
        """Hold the shared lock for a sync's lookups and links; prune afterwards if it stored."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = _lock(self.root / ".lock", shared=True)
        try:
            yield self
        finally:
            if fd is not None:
                os.close(fd)
        if self._stored:
            self.prune()

    def lookup(self, sha256: str, expected: Expected) -> Unpacked | None:
        """The entry for ``sha256`` if it is whole and is the wheel ``expected`` names."""
        entry = self._entry(sha256)
        if entry is None:
            return None
        try:
            raw = (entry / "manifest.json").read_bytes()
        except OSError:
            return None
        unpacked = _parse(raw, entry / "tree")
        if unpacked is None:
            self._discard(entry)
            return None
        if not _is(unpacked, expected):
            return None
        _touch(entry / "manifest.json")
        return unpacked

    def unpack(self, wheel: Path, sha256: str, expected: Expected) -> Unpacked:
        """Verify and unpack ``wheel`` (whose sha256 the caller checked) into a new entry.

        Raises :class:`~crosspin.errors.WheelError` when the wheel breaks a
        rule (no entry is made). When another sync stored the same entry
        first, that one is used.
        """
        entry = self._entry(sha256)
        if entry is None:
            raise WheelError(wheel.name, f"its sha256 {sha256!r} is not a sha256")
        temp = entry.parent / f".tmp-{sha256}-{uuid.uuid4().hex[:12]}"
        try:
            temp.mkdir(parents=True)
            unpacked = unpack_wheel(wheel, temp / "tree", expected)
            (temp / "manifest.json").write_bytes(_manifest(unpacked))
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
        try:
            os.rename(temp, entry)
        except OSError:  # another sync stored it first
            found = self.lookup(sha256, expected)
            if found is None:  # or a damaged entry is in the way (lookup discarded it)
                with contextlib.suppress(OSError):
                    os.rename(temp, entry)
                    found = self.lookup(sha256, expected)
            shutil.rmtree(temp, ignore_errors=True)
            if found is None:
                raise SyncError(f"cannot store {wheel.name} in the cache at {entry}") from None
            return found
        self._stored = True
        return attrs.evolve(unpacked, root=entry / "tree")

    def prune(self) -> None:
        """Remove entries unused for :data:`MAX_AGE` days, unless a sync is using the cache."""
        fd = _lock(self.root / ".lock", shared=False, wait=False)
        if fd is None:
            return
        try:
            cutoff = time.time() - MAX_AGE * _DAY
            for manifest in self.root.glob("??/*/manifest.json"):
                with contextlib.suppress(OSError):
                    if manifest.stat().st_mtime < cutoff:
                        self._discard(manifest.parent)
            for stale in self.root.glob("??/.tmp-*"):
                with contextlib.suppress(OSError):
                    if stale.stat().st_mtime < cutoff:
                        shutil.rmtree(stale, ignore_errors=True)
        finally:
            os.close(fd)

    def _entry(self, sha256: str) -> Path | None:
        if not _SHA256.fullmatch(sha256):
            return None
        return self.root / sha256[:2] / sha256

    def _discard(self, entry: Path) -> None:
        """Move an entry out of the way (then delete it): readers never see half of one."""
        trash = self.root / f".trash-{uuid.uuid4().hex}"
        try:
            os.rename(entry, trash)
        except OSError:
            return
        shutil.rmtree(trash, ignore_errors=True)


def _manifest(unpacked: Unpacked) -> bytes:
    return json.dumps({
        "format": _FORMAT, "verify": VERIFY_VERSION, "filename": unpacked.filename,
        "name": unpacked.name, "version": str(unpacked.version),
        "dist_info": unpacked.dist_info, "purelib": unpacked.purelib,
        "files": [[f.path, f.hash, f.size, f.executable, f.mtime_ns] for f in unpacked.files],
        "scripts": [[s.name, s.module, s.attr, s.section] for s in unpacked.scripts],
        "requires": list(unpacked.requires),
    }, separators=(",", ":")).encode()


def _parse(raw: bytes, tree: Path) -> Unpacked | None:
    """The manifest as an :class:`Unpacked` whose files are all still as unpacked, or
    ``None`` when it is not one crosspin wrote or a file changed (see :func:`_files`)."""
    try:
        data: Any = json.loads(raw)
        if data.get("format") != _FORMAT or data.get("verify") != VERIFY_VERSION:
            return None
        files = _files(data["files"], str(tree) + os.sep)
        if files is None:
            return None
        scripts = tuple(EntryScript(name=str(n), module=str(m), attr=str(a),
                                    section="gui" if s == "gui" else "console")
                        for n, m, a, s in data["scripts"])
        unpacked = Unpacked(
            filename=str(data["filename"]), name=canonicalize_name(str(data["name"])),
            version=Version(str(data["version"])), dist_info=str(data["dist_info"]),
            purelib=bool(data["purelib"]), root=tree, files=files, scripts=scripts,
            requires=tuple(str(r) for r in data["requires"]))
    except (ValueError, TypeError, KeyError, AttributeError, InvalidVersion):
        return None
    return unpacked


def _files(rows: Any, base: str) -> tuple[UnpackedFile, ...] | None:
    """The manifest's file rows, each a plain relative path whose file below ``base`` is
    still what was unpacked: regular, same size, mtime and executable bit (one ``lstat``
    each); ``None`` when a row is malformed or a file changed."""
    files = []
    lstat, plain, regular = os.lstat, is_plain_member, stat.S_ISREG
    for path, digest, size, executable, mtime_ns in rows:
        if (type(path) is not str or type(digest) is not str or type(size) is not int
                or type(executable) is not bool or type(mtime_ns) is not int
                or not plain(path)):
            return None
        try:
            st = lstat(base + path)
        except OSError:
            return None
        if (not regular(st.st_mode) or st.st_size != size or st.st_mtime_ns != mtime_ns
                or bool(st.st_mode & 0o100) != executable):
            return None
        files.append(UnpackedFile(path=path, hash=digest, size=size, executable=executable,
                                  mtime_ns=mtime_ns))
    return tuple(files)


def _is(unpacked: Unpacked, expected: Expected) -> bool:
    return ((expected.name is None or unpacked.name == expected.name)
            and (expected.version is None or unpacked.version == expected.version))


def _touch(manifest: Path) -> None:
    """Mark an entry used (at most once a day: it is what pruning goes by)."""
    with contextlib.suppress(OSError):
        if manifest.stat().st_mtime < time.time() - _DAY:
            os.utime(manifest)


def _lock(path: Path, *, shared: bool, wait: bool = True) -> int | None:
    """An open ``flock``-ed file descriptor, or ``None`` (busy, or no locking here)."""
    if fcntl is None:  # pragma: no cover - Windows: no pruning
        return None
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        return None
    flags = (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | (0 if wait else fcntl.LOCK_NB)
    try:
        fcntl.flock(fd, flags)
    except OSError:
        os.close(fd)
        return None
    return fd
