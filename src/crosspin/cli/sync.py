"""``crosspin sync``: options in, an environment that matches the lock out."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from crosspin.cli._options import index_command_line, lock_settings, with_index_options
from crosspin.cli._output import echo
from crosspin.cli._progress import reporter
from crosspin.errors import UsageError
from crosspin.index import IndexClient
from crosspin.settings import Tuning, pip_environment
from crosspin.sync import LINK_MODES, InstallOptions, LinkMode, SyncRequest, apply_plan, session

__all__ = ["sync_command"]

def _default_python() -> Path:
    venv = os.environ.get("VIRTUAL_ENV")
    return _venv_python(Path(venv) if venv else Path(".venv"))


def _venv_python(venv: Path) -> Path:
    if sys.platform == "win32":
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


@click.command("sync")
@click.argument("locks", nargs=-1, type=click.Path(dir_okay=False))
@click.option("--python", "python", default=None, type=click.Path(dir_okay=False),
              help="Interpreter to sync (default: $VIRTUAL_ENV, else ./.venv).")
@click.option("--venv", default=None, type=click.Path(file_okay=False),
              help="Virtual environment folder to sync.")
@click.option("-n", "--dry-run", is_flag=True,
              help="Print the plan; exit 1 when changes are pending, 0 when in sync.")
@click.option("-a", "--ask", is_flag=True, help="Show the plan and ask before changing anything.")
@click.option("--no-build", is_flag=True, help="Never build sdists; wheels only.")
@click.option("--link-mode", type=click.Choice(LINK_MODES), default="auto", show_default=True,
              help="How files get from the cache into the environment: hardlink, else clone, "
                   "else copy (auto), or only one of them.")
@click.option("--compile-bytecode", is_flag=True,
              help="Compile the installed modules to bytecode (in parallel).")
@click.option("--extras", "extras", multiple=True,
              help="pylock.toml: extras to install (repeatable, or comma-separated).")
@click.option("--group", "groups", multiple=True,
              help="pylock.toml: dependency groups to install instead of its default-groups "
                   "(repeatable, or comma-separated).")
@click.option("-v", "--verbose", count=True,
              help="One line per file downloaded (or found in the cache) and installed.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but warnings and errors.")
@with_index_options
def sync_command(
    locks: Sequence[str], python: str | None, venv: str | None, dry_run: bool,
    ask: bool, no_build: bool, link_mode: LinkMode, compile_bytecode: bool,
    extras: Sequence[str], groups: Sequence[str],
    verbose: int, quiet: bool, **index: Any,
) -> None:
    """Make an environment match the lock: install what it lacks, remove the rest.

    Every file is downloaded and its hash checked, and every wheel verified,
    before anything is removed or installed; two syncs of one environment
    never overlap. Several locks are merged (conflicting pins are an
    error); from a pylock.toml, --extras and --group select what to install.
    On a terminal a live display shows the downloads and installs.
    """
    if python and venv:
        raise UsageError("give --python or --venv, not both")
    interpreter = Path(python) if python else (
        _venv_python(Path(venv)) if venv else _default_python())
    if not interpreter.exists():
        raise UsageError(f"no interpreter at {interpreter}",
                         hint="pass --python PATH or --venv DIR, or activate a virtualenv")
    command_line = index_command_line(index)
    tuning = Tuning.from_environ(os.environ)
    request = SyncRequest(
        locks=tuple(Path(p) for p in (locks or ("requirements.txt",))),
        interpreter=interpreter,
        extras=_names(extras),
        groups=_names(groups) if groups else None,
        lock_timeout=tuning.sync_lock_timeout,
    )
    # The environment is held from planning to the last file written (not for --dry-run).
    with session(request, on_wait=echo, hold=not dry_run) as prepared:
        plan = prepared.plan
        for warning in plan.warnings():
            echo(f"warning: {warning}")
        if plan.is_empty:
            if not quiet:
                echo("Everything up to date")
            return
        if dry_run or ask:
            for line in plan.describe():
                click.echo(line)
            if dry_run:
                sys.exit(1)
            if not click.confirm("Would you like to proceed with these changes?", default=False):
                sys.exit(1)
        settings = lock_settings(prepared.lock.sources, command_line)
        options = InstallOptions(allow_build=not no_build,
                                 build_environment=pip_environment(settings, os.environ),
                                 build_timeout=tuning.build_timeout, link_mode=link_mode,
                                 compile_bytecode=compile_bytecode)
        with IndexClient(settings) as client, \
                reporter(quiet=quiet, verbose=verbose) as progress:
            result = apply_plan(plan, prepared.target, client, options=options,
                                reporter=progress)
    if not quiet:
        echo(result.summary())


def _names(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(n.strip() for v in values for n in v.split(",") if n.strip())
