"""The cache's own checks (crosspin.index._cache) and the one atomic writer, ``atomic_write``."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import zipfile
from pathlib import Path

import pytest

from crosspin.index import atomic_write, lock_url
from crosspin.index._cache import Cache, read_entry, scope_key
from crosspin.index._range import MemberTooLarge, find_metadata_name, read_member


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- entry names are digests crosspin computed


@pytest.mark.parametrize("name", ["../../escaped", "a" * 63, "A" * 64, "g" * 64, "", "."])
def test_a_key_that_is_not_a_digest_is_never_a_path(tmp_path: Path, name: str) -> None:
    """File lookups and stores with a name crosspin would never compute touch nothing."""
    cache = Cache(tmp_path / "cache")
    assert cache.file_path(name) is None and cache.file(name) is None
    source = tmp_path / "x"
    source.write_bytes(b"x")
    cache.store_file(name, source)
    assert cache.metadata(name) is None and cache.parsed_metadata(name) is None
    cache.store_parsed_metadata(name, b"{}")
    assert not (tmp_path / "cache").exists()


def test_metadata_is_named_by_its_own_digest_and_checked(tmp_path: Path) -> None:
    """A METADATA entry is found only under its sha256, and only while it still has it."""
    cache = Cache(tmp_path / "cache")
    data = b"Metadata-Version: 2.1\nName: a\nVersion: 1.0\n"
    digest = cache.store_metadata(data)
    assert digest == hashlib.sha256(data).hexdigest()
    assert cache.metadata(digest) == data
    (entry,) = (tmp_path / "cache").rglob(digest)
    entry.write_bytes(data[:-5])
    assert cache.metadata(digest) is None


def test_framed_entries_are_checked_on_read(tmp_path: Path) -> None:
    """Scoped metadata and parsed fields carry a digest of their bytes: a changed byte is
    a miss."""
    cache = Cache(tmp_path / "cache")
    scope = scope_key("https://idx.test/simple", "https://idx.test/a-1.0-py3-none-any.whl", None)
    cache.store_scoped_metadata(scope, b"Name: a\n")
    found = cache.scoped_metadata(scope)
    assert found == (b"Name: a\n", hashlib.sha256(b"Name: a\n").hexdigest())
    (entry,) = (tmp_path / "cache").rglob(scope)
    assert read_entry(entry) == b"Name: a\n"
    entry.write_bytes(entry.read_bytes().replace(b"Name: a", b"Name: b"))
    assert cache.scoped_metadata(scope) is None and read_entry(entry) is None


def test_a_scope_key_belongs_to_one_index_and_file() -> None:
    """The same wheel (same sha256) from two indexes has two keys."""
    sha = "a" * 64
    one = scope_key("https://one.test/simple", "https://one.test/a.whl", sha)
    two = scope_key("https://two.test/simple", "https://one.test/a.whl", sha)
    assert one != two and len(one) == 64


def test_cache_entries_are_private(tmp_path: Path) -> None:
    """Cache entries are 0600 (they may hold a private index's pages)."""
    cache = Cache(tmp_path / "cache")
    cache.store_page("https://idx.test/simple/a/", b"{}")
    (entry,) = (tmp_path / "cache").rglob("*.json")
    assert _mode(entry) == 0o600


# --- the one atomic writer


def test_a_new_file_follows_the_umask_and_an_old_one_keeps_its_mode(tmp_path: Path) -> None:
    """New: 0666 under the umask (0644 with 022); rewritten: whatever mode it had."""
    old = os.umask(0o022)
    try:
        new = tmp_path / "requirements.txt"
        atomic_write(new, b"a==1\n")
        assert _mode(new) == 0o644
        new.chmod(0o664)
        atomic_write(new, b"a==2\n")
        assert _mode(new) == 0o664 and new.read_bytes() == b"a==2\n"
    finally:
        os.umask(old)


def test_a_link_is_written_through(tmp_path: Path) -> None:
    """``-o`` naming a link replaces the file it points to; the link stays a link."""
    real = tmp_path / "locks" / "requirements.txt"
    real.parent.mkdir()
    real.write_bytes(b"old\n")
    link = tmp_path / "requirements.txt"
    link.symlink_to(real)
    atomic_write(link, b"new\n")
    assert link.is_symlink() and real.read_bytes() == b"new\n"


def test_a_target_that_is_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    """A folder (or a device, a FIFO) is never replaced by a lock."""
    folder = tmp_path / "requirements.txt"
    folder.mkdir()
    with pytest.raises(OSError, match="not a regular file"):
        atomic_write(folder, b"x")
    assert folder.is_dir()


def test_bytes_that_do_not_read_back_are_never_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Foreign bytes in the temporary file (a stray write to a reused descriptor) are
    caught before the rename: the file is written again, and published only as rendered."""
    target = tmp_path / "requirements.txt"
    target.write_bytes(b"# the previous lock\n")
    real_write = os.write
    calls: list[int] = []

    def stray_write(fd: int, data: bytes | memoryview) -> int:
        if not calls:
            real_write(fd, b"\x17\x03\x03\x00\x13" + bytes(19))  # a TLS record
        calls.append(fd)
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", stray_write)
    atomic_write(target, b"a==1.0\n")
    assert target.read_bytes() == b"a==1.0\n"
    assert len(calls) == 2  # written twice: the first copy failed its check
    assert sorted(p.name for p in tmp_path.iterdir()) == ["requirements.txt"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC while writing: the error propagates, the old file is as it was."""
    import errno

    target = tmp_path / "requirements.txt"
    target.write_bytes(b"# the previous lock\n")

    def full(fd: int, data: bytes | memoryview) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(OSError, match="No space left"):
        atomic_write(target, b"a==1.0\n")
    monkeypatch.undo()
    assert target.read_bytes() == b"# the previous lock\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["requirements.txt"]


# --- lock URLs carry no credential


@pytest.mark.parametrize(("url", "written", "locked"), [
    ("https://u:s3cret@h.test/a-1.0.whl", None, "https://h.test/a-1.0.whl"),
    ("https://token@h.test/a-1.0.whl", None, "https://h.test/a-1.0.whl"),
    ("https://u:s3cret@h.test/a-1.0.whl", "https://u:${TOKEN}@h.test/a-1.0.whl",
     "https://u:${TOKEN}@h.test/a-1.0.whl"),
    ("git+https://tok@github.com/o/r@" + "0" * 40, "git+https://${GH}@github.com/o/r@main",
     "git+https://${GH}@github.com/o/r@" + "0" * 40),
    ("https://${U}:${P}@h.test/x.whl", None, "https://${U}:${P}@h.test/x.whl"),
    ("./libs/a", None, "./libs/a"),
    ("https://h.test/a@b.whl", None, "https://h.test/a@b.whl"),
])
def test_lock_urls_keep_variables_and_drop_secrets(
    url: str, written: str | None, locked: str
) -> None:
    """A literal password never reaches a lock; ``${VAR}`` as the user wrote it does."""
    assert lock_url(url, written) == locked


# --- a zip member is capped before it is inflated


def _wheel(metadata: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a-1.0.dist-info/METADATA", metadata)
    return buffer.getvalue()


def _read(data: bytes, limit: int) -> bytes:
    def tail(n: int) -> tuple[bytes, int]:
        return data[-n:], len(data)

    def fetch(start: int, end: int) -> bytes:
        return data[start : end + 1]

    return read_member(tail, fetch, lambda names: find_metadata_name(names, "a", "1.0"),
                       limit=limit)


def test_a_member_declared_too_large_is_never_inflated() -> None:
    """The central directory's size is checked first."""
    data = _wheel(b"Name: a\n" + b"x" * 10_000)
    assert _read(data, 20_000).startswith(b"Name: a")
    with pytest.raises(MemberTooLarge):
        _read(data, 1_000)


def test_a_member_lying_about_its_size_stops_at_the_cap() -> None:
    """A central directory that understates the size: inflating stops at the cap."""
    data = bytearray(_wheel(b"Name: a\n" + b"x" * 10_000))
    central = data.rindex(b"PK\x01\x02")
    data[central + 24 : central + 28] = (100).to_bytes(4, "little")  # uncompressed size
    with pytest.raises(MemberTooLarge):
        _read(bytes(data), 1_000)
