"""Choosing, downloading and checking the files a sync installs.

Every file is downloaded and verified before anything in the target
changes: a failure here leaves the environment exactly as it was.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import json
import os
import posixpath
import urllib.parse
import urllib.request
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Callable, Protocol

import attrs
from packaging import tags as _tags

from crosspin.distributions import DistFile, parse_filename
from crosspin.errors import CrosspinError, HashMismatchError, NotInstallableError, SyncError
from crosspin.index import hash_file
from crosspin.lock import LockedPackage
from crosspin.sync._wheel import Unpacked

__all__ = ["Fetched", "FileSource", "choose_file", "fetch_all", "file_hashes"]

#: Downloads run at once (each is network or disk bound).
_FETCH_WORKERS = 8


class FileSource(Protocol):
    """The part of :class:`~crosspin.index.IndexClient` sync uses."""

    def project_files(self, name: str) -> tuple[DistFile, ...]:
        """Every file of a project on the configured indexes."""

    def download(self, file: DistFile, dest_dir: Path) -> Path:
        """Fetch a file, checking the hashes it carries."""

    def state_folder(self, name: str) -> Path | None:
        """A folder of the disk cache for sync's own entries (``None``: no disk cache)."""


@attrs.frozen(kw_only=True)
class Fetched:
    """What one pin installs from: a verified file on disk, or a wheel already unpacked.

    ``path`` is the downloaded file (``None`` when ``unpacked`` was found
    ready, without a download). A local folder pin has no ``file``:
    ``path`` is the folder, to be built. ``direct_url`` is set for URL pins.
    """

    package: LockedPackage
    file: DistFile | None
    path: Path | None
    direct_url: str | None = None
    unpacked: Unpacked | None = None


def file_hashes(file: DistFile) -> set[str]:
    """``algo:digest`` strings the index gives for a file."""
    return {f"{a}:{d}" for a, d in file.hashes}


def choose_file(
    package: LockedPackage,
    files: Sequence[DistFile],
    tags: Sequence[_tags.Tag],
    *,
    allow_build: bool,
) -> DistFile:
    """The best file of ``package`` for these tags: a wheel, else the sdist.

    When the lock has hashes, a file whose index hash is not among them is
    never chosen (a file with no index hash is checked after download).
    """
    recorded = set(package.recorded_hashes)
    priority = _priorities(tags)
    # A yanked file stays installable for an exact pin (PEP 592).
    same = [f for f in files if f.version == package.version]
    refused: list[DistFile] = []

    def allowed(f: DistFile) -> bool:
        known = file_hashes(f)
        if recorded and known and not (known & recorded):
            refused.append(f)
            return False
        return True

    wheels = sorted(
        (f for f in same if f.is_wheel and any(t in priority for t in f.tags)),
        key=lambda f: min(priority[t] for t in f.tags if t in priority),
    )
    for wheel in wheels:
        if allowed(wheel):
            return wheel
    if allow_build:
        for sdist in (f for f in same if not f.is_wheel):
            if allowed(sdist):
                return sdist
    if refused:
        bad = refused[0]
        raise HashMismatchError(bad.url, " or ".join(sorted(recorded)),
                                ", ".join(sorted(file_hashes(bad))))
    reason = "no compatible wheel" + ("" if allow_build else " (builds are disabled)")
    raise NotInstallableError(f"{package.name}=={package.version}", ["this interpreter"],
                              reason=reason)


_last_priorities: tuple[Sequence[_tags.Tag], dict[_tags.Tag, int]] | None = None


def _priorities(tags: Sequence[_tags.Tag]) -> dict[_tags.Tag, int]:
    """Each tag's rank, most preferred first; computed once for a sync's tag list."""
    global _last_priorities
    last = _last_priorities
    if last is not None and last[0] is tags:
        return last[1]
    priority = {t: i for i, t in enumerate(tags)}
    _last_priorities = (tags, priority)
    return priority


def _local_folder(package: LockedPackage) -> Path | None:
    """The folder of a local directory pin (``file:`` URL or path), else ``None``."""
    assert package.url is not None
    url = package.url.split("#", 1)[0]
    if url.startswith("file:"):
        path = Path(urllib.request.url2pathname(urllib.parse.urlsplit(url).path))
    elif "://" in url or url.startswith(("git+", "hg+", "svn+", "bzr+")):
        return None
    else:
        path = Path(url)
    if path.is_dir():
        return path.resolve()
    if package.editable:
        raise SyncError(f"cannot sync {package.name}: the editable folder {path} does not exist")
    return None


