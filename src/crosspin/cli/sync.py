"""``crosspin sync``: options in, an environment that matches the lock out.

Every pip-sync 7.6 option is accepted with pip-sync's meaning (``--user``
is refused, naming ``--venv``); ``[tool.pip-tools]`` (and its ``sync``
sub-table) fills options not given, as for compile. The interpreter is
``--python`` (a name is looked up on ``PATH``), else the ``--venv`` folder,
else ``$VIRTUAL_ENV``, else ``./.venv``; a missing virtual environment is
created first, and removed again if the sync fails or only plans.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from crosspin import __version__, _noop
from crosspin.cli._compile_options import with_compile_options
from crosspin.cli._help import SectionedCommand, option
from crosspin.cli._layers import config_values, given_params
from crosspin.cli._options import index_command_line, lock_settings, with_index_options
from crosspin.cli._output import echo, set_color
from crosspin.cli._piptools import check_refused, translate_pip_args
from crosspin.cli._progress import reporter
from crosspin.errors import UsageError
from crosspin.index import IndexClient
from crosspin.lock import LockedPackage
from crosspin.settings import ConfigChoice, Tuning, load_config, pip_environment
from crosspin.sync import (
    LINK_MODES,
    InstallOptions,
    SyncRequest,
    Target,
    apply_plan,
    create_venv,
    session,
    venv_python,
)

__all__ = ["sync_command"]

_TARGET, _WHAT, _PLAN, _INSTALL = "Target", "What to install", "Plan", "Installing"
_CONFIG, _MESSAGES = "Configuration", "Messages"

_EXAMPLES = (
    ("crosspin sync", "make the active virtualenv (or ./.venv, created if missing) match "
                      "requirements.txt"),
    ("crosspin sync requirements.txt dev.txt", "two locks at once"),
    ("crosspin sync --venv /app", "create /app if needed, then sync it"),
    ("crosspin sync requirements-test.txt --keep mypkg", "keep the package under test"),
    ("crosspin sync --dry-run", "show the plan; exit 1 if anything would change"),
)

_NOTE = ("pip-sync options refused: --user (sync a virtual environment instead). "
         "--pip-args is translated to the options above. In crosspin's own environment, "
         "crosspin and the packages it runs on are kept.")


@click.command("sync", cls=SectionedCommand, examples=_EXAMPLES, note=_NOTE)
@click.argument("locks", nargs=-1, type=click.Path(dir_okay=False))
@option(_TARGET, "--python", "--python-executable", "python", default=None,
        metavar="PATH|NAME", help="Interpreter to sync; a name is looked up on PATH. With "
                                  "--venv: the interpreter of a new virtual environment.",
        show_default="$VIRTUAL_ENV, else ./.venv (created if missing)")
@option(_TARGET, "--venv", default=None, type=click.Path(file_okay=False), metavar="DIR",
        help="Virtual environment to sync; created if missing.")
@option(_TARGET, "--keep", "keep", multiple=True, metavar="NAME",
        help="Leave NAME as installed even if the lock does not list it (repeatable): "
             "the package under test.")
@option(_TARGET, "--break-system-packages", is_flag=True,
        help="Change an externally managed (PEP 668) interpreter anyway.")
@option(_TARGET, "--user", is_flag=True, hidden=True)
@option(_WHAT, "--extras", "extras", multiple=True, metavar="NAME",
        help="pylock.toml: extras to install (repeatable, or comma-separated).")
@option(_WHAT, "--group", "groups", multiple=True, metavar="NAME",
        help="pylock.toml: dependency groups to install instead of its default-groups "
             "(repeatable, or comma-separated).")
@option(_WHAT, "--no-build", is_flag=True, help="Never build sdists; wheels only.")
@option(_WHAT, "--force", is_flag=True,
        help="Several locks pin one package differently: the later lock wins "
             "(a warning each).")
@option(_PLAN, "-n", "--dry-run", is_flag=True,
        help="Print the plan; exit 1 when changes are pending, 0 when in sync.")
@option(_PLAN, "-a", "--ask", is_flag=True,
        help="Show the plan and ask before changing anything.")
@option(_INSTALL, "--link-mode", type=click.Choice(LINK_MODES), default="auto",
        show_default=True,
        help="How files get from the cache into the environment: hardlink, else clone, "
             "else copy (auto), or only one of them.")
@option(_INSTALL, "--compile-bytecode", is_flag=True,
        help="Compile the installed modules to bytecode (in parallel).")
@with_index_options
@option(_CONFIG, "--config", type=click.Path(dir_okay=False), metavar="FILE",
        help="Read [tool.pip-tools] (and [tool.pip-tools.sync]) from FILE.",
        show_default="pyproject.toml or .pip-tools.toml beside the first lock")
@option(_CONFIG, "--no-config", is_flag=True, help="Read no configuration file.")
@option(_MESSAGES, "-v", "--verbose", count=True,
        help="One line per file downloaded (or found in the cache) and installed.")
@option(_MESSAGES, "-q", "--quiet", is_flag=True, help="Print nothing but warnings and errors.")
@option(_MESSAGES, "--color/--no-color", default=None, help="Force colour on or off.",
        show_default="on a terminal, unless NO_COLOR")
@option(_MESSAGES, "--pip-args", hidden=True)
@click.version_option(__version__, "--version", prog_name="crosspin",
                      help="Show the version and exit.")
@click.pass_context
def sync_command(ctx: click.Context, /, **kw: Any) -> None:
    """Make an environment match the lock: install what it lacks, remove the rest.

    LOCKS default to requirements.txt; several are merged. Every file is
    downloaded and its hash checked, and every wheel verified, before
    anything is removed or installed; two syncs of one environment never
    overlap. crosspin keeps itself and what it runs on when it syncs its
    own environment, and refuses an externally managed (PEP 668)
    interpreter. On a terminal a live display shows the downloads and
    installs.
    """
    values, warned = _values(ctx, kw)
    set_color(values.get("color"))
    check_refused(values)
    _no_inputs(values["locks"])
    with _interpreter(values.get("python"), values.get("venv"), quiet=bool(values.get("quiet")),
                      dry_run=bool(values.get("dry_run"))) as interpreter:
        _sync(values, interpreter, stamp=not warned)


def _values(ctx: click.Context, kw: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """The parameters: the command line, ``--pip-args``, ``[tool.pip-tools]``, the defaults;
    and whether the configuration printed a warning."""
    given = given_params(ctx)
    if "pip_args" in given:
        for name, value in translate_pip_args(given["pip_args"], sync_command).items():
            given.setdefault(name, value)
    locks = list(kw.get("locks") or ("requirements.txt",))
    config = load_config(locks, ConfigChoice(path=given.get("config"),
                                             enabled=not given.get("no_config")), "sync")
    for warning in config.warnings:
        echo(f"warning: {warning}")
    from_config = config_values(sync_command, config.piptools, config.piptools_label,
                                other=_compile_command()) if config.piptools else {}
    return {**kw, **from_config, **given, "locks": tuple(locks)}, bool(config.warnings)


def _compile_command() -> list[click.Command]:
    """compile's options as a bare command: their config keys are valid, and ignored here."""

    def keys_only(**_: Any) -> None:
        """Never run."""

    return [click.command("compile")(with_compile_options(keys_only))]


