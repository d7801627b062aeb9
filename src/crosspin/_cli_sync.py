"""``crosspin sync`` and ``crosspin export``: options in, environment or file out."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Callable, Optional, TypeVar

import click

from crosspin.errors import MatrixError, UsageError

__all__ = ["export_command", "sync_command"]

_index_options = [
    click.option("-i", "--index-url", default=None, help="Base URL of the package index."),
    click.option("--extra-index-url", "extra_index_urls", multiple=True,
                 help="Extra index URLs (repeatable)."),
    click.option("-f", "--find-links", "find_links", multiple=True,
                 help="Folders or pages of links to look for files in (repeatable)."),
    click.option("--isolated", is_flag=True, help="Ignore pip's configuration (PIP_*, pip.conf)."),
    click.option("--cache-dir", default=None, help="Cache folder."),
    click.option("--no-cache", is_flag=True, help="Do not read or write the cache."),
    click.option("--offline", is_flag=True, help="Use only the cache."),
]


_F = TypeVar("_F", bound=Callable[..., Any])


def _with_index_options(func: _F) -> _F:
    for option in reversed(_index_options):
        func = option(func)
    return func


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
@click.option("--extras", "extras", multiple=True,
              help="pylock.toml: extras to install (repeatable, or comma-separated).")
@click.option("--group", "groups", multiple=True,
              help="pylock.toml: dependency groups to install instead of its default-groups "
                   "(repeatable, or comma-separated).")
@click.option("-v", "--verbose", count=True, help="One line per file downloaded and installed.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but warnings and errors.")
@_with_index_options
def sync_command(
    locks: Sequence[str], python: Optional[str], venv: Optional[str], dry_run: bool,
    ask: bool, no_build: bool, extras: Sequence[str], groups: Sequence[str],
    verbose: int, quiet: bool,
    index_url: Optional[str], extra_index_urls: Sequence[str],
    find_links: Sequence[str], isolated: bool, cache_dir: Optional[str], no_cache: bool,
    offline: bool,
) -> None:
    """Make an environment match the lock: install what it lacks, remove the rest.

    Every file is downloaded and its hash checked before anything is
    removed or installed. Several locks are merged (conflicting pins are an
    error); from a pylock.toml, --extras and --group select what to install.
    On a terminal a live display shows the downloads and installs.
    """
    from crosspin._progress import reporter
    from crosspin._settings import index_settings
    from crosspin.cli import echo
    from crosspin.index import IndexClient
    from crosspin.sync import apply_plan, inspect_target, merge_locks, plan_for, read_lock

    if python and venv:
        raise UsageError("give --python or --venv, not both")
    interpreter = Path(python) if python else (
        _venv_python(Path(venv)) if venv else _default_python())
    if not interpreter.exists():
        raise UsageError(f"no interpreter at {interpreter}",
                         hint="pass --python PATH or --venv DIR, or activate a virtualenv")
    paths = [Path(p) for p in (locks or ("requirements.txt",))]
    lock = merge_locks([read_lock(p) for p in paths])
    target = inspect_target(interpreter)
    plan = plan_for(lock, target, extras=_names(extras),
                    groups=_names(groups) if groups else None)
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
    settings = index_settings(sources=lock.sources, index_url=index_url,
                              extra_index_urls=extra_index_urls, find_links=find_links,
                              isolated=isolated, offline=offline, cache_dir=cache_dir,
                              no_cache=no_cache)
    pip_args = [*(["--index-url", index_url] if index_url else []),
                *(a for u in extra_index_urls for a in ("--extra-index-url", u)),
                *(a for f in find_links for a in ("--find-links", f)),
                *(["--isolated"] if isolated else [])]
    with IndexClient(settings) as client, \
            reporter(quiet=quiet, verbose=verbose) as progress:
        result = apply_plan(plan, target, client, allow_build=not no_build,
                            on_step=None if quiet else progress.say,
                            pip_args=pip_args, progress=progress)
    if not quiet:
        echo(result.summary())


def _names(values: Sequence[str]) -> list[str]:
    return [n.strip() for v in values for n in v.split(",") if n.strip()]


@click.command("export")
@click.argument("lock", type=click.Path(dir_okay=False), default="requirements.txt")
@click.option("--python", "python", required=True, help="Python minor version, e.g. 3.12.")
@click.option("--platform", "platform", required=True, help="Platform, e.g. linux-x86_64.")
@click.option("-o", "--output-file", default="-", help="Where to write (default: stdout).")
@click.option("--generate-hashes", is_flag=True, help="Write hashes even if the lock has none.")
@_with_index_options
def export_command(
    lock: str, python: str, platform: str, output_file: str, generate_hashes: bool,
    index_url: Optional[str], extra_index_urls: Sequence[str], find_links: Sequence[str],
    isolated: bool, cache_dir: Optional[str], no_cache: bool, offline: bool,
) -> None:
    """Write one environment's pins as a flat requirements file (no markers)."""
    from crosspin._settings import index_settings
    from crosspin.environments import Environment, Platform
    from crosspin.index import IndexClient
    from crosspin.sync import export_requirements, read_lock

    data = read_lock(Path(lock))
    plat = Platform.from_name(platform)
    parts = python.strip().split(".")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise UsageError(f"--python {python!r}: give a minor version such as 3.12")
    minor = (int(parts[0]), int(parts[1]))
    env: Optional[Environment]
    if data.matrix is None:
        env = Environment(python=minor, platform=plat)
    else:
        matching = [e for e in data.matrix.environments
                    if e.python == minor and e.platform.name == plat.name]
        env = max(matching, key=lambda e: e.patch_floor, default=None)
        if env is None:
            raise MatrixError(f"{python}-{plat.name}", data.matrix.describe())
    settings = index_settings(sources=data.sources, index_url=index_url,
                              extra_index_urls=extra_index_urls, find_links=find_links,
                              isolated=isolated, offline=offline, cache_dir=cache_dir,
                              no_cache=no_cache)
    header = (f"This file is exported by crosspin from {lock} for {env.name}\n"
              f"by: crosspin export {lock} --python {python} --platform {platform}")
    with IndexClient(settings) as client:
        text = export_requirements(data, env, client, generate_hashes=generate_hashes,
                                   header=header)
    if output_file == "-":
        click.echo(text, nl=False)
    else:
        _atomic_write(Path(output_file), text)


def _atomic_write(path: Path, text: str) -> None:
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", prefix=".crosspin-")
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    os.replace(tmp, path)
