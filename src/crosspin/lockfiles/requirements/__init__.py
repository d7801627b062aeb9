"""``requirements.txt`` in pip-compile's layout, for a whole matrix: render and read.

:func:`render` is pure (``render(lock, options) -> str``); :func:`read`
turns a file's text (crosspin's, with its ``# crosspin-matrix:`` header, or
a plain pip-compile one) back into pins.
"""

from __future__ import annotations

from crosspin.lockfiles.requirements._read import RequirementsFile, read
from crosspin.lockfiles.requirements._render import RenderOptions, render

__all__ = ["RenderOptions", "RequirementsFile", "read", "render"]
