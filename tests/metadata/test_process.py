"""Build children: quiet, under a deadline, and killed with everything they started."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from crosspin.metadata._process import ChildFailed, ChildTimedOut, run_child

pytestmark = pytest.mark.skipif(os.name == "nt", reason="process groups are POSIX")

_SPAWNER = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
open(sys.argv[1], "w").write(str(child.pid))
print("started", flush=True)
time.sleep(60)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as handle:
        return handle.read().split(")")[-1].split()[0] != "Z"


def test_a_child_past_its_deadline_is_killed_with_its_group(tmp_path: Path) -> None:
    """The hook and the process it started both end at the deadline; the output is kept."""
    pidfile = tmp_path / "pid"
    start = time.monotonic()
    with pytest.raises(ChildTimedOut) as caught:
        run_child([sys.executable, "-c", _SPAWNER, str(pidfile)], env=os.environ,
                  deadline=time.monotonic() + 2, timeout=2)
    assert time.monotonic() - start < 10
    assert caught.value.output == ("started",)
    grandchild = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild)


def test_a_failing_child_keeps_its_last_lines() -> None:
    """Exit 3 after 30 lines: ChildFailed with the last 20, blank lines dropped."""
    script = "for i in range(30): print(f'line {i}'); print()\nraise SystemExit(3)"
    with pytest.raises(ChildFailed) as caught:
        run_child([sys.executable, "-c", script], env=os.environ,
                  deadline=time.monotonic() + 30, timeout=30)
    assert caught.value.returncode == 3
    assert caught.value.output == tuple(f"line {i}" for i in range(10, 30))


def test_log_sees_every_line_as_it_comes() -> None:
    """With a log (-v), each line goes to it; the run's result is the tail."""
    seen: list[str] = []
    tail = run_child([sys.executable, "-c", "print('a'); print('b')"], env=os.environ,
                     deadline=time.monotonic() + 30, timeout=30, log=seen.append)
    assert seen == ["a", "b"]
    assert tail == ("a", "b")
