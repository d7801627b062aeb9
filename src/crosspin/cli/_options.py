"""Options shared by commands: where packages come from (``sync`` and ``export``)."""

from __future__ import annotations

from typing import Any, Callable, TypeVar

import click

__all__ = ["with_index_options"]

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


