"""crosspin envs: the matrix and the environment classes of a lock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.helpers import run_cli


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


def test_small_groups_list_by_python_version(make_index: Any, tmp_path: Path) -> None:
    """envs, envs --list and why name 3.9 before 3.10 (version order, not text or matrix order)."""
    server = make_index.serve(make_index.build({"six": {"1.16.0": {"requires_python": ">=3.8"}}}))
    (tmp_path / "requirements.in").write_text("six\n", encoding="utf-8")
    compiled = run_cli(["compile", "requirements.in", "--isolated", "--index-url",
                        server.index_url, "--cache-dir", str(tmp_path / "cache"), "-q",
                        "--python", "3.10,3.9", "--platform", "linux-x86_64"],
                       cwd=tmp_path)
    assert compiled.code == 0, compiled.stderr
    envs = run_cli(["envs", "--list"], cwd=tmp_path).stdout.splitlines()
    assert envs[2:4] == ["  3.9-linux-x86_64", "  3.10-linux-x86_64"]
    assert envs[-1] == "  1. 1 pins, 2 environments: 3.9-linux-x86_64; 3.10-linux-x86_64"
    why = run_cli(["why", "six"], cwd=tmp_path)
    assert why.stdout.splitlines() == [
        "3.9-linux-x86_64; 3.10-linux-x86_64 (2 environments):",
        "  -r requirements.in -> six==1.16.0",
    ]
