"""One sync per environment at a time: the second waits, says so, and gives up at a deadline."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from crosspin.errors import SyncError
from crosspin.sync._serial import LOCK_FILE, hold_environment


def test_the_second_holder_waits_and_says_whom_for(tmp_path: Path) -> None:
    """While one holds the environment the other waits, names the holder's pid, then gets in."""
    said: list[str] = []
    order: list[str] = []
    inside = threading.Event()

    def second() -> None:
        inside.wait(5)
        with hold_environment(tmp_path, timeout=30, on_wait=said.append):
            order.append("second")

    thread = threading.Thread(target=second)
    thread.start()
    with hold_environment(tmp_path, timeout=30, on_wait=said.append):
        inside.set()
        deadline = time.monotonic() + 10
        while not said and time.monotonic() < deadline:
            time.sleep(0.05)
        order.append("first")
    thread.join(10)
    assert order == ["first", "second"]
    assert len(said) == 1 and "Waiting for another sync (pid " in said[0]


def test_a_holder_that_never_leaves_ends_the_wait(tmp_path: Path) -> None:
    """Past the deadline the waiting sync stops with one error instead of hanging."""
    with hold_environment(tmp_path, timeout=5, on_wait=lambda _: None), \
            pytest.raises(SyncError, match="has held"), \
            hold_environment(tmp_path, timeout=0.3, on_wait=lambda _: None):
        pass


def test_no_lock_file_is_left_behind(tmp_path: Path) -> None:
    """The holder writes its pid and removes the file when done: the environment is as before."""
    with hold_environment(tmp_path, timeout=5, on_wait=lambda _: None):
        assert (tmp_path / LOCK_FILE).read_text().strip().isdigit()
    assert not (tmp_path / LOCK_FILE).exists()


def test_a_waiter_on_a_removed_file_locks_the_new_one(tmp_path: Path) -> None:
    """Four syncs at once: each gets in alone, though every holder removes the file."""
    inside = 0
    most = 0
    lock = threading.Lock()

    def one() -> None:
        nonlocal inside, most
        with hold_environment(tmp_path, timeout=30, on_wait=lambda _: None):
            with lock:
                inside += 1
                most = max(most, inside)
            time.sleep(0.2)
            with lock:
                inside -= 1

    threads = [threading.Thread(target=one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert most == 1
