"""One shared HTTP client: pooling, credentials, trusted hosts, retries, counters.

Everything that goes over the network passes through :class:`Http`, so
retries, redaction and the request counters behind ``IndexClient.stats``
live in one place. httpx is imported here only when a client is built.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
import time
import urllib.parse
import zlib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Literal, TypeVar

import attrs

from crosspin import __version__
from crosspin.errors import IndexFetchError
from crosspin.index._settings import IndexSettings
from crosspin.index._urls import Credentials, host_key, redact, strip_credentials

if TYPE_CHECKING:
    import httpx

# httpx's __init__ imports its own command-line client (httpx._main, which
# loads rich.console, rich.syntax and pygments) whenever click and rich are
# installed -- as they are beside crosspin. ``None`` in sys.modules makes that
# optional import fail, as httpx expects without its "cli" extra; nothing of
# httpx's API changes. A third of ``import httpx`` on every online command.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

__all__ = ["MIB", "Fetched", "Http", "RetryPolicy", "Spilled", "Stats"]

_T = TypeVar("_T")

#: Indirection so tests can observe (and skip) back-off sleeps.
_sleep: Callable[[float], None] = time.sleep

_CHUNK = 1 << 16

class Stats:
    """Thread-safe named counters."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def add(self, key: str, n: int = 1) -> None:
        """Add ``n`` to counter ``key``."""
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + n

    def snapshot(self) -> dict[str, int]:
        """A copy of all counters."""
        with self._lock:
            return dict(self._counts)


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How transient failures are retried: ``tries`` attempts, exponential back-off."""

    tries: int = 3
    backoff: float = 0.25
    max_retry_after: float = 10.0

    def delay(self, attempt: int, retry_after: str | None) -> float:
        """Seconds to wait before attempt ``attempt + 1``, honouring Retry-After up to a bound."""
        if retry_after:
            seconds = _retry_after_seconds(retry_after)
            if seconds is not None:
                return max(0.0, min(seconds, self.max_retry_after))
        return float(self.backoff * (2 ** (attempt - 1)))


def _retry_after_seconds(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        pass
    try:
        # lazy: only Retry-After dates need the email package.
        import email.utils

        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when.timestamp() - time.time()


@attrs.frozen(kw_only=True)
class Fetched:
    """A read response: final URL (redirects followed, no credentials), status, headers, body."""

    url: str
    status: int
    headers: Mapping[str, str]
    content: bytes


@attrs.frozen(kw_only=True)
class Spilled:
    """A 200 answer :meth:`Http.get_or_spill` streamed to a file: where, and its digests."""

    url: str
    path: Path
    digests: Mapping[str, str]


class _Retry(Exception):
    def __init__(self, reason: str, status: int | None, retry_after: str | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after


class _Inflater:
    """``Content-Encoding`` undone in bounded steps: no call returns more than ``_CHUNK`` bytes.

    httpx inflates each network read whole, so a 64 KiB gzip read of zeros
    becomes 64 MiB at once; decoding here, with ``max_length``, keeps every
    body's memory bounded by its cap (a gzip bomb is refused at the cap).
    """

    def __init__(self, encoding: str) -> None:
        self._zlib = zlib
        self._encoding = encoding
        wbits = 16 + zlib.MAX_WBITS if encoding in ("gzip", "x-gzip") else zlib.MAX_WBITS
        self._inflater: Any = zlib.decompressobj(wbits)
        self._started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The decoded bytes of ``data``, in pieces of at most ``_CHUNK``."""
        while True:
            try:
                out = self._inflater.decompress(data, _CHUNK)
            except self._zlib.error as exc:
                if self._encoding != "deflate" or self._started:
                    raise _Unsupported(f"corrupt {self._encoding} body: {exc}") from None
                # "deflate" is often raw deflate, without the zlib header.
                self._inflater = self._zlib.decompressobj(-self._zlib.MAX_WBITS)
                self._started = True
                continue
            self._started = True
            if out:
                yield out
            data = self._inflater.unconsumed_tail
            if not data and len(out) < _CHUNK:
                return

    def flush(self) -> bytes:
        """What is left once the body has ended (bounded by the last ``feed``)."""
        try:
            return bytes(self._inflater.flush())
        except self._zlib.error as exc:
            raise _Unsupported(f"corrupt {self._encoding} body: {exc}") from None


class _DeadlineExceeded(Exception):
    """A request ran past its whole-request deadline (never retried)."""


class _TooLarge(Exception):
    """A body passed its cap (never retried)."""


