"""Core metadata and downloads of distribution files.

Metadata is fetched the cheapest way that works: a PEP 658 ``.metadata``
file when the index advertises one (hash-checked), a speculative
``.metadata`` on hosts known to serve them unadvertised, HTTP range
requests into the wheel, and only then the whole wheel. Downloads are
hash-checked and cached by sha256.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

from packaging.utils import canonicalize_name

from crosspin.distributions import DistFile
from crosspin.errors import HashMismatchError, IndexFetchError, MetadataError, OfflineCacheMiss
from crosspin.index._cache import Cache, atomic_copy, atomic_write
from crosspin.index._http import Http, Stats
from crosspin.index._range import RangeError, find_metadata_name, read_member
from crosspin.index._urls import file_url_to_path, host_key, is_file_url, redact

__all__ = ["Files"]

_NOT_FOUND = (403, 404, 410)


def _known(hashes: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The hashes hashlib can check (an unknown algorithm cannot be verified)."""
    return [(a, d) for a, d in hashes if a in hashlib.algorithms_available]


def _verify(url: str, expected: Iterable[tuple[str, str]], actual: dict[str, str]) -> None:
    for algo, digest in _known(expected):
        if actual.get(algo, "").lower() != digest.lower():
            raise HashMismatchError(redact(url), f"{algo}:{digest}", f"{algo}:{actual.get(algo)}")


def _hash_file(path: Path, algorithms: Iterable[str]) -> dict[str, str]:
    hashers = {a: hashlib.new(a) for a in algorithms}
    with path.open("rb") as src:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            for hasher in hashers.values():
                hasher.update(chunk)
    return {a: h.hexdigest() for a, h in hashers.items()}


def _looks_like_metadata(data: bytes, file: DistFile) -> bool:
    """Whether a speculative ``.metadata`` response is this wheel's core metadata."""
    if not data.lstrip().startswith(b"Metadata-Version:"):
        return False
    # lazy: the email package is a start-up cost, and this is rarely needed.
    from email.parser import BytesHeaderParser

    headers = BytesHeaderParser().parsebytes(data)
    return canonicalize_name(headers.get("Name", "")) == file.name


def read_wheel_metadata(path: Path, file: DistFile) -> bytes:
    """The METADATA bytes of a local wheel."""
    # lazy: offline and warm runs never open a wheel.
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            member = find_metadata_name(archive.namelist(), file.name, str(file.version))
            return archive.read(member)
    except (OSError, zipfile.BadZipFile, RangeError, KeyError) as exc:
        reason = f"cannot read METADATA: {exc}"
        raise MetadataError(file.name, reason, url=redact(file.url)) from None


