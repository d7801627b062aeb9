"""The loopback index server: routes, content negotiation, ranges, flags, log, hooks."""

from __future__ import annotations

import http.client
import json
import threading
from pathlib import Path
from typing import Optional
from urllib.parse import urlsplit

import pytest

from fixtures._http import negotiate
from fixtures.builder import build_index
from fixtures.catalog import IndexFactory
from fixtures.server import IndexServer, Request, RequestRecord, Response

JSON = "application/vnd.pypi.simple.v1+json"
HTML = "application/vnd.pypi.simple.v1+html"
PIP_ACCEPT = f"{JSON}, {HTML}; q=0.1, text/html; q=0.01"
PACKAGES = {"a": {"1.0.0": {"requires": ["b"]}, "2.0.0": {}}, "b": {"1.0.0": {"yanked": True}}}
WHEEL = "/files/a-1.0.0-py3-none-any.whl"


def fetch(
    url: str, method: str = "GET", headers: Optional[dict[str, str]] = None
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request, redirects not followed."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=10)
    try:
        connection.request(method, parts.path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


@pytest.fixture
def server(make_index: IndexFactory) -> IndexServer:
    return make_index(PACKAGES)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "text/html"),
        ("*/*", "text/html"),
        (PIP_ACCEPT, JSON),
        (f"{JSON}; q=0.5, {HTML}", HTML),
        ("text/html", "text/html"),
        ("application/vnd.pypi.simple.latest+json", JSON),
        ("application/*", JSON),
        ("text/html, */*; q=0.1", "text/html"),
        (f"{JSON}; q=0", None),
        ("application/json", None),
    ],
)
def test_negotiation_follows_pep_691(accept: Optional[str], expected: Optional[str]) -> None:
    """Accept with q-values picks the PEP 691 format; nothing acceptable means 406."""
    assert negotiate(accept, "negotiate") == expected


def test_forced_api_ignores_accept() -> None:
    """``api="json"``/``"html"`` answer in that format whatever the client asks."""
    assert negotiate("text/html", "json") == JSON
    assert negotiate(JSON, "html") == "text/html"


def test_project_page_in_both_formats_lists_the_same_files(server: IndexServer) -> None:
    """HTML and JSON views of one project agree on files, hashes and attributes."""
    status, headers, body = fetch(f"{server.index_url}/a/", headers={"Accept": PIP_ACCEPT})
    assert (status, headers["Content-Type"], headers["Vary"]) == (200, JSON, "Accept")
    page = json.loads(body)
    assert page["versions"] == ["1.0.0", "2.0.0"]
    status, headers, html = fetch(f"{server.index_url}/a/")
    assert (status, headers["Content-Type"]) == (200, "text/html; charset=utf-8")
    for entry in page["files"]:
        assert f"{entry['url']}#sha256={entry['hashes']['sha256']}" in html.decode()
    status, headers, _ = fetch(f"{server.index_url}/a/", headers={"Accept": HTML})
    assert headers["Content-Type"] == HTML
    status, _, root = fetch(f"{server.index_url}/", headers={"Accept": JSON})
    assert json.loads(root)["projects"] == [{"name": "a"}, {"name": "b"}]


def test_unacceptable_accept_gets_406(server: IndexServer) -> None:
    """A client that accepts no simple-API type is refused, not sent HTML."""
    status, _, _ = fetch(f"{server.index_url}/a/", headers={"Accept": "application/json"})
    assert status == 406


def test_redirects_and_not_found(server: IndexServer) -> None:
    """Missing slashes and unnormalised names redirect; unknown things are 404."""
    status, headers, _ = fetch(f"{server.url}/simple/a")
    assert (status, headers["Location"]) == (301, "/simple/a/")
    status, headers, _ = fetch(f"{server.url}/simple/A/")
    assert (status, headers["Location"]) == (301, "/simple/a/")
    status, headers, _ = fetch(f"{server.url}/simple")
    assert (status, headers["Location"]) == (301, "/simple/")
    for path in ("/simple/nope/", "/simple/nope", "/simple/a/extra", "/files/nope.whl",
                 "/files/..%2Fsimple%2Findex.json", "/files/", "/", "/other"):  # fmt: skip
        assert fetch(f"{server.url}{path}")[0] == 404, path


