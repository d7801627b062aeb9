"""Where packages come from: the one precedence of index options, for every command.

Index options are given at several levels: the command line, option lines
inside requirement files (``compile``) or the lock's own option lines
(``sync``, ``export``), ``[tool.crosspin]`` (``compile``), and pip's own
configuration (unless ``--isolated``). The first level that names an
``--index-url`` gives it (else pip's default index); extra indexes,
find-links and trusted hosts are gathered from every level, highest first,
without repeats. :func:`index_settings` is that rule, written once.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import attrs

from crosspin.index import DEFAULT_INDEX_URL, IndexSettings, IndexStrategy
from crosspin.lock import Sources
from crosspin.settings._pip import PipConfig
from crosspin.settings._tuning import Tuning

__all__ = ["Access", "IndexCommandLine", "IndexOptions", "index_settings", "lock_index_settings"]


@attrs.frozen(kw_only=True)
class IndexOptions:
    """The index options one level gives (``None``/empty: that level says nothing)."""

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    trusted_hosts: tuple[str, ...] = ()

    @classmethod
    def from_sources(cls, sources: Sources) -> IndexOptions:
        """The option lines a lock records."""
        return cls(index_url=sources.index_url, extra_index_urls=sources.extra_index_urls,
                   find_links=sources.find_links, trusted_hosts=sources.trusted_hosts)

    @classmethod
    def from_pip(cls, pip: PipConfig) -> IndexOptions:
        """What pip's configuration says."""
        return cls(index_url=pip.index_url, extra_index_urls=pip.extra_index_urls,
                   find_links=pip.find_links, trusted_hosts=pip.trusted_hosts)


@attrs.frozen(kw_only=True)
class Access:
    """How indexes are reached: the disk cache, the network switches, certificates.

    ``cert`` (a CA bundle) wins over pip's ``cert`` setting; ``client_cert``
    is a PEM file holding the client's key and certificate.
    """

    cache_dir: str | None = None
    no_cache: bool = False
    offline: bool = False
    refresh: bool = False
    cert: str | None = None
    client_cert: str | None = None


@attrs.frozen(kw_only=True)
class IndexCommandLine:
    """The index options of ``sync`` and ``export`` as given on the command line."""

    index: IndexOptions = IndexOptions()
    access: Access = Access()
    isolated: bool = False
    no_index: bool = False


def index_settings(
    levels: Sequence[IndexOptions],
    *,
    no_index: bool,
    pip: PipConfig,
    access: Access,
    tuning: Tuning,
    strategy: IndexStrategy = "first-index",
    exclude_newer: datetime.datetime | None = None,
) -> IndexSettings:
    """The :class:`IndexSettings` for ``levels`` (highest first) above pip's configuration.

    ``no_index`` (``--no-index`` where the caller's rule says it holds)
    leaves only find-links: no index URL and no extra indexes, as pip does.
    """
    every = [*levels, IndexOptions.from_pip(pip)]
    chosen = first_index_url(every)
    extra = _unique(u for level in every for u in level.extra_index_urls)
    if no_index:
        chosen, extra = "", []
    settings = IndexSettings(
        index_url=DEFAULT_INDEX_URL if chosen is None else chosen,
        extra_index_urls=tuple(extra),
        find_links=tuple(_unique(f for level in every for f in level.find_links)),
        index_strategy=strategy,
        offline=access.offline,
        refresh=access.refresh,
        exclude_newer=exclude_newer,
        cache_dir=Path(access.cache_dir) if access.cache_dir else None,
        no_cache=access.no_cache,
        cert=access.cert or pip.cert,
        client_cert=access.client_cert,
        timeout=pip.timeout or 30.0,
        trusted_hosts=tuple(_unique(h for level in every for h in level.trusted_hosts)),
        page_max_age=tuning.page_max_age,
    )
    return attrs.evolve(settings, **_retries(tuning))


def lock_index_settings(
    sources: Sources, command_line: IndexCommandLine, *, pip: PipConfig, tuning: Tuning
) -> IndexSettings:
    """The :class:`IndexSettings` a sync or export of a lock with these ``sources`` uses.

    pip's index choice (``PIP_INDEX_URL``, ``pip.conf``) ranks below the
    lock's ``--index-url`` line, as it does for ``pip install -r``; a lock
    compiled with ``--no-index`` (or pip's ``no-index`` setting) uses
    find-links only unless the command line names an index. As in compile,
    a name found on the first index is never taken from a later one, so a
    public index cannot shadow a private package even when the lock has no
    hashes to catch the swap.
    """
    return index_settings(
        [command_line.index, IndexOptions.from_sources(sources)],
        no_index=command_line.no_index or (
            (sources.no_index or pip.no_index) and not command_line.index.index_url),
        pip=pip,
        access=command_line.access,
        tuning=tuning,
    )


def first_index_url(levels: Iterable[IndexOptions]) -> str | None:
    """The ``--index-url`` of the highest level that names one, else ``None``."""
    return next((level.index_url for level in levels if level.index_url), None)


def _retries(tuning: Tuning) -> dict[str, Any]:
    """The retry, deadline and cap fields the ``CROSSPIN_*`` variables set (the rest keep
    their defaults)."""
    fields = {"retries": tuning.retries, "retry_backoff": tuning.retry_backoff,
              "max_retry_after": tuning.max_retry_after, "deadline": tuning.deadline,
              "max_page_size": tuning.max_page_size,
              "max_metadata_size": tuning.max_metadata_size,
              "max_download_size": tuning.max_download_size}
    return {name: value for name, value in fields.items() if value is not None}


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))
