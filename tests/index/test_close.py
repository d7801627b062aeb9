"""Closing the client while a request is still reading (RC9 of the real-world run).

A lock was once published with 24 bytes of a TLS record before its text:
a lookahead thread was still reading a pooled TLS connection when the
client was closed; the socket's descriptor number was free again, the lock
writer's new file got it, and OpenSSL -- which keeps the number, not the
socket -- wrote its alert for the "unexpected end of file" it then read
into the lock. The test below makes that race deterministic: a second
descriptor keeps the socket alive, so closing the first wakes nobody, and
the free descriptor numbers below it are taken, so the next file gets it.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from crosspin.errors import CrosspinError
from crosspin.index import IndexSettings
from crosspin.index._http import Http, Stats
from crosspin.index._urls import Credentials
from crosspin.resolver._lookahead import Lookahead
from crosspin.resolver._model import ResolveOptions

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(),
                                reason="needs /proc/self/fd (Linux)")

TEXT = b"# the lock text\n"


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True,
                   capture_output=True)
    return cert, key


class _SlowTLSServer:
    """Reads one request, then answers only when told to."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(str(cert), str(key))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.asked = threading.Event()
        self.release = threading.Event()
        self.connection: ssl.SSLSocket | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        raw, _ = self.listener.accept()
        connection = self.context.wrap_socket(raw, server_side=True)
        self.connection = connection
        connection.recv(65536)
        self.asked.set()
        self.release.wait(10)
        body = b"<html></html>"
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: "
                           + str(len(body)).encode() + b"\r\n\r\n" + body)
        connection.close()

    def own_fds(self) -> set[int]:
        """This server's descriptors (it runs in the test's own process)."""
        fds = {self.listener.fileno()}
        if self.connection is not None:
            fds.add(self.connection.fileno())
        return fds


def _socket_fds() -> set[int]:
    found = set()
    for entry in list(Path("/proc/self/fd").iterdir()):
        try:
            if str(entry.readlink()).startswith("socket:"):
                found.add(int(entry.name))
        except OSError:
            continue
    return found


def _take_fds_below(limit: int) -> list[int]:
    """Occupy every free descriptor number below ``limit`` (so the next open gets ``limit``
    if it is free)."""
    taken: list[int] = []
    while True:
        fd = os.open(os.devnull, os.O_RDONLY)
        if fd >= limit:
            os.close(fd)
            return taken
        taken.append(fd)


@pytest.fixture
def server(certificate: tuple[Path, Path]) -> Iterator[_SlowTLSServer]:
    served = _SlowTLSServer(*certificate)
    yield served
    served.release.set()
    served.listener.close()


def test_closing_the_client_never_hands_a_reading_socket_to_the_next_file(
    server: _SlowTLSServer, certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    """A file opened after close() never receives bytes from a request still in flight."""
    settings = IndexSettings(cert=str(certificate[0]), retries=1, timeout=10)
    http = Http(settings, transport=None, credentials=Credentials(), stats=Stats(),
                close_grace=0.2)
    before = _socket_fds()
    outcome: list[object] = []

    def fetch() -> None:
        try:
            outcome.append(http.get(f"https://127.0.0.1:{server.port}/simple/a/").status)
        except CrosspinError as exc:
            outcome.append(exc)

    reader = threading.Thread(target=fetch)
    reader.start()
    assert server.asked.wait(10), "the request never arrived"
    (client_fd,) = _socket_fds() - before - server.own_fds()
    keep = os.dup(client_fd)  # closing client_fd now wakes no reader: the race, made certain
    fillers: list[int] = []
    lock = tmp_path / "requirements.txt"
    try:
        http.close()
        fillers = _take_fds_below(client_fd)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, TEXT)
            server.release.set()  # the answer wakes the reader, which reads its descriptor
            reader.join(10)
        finally:
            os.close(fd)
    finally:
        for spare in (keep, *fillers):
            os.close(spare)
    assert not reader.is_alive()
    assert lock.read_bytes() == TEXT, f"foreign bytes in the file: {lock.read_bytes().hex()}"
    assert outcome == [200], outcome  # the request in flight was let finish


class _SlowFinder:
    """A finder whose one page takes a while; records when it was left."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.done = threading.Event()

    def project_releases(self, name: str) -> dict[object, object]:
        self.entered.set()
        threading.Event().wait(0.5)
        self.done.set()
        return {}


def test_lookahead_close_waits_for_the_guess_in_flight() -> None:
    """close() returns only once a running guess has finished its fetch (with a bound)."""
    from packaging.requirements import Requirement

    finder = _SlowFinder()
    ahead = Lookahead(finder=finder, metadata=None,  # type: ignore[arg-type]
                      options=ResolveOptions(), oldest_python=None, hints={}, skip=frozenset())
    ahead.start([Requirement("a")])
    assert finder.entered.wait(5)
    ahead.close()
    assert finder.done.is_set(), "close() returned while a guess was still fetching"
