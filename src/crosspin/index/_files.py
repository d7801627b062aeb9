"""Core metadata and downloads of distribution files.

Metadata is fetched the cheapest way that works: a PEP 658 ``.metadata``
file when the index advertises one (hash-checked), a speculative
``.metadata`` on hosts known to serve them unadvertised, HTTP range
requests into the wheel, and only then the whole wheel (streamed to disk,
also when a server ignores ``Range``). METADATA is capped
(``max_metadata_size``) before it is inflated. Downloads are hash-checked
and cached by sha256; a cached file is hashed again before it is used, and
one that fails is dropped and fetched once more.

Metadata is cached by its own sha256 when the page advertised it (so it is
checked on read), else under the index and file that served it
(``_cache.scope_key``): a mirror can fill only its own entries.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

from packaging.utils import canonicalize_name

from crosspin.distributions import DistFile, is_basename
from crosspin.errors import HashMismatchError, IndexFetchError, MetadataError, OfflineCacheMiss
from crosspin.index._cache import Cache, atomic_copy, hash_file, scope_key
from crosspin.index._http import Fetched, Http, Stats
from crosspin.index._range import MemberTooLarge, RangeError, find_metadata_name, read_member
from crosspin.index._urls import file_url_to_path, host_key, is_file_url, redact

__all__ = ["Files", "read_wheel_metadata"]

_NOT_FOUND = (403, 404, 410)


def _known(hashes: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The hashes hashlib can check (an unknown algorithm cannot be verified)."""
    return [(a, d) for a, d in hashes if a in hashlib.algorithms_available]


def _mismatch(expected: Iterable[tuple[str, str]], actual: dict[str, str]) -> str | None:
    """The first expected ``algo:digest`` the actual digests contradict, else ``None``."""
    for algo, digest in _known(expected):
        if actual.get(algo, "").lower() != digest.lower():
            return algo
    return None


def _verify(url: str, expected: Iterable[tuple[str, str]], actual: dict[str, str]) -> None:
    pairs = list(expected)
    algo = _mismatch(pairs, actual)
    if algo is not None:
        digest = dict(pairs)[algo]
        raise HashMismatchError(redact(url), f"{algo}:{digest}", f"{algo}:{actual.get(algo)}")


def _algorithms(file: DistFile) -> list[str]:
    return sorted({a for a, _ in _known(file.hashes)} | {"sha256"})


#: A header line of core metadata: a field name (printable, no colon), a colon, the value.
_HEADER = re.compile(rb"([\x21-\x39\x3b-\x7e]+):(.*)", re.DOTALL)


def _metadata_name(data: bytes) -> str | None:
    """The first ``Name`` field of core metadata; ``None`` when the headers have none.

    The headers end at the first empty line, or at a line that is neither a
    header nor a continuation (as in :mod:`email`, and in crosspin's own
    METADATA reader); a continuation line is joined with a space.
    """
    parts: list[bytes] | None = None
    for line in data.splitlines():
        if line[:1] in (b" ", b"\t"):
            if parts is not None:
                parts.append(line)
            continue
        if parts is not None or not line:
            break
        match = _HEADER.match(line)
        if match is None:
            break
        if match.group(1).lower() == b"name":
            parts = [match.group(2)]
    if parts is None:
        return None
    return b" ".join(p.strip() for p in parts if p.strip()).decode("utf-8", "replace")


def _looks_like_metadata(data: bytes, file: DistFile) -> bool:
    """Whether a speculative ``.metadata`` response is this wheel's core metadata.

    Only its ``Name`` is read (a cold compile asks this for a hundred wheels:
    the email header parser cost twice what reading the metadata itself does).
    """
    if not data.lstrip().startswith(b"Metadata-Version:"):
        return False
    return canonicalize_name(_metadata_name(data) or "") == file.name


def _too_large(file: DistFile, limit: int) -> MetadataError:
    return MetadataError(file.filename, f"METADATA is larger than {limit >> 20} MiB "
                         "(the CROSSPIN_MAX_METADATA_SIZE setting)", url=redact(file.url))


