"""A project's files grouped by version, each version's files built on first use.

A run reaches ~100 projects whose pages list tens of thousands of files
(every wheel of every release), yet the resolver looks at a handful of
versions per project. Building a :class:`~crosspin.distributions.DistFile`
(tags, hashes, Requires-Python, upload time) for every file was most of an
offline run, so :class:`Releases` only splits each filename far enough to
know its version when a page is read, and builds the files of a version the
first time that version is asked for.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Callable, Optional

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from crosspin.distributions import DistFile, parse_filename, requires_python_spec
from crosspin.index._page import Record, parse_time

__all__ = ["Releases", "record_to_dist"]

#: A record and the index it came from ("" for find-links).
_Entry = tuple[Record, str]


def _pairs(value: Optional[Mapping[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(value.items())) if value else ()


def record_to_dist(record: Record, *, index: str) -> Optional[DistFile]:
    """The :class:`DistFile` a page record describes; ``None`` for non-distribution files."""
    filename = record["filename"]
    parsed = parse_filename(filename)
    if parsed is None:
        return None
    name, version, kind, tags = parsed
    meta = record.get("metadata_hashes")
    return DistFile(
        filename=filename,
        url=record["url"],
        name=name,
        version=version,
        kind=kind,
        tags=tags,
        hashes=_pairs(record.get("hashes")),
        requires_python=requires_python_spec(record.get("requires_python")),
        yanked=record.get("yanked"),
        upload_time=parse_time(record.get("upload_time")),
        size=record.get("size"),
        metadata_hashes=None if meta is None else _pairs(meta),
        index=index,
    )


def _version_text(filename: str) -> Optional[tuple[str, str]]:
    """``(name part, version part)`` of a distribution filename, split without validating.

    Wheels spell ``name-version[-build]-py-abi-platform.whl`` with no dash in
    the name; sdists ``name-version.tar.gz`` where legacy names may hold
    dashes, so their version is after the last one. Full validation happens
    when the version's files are built.
    """
    if filename.endswith(".whl"):
        parts = filename[:-4].split("-")
        if len(parts) not in (5, 6):
            return None
        return parts[0], parts[1]
    if filename.endswith(".tar.gz"):
        stem = filename[:-7]
    elif filename.endswith(".zip"):
        stem = filename[:-4]
    else:
        return None
    name, _, version = stem.rpartition("-")
    return (name, version) if name else None


class Releases(Mapping[Version, tuple[DistFile, ...]]):
    """Every version of one project (keys) and its files (values, built lazily).

    The keys are the versions some file of the project spells, so listing
    them is cheap; a version's files are parsed and checked on first access.
    A version whose every file turns out to be malformed maps to no files
    (never installable), rather than vanishing after it was listed.
    """

    def __init__(
        self,
        project: NormalizedName,
        sources: Iterable[tuple[str, Iterable[Record]]],
        *,
        admitted: Callable[[Record], bool] | None = None,
    ) -> None:
        self.project = project
        seen: set[str] = set()
        order: list[_Entry] = []
        names: dict[str, bool] = {}
        by_text: dict[str, list[_Entry]] = {}
        for index, records in sources:
            for record in records:
                url = record["url"]
                if url in seen:
                    continue
                split = _version_text(record["filename"])
                if split is None:
                    continue
                name_part, text = split
                ours = names.get(name_part)
                if ours is None:
                    ours = names[name_part] = canonicalize_name(name_part) == project
                if not ours or (admitted is not None and not admitted(record)):
                    continue
                seen.add(url)
                entry = (record, index)
                order.append(entry)
                by_text.setdefault(text, []).append(entry)
        self._order = order
        grouped: dict[Version, list[_Entry]] = {}
        for text, entries in by_text.items():
            try:
                version = Version(text)
            except InvalidVersion:
                continue
            grouped.setdefault(version, []).extend(entries)
        self._entries = grouped
        self._built: dict[Version, tuple[DistFile, ...]] = {}
        self._lock = threading.Lock()

    def __getitem__(self, version: Version) -> tuple[DistFile, ...]:
        got = self._built.get(version)
        if got is None:
            entries = self._entries[version]  # KeyError for unknown versions
            got = self._build(entries)
            with self._lock:
                got = self._built.setdefault(version, got)
        return got

    def __iter__(self) -> Iterator[Version]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, version: object) -> bool:
        return version in self._entries

    def _build(self, entries: Iterable[_Entry]) -> tuple[DistFile, ...]:
        dists = (record_to_dist(record, index=index) for record, index in entries)
        return tuple(d for d in dists if d is not None and d.name == self.project)

    def files(self) -> tuple[DistFile, ...]:
        """Every file, in source and page order (builds them all)."""
        return self._build(self._order)