def _url_file(package: LockedPackage) -> DistFile:
    assert package.url is not None
    url = package.url.split("#", 1)[0]
    filename = urllib.parse.unquote(posixpath.basename(urllib.parse.urlsplit(url).path))
    if not filename or filename.startswith(".") or any(c in filename for c in "/\\\x00"):
        # An escaped separator (``..%2F..%2Fx``) must never become a path.
        raise SyncError(f"cannot sync {package.name} from {package.url}: its file name "
                        f"{filename!r} is not a plain file name")
    hashes = dict(h.split(":", 1) for h in package.recorded_hashes[:1])
    if url.startswith("file:") or "://" in url:
        file = DistFile.from_link(filename=filename, url=url, hashes=hashes)
    else:
        file = DistFile.from_link(filename=filename, url=Path(url).resolve().as_uri(),
                                  hashes=hashes)
    if package.editable or file is None or package.url.startswith(("git+", "hg+", "svn+", "bzr+")):
        raise SyncError(f"cannot sync {package.name} from {package.url}: only wheel and sdist "
                        "archives are supported as URL pins",
                        hint="install VCS pins with pip")
    return file


def _verify(package: LockedPackage, file: DistFile, path: Path) -> None:
    """Check size and the lock's hashes (the index's were checked by the client)."""
    if file.size is not None and path.stat().st_size != file.size:
        raise HashMismatchError(file.url, f"{file.size} bytes", f"{path.stat().st_size} bytes")
    recorded = set(package.recorded_hashes)
    if not recorded:
        return
    if {h for h in file_hashes(file) if h.split(":", 1)[0] in hashlib.algorithms_available} \
            & recorded:
        return  # the download checked this hash of the lock already (FileSource.download)
    algorithms = sorted({h.split(":", 1)[0] for h in recorded} & hashlib.algorithms_available)
    actual = {f"{a}:{h}" for a, h in hash_file(path, algorithms).items()}
    if not actual & recorded:
        sha = [d for d in sorted(actual) if d.startswith("sha256:")]
        shown = sha[0] if sha else min(actual, default="")
        raise HashMismatchError(file.url, " or ".join(sorted(recorded)), shown)


def fetch_all(
    packages: Sequence[LockedPackage],
    source: FileSource,
    tags: Sequence[_tags.Tag],
    dest: Path,
    *,
    allow_build: bool,
    ready: Callable[[LockedPackage, DistFile], Unpacked | None] | None = None,
    finish: Callable[[Fetched], Fetched] | None = None,
    on_fetched: Callable[[Fetched], None] | None = None,
    picks: Path | None = None,
) -> list[Fetched]:
    """Choose, download and verify a file for every pin, concurrently.

    ``ready`` may answer a chosen file with a wheel already verified and
    unpacked: then nothing is downloaded. ``picks`` is a folder where the
    file chosen for a pin of a requirements file (hashes, no file names) is
    remembered for these tags: a later sync of the same pin and tags whose
    remembered wheel is ``ready`` needs no index page (module
    :class:`_Picks`). ``finish`` runs in the worker
    right after a download is verified (to unpack it while other downloads
    go on). The first failure (in ``packages`` order) is raised after every
    worker stopped, so nothing keeps running behind the error.
    ``on_fetched`` is called (from a worker thread) as each pin is ready,
    for progress.
    """

    def one(package: LockedPackage) -> Fetched:
        done = _one(package)
        if done.path is not None and finish is not None:
            done = finish(done)
        if on_fetched is not None:
            on_fetched(done)
        return done

    def _one(package: LockedPackage) -> Fetched:
        if package.url:
            folder_pin = _local_folder(package)
            if folder_pin is not None:
                if not allow_build:
                    raise NotInstallableError(package.url, ["this interpreter"],
                                              reason="a local folder needs a build "
                                              "(builds are disabled)")
                return Fetched(package=package, file=None, path=folder_pin,
                               direct_url=folder_pin.as_uri())
            file = _url_file(package)
            direct: str | None = package.url
        else:
            direct = None
            # (A remembered pick that is ready was taken by cached() before any worker.)
            # A PEP 751 lock lists its files (URL + hashes): no index search.
            files = package.files or source.project_files(package.name)
            file = choose_file(package, files, tags, allow_build=allow_build)
            if not package.files:
                remembered.put(package, file)
        found = ready(package, file) if ready is not None else None
        if found is not None:
            return Fetched(package=package, file=file, path=None, direct_url=direct,
                           unpacked=found)
        folder = dest / package.name
        path = source.download(file, folder)
        _verify(package, file, path)
        return Fetched(package=package, file=file, path=path, direct_url=direct)

    def cached(package: LockedPackage) -> Fetched | None:
        """The pin's unpacked wheel when the choice needs no index page and ``ready`` has
        it; ``None`` leaves the pin (and any error) to a worker, in order."""
        if package.url or ready is None:
            return None
        try:
            file = (choose_file(package, package.files, tags, allow_build=allow_build)
                    if package.files else remembered.get(package))
        except CrosspinError:
            return None
        found = ready(package, file) if file is not None else None
        if found is None:
            return None
        done = Fetched(package=package, file=file, path=None, unpacked=found)
        if on_fetched is not None:
            on_fetched(done)
        return done

    if not packages:
        return []
    remembered = _Picks(picks, tags)
    # A warm cache needs no worker: threads would only contend for the GIL.
    results: list[Fetched | None] = [cached(p) for p in packages]
    with concurrent.futures.ThreadPoolExecutor(max_workers=_FETCH_WORKERS) as pool:
        futures = {k: pool.submit(one, p) for k, p in enumerate(packages)
                   if results[k] is None}
        concurrent.futures.wait(futures.values())
    return [r if r is not None else futures[k].result() for k, r in enumerate(results)]


