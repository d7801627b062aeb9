"""Index settings from the command line, a lock's option lines and pip's config.

Shared by ``sync`` and ``export`` (``compile`` has its own copy of the same
precedence in ``_compile_run``). Precedence, highest first: command line,
the lock's own ``--index-url``/``--extra-index-url``/``--find-links``
lines, pip's configuration (unless ``isolated``), the default index.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

from crosspin.index import DEFAULT_INDEX_URL, IndexSettings
from crosspin.lock import Sources

__all__ = ["index_settings"]


def index_settings(
    *,
    sources: Sources,
    index_url: Optional[str] = None,
    extra_index_urls: Sequence[str] = (),
    find_links: Sequence[str] = (),
    isolated: bool = False,
    offline: bool = False,
    cache_dir: Optional[str] = None,
    no_cache: bool = False,
) -> IndexSettings:
    """The :class:`IndexSettings` a sync or export run uses.

    pip's index choice (``PIP_INDEX_URL``, ``pip.conf``) ranks below the
    lock's ``--index-url`` line, as it does for ``pip install -r``.
    """
    from crosspin.settings._pip import PipConfig, load_pip_config

    pip = PipConfig() if isolated else load_pip_config(os.environ)
    chosen = index_url or sources.index_url or pip.index_url or DEFAULT_INDEX_URL
    extra = _unique([*extra_index_urls, *sources.extra_index_urls, *pip.extra_index_urls])
    links = _unique([*find_links, *sources.find_links, *pip.find_links])
    if sources.no_index and not index_url:
        # The lock was compiled with --no-index: find-links only, as pip does.
        chosen, extra = "", []
    return IndexSettings(
        index_url=chosen,
        extra_index_urls=tuple(extra),
        find_links=tuple(links),
        # As in compile: a name found on the first index is never taken from
        # a later one, so a public index cannot shadow a private package even
        # when the lock has no hashes to catch the swap.
        index_strategy="first-index",
        offline=offline,
        cache_dir=Path(cache_dir) if cache_dir else None,
        no_cache=no_cache,
        cert=pip.cert,
        timeout=pip.timeout or 30.0,
        trusted_hosts=tuple(_unique([*sources.trusted_hosts, *pip.trusted_hosts])),
    )


def _unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))
