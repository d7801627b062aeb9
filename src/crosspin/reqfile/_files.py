"""Reading a requirement or lock file: bounded, never a FIFO or a device, ``-`` for stdin.

A path named on the command line or by ``-r``/``-c`` is user input, and
so is a path inside a file someone else wrote: a FIFO nobody writes to
would block forever, ``/dev/zero`` would never end, and a file of a
gigabyte would be read (and quoted in an error) whole. Only regular files
up to :data:`MAX_FILE_SIZE` are read; ``-`` and ``/dev/stdin`` read
standard input (with the same cap).
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Protocol

__all__ = ["MAX_FILE_SIZE", "STDIN_NAMES", "FileRefused", "is_stdin", "read_text_file"]

#: The largest requirement or lock file read, in bytes (16 MiB: the biggest real
#: lock files are well under 1 MiB).
MAX_FILE_SIZE = 16 << 20

#: Names that mean standard input.
STDIN_NAMES = ("-", "/dev/stdin")

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class Readable(Protocol):
    """A binary stream (standard input)."""

    def read(self, size: int = -1, /) -> bytes:
        """Up to ``size`` bytes."""


class FileRefused(ValueError):
    """A file that is not read: not a regular file, or larger than the cap."""


def is_stdin(name: str) -> bool:
    """Whether a file name means standard input (``-`` or ``/dev/stdin``)."""
    return name in STDIN_NAMES


def read_text_file(path: Path, *, limit: int = MAX_FILE_SIZE,
                   stdin: Readable | None = None) -> str:
    """The UTF-8 text of a regular file of at most ``limit`` bytes (or of stdin).

    Raises :class:`FileRefused` (a ``ValueError``) for anything else,
    ``OSError`` when the file cannot be opened (``FileNotFoundError`` when
    it does not exist) and ``UnicodeDecodeError``.
    """
    if is_stdin(str(path)):
        source = stdin if stdin is not None else _stdin()
        data = source.read(limit + 1)
        if len(data) > limit:
            raise FileRefused(f"standard input is larger than {limit >> 20} MiB")
        return data.decode("utf-8")
    # O_NONBLOCK: opening a FIFO nobody writes to would otherwise block here.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            kind = next((name for test, name in _KINDS if test(status.st_mode)), "not a file")
            raise FileRefused(f"not a regular file ({kind})")
        if status.st_size > limit:
            raise FileRefused(f"larger than {limit >> 20} MiB")
        chunks = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > limit:  # it grew while being read
        raise FileRefused(f"larger than {limit >> 20} MiB")
    return b"".join(chunks).decode("utf-8")


def _stdin() -> Readable:
    buffer: Readable | None = getattr(sys.stdin, "buffer", None)
    return buffer if buffer is not None else _TextAsBinary(sys.stdin)


class _TextAsBinary:
    """A text stream (a replaced ``sys.stdin``) read as UTF-8 bytes."""

    def __init__(self, stream: object) -> None:
        self._stream = stream

    def read(self, size: int = -1, /) -> bytes:
        """Up to ``size`` characters, as UTF-8."""
        return str(self._stream.read(size)).encode("utf-8")  # type: ignore[attr-defined]