class Files:
    """Metadata and downloads for one client (shares its HTTP client, cache and counters)."""

    def __init__(self, *, http: Http, cache: Cache, stats: Stats, offline: bool) -> None:
        self._http = http
        self._cache = cache
        self._stats = stats
        self._offline = offline
        self._lock = threading.Lock()
        # host -> whether unadvertised "<url>.metadata" files worked there.
        self._speculate: dict[str, bool] = {}

    def metadata(self, file: DistFile, *, refresh: bool) -> bytes:
        """The core metadata of a wheel (see ``IndexClient.wheel_metadata``)."""
        if not file.is_wheel:
            raise ValueError(f"{file.filename} is not a wheel")
        if is_file_url(file.url):
            return read_wheel_metadata(file_url_to_path(file.url), file)
        sha256 = file.sha256
        # Entries keyed by sha256 are immutable; URL-keyed ones are refreshed.
        if sha256 or not refresh:
            cached = self._cache.metadata(sha256=sha256, url=file.url)
            if cached is not None:
                self._stats.add("cache_hits")
                return cached
        local = self._cache.file(sha256) if sha256 else None
        if local is not None:
            self._stats.add("cache_hits")
            data = read_wheel_metadata(local, file)
        elif self._offline:
            raise OfflineCacheMiss(redact(file.url))
        else:
            data = self._fetch_metadata(file)
        self._cache.store_metadata(data, sha256=sha256, url=file.url)
        return data

    def _fetch_metadata(self, file: DistFile) -> bytes:
        url = file.url + ".metadata"
        if file.metadata_hashes is not None:
            self._stats.add("metadata")
            fetched = self._http.get(url)
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
            return read_wheel_metadata(self.download(file, Path(tmp)), file)

    def _speculative(self, file: DistFile, url: str) -> bytes | None:
        host = host_key(file.url)
        with self._lock:
            allowed = self._speculate.get(host, True)
        if not allowed:
            return None
        self._stats.add("metadata_speculative")
        try:
            fetched = self._http.get(url)
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
        url = file.url
        headers = {"Accept-Encoding": "identity"}
        whole: list[bytes] = []

        def tail(n: int) -> tuple[bytes, int]:
            self._stats.add("range")
            fetched = self._http.get(url, headers={**headers, "Range": f"bytes=-{n}"})
            if fetched.status == 200:  # the server ignores Range: we have it all
                # A whole file is checked like a download: metadata read from a
                # corrupt or substituted wheel must not decide the lock.
                algorithms = {a for a, _ in _known(file.hashes)}
                _verify(url, file.hashes,
                        {a: hashlib.new(a, fetched.content).hexdigest() for a in algorithms})
                whole.append(fetched.content)
                return fetched.content, len(fetched.content)
            if fetched.status != 206:
                self._raise_or_fallback(url, fetched.status)
            total = fetched.headers.get("Content-Range", "").rpartition("/")[2]
            if not total.isdigit():
                raise RangeError("no total size in Content-Range")
            return fetched.content, int(total)

        def fetch(start: int, end: int) -> bytes:
            self._stats.add("range")
            fetched = self._http.get(url, headers={**headers, "Range": f"bytes={start}-{end}"})
            if fetched.status == 200:
                return fetched.content[start : end + 1]
            if fetched.status != 206:
                self._raise_or_fallback(url, fetched.status)
            if not fetched.headers.get("Content-Range", "").startswith(f"bytes {start}-"):
                raise RangeError("the server answered another range")
            return fetched.content

        try:
            data = read_member(
                tail, fetch, lambda names: find_metadata_name(names, file.name, str(file.version))
            )
        finally:
            if whole and file.sha256 and hashlib.sha256(whole[0]).hexdigest() == file.sha256:
                self._stats.add("downloads")
                path = self._cache.file_path(file.sha256)
                if path is not None:
                    with contextlib.suppress(OSError):
                        atomic_write(path, whole[0])
        return data

    def _raise_or_fallback(self, url: str, status: int) -> None:
        if status in _NOT_FOUND:
            raise self._http.error(url, "listed on the index but not found", status=status)
        raise RangeError(f"HTTP {status} to a range request")

    def download(self, file: DistFile, dest_dir: Path) -> Path:
        """Fetch a file to ``dest_dir/filename`` atomically, every hash checked."""
        dest_dir.mkdir(parents=True, exist_ok=True)
        target = dest_dir / file.filename
        algorithms = sorted({a for a, _ in _known(file.hashes)} | {"sha256"})
        if is_file_url(file.url):
            source = file_url_to_path(file.url)
            if not source.is_file():
                raise IndexFetchError(redact(file.url), "no such file")
            _verify(file.url, file.hashes, _hash_file(source, algorithms))
            atomic_copy(source, target)
            return target
        cached = self._cache.file(file.sha256) if file.sha256 else None
        if cached is not None:
            _verify(file.url, file.hashes, _hash_file(cached, algorithms))
            self._stats.add("cache_hits")
            atomic_copy(cached, target)
            return target
        if self._offline:
            raise OfflineCacheMiss(redact(file.url))
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


def _digests(data: bytes, hashes: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {a: hashlib.new(a, data).hexdigest() for a, _ in _known(hashes)}
