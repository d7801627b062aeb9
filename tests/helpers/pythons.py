"""Real CPython interpreters for sync and interop tests, found where this machine keeps them.

Tests never name a patch release (``/root/.pyenv/versions/3.12.1``): another
machine has 3.12.4. :func:`find_python` looks for a minor version under
pyenv's root (``$PYENV_ROOT``, ``pyenv root``, ``~/.pyenv``; the newest
``versions/3.X.*/bin/python3``), then for ``python3.X`` on ``PATH``, then at
the interpreter running the tests, and asks each candidate which version it
is before trusting it. :func:`require_python` skips the test with a reason
that says where it looked; :func:`python_params` makes one parameter per
minor version, absent ones skipped with that reason instead of silently
left out.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

__all__ = ["find_python", "full_version", "python_params", "require_python"]

#: The minor versions sync and interop tests install into.
MINORS = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13")


@functools.cache
def _pyenv_root() -> Path | None:
    configured = os.environ.get("PYENV_ROOT")
    if configured:
        return Path(configured)
    try:
        out = subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=True,
                             timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        out = ""
    root = Path(out) if out else Path.home() / ".pyenv"
    return root if root.is_dir() else None


def _patch_key(path: Path) -> tuple[int, ...]:
    # versions/3.12.10/bin/python3 -> (3, 12, 10); "3.13.0t" and the like sort first.
    parts = path.parts[-3].split(".")
    return tuple(int(p) if p.isdigit() else -1 for p in parts)


@functools.cache
def full_version(python: Path) -> str | None:
    """``3.12.1`` for a working CPython at ``python``, else ``None``."""
    try:
        out = subprocess.run(
            [str(python), "-c", "import platform, sys; print(platform.python_implementation(),"
             " '%d.%d.%d' % sys.version_info[:3])"],
            capture_output=True, text=True, check=True, timeout=60,
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    return out[1] if len(out) == 2 and out[0] == "CPython" else None


def _candidates(minor: str) -> list[Path]:
    found: list[Path] = []
    root = _pyenv_root()
    if root is not None:
        found += sorted(root.glob(f"versions/{minor}.*/bin/python3"), key=_patch_key,
                        reverse=True)
    on_path = shutil.which(f"python{minor}")
    if on_path:
        found.append(Path(on_path))
    if f"{sys.version_info[0]}.{sys.version_info[1]}" == minor:
        found.append(Path(sys.executable))
    return found


@functools.cache
def find_python(minor: str) -> Path | None:
    """A working CPython ``minor`` (``"3.12"``), newest patch release first; ``None`` if absent."""
    for candidate in _candidates(minor):
        version = full_version(candidate)
        if version is not None and version.rsplit(".", 1)[0] == minor:
            return candidate
    return None


def _absent(minor: str) -> str:
    root = _pyenv_root()
    where = f"{root}/versions/{minor}.*" if root else "pyenv (no pyenv root)"
    return f"no CPython {minor} on this machine (looked in {where} and for python{minor} on PATH)"


def require_python(minor: str) -> Path:
    """:func:`find_python`, or skip the test saying which interpreter is missing and where."""
    found = find_python(minor)
    if found is None:
        pytest.skip(_absent(minor))
    return found


def python_params(minors: tuple[str, ...] = MINORS) -> list[object]:
    """One ``pytest.param`` per minor version (id ``3.X``); an absent one is skipped, with why."""
    params: list[object] = []
    for minor in minors:
        found = find_python(minor)
        marks = [] if found is not None else [pytest.mark.skip(reason=_absent(minor))]
        params.append(pytest.param(minor, id=minor, marks=marks))
    return params
