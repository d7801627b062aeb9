"""Building an sdist or a local folder into a wheel for the target interpreter.

The backend runs under the *target* Python (``pyproject_hooks`` through
``build.ProjectBuilder``), so the wheel fits it. Build requirements
(``[build-system] requires`` plus what the backend asks for) go into an
isolated virtual environment made with the target's own ``venv`` and
filled by its ``pip`` -- so pip's configuration (``pip.conf``, ``PIP_*``)
and the index options of the sync apply. A folder marked editable is
built with PEP 660 ``build_editable``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Literal

from crosspin.errors import BuildError
from crosspin.metadata import unpack_sdist

__all__ = ["build_wheel"]


def build_wheel(
    source: Path,
    python: str,
    out_dir: Path,
    *,
    name: str,
    editable: bool = False,
    pip_args: Sequence[str] = (),
) -> Path:
    """Build ``source`` (an sdist file or a project folder) with ``python``.

    Returns the wheel's path in ``out_dir``; ``BuildError`` when the build
    environment cannot be made or the backend fails.
    """
    # lazy: building is rare and ``build`` is slow to import.
    import build

    work = Path(tempfile.mkdtemp(prefix="crosspin-build-", dir=out_dir))
    tree = source if source.is_dir() else unpack_sdist(source, work / "src", name)
    kind: Literal["editable", "wheel"] = "editable" if editable else "wheel"
    try:
        builder = build.ProjectBuilder(tree, python_executable=python, runner=_quiet_runner)
        requires = set(builder.build_system_requires)
        env_python = python
        if requires:
            env_python = _isolated_env(python, work / "env", requires, name, pip_args)
            builder = build.ProjectBuilder(tree, python_executable=env_python,
                                           runner=_quiet_runner)
        extra = set(builder.get_requires_for_build(kind))
        if extra:
            if env_python == python:
                env_python = _isolated_env(python, work / "env", extra, name, pip_args)
                builder = build.ProjectBuilder(tree, python_executable=env_python,
                                               runner=_quiet_runner)
            else:
                _pip_install(env_python, extra, name, pip_args)
        return Path(builder.build(kind, str(out_dir)))
    except build.BuildException as exc:
        raise BuildError(name, str(exc).splitlines()[0] if str(exc) else "backend failed") from None
    except build.BuildBackendException as exc:
        raise BuildError(name, f"the build backend failed: {_backend_reason(exc.exception)}"
                         ) from None


def _quiet_runner(cmd: Sequence[str], cwd: str | None = None,
                  extra_environ: Mapping[str, str] | None = None) -> None:
    """Run a backend hook with its output captured: the error names its last line."""
    env = {**os.environ, **(extra_environ or {})}
    subprocess.run(list(cmd), cwd=cwd, env=env, capture_output=True, text=True,
                   errors="replace", check=True)


def _backend_reason(exc: Exception) -> str:
    # The hook's own traceback ends with the backend's exception line.
    if isinstance(exc, subprocess.CalledProcessError):
        return _last_line(exc.stderr or exc.stdout or "")
    return f"{type(exc).__name__}: {exc}"


def _isolated_env(
    python: str, where: Path, requires: Iterable[str], name: str, pip_args: Sequence[str]
) -> str:
    """A fresh venv of the target Python holding ``requires``; its interpreter."""
    made = subprocess.run([python, "-m", "venv", str(where)], capture_output=True, text=True,
                          check=False)
    if made.returncode != 0:
        raise BuildError(name, "cannot make an isolated build environment: "
                         + _last_line(made.stderr or made.stdout))
    env_python = where / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    _pip_install(str(env_python), requires, name, pip_args)
    return str(env_python)


def _pip_install(python: str, requires: Iterable[str], name: str,
                 pip_args: Sequence[str]) -> None:
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    done = subprocess.run(
        [python, "-m", "pip", "install", "-q", *pip_args, *sorted(requires)],
        capture_output=True, text=True, check=False, env=env,
    )
    if done.returncode != 0:
        raise BuildError(name, f"cannot install build requirements ({', '.join(sorted(requires))})"
                         f": {_last_line(done.stderr or done.stdout)}")


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no output"
