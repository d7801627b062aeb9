"""Lockfile writers and readers: ``requirements.txt`` (pip-compatible) and ``pylock.toml``.

Writers are pure functions ``render(lock, options) -> str`` and readers pure
functions ``read(text, path)``; reading and writing files happens in the
callers, so output never depends on the machine or the file system.
"""

from __future__ import annotations

from pathlib import PurePath

__all__ = ["is_pylock_path"]


def is_pylock_path(path: str) -> bool:
    """Whether a file name is a PEP 751 lock name: ``pylock.toml`` or ``pylock.<name>.toml``.

    Here rather than in ``writers.pylock`` so that telling formats apart
    (every compile does) does not import the pylock machinery.
    """
    name = PurePath(path).name
    if not (name.startswith("pylock.") and name.endswith(".toml")):
        return False
    from packaging.pylock import is_valid_pylock_path

    return is_valid_pylock_path(PurePath(path))  # type: ignore[arg-type]
