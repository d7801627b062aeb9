"""Options shared by commands: where packages come from (``sync`` and ``export``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Callable, TypeVar

import click

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

__all__ = ["index_command_line", "lock_settings", "with_index_options"]

_index_options = [
    click.option("-i", "--index-url", default=None, help="Base URL of the package index."),
    click.option("--extra-index-url", "extra_index_urls", multiple=True,
                 help="Extra index URLs (repeatable)."),
    click.option("-f", "--find-links", "find_links", multiple=True,
                 help="Folders or pages of links to look for files in (repeatable)."),
    click.option("--isolated", is_flag=True, help="Ignore pip's configuration (PIP_*, pip.conf)."),
    click.option("--cache-dir", default=None, help="Cache folder."),
    click.option("--no-cache", is_flag=True, help="Do not read or write the cache."),
    click.option("--offline", is_flag=True, help="Use only the cache."),
]


_F = TypeVar("_F", bound=Callable[..., Any])


def with_index_options(func: _F) -> _F:
    """Add the index options (``--index-url``, ``--find-links``, ``--offline``...) to a command."""
    for option in reversed(_index_options):
        func = option(func)
    return func


def index_command_line(given: Mapping[str, Any]) -> IndexCommandLine:
    """The :func:`with_index_options` parameters as one value."""
    return IndexCommandLine(
        index=IndexOptions(
            index_url=given.get("index_url"),
            extra_index_urls=tuple(given.get("extra_index_urls") or ()),
            find_links=tuple(given.get("find_links") or ()),
        ),
        access=Access(cache_dir=given.get("cache_dir"), no_cache=bool(given.get("no_cache")),
                      offline=bool(given.get("offline"))),
        isolated=bool(given.get("isolated")),
    )


def lock_settings(sources: Sources, command_line: IndexCommandLine) -> IndexSettings:
    """Where a sync or export of a lock gets its files (pip's config, ``CROSSPIN_*`` read here)."""
    pip = PipConfig() if command_line.isolated else load_pip_config(os.environ)
    tuning = Tuning.from_environ(os.environ)
    return lock_index_settings(sources, command_line, pip=pip, tuning=tuning)
