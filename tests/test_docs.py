"""The docs stay in step with the code."""

from __future__ import annotations

import importlib.util

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
