"""Tests for crosspin.index over httpx.MockTransport: pages, strategies, errors, cache."""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any, Callable, Union

import httpx
import pytest
from packaging.utils import canonicalize_name

import crosspin.index
from crosspin.distributions import DistFile
from crosspin.errors import HashMismatchError, IndexFetchError, OfflineCacheMiss
from crosspin.index import ACCEPT, IndexClient, IndexSettings
from crosspin.index import _http as index_http
from crosspin.index._files import _looks_like_metadata, _metadata_name

Handler = Union[httpx.Response, Callable[[httpx.Request], httpx.Response]]
JSON = "application/vnd.pypi.simple.v1+json"


class FakeIndex:
    """A hand-written HTTP server for MockTransport: URL -> response, with a request log."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[httpx.Request] = []
        self.lock = threading.Lock()

    def add(self, url: str, handler: Handler) -> None:
        self.routes[url] = handler

    def html(self, url: str, body: str, **headers: str) -> None:
        self.add(
            url, httpx.Response(200, text=body, headers={"Content-Type": "text/html", **headers})
        )

    def json(self, url: str, data: Any) -> None:
        self.add(url, httpx.Response(200, json=data, headers={"Content-Type": JSON}))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request)
        handler = self.routes.get(str(request.url))
        if handler is None:
            return httpx.Response(404)
        if callable(handler):
            return handler(request)
        return httpx.Response(handler.status_code, headers=handler.headers, content=handler.content)

    def urls(self) -> list[str]:
        return [str(r.url) for r in self.requests]

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


@pytest.fixture
def fake() -> FakeIndex:
    return FakeIndex()


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Back-off sleeps, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(index_http, "_sleep", recorded.append)
    return recorded


@pytest.fixture
def make_client(
    tmp_path: Path, fake: FakeIndex, sleeps: list[float]
) -> Iterator[Callable[..., IndexClient]]:
    clients: list[IndexClient] = []

    def make(**options: Any) -> IndexClient:
        options.setdefault("index_url", "https://idx.test/simple")
        options.setdefault("cache_dir", tmp_path / "cache")
        client = IndexClient(IndexSettings(**options), transport=fake.transport())
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def make_wheel(name: str, version: str, *, payload: bytes = b"x = 1\n") -> bytes:
    buf = io.BytesIO()
    dist_info = f"{name}-{version}.dist-info"
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{name}/__init__.py", payload)
        zf.writestr(f"{dist_info}/METADATA", metadata(name, version))
        zf.writestr(f"{dist_info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n")
        zf.writestr(f"{dist_info}/RECORD", "")
    return buf.getvalue()


def metadata(name: str, version: str) -> bytes:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_default_index_is_pypi() -> None:
    """Without configuration, packages come from PyPI (pip's default)."""
    assert crosspin.index.DEFAULT_INDEX_URL == "https://pypi.org/simple"


def test_html_page_fields(fake: FakeIndex, make_client: Callable[..., IndexClient]) -> None:
    """An HTML page gives hashes, unescaped Requires-Python, yanked, metadata and upload time."""
    fake.html(
        "https://idx.test/simple/foo/",
        f"""<html><body>
        <a href="../../files/foo-1.0-py3-none-any.whl#sha256={'A' * 64}"
           data-requires-python="&gt;=3.8,&lt;4" data-core-metadata="sha256={'b' * 64}"
           data-upload-time="2024-01-02T03:04:05.123Z">foo-1.0-py3-none-any.whl</a>
        <a href="https://cdn.test/foo-1.0.tar.gz#sha256={'c' * 64}" data-yanked="broken build"
           data-dist-info-metadata="true">foo-1.0.tar.gz</a>
        <a href="foo-0.9.zip" data-yanked>foo-0.9.zip</a>
        <a href="foo-0.8.exe">installer</a>
        <a href="bar-1.0.tar.gz">another project's file</a>
        </body></html>""",
    )
    files = make_client().project_files("Foo")
    assert [f.filename for f in files] == [
        "foo-1.0-py3-none-any.whl",
        "foo-1.0.tar.gz",
        "foo-0.9.zip",
    ]
    wheel, sdist, old = files
    assert wheel.url == "https://idx.test/files/foo-1.0-py3-none-any.whl"
    assert wheel.hashes == (("sha256", "a" * 64),)
    assert str(wheel.requires_python) == "<4,>=3.8"
    assert wheel.metadata_hashes == (("sha256", "b" * 64),)
    assert wheel.upload_time == datetime.datetime(
        2024, 1, 2, 3, 4, 5, 123000, tzinfo=datetime.timezone.utc
    )
    assert wheel.yanked is None
    assert wheel.index == "https://idx.test/simple"
    assert sdist.yanked == "broken build"
    assert sdist.metadata_hashes == ()
    assert old.yanked == ""
    assert old.url == "https://idx.test/simple/foo/foo-0.9.zip"
    assert old.metadata_hashes is None


def test_relative_urls_resolve_against_final_url(
    fake: FakeIndex, make_client: Callable[..., IndexClient]
) -> None:
    """After a redirect, relative links resolve against where the page really is."""
    fake.add(
        "https://idx.test/simple/foo/",
        httpx.Response(301, headers={"Location": "https://mirror.test/pypi/foo/"}),
    )
    fake.html("https://mirror.test/pypi/foo/", '<a href="../files/foo-1.0.tar.gz">x</a>')
    (file,) = make_client().project_files("foo")
    assert file.url == "https://mirror.test/pypi/files/foo-1.0.tar.gz"


def test_core_metadata_attribute_wins_over_legacy(
    fake: FakeIndex, make_client: Callable[..., IndexClient]
) -> None:
    """PEP 714: data-core-metadata is preferred to data-dist-info-metadata."""
    fake.html(
        "https://idx.test/simple/foo/",
        f'<a href="foo-1.0.tar.gz" data-dist-info-metadata="sha256={"0" * 64}" '
        f'data-core-metadata="sha256={"1" * 64}">x</a>',
    )
    (file,) = make_client().project_files("foo")
    assert file.metadata_hashes == (("sha256", "1" * 64),)


def test_json_page_fields(fake: FakeIndex, make_client: Callable[..., IndexClient]) -> None:
    """A PEP 691 page gives hashes, Requires-Python, yanked, core-metadata, size, upload-time."""
    fake.json(
        "https://idx.test/simple/foo/",
        {
            "meta": {"api-version": "1.1"},
            "name": "foo",
            "files": [
                {
                    "filename": "foo-1.0-py3-none-any.whl",
                    "url": "../../files/foo-1.0-py3-none-any.whl",
                    "hashes": {"sha256": "AA" * 32, "md5": "../../x"},
                    "requires-python": ">=3.9",
                    "core-metadata": {"sha256": "bb" * 32},
                    "size": 1234,
                    "upload-time": "2024-01-02T03:04:05Z",
                },
                {
                    "filename": "foo-1.0.tar.gz",
                    "url": "https://cdn.test/foo-1.0.tar.gz",
                    "hashes": {},
                    "yanked": True,
                    "data-dist-info-metadata": True,
                },
                {
                    "filename": "foo-0.9.tar.gz",
                    "url": "https://cdn.test/foo-0.9.tar.gz",
                    "hashes": {},
                    "yanked": "security",
                    "core-metadata": False,
                },
            ],
        },
    )
    wheel, sdist, old = make_client().project_files("foo")
    assert wheel.url == "https://idx.test/files/foo-1.0-py3-none-any.whl"
    assert wheel.hashes == (("sha256", "aa" * 32),)  # the malformed md5 is dropped
    assert str(wheel.requires_python) == ">=3.9"
    assert wheel.metadata_hashes == (("sha256", "bb" * 32),)
    assert wheel.size == 1234
    assert wheel.upload_time == datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    assert sdist.yanked == "" and sdist.metadata_hashes == ()
    assert old.yanked == "security" and old.metadata_hashes is None


def test_content_negotiation(fake: FakeIndex, make_client: Callable[..., IndexClient]) -> None:
    """JSON is asked for first; an HTML answer is parsed as HTML by its content type."""
    fake.html("https://idx.test/simple/foo/", '<a href="foo-1.0.tar.gz">x</a>')
    assert len(make_client().project_files("foo")) == 1
    assert fake.requests[0].headers["Accept"] == ACCEPT
    assert ACCEPT.startswith("application/vnd.pypi.simple.v1+json")


def test_unsupported_json_version_is_an_error(
    fake: FakeIndex, make_client: Callable[..., IndexClient]
) -> None:
    """A JSON page of API version 2 is refused with a clear error."""
    fake.json("https://idx.test/simple/foo/", {"meta": {"api-version": "2.0"}, "files": []})
    with pytest.raises(IndexFetchError, match="unsupported simple API version"):
        make_client().project_files("foo")


def test_project_name_is_canonicalised(
    fake: FakeIndex, make_client: Callable[..., IndexClient]
) -> None:
    """The page URL uses the normalised name, with a trailing slash."""
    make_client().project_files("Zope.Interface_x")
    assert fake.urls() == ["https://idx.test/simple/zope-interface-x/"]


# -- sources and strategies --------------------------------------------------


def _two_indexes(fake: FakeIndex) -> None:
    fake.html("https://private.test/simple/foo/", '<a href="foo-1.0.tar.gz">x</a>')
    fake.html("https://idx.test/simple/foo/", '<a href="foo-9.0.tar.gz">x</a>')
    fake.html("https://idx.test/simple/bar/", '<a href="bar-1.0.tar.gz">x</a>')


def test_first_index_protects_private_names(
    fake: FakeIndex, make_client: Callable[..., IndexClient]
) -> None:
    """With first-index, a project the first index knows is never looked up elsewhere."""
    _two_indexes(fake)
    client = make_client(
        index_url="https://private.test/simple", extra_index_urls=("https://idx.test/simple",)
    )
    assert [f.filename for f in client.project_files("foo")] == ["foo-1.0.tar.gz"]
    assert fake.urls() == ["https://private.test/simple/foo/"]
    assert [f.index for f in client.project_files("bar")] == ["https://idx.test/simple"]


def test_unsafe_best_match_merges_indexes(
    fake: FakeIndex, make_client: Callable[..., IndexClient]
) -> None:
    """unsafe-best-match lists the files of every index, in index order."""
    _two_indexes(fake)
    client = make_client(
        index_url="https://private.test/simple",
        extra_index_urls=("https://idx.test/simple",),
        index_strategy="unsafe-best-match",
    )
    assert [f.filename for f in client.project_files("foo")] == ["foo-1.0.tar.gz", "foo-9.0.tar.gz"]


def test_find_links_page_always_added(
    fake: FakeIndex, make_client: Callable[..., IndexClient]
) -> None:
    """An http find-links page adds its files for the project, even with first-index."""
    fake.html("https://idx.test/simple/foo/", '<a href="foo-1.0.tar.gz">x</a>')
    fake.html(
        "https://links.test/wheels.html",
        '<a href="foo-2.0-py3-none-any.whl">a</a><a href="bar-1.0.tar.gz">b</a>',
    )
    client = make_client(find_links=("https://links.test/wheels.html",))
    files = client.project_files("foo")
    assert [(f.filename, f.index) for f in files] == [
        ("foo-1.0.tar.gz", "https://idx.test/simple"),
        ("foo-2.0-py3-none-any.whl", ""),
    ]
    client.project_files("bar")
    assert fake.urls().count("https://links.test/wheels.html") == 1


def test_unknown_project_is_empty(fake: FakeIndex, make_client: Callable[..., IndexClient]) -> None:
    """404 and 410 mean "not here": an unknown project has no files, no error."""
    fake.add("https://other.test/simple/foo/", httpx.Response(410))
    client = make_client(extra_index_urls=("https://other.test/simple",))
    assert client.project_files("foo") == ()


def test_exclude_newer(fake: FakeIndex, make_client: Callable[..., IndexClient]) -> None:
    """Files uploaded after the cut-off, or without an upload time, are dropped."""
    fake.html(
        "https://idx.test/simple/foo/",
        '<a href="foo-1.0.tar.gz" data-upload-time="2024-01-01T00:00:00Z">a</a>'
        '<a href="foo-2.0.tar.gz" data-upload-time="2024-06-01T00:00:00Z">b</a>'
        '<a href="foo-3.0.tar.gz">c</a>',
    )
    cutoff = datetime.datetime(2024, 3, 1, tzinfo=datetime.timezone.utc)
    files = make_client(exclude_newer=cutoff).project_files("foo")
    assert [f.filename for f in files] == ["foo-1.0.tar.gz"]


def test_results_are_memoised_and_prefetch_dedupes(
    fake: FakeIndex, make_client: Callable[..., IndexClient]
) -> None:
    """Prefetching then asking, from many threads, fetches each page once."""
    for name in ("a", "b", "c"):
        fake.html(f"https://idx.test/simple/{name}/", f'<a href="{name}-1.0.tar.gz">x</a>')
    client = make_client()
    client.prefetch_projects(["a", "b", "c", "A"])
    threads = [threading.Thread(target=client.project_files, args=(n,)) for n in "abcabc"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(fake.urls()) == [f"https://idx.test/simple/{n}/" for n in "abc"]
    assert client.stats["pages"] == 3


# -- failures ----------------------------------------------------------------


def test_server_errors_are_retried_then_reported(
    fake: FakeIndex, make_client: Callable[..., IndexClient], sleeps: list[float]
) -> None:
    """A 500 is retried three times with growing back-off, then names URL and status."""
    fake.add("https://idx.test/simple/foo/", httpx.Response(500))
    client = make_client(retry_backoff=0.1)
    with pytest.raises(IndexFetchError) as info:
        client.project_files("foo")
    assert info.value.status == 500
    assert "https://idx.test/simple/foo/" in str(info.value)
    assert len(fake.requests) == 3
    assert sleeps == [0.1, 0.2]


def test_transient_failure_then_success(
    fake: FakeIndex, make_client: Callable[..., IndexClient]
) -> None:
    """A connection error followed by a good answer succeeds."""
    answers = iter([httpx.ConnectError("refused"), None])

    def flaky(request: httpx.Request) -> httpx.Response:
        exc = next(answers)
        if exc is not None:
            raise exc
        return httpx.Response(200, text='<a href="foo-1.0.tar.gz">x</a>')

    fake.add("https://idx.test/simple/foo/", flaky)
    client = make_client()
    assert len(client.project_files("foo")) == 1
    assert client.stats["retries"] == 1


def test_connection_failures_exhaust_retries(
    fake: FakeIndex, make_client: Callable[..., IndexClient]
) -> None:
    """Repeated timeouts end in an IndexFetchError without an HTTP status."""

    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    fake.add("https://idx.test/simple/foo/", timeout)
    with pytest.raises(IndexFetchError, match="timed out") as info:
        make_client().project_files("foo")
    assert info.value.status is None


def test_429_honours_retry_after_up_to_a_bound(
    fake: FakeIndex, make_client: Callable[..., IndexClient], sleeps: list[float]
) -> None:
    """Retry-After is obeyed, but never longer than max_retry_after."""
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": "2"}),
            httpx.Response(429, headers={"Retry-After": "3600"}),
            httpx.Response(200, text='<a href="foo-1.0.tar.gz">x</a>'),
        ]
    )
    fake.add("https://idx.test/simple/foo/", lambda request: next(answers))
    assert len(make_client(max_retry_after=5.0).project_files("foo")) == 1
    assert sleeps == [2.0, 5.0]


