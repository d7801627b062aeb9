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

import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Callable

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from crosspin.distributions import DistFile, checked_hashes, parse_filename, requires_python_spec
from crosspin.index._page import Record, parse_time

__all__ = ["Groups", "Releases", "group_key", "group_records", "record_to_dist"]


def _pairs(value: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    return checked_hashes(value.items()) if value else ()


def record_to_dist(record: Record, *, index: str) -> DistFile | None:
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


def _version_text(filename: str) -> tuple[str, str] | None:
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


def group_key(filename: str) -> str | None:
    """``"<name part>/<version part>"`` of a distribution filename; ``None`` for other files."""
    split = _version_text(filename)
    return None if split is None else f"{split[0]}/{split[1]}"


def group_records(records: Iterable[Record]) -> dict[str, list[list[Any]]]:
    """A page's distribution links grouped by :func:`group_key`, as ``[position, record]``."""
    groups: dict[str, list[list[Any]]] = {}
    for position, record in enumerate(records):
        key = group_key(record["filename"])
        if key is not None:
            groups.setdefault(key, []).append([position, record])
    return groups


#: What a page says, grouped (:func:`group_records`); a group may still be
#: its JSON text (bytes or str), decoded when its version is looked up.
Groups = Mapping[str, Any]


def _decode(value: Any) -> list[list[Any]]:
    if isinstance(value, (bytes, str)):
        try:
            value = json.loads(value)
        except ValueError:
            return []  # a damaged group: its files are not offered
    return value if isinstance(value, list) else []


class Releases(Mapping[Version, tuple[DistFile, ...]]):
    """Every version of one project (keys) and its files (values, built lazily).

    The keys are the versions some file of the project spells, so listing
    them is cheap; a version's files are decoded, parsed and checked on
    first access. A version whose every file turns out to be malformed maps
    to no files (never installable), rather than vanishing after it was
    listed. Files keep source order, then page order; a URL listed twice
    (by two sources) is kept once.
    """

    def __init__(
        self,
        project: NormalizedName,
        sources: Iterable[tuple[str, Groups]],
        *,
        admitted: Callable[[Record], bool] | None = None,
    ) -> None:
        self.project = project
        names: dict[str, bool] = {}
        versions: dict[str, Version | None] = {}
        entries: dict[Version, list[tuple[int, Any, str]]] = {}
        for number, (index, groups) in enumerate(sources):
            for key, value in groups.items():
                name_part, _, text = key.rpartition("/")
                ours = names.get(name_part)
                if ours is None:
                    ours = names[name_part] = canonicalize_name(name_part) == project
                if not ours:
                    continue
                if text in versions:
                    version = versions[text]
                else:
                    try:
                        version = versions[text] = Version(text)
                    except InvalidVersion:
                        version = versions[text] = None
                if version is None:
                    continue
                if admitted is not None:
                    value = [pair for pair in _decode(value) if admitted(pair[1])]
                    if not value:
                        continue
                entries.setdefault(version, []).append((number, value, index))
        self._entries = entries
        self._built: dict[Version, tuple[tuple[int, int, DistFile], ...]] = {}
        self._files: dict[Version, tuple[DistFile, ...]] = {}
        self._lock = threading.Lock()

    def _items(self, version: Version) -> tuple[tuple[int, int, DistFile], ...]:
        got = self._built.get(version)
        if got is None:
            pending = [
                (number, position, record, index)
                for number, value, index in self._entries[version]  # KeyError if unknown
                for position, record in _decode(value)
            ]
            pending.sort(key=lambda item: (item[0], item[1]))
            seen: set[str] = set()
            built: list[tuple[int, int, DistFile]] = []
            for number, position, record, index in pending:
                try:
                    url = record["url"]
                    if url in seen:
                        continue
                    seen.add(url)
                    dist = record_to_dist(record, index=index)
                except (KeyError, TypeError, AttributeError):
                    continue  # a damaged cache record
                if dist is not None and dist.name == self.project:
                    built.append((number, position, dist))
            got = tuple(built)
            with self._lock:
                got = self._built.setdefault(version, got)
        return got

    def __getitem__(self, version: Version) -> tuple[DistFile, ...]:
        got = self._files.get(version)
        if got is None:
            got = self._files[version] = tuple(item[2] for item in self._items(version))
        return got

    def __iter__(self) -> Iterator[Version]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, version: object) -> bool:
        return version in self._entries

    def files(self) -> tuple[DistFile, ...]:
        """Every file, in source and page order (builds them all)."""
        items = [item for version in self._entries for item in self._items(version)]
        items.sort(key=lambda item: (item[0], item[1]))
        return tuple(item[2] for item in items)
