"""Options shared by commands: where packages come from (``sync`` and ``export``).

Every pip-sync 7.6 index option is here, with pip's meaning.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Callable, TypeVar

from crosspin.cli._help import option
from crosspin.index import IndexSettings
from crosspin.lock import Sources
from crosspin.settings import (
    Access,
    IndexCommandLine,
    IndexOptions,
    PipConfig,
    Tuning,
    load_pip_config,
    lock_index_settings,
)

__all__ = ["TRUST_OPTIONS", "index_command_line", "lock_settings", "with_index_options"]

_INDEXES, _CACHE = "Indexes", "Cache and network"

#: ``--trusted-host``, ``--cert``, ``--client-cert``: pip's, for every command that
#: reaches an index (compile's table takes them from here).
TRUST_OPTIONS = (
    option(_INDEXES, "--trusted-host", "trusted_hosts", multiple=True, metavar="HOST",
           help="Allow HOST over HTTP or unverified HTTPS (repeatable)."),
    option(_INDEXES, "--cert", metavar="PATH", help="CA bundle for HTTPS."),
    option(_INDEXES, "--client-cert", metavar="PATH",
           help="Client certificate for HTTPS (PEM file with the key)."),
)

_index_options = [
    option(_INDEXES, "-i", "--index-url", default=None, metavar="URL",
           help="Base URL of the package index.",
           show_default="the lock's --index-url line, else pip's configuration, "
                        "else https://pypi.org/simple"),
    option(_INDEXES, "--extra-index-url", "extra_index_urls", multiple=True, metavar="URL",
           help="Another index (repeatable); a name found on an earlier index is never "
                "taken from a later one."),
    option(_INDEXES, "-f", "--find-links", "find_links", multiple=True, metavar="PATH|URL",
           help="A folder or page of links to files (repeatable)."),
    option(_INDEXES, "--no-index", is_flag=True,
           help="Use only --find-links (and the lock's direct references)."),
    *TRUST_OPTIONS,
    option(_INDEXES, "--isolated", is_flag=True,
           help="Ignore pip's configuration (PIP_*, pip.conf)."),
    option(_CACHE, "--cache-dir", default=None, metavar="DIR", help="Cache folder.",
           show_default="the platform's user cache folder"),
    option(_CACHE, "--no-cache", is_flag=True, help="Do not read or write the cache."),
    option(_CACHE, "--offline", is_flag=True, help="Use only the cache."),
]


_F = TypeVar("_F", bound=Callable[..., Any])


def with_index_options(func: _F) -> _F:
    """Add the index options (``--index-url``, ``--find-links``, ``--offline``...) to a command."""
    for decorator in reversed(_index_options):
        func = decorator(func)
    return func


def index_command_line(given: Mapping[str, Any]) -> IndexCommandLine:
    """The :func:`with_index_options` parameters as one value."""
    return IndexCommandLine(
        index=IndexOptions(
            index_url=given.get("index_url"),
            extra_index_urls=tuple(given.get("extra_index_urls") or ()),
            find_links=tuple(given.get("find_links") or ()),
            trusted_hosts=tuple(given.get("trusted_hosts") or ()),
        ),
        access=Access(cache_dir=given.get("cache_dir"), no_cache=bool(given.get("no_cache")),
                      offline=bool(given.get("offline")), cert=given.get("cert"),
                      client_cert=given.get("client_cert")),
        isolated=bool(given.get("isolated")),
        no_index=bool(given.get("no_index")),
    )


def lock_settings(sources: Sources, command_line: IndexCommandLine) -> IndexSettings:
    """Where a sync or export of a lock gets its files (pip's config, ``CROSSPIN_*`` read here)."""
    pip = PipConfig() if command_line.isolated else load_pip_config(os.environ)
    tuning = Tuning.from_environ(os.environ)
    return lock_index_settings(sources, command_line, pip=pip, tuning=tuning)
