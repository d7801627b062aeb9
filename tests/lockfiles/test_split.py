"""Locks whose matrix splits a minor at a patch boundary (issue 14): sync and export pick parts."""

from __future__ import annotations

from pathlib import Path

import pytest

from crosspin.environments import Environment, Platform
from crosspin.errors import MatrixError
from crosspin.lockfiles import read_lock

LOCK = """\
# crosspin-matrix: python=3.9.0-3.9.1,3.9.2+,3.10; platforms=linux-x86_64
cryptography==43.0.3 ; python_full_version < "3.9.2"
cryptography==50.0.2 ; python_full_version >= "3.9.2"
"""


@pytest.mark.parametrize(("full", "part", "pin"), [
    ("3.9.0", "3.9.0-3.9.1-linux-x86_64", "43.0.3"),
    ("3.9.1", "3.9.0-3.9.1-linux-x86_64", "43.0.3"),
    ("3.9.2", "3.9.2+-linux-x86_64", "50.0.2"),
    ("3.9.21", "3.9.2+-linux-x86_64", "50.0.2"),
    ("3.10.4", "3.10-linux-x86_64", "50.0.2"),
])
def test_the_running_full_version_picks_the_part(
    tmp_path: Path, full: str, part: str, pin: str
) -> None:
    """sync finds the part covering the interpreter's full version and its pins."""
    path = tmp_path / "requirements.txt"
    path.write_text(LOCK, encoding="utf-8")
    data = read_lock(path)
    major, minor, micro = (int(x) for x in full.split("."))
    env = data.environment_for((major, minor), micro, "linux", "x86_64", full)
    assert env is not None and env.name == part
    markers = {**Environment(python=(major, minor), platform=Platform.from_name(
        "linux-x86_64")).marker_environment, "python_full_version": full}
    assert [str(p.version) for p in data.select(markers)] == [pin]


def test_a_python_outside_every_part_is_refused(tmp_path: Path) -> None:
    """3.11 is in no part of the recorded matrix: MatrixError names the matrix."""
    path = tmp_path / "requirements.txt"
    path.write_text(LOCK, encoding="utf-8")
    with pytest.raises(MatrixError, match=r"3\.9\.0-3\.9\.1, 3\.9\.2\+, 3\.10"):
        read_lock(path).environment_for((3, 11), 0, "linux", "x86_64", "3.11.0")