def _sync(values: Mapping[str, Any], interpreter: Path, *, stamp: bool) -> None:
    """Plan and apply; a no-op that printed only its one line (``stamp``, no notes or
    warnings) leaves a stamp that answers the next identical sync (:mod:`crosspin._noop`)."""
    dry_run, quiet = bool(values.get("dry_run")), bool(values.get("quiet"))
    command_line = index_command_line(values)
    tuning = Tuning.from_environ(os.environ)
    request = SyncRequest(
        locks=tuple(Path(p) for p in values["locks"]),
        interpreter=interpreter,
        extras=_names(values.get("extras") or ()),
        groups=_names(values["groups"]) if values.get("groups") else None,
        lock_timeout=tuning.sync_lock_timeout,
        keep=_names(values.get("keep") or ()),
        force=bool(values.get("force")),
        break_system_packages=bool(values.get("break_system_packages")),
    )
    # The environment is held from planning to the last file written (not for --dry-run).
    with session(request, on_wait=echo, hold=not dry_run) as prepared:
        plan = prepared.plan
        for note in prepared.notes:
            if not quiet:
                echo(f"note: {note}")
        warnings = (*prepared.warnings, *plan.warnings())
        for warning in warnings:
            echo(f"warning: {warning}")
        if plan.is_empty:
            if not quiet:
                echo(_noop.UP_TO_DATE)
            if stamp and not prepared.notes and not warnings:
                _record(values, prepared.target, plan.selected)
            return
        if dry_run or values.get("ask"):
            for line in plan.describe():
                click.echo(line)
            if dry_run:
                sys.exit(1)
            if not click.confirm("Would you like to proceed with these changes?", default=False):
                sys.exit(1)
        settings = lock_settings(prepared.lock.sources, command_line)
        options = InstallOptions(allow_build=not values.get("no_build"),
                                 build_environment=pip_environment(settings, os.environ),
                                 build_timeout=tuning.build_timeout,
                                 link_mode=values.get("link_mode") or "auto",
                                 compile_bytecode=bool(values.get("compile_bytecode")))
        _noop.forget(prefix=prepared.target.prefix, cache_dir=values.get("cache_dir"),
                     no_cache=bool(values.get("no_cache")))
        with IndexClient(settings) as client, \
                reporter(quiet=quiet, verbose=int(values.get("verbose") or 0)) as progress:
            result = apply_plan(plan, prepared.target, client, options=options,
                                reporter=progress)
    if not quiet:
        echo(result.summary())


