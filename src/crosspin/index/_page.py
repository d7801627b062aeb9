"""The compact, format-neutral form of a simple-API page.

Both the HTML (PEP 503) and the JSON (PEP 691) parsers produce
:class:`Link` values; the disk cache stores them as JSON records so a warm
run never re-parses HTML; ``_releases`` turns records into
:class:`~crosspin.distributions.DistFile` values, a version at a time.
"""

from __future__ import annotations

import contextlib
import datetime
import re
from collections.abc import Mapping
from typing import Any

import attrs

__all__ = ["Link", "Record", "parse_time"]

#: One link as the cache stores it: :meth:`Link.to_dict`'s spelling. Pages
#: are kept in this form after reading so a warm run builds no objects for
#: the thousands of files nobody looks at (see ``_releases``).
Record = Mapping[str, Any]


@attrs.frozen(kw_only=True)
class Link:
    """One file link of a project page, as the page says it (URLs absolute, no credentials)."""

    filename: str
    url: str
    hashes: tuple[tuple[str, str], ...] = ()
    requires_python: str | None = None
    yanked: str | None = None
    upload_time: str | None = None
    size: int | None = None
    metadata_hashes: tuple[tuple[str, str], ...] | None = None

    def to_dict(self) -> dict[str, Any]:  # a Record
        """A JSON-ready dict, leaving out empty fields to keep cache entries small."""
        # Spelled out, not a loop over field names: a cold compile makes 34,000 of these.
        out: dict[str, Any] = {"filename": self.filename, "url": self.url}
        if self.hashes:
            out["hashes"] = dict(self.hashes)
        if self.requires_python is not None:
            out["requires_python"] = self.requires_python
        if self.yanked is not None:
            out["yanked"] = self.yanked
        if self.upload_time is not None:
            out["upload_time"] = self.upload_time
        if self.size is not None:
            out["size"] = self.size
        if self.metadata_hashes is not None:
            out["metadata_hashes"] = dict(self.metadata_hashes)
        return out


_FRACTION = re.compile(r"\.(\d+)")


def parse_time(text: str | None) -> datetime.datetime | None:
    """An ISO 8601 timestamp as an aware UTC datetime; ``None`` if absent or unparsable.

    Handles what indexes send and Python 3.9's ``fromisoformat`` rejects: a
    trailing ``Z`` and fractions of other than 3 or 6 digits. Naive times are
    taken as UTC (PEP 700 requires UTC).
    """
    if not text:
        return None
    if len(text) == 27 and text[26] in "Zz" and text[19] == ".":
        # PyPI's own spelling (microseconds, Z): the common case, parsed
        # without the rewriting below; anything odd takes the general path.
        with contextlib.suppress(ValueError):
            return datetime.datetime.fromisoformat(text[:26]).replace(
                tzinfo=datetime.timezone.utc
            )
    value = text.strip()
    if value[-1:] in ("Z", "z"):
        value = value[:-1] + "+00:00"
    value = _FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], value, count=1)
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.astimezone(datetime.timezone.utc)
