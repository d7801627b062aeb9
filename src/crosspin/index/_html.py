"""PEP 503 HTML project pages (and find-links pages) -> :class:`Link` values.

Uses the standard library's :mod:`html.parser`, which already unescapes
attribute values (``data-requires-python="&gt;=3.9"``). Pages made only of
plain ``<a>`` tags (every simple index seen: PyPI's pages list up to tens
of thousands) take a regular-expression scan of those tags instead, several
times faster; anything that could change how tags read (``<base>``,
comments, scripts, CDATA) takes the parser.
"""

from __future__ import annotations

import html
import html.parser
import re
import urllib.parse
from typing import Callable

from crosspin.distributions import checked_hash, checked_hashes
from crosspin.index._page import Link

__all__ = ["parse_html", "split_fragment"]


def split_fragment(url: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The URL without its fragment, and the ``algo=hexdigest`` hashes the fragment gave.

    Only well-formed hashes are kept (:func:`~crosspin.distributions.checked_hash`):
    a fragment is page text, and hashes name cache entries.
    """
    base, _, fragment = url.partition("#")
    if not fragment:
        return base, ()
    pairs = []
    for part in fragment.split("&"):
        algo, sep, digest = part.partition("=")
        if sep:
            pairs.append((algo, digest))
    # The last spelling of an algorithm wins, as it always did here.
    return base, checked_hashes(reversed(pairs))


def _metadata_hashes(value: str | None) -> tuple[tuple[str, str], ...] | None:
    """PEP 658/714 attribute: ``true`` -> no hashes, ``sha256=...`` -> that hash."""
    if value is None:
        return None
    value = value.strip()
    if value.lower() == "true":
        return ()
    algo, sep, digest = value.partition("=")
    checked = checked_hash(algo, digest) if sep else None
    if checked is not None:
        return (checked,)
    return None  # "false" or garbage: no usable metadata file


#: An ``<a ...>`` start tag; quoted values may hold ``>``.
_ANCHOR = re.compile(r"""<a\s((?:[^>"']|"[^"]*"|'[^']*')*)>""", re.IGNORECASE)
#: One attribute of a start tag, valued or bare.
_ATTRIBUTE = re.compile(
    r"""([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?"""
)
#: What the fast scan does not model; such pages take html.parser.
_ODD = re.compile(r"<(?:base\b|!--|script\b|style\b|!\[CDATA|textarea\b)", re.IGNORECASE)


def _attributes(text: str) -> dict[str, str | None]:
    out: dict[str, str | None] = {}  # a repeated name: the last wins, as dict(attrs)
    for m in _ATTRIBUTE.finditer(text):
        name = m.group(1).lower()
        raw = m.group(2)
        if raw is None:
            raw = m.group(3)
        if raw is None:
            raw = m.group(4)
        out[name] = None if raw is None else (html.unescape(raw) if "&" in raw else raw)
    return out


def _link(
    attributes: dict[str, str | None], base_url: str, clean: Callable[[str], str]
) -> Link | None:
    href = attributes.get("href")
    if not href:
        return None
    href = href.strip()
    if href.startswith(("https://", "http://")) and "/." not in href:
        absolute = href  # what urljoin returns for it, without the parsing
    else:
        absolute = urllib.parse.urljoin(base_url, href)
    url, hashes = split_fragment(absolute)
    url = clean(url)
    tail = url.partition("?")[0].rsplit("/", 1)[-1]
    filename = urllib.parse.unquote(tail) if "%" in tail else tail
    if not filename:
        return None
    # PEP 714: the new attribute name wins when a page sends both.
    if "data-core-metadata" in attributes:
        metadata = _metadata_hashes(attributes["data-core-metadata"])
    else:
        metadata = _metadata_hashes(attributes.get("data-dist-info-metadata"))
    yanked = (attributes["data-yanked"] or "") if "data-yanked" in attributes else None
    requires_python = attributes.get("data-requires-python")
    return Link(
        filename=filename,
        url=url,
        hashes=hashes,
        requires_python=requires_python.strip() if requires_python else None,
        yanked=yanked,
        upload_time=attributes.get("data-upload-time") or None,
        metadata_hashes=metadata,
    )


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
        if tag != "a":
            return
        link = _link(attributes, self.base_url, self.clean)
        if link is not None:
            self.links.append(link)


def parse_html(text: str, base_url: str, clean: Callable[[str], str]) -> list[Link]:
    """Every ``<a href>`` of a page, resolved against ``base_url`` (the page's final URL).

    ``clean`` strips credentials from each URL (remembering them for later
    requests). Links that are not distributions are kept here and dropped
    when converted to :class:`~crosspin.distributions.DistFile`.
    """
    if _ODD.search(text) is None:
        links = (_link(_attributes(m.group(1)), base_url, clean) for m in _ANCHOR.finditer(text))
        return [link for link in links if link is not None]
    collector = _LinkCollector(base_url, clean)
    collector.feed(text)
    collector.close()
    return collector.links
