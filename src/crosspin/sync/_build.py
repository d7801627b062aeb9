"""Building an sdist or a local folder into a wheel for the target interpreter.

The backend runs under the *target* Python (``pyproject_hooks`` through
``build.ProjectBuilder``), so the wheel fits it. Build requirements
(``[build-system] requires`` plus what the backend asks for) go into an
isolated virtual environment made with the target's own ``venv`` and
filled by its ``pip``. That pip is configured only through its
environment: the caller passes the sync's index settings as ``PIP_*``
variables (``PIP_CONFIG_FILE`` pointing nowhere), so build requirements
come from exactly the lock's indexes, never from pip's default index, and
no credential ever appears on a command line. A folder marked editable is
built with PEP 660 ``build_editable``.

Every child runs in its own process group with a deadline: on timeout,
Ctrl-C or any error the whole group is killed (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Literal

from crosspin.errors import BuildError
from crosspin.metadata import unpack_sdist

__all__ = ["build_wheel"]

#: Seconds between SIGTERM and SIGKILL for a build's process group.
_GRACE = 2.0


class _Timeout(Exception):
    """A build child ran past its deadline (its group was killed)."""


def build_wheel(
    source: Path,
    python: str,
    out_dir: Path,
    *,
    name: str,
    editable: bool = False,
    environment: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> Path:
    """Build ``source`` (an sdist file or a project folder) with ``python``.

    ``environment`` is the children's environment (``None``: this
    process's, minus ``PIP_*``); ``timeout`` bounds every child process in
    seconds. Returns the wheel's path in ``out_dir``; ``BuildError`` when
    the build environment cannot be made, the backend fails or a step
    times out.
    """
    # lazy: building is rare and ``build`` is slow to import (it runs before any change).
    import build
    import pyproject_hooks

    # pyproject_hooks re-issues the backend's UserWarnings in this process, where Python
    # would print them (with their temporary paths) on sync's stderr.
    warnings.filterwarnings("ignore", category=pyproject_hooks.BuildBackendWarning)
    env = dict(environment) if environment is not None else _without_pip(os.environ)
    runner = _Runner(env, timeout)
    work = Path(tempfile.mkdtemp(prefix="crosspin-build-", dir=out_dir))
    tree = source if source.is_dir() else unpack_sdist(source, work / "src", name)
    kind: Literal["editable", "wheel"] = "editable" if editable else "wheel"
    try:
        builder = build.ProjectBuilder(tree, python_executable=python, runner=runner)
        requires = set(builder.build_system_requires)
        env_python = python
        if requires:
            env_python = _isolated_env(python, work / "env", requires, runner)
            builder = build.ProjectBuilder(tree, python_executable=env_python, runner=runner)
        extra = set(builder.get_requires_for_build(kind))
        if extra:
            if env_python == python:
                env_python = _isolated_env(python, work / "env", extra, runner)
                builder = build.ProjectBuilder(tree, python_executable=env_python,
                                               runner=runner)
            else:
                _pip_install(env_python, extra, runner)
        return Path(builder.build(kind, str(out_dir)))
    except (_Timeout, _ChildFailed) as exc:
        raise BuildError(name, _reason(exc, timeout)) from None
    except build.BuildException as exc:
        raise BuildError(name, str(exc).splitlines()[0] if str(exc) else "backend failed") from None
    except build.BuildBackendException as exc:
        inner = exc.exception
        if isinstance(inner, (_Timeout, _ChildFailed)):  # raised by our runner, inside build
            raise BuildError(name, _reason(inner, timeout)) from None
        raise BuildError(name, f"the build backend failed: {_backend_reason(inner)}") from None


def _reason(exc: Exception, timeout: float | None) -> str:
    if isinstance(exc, _Timeout):
        return f"{exc} took longer than {timeout:g}s (CROSSPIN_BUILD_TIMEOUT)"
    return str(exc)


def _without_pip(environ: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in environ.items() if not k.startswith("PIP_")}


class _ChildFailed(Exception):
    """A setup step (venv, pip) failed: its message is the reason."""


class _Runner:
    """Runs build children in their own process group, with a deadline, output captured.

    Also the ``runner`` of ``build.ProjectBuilder`` (its hooks).
    """

    def __init__(self, env: Mapping[str, str], timeout: float | None) -> None:
        self.env = dict(env)
        self.timeout = timeout

    def __call__(self, cmd: Sequence[str], cwd: str | None = None,
                 extra_environ: Mapping[str, str] | None = None) -> None:
        """Run a backend hook; ``CalledProcessError`` (with its output) when it fails."""
        done = self.run(cmd, cwd=cwd, extra=extra_environ, what="the build backend")
        if done.returncode != 0:
            raise subprocess.CalledProcessError(done.returncode, list(cmd), done.stdout,
                                                done.stderr)

    def run(self, cmd: Sequence[str], *, what: str, cwd: str | None = None,
            extra: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """Run ``cmd`` to the end, or kill its group at the deadline (``_Timeout``)."""
        process = subprocess.Popen(
            list(cmd), cwd=cwd, env={**self.env, **(extra or {})}, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace",
            start_new_session=True)
        try:
            out, err = process.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            raise _Timeout(what) from None
        except BaseException:  # Ctrl-C, SIGTERM turned into an exception, anything
            _kill_group(process)
            raise
        return subprocess.CompletedProcess(list(cmd), process.returncode, out, err)


def _kill_group(process: subprocess.Popen[str]) -> None:
    """SIGTERM the child's process group, SIGKILL it after a grace period; reap the child."""
    if sys.platform == "win32":  # pragma: no cover
        process.kill()
        process.communicate()
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.communicate(timeout=_GRACE)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()


def _backend_reason(exc: Exception) -> str:
    # The hook's own traceback ends with the backend's exception line.
    if isinstance(exc, subprocess.CalledProcessError):
        return _last_line(exc.stderr or exc.stdout or "")
    return f"{type(exc).__name__}: {exc}"


def _isolated_env(python: str, where: Path, requires: Iterable[str], runner: _Runner) -> str:
    """A fresh venv of the target Python holding ``requires``; its interpreter."""
    made = runner.run([python, "-m", "venv", str(where)], what="making the build environment")
    if made.returncode != 0:
        raise _ChildFailed("cannot make an isolated build environment: "
                           + _last_line(made.stderr or made.stdout))
    env_python = where / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    _pip_install(str(env_python), requires, runner)
    return str(env_python)


def _pip_install(python: str, requires: Iterable[str], runner: _Runner) -> None:
    wanted = sorted(requires)
    done = runner.run([python, "-m", "pip", "install", "-q", *wanted],
                      what="installing build requirements",
                      extra={"PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    if done.returncode != 0:
        raise _ChildFailed(f"cannot install build requirements ({', '.join(wanted)}): "
                           f"{_last_line(done.stderr or done.stdout)}")


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no output"
