"""Running crosspin against hostile inputs as a user would, and judging what they see.

:func:`run_crosspin` starts ``python -m crosspin`` in a subprocess with a
hard timeout (a hang is a finding, not a stuck suite) and can report the
process's peak memory. :func:`assert_one_error` is the shape every refusal
must have: a non-zero exit, exactly one ``error:`` line naming what was
refused and why, no traceback. :func:`make_venv` builds a small real venv
whose ``python3`` / ``python3.X`` links lead to stand-ins for the base
interpreter outside it, so a sync writing through them is caught by
:mod:`venv_snapshot` without ever touching a real interpreter.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from tests.helpers import ONE_ENV, run_cli
from tests.helpers.pythons import require_python

__all__ = [
    "ONE_ENV",
    "SYNC_PYTHON",
    "Run",
    "argv_logging_env",
    "assert_one_error",
    "assert_peak_below",
    "children_with",
    "compile_lock",
    "compile_run",
    "isolated_env",
    "make_venv",
    "resource_limit_file_size",
    "run_crosspin",
    "site_packages",
]

#: The minor version of the CPython sync tests install into (skipped when absent).
SYNC_PYTHON = "3.12"

# VmHWM, not ru_maxrss: Linux carries ru_maxrss over fork and exec, so a child
# of a big test process would report the parent's size; VmHWM starts afresh at exec.
_PEAK_SCRIPT = """\
import atexit, os, resource, sys
def _peak():
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        with open("/proc/self/status") as status:
            peak = next(int(l.split()[1]) for l in status if l.startswith("VmHWM:"))
    except (OSError, StopIteration, ValueError):
        pass
    with open(os.environ["HOSTILE_PEAK_FILE"], "w") as out:
        out.write(str(peak))
atexit.register(_peak)
from crosspin.cli import main
sys.argv[0] = "crosspin"
main(sys.argv[1:])
"""


@attrs.frozen(kw_only=True)
class Run:
    """What a user saw: exit code (``None`` if killed at the timeout), output, time, memory."""

    code: int | None
    stdout: str
    stderr: str
    seconds: float
    #: Peak resident memory in MiB (only with ``measure_memory``).
    peak_mib: float | None = None

    @property
    def timed_out(self) -> bool:
        """Whether the run had to be killed."""
        return self.code is None

    @property
    def errors(self) -> list[str]:
        """The ``error:`` lines of stderr."""
        return [line for line in self.stderr.splitlines() if line.startswith("error:")]

    def __str__(self) -> str:
        return (f"exit {self.code} after {self.seconds:.1f}s\n--- stdout\n{self.stdout[-2000:]}"
                f"\n--- stderr\n{self.stderr[-4000:]}")


def isolated_env(**extra: str) -> dict[str, str]:
    """The environment for a crosspin child: no pip config, no memo, quick retries."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "CROSSPIN_"))}
    env.update({"PIP_CONFIG_FILE": os.devnull, "CROSSPIN_MEMO": "0",
                "CROSSPIN_RETRY_BACKOFF": "0", "PIP_DISABLE_PIP_VERSION_CHECK": "1",
                "NO_COLOR": "1", "PYTHONDONTWRITEBYTECODE": "1"})
    env.update(extra)
    return env


def run_crosspin(
    args: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
    measure_memory: bool = False,
    preexec: Any = None,
) -> Run:
    """``python -m crosspin ARGS`` in ``cwd``; killed (with its process group) at ``timeout``."""
    environ = dict(env if env is not None else isolated_env())
    command = [sys.executable, "-m", "crosspin", *args]
    peak_file = cwd / ".hostile-peak"
    if measure_memory:
        environ["HOSTILE_PEAK_FILE"] = str(peak_file)
        command = [sys.executable, "-c", _PEAK_SCRIPT, *args]
    start = time.monotonic()
    process = subprocess.Popen(command, cwd=cwd, env=environ, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, errors="replace",
                               start_new_session=True, preexec_fn=preexec)
    try:
        out, err = process.communicate(timeout=timeout)
        code: int | None = process.returncode
    except subprocess.TimeoutExpired:
        _kill_group(process)
        out, err = process.communicate()
        code = None
    seconds = time.monotonic() - start
    peak = None
    if measure_memory and peak_file.exists():
        peak = int(peak_file.read_text()) / 1024  # ru_maxrss is in KiB on Linux
        peak_file.unlink()
    return Run(code=code, stdout=out, stderr=err, seconds=seconds, peak_mib=peak)