def _record(values: Mapping[str, Any], target: Target, selected: Sequence[LockedPackage]) -> None:
    """Stamp a clean no-op, unless a pin is a local path: what such a pin's path resolves
    to through links is outside the stamp's digest."""
    if any(p.url and p.url.startswith("file:") for p in selected):
        return
    _noop.record(prefix=target.prefix, site_dirs=[str(d) for d in target.site_dirs],
                 quiet=bool(values.get("quiet")), cache_dir=values.get("cache_dir"),
                 no_cache=bool(values.get("no_cache")))


@contextmanager
def _interpreter(python: str | None, venv: str | None, *, quiet: bool,
                 dry_run: bool) -> Iterator[Path]:
    """The interpreter to sync; a virtual environment created here is removed on failure.

    A dry run (or a declined ``--ask``) exits with ``SystemExit``, so the
    environment it planned against is removed too: only a sync that ran
    keeps it.
    """
    folder = Path(venv) if venv else None
    if folder is None and python is not None:
        yield _lookup(python)
        return
    if folder is None:
        active = os.environ.get("VIRTUAL_ENV")
        if active:
            yield _existing(venv_python(Path(active)))
            return
        folder = Path(".venv")
    if (folder / "pyvenv.cfg").is_file():
        if python is not None and venv is not None:
            raise UsageError(f"--venv {venv} exists already; --python only chooses the "
                             "interpreter of a new one",
                             hint="drop --python, or give a new folder to --venv")
        yield _existing(venv_python(folder))
        return
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise UsageError(f"{folder} exists and is not a virtual environment (no pyvenv.cfg)",
                         hint="give a new or empty folder to --venv, or an interpreter "
                              "to --python")
    base = _lookup(python) if python is not None else Path(sys.executable)
    made = not folder.exists()
    created = create_venv(folder, base)
    if not quiet:
        echo(f"{'Would create' if dry_run else 'Created'} a virtual environment at {folder} "
             f"with {base}")
    try:
        yield created
    except BaseException:
        if made:
            shutil.rmtree(folder, ignore_errors=True)
        else:  # an empty folder: left empty again
            for entry in folder.iterdir():
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink()
        raise


def _no_inputs(locks: Sequence[str]) -> None:
    """A ``.in`` file is what compile reads, not a lock (pip-sync refuses it too)."""
    for lock in locks:
        if lock.endswith(".in"):
            stem = lock[:-3]
            raise UsageError(f"{lock} is an input file, not a lock",
                             hint=f"sync the lock made from it: crosspin sync {stem}.txt "
                                  f"(crosspin compile {lock} writes it)")


def _lookup(python: str) -> Path:
    """``--python``: a path, or a name looked up on ``PATH`` (pip-sync's --python-executable)."""
    if os.sep in python or (os.altsep and os.altsep in python) or Path(python).exists():
        return _existing(Path(python))
    found = shutil.which(python)
    if found is None:
        raise UsageError(f"--python {python}: no such interpreter on PATH",
                         hint="give a path, e.g. --python /usr/bin/python3.12")
    return Path(found)


def _existing(interpreter: Path) -> Path:
    if not interpreter.exists():
        raise UsageError(f"no interpreter at {interpreter}",
                         hint="pass --python PATH or --venv DIR, or activate a virtualenv")
    return interpreter


def _names(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(n.strip() for v in values for n in v.split(",") if n.strip())
