"""Write docs/cli.md from the commands' own --help (run after changing options)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from crosspin.cli import cli

HEAD = """# CLI reference

Generated from the commands' `--help` by `python tools/gen_cli_docs.py`;
`tests/test_docs.py` fails when this file is out of date.

Every error a user can cause prints one `error:` line and a `hint:` line and
exits non-zero: 1 for "no solution" and fetch failures, 2 for bad input
(requirement lines, options, lockfiles).
"""


def render() -> str:
    """The whole reference page."""
    parts = [HEAD]
    with click.Context(cli, info_name="crosspin", terminal_width=88,
                       help_option_names=["-h", "--help"]) as ctx:
        parts.append(f"## crosspin\n\n```\n{cli.get_help(ctx)}\n```\n")
        for name in sorted(cli.commands):
            command = cli.commands[name]
            with click.Context(command, info_name=name, parent=ctx,
                               terminal_width=88) as sub:
                parts.append(f"## crosspin {name}\n\n```\n{command.get_help(sub)}\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    target = Path(__file__).resolve().parent.parent / "docs" / "cli.md"
    target.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {target}\n")
