"""``crosspin check`` and ``compile --check``: is the lock current and correct?

A lock is *stale* when the digest of its inputs (``crosspin.inputs.input_digest``,
recorded on the ``# crosspin-inputs:`` header line of a requirements.txt, or
as ``inputs`` in the ``[tool.crosspin]`` table of a pylock.toml) no longer
matches the inputs on disk, and *inconsistent* when some environment of its matrix is
not closed or not installable (``crosspin.checker.check_lock``, using the
index cache). Both exit 1, so CI and pre-commit can gate on them without
resolving anything.
"""

from __future__ import annotations

import contextlib
import os
import shlex
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Optional

import attrs
import click

from crosspin._lockfiles import read_lock_text
from crosspin.errors import InconsistentLockError, LockFileError, StaleLockError
from crosspin.lock import Lock

__all__ = ["LoadedLock", "check_command", "check_compile_inputs", "load_lock"]

#: The header line pip-compile (and crosspin) put before the command line.
_COMMAND_INTRO = "# by the following command:"


@attrs.frozen(kw_only=True)
class LoadedLock:
    """A lockfile read for ``check``/``why``/``envs``: the lock and its header facts."""

    path: Path
    lock: Lock
    input_digest: Optional[str] = None
    command: Optional[str] = None
    unpinned: tuple[str, ...] = ()


def load_lock(path: Path) -> LoadedLock:
    """Read a crosspin lock (requirements.txt or pylock.toml) that records its matrix."""
    text = read_lock_text(path)
    from crosspin.writers import is_pylock_path

    if is_pylock_path(str(path)):
        from crosspin.writers.pylock import read as read_pylock

        pylock = read_pylock(text, str(path))
        matrix, packages, sources = pylock.matrix, pylock.packages, pylock.sources
        digest: Optional[str] = pylock.input_digest
        command = pylock.command
        unpinned: tuple[str, ...] = ()
    else:
        from crosspin.writers.requirements import read

        parsed = read(text, str(path))
        matrix, packages, sources = parsed.matrix, parsed.packages, parsed.sources
        digest, unpinned = parsed.input_digest, tuple(str(n) for n in parsed.unpinned_unsafe)
        command = _recorded_command(text)
    if matrix is None:
        raise LockFileError(
            str(path), "records no matrix (no '# crosspin-matrix:' header)",
            hint="this lock was not written by crosspin: run 'crosspin compile' to make one",
        )
    return LoadedLock(
        path=path,
        lock=Lock.build(matrix=matrix, packages=packages, sources=sources),
        input_digest=digest,
        command=command,
        unpinned=unpinned,
    )


def _recorded_command(text: str) -> Optional[str]:
    lines = text.splitlines()[:12]
    for number, line in enumerate(lines):
        if line.strip() == _COMMAND_INTRO and number + 2 < len(lines):
            command = lines[number + 2].lstrip("#").strip()
            return command or None
    return None


@contextlib.contextmanager
def _cwd(path: Path) -> Iterator[None]:
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def _digest_of(sources: Sequence[str], params: dict[str, Any]) -> tuple[str, Any]:
    """The input digest and the inputs' Requires-Python (it narrows the matrix)."""
    from crosspin.inputs import input_digest, read_inputs

    inputs = read_inputs(
        [Path(s) for s in sources],
        constraints=[Path(c) for c in params.get("constraints") or ()],
        overrides=[Path(o) for o in params.get("overrides") or ()],
        extras=params.get("extras") or (),
        all_extras=bool(params.get("all_extras")),
        groups=params.get("groups") or (),
        all_groups=bool(params.get("all_groups")),
    )
    return input_digest(inputs), inputs.requires_python


def _stale_check(loaded: LoadedLock) -> Optional[str]:
    """Raise :class:`StaleLockError` if the recorded inputs changed; else a note."""
    if loaded.input_digest is None or loaded.command is None:
        return "records no input digest, so staleness was not checked"
    from crosspin._cli_compile import compile_command

    args = shlex.split(loaded.command)[2:]  # drop "crosspin compile"
    ctx = compile_command.make_context("compile", args, resilient_parsing=True)
    params = dict(ctx.params)
    sources = list(params.get("src_files") or ())
    recorded_output = params.get("output_file") or ""
    # Paths in the command are relative to where compile ran: the current
    # folder when the lock is where the command says, else the lock's folder.
    here = Path.cwd()
    base = here if (here / recorded_output).resolve() == loaded.path.resolve() else (
        loaded.path.resolve().parent)
    with _cwd(base):
        missing = [s for s in sources if s != "-" and not Path(s).exists()]
        if missing or not sources:
            raise StaleLockError(str(loaded.path), ", ".join(missing) or "(none)",
                                 reason="its input files are gone")
        digest, _ = _digest_of(sources, params)
    if digest != loaded.input_digest:
        raise StaleLockError(str(loaded.path), ", ".join(sources))
    return None