def test_forbidden_is_not_retried(fake: FakeIndex, make_client: Callable[..., IndexClient]) -> None:
    """A 403 fails at once with a hint about credentials."""
    fake.add("https://idx.test/simple/foo/", httpx.Response(403))
    with pytest.raises(IndexFetchError) as info:
        make_client().project_files("foo")
    assert info.value.status == 403
    assert info.value.hint is not None and "credentials" in info.value.hint
    assert len(fake.requests) == 1


def test_credentials_are_used_but_never_shown(
    fake: FakeIndex, make_client: Callable[..., IndexClient]
) -> None:
    """Credentials in an index URL authenticate requests but stay out of files and errors."""
    fake.html(
        "https://private.test/simple/foo/",
        '<a href="/files/foo-1.0-py3-none-any.whl">x</a>',
    )
    fake.add("https://private.test/simple/bar/", httpx.Response(500))
    client = make_client(index_url="https://alice:s3cret@private.test/simple")
    (file,) = client.project_files("foo")
    assert file.url == "https://private.test/files/foo-1.0-py3-none-any.whl"
    assert file.index == "https://private.test/simple"
    auth = fake.requests[0].headers["Authorization"]
    assert auth == httpx.BasicAuth("alice", "s3cret")._auth_header
    assert "s3cret" not in str(fake.requests[0].url)
    with pytest.raises(IndexFetchError) as info:
        client.project_files("bar")
    assert "s3cret" not in str(info.value) and "alice" not in str(info.value)
    assert "https://private.test/simple/bar/" in str(info.value)
    # the same host's files get the credentials too
    fake.add(
        "https://private.test/files/foo-1.0-py3-none-any.whl.metadata",
        httpx.Response(200, content=metadata("foo", "1.0")),
    )
    client.wheel_metadata(file)
    assert fake.requests[-1].headers["Authorization"] == auth


