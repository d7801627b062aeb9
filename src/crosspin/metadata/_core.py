"""Reading core metadata (``METADATA``, ``PKG-INFO``): the header fields resolution needs.

Core metadata is an RFC 822 style header block, optionally followed by a
body (the long description). Real files are messy: old setuptools writes
the whole long description as a folded ``Description`` header whose lines
may look like headers themselves (``Usage: ...``), some files are not
UTF-8, some have CRLF line ends. Re-serialising such a file through
:mod:`email` raises ``HeaderParseError``; this reader never does. It reads
the header block only (the description body is never needed), the way
:mod:`email`'s parser splits it, and keeps the few fields crosspin uses.
It never raises: what the fields *mean* is checked later, where a bad
value becomes a :class:`~crosspin.errors.MetadataError`.
"""

from __future__ import annotations

import re

import attrs

__all__ = ["CoreFields", "parse_core_metadata"]

#: A header line: a field name of printable ASCII without ``:`` or space, then ``:``.
#: The same rule as :mod:`email.feedparser`, so both split a file alike.
_HEADER = re.compile(r"([\x21-\x39\x3b-\x7e]+):(.*)", re.DOTALL)
#: Line ends as RFC 822 knows them (``str.splitlines`` would also split on \x0c, \x85...).
_LINE_END = re.compile(r"\r\n|\r|\n")

#: Fields kept (lower case); everything else, the description first, is skipped.
_WANTED = frozenset({
    "metadata-version", "name", "version", "requires-dist", "requires-python",
    "provides-extra", "dynamic",
})


@attrs.frozen(kw_only=True)
class CoreFields:
    """The raw header values resolution reads, exactly as the file has them (unfolded).

    ``None`` for a single-valued field that is absent; repeated fields keep
    the file's order. Nothing here has been checked.
    """

    metadata_version: str | None = None
    name: str | None = None
    version: str | None = None
    requires_dist: tuple[str, ...] = ()
    requires_python: str | None = None
    provides_extra: tuple[str, ...] = ()
    dynamic: tuple[str, ...] = ()


def parse_core_metadata(data: bytes) -> CoreFields:
    """The fields of a ``METADATA``/``PKG-INFO`` file; never raises.

    Bytes that are not UTF-8 are replaced (U+FFFD): a description in
    Latin-1 costs nothing, a requirement with such bytes fails its own
    parse later. The header block ends at the first empty line, or at the
    first line that is neither a header nor a continuation (as in
    :mod:`email`: that line starts the body).
    """
    text = data.decode("utf-8", errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    values: dict[str, list[list[str]]] = {}
    current: list[str] | None = None  # the lines of the field being read, if kept
    for line in _LINE_END.split(text):
        if not line:
            break  # the empty line between headers and body
        if line[0] in " \t":
            if current is not None:
                current.append(line)
            continue
        match = _HEADER.match(line)
        if match is None:
            break
        field = match.group(1).lower()
        if field in _WANTED:
            current = [match.group(2)]
            values.setdefault(field, []).append(current)
        else:
            current = None

    def every(field: str) -> tuple[str, ...]:
        return tuple(_unfold(lines) for lines in values.get(field, []))

    def first(field: str) -> str | None:
        found = every(field)
        return found[0] if found else None

    return CoreFields(
        metadata_version=first("metadata-version"),
        name=first("name"),
        version=first("version"),
        requires_dist=every("requires-dist"),
        requires_python=first("requires-python"),
        provides_extra=every("provides-extra"),
        dynamic=every("dynamic"),
    )


def _unfold(lines: list[str]) -> str:
    """One field's value: continuation lines joined by a space, outer whitespace stripped."""
    return " ".join(part.strip() for part in lines if part.strip())
