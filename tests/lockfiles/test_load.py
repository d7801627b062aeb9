"""Reading lockfiles from disk: one reader for both formats, and the views commands take of it."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from crosspin.distributions import DistFile
from crosspin.environments import Matrix
from crosspin.errors import LockFileError
from crosspin.lock import Lock, LockedPackage, Sources
from crosspin.lockfiles import load_lock, read_existing, read_lock, read_lockfile
from crosspin.lockfiles.pylock import PylockOptions
from crosspin.lockfiles.pylock import render as render_pylock
from crosspin.lockfiles.requirements import RenderOptions
from crosspin.lockfiles.requirements import render as render_requirements
from tests.helpers import chdir

MATRIX = Matrix.from_options(python="3.12", platforms=["linux-x86_64"])


def _lock() -> Lock:
    wheel = DistFile.from_link(filename="idna-3.4-py3-none-any.whl",
                               url="https://files.example/idna-3.4-py3-none-any.whl",
                               hashes={"sha256": "1" * 64})
    assert wheel is not None
    package = LockedPackage(name=canonicalize_name("idna"), version=Version("3.4"),
                            via=("-r requirements.in",), files=(wheel,),
                            index="https://index.example/simple",
                            environments=frozenset(e.name for e in MATRIX.environments))
    return Lock.build(matrix=MATRIX, packages=[package],
                      sources=Sources(index_url="https://index.example/simple"),
                      meta={"command": "crosspin compile requirements.in", "input_digest": "ab"})


def _write(folder: Path) -> tuple[Path, Path]:
    requirements = folder / "requirements.txt"
    requirements.write_text(render_requirements(_lock(), RenderOptions(
        command="crosspin compile requirements.in", generate_hashes=True)), encoding="utf-8")
    pylock = folder / "pylock.toml"
    pylock.write_text(render_pylock(_lock(), PylockOptions()), encoding="utf-8")
    return requirements, pylock


def test_one_reader_gives_the_same_pins_from_both_formats(tmp_path: Path) -> None:
    """Either format reads back as one LockFile: its matrix, pins, sources and recorded facts."""
    requirements, pylock = _write(tmp_path)
    first, second = read_lockfile(requirements), read_lockfile(pylock)
    assert (first.format, second.format) == ("requirements", "pylock")
    for read in (first, second):
        assert read.matrix == MATRIX
        assert [(p.name, str(p.version)) for p in read.packages] == [("idna", "3.4")]
        assert read.sources.index_url == "https://index.example/simple"
        assert read.input_digest == "ab"
        assert read.command == "crosspin compile requirements.in"
    assert first.pylock is None and second.pylock is not None


def test_format_can_be_forced_for_any_name(tmp_path: Path) -> None:
    """--format pylock with another file name reads that file as PEP 751."""
    _, pylock = _write(tmp_path)
    other = tmp_path / "lock.toml"
    other.write_text(pylock.read_text(encoding="utf-8"), encoding="utf-8")
    assert read_lockfile(other, "pylock").format == "pylock"
    with pytest.raises(LockFileError):
        read_lockfile(other)  # read as a requirements file, a TOML table is no requirement


def test_views_of_check_sync_and_compile_agree(tmp_path: Path) -> None:
    """load_lock (check/why/envs), read_lock (sync) and read_existing (compile) read the same."""
    requirements, _ = _write(tmp_path)
    assert load_lock(requirements).lock.packages == read_lockfile(requirements).packages
    assert [p.name for p in read_lock(requirements).packages] == ["idna"]
    with chdir(tmp_path):
        existing = read_existing("requirements.txt")
        assert existing is not None
        assert existing.packages == read_lockfile(requirements).packages
        assert read_existing("-") is None
        assert read_existing("missing.txt") is None


def test_errors_name_the_file_as_given(tmp_path: Path) -> None:
    """A bad or missing lock is one LockFileError naming the path the user typed."""
    (tmp_path / "bad.txt").write_text("not a pin ===\n", encoding="utf-8")
    with chdir(tmp_path):
        with pytest.raises(LockFileError, match=r"\./bad\.txt"):
            read_existing("./bad.txt")
        with pytest.raises(LockFileError, match="no such file"):
            read_lockfile("absent.txt")
