"""Walk the dependency graph ahead of the resolver, so a cold run waits on the network once.

The resolver learns a package's dependencies only when it reads the
metadata of the version it picks, then asks for those packages' pages, then
their metadata: on a cold cache every level of the graph costs a round trip
on the critical path, one package at a time. :class:`Lookahead` guesses the
picks (existing pins, the newest release a requirement admits, and the
newest one the matrix's oldest Python can install) and fetches their pages
and metadata in background threads, following their dependencies in turn.

It only fills the client's and the metadata layer's memos: every fact it
fetches is one the resolver would fetch the same way (same files, same
wheel chosen for metadata), so results never depend on what it guessed or
when. Errors are left for the resolver to meet (or never meet).
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Iterable, Mapping, Sequence

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from crosspin.distributions import DistFile
from crosspin.resolver._model import ResolveOptions
from crosspin.resolver._provider import Finder, Metadata

__all__ = ["Lookahead"]

#: Background threads; each mostly waits on the index client's pool.
_WORKERS = 24

#: Seconds :meth:`Lookahead.close` waits for guesses already fetching.
_CLOSE_WAIT = 10.0


class Lookahead:
    """Background prefetch of likely picks and, transitively, their dependencies."""

    def __init__(
        self,
        *,
        finder: Finder,
        metadata: Metadata,
        options: ResolveOptions,
        oldest_python: str | None,
        hints: Mapping[str, Sequence[Version]],
        skip: frozenset[str],
    ) -> None:
        self._finder = finder
        self._metadata = metadata
        self._options = options
        self._oldest = None if oldest_python is None else Version(oldest_python)
        self._hints = hints
        self._skip = skip
        self._seen: set[tuple[str, Version]] = set()
        self._asked: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._running = 0
        self._stopped = False
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=_WORKERS, thread_name_prefix="crosspin-lookahead"
        )

    def start(self, requirements: Iterable[Requirement]) -> None:
        """Begin with these requirements (markers are ignored: every branch may be needed)."""
        for req in requirements:
            self._submit(canonicalize_name(req.name), req.specifier)

    def wait(self) -> None:
        """Block until every guess (and the guesses it led to) is done (for tests)."""
        with self._idle:
            self._idle.wait_for(lambda: self._pending == 0)

    def close(self, wait: float = _CLOSE_WAIT) -> None:
        """Stop: queued guesses are dropped; running ones end after their current fetch,
        and are waited for (up to ``wait`` seconds), so none outlives the run that
        started it (its client is closed next, and then the lock is written)."""
        with self._lock:
            self._stopped = True
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._idle:
            self._idle.wait_for(lambda: self._running == 0, timeout=wait)

    def _submit(self, name: str, spec: SpecifierSet) -> None:
        if name in self._skip:
            return
        key = (name, str(spec))
        with self._lock:
            if self._stopped or key in self._asked:
                return
            self._asked.add(key)
            try:
                self._pool.submit(self._visit, name, spec)
            except RuntimeError:  # shut down meanwhile
                return
            self._pending += 1

    def _visit(self, name: str, spec: SpecifierSet) -> None:
        with self._lock:
            self._running += 1
            stopped = self._stopped
        try:
            if stopped:
                return
            releases = self._finder.project_releases(name)
            for version in self._guesses(name, spec, releases):
                with self._lock:
                    if self._stopped or (name, version) in self._seen:
                        continue
                    self._seen.add((name, version))
                files = self._usable(name, releases[version])
                if not files:
                    continue
                meta = self._metadata.get(name, version, files)
                for dep in meta.requires_dist:
                    if dep.url or (dep.marker is not None and "extra" in str(dep.marker)):
                        continue  # extras are rarely asked for; links are read elsewhere
                    self._submit(canonicalize_name(dep.name), dep.specifier)
        except Exception:  # a guess: the resolver meets real errors itself
            return
        finally:
            with self._idle:
                self._pending -= 1
                self._running -= 1
                self._idle.notify_all()

    def _guesses(
        self, name: str, spec: SpecifierSet, releases: Mapping[Version, tuple[DistFile, ...]]
    ) -> list[Version]:
        """Existing pins, the newest admitted release, and the newest the oldest Python takes."""
        out = [v for v in self._hints.get(name, ()) if v in releases]
        admitted = sorted(
            (v for v in releases if spec.contains(v, prereleases=self._options.pre)),
            reverse=True,
        )
        if self._options.resolution != "highest":
            admitted.reverse()
        for version in admitted[:1]:
            out.append(version)
        if self._oldest is not None:
            for version in admitted[:20]:
                files = releases[version]
                if any(f.requires_python is None or f.requires_python.contains(self._oldest)
                       for f in files):
                    out.append(version)
                    break
        return out

    def _usable(self, name: str, files: Sequence[DistFile]) -> tuple[DistFile, ...]:
        """The files the resolver would pass for this version (``Oracle.usable_files``).

        Versions with yanked files are left alone: an exact pin may pass
        those too, and metadata must come from the file the resolver picks.
        Versions without wheels are too: their metadata means a build.
        """
        if any(f.is_yanked for f in files) or not any(f.is_wheel for f in files):
            return ()  # nor are sdists built on a guess
        build_ok = self._options.may_build(name)
        return tuple(f for f in files if build_ok or f.is_wheel)
