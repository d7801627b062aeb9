"""Reading the lock sync installs from, whatever its format.

Dispatch is on the file name: ``pylock.toml`` / ``pylock.*.toml`` (PEP 751)
will be read by :func:`_read_pylock` once a reader exists; everything else
is a requirements file (crosspin's, with a matrix, or a plain pip-compile
one).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import attrs

from crosspin.environments import Environment, Matrix
from crosspin.errors import LockFileError, MatrixError
from crosspin.lock import LockedPackage, Sources

__all__ = ["LockData", "read_lock"]


@attrs.frozen(kw_only=True)
class LockData:
    """What sync and export need from a lockfile: matrix, pins, sources."""

    path: str
    matrix: Optional[Matrix]
    packages: tuple[LockedPackage, ...]
    sources: Sources

    def select(self, markers: dict[str, str]) -> list[LockedPackage]:
        """The pins whose marker is true in this marker environment."""
        env = {**markers, "extra": ""}
        return [p for p in self.packages if p.marker is None or p.marker.evaluate(env)]

    def environment_for(
        self, python: tuple[int, int], micro: int, sys_platform: str, machine: str,
        description: str,
    ) -> Optional[Environment]:
        """The matrix environment covering a target, or ``MatrixError``.

        ``None`` when the lock records no matrix (then markers alone decide).
        """
        if self.matrix is None:
            return None
        for env in self.matrix.environments:
            p = env.platform
            if (env.python == python and p.sys_platform == sys_platform
                    and p.platform_machine.lower() == machine.lower()
                    and env.patch_floor <= micro
                    and (env.patch_ceiling is None or micro < env.patch_ceiling)):
                return env
        raise MatrixError(description, self.matrix.describe())


def read_lock(path: Path) -> LockData:
    """Read a lockfile; ``LockFileError`` when it is missing or invalid."""
    name = path.name
    if name == "pylock.toml" or (name.startswith("pylock.") and name.endswith(".toml")):
        return _read_pylock(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LockFileError(str(path), "no such file",
                            hint="run 'crosspin compile' first or name the lock") from None
    except OSError as exc:
        raise LockFileError(str(path), f"cannot read: {exc.strerror or exc}") from None
    from crosspin.writers.requirements import read

    parsed = read(text, str(path))
    return LockData(path=str(path), matrix=parsed.matrix, packages=parsed.packages,
                    sources=parsed.sources)


def _read_pylock(path: Path) -> LockData:
    # The hook for PEP 751 support: return the same LockData from a pylock.
    raise LockFileError(str(path), "pylock.toml is not supported by sync yet",
                        hint="sync from the requirements.txt lock instead")
