"""Lockfiles on disk: which format a path holds, its text, and reading it whole.

Every command that reads a lock comes through here, so a missing or
unreadable file gives the same error everywhere and the format is told
from the file name in one place (PEP 751 names are ``pylock.toml`` and
``pylock.<name>.toml``; anything else is a requirements file).
"""

from __future__ import annotations

from pathlib import Path, PurePath
from typing import Literal

import attrs

from crosspin.environments import Matrix
from crosspin.errors import LockFileError
from crosspin.lock import Lock, LockedPackage, Sources
from crosspin.lockfiles.pylock import PylockFile
from crosspin.lockfiles.pylock import read as read_pylock
from crosspin.lockfiles.requirements import read as read_requirements
from crosspin.lockfiles.requirements._read import COMMAND_PREFIX
from crosspin.reqfile import read_text_file

__all__ = [
    "LoadedLock",
    "LockFile",
    "LockFormat",
    "format_of",
    "is_pylock_path",
    "load_lock",
    "read_existing",
    "read_lock_text",
    "read_lockfile",
    "recorded_command",
]

LockFormat = Literal["requirements", "pylock"]

#: The header line pip-compile (and crosspin) put before the command line.
_COMMAND_INTRO = "# by the following command:"


def is_pylock_path(path: str) -> bool:
    """Whether a file name is a PEP 751 lock name: ``pylock.toml`` or ``pylock.<name>.toml``."""
    name = PurePath(path).name
    if not (name.startswith("pylock.") and name.endswith(".toml")):
        return False
    # lazy: packaging.pylock is only needed once a name looks like a pylock name.
    from packaging.pylock import is_valid_pylock_path

    return is_valid_pylock_path(PurePath(path))  # type: ignore[arg-type]


def format_of(output: str) -> LockFormat:
    """``pylock`` for PEP 751 names (``pylock.toml``, ``pylock.NAME.toml``), else requirements."""
    return "pylock" if output != "-" and is_pylock_path(output) else "requirements"


def read_lock_text(path: str | Path) -> str:
    """The text of a lockfile; a missing or unreadable file is a ``LockFileError``.

    Read as requirement files are (:func:`crosspin.reqfile.read_text_file`):
    a regular file of at most 16 MiB, never a FIFO or a device.
    """
    try:
        return read_text_file(Path(path))
    except FileNotFoundError:
        raise LockFileError(str(path), "no such file",
                            hint="run 'crosspin compile' first or name the lock") from None
    except (OSError, ValueError) as exc:  # UnicodeDecodeError, FileRefused
        reason = getattr(exc, "strerror", None) or str(exc)
        raise LockFileError(str(path), f"cannot read: {reason}") from None


@attrs.frozen(kw_only=True)
class LockFile:
    """A lockfile read from disk, whatever its format: what every command starts from.

    ``input_digest`` and ``command`` are what the lock records of how it was
    compiled (``None`` for a plain pip-compile file); ``unpinned`` are the
    packages a requirements.txt only names in comments (pip, setuptools
    without ``--allow-unsafe``); ``pylock`` keeps a PEP 751 file's own
    details (markers as written, listed files, extras and groups).
    """

    path: Path
    format: LockFormat
    matrix: Matrix | None
    packages: tuple[LockedPackage, ...]
    sources: Sources
    input_digest: str | None = None
    command: str | None = None
    custom_command: str | None = None
    unpinned: tuple[str, ...] = ()
    pylock: PylockFile | None = None


def read_lockfile(path: str | Path, lock_format: LockFormat | None = None, *,
                  environments: bool = True) -> LockFile:
    """Read a lock in the format its name says (or ``lock_format``); ``LockFileError`` if bad.

    Messages name ``path`` as given. Without ``environments`` a PEP 751
    lock's pins keep their markers as written (an installer's read: see
    :func:`crosspin.lockfiles.pylock.read`).
    """
    text = read_lock_text(path)
    if (lock_format or format_of(str(path))) == "pylock":
        parsed = read_pylock(text, str(path), environments=environments)
        return LockFile(path=Path(path), format="pylock", matrix=parsed.matrix,
                        packages=parsed.packages, sources=parsed.sources,
                        input_digest=parsed.input_digest, command=parsed.command, pylock=parsed)
    requirements = read_requirements(text, str(path))
    command, custom = _recorded_command(text)
    return LockFile(path=Path(path), format="requirements", matrix=requirements.matrix,
                    packages=requirements.packages, sources=requirements.sources,
                    input_digest=requirements.input_digest, command=command,
                    custom_command=custom,
                    unpinned=tuple(str(n) for n in requirements.unpinned_unsafe))


def read_existing(output: str, output_format: LockFormat | None = None) -> LockFile | None:
    """The existing output file compile keeps pins from, or ``None`` (``-`` or missing)."""
    if output == "-" or not Path(output).is_file():
        return None
    return read_lockfile(output, output_format)


def recorded_command(output: str, output_format: LockFormat | None = None) -> str | None:
    """The ``crosspin compile`` command a lock at ``output`` records, or ``None``.

    ``None`` for ``-``, a missing or unreadable file, a lock without a
    header, and a lock another tool wrote (pip-compile's header names
    ``pip-compile``). A requirements.txt is read only as far as its header.
    """
    if output == "-" or not Path(output).is_file():
        return None
    try:
        if (output_format or format_of(output)) == "pylock":
            command = read_lockfile(output, "pylock").command
        else:
            with open(output, encoding="utf-8", errors="replace") as fh:
                head = "".join(fh.readline() for _ in range(16))
            command = _recorded_command(head)[0]
    except (OSError, LockFileError):
        return None
    if command is None or not command.startswith("crosspin compile"):
        return None
    return command


@attrs.frozen(kw_only=True)
class LoadedLock:
    """A lockfile read for ``check``/``why``/``envs``: the lock and its header facts."""

    path: Path
    lock: Lock
    input_digest: str | None = None
    command: str | None = None
    custom_command: str | None = None
    unpinned: tuple[str, ...] = ()


def load_lock(path: Path) -> LoadedLock:
    """Read a crosspin lock (requirements.txt or pylock.toml) that records its matrix."""
    read = read_lockfile(path)
    if read.matrix is None:
        raise LockFileError(
            str(path), "records no matrix (no '# crosspin-matrix:' header)",
            hint="this lock was not written by crosspin: run 'crosspin compile' to make one",
        )
    return LoadedLock(
        path=path,
        lock=Lock.build(matrix=read.matrix, packages=read.packages, sources=read.sources),
        input_digest=read.input_digest,
        command=read.command,
        custom_command=read.custom_command,
        unpinned=read.unpinned,
    )


def _recorded_command(text: str) -> tuple[str | None, str | None]:
    """The recorded compile command and, when CUSTOM_COMPILE_COMMAND replaced it, the shown one."""
    lines = text.splitlines()[:14]
    shown = None
    for number, line in enumerate(lines):
        if line.strip() == _COMMAND_INTRO and number + 2 < len(lines):
            shown = lines[number + 2].lstrip("#").strip() or None
            break
    for line in lines:
        body = line.lstrip("#").strip()
        if body.startswith(COMMAND_PREFIX):
            return body[len(COMMAND_PREFIX):].strip() or None, shown
    return shown, None
