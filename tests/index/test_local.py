"""Tests for crosspin.index on local sources (file:// indexes, find-links) and zip reading."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any, Callable

import pytest

from crosspin.errors import HashMismatchError, IndexFetchError
from crosspin.index import IndexClient, IndexSettings
from crosspin.index._page import parse_time
from crosspin.index._range import RangeError, find_metadata_name, read_member
from crosspin.index._urls import Credentials, redact, strip_auth


def make_wheel(name: str, version: str, *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        zf.writestr(f"{name}/__init__.py", "x = 1\n" * 1000)
        zf.writestr(f"{name}-{version}.dist-info/METADATA", metadata(name, version))
        zf.writestr(f"{name}-{version}.dist-info/RECORD", "")
    return buf.getvalue()


def metadata(name: str, version: str) -> bytes:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()


def client(tmp_path: Path, **options: Any) -> IndexClient:
    options.setdefault("index_url", (tmp_path / "simple").as_uri())
    return IndexClient(IndexSettings(cache_dir=tmp_path / "cache", **options))


@pytest.fixture
def local_index(tmp_path: Path) -> bytes:
    """/opt/pypi-style layout: simple/<name>/index.html linking ../../files/<wheel>."""
    wheel = make_wheel("foo", "1.0")
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "foo-1.0-py3-none-any.whl").write_bytes(wheel)
    page = tmp_path / "simple" / "foo" / "index.html"
    page.parent.mkdir(parents=True)
    digest = hashlib.sha256(wheel).hexdigest()
    page.write_text(
        f'<a href="../../files/foo-1.0-py3-none-any.whl#sha256={digest}" '
        'data-requires-python="&gt;=3.9">foo</a>'
    )
    return wheel


def test_file_index_with_index_html(tmp_path: Path, local_index: bytes) -> None:
    """A file:// index page is read from disk, its relative links resolved."""
    with client(tmp_path) as c:
        (file,) = c.project_files("Foo")
        assert file.url == (tmp_path / "files" / "foo-1.0-py3-none-any.whl").as_uri()
        assert file.sha256 == hashlib.sha256(local_index).hexdigest()
        assert str(file.requires_python) == ">=3.9"
        assert file.index == (tmp_path / "simple").as_uri()
        assert c.stats["requests"] == 0


def test_file_index_folder_without_index_html(tmp_path: Path) -> None:
    """A project folder without index.html lists its files."""
    folder = tmp_path / "simple" / "bar"
    folder.mkdir(parents=True)
    (folder / "bar-2.0.tar.gz").write_bytes(b"sdist")
    (folder / "notes.txt").write_text("ignored")
    with client(tmp_path) as c:
        assert [f.filename for f in c.project_files("bar")] == ["bar-2.0.tar.gz"]


def test_missing_project_folder_falls_through(tmp_path: Path, local_index: bytes) -> None:
    """A missing folder means "not found": the next index is asked, no error."""
    other = tmp_path / "other"
    (other / "baz").mkdir(parents=True)
    (other / "baz" / "baz-1.0.tar.gz").write_bytes(b"x")
    with client(tmp_path, extra_index_urls=(other.as_uri(),)) as c:
        assert [f.index for f in c.project_files("baz")] == [other.as_uri()]
        assert c.project_files("nothing-anywhere") == ()


def test_missing_index_root_is_not_an_error(tmp_path: Path) -> None:
    """Even a file:// index that does not exist just knows nothing."""
    with client(tmp_path, index_url=(tmp_path / "nowhere").as_uri()) as c:
        assert c.project_files("foo") == ()


def test_find_links_folder_lists_without_hashing(tmp_path: Path, local_index: bytes) -> None:
    """A find-links folder adds its files, unhashed, after the index's files."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    (wheels / "foo-2.0-py3-none-any.whl").write_bytes(make_wheel("foo", "2.0"))
    (wheels / "other-1.0.tar.gz").write_bytes(b"x")
    missing = tmp_path / "no-such-folder"
    with client(tmp_path, find_links=(str(wheels), missing.as_uri())) as c:
        files = c.project_files("foo")
        assert [(f.filename, f.index, f.hashes) for f in files][1:] == [
            ("foo-2.0-py3-none-any.whl", "", ())
        ]
        assert c.wheel_metadata(files[1]) == metadata("foo", "2.0")


def test_find_links_html_file(tmp_path: Path) -> None:
    """A find-links location may be a local HTML file of links."""
    (tmp_path / "dists").mkdir()
    (tmp_path / "dists" / "foo-1.0.tar.gz").write_bytes(b"x")
    page = tmp_path / "links.html"
    page.write_text('<a href="dists/foo-1.0.tar.gz">foo</a>')
    with client(tmp_path, find_links=(page.as_uri(),)) as c:
        (file,) = c.project_files("foo")
        assert file.url == (tmp_path / "dists" / "foo-1.0.tar.gz").as_uri()


def test_local_metadata_and_download(tmp_path: Path, local_index: bytes) -> None:
    """file:// wheels give metadata from disk and download as verified copies."""
    with client(tmp_path) as c:
        (file,) = c.project_files("foo")
        assert c.wheel_metadata(file) == metadata("foo", "1.0")
        path = c.download(file, tmp_path / "dest")
        assert path.read_bytes() == local_index


