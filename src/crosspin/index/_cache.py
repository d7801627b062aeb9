"""The on-disk cache: parsed pages, core metadata and downloaded files.

Layout (versioned, so a format change never misreads old entries)::

    <cache>/v1/pages/<hh>/<sha256(url)>.json       parsed page: JSON header, a line per version
    <cache>/v1/metadata/sha256/<hh>/<wheel sha256>  METADATA bytes (immutable)
    <cache>/v1/metadata/url/<hh>/<sha256(url)>      METADATA bytes of unhashed wheels
    <cache>/v1/parsed/sha256/<hh>/<wheel sha256>    the METADATA fields resolution reads (JSON)
    <cache>/v1/files/sha256/<hh>/<sha256>           downloaded distributions

Every write goes to a temporary file in the target folder and is renamed
into place, so concurrent runs (threads or processes) only ever see whole
entries. Failing to write the cache (read-only folder, full disk) is not an
error: the run just goes on without it. With no root the cache lives in
memory for one run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import attrs

from crosspin.index._page import Record
from crosspin.index._releases import Groups, group_records

__all__ = ["Cache", "CachedPage"]

_FORMAT = 1


#: Page entries: 1 was one JSON document with a list of links; 2 is a JSON
#: header line, then one line per group of links (see ``CachedPage``).
_PAGE_FORMAT = 2


@attrs.frozen(kw_only=True)
class CachedPage:
    """A project page as last seen: final URL, whether it exists, its links and validators.

    Links are kept grouped by the name and version their filenames spell
    (``_releases.group_records``). On disk each group is one line holding
    its JSON, so reading a page splits lines and decodes nothing else: a
    group is decoded when the resolver first looks at its version, and the
    thousands of old releases a big project lists are never decoded at all.
    """

    url: str
    found: bool
    groups: Groups = attrs.field(factory=dict)
    etag: str | None = None
    last_modified: str | None = None

    @classmethod
    def from_records(cls, *, url: str, found: bool, records: Iterable[Record],
                     etag: str | None = None, last_modified: str | None = None,
                     ) -> CachedPage:
        """A page from its links (as :meth:`Link.to_dict` spells them)."""
        return cls(url=url, found=found, groups=group_records(records), etag=etag,
                   last_modified=last_modified)

    def to_json(self) -> bytes:
        """The disk form: a JSON header line, then ``"key"<TAB>[[position, link], ...]`` lines."""
        header: dict[str, Any] = {"format": _PAGE_FORMAT, "url": self.url, "found": self.found}
        if self.etag:
            header["etag"] = self.etag
        if self.last_modified:
            header["last_modified"] = self.last_modified
        lines = [json.dumps(header, separators=(",", ":")).encode()]
        for key, value in self.groups.items():
            if isinstance(value, str):
                value = value.encode()
            elif not isinstance(value, bytes):
                value = json.dumps(value, separators=(",", ":")).encode()
            lines.append(json.dumps(key).encode() + b"\t" + value)
        return b"\n".join(lines)

    @classmethod
    def load(cls, raw: bytes) -> CachedPage | None:
        """:meth:`from_json`, with a corrupt or foreign entry read as a miss (``None``)."""
        try:
            return cls.from_json(raw)
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    @classmethod
    def from_json(cls, raw: bytes) -> CachedPage:
        """Inverse of :meth:`to_json` (format 1 entries are read too); ``ValueError`` if bad."""
        head, _, rest = raw.partition(b"\n")
        header = json.loads(head)
        if not isinstance(header, dict):
            raise ValueError("not a page entry")
        if header.get("format") == 1:
            records = tuple(header.get("links", ()))
            for record in records:
                if not (isinstance(record["filename"], str) and isinstance(record["url"], str)):
                    raise ValueError("malformed cached link")
            groups: Groups = group_records(records)
        elif header.get("format") == _PAGE_FORMAT:
            groups = {}
            for line in rest.split(b"\n") if rest else ():
                key, tab, value = line.partition(b"\t")
                if not tab:
                    raise ValueError("malformed group line")
                if b"\\" in key or len(key) < 2 or key[:1] != b'"' or key[-1:] != b'"':
                    groups[json.loads(key)] = value
                else:  # a plain JSON string: no escapes to undo
                    groups[key[1:-1].decode()] = value
        else:
            raise ValueError("cache entry of another format")
        return cls(
            url=header["url"],
            found=bool(header["found"]),
            groups=groups,
            etag=header.get("etag"),
            last_modified=header.get("last_modified"),
        )


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class Cache:
    """Pages, metadata and files; on disk under ``root``, or in memory when it is ``None``."""

    def __init__(self, root: Path | None) -> None:
        self.root = None if root is None else root / f"v{_FORMAT}"
        self._lock = threading.Lock()
        self._memory: dict[str, bytes] = {}

    def _path(self, *parts: str) -> Path:
        assert self.root is not None
        *folders, name = parts
        return self.root.joinpath(*folders, name[:2], name)

    def _read(self, *parts: str) -> bytes | None:
        if self.root is None:
            with self._lock:
                return self._memory.get("/".join(parts))
        try:
            return self._path(*parts).read_bytes()
        except OSError:
            return None

    def _write(self, data: bytes, *parts: str) -> None:
        if self.root is None:
            with self._lock:
                self._memory["/".join(parts)] = data
            return
        with contextlib.suppress(OSError):
            atomic_write(self._path(*parts), data)

    def page_bytes(self, url: str) -> bytes | None:
        """The cache entry of a page as stored (see :meth:`CachedPage.to_json`), or ``None``."""
        return self._read("pages", _digest(url) + ".json")

    def page_age(self, url: str) -> float | None:
        """Seconds since the page for a URL was stored; ``None`` if unknown (memory mode)."""
        if self.root is None:
            return None
        try:
            mtime = self._path("pages", _digest(url) + ".json").stat().st_mtime
        except OSError:
            return None
        return max(0.0, time.time() - mtime)

    def store_page_bytes(self, url: str, data: bytes) -> None:
        """Remember a page for a URL, as :meth:`CachedPage.to_json` gave it."""
        self._write(data, "pages", _digest(url) + ".json")

    def metadata(self, *, sha256: str | None, url: str) -> bytes | None:
        """Cached core metadata of a wheel, by its sha256 when known, else by URL."""
        if sha256:
            return self._read("metadata", "sha256", sha256)
        return self._read("metadata", "url", _digest(url))

    def store_metadata(self, data: bytes, *, sha256: str | None, url: str) -> None:
        """Remember a wheel's core metadata."""
        if sha256:
            self._write(data, "metadata", "sha256", sha256)
        else:
            self._write(data, "metadata", "url", _digest(url))

    def parsed_metadata(self, sha256: str) -> bytes | None:
        """The stored resolution fields of a wheel's metadata (see ``crosspin.metadata``)."""
        return self._read("parsed", "sha256", sha256)

    def has_parsed_metadata(self, sha256: str) -> bool:
        """Whether :meth:`parsed_metadata` would find an entry (cheaper than reading it)."""
        if self.root is None:
            with self._lock:
                return f"parsed/sha256/{sha256}" in self._memory
        return self._path("parsed", "sha256", sha256).is_file()

    def store_parsed_metadata(self, data: bytes, sha256: str) -> None:
        """Remember the resolution fields of a wheel's metadata, keyed by the wheel's sha256."""
        self._write(data, "parsed", "sha256", sha256)

    def file_path(self, sha256: str) -> Path | None:
        """Where the file with this sha256 lives in the cache (``None`` in memory-only mode)."""
        return None if self.root is None else self._path("files", "sha256", sha256)

    def file(self, sha256: str) -> Path | None:
        """The cached file with this sha256, if present (never in memory-only mode)."""
        path = self.file_path(sha256)
        return path if path is not None and path.is_file() else None

    def store_file(self, sha256: str, source: Path) -> None:
        """Copy a verified file into the cache (a no-op in memory-only mode)."""
        target = self.file_path(sha256)
        if target is None or target.is_file():
            return
        with contextlib.suppress(OSError):
            atomic_copy(source, target)


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise


def atomic_copy(source: Path, path: Path) -> None:
    """Copy ``source`` to ``path`` via a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as out, source.open("rb") as src:
            shutil.copyfileobj(src, out, 1 << 20)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise
