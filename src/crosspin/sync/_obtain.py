"""Getting every pin's wheel verified and unpacked: from the cache, a download or a build.

For each pin the best file is chosen (:mod:`~crosspin.sync._fetch`). A
wheel whose sha256 the lock vouches for and which the unpacked-wheel cache
already holds is used from there, with no download at all; any other wheel
is downloaded, hash-checked and then verified and unpacked into the cache
by the same worker, while other downloads go on. sdists and local folders
are built (one at a time) and their wheels verified and unpacked into the
sync's temporary folder: a build's bytes are not worth keeping by hash.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import attrs

from crosspin.distributions import DistFile
from crosspin.index import hash_file
from crosspin.lock import LockedPackage
from crosspin.sync._build import build_wheel
from crosspin.sync._fetch import Fetched, FileSource, fetch_all, is_sdist
from crosspin.sync._place import Origin
from crosspin.sync._target import Target
from crosspin.sync._unpacked import UnpackedCache
from crosspin.sync._wheel import Expected, Unpacked, unpack_wheel

__all__ = ["Obtained", "obtain_all"]

_HEX64 = re.compile(r"[0-9a-f]{64}")


@attrs.frozen(kw_only=True)
class Obtained:
    """One pin's wheel, verified and unpacked, and where it came from (PEP 610)."""

    package: LockedPackage
    unpacked: Unpacked
    origin: Origin | None


def obtain_all(
    packages: Sequence[LockedPackage],
    source: FileSource,
    target: Target,
    *,
    cache: UnpackedCache,
    work: Path,
    build: Callable[[Path, LockedPackage, bool], Path],
    allow_build: bool,
    on_fetched: Callable[[Fetched], None] | None = None,
) -> list[Obtained]:
    """Every pin's wheel, verified and unpacked (module docstring), in ``packages`` order.

    ``build(path, package, editable)`` turns an sdist or folder into a wheel.
    Raises on the first failure; nothing outside ``work`` and the cache is
    touched.
    """
    fetched = fetch_all(
        packages, source, target.tags, work / "dl", allow_build=allow_build,
        ready=lambda package, file: _ready(cache, package, file),
        finish=lambda item: _finish(cache, item), on_fetched=on_fetched,
        picks=source.state_folder("picks"))
    out = []
    for number, item in enumerate(fetched):
        editable: bool | None = None
        unpacked = item.unpacked
        if unpacked is None:
            assert item.path is not None
            if item.path.is_dir():
                editable = item.package.editable
            wheel = build(item.path, item.package, bool(editable))
            unpacked = _unpack_built(wheel, work / "unpacked" / str(number), item)
        out.append(Obtained(package=item.package, unpacked=unpacked,
                            origin=_origin(item, editable)))
    return out


def expected_of(package: LockedPackage, file: DistFile | None) -> Expected:
    """What the lock says a pin's wheel is: an index pin's project and version; a URL
    archive's project (``name @ url``); nothing for a local folder (its name may come
    from its path)."""
    if package.url is None:
        return Expected(name=package.name, version=package.version)
    if file is not None:
        return Expected(name=package.name)
    return Expected()


def _trusted_sha256(package: LockedPackage, file: DistFile) -> str | None:
    """The file's sha256 if the lock vouches for it (or the lock has no hashes at all)."""
    sha = (file.sha256 or "").lower()
    if not _HEX64.fullmatch(sha):
        return None
    recorded = set(package.recorded_hashes)
    if recorded and f"sha256:{sha}" not in recorded:
        return None
    return sha


def _ready(cache: UnpackedCache, package: LockedPackage, file: DistFile) -> Unpacked | None:
    if not file.is_wheel:
        return None
    sha = _trusted_sha256(package, file)
    return None if sha is None else cache.lookup(sha, expected_of(package, file))


def _finish(cache: UnpackedCache, item: Fetched) -> Fetched:
    """Verify and unpack a downloaded wheel into the cache (sdists and folders stay as they are)."""
    assert item.path is not None
    if item.path.is_dir() or is_sdist(item.path) or item.file is None:
        return item
    sha = (item.file.sha256 or "").lower()
    if not _HEX64.fullmatch(sha):  # neither lock nor index named a sha256: hash it here
        sha = hash_file(item.path, ["sha256"])["sha256"]
    unpacked = cache.unpack(item.path, sha, expected_of(item.package, item.file))
    return attrs.evolve(item, unpacked=unpacked)


def _unpack_built(wheel: Path, dest: Path, item: Fetched) -> Unpacked:
    try:
        return unpack_wheel(wheel, dest, expected_of(item.package, item.file))
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise


def _origin(item: Fetched, editable: bool | None) -> Origin | None:
    if item.direct_url is None:
        return None
    digest = None
    if item.file is not None and editable is None:
        digest = item.file.sha256 or next(iter(item.package.recorded_hashes), None)
    if digest and ":" not in digest:
        digest = f"sha256:{digest}"
    return Origin(url=item.direct_url, archive_hash=digest, editable=editable)


def builder(target: Target, work: Path, *, environment: Mapping[str, str] | None,
            timeout: float | None, say: Callable[[str], None]
            ) -> Callable[[Path, LockedPackage, bool], Path]:
    """The ``build`` callable of :func:`obtain_all` for ``target``."""

    def build(path: Path, package: LockedPackage, editable: bool) -> Path:
        what = package.url if path.is_dir() else f"{package.name}=={package.version}"
        say(f"Building {what}")
        out = work / "built" / package.name
        out.mkdir(parents=True)
        return build_wheel(path, target.executable, out, name=package.name, editable=editable,
                           environment=environment, timeout=timeout)

    return build
