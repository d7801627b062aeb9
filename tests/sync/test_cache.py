"""Syncing from the unpacked-wheel cache: no download when warm, links, and what may happen to it.

Every test syncs real venvs (CPython 3.12) from a loopback index with a
shared ``--cache-dir``: the first sync fills the cache, later ones install
by hardlink from it.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path

import attrs
import pytest

from fixtures.hostile import HostileIndex
from fixtures.server import IndexServer
from tests.helpers.hostile import (
    Run,
    compile_lock,
    isolated_env,
    make_venv,
    run_crosspin,
    site_packages,
)

pytestmark = pytest.mark.slow


@attrs.frozen
class Bed:
    """A served index with ``a`` and ``b``, a hashed lock of both, and a cache folder."""

    server: IndexServer
    lock: Path
    cache: Path
    root: Path

    def sync(self, venv: str, *args: str, lock: Path | None = None,
             env: Mapping[str, str] | None = None) -> Run:
        """Sync ``root/venv`` (made on first use) to the lock, with the shared cache."""
        where = self.root / venv
        python = where / "bin" / "python"
        if not python.exists():
            make_venv(where)
        return run_crosspin(["sync", str(lock or self.lock), "--python", str(python),
                             "--isolated", "--cache-dir", str(self.cache), *args],
                            cwd=self.root, timeout=120,
                            env=None if env is None else {**isolated_env(), **env})


@pytest.fixture
def bed(tmp_path: Path) -> Iterator[Bed]:
    index = HostileIndex(tmp_path / "index")
    index.add_good("a", "1.0")
    index.add_good("b", "1.0", requires=["a"])
    with index.serve(api="json") as server:
        lock = compile_lock(server.index_url, tmp_path / "lock", ["b"], output="pylock.toml")
        yield Bed(server=server, lock=lock, cache=tmp_path / "cache", root=tmp_path)


def _file(bed: Bed, venv: str) -> Path:
    return Path(site_packages(bed.root / venv)) / "a" / "__init__.py"


def _imports(bed: Bed, venv: str) -> str:
    done = subprocess.run([str(bed.root / venv / "bin" / "python"), "-c",
                           "import a, b; print(a.__version__, b.__version__)"],
                          capture_output=True, text=True, check=False)
    return done.stdout.strip() or done.stderr


def test_a_warm_sync_downloads_nothing_and_links(bed: Bed) -> None:
    """The second venv's files come from the cache: no file request, the same inodes."""
    assert bed.sync("one").code == 0
    asked = len(bed.server.requests)
    done = bed.sync("two", "-v")
    assert done.code == 0, str(done)
    assert [r.path for r in bed.server.requests[asked:]] == []
    assert "a==1.0 (cached)" in done.stderr
    assert _file(bed, "one").samefile(_file(bed, "two"))
    assert _imports(bed, "two") == "1.0 1.0"


def test_a_warm_sync_of_a_requirements_file_reads_no_page(bed: Bed, tmp_path: Path) -> None:
    """A requirements.txt names hashes, not files: the first sync reads the index pages to
    choose; a later one of the same pins for the same interpreter takes the wheels it chose
    from the cache, with no request at all. A pin whose hashes change reads its page again."""
    reqs = compile_lock(bed.server.index_url, tmp_path / "reqs", ["b"])
    revalidate = {"CROSSPIN_PAGE_MAX_AGE": "0"}  # a page read is a request
    assert bed.sync("one", lock=reqs, env=revalidate).code == 0
    asked = len(bed.server.requests)
    done = bed.sync("two", "-v", lock=reqs, env=revalidate)
    assert done.code == 0, str(done)
    assert [r.path for r in bed.server.requests[asked:]] == []
    assert "a==1.0 (cached)" in done.stderr
    assert _imports(bed, "two") == "1.0 1.0"
    text = reqs.read_text(encoding="utf-8")
    first = text.index("--hash=sha256:")
    reqs.write_text(text[:first] + "--hash=sha256:" + "0" * 64 + " \\\n    "
                    + text[first:], encoding="utf-8")
    asked = len(bed.server.requests)
    assert bed.sync("three", lock=reqs, env=revalidate).code == 0
    assert [r.path for r in bed.server.requests[asked:] if "/simple/" in r.path]


def test_copy_mode_shares_nothing(bed: Bed) -> None:
    """``--link-mode copy``: the installed file is a file of the venv's own."""
    assert bed.sync("one").code == 0
    assert bed.sync("two", "--link-mode", "copy").code == 0
    assert not _file(bed, "one").samefile(_file(bed, "two"))
    assert _file(bed, "one").read_bytes() == _file(bed, "two").read_bytes()


def test_an_install_survives_the_cache_being_deleted(bed: Bed, tmp_path: Path) -> None:
    """rm -rf the cache: the venv imports, a no-op sync is a no-op, uninstalling removes
    every file."""
    assert bed.sync("one").code == 0
    shutil.rmtree(bed.cache)
    assert _imports(bed, "one") == "1.0 1.0"
    again = bed.sync("one")
    assert again.code == 0 and "Everything up to date" in again.stderr, str(again)
    empty = tmp_path / "empty.txt"
    empty.write_text("# crosspin-matrix: python=3.12; platforms=linux-x86_64\n")
    gone = bed.sync("one", lock=empty)
    assert gone.code == 0, str(gone)
    site = site_packages(bed.root / "one")
    assert not (site / "a").exists() and not list(site.glob("[ab]-*.dist-info"))


def test_an_install_survives_the_cache_being_pruned(bed: Bed) -> None:
    """Entries removed from under an installed venv (a prune) leave it working and whole."""
    assert bed.sync("one").code == 0
    for entry in (bed.cache / "v1" / "unpacked").glob("??/*"):
        shutil.rmtree(entry)
    assert _imports(bed, "one") == "1.0 1.0"
    assert bed.sync("two").code == 0
    assert _imports(bed, "two") == "1.0 1.0"


def test_an_edit_in_place_does_not_spread_to_new_venvs(bed: Bed) -> None:
    """Appending to an installed (hardlinked) file changes the cache's copy too; the next
    sync notices and unpacks the wheel again, so a new venv gets the original bytes. The
    edited venv keeps its edit."""
    assert bed.sync("one").code == 0
    original = _file(bed, "one").read_bytes()
    with _file(bed, "one").open("ab") as fh:
        fh.write(b"EDITED = True\n")
    assert bed.sync("two").code == 0
    assert _file(bed, "two").read_bytes() == original
    assert not _file(bed, "one").samefile(_file(bed, "two"))
    assert _file(bed, "one").read_bytes().endswith(b"EDITED = True\n")


def test_compile_bytecode(bed: Bed) -> None:
    """``--compile-bytecode`` leaves a .pyc for each installed module; without it, none."""
    assert bed.sync("plain").code == 0
    assert not list(site_packages(bed.root / "plain").glob("*/__pycache__/*.pyc"))
    assert bed.sync("compiled", "--compile-bytecode").code == 0
    pyc = list(site_packages(bed.root / "compiled").glob("[ab]/__pycache__/__init__.*.pyc"))
    assert len(pyc) == 2