def test_range_requests_return_206_slices(server: IndexServer) -> None:
    """``bytes=a-b``, ``bytes=a-`` and ``bytes=-N`` give 206 with Content-Range."""
    _, headers, whole = fetch(server.url + WHEEL)
    assert headers["Accept-Ranges"] == "bytes"
    size = len(whole)
    cases = {
        "bytes=0-9": (0, 9),
        f"bytes={size - 5}-": (size - 5, size - 1),
        "bytes=-22": (size - 22, size - 1),
        f"bytes=10-{size + 100}": (10, size - 1),
        f"bytes=-{size + 100}": (0, size - 1),
    }
    for header, (first, last) in cases.items():
        status, headers, body = fetch(server.url + WHEEL, headers={"Range": header})
        assert status == 206, header
        assert headers["Content-Range"] == f"bytes {first}-{last}/{size}"
        assert body == whole[first : last + 1]
    status, headers, _ = fetch(server.url + WHEEL, headers={"Range": f"bytes={size}-"})
    assert (status, headers["Content-Range"]) == (416, f"bytes */{size}")
    status, _, body = fetch(server.url + WHEEL, headers={"Range": "bytes=0-1,5-6"})
    assert (status, body) == (200, whole)


def test_range_requests_can_be_disabled(make_index: IndexFactory) -> None:
    """With ``range_requests=False`` a Range header is ignored: 200, whole file."""
    server = make_index(PACKAGES, range_requests=False)
    status, headers, body = fetch(server.url + WHEEL, headers={"Range": "bytes=0-9"})
    assert status == 200 and len(body) > 10
    assert "Accept-Ranges" not in headers


def test_head_sends_headers_only(server: IndexServer) -> None:
    """HEAD gives the full Content-Length and no body, and is logged as 0 bytes sent."""
    _, _, whole = fetch(server.url + WHEEL)
    status, headers, body = fetch(server.url + WHEEL, method="HEAD")
    assert (status, int(headers["Content-Length"]), body) == (200, len(whole), b"")
    status, _, body = fetch(f"{server.index_url}/a/", method="HEAD")
    assert (status, body) == (200, b"")
    assert server.requests[-2] == RequestRecord("HEAD", WHEEL, None, 200, 0)


def test_metadata_files_and_advertising(make_index: IndexFactory) -> None:
    """PEP 658 files are served and advertised unless the flags turn them off."""
    full = make_index(PACKAGES)
    status, _, metadata = fetch(f"{full.url}{WHEEL}.metadata")
    assert status == 200 and metadata.startswith(b"Metadata-Version: 2.1\nName: a\n")
    _, _, html = fetch(f"{full.index_url}/a/")
    assert b"data-core-metadata=" in html and b"data-dist-info-metadata=" in html
    bare = make_index(PACKAGES, advertise_metadata=False, serve_metadata_files=False)
    assert fetch(f"{bare.url}{WHEEL}.metadata")[0] == 404
    _, _, html = fetch(f"{bare.index_url}/a/")
    assert b"metadata" not in html
    _, _, body = fetch(f"{bare.index_url}/a/", headers={"Accept": JSON})
    assert all("core-metadata" not in e and "dist-info-metadata" not in e
               for e in json.loads(body)["files"])  # fmt: skip
    assert b"data-upload-time" in html


def test_upload_times_can_be_hidden(make_index: IndexFactory) -> None:
    """``upload_times=False`` strips PEP 700 upload times from both formats."""
    server = make_index(PACKAGES, upload_times=False)
    _, _, html = fetch(f"{server.index_url}/a/")
    _, _, body = fetch(f"{server.index_url}/a/", headers={"Accept": JSON})
    assert b"upload-time" not in html and b"upload-time" not in body
    assert b"data-yanked" not in html  # only b is yanked
    _, _, yanked = fetch(f"{server.index_url}/b/")
    assert b'data-yanked=""' in yanked


def test_request_log_records_each_request(server: IndexServer) -> None:
    """The log has method, path, Range, status and body bytes, in order; it can be cleared."""
    fetch(f"{server.index_url}/a/")
    fetch(server.url + WHEEL, headers={"Range": "bytes=-10"})
    fetch(f"{server.url}/files/missing.whl")
    records = server.requests
    assert [(r.method, r.path, r.range, r.status) for r in records] == [
        ("GET", "/simple/a/", None, 200),
        ("GET", WHEEL, "bytes=-10", 206),
        ("GET", "/files/missing.whl", None, 404),
    ]
    assert records[1].sent == 10
    server.clear_requests()
    assert server.requests == []