class _Picks:
    """The wheel chosen for a requirements-file pin, remembered per pin and target tags.

    A pin of a requirements file names hashes, not files: choosing needs the
    index page. But the lock's hashes are the only files :func:`choose_file`
    may take, so for the same hashes and tags its choice is the same file
    whatever else the page lists; remembering it lets a warm sync take the
    unpacked wheel without reading the page. The entry is untrusted: it is
    used only for a wheel whose sha256 the pin records, whose name and
    version are the pin's and whose tags this target installs.
    """

    def __init__(self, folder: Path | None, tags: Sequence[_tags.Tag]) -> None:
        self._folder = folder
        self._tags = tags
        self._tags_key = hashlib.sha256("\n".join(map(str, tags)).encode()).hexdigest()

    def _path(self, package: LockedPackage) -> Path | None:
        if self._folder is None or not package.recorded_hashes:
            return None
        key = "\n".join([package.name, str(package.version), self._tags_key,
                         *sorted(package.recorded_hashes)])
        digest = hashlib.sha256(key.encode()).hexdigest()
        return self._folder / digest[:2] / digest

    def get(self, package: LockedPackage) -> DistFile | None:
        """The remembered wheel for this pin and these tags, if it still qualifies."""
        path = self._path(package)
        if path is None:
            return None
        try:
            data = json.loads(path.read_bytes())
            filename, url, sha256 = str(data["filename"]), str(data["url"]), str(data["sha256"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if f"sha256:{sha256}" not in package.recorded_hashes:
            return None
        file = DistFile.from_link(filename=filename, url=url, hashes={"sha256": sha256},
                                  index=package.index or "")
        if (file is None or not file.is_wheel or file.name != package.name
                or file.version != package.version
                or not any(t in _priorities(self._tags) for t in file.tags)):
            return None
        return file

    def put(self, package: LockedPackage, file: DistFile) -> None:
        """Remember ``file`` as the choice for this pin (best effort: a failure is ignored)."""
        path = self._path(package)
        sha = (file.sha256 or "").lower()
        if path is None or not file.is_wheel or f"sha256:{sha}" not in package.recorded_hashes:
            return
        data = json.dumps({"filename": file.filename, "url": file.url, "sha256": sha}).encode()
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.is_file() and path.read_bytes() == data:
                return
            temp = path.with_name(f".tmp-{uuid.uuid4().hex}")
            try:
                temp.write_bytes(data)
                os.replace(temp, path)
            finally:
                with contextlib.suppress(OSError):
                    temp.unlink()


def is_sdist(path: Path) -> bool:
    """Whether a downloaded file is an sdist (to be built into a wheel)."""
    parsed = parse_filename(path.name)
    return parsed is not None and parsed[2] == "sdist"
