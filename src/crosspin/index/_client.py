"""The index client: project pages from every source, memoised and prefetched."""

from __future__ import annotations

import concurrent.futures
import datetime
import functools
import hashlib
import json
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, TypeVar, cast

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from crosspin.distributions import DistFile
from crosspin.errors import CrosspinError, OfflineCacheMiss
from crosspin.index._cache import Cache, CachedPage
from crosspin.index._files import Files
from crosspin.index._html import parse_html
from crosspin.index._http import Fetched, Http, Stats
from crosspin.index._json import JSON_TYPES, parse_json
from crosspin.index._local import find_links_listing, local_project_page
from crosspin.index._page import Link, Record, parse_time
from crosspin.index._releases import Groups, Releases, group_records
from crosspin.index._settings import IndexSettings
from crosspin.index._urls import (
    Credentials,
    file_url_to_path,
    is_file_url,
    redact,
    strip_credentials,
)

if TYPE_CHECKING:
    import httpx

__all__ = ["ACCEPT", "IndexClient"]

_T = TypeVar("_T")

#: PEP 691 content negotiation: JSON preferred, HTML accepted.
ACCEPT = (
    "application/vnd.pypi.simple.v1+json, "
    "application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.01"
)


def _default_cache_dir() -> Path:
    # lazy: platformdirs is only needed when no --cache-dir is given.
    import platformdirs

    return Path(platformdirs.user_cache_dir("crosspin"))


