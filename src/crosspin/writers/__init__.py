"""Lockfile writers and readers: ``requirements.txt`` (pip-compatible) and ``pylock.toml``.

Writers are pure functions ``render(lock, options) -> str`` and readers pure
functions ``read(text, path)``; reading and writing files happens in the
callers, so output never depends on the machine or the file system.
"""

from __future__ import annotations

__all__: list[str] = []