def test_local_download_hash_mismatch(tmp_path: Path, local_index: bytes) -> None:
    """A local file whose content differs from the page's hash is refused."""
    (tmp_path / "files" / "foo-1.0-py3-none-any.whl").write_bytes(b"tampered")
    with client(tmp_path) as c:
        (file,) = c.project_files("foo")
        with pytest.raises(HashMismatchError):
            c.download(file, tmp_path / "dest")
    assert not (tmp_path / "dest" / "foo-1.0-py3-none-any.whl").exists()


def test_local_download_missing_file(tmp_path: Path, local_index: bytes) -> None:
    """A listed local file that is gone is an IndexFetchError."""
    (tmp_path / "files" / "foo-1.0-py3-none-any.whl").unlink()
    with client(tmp_path) as c:
        (file,) = c.project_files("foo")
        with pytest.raises(IndexFetchError, match="no such file"):
            c.download(file, tmp_path / "dest")


# -- zip reading by ranges -----------------------------------------------------


def _reader(
    data: bytes,
) -> tuple[Callable[[int], tuple[bytes, int]], Callable[[int, int], bytes], list[int]]:
    moved: list[int] = []

    def tail(n: int) -> tuple[bytes, int]:
        chunk = data[-n:]
        moved.append(len(chunk))
        return chunk, len(data)

    def fetch(start: int, end: int) -> bytes:
        moved.append(end - start + 1)
        return data[start : end + 1]

    return tail, fetch, moved


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_read_member_small_wheel(compression: int) -> None:
    """A small wheel is read from one tail request, stored or deflated."""
    data = make_wheel("foo", "1.0", compression=compression)
    tail, fetch, moved = _reader(data)
    choose = lambda names: find_metadata_name(names, "foo", "1.0")  # noqa: E731
    assert read_member(tail, fetch, choose, limit=1 << 20) == metadata("foo", "1.0")
    assert len(moved) == 1


def test_read_member_far_from_tail() -> None:
    """A member before a large tail region costs extra range requests, not the whole file."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("foo-1.0.dist-info/METADATA", metadata("foo", "1.0"))
        zf.writestr("foo/data.bin", bytes(200_000))
    data = buf.getvalue()
    tail, fetch, moved = _reader(data)
    assert read_member(tail, fetch, lambda n: find_metadata_name(n, "foo", "1.0"),
                       limit=1 << 20) == metadata(
        "foo", "1.0"
    )
    assert len(moved) == 2 and sum(moved) < len(data) // 2


def test_metadata_name_picks_matching_dist_info() -> None:
    """With several .dist-info folders the one matching name and version wins."""
    names = ["a/x.py", "vendored-2.0.dist-info/METADATA", "Foo_Bar-1.0.dist-info/METADATA"]
    assert find_metadata_name(names, "foo-bar", "1.0") == "Foo_Bar-1.0.dist-info/METADATA"
    with pytest.raises(RangeError):
        find_metadata_name(["x.dist-info/RECORD"], "foo", "1.0")


def test_not_a_zip_is_a_range_error() -> None:
    """Bytes without an end-of-central-directory record raise RangeError (caller falls back)."""
    tail, fetch, _ = _reader(b"not a zip at all" * 10)
    with pytest.raises(RangeError):
        read_member(tail, fetch, lambda names: names[0], limit=1 << 20)


# -- small helpers ---------------------------------------------------------------


def test_parse_time_variants() -> None:
    """Upload times with Z, odd fraction lengths or offsets become aware UTC; junk is None."""
    assert parse_time("2024-01-02T03:04:05.1Z") == parse_time("2024-01-02T03:04:05.100000+00:00")
    assert parse_time("2024-01-02T05:04:05+02:00") == parse_time("2024-01-02T03:04:05Z")
    naive = parse_time("2024-01-02T03:04:05")
    assert naive is not None and naive.utcoffset() is not None
    assert parse_time("yesterday") is None
    assert parse_time(None) is None


def test_credential_helpers() -> None:
    """Userinfo is split off, redacted for messages and re-applied per host and port."""
    assert strip_auth("https://u:p%40ss@h.test:8443/simple") == (
        "https://h.test:8443/simple",
        ("u", "p@ss"),
    )
    assert redact("https://u:p@h.test/simple") == "https://****@h.test/simple"
    assert redact("https://h.test/simple") == "https://h.test/simple"
    creds = Credentials()
    assert creds.learn("https://tok@h.test/simple") == "https://h.test/simple"
    assert creds.for_url("https://H.test:443/files/x") == ("tok", "")
    assert creds.for_url("https://h.test:8443/files/x") is None


def test_non_normalised_local_folder_is_found(tmp_path: Path) -> None:
    """A file:// index folder named Foo_Bar still serves project foo-bar."""
    folder = tmp_path / "simple" / "Foo_Bar"
    folder.mkdir(parents=True)
    (folder / "Foo_Bar-1.0.tar.gz").write_bytes(b"x")
    with client(tmp_path) as c:
        assert [f.filename for f in c.project_files("foo-bar")] == ["Foo_Bar-1.0.tar.gz"]


def test_closed_client_ignores_prefetch(tmp_path: Path, local_index: bytes) -> None:
    """Prefetching after close starts no threads; direct calls still answer local sources."""
    c = client(tmp_path)
    c.close()
    c.prefetch_projects(["foo"])
    assert c._executor is None