# -- cache -------------------------------------------------------------------


def test_offline_cache_miss(make_client: Callable[..., IndexClient], fake: FakeIndex) -> None:
    """--offline with nothing cached raises OfflineCacheMiss and makes no request."""
    with pytest.raises(OfflineCacheMiss):
        make_client(offline=True).project_files("foo")
    assert fake.requests == []


def test_offline_uses_cache_including_not_found(
    fake: FakeIndex, make_client: Callable[..., IndexClient]
) -> None:
    """After one online run, an offline run answers from the cache, 404s included."""
    fake.html("https://idx.test/simple/foo/", '<a href="foo-1.0.tar.gz">x</a>')
    online = make_client().project_files("foo")
    assert make_client().project_files("nope") == ()
    count = len(fake.requests)
    offline = make_client(offline=True)
    assert offline.project_files("foo") == online
    assert offline.project_files("nope") == ()
    assert len(fake.requests) == count
    assert offline.stats["cache_hits"] == 2


def test_revalidation_with_304(fake: FakeIndex, make_client: Callable[..., IndexClient]) -> None:
    """A cached page is revalidated with its ETag/Last-Modified; 304 reuses it."""

    def page(request: httpx.Request) -> httpx.Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return httpx.Response(304)
        return httpx.Response(
            200,
            text='<a href="foo-1.0.tar.gz">x</a>',
            headers={"ETag": '"v1"', "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT"},
        )

    fake.add("https://idx.test/simple/foo/", page)
    first = make_client().project_files("foo")
    warm = make_client()
    assert warm.project_files("foo") == first
    request = fake.requests[-1]
    assert request.headers["If-None-Match"] == '"v1"'
    assert request.headers["If-Modified-Since"] == "Mon, 01 Jan 2024 00:00:00 GMT"
    assert warm.stats["pages_not_modified"] == 1


