"""PEP 691 JSON project pages -> :class:`Link` values (with PEP 700 fields)."""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Mapping
from typing import Any, Callable

from crosspin.distributions import checked_hashes
from crosspin.index._page import Link

__all__ = ["JSON_TYPES", "join_url", "parse_json"]

#: Content types that mean a PEP 691 JSON page.
JSON_TYPES = ("application/vnd.pypi.simple.v1+json", "application/vnd.pypi.simple.latest+json")


#: An absolute http(s) URL that ``urljoin`` returns exactly as it is: a lower-case
#: scheme, ``host[:port]``, a path of printable ASCII, and no query, parameters,
#: fragment or brackets (which ``urljoin`` would re-spell or check). Nearly every
#: file URL of a real page is one; the rest take ``urljoin``.
_PLAIN_URL = re.compile(r'https?://[A-Za-z0-9.-]+(?::[0-9]+)?(?:/[!"$-:<->@-Z^-~]*)?')
#: A sha256 digest as :func:`~crosspin.distributions.checked_hash` keeps it.
_SHA256 = re.compile(r"[0-9a-f]{64}")


def join_url(base_url: str, url: str) -> str:
    """``urllib.parse.urljoin(base_url, url)`` without the fragment, parsing only when needed.

    A JSON page lists tens of thousands of file URLs, nearly all absolute:
    parsing each one was a quarter of the CPU a cold compile spends on pages.
    """
    if _PLAIN_URL.fullmatch(url):
        return url
    return urllib.parse.urljoin(base_url, url).partition("#")[0]


def _hashes(value: Any) -> tuple[tuple[str, str], ...]:
    """The well-formed hashes of a ``hashes`` mapping (others are page text, never used)."""
    if not isinstance(value, dict):  # JSON objects decode to dicts (not the slower Mapping check)
        return ()
    if len(value) == 1:
        # The usual page: one lower-case sha256, which checked_hashes keeps as it is.
        digest = value.get("sha256")
        if isinstance(digest, str) and _SHA256.fullmatch(digest):
            return (("sha256", digest),)
    return checked_hashes(value.items())


def _metadata(entry: Mapping[str, Any]) -> tuple[tuple[str, str], ...] | None:
    # PEP 714 renamed the key; prefer the new one when both are present.
    value = entry.get("core-metadata", entry.get("data-dist-info-metadata"))
    if value is True:
        return ()
    return _hashes(value) if isinstance(value, dict) else None


def parse_json(content: bytes, base_url: str, clean: Callable[[str], str]) -> list[Link]:
    """The files of a PEP 691 page; relative URLs resolve against ``base_url``.

    Raises ``ValueError`` for a page that is not a version-1 project page.
    """
    try:
        data = json.loads(content)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if not isinstance(data, dict):
        raise ValueError("the JSON page is not an object")
    meta = data.get("meta", {})
    if not isinstance(meta, dict):
        raise ValueError("'meta' is not an object")
    version = str(meta.get("api-version", "1.0"))
    if version.split(".")[0] != "1":
        raise ValueError(f"unsupported simple API version {version}")
    files = data.get("files")
    if not isinstance(files, list):
        raise ValueError("the JSON page has no 'files' list")
    links: list[Link] = []
    for entry in files:
        if not isinstance(entry, dict):
            continue
        filename, url = entry.get("filename"), entry.get("url")
        if not isinstance(filename, str) or not isinstance(url, str):
            continue
        yanked = entry.get("yanked", False)
        requires_python = entry.get("requires-python")
        size = entry.get("size")
        upload_time = entry.get("upload-time")
        links.append(
            Link(
                filename=filename,
                url=clean(join_url(base_url, url)),
                hashes=_hashes(entry.get("hashes")),
                requires_python=requires_python.strip()
                if isinstance(requires_python, str) and requires_python.strip()
                else None,
                yanked=yanked if isinstance(yanked, str) else ("" if yanked is True else None),
                upload_time=upload_time if isinstance(upload_time, str) else None,
                size=size if isinstance(size, int) and not isinstance(size, bool) else None,
                metadata_hashes=_metadata(entry),
            )
        )
    return links