def read_wheel_metadata(path: Path, file: DistFile, *, limit: int) -> bytes:
    """The METADATA bytes of a local wheel; a member declared larger than ``limit`` is refused."""
    # lazy: offline and warm runs never open a wheel.
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            member = find_metadata_name(archive.namelist(), file.name, str(file.version))
            if archive.getinfo(member).file_size > limit:
                raise _too_large(file, limit)
            # zipfile reads no more than the declared size (and checks the CRC).
            return archive.read(member)
    except (OSError, zipfile.BadZipFile, RangeError, KeyError, EOFError, ValueError) as exc:
        reason = f"cannot read METADATA: {exc}"
        raise MetadataError(file.name, reason, url=redact(file.url)) from None


class Files:
    """Metadata and downloads for one client (shares its HTTP client, cache and counters)."""

    def __init__(
        self, *, http: Http, cache: Cache, stats: Stats, offline: bool, max_metadata: int
    ) -> None:
        self._http = http
        self._cache = cache
        self._stats = stats
        self._offline = offline
        self._max_metadata = max_metadata
        self._lock = threading.Lock()
        # host -> whether unadvertised "<url>.metadata" files worked there.
        self._speculate: dict[str, bool] = {}

    def metadata(self, file: DistFile, *, refresh: bool) -> bytes:
        """The core metadata of a wheel (see ``IndexClient.wheel_metadata``).

        ``refresh`` ignores entries that are not checked against a hash the
        page gave (metadata named by its advertised sha256 is the same for
        every index, and verified on read).
        """
        if not file.is_wheel:
            raise ValueError(f"{file.filename} is not a wheel")
        if is_file_url(file.url):
            return read_wheel_metadata(file_url_to_path(file.url), file, limit=self._max_metadata)
        advertised = dict(file.metadata_hashes or ()).get("sha256")
        if advertised:
            cached = self._cache.metadata(advertised)
            if cached is not None:
                self._stats.add("cache_hits")
                return cached
        scope = self.scope(file)
        if not refresh:
            found = self._cache.scoped_metadata(scope)
            if found is not None:
                self._stats.add("cache_hits")
                return found[0]
        local = self._cached_file(file)
        if local is not None:
            self._stats.add("cache_hits")
            data = read_wheel_metadata(local, file, limit=self._max_metadata)
        elif self._offline:
            raise OfflineCacheMiss(redact(file.url))
        else:
            data = self._fetch_metadata(file)
        if advertised and hashlib.sha256(data).hexdigest() == advertised:
            self._cache.store_metadata(data)
        else:
            self._cache.store_scoped_metadata(scope, data)
        return data

    def is_cached(self, file: DistFile, *, refresh: bool) -> bool:
        """Whether :meth:`metadata` may answer from the cache (a stat or two, no read)."""
        advertised = dict(file.metadata_hashes or ()).get("sha256")
        if advertised and self._cache.has_metadata(advertised):
            return True
        return not refresh and self._cache.has_scoped_metadata(self.scope(file))

    @staticmethod
    def scope(file: DistFile) -> str:
        """The cache key of this file's metadata as its index served it."""
        return scope_key(file.index, file.url, file.sha256)

    def _cached_file(self, file: DistFile) -> Path | None:
        """The cached copy of a file, checked against every hash it carries, else ``None``.

        A copy that fails (a damaged disk, a tampered cache) is dropped, so
        the caller fetches it once more.
        """
        if not file.sha256:
            return None
        cached = self._cache.file(file.sha256)
        if cached is None:
            return None
        try:
            bad = _mismatch(file.hashes, hash_file(cached, _algorithms(file)))
        except OSError:
            bad = "unreadable"
        if bad is None:
            return cached
        self._cache.drop_file(file.sha256)
        return None

    def _fetch_metadata(self, file: DistFile) -> bytes:
        url = file.url + ".metadata"
        if file.metadata_hashes is not None:
            self._stats.add("metadata")
            fetched = self._http.get(url, kind="metadata")
            if fetched.status == 200:
                _verify(url, file.metadata_hashes, _digests(fetched.content, file.metadata_hashes))
                return fetched.content
            if fetched.status not in _NOT_FOUND:
                raise self._http.error(url, "unexpected response", status=fetched.status)
        else:
            data = self._speculative(file, url)
            if data is not None:
                return data
        try:
            return self._by_ranges(file)
        except RangeError:
            pass
        with tempfile.TemporaryDirectory(prefix="crosspin-") as tmp:
            path = self.download(file, Path(tmp))
            return read_wheel_metadata(path, file, limit=self._max_metadata)

    def _speculative(self, file: DistFile, url: str) -> bytes | None:
        host = host_key(file.url)
        with self._lock:
            allowed = self._speculate.get(host, True)
        if not allowed:
            return None
        self._stats.add("metadata_speculative")
        try:
            fetched = self._http.get(url, kind="metadata")
        except IndexFetchError:
            return None  # a guess that failed is no error; the fallbacks decide
        ok = fetched.status == 200 and _looks_like_metadata(fetched.content, file)
        with self._lock:
            if ok:
                self._speculate[host] = True
            elif fetched.status in _NOT_FOUND or fetched.status == 200:
                # Learn only from a definite "no": once it worked, keep trying.
                self._speculate.setdefault(host, False)
        return fetched.content if ok else None

    def _by_ranges(self, file: DistFile) -> bytes:
        """METADATA read with range requests; a server that ignores ``Range`` sends the
        whole wheel, which is streamed to disk, checked and read there instead."""
        url = file.url
        headers = {"Accept-Encoding": "identity"}
        with tempfile.TemporaryDirectory(prefix="crosspin-") as tmp:
            whole: list[Path] = []

            def ask(spec: str, length: int) -> Fetched:
                self._stats.add("range")
                answer = self._http.get_or_spill(
                    url, headers={**headers, "Range": spec}, limit=length + 1024,
                    spill=Path(tmp) / "whole.whl", algorithms=_algorithms(file))
                if isinstance(answer, Fetched):
                    if answer.status != 206:
                        self._raise_or_fallback(url, answer.status)
                    return answer
                # The whole file: checked like a download, since metadata read
                # from a corrupt or substituted wheel must not decide the lock.
                _verify(url, file.hashes, dict(answer.digests))
                self._stats.add("downloads")
                if file.sha256 and self._cache.adopt_file(file.sha256, answer.path):
                    whole.append(self._cache.file_path(file.sha256) or answer.path)
                else:
                    whole.append(answer.path)
                raise _Whole()

            def tail(n: int) -> tuple[bytes, int]:
                fetched = ask(f"bytes=-{n}", n)
                total = fetched.headers.get("Content-Range", "").rpartition("/")[2]
                if not total.isdigit():
                    raise RangeError("no total size in Content-Range")
                return fetched.content, int(total)

            def fetch(start: int, end: int) -> bytes:
                fetched = ask(f"bytes={start}-{end}", end - start + 1)
                if not fetched.headers.get("Content-Range", "").startswith(f"bytes {start}-"):
                    raise RangeError("the server answered another range")
                return fetched.content

            def choose(names: list[str]) -> str:
                return find_metadata_name(names, file.name, str(file.version))

            try:
                return read_member(tail, fetch, choose, limit=self._max_metadata)
            except MemberTooLarge:
                raise _too_large(file, self._max_metadata) from None
            except _Whole:
                return read_wheel_metadata(whole[0], file, limit=self._max_metadata)

    def _raise_or_fallback(self, url: str, status: int) -> None:
        if status in _NOT_FOUND:
            raise self._http.error(url, "listed on the index but not found", status=status)
        raise RangeError(f"HTTP {status} to a range request")

    def download(self, file: DistFile, dest_dir: Path) -> Path:
        """Fetch a file to ``dest_dir/filename`` atomically, every hash checked."""
        if not is_basename(file.filename):
            raise IndexFetchError(redact(file.url), f"not a file name: {file.filename!r}")
        dest_dir.mkdir(parents=True, exist_ok=True)
        target = dest_dir / file.filename
        algorithms = _algorithms(file)
        if is_file_url(file.url):
            source = file_url_to_path(file.url)
            if not source.is_file():
                raise IndexFetchError(redact(file.url), "no such file")
            _verify(file.url, file.hashes, hash_file(source, algorithms))
            atomic_copy(source, target)
            return target
        cached = self._cached_file(file)
        if cached is not None:
            self._stats.add("cache_hits")
            atomic_copy(cached, target)
            return target
        if self._offline:
            raise OfflineCacheMiss(redact(file.url))
        with self._cache.partial_file(file.sha256 or "") as partial:
            if partial is not None:
                return self._download_resumable(file, partial, target, algorithms)
        fd, tmp_name = tempfile.mkstemp(dir=dest_dir, prefix=".crosspin-")
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            self._stats.add("downloads")
            digests = self._http.download(file.url, tmp, algorithms)
            _verify(file.url, file.hashes, digests)
            self._cache.store_file(digests["sha256"], tmp)
            os.replace(tmp, target)
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
        return target

    def _download_resumable(self, file: DistFile, partial: Path, target: Path,
                            algorithms: list[str]) -> Path:
        """Download into the cache's ``partial`` file (held by this process), continuing
        what an interrupted download left there; once every hash checks, it becomes the
        cached file and ``target`` a link to it (a copy across file systems).

        A kept start that turns out wrong (the hashes fail, or the server refuses
        the range) is dropped and the file fetched once more from its first byte.
        """
        assert file.sha256 is not None
        resumed = partial.stat().st_size > 0
        self._stats.add("downloads")
        if resumed:
            self._stats.add("resumed")
        try:
            digests = self._http.download(file.url, partial, algorithms, resume=True)
            _verify(file.url, file.hashes, digests)
        except HashMismatchError:
            partial.unlink(missing_ok=True)  # wrong bytes: never resume from them
            if not resumed:
                raise
            digests = self._download_again(file, partial, algorithms)
        except IndexFetchError as exc:
            if not (resumed and exc.status == 416):
                raise  # the bytes so far stay for the next try
            partial.unlink(missing_ok=True)
            digests = self._download_again(file, partial, algorithms)
        sha256 = file.sha256.lower()
        cached = self._cache.file_path(sha256) if self._cache.adopt_file(sha256, partial) else None
        _link_or_copy(cached if cached is not None else partial, target)
        return target

    def _download_again(self, file: DistFile, partial: Path, algorithms: list[str]
                        ) -> dict[str, str]:
        """The whole file once more, into ``partial`` (a wrong start was dropped)."""
        digests = self._http.download(file.url, partial, algorithms)
        try:
            _verify(file.url, file.hashes, digests)
        except HashMismatchError:
            partial.unlink(missing_ok=True)
            raise
        return digests

    def file_sha256(self, file: DistFile) -> str:
        """The sha256 of a file the index gave none for: downloaded (to the cache), hashed."""
        if file.sha256:
            return file.sha256
        if is_file_url(file.url):
            source = file_url_to_path(file.url)
            try:
                return hash_file(source, ["sha256"])["sha256"]
            except OSError as exc:
                raise IndexFetchError(redact(file.url), f"cannot read: {exc.strerror}") from None
        with tempfile.TemporaryDirectory(prefix="crosspin-") as tmp:
            path = self.download(file, Path(tmp))
            return hash_file(path, ["sha256"])["sha256"]


def _link_or_copy(source: Path, target: Path) -> None:
    """``target`` becomes a hardlink to ``source`` (a copy on another file system)."""
    with contextlib.suppress(FileNotFoundError):
        target.unlink()
    try:
        os.link(source, target)
    except OSError:
        atomic_copy(source, target)


class _Whole(Exception):
    """The server sent the whole wheel to a range request (it is on disk now)."""


def _digests(data: bytes, hashes: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {a: hashlib.new(a, data).hexdigest() for a, _ in _known(hashes)}