def test_refresh_ignores_cached_pages(
    fake: FakeIndex, make_client: Callable[..., IndexClient]
) -> None:
    """refresh=True fetches pages unconditionally and sees the new content."""
    fake.html("https://idx.test/simple/foo/", '<a href="foo-1.0.tar.gz">x</a>', ETag='"v1"')
    make_client().project_files("foo")
    fake.html("https://idx.test/simple/foo/", '<a href="foo-2.0.tar.gz">x</a>', ETag='"v2"')
    files = make_client(refresh=True).project_files("foo")
    assert [f.filename for f in files] == ["foo-2.0.tar.gz"]
    assert "If-None-Match" not in fake.requests[-1].headers


def test_cache_layout_is_versioned_json(
    fake: FakeIndex, make_client: Callable[..., IndexClient], tmp_path: Path
) -> None:
    """Pages are stored parsed under <cache>/v1/pages: a digest line, a JSON header, then a
    line per version."""
    digest = "ab" * 32
    fake.html("https://idx.test/simple/foo/", f'<a href="foo-1.0.tar.gz#sha256={digest}">x</a>')
    make_client().project_files("foo")
    (entry,) = (tmp_path / "cache" / "v1" / "pages").rglob("*.json")
    frame, body = entry.read_bytes().split(b"\n", 1)
    assert frame == b"crosspin-cache sha256=" + hashlib.sha256(body).hexdigest().encode()
    head, line = body.split(b"\n")
    assert json.loads(head) == {"format": 2, "url": "https://idx.test/simple/foo/",
                                "found": True}
    key, _, value = line.partition(b"\t")
    assert json.loads(key) == "foo/1.0"
    assert json.loads(value) == [[0, {
        "filename": "foo-1.0.tar.gz",
        "url": "https://idx.test/simple/foo/foo-1.0.tar.gz",
        "hashes": {"sha256": digest},
    }]]


