"""URL helpers: credentials, redaction, local paths.

Index URLs may carry credentials (``https://user:token@host/simple``). They
are split off once, kept in a host -> credentials map and re-applied to
requests for that host, so no URL that reaches a message, a log, the cache
or a :class:`~crosspin.distributions.DistFile` ever contains them.
"""

from __future__ import annotations

import threading
import urllib.parse
from pathlib import Path

__all__ = [
    "Credentials",
    "file_url_to_path",
    "host_key",
    "is_file_url",
    "lock_url",
    "redact",
    "strip_auth",
]


def host_key(url: str) -> str:
    """``host:port`` of a URL, lower-cased, with the scheme's default port filled in."""
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    return f"{host}:{port}"


def strip_auth(url: str) -> tuple[str, tuple[str, str] | None]:
    """The URL without userinfo, and the ``(user, password)`` it carried, if any."""
    scheme_end = url.find("://")
    if scheme_end != -1:
        # Fast path (every link of every page comes here): no "@" before
        # the path means no userinfo, without a full parse.
        authority = url[scheme_end + 3:].partition("/")[0].partition("?")[0].partition("#")[0]
        if "@" not in authority:
            return url, None
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    clean = urllib.parse.urlunsplit(parts._replace(netloc=hostport))
    return clean, (urllib.parse.unquote(user), urllib.parse.unquote(password))


def strip_credentials(url: str) -> str:
    """The URL without ``user:password@``: safe to write into a lockfile.

    Text that is not a URL is returned as it is.
    """
    try:
        return strip_auth(url)[0]
    except ValueError:
        return url


def _userinfo(url: str) -> str | None:
    """The ``user:password`` part of a URL as written (``None`` when it has none)."""
    scheme_end = url.find("://")
    if scheme_end == -1:
        return None
    rest = url[scheme_end + 3:]
    end = min((i for i in (rest.find(c) for c in "/?#") if i != -1), default=len(rest))
    userinfo, at, _ = rest[:end].rpartition("@")
    return userinfo if at else None


def lock_url(url: str, written: str | None = None) -> str:
    """A direct URL as a lockfile may hold it: never a literal credential.

    ``user:password@`` is dropped, unless it names environment variables
    (``${TOKEN}``, pip expands them at install time): then it is kept as
    written. ``written`` is the URL the user wrote before ``${VAR}`` were
    expanded (``url`` may be a later form of it, such as a VCS URL pinned to
    a commit); its userinfo is the one that counts.
    """
    userinfo = _userinfo(written) if written is not None else _userinfo(url)
    current = _userinfo(url)
    if current is None and (userinfo is None or "${" not in userinfo):
        return url
    base = strip_credentials(url) if current is not None else url
    if userinfo is None or "${" not in userinfo:
        return base
    scheme_end = base.find("://") + 3
    return f"{base[:scheme_end]}{userinfo}@{base[scheme_end:]}"


def redact(url: str) -> str:
    """The URL with any credentials replaced by ``****``: safe for messages.

    Text that is not a URL is returned as it is.
    """
    try:
        clean, auth = strip_auth(url)
    except ValueError:
        return url
    if auth is None:
        return url
    parts = urllib.parse.urlsplit(clean)
    return urllib.parse.urlunsplit(parts._replace(netloc="****@" + parts.netloc))


def is_file_url(url: str) -> bool:
    """Whether a URL names a local file or folder."""
    return url.lower().startswith("file:")


def file_url_to_path(url: str) -> Path:
    """The local path of a ``file:`` URL."""
    # lazy: urllib.request pulls in much of the email package.
    from urllib.request import url2pathname

    parts = urllib.parse.urlsplit(url)
    path = url2pathname(parts.path)
    if parts.netloc and parts.netloc.lower() != "localhost":
        # file://server/share/x (a UNC path on Windows)
        return Path(f"//{parts.netloc}{path}")
    return Path(path)


class Credentials:
    """A thread-safe map from ``host:port`` to the credentials to send there."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_host: dict[str, tuple[str, str]] = {}

    def learn(self, url: str) -> str:
        """Remember credentials a URL carries; return the URL without them."""
        clean, auth = strip_auth(url)
        if auth is not None:
            with self._lock:
                self._by_host.setdefault(host_key(clean), auth)
        return clean

    def for_url(self, url: str) -> tuple[str, str] | None:
        """The credentials to send with a request to this URL, if any."""
        with self._lock:
            return self._by_host.get(host_key(url))
