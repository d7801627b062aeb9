"""The ``crosspin`` command: argument parsing and printing only.

Every :class:`~crosspin.errors.CrosspinError` becomes one ``error:`` line,
an optional ``hint:`` line and the error's exit code; a traceback for a user
error is a bug.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, Optional

import click

from crosspin import __version__
from crosspin.errors import CrosspinError

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="crosspin")
def cli() -> None:
    """One lockfile for every Python version and platform a project runs on."""


def _register() -> None:
    # Commands live in their own modules; importing them here keeps
    # `crosspin --version` from paying for them... they are light anyway.
    from crosspin._cli_check import check_command
    from crosspin._cli_compile import compile_command
    from crosspin._cli_envs import envs_command
    from crosspin._cli_sync import export_command, sync_command
    from crosspin._cli_why import why_command

    cli.add_command(compile_command)
    cli.add_command(sync_command)
    cli.add_command(export_command)
    cli.add_command(check_command)
    cli.add_command(why_command)
    cli.add_command(envs_command)


_register()


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Run the CLI; map crosspin errors to one clear line and an exit code."""
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="crosspin",
                 standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except CrosspinError as exc:
        report_error(exc)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except SystemExit:
        raise
    sys.exit(0)


def report_error(exc: CrosspinError) -> None:
    """Print ``error: ...`` and ``hint: ...`` to stderr (coloured on a TTY, not with NO_COLOR)."""
    from crosspin._progress import use_color

    color = use_color(sys.stderr)
    error = click.style("error:", fg="red", bold=True) if color else "error:"
    hint = click.style("hint:", fg="cyan", bold=True) if color else "hint:"
    click.echo(f"{error} {exc.message}", err=True, color=color)
    if exc.hint:
        click.echo(f"{hint} {exc.hint}", err=True, color=color)


def echo(message: Any = "", *, err: bool = True) -> None:
    """Print a line for people (stderr by default so stdout stays data)."""
    click.echo(message, err=err)