class _Body:
    """One streamed response body: decoded, counted, capped and held to the deadline."""

    def __init__(self, response: httpx.Response, *, http: Http, deadline: _Deadline,
                 decode: bool) -> None:
        self.response = response
        self._http = http
        self._deadline = deadline
        encodings = [e.strip().lower() for e in response.headers.get("Content-Encoding", "")
                     .split(",") if e.strip() and e.strip().lower() != "identity"]
        # lazy: httpx is imported when a client first needs the network.
        import httpx

        try:
            # A response built in memory (an injected test transport) is read already,
            # and decoded by httpx.
            self._read: bytes | None = response.content
        except httpx.ResponseNotRead:
            self._read = None
        if not decode or self._read is not None:
            encodings = []  # asked with "Accept-Encoding: identity": bytes as stored
        if len(encodings) > 1 or (encodings and encodings[0] not in _ENCODINGS):
            raise _Unsupported(f"unsupported Content-Encoding {', '.join(encodings)}")
        self._inflater = _Inflater(encodings[0]) if encodings else None

    def _raw(self) -> Iterator[bytes]:
        if self._read is not None:
            yield self._read
        else:
            # No chunk size: each network read as it comes (a chunker would wait for
            # 64 KiB, and a server sending a byte at a time would never reach a check).
            yield from self.response.iter_raw()

    def chunks(self, limit: int) -> Iterator[bytes]:
        """Decoded pieces; :class:`_TooLarge` past ``limit`` bytes, before holding more."""
        total = 0
        for raw in self._raw():
            self._deadline.check(total)
            self._http.count_bytes(len(raw))
            pieces = self._inflater.feed(raw) if self._inflater is not None else (raw,)
            for piece in pieces:
                total += len(piece)
                if total > limit:
                    raise _TooLarge()
                yield piece
        if self._inflater is not None:
            tail = self._inflater.flush()
            total += len(tail)
            if total > limit:
                raise _TooLarge()
            if tail:
                yield tail
        self._deadline.check(total)

    def read(self, limit: int) -> bytes:
        """The whole decoded body (see :meth:`chunks`)."""
        return b"".join(self.chunks(limit))


class _Unsupported(Exception):
    """A response crosspin cannot read (an encoding it did not ask for)."""


_ENCODINGS = ("gzip", "x-gzip", "deflate")


class _Deadline:
    """When a request must be done: ``seconds`` after it started, plus, for downloads,
    one second per ``floor_rate`` bytes received (a big file on a slow link is not cut,
    a server dribbling a byte at a time is)."""

    def __init__(self, seconds: float, floor_rate: float = 0.0) -> None:
        self.seconds = seconds
        self._start = time.monotonic()
        self._floor_rate = floor_rate
        self._received = 0

    def remaining(self) -> float:
        """Seconds left (negative once past)."""
        allowed = self.seconds
        if self._floor_rate:
            allowed += self._received / self._floor_rate
        return self._start + allowed - time.monotonic()

    def check(self, received: int) -> None:
        """Note ``received`` bytes of the current body; :class:`_DeadlineExceeded` once past."""
        self._received = max(self._received, received)
        if self.remaining() < 0:
            raise _DeadlineExceeded()


#: Downloads may take longer than the deadline by one second per this many bytes received.
_DOWNLOAD_FLOOR_RATE = 16 * 1024

MIB = 1 << 20


class Http:
    """The shared, pooled httpx client, built on first use.

    Every request streams its body and is bounded: a whole-request deadline
    (``IndexSettings.deadline``, retries included), a cap on the decoded
    size of pages and metadata (``max_page_size``, ``max_metadata_size``)
    and of downloads (``max_download_size``).

    :meth:`close` never closes a connection a request is still using: the
    descriptor of a socket closed under a reading thread is free for the
    next ``open()``, and OpenSSL, still holding its number, would write
    its alert into that file (a lock was once published with 24 bytes of a
    TLS record at its start). Requests in flight get a short grace; any left
    after it close the pool themselves when they end.
    """

    def __init__(
        self,
        settings: IndexSettings,
        *,
        transport: httpx.BaseTransport | None,
        credentials: Credentials,
        stats: Stats,
        close_grace: float = 2.0,
    ) -> None:
        self._timeout = settings.timeout
        self._deadline = settings.deadline
        self._caps = {"page": (settings.max_page_size, "CROSSPIN_MAX_PAGE_SIZE"),
                      "metadata": (settings.max_metadata_size, "CROSSPIN_MAX_METADATA_SIZE")}
        self._max_download = settings.max_download_size
        self._cert = settings.cert
        self._client_cert = settings.client_cert
        self._trusted = tuple(settings.trusted_hosts)
        self._max_connections = max(1, settings.max_concurrency)
        self._transport = transport
        self._credentials = credentials
        self._stats = stats
        self._retry = RetryPolicy(
            tries=settings.retries,
            backoff=settings.retry_backoff,
            max_retry_after=settings.max_retry_after,
        )
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._in_flight = 0
        self._closing = False
        self._close_grace = close_grace
        self._stored_auth: dict[str, tuple[str, str] | None] = {}
        self._client: httpx.Client | None = None

    def _get_client(self, url: str) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = self._build(url)
            return self._client

    def _build(self, url: str) -> httpx.Client:
        # lazy: httpx is imported when a client first needs the network.
        import httpx

        limits = httpx.Limits(
            max_connections=self._max_connections,
            max_keepalive_connections=self._max_connections,
        )
        verify: Any = True
        if self._cert or self._client_cert:
            verify = self._ssl_context(url)
        mounts: dict[str, httpx.BaseTransport | None] = {}
        if self._transport is None:
            # pip's trusted-host: no certificate checks for these hosts only.
            for host in self._trusted:
                mounts[f"all://{host}"] = httpx.HTTPTransport(verify=False, limits=limits)
        return httpx.Client(
            transport=self._transport,
            mounts=mounts or None,
            verify=verify,
            timeout=httpx.Timeout(self._timeout),
            limits=limits,
            follow_redirects=True,
            # Proxies from the environment would bypass an injected transport.
            trust_env=self._transport is None,
            headers={"User-Agent": f"crosspin/{__version__}"},
        )

    def _ssl_context(self, url: str) -> Any:
        """TLS with the ``cert`` bundle and the ``client_cert`` (either may be unset)."""
        # lazy: only a custom certificate (bundle or client) needs ssl here.
        import ssl

        what, path = "certificate bundle", self._cert
        hint = "fix the cert setting (--cert, PIP_CERT or pip.conf)"
        try:
            context = ssl.create_default_context(cafile=self._cert)
            if self._client_cert:
                what, path = "client certificate", self._client_cert
                hint = "give --client-cert a PEM file holding the key and the certificate"
                context.load_cert_chain(self._client_cert)
        except (OSError, ssl.SSLError) as exc:
            raise IndexFetchError(redact(url), f"cannot load the {what} {path}: {exc}",
                                  hint=hint) from None
        return context

    def close(self) -> None:
        """Close the pooled connections once no request is using them (see the class).

        Later requests fail with an :class:`IndexFetchError`.
        """
        with self._idle:
            self._closing = True
            self._idle.wait_for(lambda: self._in_flight == 0, timeout=self._close_grace)
            if self._in_flight:
                return  # the last request to end closes the pool
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def count_bytes(self, n: int) -> None:
        """Count bytes received (``IndexClient.stats["bytes"]``)."""
        self._stats.add("bytes", n)

    def get(
        self, url: str, *, headers: Mapping[str, str] | None = None,
        kind: Literal["page", "metadata"] = "page",
    ) -> Fetched:
        """GET with retries; any non-transient status is returned for the caller to judge.

        The body is decoded here, in bounded steps, and refused past the cap
        of its ``kind`` (``max_page_size`` or ``max_metadata_size``).
        Connection errors, timeouts, 5xx and 429 are retried; when the
        attempts run out, the deadline passes or the body is too large an
        :class:`IndexFetchError` names the redacted URL.
        """
        limit, what = self._caps[kind]

        def consume(response: httpx.Response, body: _Body) -> Fetched:
            content = body.read(limit)
            return Fetched(url=strip_credentials(str(response.url)),
                           status=response.status_code, headers=response.headers,
                           content=content)

        request_headers = {"Accept-Encoding": "gzip, deflate", **(headers or {})}
        return self._request(url, request_headers, consume, limit=limit, what=what)

    def get_or_spill(
        self, url: str, *, headers: Mapping[str, str], limit: int, spill: Path,
        algorithms: Iterable[str],
    ) -> Fetched | Spilled:
        """A range request: a 206 answer is read (up to ``limit`` bytes); a server that
        ignores ``Range`` and answers 200 with the whole file has it streamed to
        ``spill`` (hashed on the way, at most ``max_download_size`` bytes) instead of
        into memory."""
        names = tuple(algorithms)

        def consume(response: httpx.Response, body: _Body) -> Fetched | Spilled:
            if response.status_code != 200:
                return Fetched(url=strip_credentials(str(response.url)),
                               status=response.status_code, headers=response.headers,
                               content=body.read(limit))
            digests = self._stream_to(body, spill, names)
            return Spilled(url=strip_credentials(str(response.url)), path=spill,
                           digests=digests)

        request_headers = {**headers, "Accept-Encoding": "identity"}
        return self._request(url, request_headers, consume, limit=limit, download=True)

    def download(self, url: str, dest: Path, algorithms: Iterable[str], *,
                 resume: bool = False) -> dict[str, str]:
        """Stream a file into ``dest`` (truncated on each try); return its digests.

        ``resume``: ``dest`` may hold the start of the file from an earlier,
        interrupted download; only the rest is asked for (``Range``). A 206
        answer is appended after the bytes it starts at (those are hashed
        from the disk); a server that sends the whole file (200) overwrites
        them. The caller checks the digests: a stale start fails them.
        Anything but 200 (or 206 when resuming) is an error here, 404
        included: the file was listed. More than ``max_download_size`` bytes
        is an error too.
        """
        names = tuple(algorithms)
        have = _size(dest) if resume else 0
        headers = {"Accept-Encoding": "identity"}
        if have:
            headers["Range"] = f"bytes={have}-"

        def consume(response: httpx.Response, body: _Body) -> dict[str, str]:
            start = 0
            if have and response.status_code == 206:
                at = _range_start(response.headers.get("Content-Range", ""), have)
                if at is None:
                    raise self.error(url, "unexpected Content-Range",
                                     status=response.status_code)
                start = at
            elif response.status_code != 200:
                raise self.error(url, "unexpected response", status=response.status_code)
            return self._stream_to(body, dest, names, start=start)

        return self._request(url, headers, consume,
                             limit=self._max_download, what="CROSSPIN_MAX_DOWNLOAD_SIZE",
                             download=True)

    def _stream_to(self, body: _Body, dest: Path, names: tuple[str, ...], *,
                   start: int = 0) -> dict[str, str]:
        hashers = {name: hashlib.new(name) for name in names}
        with dest.open("r+b" if start else "wb") as out:
            if start:  # the bytes kept from an earlier try: hashed, then appended to
                left = start
                while left:
                    block = out.read(min(left, 1 << 20))
                    if not block:
                        raise OSError(f"{dest} is shorter than {start} bytes")
                    left -= len(block)
                    for hasher in hashers.values():
                        hasher.update(block)
                out.truncate(start)
            for chunk in body.chunks(self._max_download - start):
                out.write(chunk)
                for hasher in hashers.values():
                    hasher.update(chunk)
        return {name: h.hexdigest() for name, h in hashers.items()}

    def error(self, url: str, reason: str, *, status: int | None = None) -> IndexFetchError:
        """An :class:`IndexFetchError` for a URL, credentials redacted."""
        hint = None
        if status in (401, 403):
            hint = "the index refused access: check the credentials in the index URL"
        return IndexFetchError(redact(url), reason, status=status, hint=hint)

    def _auth(self, url: str) -> Any:
        # lazy: httpx is imported when a client first needs the network.
        import httpx

        auth = self._credentials.for_url(url) or self._stored_credentials(url)
        return httpx.USE_CLIENT_DEFAULT if auth is None else auth

    def _stored_credentials(self, url: str) -> tuple[str, str] | None:
        """Credentials for a host from netrc, else keyring (if importable); memoised.

        Credentials in the index URL win (see :meth:`_auth`). Whatever is
        found here is only ever put in request headers, never in a URL, so
        it cannot reach a message, the cache or a lockfile.
        """
        key = host_key(url)
        with self._lock:
            if key in self._stored_auth:
                return self._stored_auth[key]
        found = _netrc_credentials(url) or _keyring_credentials(url)
        with self._lock:
            self._stored_auth[key] = found
        return found

    def _request(
        self,
        url: str,
        headers: Mapping[str, str],
        consume: Callable[[httpx.Response, _Body], _T],
        *,
        limit: int,
        what: str = "",
        download: bool = False,
    ) -> _T:
        """Send with retries, all within one deadline; ``consume`` reads the streamed answer."""
        # lazy: httpx is imported when a client first needs the network.
        import httpx

        deadline = _Deadline(self._deadline, _DOWNLOAD_FLOOR_RATE if download else 0.0)

        def attempt() -> _T:
            client = self._get_client(url)
            self._stats.add("requests")
            # No single wait may outlast the deadline either.
            wait = max(0.001, min(self._timeout, deadline.remaining()))
            try:
                with client.stream("GET", url, headers=dict(headers), auth=self._auth(url),
                                   timeout=httpx.Timeout(wait)) as response:
                    self._check_transient(response.status_code, response.headers)
                    body = _Body(response, http=self, deadline=deadline,
                                 decode=headers.get("Accept-Encoding") != "identity")
                    return consume(response, body)
            except httpx.HTTPError as exc:
                if deadline.remaining() < 0:
                    raise _DeadlineExceeded() from None
                raise self._classify(url, exc) from None
            except httpx.InvalidURL as exc:
                raise self.error(url, f"invalid URL: {exc}") from None
            except OSError as exc:  # writing a download (a full disk)
                raise self.error(url, f"cannot write the file: {exc.strerror or exc}") from None

        self._enter(url)
        try:
            return self._with_retries(url, attempt, deadline)
        except _DeadlineExceeded:
            raise IndexFetchError(
                redact(url), f"no complete answer within {deadline.seconds:g} s",
                hint="the server is stalled or very slow; if it is only slow, raise "
                     "CROSSPIN_DEADLINE (seconds)") from None
        except _TooLarge:
            raise IndexFetchError(
                redact(url), f"larger than {_mib(limit)}",
                hint=f"refused as a precaution; if it is real, raise {what} (bytes)"
                if what else None) from None
        except _Unsupported as exc:
            raise self.error(url, f"unreadable answer: {exc}") from None
        finally:
            self._leave()

    def _enter(self, url: str) -> None:
        with self._lock:
            if self._closing:
                raise self.error(url, "the index client is closed")
            self._in_flight += 1

    def _leave(self) -> None:
        with self._idle:
            self._in_flight -= 1
            if self._in_flight or not self._closing:
                self._idle.notify_all()
                return
            self._idle.notify_all()
            client, self._client = self._client, None
        if client is not None:
            client.close()  # close() gave up waiting: the last request out closes the pool

    @staticmethod
    def _check_transient(status: int, headers: Mapping[str, str]) -> None:
        if status == 429 or status >= 500:
            raise _Retry("server error", status, headers.get("Retry-After"))

    def _classify(self, url: str, exc: Exception) -> Exception:
        # lazy: httpx is imported when a client first needs the network.
        import httpx

        if isinstance(exc, httpx.TimeoutException):
            return _Retry("timed out", None, None)
        if isinstance(exc, (httpx.NetworkError, httpx.RemoteProtocolError, httpx.ProxyError)):
            return _Retry(f"connection failed ({type(exc).__name__}: {exc})", None, None)
        return self.error(url, f"{type(exc).__name__}: {exc}")

    def _with_retries(self, url: str, attempt: Callable[[], _T], deadline: _Deadline) -> _T:
        tries = max(1, self._retry.tries)
        for number in range(1, tries + 1):
            try:
                return attempt()
            except _Retry as retry:
                if number == tries:
                    reason = retry.reason
                    if tries > 1:
                        reason += f" (after {tries} attempts)"
                    raise self.error(url, reason, status=retry.status) from None
                delay = self._retry.delay(number, retry.retry_after)
                if delay >= deadline.remaining():
                    raise _DeadlineExceeded() from None
                self._stats.add("retries")
                _sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _range_start(value: str, have: int) -> int | None:
    """Where a ``Content-Range: bytes a-b/n`` answer starts, if within the ``have`` kept."""
    unit, _, spec = value.strip().partition(" ")
    first, dash, _rest = spec.partition("-")
    if unit.lower() != "bytes" or not dash or not first.isdigit():
        return None
    start = int(first)
    return start if start <= have else None


def _mib(n: int) -> str:
    return f"{n / MIB:g} MiB" if n >= MIB else f"{n} bytes"


def _netrc_credentials(url: str) -> tuple[str, str] | None:
    """``(login, password)`` for the URL's host from ``$NETRC`` or ``~/.netrc``."""
    # lazy: only a request that needs credentials reads a netrc.
    import netrc

    host = urllib.parse.urlsplit(url).hostname
    path = Path(os.environ.get("NETRC") or Path("~/.netrc").expanduser())
    if not host or not path.is_file():
        return None
    try:
        found = netrc.netrc(path).authenticators(host)
    except (OSError, netrc.NetrcParseError):
        return None  # an unreadable netrc is ignored, as pip and curl do
    if not found:
        return None
    login, _, password = found
    return (login or "", password or "")


def _keyring_credentials(url: str) -> tuple[str, str] | None:
    """Credentials from the optional ``keyring`` package, when it is importable.

    ``keyring`` is not a dependency: users who keep index tokens there have
    it installed already. Any backend failure means "no credentials".
    """
    try:
        # lazy: keyring is optional, not a dependency.
        import keyring  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return None
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        for service in (url, host):
            credential = keyring.get_credential(service, None)
            if credential is not None and credential.password:
                return (str(credential.username or ""), str(credential.password))
    except Exception:  # keyring backends raise anything
        return None
    return None
