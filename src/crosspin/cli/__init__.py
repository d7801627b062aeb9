"""The ``crosspin`` command: argument parsing and printing only; nothing imports this package.

One module per command (``compile``, ``sync``, ``export``, ``check``,
``envs``, ``why``) parses its options, calls :mod:`crosspin.pipeline` or
:mod:`crosspin.sync` and prints what they return; the live progress display
(``_progress``, rich) lives here and lower layers report through a small
protocol. ``main`` is the console entry point.

Every :class:`~crosspin.errors.CrosspinError` becomes one ``error:`` line,
an optional ``hint:`` line and the error's exit code; a traceback for a user
error is a bug.
"""

from __future__ import annotations

import importlib
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

import click

from crosspin import __version__

if TYPE_CHECKING:
    from crosspin.errors import CrosspinError

__all__ = ["cli", "main"]

#: command name -> (module, attribute). Imported on first use, so
#: `crosspin --version` and `crosspin compile` do not pay for every command
#: (nor for attrs, packaging, httpx: the commands' imports).
_COMMANDS = {
    "check": ("crosspin.cli.check", "check_command"),
    "compile": ("crosspin.cli.compile", "compile_command"),
    "envs": ("crosspin.cli.envs", "envs_command"),
    "export": ("crosspin.cli.export", "export_command"),
    "sync": ("crosspin.cli.sync", "sync_command"),
    "why": ("crosspin.cli.why", "why_command"),
}


class _LazyGroup(click.Group):
    """A group that imports a command's module when the command is first asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command name, without importing any."""
        return sorted(set(self._commands_dict()) | set(_COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command, importing its module on first use."""
        known = self._commands_dict()
        if cmd_name not in known and cmd_name in _COMMANDS:
            module, attr = _COMMANDS[cmd_name]
            command = getattr(importlib.import_module(module), attr)
            known[cmd_name] = command
        return known.get(cmd_name)

    def _commands_dict(self) -> dict[str, click.Command]:
        return self.__dict__.setdefault("_lazy_commands", {})  # type: ignore[no-any-return]

    @property  # type: ignore[override]
    def commands(self) -> dict[str, click.Command]:  # Group.commands: every command, loaded
        """Every command (imports them all: for help pages and docs)."""
        for name in _COMMANDS:
            self.get_command(click.Context(self), name)
        return self._commands_dict()

    @commands.setter
    def commands(self, value: dict[str, click.Command]) -> None:
        self._commands_dict().update(value)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="crosspin")
def cli() -> None:
    """One lockfile for every Python version and platform a project runs on."""


class _Terminated(BaseException):
    """SIGTERM arrived: unwind like Ctrl-C (no ``except Exception`` may swallow it)."""


def _on_signal(signum: int, frame: object) -> None:
    # Stop the builds first: unwinding may wait for worker threads that wait for them.
    _stop_children()
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise _Terminated()


def _stop_children() -> None:
    """Kill running build backends with their process groups (if any build ever started)."""
    process = sys.modules.get("crosspin.metadata._process")
    if process is not None:
        process.stop_children()


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI; map crosspin errors to one clear line and an exit code.

    Ctrl-C exits 130 with "Interrupted.", SIGTERM 143 with "Terminated.";
    both first stop every build backend crosspin started, with its group.
    """
    try:
        previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread (an embedding caller): leave signals alone
        previous = {}
    try:
        _run(argv)
    except _Terminated:
        _stop_children()
        click.echo("Terminated.", err=True)
        sys.exit(143)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _run(argv: Sequence[str] | None) -> None:
    try:
        _invoke(argv)
    finally:
        progress = sys.modules.get("crosspin.cli._progress")
        if progress is not None:  # --color/--no-color hold for one run only
            progress.force_color(None)


def _invoke(argv: Sequence[str] | None) -> None:
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="crosspin",
                 standalone_mode=False)
    except click.exceptions.Abort as exc:
        # click turns Ctrl-C (KeyboardInterrupt) into Abort under standalone_mode=False.
        if isinstance(exc.__cause__ or exc.__context__, KeyboardInterrupt):
            _interrupted()
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        _interrupted()
    except SystemExit:
        raise
    except Exception as exc:
        # lazy: crosspin.errors pulls in attrs, which `crosspin --version` need not pay for.
        from crosspin.errors import CrosspinError

        if not isinstance(exc, CrosspinError):
            raise
        report_error(exc)
        sys.exit(exc.exit_code)
    sys.exit(0)


def _interrupted() -> NoReturn:
    """Ctrl-C: one line, the shell's exit code for SIGINT (128 + 2), no traceback."""
    _stop_children()
    click.echo("Interrupted.", err=True)
    sys.exit(130)


def report_error(exc: CrosspinError) -> None:
    """Print ``error: ...`` and ``hint: ...`` to stderr (coloured on a TTY, not with NO_COLOR)."""
    # lazy: _progress pulls in attrs; only an error report needs it here.
    from crosspin.cli._progress import use_color

    color = use_color(sys.stderr)
    error = click.style("error:", fg="red", bold=True) if color else "error:"
    hint = click.style("hint:", fg="cyan", bold=True) if color else "hint:"
    click.echo(f"{error} {exc.message}", err=True, color=color)
    if exc.hint:
        click.echo(f"{hint} {exc.hint}", err=True, color=color)
