"""Fixtures of the CLI tests: a small project compiled into a lock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import SPLIT_PROJECT, run_cli


@pytest.fixture
def project(make_index: Any, tmp_path: Path) -> tuple[Any, Path]:
    """A requirements.in compiled into requirements.txt against a loopback index."""
    server = make_index.serve(make_index.build(SPLIT_PROJECT))
    (tmp_path / "requirements.in").write_text("app\n", encoding="utf-8")
    result = run_cli(["compile", "requirements.in", "--isolated", "--index-url",
                      server.index_url, "--cache-dir", str(tmp_path / "cache"), "-q"],
                     cwd=tmp_path)
    assert result.code == 0, result.stderr
    return server, tmp_path