def test_cache_entries_without_a_digest_are_fetched_again(
    fake: FakeIndex, make_client: Callable[..., IndexClient], tmp_path: Path
) -> None:
    """An entry written by an earlier crosspin (no digest line) is a miss: fetched again."""
    url = "https://idx.test/simple/foo/"
    name = hashlib.sha256(url.encode()).hexdigest() + ".json"
    entry = tmp_path / "cache" / "v1" / "pages" / name[:2] / name
    entry.parent.mkdir(parents=True)
    entry.write_text(json.dumps({"format": 1, "url": url, "found": True, "links": [
        {"filename": "foo-0.1.tar.gz", "url": url + "foo-0.1.tar.gz"},
    ]}), encoding="utf-8")
    with pytest.raises(OfflineCacheMiss):
        make_client(offline=True).project_files("foo")
    fake.html(url, '<a href="foo-1.0.tar.gz">x</a>')
    (file,) = make_client().project_files("foo")
    assert file.filename == "foo-1.0.tar.gz"


def test_a_truncated_page_entry_is_fetched_again(
    fake: FakeIndex, make_client: Callable[..., IndexClient], tmp_path: Path
) -> None:
    """A page entry cut short (a full disk) loses no versions: it is a miss, fetched again."""
    url = "https://idx.test/simple/foo/"
    fake.html(url, '<a href="foo-1.0.tar.gz">x</a><a href="foo-2.0.tar.gz">y</a>')
    make_client().project_files("foo")
    (entry,) = (tmp_path / "cache" / "v1" / "pages").rglob("*.json")
    data = entry.read_bytes()
    entry.write_bytes(data[: data.rindex(b"\n")])  # the last version's line is gone
    assert len(make_client().project_files("foo")) == 2
    assert len(fake.requests) == 2


