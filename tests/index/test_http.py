"""Integration tests for crosspin.index against a real loopback HTTP server with Range support."""

from __future__ import annotations

import hashlib
import http.server
import io
import os
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from crosspin.index import IndexClient, IndexSettings

METADATA = b"Metadata-Version: 2.1\nName: big\nVersion: 1.0\nRequires-Dist: six\n"


class _Handler(http.server.BaseHTTPRequestHandler):
    files: ClassVar[dict[str, bytes]] = {}
    honour_range: ClassVar[bool] = True
    sent: ClassVar[list[int]] = []
    paths: ClassVar[list[str]] = []

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def do_GET(self) -> None:
        self.paths.append(self.path)
        body = self.files.get(self.path)
        if body is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        status, start, end = 200, 0, len(body) - 1
        spec = self.headers.get("Range")
        if spec and self.honour_range and spec.startswith("bytes="):
            first, _, last = spec[len("bytes=") :].partition("-")
            if first:
                start, end = int(first), min(int(last), len(body) - 1)
            else:
                start = max(0, len(body) - int(last))
            status = 206
        chunk = body[start : end + 1]
        self.send_response(status)
        content_type = "text/html" if self.path.endswith("/") else "application/octet-stream"
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(chunk)))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(body)}")
        # Counted before writing: the client may see the whole response and
        # reset the counters before this thread runs again.
        self.sent.append(len(chunk))
        self.end_headers()
        self.wfile.write(chunk)


def build_wheel() -> bytes:
    """A real wheel: 2 MB of incompressible code first, dist-info last (as wheel builders do)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("big/__init__.py", "")
        zf.writestr("big/blob.bin", os.urandom(2 * 1024 * 1024), zipfile.ZIP_STORED)
        zf.writestr("big-1.0.dist-info/METADATA", METADATA, zipfile.ZIP_DEFLATED)
        zf.writestr("big-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\n")
        zf.writestr("big-1.0.dist-info/RECORD", "")
    return buf.getvalue()


class Server:
    def __init__(self, handler: type[_Handler], url: str) -> None:
        self.handler = handler
        self.url = url

    @property
    def bytes_sent(self) -> int:
        return sum(self.handler.sent)

    def reset(self) -> None:
        self.handler.sent.clear()
        self.handler.paths.clear()


@pytest.fixture
def server() -> Iterator[Server]:
    handler = type(
        "Handler", (_Handler,), {"files": {}, "honour_range": True, "sent": [], "paths": []}
    )
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield Server(handler, f"http://127.0.0.1:{httpd.server_address[1]}")
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture
def wheel(server: Server) -> bytes:
    data = build_wheel()
    digest = hashlib.sha256(data).hexdigest()
    server.handler.files["/files/big-1.0-py3-none-any.whl"] = data
    server.handler.files["/simple/big/"] = (
        f'<a href="../../files/big-1.0-py3-none-any.whl#sha256={digest}">big</a>'.encode()
    )
    return data


def _client(server: Server, tmp_path: Path, **options: Any) -> IndexClient:
    return IndexClient(
        IndexSettings(
            index_url=f"{server.url}/simple",
            cache_dir=tmp_path / "cache",
            retry_backoff=0.0,
            **options,
        )
    )


def test_range_requests_fetch_only_parts(server: Server, wheel: bytes, tmp_path: Path) -> None:
    """METADATA of a 2 MB wheel is read with range requests moving a small part of it."""
    with _client(server, tmp_path) as client:
        (file,) = client.project_files("big")
        server.reset()
        assert client.wheel_metadata(file) == METADATA
        assert client.stats["range"] >= 1
        assert client.stats["downloads"] == 0
    assert server.bytes_sent < len(wheel) // 20
    assert "/files/big-1.0-py3-none-any.whl.metadata" in server.handler.paths  # tried first


def test_server_ignoring_range_gives_full_body(
    server: Server, wheel: bytes, tmp_path: Path
) -> None:
    """When Range is ignored (200), the whole body is used once and cached for downloads."""
    server.handler.honour_range = False
    with _client(server, tmp_path) as client:
        (file,) = client.project_files("big")
        server.reset()
        assert client.wheel_metadata(file) == METADATA
        assert server.bytes_sent == len(wheel)
        server.reset()
        path = client.download(file, tmp_path / "dest")
        assert path.read_bytes() == wheel
        assert server.bytes_sent == 0


def test_advertised_metadata_file(server: Server, wheel: bytes, tmp_path: Path) -> None:
    """A PEP 658 .metadata file is used: one small request, no range requests."""
    digest = hashlib.sha256(METADATA).hexdigest()
    server.handler.files["/simple/big/"] = (
        f'<a href="../../files/big-1.0-py3-none-any.whl" data-core-metadata="sha256={digest}">'
        "big</a>"
    ).encode()
    server.handler.files["/files/big-1.0-py3-none-any.whl.metadata"] = METADATA
    with _client(server, tmp_path) as client:
        (file,) = client.project_files("big")
        assert client.wheel_metadata(file) == METADATA
        assert client.stats["metadata"] == 1
        assert client.stats["range"] == 0


def test_download_then_offline(server: Server, wheel: bytes, tmp_path: Path) -> None:
    """A real download is verified; a later offline run copies it from the cache."""
    with _client(server, tmp_path) as client:
        (file,) = client.project_files("big")
        assert client.download(file, tmp_path / "a").read_bytes() == wheel
    server.reset()
    with _client(server, tmp_path, offline=True) as client:
        (file,) = client.project_files("big")
        assert client.download(file, tmp_path / "b").read_bytes() == wheel
        assert client.wheel_metadata(file) == METADATA
    assert server.handler.paths == []


def test_concurrent_prefetch_against_real_server(
    server: Server, wheel: bytes, tmp_path: Path
) -> None:
    """Prefetching pages and metadata from threads gives the same answers as asking directly."""
    for n in range(20):
        server.handler.files[f"/simple/p{n}/"] = f'<a href="p{n}-1.0.tar.gz">x</a>'.encode()
    names = [f"p{n}" for n in range(20)]
    with _client(server, tmp_path, max_concurrency=4) as client:
        client.prefetch_projects([*names, "big"])
        client.prefetch_metadata(client.project_files("big"))
        assert all(len(client.project_files(n)) == 1 for n in names)
        (file,) = client.project_files("big")
        assert client.wheel_metadata(file) == METADATA
        assert client.stats["pages"] == 21


def test_httpx_is_imported_without_its_command_line_client() -> None:
    """An online command loads httpx, never httpx's own CLI (rich, pygments): start-up."""
    code = ("import sys, crosspin.index, httpx; print([m for m in ('httpx._main', 'pygments',"
            " 'rich') if sys.modules.get(m)], callable(httpx.Client))")
    assert subprocess.check_output([sys.executable, "-c", code], text=True).strip() == "[] True"
