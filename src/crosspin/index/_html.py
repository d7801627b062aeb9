"""PEP 503 HTML project pages (and find-links pages) -> :class:`Link` values.

Uses the standard library's :mod:`html.parser`, which already unescapes
attribute values (``data-requires-python="&gt;=3.9"``).
"""

from __future__ import annotations

import html.parser
import urllib.parse
from typing import Callable

from crosspin.index._page import Link

__all__ = ["parse_html", "split_fragment"]


def split_fragment(url: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The URL without its fragment, and the ``algo=hexdigest`` hashes the fragment gave."""
    base, _, fragment = url.partition("#")
    hashes: dict[str, str] = {}
    for part in fragment.split("&"):
        algo, sep, digest = part.partition("=")
        if sep and algo and digest:
            hashes[algo.lower()] = digest.lower()
    return base, tuple(sorted(hashes.items()))


def _metadata_hashes(value: str | None) -> tuple[tuple[str, str], ...] | None:
    """PEP 658/714 attribute: ``true`` -> no hashes, ``sha256=...`` -> that hash."""
    if value is None:
        return None
    value = value.strip()
    if value.lower() == "true":
        return ()
    algo, sep, digest = value.partition("=")
    if sep and algo and digest:
        return ((algo.lower(), digest.lower()),)
    return None  # "false" or garbage: no usable metadata file


class _LinkCollector(html.parser.HTMLParser):
    def __init__(self, base_url: str, clean: Callable[[str], str]) -> None:
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.clean = clean
        self.links: list[Link] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "base" and attributes.get("href"):
            self.base_url = urllib.parse.urljoin(self.base_url, attributes["href"] or "")
            return
        href = attributes.get("href")
        if tag != "a" or not href:
            return
        url, hashes = split_fragment(urllib.parse.urljoin(self.base_url, href.strip()))
        url = self.clean(url)
        filename = urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])
        if not filename:
            return
        # PEP 714: the new attribute name wins when a page sends both.
        if "data-core-metadata" in attributes:
            metadata = _metadata_hashes(attributes["data-core-metadata"])
        else:
            metadata = _metadata_hashes(attributes.get("data-dist-info-metadata"))
        yanked = (attributes["data-yanked"] or "") if "data-yanked" in attributes else None
        requires_python = attributes.get("data-requires-python")
        self.links.append(
            Link(
                filename=filename,
                url=url,
                hashes=hashes,
                requires_python=requires_python.strip() if requires_python else None,
                yanked=yanked,
                upload_time=attributes.get("data-upload-time") or None,
                metadata_hashes=metadata,
            )
        )


def parse_html(text: str, base_url: str, clean: Callable[[str], str]) -> list[Link]:
    """Every ``<a href>`` of a page, resolved against ``base_url`` (the page's final URL).

    ``clean`` strips credentials from each URL (remembering them for later
    requests). Links that are not distributions are kept here and dropped
    when converted to :class:`~crosspin.distributions.DistFile`.
    """
    collector = _LinkCollector(base_url, clean)
    collector.feed(text)
    collector.close()
    return collector.links
