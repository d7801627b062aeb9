"""crosspin why: chains from the roots to a package, grouped by environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.helpers import run_cli
from tests.test_cli_check import project

__all__ = ["project"]


def test_why_groups_environments_with_identical_chains(project: tuple[Any, Path]) -> None:
    """colorama is wanted only on Windows: one group of 6 and a not-installed line."""
    _, cwd = project
    result = run_cli(["why", "colorama"], cwd=cwd)
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "windows-x86_64 (every Python) (6 environments):",
        "  -r requirements.in -> app==1.0.0 -> colorama==0.4.6",
        "not installed in: linux-aarch64, linux-x86_64, macos-arm64, macos-x86_64 "
        "(every Python) (24 environments)",
    ]


def test_why_follows_transitive_chains(project: tuple[Any, Path]) -> None:
    """helper comes through app -> lib -> helper everywhere."""
    _, cwd = project
    result = run_cli(["why", "helper", "--python", "3.12", "--platform", "linux-x86_64"],
                     cwd=cwd)
    assert result.code == 0, result.stderr
    assert "  -r requirements.in -> app==1.0.0 -> lib==2.0.0 -> helper==2.0.0" in result.stdout
    assert "(1 environment)" in result.stdout


def test_why_unknown_package(project: tuple[Any, Path]) -> None:
    """A name the lock does not pin is a usage error with a hint."""
    _, cwd = project
    result = run_cli(["why", "nope"], cwd=cwd)
    assert result.code == 2
    assert "error: nope is not in requirements.txt" in result.stderr


def test_why_environment_filter_outside_matrix(project: tuple[Any, Path]) -> None:
    """--python 3.7 matches nothing: the message names the matrix."""
    _, cwd = project
    result = run_cli(["why", "app", "--python", "3.7"], cwd=cwd)
    assert result.code == 2
    assert "no environment of the lock matches --python 3.7 --platform *" in result.stderr
