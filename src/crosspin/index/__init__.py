"""The package-index client: simple-API pages, core metadata, downloads.

Reads PEP 503 (HTML) and PEP 691 (JSON) project pages from http(s) and
``file://`` indexes and find-links locations, and turns them into
:class:`~crosspin.distributions.DistFile` values. Core metadata comes from
PEP 658/714 ``.metadata`` files, HTTP range requests into wheels, or -- last
resort -- a full download. Pages, metadata and files are cached on disk
(see ``_cache``), requests are pooled, retried and run concurrently, and
credentials in index URLs never leak into errors, the cache or DistFiles.

Rules worth knowing:

- ``first-index`` (default): the first index that knows a project is its
  only index, so a public project cannot shadow a private one;
  ``unsafe-best-match`` merges all indexes (pip's behaviour). find-links
  files are always added, as pip does; their ``index`` is ``""`` and they
  carry no hashes (local files are not hashed eagerly -- a find-links folder
  may hold huge wheels): callers hash the files they lock.
- 404/410, a missing ``file://`` project folder or a missing find-links
  folder mean "not found" (an empty result), never an error; other failures
  raise :class:`~crosspin.errors.IndexFetchError`.
- With ``exclude_newer``, files uploaded later and files with no upload time
  (all ``file://`` and find-links files) are dropped.

Only this package imports httpx, and only when a client first needs it.
"""

from __future__ import annotations

from crosspin.index._cache import atomic_write, hash_file
from crosspin.index._client import ACCEPT, IndexClient
from crosspin.index._settings import (
    DEFAULT_INDEX_URL,
    DEFAULT_PAGE_MAX_AGE,
    IndexSettings,
    IndexStrategy,
)
from crosspin.index._urls import lock_url, redact, strip_credentials

__all__ = [
    "ACCEPT",
    "DEFAULT_INDEX_URL",
    "DEFAULT_PAGE_MAX_AGE",
    "IndexClient",
    "IndexSettings",
    "IndexStrategy",
    "atomic_write",
    "hash_file",
    "lock_url",
    "redact",
    "strip_credentials",
]
