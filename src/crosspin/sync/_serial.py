"""One sync at a time per environment: an exclusive lock on a file inside it.

The lock is taken before planning and held until the last file is
written, so a second sync plans from what the first one left, never from
a half-changed environment. The second one waits (saying so, with the
other's pid, after about a second) until a deadline. The holder removes
the file before it lets go, so no sync leaves a trace of it -- not even
one that fails on a fresh environment; a waiter that wakes up holding a
removed file opens the new one and waits again.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from crosspin.errors import SyncError

__all__ = ["LOCK_FILE", "hold_environment"]

#: The lock's name, in the environment's prefix.
LOCK_FILE = ".crosspin-sync.lock"

_SAY_AFTER = 1.0
_POLL = 0.1


@contextlib.contextmanager
def hold_environment(
    prefix: Path, *, timeout: float, on_wait: Callable[[str], None]
) -> Iterator[None]:
    """Hold ``prefix``'s sync lock for the ``with`` block; wait at most ``timeout`` seconds.

    ``on_wait`` hears one line when the wait passes a second.
    """
    path = prefix / LOCK_FILE
    deadline = time.monotonic() + timeout
    said: list[str] = []
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        except OSError as exc:
            raise SyncError(f"cannot lock {prefix} for the sync: {exc.strerror or exc} ({path})",
                            hint="check that the environment is writable") from None
        try:
            _acquire(fd, prefix, deadline=deadline, timeout=timeout,
                     on_wait=lambda line: _once(said, line, on_wait))
        except BaseException:
            os.close(fd)
            raise
        if _still_there(fd, path):
            break
        os.close(fd)  # the holder before us removed it: lock the new one
    try:
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
        os.close(fd)  # releases the lock


def _once(said: list[str], line: str, on_wait: Callable[[str], None]) -> None:
    if not said:
        said.append(line)
        on_wait(line)


def _still_there(fd: int, path: Path) -> bool:
    """Whether ``path`` is still the file ``fd`` locked (not removed by the last holder)."""
    try:
        here, there = os.fstat(fd), path.lstat()
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _acquire(fd: int, prefix: Path, *, deadline: float, timeout: float,
             on_wait: Callable[[str], None]) -> None:
    start = time.monotonic()
    while not _try_lock(fd):
        now = time.monotonic()
        if now >= deadline:
            raise SyncError(f"another sync{_holder(fd)} has held {prefix} for over "
                            f"{timeout:g}s", hint="wait for it to finish, or stop it")
        if now - start >= _SAY_AFTER:
            on_wait(f"Waiting for another sync{_holder(fd)} of {prefix} to finish")
        time.sleep(_POLL)


def _holder(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        pid = os.read(fd, 32).decode("ascii", "replace").strip()
    except OSError:
        return ""
    return f" (pid {pid})" if pid.isdigit() else ""


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True
