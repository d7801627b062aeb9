"""The on-disk cache: parsed pages, core metadata and downloaded files.

Layout (versioned, so a format change never misreads old entries)::

    <cache>/v1/pages/<hh>/<sha256(url)>.json         parsed page: JSON header, a line per version
    <cache>/v1/metadata/sha256/<hh>/<sha256(bytes)>   METADATA bytes, named by their own digest
    <cache>/v1/metadata/source/<hh>/<scope key>       METADATA of a wheel as one index served it
    <cache>/v1/parsed/metadata/<hh>/<sha256(METADATA)>  the fields resolution reads (JSON)
    <cache>/v1/parsed/sdist/<hh>/<sha256(sdist)>      the same fields of an sdist (read or built)
    <cache>/v1/files/sha256/<hh>/<sha256>             downloaded distributions

Everything in it is treated as untrusted input (a mirror filled it, a full
disk truncated it): entry names are digests crosspin computed -- a name
that is not 64 lower-case hex digits is never a path -- and every entry is
checked when read. Content-addressed entries (``metadata/sha256``,
``files``) are checked against their name; the others carry a digest of
their bytes in a first line (``crosspin-cache sha256=<hex>``) and a
mismatch is a miss. Metadata an index served without a hash for it is
stored under a *scope key* (a digest of the index, the file URL and the
file's sha256), so one index never decides what another one's files say.

Every write goes to a temporary file in the target folder and is renamed
into place, so concurrent runs (threads or processes) only ever see whole
entries. Failing to write the cache (read-only folder, full disk) is not an
error: the run just goes on without it. With no root the cache lives in
memory for one run.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import attrs

from crosspin.index._page import Record
from crosspin.index._releases import Groups, group_records

__all__ = ["Cache", "CachedPage", "hash_file", "read_entry", "scope_key"]

_FORMAT = 1


#: ``json.dumps(value, separators=(",", ":"))``, without building an encoder per call.
_COMPACT = json.JSONEncoder(separators=(",", ":"))

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
        lines = [_COMPACT.encode(header).encode()]
        for key, value in self.groups.items():
            if isinstance(value, str):
                value = value.encode()
            elif not isinstance(value, bytes):
                value = _COMPACT.encode(value).encode()
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


def scope_key(index: str, url: str, sha256: str | None) -> str:
    """The cache key of what one index said about one file: never shared with another."""
    return _digest(f"{index}\n{url}\n{sha256 or ''}")


#: An entry name crosspin computed: a sha256 hex digest (and ``.json`` for pages).
if sys.platform == "win32":  # pragma: no cover - no resumable downloads there
    fcntl = None
else:
    import fcntl

_KEY = re.compile(r"[0-9a-f]{64}(?:\.json)?")
#: The first line of a framed entry, before the digest of the rest.
_FRAME = b"crosspin-cache sha256="
_FRAME_LENGTH = len(_FRAME) + 64 + 1


def _frame(data: bytes, digest: str) -> bytes:
    return _FRAME + digest.encode() + b"\n" + data


def _unframe(raw: bytes) -> tuple[bytes, str] | None:
    """The body of a framed entry and its digest; ``None`` if damaged or of another format."""
    if not raw.startswith(_FRAME) or raw[_FRAME_LENGTH - 1 : _FRAME_LENGTH] != b"\n":
        return None
    digest = raw[len(_FRAME) : _FRAME_LENGTH - 1].decode("ascii", "replace")
    body = raw[_FRAME_LENGTH:]
    return (body, digest) if hashlib.sha256(body).hexdigest() == digest else None


def read_entry(path: Path) -> bytes | None:
    """The checked body of a framed cache entry on disk (``None`` if damaged): for tests."""
    try:
        found = _unframe(path.read_bytes())
    except OSError:
        return None
    return None if found is None else found[0]


class Cache:
    """Pages, metadata and files; on disk under ``root``, or in memory when it is ``None``."""

    def __init__(self, root: Path | None) -> None:
        self.root = None if root is None else root / f"v{_FORMAT}"
        self._lock = threading.Lock()
        self._memory: dict[str, bytes] = {}

    def _path(self, *parts: str) -> Path | None:
        """Where an entry lives; ``None`` for a name crosspin would never compute."""
        *folders, name = parts
        if self.root is None or not _KEY.fullmatch(name):
            return None
        return self.root.joinpath(*folders, name[:2], name)

    def _read_raw(self, *parts: str) -> bytes | None:
        if self.root is None:
            with self._lock:
                return self._memory.get("/".join(parts))
        path = self._path(*parts)
        if path is None:
            return None
        try:
            return path.read_bytes()
        except OSError:
            return None

    def _write_raw(self, data: bytes, *parts: str) -> None:
        if self.root is None:
            with self._lock:
                self._memory["/".join(parts)] = data
            return
        path = self._path(*parts)
        if path is not None:
            with contextlib.suppress(OSError):
                atomic_write(path, data, private=True)

    def _read(self, *parts: str) -> tuple[bytes, str] | None:
        """A framed entry's checked body and digest (memory entries are not framed)."""
        raw = self._read_raw(*parts)
        if raw is None:
            return None
        if self.root is None:
            return raw, hashlib.sha256(raw).hexdigest()
        return _unframe(raw)

    def _write(self, data: bytes, *parts: str) -> str:
        """Store a framed entry; return the sha256 of ``data`` (its frame names it)."""
        digest = hashlib.sha256(data).hexdigest()
        self._write_raw(data if self.root is None else _frame(data, digest), *parts)
        return digest

    def _exists(self, *parts: str) -> bool:
        if self.root is None:
            with self._lock:
                return "/".join(parts) in self._memory
        path = self._path(*parts)
        return path is not None and path.is_file()

    def page(self, url: str) -> tuple[bytes, str] | None:
        """The entry of a page as stored (see :meth:`CachedPage.to_json`) and its sha256."""
        return self._read("pages", _digest(url) + ".json")

    def page_age(self, url: str) -> float | None:
        """Seconds since the page for a URL was stored; ``None`` if unknown (memory mode)."""
        path = self._path("pages", _digest(url) + ".json")
        if path is None:
            return None
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return None
        return max(0.0, time.time() - mtime)

    def store_page(self, url: str, data: bytes) -> str:
        """Remember a page for a URL, as :meth:`CachedPage.to_json` gave it; return the
        sha256 of ``data`` (what :meth:`page` will give with it)."""
        return self._write(data, "pages", _digest(url) + ".json")

    def metadata(self, digest: str) -> bytes | None:
        """METADATA bytes whose sha256 is ``digest`` (checked: they are named by it)."""
        data = self._read_raw("metadata", "sha256", digest)
        if data is None or hashlib.sha256(data).hexdigest() != digest:
            return None
        return data

    def has_metadata(self, digest: str) -> bool:
        """Whether :meth:`metadata` may find an entry (cheaper than reading it)."""
        return self._exists("metadata", "sha256", digest)

    def store_metadata(self, data: bytes) -> str:
        """Remember METADATA bytes under their own sha256; return it."""
        digest = hashlib.sha256(data).hexdigest()
        self._write_raw(data, "metadata", "sha256", digest)
        return digest

    def scoped_metadata(self, scope: str) -> tuple[bytes, str] | None:
        """METADATA one index served for one file (:func:`scope_key`) and its sha256."""
        return self._read("metadata", "source", scope)

    def has_scoped_metadata(self, scope: str) -> bool:
        """Whether :meth:`scoped_metadata` may find an entry (cheaper than reading it)."""
        return self._exists("metadata", "source", scope)

    def store_scoped_metadata(self, scope: str, data: bytes) -> None:
        """Remember METADATA one index served for one file."""
        self._write(data, "metadata", "source", scope)

    def parsed_metadata(self, digest: str) -> bytes | None:
        """The stored resolution fields of the METADATA whose sha256 is ``digest``."""
        found = self._read("parsed", "metadata", digest)
        return None if found is None else found[0]

    def has_parsed_metadata(self, digest: str) -> bool:
        """Whether :meth:`parsed_metadata` may find an entry (cheaper than reading it)."""
        return self._exists("parsed", "metadata", digest)

    def store_parsed_metadata(self, digest: str, data: bytes) -> None:
        """Remember the resolution fields parsed from the METADATA whose sha256 is ``digest``."""
        self._write(data, "parsed", "metadata", digest)

    def parsed_sdist(self, digest: str) -> bytes | None:
        """The stored resolution fields of the sdist whose sha256 is ``digest``."""
        found = self._read("parsed", "sdist", digest)
        return None if found is None else found[0]

    def store_parsed_sdist(self, digest: str, data: bytes) -> None:
        """Remember the resolution fields of the sdist whose sha256 is ``digest``."""
        self._write(data, "parsed", "sdist", digest)

    def file_path(self, sha256: str) -> Path | None:
        """Where the file with this sha256 lives in the cache (``None`` in memory-only mode,
        and for anything that is not a sha256 hex digest)."""
        return self._path("files", "sha256", sha256)

    def file(self, sha256: str) -> Path | None:
        """The cached file named by this sha256, if present (never in memory-only mode).

        Named, not checked: the caller hashes it before use (see ``Files``).
        """
        path = self.file_path(sha256)
        return path if path is not None and path.is_file() else None

    def drop_file(self, sha256: str) -> None:
        """Remove a cached file that failed its check."""
        path = self.file_path(sha256)
        if path is not None:
            with contextlib.suppress(OSError):
                path.unlink()

    def store_file(self, sha256: str, source: Path) -> None:
        """Link (or copy) a verified file into the cache (a no-op in memory-only mode)."""
        target = self.file_path(sha256)
        if target is None or target.is_file():
            return
        with contextlib.suppress(OSError):
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(source, target)  # the caller replaces or deletes source: never written
            except FileExistsError:
                pass
            except OSError:
                atomic_copy(source, target)

    @contextlib.contextmanager
    def partial_file(self, sha256: str) -> Iterator[Path | None]:
        """The file an interrupted download of ``sha256`` left (maybe empty), held by this
        process until the block ends; ``None`` when downloads cannot resume here (memory-only
        mode, no sha256, no file locks, or another process downloading the same file)."""
        target = self.file_path(sha256.lower())
        if target is None or fcntl is None:
            yield None
            return
        partial = target.parent.parent.parent / "partial" / target.name
        try:
            partial.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(partial, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        except OSError:
            yield None
            return
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                yield None
                return
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                yield None
                return
            try:
                yield partial
            finally:
                with contextlib.suppress(OSError):  # nothing kept: no empty file left
                    if partial.stat().st_size == 0:  # (unlinked while held: no one writes it)
                        partial.unlink()
        finally:
            os.close(fd)
            with contextlib.suppress(OSError):
                partial.parent.rmdir()  # only when empty

    def adopt_file(self, sha256: str, source: Path) -> bool:
        """Move a verified file into the cache (same file system); ``False`` if it was not."""
        target = self.file_path(sha256)
        if target is None:
            return False
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
        except OSError:
            return False
        return True


def atomic_write(path: Path, data: bytes, *, private: bool = False) -> None:
    """Replace ``path`` with ``data`` in one step: the one writer of cache entries, locks
    and exports.

    The bytes go to a temporary file beside ``path``, are read back and
    compared, and only then renamed over it: nothing but ``data`` is ever
    published (a lock once got 24 bytes of a TLS record from a descriptor a
    background thread still wrote to). The file keeps the mode of the one it
    replaces; a new one gets 0666 under the umask (0644, as any file the
    user writes), or 0600 when ``private`` (cache entries). A link is
    written through (the link stays). Raises ``OSError`` (a full disk, a
    read-only folder, a target that is not a regular file, bytes that did
    not read back) with the previous file untouched and no temporary file
    left.
    """
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        status: os.stat_result | None = target.stat()
    except FileNotFoundError:
        status = None
    if status is not None and not stat.S_ISREG(status.st_mode):
        raise OSError(errno.EINVAL, "not a regular file", str(path))
    if status is not None:
        mode: int | None = stat.S_IMODE(status.st_mode)
    else:
        mode = 0o600 if private else None
    target.parent.mkdir(parents=True, exist_ok=True)
    for _attempt in range(2):
        if _write_checked(target, data, mode):
            return
    raise OSError(errno.EIO, "the file did not read back as written", str(path))


def _write_checked(target: Path, data: bytes, mode: int | None) -> bool:
    """Write ``data`` to a new temporary file beside ``target``; if it reads back the same,
    rename it over ``target`` and return ``True``; else remove it and return ``False``."""
    tmp = target.with_name(f".tmp-{os.urandom(6).hex()}-{target.name}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(tmp, flags, 0o666 if mode is None else 0o600)
    try:
        try:
            if mode is not None and mode != 0o600 and hasattr(os, "fchmod"):
                os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        with tmp.open("rb") as check:
            same = check.read(len(data) + 1) == data
        if same:
            os.replace(tmp, target)
            return True
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    with contextlib.suppress(OSError):
        tmp.unlink()
    return False


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


def hash_file(path: Path, algorithms: Iterable[str]) -> dict[str, str]:
    """The hex digest of a file's bytes under each of ``algorithms``, read once in 1 MiB
    blocks (files here can be gigabytes)."""
    hashers = {a: hashlib.new(a) for a in algorithms}
    with path.open("rb") as src:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            for hasher in hashers.values():
                hasher.update(chunk)
    return {a: h.hexdigest() for a, h in hashers.items()}
