"""One shared HTTP client: pooling, credentials, trusted hosts, retries, counters.

Everything that goes over the network passes through :class:`Http`, so
retries, redaction and the request counters behind ``IndexClient.stats``
live in one place. httpx is imported here only when a client is built.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
import urllib.parse
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, TypeVar

import attrs

from crosspin import __version__
from crosspin.errors import IndexFetchError
from crosspin.index._settings import IndexSettings
from crosspin.index._urls import Credentials, host_key, redact

if TYPE_CHECKING:
    import httpx

__all__ = ["Fetched", "Http", "RetryPolicy", "Stats"]

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


class _Retry(Exception):
    def __init__(self, reason: str, status: int | None, retry_after: str | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after


class Http:
    """The shared, pooled httpx client, built on first use."""

    def __init__(
        self,
        settings: IndexSettings,
        *,
        transport: httpx.BaseTransport | None,
        credentials: Credentials,
        stats: Stats,
    ) -> None:
        self._timeout = settings.timeout
        self._cert = settings.cert
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
        if self._cert:
            # lazy: only a custom certificate bundle needs ssl here.
            import ssl

            try:
                verify = ssl.create_default_context(cafile=self._cert)
            except (OSError, ssl.SSLError) as exc:
                raise IndexFetchError(
                    redact(url),
                    f"cannot load the certificate bundle {self._cert}: {exc}",
                    hint="fix the cert setting (--cert, PIP_CERT or pip.conf)",
                ) from None
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

    def close(self) -> None:
        """Close the pooled connections."""
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> Fetched:
        """GET with retries; any non-transient status is returned for the caller to judge.

        Connection errors, timeouts, 5xx and 429 are retried; when the
        attempts run out an :class:`IndexFetchError` names the redacted URL.
        """

        def attempt() -> Fetched:
            response = self._send(url, headers)
            self._stats.add("bytes", len(response.content))
            return Fetched(
                url=self._credentials.learn(str(response.url)),
                status=response.status_code,
                headers=response.headers,
                content=response.content,
            )

        return self._with_retries(url, attempt)

    def download(self, url: str, dest: Path, algorithms: Iterable[str]) -> dict[str, str]:
        """Stream a file into ``dest`` (truncated on each try); return its digests.

        Anything but 200 is an error here, 404 included: the file was listed.
        """
        # lazy: httpx is imported when a client first needs the network.
        import httpx

        names = tuple(algorithms)

        def attempt() -> dict[str, str]:
            client = self._get_client(url)
            hashers = {name: hashlib.new(name) for name in names}
            try:
                with client.stream(
                    "GET", url, headers={"Accept-Encoding": "identity"}, auth=self._auth(url)
                ) as response:
                    self._check_transient(response.status_code, response.headers)
                    if response.status_code != 200:
                        raise self.error(url, "unexpected response", status=response.status_code)
                    with dest.open("wb") as out:
                        for chunk in response.iter_bytes(_CHUNK):
                            out.write(chunk)
                            self._stats.add("bytes", len(chunk))
                            for hasher in hashers.values():
                                hasher.update(chunk)
            except httpx.HTTPError as exc:
                raise self._classify(url, exc) from None
            return {name: h.hexdigest() for name, h in hashers.items()}

        return self._with_retries(url, attempt)

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

    def _send(self, url: str, headers: Mapping[str, str] | None) -> httpx.Response:
        # lazy: httpx is imported when a client first needs the network.
        import httpx

        client = self._get_client(url)
        self._stats.add("requests")
        try:
            response = client.get(url, headers=dict(headers or {}), auth=self._auth(url))
        except httpx.HTTPError as exc:
            raise self._classify(url, exc) from None
        except httpx.InvalidURL as exc:
            raise self.error(url, f"invalid URL: {exc}") from None
        self._check_transient(response.status_code, response.headers)
        return response

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

    def _with_retries(self, url: str, attempt: Callable[[], _T]) -> _T:
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
                self._stats.add("retries")
                _sleep(self._retry.delay(number, retry.retry_after))
        raise AssertionError("unreachable")  # pragma: no cover


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
