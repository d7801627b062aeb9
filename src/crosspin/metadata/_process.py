"""Running build children (backend hooks, pip) quietly, under a deadline, killable as a group.

Every child starts in its own session (its own process group), so a
backend and whatever it starts (compilers, a hanging helper) end together:
on the deadline, on success (no leftovers), and when crosspin is
interrupted (:func:`stop_children`, called by the CLI on Ctrl-C and
SIGTERM; builds run in resolver worker threads, so the registry is
process-wide). Output is captured, never printed, unless a ``log``
function is given (``-v``); the last lines are kept for the error message.
"""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any

__all__ = ["ChildFailed", "ChildStopped", "ChildTimedOut", "run_child", "stop_children"]

#: Lines of a child's output kept for an error message.
KEPT_LINES = 20
#: Longest line kept (a minified blob in a log must not fill the message).
_LINE_CHARS = 400
#: Seconds between SIGTERM and SIGKILL when a group is stopped.
_GRACE = 2.0

_lock = threading.Lock()
_running: set[subprocess.Popen[bytes]] = set()
_stopping = False


class ChildFailed(Exception):
    """A child exited non-zero; ``output`` holds its last lines."""

    def __init__(self, returncode: int, output: Sequence[str]) -> None:
        super().__init__(f"exit status {returncode}")
        self.returncode = returncode
        self.output = tuple(output)


class ChildTimedOut(Exception):
    """A child outlived its deadline and was killed with its group."""

    def __init__(self, seconds: float, output: Sequence[str]) -> None:
        super().__init__(f"timed out after {seconds:g} s")
        self.seconds = seconds
        self.output = tuple(output)


class ChildStopped(Exception):
    """crosspin is stopping (interrupted): no child may start, running ones are killed."""


def run_child(
    cmd: Sequence[str],
    *,
    cwd: str | None = None,
    env: Mapping[str, str],
    deadline: float,
    timeout: float,
    log: Callable[[str], None] | None = None,
) -> tuple[str, ...]:
    """Run ``cmd`` to completion; return its last output lines.

    ``deadline`` is a :func:`time.monotonic` instant (``timeout`` is the
    budget it came from, for the message). Raises :class:`ChildFailed`,
    :class:`ChildTimedOut` or :class:`ChildStopped`.
    """
    with _lock:
        if _stopping:
            raise ChildStopped("interrupted")
        process = subprocess.Popen(
            list(cmd), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **_OWN_GROUP,
        )
        _running.add(process)
    tail: collections.deque[str] = collections.deque(maxlen=KEPT_LINES)
    assert process.stdout is not None
    reader = threading.Thread(target=_read, args=(process.stdout, tail, log), daemon=True)
    reader.start()
    try:
        try:
            code = process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal(process, terminate=True)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=_GRACE)
            raise ChildTimedOut(timeout, tuple(tail)) from None
    finally:
        # Whatever the child left running (a daemon, a stuck compiler) goes with it.
        _signal(process, terminate=False)
        process.wait()
        with _lock:
            _running.discard(process)
            stopped = _stopping
    reader.join(timeout=_GRACE)
    if stopped:
        raise ChildStopped("interrupted")
    if code != 0:
        raise ChildFailed(code, tuple(tail))
    return tuple(tail)


def stop_children() -> None:
    """Kill every running child with its group (SIGTERM, then SIGKILL) and refuse new ones.

    For the CLI on Ctrl-C or SIGTERM; safe to call from the main thread
    while workers wait on their children (their waits then end).
    """
    global _stopping
    with _lock:
        _stopping = True
        running = list(_running)
    for process in running:
        _signal(process, terminate=True)
    end = time.monotonic() + _GRACE
    for process in running:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.0, end - time.monotonic()))
    for process in running:
        _signal(process, terminate=False)


if os.name == "nt":  # pragma: no cover - Windows has no process groups to signal
    _OWN_GROUP: dict[str, Any] = {
        "creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}

    def _signal(process: subprocess.Popen[bytes], *, terminate: bool) -> None:
        with contextlib.suppress(OSError):
            process.kill()

else:
    _OWN_GROUP = {"start_new_session": True}

    def _signal(process: subprocess.Popen[bytes], *, terminate: bool) -> None:
        """SIGTERM (``terminate``) or SIGKILL to the child's whole process group."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGTERM if terminate else signal.SIGKILL)


def _read(stream: IO[bytes], tail: collections.deque[str],
          log: Callable[[str], None] | None) -> None:
    """Keep the last lines of ``stream`` (and pass each to ``log``) until it closes."""
    with stream:
        for raw in stream:
            line = raw.decode("utf-8", errors="replace").rstrip()
            if not line.strip():
                continue
            if len(line) > _LINE_CHARS:
                line = line[:_LINE_CHARS] + " ..."
            tail.append(line)
            if log is not None:
                log(line)