def _kill_group(process: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def assert_one_error(run: Run, *needles: str) -> str:
    """A clean refusal: exit code non-zero, one ``error:`` line holding ``needles``, no traceback.

    Needles are matched case-insensitively. Returns the error line.
    """
    assert not run.timed_out, f"crosspin hung:\n{run}"
    assert run.code not in (0, None), f"expected a failure:\n{run}"
    assert "Traceback" not in run.stderr + run.stdout, f"a traceback:\n{run}"
    assert len(run.errors) == 1, f"expected one error line:\n{run}"
    line = run.errors[0]
    for needle in needles:
        assert needle.lower() in line.lower(), f"{needle!r} not in {line!r}\n{run}"
    return line


def assert_peak_below(run: Run, mib: float) -> None:
    """The run's peak resident memory (``measure_memory``) stayed under ``mib`` MiB."""
    assert run.peak_mib is not None, f"no memory figure:\n{run}"
    assert run.peak_mib < mib, f"peak {run.peak_mib:.0f} MiB (bound {mib} MiB)\n{run}"


def compile_run(index_url: str, work: Path, requirements: str = "a\n", *args: str,
                cache: bool = False, env: Mapping[str, str] | None = None,
                timeout: float = 60, measure_memory: bool = False, preexec: Any = None) -> Run:
    """``crosspin compile requirements.in`` for :data:`ONE_ENV` in a subprocess.

    The cache is ``work/cache`` when ``cache`` is true, else off (``--no-cache``).
    """
    work.mkdir(parents=True, exist_ok=True)
    (work / "requirements.in").write_text(requirements)
    cache_args = ["--cache-dir", str(work / "cache")] if cache else ["--no-cache"]
    return run_crosspin(["compile", "requirements.in", "-o", "requirements.txt", "--isolated",
                         "--index-url", index_url, *cache_args, *ONE_ENV, *args], cwd=work,
                        env=env, timeout=timeout, measure_memory=measure_memory,
                        preexec=preexec)


def compile_lock(index_url: str, work: Path, requirements: Sequence[str], *args: str,
                 output: str = "requirements.txt") -> Path:
    """A hashed lock for :data:`ONE_ENV` (setup, in-process: the test is about what follows)."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "requirements.in").write_text("".join(f"{r}\n" for r in requirements))
    result = run_cli(["compile", "requirements.in", "-o", output, "--isolated", "--no-cache",
                      "--generate-hashes", "--index-url", index_url, *ONE_ENV, *args], cwd=work)
    assert result.code == 0, result.stderr
    return work / output


def make_venv(where: Path) -> Path:
    """A small venv of :data:`SYNC_PYTHON`; returns its ``bin/python``.

    ``bin/python`` is a real copy (crosspin runs it to inspect the target);
    ``bin/python3`` and ``bin/python3.12`` are links to copies in a sibling
    ``base/`` folder, standing for the base interpreter a normal venv links
    to: writing through them changes ``base/``, which the snapshot sees.
    """
    python = require_python(SYNC_PYTHON)
    subprocess.run([str(python), "-m", "venv", "--copies", "--without-pip", str(where)],
                   check=True, env={k: v for k, v in os.environ.items()
                                    if not k.startswith("PIP_")})
    base = where.parent / f"{where.name}-base"
    base.mkdir(exist_ok=True)
    for name in ("python3", "python3.12"):
        link = where / "bin" / name
        shutil.copy2(where / "bin" / "python", base / name)
        link.unlink()
        link.symlink_to(base / name)
    return where / "bin" / "python"


def site_packages(venv: Path) -> Path:
    """The venv's purelib folder."""
    return venv / "lib" / "python3.12" / "site-packages"


def resource_limit_file_size(limit: int) -> Any:
    """A ``preexec_fn`` that caps the size of files the child may write (EFBIG beyond)."""

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


_ARGV_LOGGER = """\
import json, os, sys
_log = os.environ.get("HOSTILE_ARGV_LOG")
if _log:
    with open(_log, "a") as _out:
        _out.write(json.dumps(getattr(sys, "orig_argv", sys.argv)) + "\\n")
"""


def argv_logging_env(folder: Path, **extra: str) -> tuple[dict[str, str], Path]:
    """An environment in which every Python process appends its argv to a log (sitecustomize).

    Returns the environment and the log's path: what a local user could read
    with ``ps`` while crosspin and its children run.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(_ARGV_LOGGER)
    log = folder / "argv.log"
    env = isolated_env(PYTHONPATH=str(folder), HOSTILE_ARGV_LOG=str(log), **extra)
    return env, log


def children_with(log: Path, secret: str) -> list[str]:
    """argv lines of crosspin's child processes (not crosspin itself) that contain ``secret``."""
    lines = log.read_text().splitlines() if log.exists() else []
    return [line for line in lines if secret in line and '"crosspin"' not in line]
