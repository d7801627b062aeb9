"""``--help`` in sections, with defaults and examples (click's own formatting, no extra dependency).

Each option names its section (``option("Matrix", "--python", ...)``);
:class:`SectionedCommand` prints one block per section in the order they
first appear, then an ``Examples:`` block and a closing note. Rows come
from click's ``Option.get_help_record``, so wrapping, ``[default: ...]``
and ``[required]`` stay click's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Callable, TypeVar

import click

__all__ = ["SectionedCommand", "SectionedOption", "option"]

_F = TypeVar("_F", bound=Callable[..., Any])


class SectionedOption(click.Option):
    """A click option that knows which ``--help`` section it belongs to."""

    def __init__(self, *args: Any, section: str = "Options", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.section = section


def option(section: str, *decls: str, **kwargs: Any) -> Callable[[_F], _F]:
    """``click.option`` placed in ``section`` of the help page."""
    return click.option(*decls, cls=SectionedOption, section=section, **kwargs)


class SectionedCommand(click.Command):
    """A command whose ``--help`` groups options by section and ends with examples.

    ``examples`` are ``(command line, what it does)`` pairs; ``note`` is a
    closing paragraph (e.g. which pip-tools options are accepted silently).
    """

    def __init__(
        self,
        *args: Any,
        examples: Sequence[tuple[str, str]] = (),
        note: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.examples = tuple(examples)
        self.note = note

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """One block per section, in the order the sections first appear."""
        sections: dict[str, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            if isinstance(param, click.Argument):
                continue
            record = param.get_help_record(ctx)
            if record is None:
                continue
            section = getattr(param, "section", "Messages")
            sections.setdefault(section, []).append(record)
        for title, rows in sections.items():
            with formatter.section(title):
                formatter.write_dl(rows)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The examples, then the note."""
        if self.examples:
            with formatter.section("Examples"):
                for command, what in self.examples:
                    formatter.write_text(command)
                    if what:
                        with formatter.indentation():
                            formatter.write_text(what)
        if self.note:
            formatter.write_paragraph()
            formatter.write_text(self.note)
        super().format_epilog(ctx, formatter)