def _consistency(loaded: LoadedLock, *, offline: bool, cache_dir: Optional[str],
                 no_build: bool) -> None:
    from crosspin.checker import check_lock
    from crosspin.index import DEFAULT_INDEX_URL, IndexClient, IndexSettings
    from crosspin.metadata import MetadataProvider

    sources = loaded.lock.sources
    settings = IndexSettings(
        index_url=sources.index_url or DEFAULT_INDEX_URL,
        extra_index_urls=sources.extra_index_urls,
        find_links=sources.find_links,
        trusted_hosts=sources.trusted_hosts,
        offline=offline,
        cache_dir=Path(cache_dir) if cache_dir else None,
    )
    with IndexClient(settings) as client:
        problems = check_lock(loaded.lock, finder=client, metadata=MetadataProvider(client),
                              allow_build=not no_build, assume_present=loaded.unpinned)
    if problems:
        raise InconsistentLockError(str(loaded.path), [str(p) for p in problems])


def _report_ok(loaded: LoadedLock, note: Optional[str], quiet: bool) -> None:
    if quiet:
        return
    count = len(loaded.lock.matrix)
    plural = "s" if count != 1 else ""
    click.echo(f"{loaded.path}: consistent in {count} environment{plural}"
               + ("" if note else " and up to date with its inputs"), err=True)
    if note:
        click.echo(f"note: {loaded.path} {note}", err=True)


@click.command("check")
@click.argument("lockfile", required=False, default="requirements.txt",
                type=click.Path(dir_okay=False))
@click.option("--offline", is_flag=True, help="Use only the cache; never the network.")
@click.option("--cache-dir", type=click.Path(file_okay=False), help="Cache location.")
@click.option("--no-build", is_flag=True, help="Count sdist-only pins as not installable.")
@click.option("--skip-inputs", is_flag=True, help="Do not compare the inputs' digest.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing when the lock is fine.")
def check_command(lockfile: str, offline: bool, cache_dir: Optional[str], no_build: bool,
                  skip_inputs: bool, quiet: bool) -> None:
    """Exit 1 if LOCKFILE is stale (its inputs changed) or inconsistent.

    Inconsistent means some environment of its matrix is not closed (a
    dependency is missing or at the wrong version) or has a pin with no
    installable file. Metadata comes from the index cache when it can.
    """
    loaded = load_lock(Path(lockfile))
    note = None if skip_inputs else _stale_check(loaded)
    _consistency(loaded, offline=offline, cache_dir=cache_dir, no_build=no_build)
    _report_ok(loaded, note if not skip_inputs else None, quiet)


def check_compile_inputs(output: str, sources: Sequence[str], kw: dict[str, Any]) -> None:
    """``compile --check``: the lock at ``output`` against these exact inputs and options."""
    path = Path(output)
    loaded = load_lock(path)
    if loaded.input_digest is None:
        raise StaleLockError(output, ", ".join(sources), reason="it records no input digest")
    digest, requires_python = _digest_of(sources, kw)
    if digest != loaded.input_digest:
        raise StaleLockError(output, ", ".join(sources))
    if kw.get("python") or kw.get("platforms"):
        from crosspin.environments import Matrix

        wanted = Matrix.from_options(python=kw.get("python"),
                                     platforms=kw.get("platforms") or (),
                                     requires_python=requires_python)
        if wanted.to_spec() != loaded.lock.matrix.to_spec():
            raise StaleLockError(output, ", ".join(sources),
                                 reason=f"its matrix is not {wanted.describe()}")
    _consistency(loaded, offline=bool(kw.get("offline")), cache_dir=kw.get("cache_dir"),
                 no_build=bool(kw.get("no_build")))
    _report_ok(loaded, None, bool(kw.get("quiet")))
