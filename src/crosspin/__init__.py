"""crosspin: one lockfile for every Python version and platform a project runs on."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
