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
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Callable, Optional

from packaging.specifiers import SpecifierSet

from crosspin.environments import Matrix
from crosspin.errors import InconsistentLockError, StaleLockError
from crosspin.index import DEFAULT_INDEX_URL, IndexClient, IndexSettings
from crosspin.inputs import input_digest, read_inputs
from crosspin.lock import check_lock
from crosspin.lockfiles import LoadedLock, load_lock
from crosspin.metadata import MetadataProvider

__all__ = ["ParseCommand", "check_compile_inputs", "check_consistency", "check_stale"]

#: Parses the arguments of a recorded ``crosspin compile`` command line
#: (after ``crosspin compile``) into the compile command's parameters.
ParseCommand = Callable[[list[str]], Mapping[str, Any]]


@contextlib.contextmanager
def _cwd(path: Path) -> Iterator[None]:
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def _digest_of(
    sources: Sequence[str], params: Mapping[str, Any]
) -> tuple[str, Optional[SpecifierSet]]:
    """The input digest and the inputs' Requires-Python (it narrows the matrix)."""
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


def check_stale(loaded: LoadedLock, parse_command: ParseCommand) -> Optional[str]:
    """Raise :class:`StaleLockError` if the recorded inputs changed; else a note (or ``None``).

    The inputs are those of the command the lock records, parsed with
    ``parse_command``; the note says why staleness could not be checked.
    """
    if loaded.input_digest is None or loaded.command is None:
        return "records no input digest, so staleness was not checked"
    params = dict(parse_command(shlex.split(loaded.command)[2:]))  # drop "crosspin compile"
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


def check_consistency(loaded: LoadedLock, *, offline: bool, cache_dir: Optional[str],
                      no_build: bool) -> None:
    """Raise :class:`InconsistentLockError` listing every problem :func:`check_lock` finds."""
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


def check_compile_inputs(
    output: str, sources: Sequence[str], params: Mapping[str, Any]
) -> LoadedLock:
    """``compile --check``: the lock at ``output`` against these exact inputs and options."""
    loaded = load_lock(Path(output))
    if loaded.input_digest is None:
        raise StaleLockError(output, ", ".join(sources), reason="it records no input digest")
    digest, requires_python = _digest_of(sources, params)
    if digest != loaded.input_digest:
        raise StaleLockError(output, ", ".join(sources))
    if params.get("python") or params.get("platforms"):
        wanted = Matrix.from_options(python=params.get("python"),
                                     platforms=params.get("platforms") or (),
                                     requires_python=requires_python)
        if wanted.to_spec() != loaded.lock.matrix.to_spec():
            raise StaleLockError(output, ", ".join(sources),
                                 reason=f"its matrix is not {wanted.describe()}")
    check_consistency(loaded, offline=bool(params.get("offline")),
                      cache_dir=params.get("cache_dir"), no_build=bool(params.get("no_build")))
    return loaded