def test_etags_allow_conditional_requests(server: IndexServer) -> None:
    """A matching If-None-Match gets 304 without a body, for pages and files."""
    for url in (f"{server.index_url}/a/", server.url + WHEEL):
        _, headers, _ = fetch(url)
        status, _, body = fetch(url, headers={"If-None-Match": headers["ETag"]})
        assert (status, body) == (304, b"")


def test_multi_index_serves_each_root_under_its_key(tmp_path: Path) -> None:
    """One server, several indexes at ``/<key>/simple/`` with relative file links."""
    one = build_index({"a": {"1.0.0": {}}}, tmp_path / "one")
    two = build_index({"b": {"1.0.0": {}}}, tmp_path / "two")
    with IndexServer.multi({"one": one.root}) as server:
        server.add_root("two", two.root)
        assert fetch(f"{server.index_url_for('one')}/a/")[0] == 200
        assert fetch(f"{server.index_url_for('one')}/b/")[0] == 404
        assert fetch(f"{server.index_url_for('two')}/b/")[0] == 200
        status, headers, _ = fetch(f"{server.index_url_for('two')}/B")
        assert (status, headers["Location"]) == (301, "/two/simple/b/")
        assert fetch(server.file_url("b-1.0.0-py3-none-any.whl", "two"))[0] == 200
        assert fetch(f"{server.url}/three/simple/")[0] == 404
        with pytest.raises(RuntimeError):
            server.index_url  # noqa: B018 - a multi server has no single index


def test_before_response_hook_can_replace_responses(server: IndexServer) -> None:
    """The fault-injection hook sees each request and may answer instead."""
    seen: list[str] = []

    def hook(request: Request, response: Response) -> Optional[Response]:
        seen.append(request.path)
        if request.path.endswith(".metadata"):
            return Response(status=503, body=b"try later")
        return None

    server.before_response = hook
    assert fetch(f"{server.url}{WHEEL}.metadata")[:1] == (503,)
    assert fetch(server.url + WHEEL)[0] == 200
    assert seen == [f"{WHEEL}.metadata", WHEEL]


def test_errors_become_500_and_are_kept(server: IndexServer) -> None:
    """An exception while answering is a 500 response and is listed in ``errors``."""

    def hook(request: Request, response: Response) -> Optional[Response]:
        raise RuntimeError("boom")

    server.before_response = hook
    status, _, body = fetch(f"{server.index_url}/")
    assert (status, b"boom" in body) == (500, True)
    assert [str(error) for error in server.errors] == ["boom"]


def test_options_and_pages_change_while_running(make_index: IndexFactory) -> None:
    """configure() applies at once, and a rebuilt index is served without a restart."""
    built = make_index.build(PACKAGES)
    server = make_index.serve(built)
    server.configure(api="json")
    assert fetch(f"{server.index_url}/a/")[1]["Content-Type"] == JSON
    build_index({"a": {"3.0.0": {}}}, built.root)
    _, _, body = fetch(f"{server.index_url}/a/")
    assert json.loads(body)["versions"] == ["3.0.0"]


def test_concurrent_and_keep_alive_requests(server: IndexServer) -> None:
    """Many clients at once and several requests per connection are all answered."""
    statuses: list[int] = []

    def worker() -> None:
        statuses.append(fetch(server.url + WHEEL)[0])

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert statuses == [200] * 16
    connection = http.client.HTTPConnection(urlsplit(server.url).netloc, timeout=10)
    for path in ("/simple/a/", "/simple/b/", WHEEL):
        connection.request("GET", path)
        assert connection.getresponse().read() and True
    connection.close()


def test_stop_frees_the_port_even_with_idle_connections(tmp_path: Path) -> None:
    """Stopping closes idle keep-alive connections and is idempotent."""
    built = build_index(PACKAGES, tmp_path)
    server = IndexServer(built.root).start()
    connection = http.client.HTTPConnection(urlsplit(server.url).netloc, timeout=10)
    connection.request("GET", "/simple/")
    connection.getresponse().read()
    server.stop()
    server.stop()
    with pytest.raises(RuntimeError):
        server.url  # noqa: B018 - not running any more
    connection.close()