class IndexClient:
    """Reads project pages, core metadata and files from indexes and find-links.

    Thread-safe: every page and metadata file is fetched once per run, and
    concurrent callers asking for the same one wait for the same fetch. Use
    it as a context manager, or call :meth:`close`.
    """

    def __init__(
        self, settings: IndexSettings, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.settings = settings
        self._credentials = Credentials()
        indexes: list[str] = []
        for url in (settings.index_url, *settings.extra_index_urls):
            clean = self._credentials.learn(url.strip()).rstrip("/")
            if clean and clean not in indexes:
                indexes.append(clean)
        self._indexes = tuple(indexes)
        self._find_links = tuple(self._credentials.learn(f.strip()) for f in settings.find_links)
        self._cache = Cache(
            None if settings.no_cache else (settings.cache_dir or _default_cache_dir())
        )
        self._stats = Stats()
        self._http = Http(
            settings, transport=transport, credentials=self._credentials, stats=self._stats
        )
        self._files = Files(
            http=self._http, cache=self._cache, stats=self._stats, offline=settings.offline,
            max_metadata=settings.max_metadata_size,
        )
        exclude = settings.exclude_newer
        if exclude is not None and exclude.tzinfo is None:
            exclude = exclude.replace(tzinfo=datetime.timezone.utc)
        self._exclude_newer = exclude
        self._lock = threading.Lock()
        self._memo: dict[tuple[str, ...], concurrent.futures.Future[Any]] = {}
        #: metadata memo key -> whether its metadata is cached (a stat per wheel, once).
        self._cached_known: dict[tuple[str, ...], bool] = {}
        #: metadata memo key -> sha256 of the METADATA bytes this run read.
        self._metadata_digests: dict[tuple[str, ...], str] = {}
        #: What was ignored and why (links a page may not give), for ``-v``.
        self._notes: list[str] = []
        #: source key -> digest of what it said this run (see :meth:`source_digests`).
        self._digests: dict[str, str] = {}
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._closed = False

    # -- lifecycle ---------------------------------------------------------

    def __enter__(self) -> IndexClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop background work and close the connection pool."""
        with self._lock:
            executor, self._executor = self._executor, None
            self._closed = True
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
        self._http.close()

    def state_folder(self, name: str) -> Path | None:
        """A folder of the cache for another layer's entries; ``None`` without a disk cache."""
        root = self._cache.root
        return None if root is None else root / name

    @property
    def stats(self) -> Mapping[str, int]:
        """Counters: ``requests``, ``bytes``, ``pages``, ``pages_not_modified``,
        ``metadata``, ``metadata_speculative``, ``range``, ``downloads``,
        ``cache_hits``, ``retries`` (absent ones are zero)."""
        counts = dict.fromkeys(
            (
                "requests", "bytes", "pages", "pages_not_modified", "metadata",
                "metadata_speculative", "range", "downloads", "cache_hits", "retries",
            ),
            0,
        )  # fmt: skip
        counts.update(self._stats.snapshot())
        return counts

    # -- memoisation -------------------------------------------------------

    def _once(self, key: tuple[str, ...], compute: Callable[[], _T]) -> _T:
        """Compute once per run; concurrent callers share the one computation.

        A future is only created by the thread that computes it, so nobody
        ever waits for work still queued in the pool (no deadlock).
        """
        with self._lock:
            future = self._memo.get(key)
            owner = future is None
            if future is None:
                future = concurrent.futures.Future()
                self._memo[key] = future
        if not owner:
            return cast(_T, future.result())
        try:
            result = compute()
        except Exception as exc:
            future.set_exception(exc)
            raise
        except BaseException:
            with self._lock:  # interrupted: let a later call try again
                del self._memo[key]
            future.cancel()
            raise
        future.set_result(result)
        return result

    def _background(self, key: tuple[str, ...], compute: Callable[[], object]) -> None:
        with self._lock:
            if key in self._memo or self._closed:
                return
            if self._executor is None:
                self._executor = concurrent.futures.ThreadPoolExecutor(
                    max_workers=max(1, self.settings.max_concurrency),
                    thread_name_prefix="crosspin-index",
                )
            executor = self._executor
        # Failures are memoised and raised to whoever asks for the result.
        executor.submit(self._once, key, compute)

    # -- projects ----------------------------------------------------------

    def project_files(self, name: str) -> tuple[DistFile, ...]:
        """All files of a project across the configured sources (see the package docs)."""
        return self._releases(name).files()

    def project_releases(self, name: str) -> Mapping[Version, tuple[DistFile, ...]]:
        """A project's versions and their files, as :meth:`project_files` has them.

        The versions are known at once; a version's files are built the first
        time it is looked up, so versions nobody asks about cost almost nothing.
        """
        return self._releases(name)

    def _releases(self, name: str) -> Releases:
        project = canonicalize_name(name)
        return self._once(("project", project), lambda: self._collect(project))

    def prefetch_projects(self, names: Iterable[str]) -> None:
        """Start fetching these projects' pages in background threads.

        Offline there is nothing to wait for: reading the cache is CPU work,
        which threads would only contend for, so pages are read when asked.
        """
        if self.settings.offline:
            return
        for name in names:
            project = canonicalize_name(name)
            self._background(("project", project), functools.partial(self._collect, project))

    def _collect(self, project: NormalizedName) -> Releases:
        sources: list[tuple[str, Groups]] = []
        if self.settings.index_strategy == "unsafe-best-match":
            for index in self._indexes[1:]:
                key = ("page", index, project)
                self._background(key, functools.partial(self._page, index, project))
            for index in self._indexes:
                sources.append((index, self._index_groups(index, project) or {}))
        else:
            for index in self._indexes:
                groups = self._index_groups(index, project)
                if groups is not None:
                    sources.append((index, groups))
                    break
        for location in self._find_links:
            sources.append(("", self._find_links_groups(location)))
        admitted = None if self._exclude_newer is None else self._admitted
        return Releases(project, sources, admitted=admitted)

    def _admitted(self, record: Record) -> bool:
        uploaded = parse_time(record.get("upload_time"))
        return uploaded is not None and uploaded < cast(datetime.datetime, self._exclude_newer)

    def _index_groups(self, index: str, project: NormalizedName) -> Groups | None:
        """The links one index has for a project, grouped; ``None`` when it does not know it."""
        return self._once(("page", index, project), lambda: self._page(index, project))

    def _page(self, index: str, project: NormalizedName) -> Groups | None:
        if is_file_url(index):
            return self._local_index_page(index, project)
        page = self._fetch_page(f"{index}/{project}/")
        return page.groups if page.found else None

    def _local_index_page(self, index: str, project: NormalizedName) -> Groups | None:
        records = self._local_index_records(index, project)
        self._note(f"file-index {index} {project}", _local_digest(records))
        return None if records is None else group_records(records)

    def _local_index_records(self, index: str, project: str) -> tuple[Record, ...] | None:
        links = local_project_page(index, canonicalize_name(project), strip_credentials)
        if links is None:
            return None
        return tuple(link.to_dict() for link in self._allowed(links, index))

    def _find_links_groups(self, location: str) -> Groups:
        def compute() -> Groups:
            if location.lower().startswith(("http://", "https://")):
                return self._fetch_page(location).groups
            return self._local_find_links(location)

        return self._once(("find-links", location), compute)

    def _local_find_links(self, location: str) -> Groups:
        records = self._local_find_links_records(location)
        self._note(f"find-links {location}", _local_digest(records))
        return group_records(records)

    def _local_find_links_records(self, location: str) -> tuple[Record, ...]:
        links = find_links_listing(location, strip_credentials)
        return tuple(link.to_dict() for link in self._allowed(links, location))

    # -- what the sources said (for reusing an unchanged resolution) ----------

    def _note(self, key: str, digest: str) -> None:
        with self._lock:
            self._digests[key] = digest

    def source_digests(self) -> dict[str, str]:
        """A digest of every page and local listing read so far, by source key.

        Equal digests mean the sources say the same as then: pages are
        compared as cached (links and validators); local listings with each
        file's size and modification time, since local files carry no hashes.
        """
        with self._lock:
            return dict(self._digests)

    def current_digest(self, key: str) -> str | None:
        """What :meth:`source_digests` would say for ``key`` if read now, as a run reads it.

        A cached page that a run would use without asking the index
        (offline, or young and without validators) is hashed without being
        parsed; others are revalidated as usual. ``None`` when it cannot be
        read (offline and not cached, say): nothing to compare with.
        """
        kind, _, rest = key.partition(" ")
        try:
            if kind == "file-index":
                index, _, project = rest.rpartition(" ")
                return _local_digest(self._local_index_records(index, project))
            if kind == "find-links":
                return _local_digest(self._local_find_links_records(rest))
            entry = self._cache.page(key)
            if entry is not None and (self.settings.offline or (
                not self.settings.refresh and not _has_validators(entry[0]) and self._fresh(key)
            )):
                return entry[1]
            if self.settings.offline:
                return None
            self._fetch_page(key)
        except CrosspinError:
            return None
        with self._lock:
            return self._digests.get(key)

    def _fetch_page(self, url: str) -> CachedPage:
        """A page from the cache (revalidated) or the network; 404/410 -> not found.

        Once per URL and run: index pages, find-links pages and
        :meth:`current_digest` share the fetch.
        """
        return self._once(("url", url), lambda: self._fetch_page_now(url))

    def _fetch_page_now(self, url: str) -> CachedPage:
        entry = self._cache.page(url)
        cached = None if entry is None else CachedPage.load(entry[0])
        if cached is not None:
            # What the page says if it is used as cached (304s included).
            self._note(url, cast(tuple[bytes, str], entry)[1])
        if self.settings.offline:
            if cached is None:
                raise OfflineCacheMiss(redact(url))
            self._stats.add("cache_hits")
            return cached
        if self.settings.refresh:
            cached = None
        elif cached is not None and not (cached.etag or cached.last_modified) and self._fresh(url):
            # Without validators revalidating means downloading the whole
            # page again; within the freshness window the cached copy is used.
            self._stats.add("cache_hits")
            return cached
        headers = {"Accept": ACCEPT}
        if cached is not None and cached.found:
            if cached.etag:
                headers["If-None-Match"] = cached.etag
            if cached.last_modified:
                headers["If-Modified-Since"] = cached.last_modified
        self._stats.add("pages")
        fetched = self._http.get(url, headers=headers)
        if fetched.status == 304 and cached is not None:
            self._stats.add("pages_not_modified")
            return cached
        if fetched.status in (404, 410):
            page = CachedPage(url=fetched.url, found=False)
        elif fetched.status == 200:
            page = CachedPage.from_records(
                url=fetched.url,
                found=True,
                records=(link.to_dict() for link in self._parse(fetched)),
                etag=fetched.headers.get("ETag"),
                last_modified=fetched.headers.get("Last-Modified"),
            )
        else:
            raise self._http.error(url, "unexpected response", status=fetched.status)
        self._note(url, self._cache.store_page(url, page.to_json()))
        return page

    def _fresh(self, url: str) -> bool:
        """Whether the cached page is young enough to use without asking the index."""
        max_age = self.settings.page_max_age
        if max_age <= 0:
            return False
        age = self._cache.page_age(url)
        return age is not None and age < max_age

    def _parse(self, fetched: Fetched) -> tuple[Link, ...]:
        """A fetched page's links: page text, so credentials in them are dropped (never
        learned: they must not replace the user's) and so are links it may not give."""
        content_type = fetched.headers.get("Content-Type", "")
        media = content_type.split(";")[0].strip().lower()
        if media in JSON_TYPES:
            try:
                links = parse_json(fetched.content, fetched.url, strip_credentials)
            except ValueError as exc:
                raise self._http.error(fetched.url, f"invalid JSON project page: {exc}") from None
            return self._allowed(links, fetched.url)
        charset = "utf-8"
        for param in content_type.split(";")[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                charset = value.strip().strip('"')
        try:
            text = fetched.content.decode(charset, errors="replace")
        except LookupError:
            text = fetched.content.decode("utf-8", errors="replace")
        return self._allowed(parse_html(text, fetched.url, strip_credentials), fetched.url)

    def _allowed(self, links: Iterable[Link], page: str) -> tuple[Link, ...]:
        """The links a page may give: http(s) ones, and ``file:`` ones on a local page.

        A remote index must never make crosspin read a local file, so a
        ``file:`` link (or any other scheme) on an http(s) page is dropped
        and noted (``-v`` shows it).
        """
        schemes = _LOCAL_SCHEMES if is_file_url(page) or "://" not in page else _REMOTE_SCHEMES
        kept: list[Link] = []
        for link in links:
            scheme = link.url.partition(":")[0].lower()
            if scheme in schemes:
                kept.append(link)
            else:
                with self._lock:
                    self._notes.append(f"ignored a {scheme}: link on {redact(page)}: "
                                       f"{redact(link.url)}")
        return tuple(kept)

    def take_notes(self) -> tuple[str, ...]:
        """What this client ignored since the last call and why, one line each (for ``-v``)."""
        with self._lock:
            notes, self._notes = self._notes, []
        return tuple(dict.fromkeys(notes))

    # -- metadata and files ------------------------------------------------

    def wheel_metadata(self, file: DistFile) -> bytes:
        """The METADATA bytes of a wheel, without downloading it when possible."""
        return self._once(_metadata_key(file), functools.partial(self._read_metadata, file))

    def _read_metadata(self, file: DistFile) -> bytes:
        """A wheel's METADATA, its digest remembered (parsed fields are stored under it)."""
        data = self._files.metadata(file, refresh=self.settings.refresh)
        with self._lock:
            self._metadata_digests[_metadata_key(file)] = hashlib.sha256(data).hexdigest()
        return data

    def parsed_metadata(self, file: DistFile) -> bytes | None:
        """A wheel's metadata fields as :meth:`store_parsed_metadata` stored them, if known.

        Entries are named by the sha256 of the METADATA they were parsed
        from (immutable content): the page's advertised hash says which,
        else the METADATA this index served for the file (cached, checked).
        """
        digest = dict(file.metadata_hashes or ()).get("sha256")
        if digest is None:
            if self.settings.refresh:
                return None
            found = self._cache.scoped_metadata(Files.scope(file))
            if found is None:
                return None
            digest = found[1]
        return self._cache.parsed_metadata(digest)

    def store_parsed_metadata(self, file: DistFile, data: bytes) -> None:
        """Remember a wheel's parsed metadata fields (read by :meth:`wheel_metadata` this run)."""
        with self._lock:
            digest = self._metadata_digests.get(_metadata_key(file))
        if digest is not None:
            self._cache.store_parsed_metadata(digest, data)

    def parsed_sdist_metadata(self, file: DistFile) -> bytes | None:
        """An sdist's metadata fields as :meth:`store_parsed_sdist_metadata` stored them.

        Named by the sdist's own sha256 (the index's, which every download
        of it is checked against): its PKG-INFO is read, or its backend
        run, once per sdist rather than once per compile. ``None`` when
        unknown, when the index gives no sha256, and under ``--refresh``.
        """
        digest = dict(file.hashes).get("sha256")
        if digest is None or self.settings.refresh:
            return None
        return self._cache.parsed_sdist(digest)

    def store_parsed_sdist_metadata(self, file: DistFile, data: bytes) -> None:
        """Remember an sdist's metadata fields under its sha256 (when the index gives one)."""
        digest = dict(file.hashes).get("sha256")
        if digest is not None:
            self._cache.store_parsed_sdist(digest, data)

    def _metadata_cached(self, file: DistFile) -> bool:
        """Whether this wheel's metadata is in the cache; asked of the disk once per run."""
        key = _metadata_key(file)
        known = self._cached_known.get(key)
        if known is None:
            known = self._files.is_cached(file, refresh=self.settings.refresh)
            self._cached_known[key] = known
        return known

    def prefetch_metadata(self, files: Iterable[DistFile]) -> None:
        """Start fetching these wheels' metadata in background threads (sdists are skipped).

        Wheels whose parsed fields are cached are skipped: nobody will read their bytes.
        """
        for file in files:
            if not file.is_wheel:
                continue
            key = _metadata_key(file)
            if key in self._memo:  # a hint only (no lock): _background checks again
                continue
            if self._metadata_cached(file):
                continue
            self._background(key, functools.partial(self._read_metadata, file))

    def download(self, file: DistFile, dest_dir: Path) -> Path:
        """Download (or copy) a file to ``dest_dir/filename``, checking every hash it carries."""
        return self._files.download(file, dest_dir)

    def file_sha256(self, file: DistFile) -> str:
        """A file's sha256: the index's, else that of the file, downloaded and hashed."""
        return self._files.file_sha256(file)


#: Link schemes a page may give: remote pages only http(s), local ones local files too.
_REMOTE_SCHEMES = frozenset({"http", "https"})
_LOCAL_SCHEMES = frozenset({"http", "https", "file"})


def _metadata_key(file: DistFile) -> tuple[str, ...]:
    """The per-run memo key of a wheel's metadata: the index and URL that serve it."""
    return ("metadata", file.index, file.url, file.sha256 or "")


def _has_validators(raw: bytes) -> bool:
    """Whether a cached page entry carries an ETag or Last-Modified (they come before the links)."""
    head = raw[:4096]
    return b'"etag":' in head or b'"last_modified":' in head


def _local_digest(records: tuple[Record, ...] | None) -> str:
    """A digest of a local listing, with each local file's size and modification time."""
    if records is None:
        return "absent"
    entries = []
    for record in records:
        url = str(record.get("url", ""))
        stamp: list[int] = []
        if is_file_url(url):
            try:
                st = file_url_to_path(url).stat()
                stamp = [st.st_size, st.st_mtime_ns]
            except OSError:
                stamp = [-1]
        entries.append([dict(record), stamp])
    text = json.dumps(entries, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
