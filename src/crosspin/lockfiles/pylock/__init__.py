"""PEP 751 ``pylock.toml``: one file for every environment, extra and group.

:func:`render` is pure (``render(lock, options) -> str``) and validates its
text with :mod:`packaging.pylock` before returning it; :func:`read` parses
and validates one back into pins, the matrix and the extras and groups.
"""

from __future__ import annotations

from crosspin.lockfiles.pylock._read import PylockFile, read
from crosspin.lockfiles.pylock._render import PylockOptions, render

__all__ = ["PylockFile", "PylockOptions", "read", "render"]
