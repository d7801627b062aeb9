"""Lockfiles on disk: which format a path holds, its text, and reading it whole.

Every command that reads a lock comes through here, so a missing or
unreadable file gives the same error everywhere and the format is told
from the file name in one place (PEP 751 names are ``pylock.toml`` and
``pylock.<name>.toml``; anything else is a requirements file).
"""

from __future__ import annotations

from pathlib import Path, PurePath
from typing import Literal, Optional, Union

import attrs

from crosspin.errors import LockFileError
from crosspin.lock import Lock
from crosspin.lockfiles.pylock import PylockFile
from crosspin.lockfiles.pylock import read as read_pylock
from crosspin.lockfiles.requirements import RequirementsFile
from crosspin.lockfiles.requirements import read as read_requirements

__all__ = [
    "LoadedLock",
    "LockFormat",
    "format_of",
    "is_pylock_path",
    "load_lock",
    "read_existing",
    "read_lock_text",
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


def read_lock_text(path: Path) -> str:
    """The text of a lockfile; a missing or unreadable file is a ``LockFileError``."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LockFileError(str(path), "no such file",
                            hint="run 'crosspin compile' first or name the lock") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise LockFileError(str(path), f"cannot read: {reason}") from None


def read_existing(
    output: str, output_format: Optional[LockFormat] = None
) -> Union[RequirementsFile, PylockFile, None]:
    """Pins of an existing output file, or ``None`` (``-`` or missing)."""
    if output == "-" or not Path(output).is_file():
        return None
    path = Path(output)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LockFileError(output, f"cannot read: {exc.strerror}") from None
    if (output_format or format_of(output)) == "pylock":
        return read_pylock(text, output)
    return read_requirements(text, output)


@attrs.frozen(kw_only=True)
class LoadedLock:
    """A lockfile read for ``check``/``why``/``envs``: the lock and its header facts."""

    path: Path
    lock: Lock
    input_digest: Optional[str] = None
    command: Optional[str] = None
    unpinned: tuple[str, ...] = ()


def load_lock(path: Path) -> LoadedLock:
    """Read a crosspin lock (requirements.txt or pylock.toml) that records its matrix."""
    text = read_lock_text(path)
    if is_pylock_path(str(path)):
        parsed_pylock = read_pylock(text, str(path))
        matrix, packages = parsed_pylock.matrix, parsed_pylock.packages
        sources = parsed_pylock.sources
        digest: Optional[str] = parsed_pylock.input_digest
        command = parsed_pylock.command
        unpinned: tuple[str, ...] = ()
    else:
        parsed = read_requirements(text, str(path))
        matrix, packages, sources = parsed.matrix, parsed.packages, parsed.sources
        digest, unpinned = parsed.input_digest, tuple(str(n) for n in parsed.unpinned_unsafe)
        command = _recorded_command(text)
    if matrix is None:
        raise LockFileError(
            str(path), "records no matrix (no '# crosspin-matrix:' header)",
            hint="this lock was not written by crosspin: run 'crosspin compile' to make one",
        )
    return LoadedLock(
        path=path,
        lock=Lock.build(matrix=matrix, packages=packages, sources=sources),
        input_digest=digest,
        command=command,
        unpinned=unpinned,
    )


def _recorded_command(text: str) -> Optional[str]:
    lines = text.splitlines()[:12]
    for number, line in enumerate(lines):
        if line.strip() == _COMMAND_INTRO and number + 2 < len(lines):
            command = lines[number + 2].lstrip("#").strip()
            return command or None
    return None
