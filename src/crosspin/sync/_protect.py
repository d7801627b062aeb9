"""What a sync leaves alone, and the environments it refuses or creates.

- crosspin's own environment: crosspin and everything it runs on (its
  installed requirements, transitively, as pip-sync keeps pip-tools) are
  never removed or replaced, so a sync cannot break the tool doing it;
- an externally managed interpreter (PEP 668: a system Python whose
  packages belong to the OS) is refused unless the user says
  ``--break-system-packages``;
- a missing virtual environment is created (``--venv DIR``, or ``.venv``).
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name

from crosspin.errors import SyncError
from crosspin.sync._target import Target

__all__ = [
    "create_venv",
    "externally_managed_error",
    "is_own_environment",
    "own_requirements",
    "venv_python",
]


def is_own_environment(target: Target) -> bool:
    """Whether ``target`` is the environment this crosspin runs in."""
    try:
        return Path(sys.prefix).resolve() == Path(target.prefix).resolve()
    except OSError:
        return False


def own_requirements(root: str = "crosspin") -> frozenset[NormalizedName]:
    """``root`` and every distribution it needs here, transitively (its extras' too).

    Read from the installed metadata of the running interpreter, with its
    markers; a requirement that is not installed ends that branch.
    """
    env = {str(k): str(v) for k, v in default_environment().items()}
    todo: list[tuple[NormalizedName, frozenset[str]]] = [(canonicalize_name(root), frozenset())]
    seen: set[tuple[NormalizedName, frozenset[str]]] = set()
    names: set[NormalizedName] = set()
    while todo:
        item = todo.pop()
        if item in seen:
            continue
        seen.add(item)
        name, extras = item
        try:
            requires = importlib.metadata.distribution(name).requires or []
        except importlib.metadata.PackageNotFoundError:
            continue
        names.add(name)
        for text in requires:
            try:
                req = Requirement(text)
            except InvalidRequirement:
                continue
            if req.marker is not None and not any(
                    req.marker.evaluate({**env, "extra": e}) for e in ("", *extras)):
                continue
            todo.append((canonicalize_name(req.name), frozenset(req.extras)))
    return frozenset(names)


def externally_managed_error(target: Target) -> SyncError | None:
    """The refusal for a PEP 668 interpreter (``None`` when ``target`` is not one)."""
    if not target.externally_managed:
        return None
    return SyncError(
        f"{target.executable} is externally managed (PEP 668: {target.externally_managed}); "
        "crosspin sync will not change it",
        hint="sync a virtual environment (crosspin sync --venv .venv), "
             "or pass --break-system-packages",
    )


def venv_python(venv: Path) -> Path:
    """The interpreter of the virtual environment at ``venv``."""
    if sys.platform == "win32":
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


def create_venv(venv: Path, base: Path) -> Path:
    """Create a virtual environment at ``venv`` with ``base`` (no pip in it); its interpreter.

    ``venv`` must not exist, or be an empty folder.
    """
    try:
        proc = subprocess.run([str(base), "-m", "venv", "--without-pip", str(venv)],
                              capture_output=True, text=True, timeout=300, check=False)
    except OSError as exc:
        raise SyncError(f"cannot run {base}: {exc.strerror or exc}",
                        hint="pass --python PATH of an existing interpreter") from None
    except subprocess.TimeoutExpired:
        raise SyncError(f"{base} -m venv did not finish within 300s") from None
    if proc.returncode != 0:
        last = _last_line(proc.stderr.splitlines() or proc.stdout.splitlines())
        raise SyncError(f"cannot create a virtual environment at {venv} with {base}: {last}",
                        hint="check the folder, or pass another interpreter with --python")
    return venv_python(venv)


def _last_line(lines: Iterable[str]) -> str:
    kept = [line.strip() for line in lines if line.strip()]
    return kept[-1] if kept else "no output"
