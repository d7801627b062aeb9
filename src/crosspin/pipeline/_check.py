"""``crosspin check`` and ``compile --check``: is the lock current and correct?

A lock is *stale* when the digest of its inputs (:func:`crosspin.inputs.input_digest`,
recorded on the ``# crosspin-inputs:`` header line of a requirements.txt, or
as ``inputs`` in the ``[tool.crosspin]`` table of a pylock.toml) no longer
matches the inputs on disk, and *inconsistent* when some environment of its
matrix is not closed or not installable (:func:`crosspin.lock.check_lock`,
using the index cache). Both raise, so CI and pre-commit can gate on them
without resolving anything.
"""

from __future__ import annotations

import contextlib
import os
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Callable

from packaging.specifiers import SpecifierSet

from crosspin.environments import Matrix
from crosspin.errors import InconsistentLockError, StaleLockError
from crosspin.index import IndexClient
from crosspin.lock import check_lock
from crosspin.lockfiles import LoadedLock, load_lock
from crosspin.metadata import MetadataProvider
from crosspin.pipeline._run import lock_digest
from crosspin.settings import (
    Access,
    CompileOptions,
    IndexOptions,
    PipConfig,
    Tuning,
    build_settings,
    index_settings,
    load_config,
)

__all__ = ["ParseCommand", "check_compile_inputs", "check_consistency", "check_stale"]

#: Parses the arguments of a recorded ``crosspin compile`` command line
#: (after ``crosspin compile``) as the command line would be.
ParseCommand = Callable[[list[str]], CompileOptions]


@contextlib.contextmanager
def _cwd(path: Path) -> Iterator[None]:
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def _digest_of(options: CompileOptions) -> tuple[str, SpecifierSet | None]:
    """The lock digest of these inputs and configuration, and the inputs' Requires-Python."""
    inputs = options.selection.read(options.sources)
    config = load_config(options.sources, options.config, "compile")
    return lock_digest(inputs, config), inputs.requires_python


def check_stale(loaded: LoadedLock, parse_command: ParseCommand) -> str | None:
    """Raise :class:`StaleLockError` if the recorded inputs changed; else a note (or ``None``).

    The inputs are those of the command the lock records, parsed with
    ``parse_command``; the note says why staleness could not be checked.
    """
    if loaded.input_digest is None or loaded.command is None:
        return "records no input digest, so staleness was not checked"
    recorded = parse_command(shlex.split(loaded.command)[2:])  # drop "crosspin compile"
    sources = list(recorded.sources)
    if "-" in sources:
        return "was compiled from stdin, so staleness was not checked"
    here = Path.cwd()
    base = compiled_in(loaded, recorded)
    command = _rerun_command(loaded, base, here)
    with _cwd(base):
        missing = [s for s in sources if not Path(s).exists()]
        if missing or not sources:
            raise StaleLockError(str(loaded.path), ", ".join(missing) or "(none)",
                                 reason="its input files are gone", command=command)
        digest, _ = _digest_of(recorded)
    if digest != loaded.input_digest:
        raise StaleLockError(str(loaded.path), ", ".join(sources), command=command)
    return None


def compiled_in(loaded: LoadedLock, recorded: CompileOptions) -> Path:
    """The folder the lock's recorded command ran in (its paths are relative to it).

    The current folder when the lock is where the command says, else the
    lock's own folder.
    """
    here = Path.cwd()
    if (here / recorded.output).resolve() == loaded.path.resolve():
        return here
    return loaded.path.resolve().parent


def _rerun_command(loaded: LoadedLock, base: Path, here: Path) -> str | None:
    """The command that brings the lock up to date, as the user would type it here.

    The lock's own command (or its ``CUSTOM_COMPILE_COMMAND``), preceded by
    ``cd FOLDER &&`` when it ran in another folder than this one.
    """
    command = loaded.custom_command or loaded.command
    if command is None:
        return None
    if base != here.resolve():
        folder = os.path.relpath(base, here)
        command = f"cd {shlex.quote(Path(folder).as_posix())} && {command}"
    return command


def check_consistency(
    loaded: LoadedLock, *, access: Access, no_build: bool, tuning: Tuning
) -> None:
    """Raise :class:`InconsistentLockError` listing every problem :func:`check_lock` finds.

    Packages come from the lock's own option lines (pip's configuration is
    not consulted), through the cache when it can.
    """
    settings = index_settings([IndexOptions.from_sources(loaded.lock.sources)], no_index=False,
                              pip=PipConfig(), access=access, tuning=tuning)
    with IndexClient(settings) as client:
        metadata = MetadataProvider(client, build=build_settings(settings, tuning))
        problems = check_lock(loaded.lock, finder=client, metadata=metadata,
                              allow_build=not no_build, assume_present=loaded.unpinned)
    if problems:
        raise InconsistentLockError(str(loaded.path), [str(p) for p in problems])


def check_compile_inputs(options: CompileOptions, *, no_build: bool) -> LoadedLock:
    """``compile --check``: the lock at the output against these exact inputs and options."""
    output, sources = options.output, options.sources
    loaded = load_lock(Path(output))
    command = loaded.custom_command or loaded.command
    if loaded.input_digest is None:
        raise StaleLockError(output, ", ".join(sources), reason="it records no input digest")
    digest, requires_python = _digest_of(options)
    if digest != loaded.input_digest:
        raise StaleLockError(output, ", ".join(sources), command=command)
    if options.python or options.platforms:
        wanted = Matrix.from_options(python=options.python, platforms=options.platforms,
                                     requires_python=requires_python)
        if not wanted.covers_same(loaded.lock.matrix):
            raise StaleLockError(output, ", ".join(sources), command=command,
                                 reason=f"its matrix is not {wanted.describe()}")
    check_consistency(loaded, access=Access(offline=options.access.offline,
                                            cache_dir=options.access.cache_dir),
                      no_build=no_build, tuning=options.tuning)
    return loaded
