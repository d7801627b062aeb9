"""Settings of an :class:`~crosspin.index.IndexClient` (one frozen value)."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Literal

import attrs

__all__ = ["DEFAULT_INDEX_URL", "DEFAULT_PAGE_MAX_AGE", "IndexSettings", "IndexStrategy"]

#: The index used when nothing else is configured (pip's default).
DEFAULT_INDEX_URL = "https://pypi.org/simple"

#: Seconds a cached project page is trusted without revalidation.
DEFAULT_PAGE_MAX_AGE = 600.0

_MIB = 1 << 20

IndexStrategy = Literal["first-index", "unsafe-best-match"]


@attrs.frozen(kw_only=True)
class IndexSettings:
    """Where packages come from and how to reach them.

    ``find_links`` holds local folders, ``file://`` folders or http(s) pages
    of links. ``index_strategy``: with ``first-index`` the first index
    (``index_url``, then ``extra_index_urls`` in order) that knows a project
    is its only index, so a public project cannot shadow a private one; with
    ``unsafe-best-match`` (pip's behaviour) all indexes are merged.
    ``exclude_newer`` (aware, UTC) drops files uploaded at or after it, and files
    with no upload time. ``cert`` is a CA bundle, ``client_cert`` a PEM file
    with the client's key and certificate. ``cache_dir`` ``None`` means the user cache folder;
    ``no_cache`` keeps everything in memory for one run. ``offline`` never
    touches the network; ``refresh`` ignores cached pages. ``retries``,
    ``retry_backoff`` (seconds, doubled per try) and ``max_retry_after``
    (the longest Retry-After honoured) bound the retries of transient
    failures. ``page_max_age`` (seconds) is how long a cached project page
    that came without validators (ETag/Last-Modified) is used without asking
    the index again: such pages would otherwise be downloaded in full on
    every run (pages with validators are revalidated, a cheap 304);
    the price is that a release younger than this window may be missed
    until ``refresh`` or the window ends (docs/speed.md). ``0`` always
    revalidates. (The CLI sets it from ``CROSSPIN_PAGE_MAX_AGE``, see
    :class:`crosspin.settings.Tuning`.)

    Every request is bounded: ``deadline`` (seconds) for the whole request,
    retries included (a download may take one more second per 16 KiB it
    receives, so a big file on a slow link is not cut but a server sending
    a byte at a time is); ``timeout`` for any single wait. Decoded bodies
    are capped: ``max_page_size`` for project pages, ``max_metadata_size``
    for core metadata (a ``.metadata`` file or the member of a wheel) and
    ``max_download_size`` for files (streamed to disk).
    """

    index_url: str = DEFAULT_INDEX_URL
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    index_strategy: IndexStrategy = "first-index"
    offline: bool = False
    refresh: bool = False
    exclude_newer: datetime.datetime | None = None
    cache_dir: Path | None = None
    no_cache: bool = False
    cert: str | None = None
    client_cert: str | None = None
    timeout: float = 30.0
    trusted_hosts: tuple[str, ...] = ()
    max_concurrency: int = 32
    retries: int = 3
    retry_backoff: float = 0.25
    max_retry_after: float = 10.0
    page_max_age: float = DEFAULT_PAGE_MAX_AGE
    deadline: float = 300.0
    max_page_size: int = 64 * _MIB
    max_metadata_size: int = 32 * _MIB
    max_download_size: int = 8 * 1024 * _MIB