def test_corrupt_cache_entry_is_a_miss(
    fake: FakeIndex, make_client: Callable[..., IndexClient], tmp_path: Path
) -> None:
    """A damaged cache file is ignored and refetched, never an error."""
    fake.html("https://idx.test/simple/foo/", '<a href="foo-1.0.tar.gz">x</a>')
    make_client().project_files("foo")
    (entry,) = (tmp_path / "cache" / "v1" / "pages").rglob("*.json")
    entry.write_text("{not json")
    assert len(make_client().project_files("foo")) == 1


def test_no_cache_writes_nothing(
    fake: FakeIndex, make_client: Callable[..., IndexClient], tmp_path: Path
) -> None:
    """no_cache keeps everything in memory."""
    fake.html("https://idx.test/simple/foo/", '<a href="foo-1.0.tar.gz">x</a>')
    make_client(no_cache=True).project_files("foo")
    assert not (tmp_path / "cache").exists()


# -- metadata ----------------------------------------------------------------


def _wheel_file(wheel: bytes, **fields: Any) -> DistFile:
    file = DistFile.from_link(
        filename="foo-1.0-py3-none-any.whl",
        url="https://files.test/foo-1.0-py3-none-any.whl",
        hashes={"sha256": sha256(wheel)},
        **fields,
    )
    assert file is not None
    return file


def test_pep658_metadata_is_hash_checked(
    fake: FakeIndex, make_client: Callable[..., IndexClient]
) -> None:
    """An advertised .metadata file is fetched and verified against its hash."""
    meta = metadata("foo", "1.0")
    fake.add(
        "https://files.test/foo-1.0-py3-none-any.whl.metadata", httpx.Response(200, content=meta)
    )
    good = _wheel_file(b"wheel", metadata_hashes={"sha256": sha256(meta)})
    client = make_client()
    assert client.wheel_metadata(good) == meta
    assert client.stats["metadata"] == 1
    bad = _wheel_file(b"other wheel", metadata_hashes={"sha256": "0" * 64})
    with pytest.raises(HashMismatchError):
        make_client().wheel_metadata(bad)


def test_metadata_is_cached_by_wheel_hash(
    fake: FakeIndex, make_client: Callable[..., IndexClient]
) -> None:
    """A second run gets metadata from the cache without any request."""
    meta = metadata("foo", "1.0")
    fake.add(
        "https://files.test/foo-1.0-py3-none-any.whl.metadata", httpx.Response(200, content=meta)
    )
    file = _wheel_file(b"wheel", metadata_hashes={})
    make_client().wheel_metadata(file)
    count = len(fake.requests)
    again = make_client(offline=True)
    assert again.wheel_metadata(file) == meta
    assert len(fake.requests) == count


@pytest.mark.parametrize("advertised", [True, False], ids=["pep658-hash", "no-hash"])
def test_parsed_fields_are_stored_under_the_metadata_digest_even_after_a_prefetch(
    fake: FakeIndex, make_client: Callable[..., IndexClient], tmp_path: Path, advertised: bool
) -> None:
    """Metadata a background prefetch read still gets its parsed fields stored, under the
    sha256 of the METADATA itself, and a later run finds them."""
    meta = metadata("foo", "1.0")
    fake.add(
        "https://files.test/foo-1.0-py3-none-any.whl.metadata", httpx.Response(200, content=meta)
    )
    hashes = {"sha256": sha256(meta)} if advertised else {}
    file = _wheel_file(b"wheel", metadata_hashes=hashes)
    client = make_client()
    client.prefetch_metadata([file])
    assert client.wheel_metadata(file) == meta
    client.store_parsed_metadata(file, b'{"fields": 1}')
    parsed = [p.name for p in (tmp_path / "cache" / "v1" / "parsed").rglob("*") if p.is_file()]
    assert parsed == [sha256(meta)]
    assert make_client(offline=True).parsed_metadata(file) == b'{"fields": 1}'


