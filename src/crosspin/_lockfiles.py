"""Reading a lockfile's text from disk, with the errors every command shares."""

from __future__ import annotations

from pathlib import Path

from crosspin.errors import LockFileError

__all__ = ["read_lock_text"]


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
