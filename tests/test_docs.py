"""The docs stay in step with the code."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from tests.helpers import REPO


def test_cli_reference_is_current() -> None:
    """docs/cli.md is what the commands' --help says today."""
    spec = importlib.util.spec_from_file_location("gen", REPO / "tools" / "gen_cli_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (REPO / "docs" / "cli.md").read_text(encoding="utf-8") == module.render()


def test_readme_opens_with_the_two_setup_commands() -> None:
    """A newcomer sees the install-and-run and the test commands first."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    head = text.split("## ", 1)[0]
    assert "pip install . && crosspin compile requirements.in" in head
    assert "pip install -e '.[test]' && pytest" in head


def test_docs_links_resolve() -> None:
    """Every docs/*.md the README links to exists."""
    import re

    text = (REPO / "README.md").read_text(encoding="utf-8")
    for target in re.findall(r"\]\((docs/[^)]+)\)", text):
        assert (REPO / target).is_file(), target


def test_docs_build_without_warnings(tmp_path: Path) -> None:
    """'mkdocs build --strict' succeeds: no broken links, no page left out of the nav."""
    import subprocess
    import sys

    import pytest

    pytest.importorskip("mkdocs")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr


def test_integration_files_exist() -> None:
    """The pre-commit hook runs compile --check; the examples are there to copy."""
    hooks = (REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    assert "entry: crosspin compile --check" in hooks
    for name in ("tox.ini", "Dockerfile", "github-actions.yml"):
        assert (REPO / "examples" / name).is_file(), name