def test_speculative_metadata_is_learnt_per_host(
    fake: FakeIndex, make_client: Callable[..., IndexClient]
) -> None:
    """Unadvertised .metadata is tried on a host until it answers 404 there."""
    wheel = make_wheel("foo", "1.0")
    fake.add("https://files.test/foo-1.0-py3-none-any.whl", httpx.Response(200, content=wheel))
    fake.add(
        "https://good.test/foo-1.0-py3-none-any.whl.metadata",
        httpx.Response(200, content=metadata("foo", "1.0")),
    )
    client = make_client()
    good = DistFile.from_link(
        filename="foo-1.0-py3-none-any.whl", url="https://good.test/foo-1.0-py3-none-any.whl"
    )
    assert good is not None
    assert client.wheel_metadata(good) == metadata("foo", "1.0")
    file = _wheel_file(wheel)
    assert client.wheel_metadata(file) == metadata("foo", "1.0")  # 404, then the wheel
    other = attrs_evolve(file, url="https://files.test/foo-1.0-py3-none-any.whl?again", hashes=())
    fake.add(other.url, httpx.Response(200, content=wheel))
    client.wheel_metadata(other)
    speculative = [u for u in fake.urls() if u.endswith(".metadata")]
    assert speculative == [
        "https://good.test/foo-1.0-py3-none-any.whl.metadata",
        "https://files.test/foo-1.0-py3-none-any.whl.metadata",
    ]


def attrs_evolve(file: DistFile, **changes: Any) -> DistFile:
    import attrs

    return attrs.evolve(file, **changes)


def test_speculative_garbage_is_not_metadata(
    fake: FakeIndex, make_client: Callable[..., IndexClient]
) -> None:
    """A host answering 200 with an HTML page for .metadata is not believed."""
    wheel = make_wheel("foo", "1.0")
    fake.add("https://files.test/foo-1.0-py3-none-any.whl", httpx.Response(200, content=wheel))
    fake.add(
        "https://files.test/foo-1.0-py3-none-any.whl.metadata",
        httpx.Response(200, text="<html>login</html>"),
    )
    assert make_client().wheel_metadata(_wheel_file(wheel)) == metadata("foo", "1.0")


def test_advertised_metadata_missing_falls_back(
    fake: FakeIndex, make_client: Callable[..., IndexClient]
) -> None:
    """If an advertised .metadata file 404s, the wheel itself is read."""
    wheel = make_wheel("foo", "1.0")
    fake.add("https://files.test/foo-1.0-py3-none-any.whl", httpx.Response(200, content=wheel))
    client = make_client()
    assert client.wheel_metadata(_wheel_file(wheel, metadata_hashes={})) == metadata("foo", "1.0")


def test_range_requests_over_mock(fake: FakeIndex, make_client: Callable[..., IndexClient]) -> None:
    """Without .metadata, the METADATA member is read by range requests, not a download."""
    wheel = make_wheel("foo", "1.0", payload=bytes(range(256)) * 4000)

    def ranged(request: httpx.Request) -> httpx.Response:
        spec = request.headers["Range"].removeprefix("bytes=")
        start_text, _, end_text = spec.partition("-")
        if not start_text:
            start, end = max(0, len(wheel) - int(end_text)), len(wheel) - 1
        else:
            start, end = int(start_text), min(int(end_text), len(wheel) - 1)
        return httpx.Response(
            206,
            content=wheel[start : end + 1],
            headers={"Content-Range": f"bytes {start}-{end}/{len(wheel)}"},
        )

    fake.add("https://files.test/foo-1.0-py3-none-any.whl", ranged)
    client = make_client()
    assert client.wheel_metadata(_wheel_file(wheel)) == metadata("foo", "1.0")
    assert client.stats["range"] >= 1
    assert client.stats["downloads"] == 0


def test_metadata_of_sdist_is_refused(make_client: Callable[..., IndexClient]) -> None:
    """wheel_metadata is only for wheels."""
    sdist = DistFile.from_link(filename="foo-1.0.tar.gz", url="https://files.test/foo-1.0.tar.gz")
    assert sdist is not None
    with pytest.raises(ValueError, match="not a wheel"):
        make_client().wheel_metadata(sdist)


# -- downloads ---------------------------------------------------------------


