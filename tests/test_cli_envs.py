"""crosspin envs: the matrix and the environment classes of a lock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.helpers import run_cli
from tests.test_cli_check import project

__all__ = ["project"]


def test_envs_shows_matrix_and_classes(project: tuple[Any, Path]) -> None:
    """Windows adds colorama, <3.11 adds backport: four classes of 30 environments."""
    _, cwd = project
    result = run_cli(["envs"], cwd=cwd)
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("matrix: python 3.9")
    assert lines[1] == "environments: 30"
    assert lines[2] == "classes: 4 (environments that install the same pins)"
    assert lines[3] == ("  1. 3 pins, 16 environments: linux-aarch64, linux-x86_64, "
                        "macos-arm64, macos-x86_64 (3.11, 3.12, 3.13, 3.14)")
    assert sum(int(x.split(", ")[1].split()[0]) for x in lines[3:]) == 30


def test_envs_list_names_every_environment(project: tuple[Any, Path]) -> None:
    """--list prints each of the 30 environment names."""
    _, cwd = project
    result = run_cli(["envs", "--list"], cwd=cwd)
    assert result.code == 0
    assert "  3.12-linux-x86_64" in result.stdout.splitlines()