def test_download_verifies_and_caches(
    fake: FakeIndex, make_client: Callable[..., IndexClient], tmp_path: Path
) -> None:
    """A download is hash-checked, lands atomically, and the next one comes from the cache."""
    wheel = make_wheel("foo", "1.0")
    fake.add("https://files.test/foo-1.0-py3-none-any.whl", httpx.Response(200, content=wheel))
    file = _wheel_file(wheel)
    path = make_client().download(file, tmp_path / "dest")
    assert path == tmp_path / "dest" / "foo-1.0-py3-none-any.whl"
    assert path.read_bytes() == wheel
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    count = len(fake.requests)
    again = make_client(offline=True).download(file, tmp_path / "dest2")
    assert again.read_bytes() == wheel
    assert len(fake.requests) == count


def test_download_hash_mismatch_leaves_nothing(
    fake: FakeIndex, make_client: Callable[..., IndexClient], tmp_path: Path
) -> None:
    """A wrong hash raises HashMismatchError and leaves no file behind."""
    fake.add("https://files.test/foo-1.0-py3-none-any.whl", httpx.Response(200, content=b"evil"))
    file = _wheel_file(b"the real wheel")
    dest = tmp_path / "dest"
    with pytest.raises(HashMismatchError):
        make_client().download(file, dest)
    assert list(dest.iterdir()) == []
    assert not list((tmp_path / "cache").rglob("files/**/*"))


def test_download_404_is_an_error(
    fake: FakeIndex, make_client: Callable[..., IndexClient], tmp_path: Path
) -> None:
    """A listed file that is gone is an error, not "not found"."""
    with pytest.raises(IndexFetchError) as info:
        make_client().download(_wheel_file(b"w"), tmp_path)
    assert info.value.status == 404


def test_offline_download_miss(make_client: Callable[..., IndexClient], tmp_path: Path) -> None:
    """--offline without the file cached raises OfflineCacheMiss."""
    with pytest.raises(OfflineCacheMiss):
        make_client(offline=True).download(_wheel_file(b"w"), tmp_path)


def test_bad_cert_bundle_is_a_clear_error(
    make_client: Callable[..., IndexClient], tmp_path: Path
) -> None:
    """A cert setting naming a missing file fails with a hint, not a traceback."""
    with pytest.raises(IndexFetchError) as info:
        make_client(cert=str(tmp_path / "missing.pem")).project_files("foo")
    assert "certificate bundle" in str(info.value)
    assert info.value.hint is not None and "cert" in info.value.hint


#: Speculative .metadata answers: real headers, odd spellings, and what is no metadata.
NAME_CASES = [
    b"Metadata-Version: 2.1\nName: foo\nVersion: 1.0\n\nName: bar\n",
    b"Metadata-Version: 2.1\r\nName: Foo_Bar\r\nVersion: 1.0\r\n",
    b"Metadata-Version: 2.1\nname:   foo\nVersion: 1.0\n",
    b"Metadata-Version: 2.1\nVersion: 1.0\nName: foo\nName: other\n",
    b"Metadata-Version: 2.1\nSummary: x\n  continued: Name\nName: foo\n",
    b"Metadata-Version: 2.1\nVersion: 1.0\n\nName: foo\n",
    b"Metadata-Version: 2.1\nnot a header\nName: foo\n",
    b"Metadata-Version: 2.1\nVersion: 1.0\n",
    b"\n\nMetadata-Version: 2.1\nName: foo\n",
    b"<html>Metadata-Version: 2.1\nName: foo</html>",
]


@pytest.mark.parametrize("data", NAME_CASES)
def test_speculative_metadata_is_judged_by_its_name_as_the_header_parser_reads_it(
    data: bytes,
) -> None:
    """A .metadata answer is believed when its first Name field (read as email's header
    parser reads it) is the wheel's name."""
    file = DistFile.from_link(filename="foo-1.0-py3-none-any.whl",
                              url="https://files.test/foo-1.0-py3-none-any.whl")
    assert file is not None
    name = BytesHeaderParser().parsebytes(data).get("Name", "")
    expected = (data.lstrip().startswith(b"Metadata-Version:")
                and canonicalize_name(name) == file.name)
    assert _looks_like_metadata(data, file) is expected
    assert _looks_like_metadata(data.replace(b"foo", b"foo-bar"), file) is False


def test_a_speculative_name_reads_as_crosspins_metadata_reader() -> None:
    """Outer whitespace is stripped and a folded Name joined with a space, as METADATA is
    read (email's parser keeps both)."""
    assert _metadata_name(b"Metadata-Version: 2.1\nName: foo\n bar\nVersion: 1\n") == "foo bar"
    assert _metadata_name(b"Metadata-Version: 2.1\nname:   foo  \n") == "foo"
