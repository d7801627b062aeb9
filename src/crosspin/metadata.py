"""Requires-Dist and Requires-Python of each (name, version).

Core metadata comes from a wheel (its PEP 658 file, a range request into
it, or as a last resort the whole file: the index client decides), from an
sdist or a local project through its PEP 517
``prepare_metadata_for_build_wheel`` hook in an isolated build environment.
Parsed results are memoised per run; the index client caches the raw bytes
on disk, keyed by file hash.
"""

from __future__ import annotations

import email.parser
import shutil
import tempfile
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Optional, Protocol

import attrs
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from crosspin._archives import unpack_sdist
from crosspin.distributions import DistFile
from crosspin.errors import BuildError, MetadataError

__all__ = ["DistMetadata", "MetadataProvider", "MetadataSource", "project_metadata"]


class MetadataSource(Protocol):
    """What the metadata layer needs from an index client."""

    def wheel_metadata(self, file: DistFile) -> bytes:
        """The METADATA bytes of a wheel."""

    def download(self, file: DistFile, dest_dir: Path) -> Path:
        """Fetch a file (hash-checked) into ``dest_dir``."""


@attrs.frozen(kw_only=True)
class DistMetadata:
    """The parts of core metadata that resolution needs."""

    name: NormalizedName
    version: Version
    requires_dist: tuple[Requirement, ...] = ()
    requires_python: Optional[SpecifierSet] = None
    provides_extras: frozenset[str] = frozenset()

    @classmethod
    def from_bytes(cls, data: bytes, *, source: str) -> DistMetadata:
        """Parse METADATA / PKG-INFO bytes, leniently as pip does.

        Invalid Requires-Dist lines raise :class:`MetadataError` naming the
        source: silently dropping a dependency would give a wrong lock.
        """
        text = data.decode("utf-8", errors="replace")
        msg = email.parser.HeaderParser().parsestr(text)
        name = msg.get("Name")
        version = msg.get("Version")
        if not name or not version:
            raise MetadataError(source, "metadata lacks Name or Version")
        try:
            parsed_version = Version(version.strip())
        except InvalidVersion:
            raise MetadataError(source, f"invalid version {version!r}") from None
        requires: list[Requirement] = []
        for line in msg.get_all("Requires-Dist") or []:
            try:
                requires.append(Requirement(line.strip()))
            except InvalidRequirement as exc:
                raise MetadataError(source, f"invalid Requires-Dist {line!r}: {exc}") from None
        rp = msg.get("Requires-Python")
        spec: Optional[SpecifierSet] = None
        if rp and rp.strip():
            try:
                spec = SpecifierSet(rp.strip())
            except InvalidSpecifier:
                spec = None  # pip ignores an invalid Requires-Python too
        extras = frozenset(
            canonicalize_name(e) for e in (msg.get_all("Provides-Extra") or []) if e.strip()
        )
        return cls(
            name=canonicalize_name(name),
            version=parsed_version,
            requires_dist=tuple(requires),
            requires_python=spec,
            provides_extras=extras,
        )


def project_metadata(source_dir: Path, *, isolated: bool = True) -> DistMetadata:
    """Metadata of a source tree via its PEP 517 hooks, in an isolated build env."""
    from build.util import project_wheel_metadata  # imported late: heavy

    try:
        meta = project_wheel_metadata(source_dir, isolated=isolated)
    except Exception as exc:  # build raises many kinds; all mean "could not build"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BuildError(str(source_dir), first) from None
    data = meta.as_string().encode("utf-8")  # type: ignore[attr-defined]
    return DistMetadata.from_bytes(data, source=str(source_dir))


class MetadataProvider:
    """Memoised metadata per (name, version), from the best file available.

    ``allow_build`` decides whether an sdist may be built to learn its
    metadata (``--no-build`` / ``--only-binary :all:`` forbid it).
    """

    def __init__(self, source: MetadataSource) -> None:
        self._source = source
        self._lock = threading.Lock()
        self._memo: dict[tuple[str, str], Future[DistMetadata]] = {}

    def get(self, name: str, version: Version, files: Sequence[DistFile]) -> DistMetadata:
        """Metadata for ``name==version`` from one of its ``files``."""
        key = (name, str(version))
        with self._lock:
            fut = self._memo.get(key)
            owner = fut is None
            if fut is None:
                fut = Future()
                self._memo[key] = fut
        if owner:
            try:
                fut.set_result(self._fetch(name, version, files))
            except BaseException as exc:
                fut.set_exception(exc)
        return fut.result()

    def _fetch(self, name: str, version: Version, files: Sequence[DistFile]) -> DistMetadata:
        wheels = [f for f in files if f.is_wheel]
        if wheels:
            # Prefer a file with published metadata, then a pure-Python wheel:
            # all wheels of one version are assumed to share Requires-Dist.
            best = min(
                wheels,
                key=lambda f: (f.metadata_hashes is None, not f.filename.endswith("-none-any.whl"),
                               f.filename),
            )
            data = self._source.wheel_metadata(best)
            return DistMetadata.from_bytes(data, source=best.filename)
        sdists = [f for f in files if not f.is_wheel]
        if not sdists:
            raise MetadataError(f"{name}=={version}", "no wheel or sdist to read metadata from")
        sdist = min(sdists, key=lambda f: (not f.filename.endswith(".tar.gz"), f.filename))
        return self._from_sdist(sdist)

    def _from_sdist(self, sdist: DistFile) -> DistMetadata:
        tmp = Path(tempfile.mkdtemp(prefix="crosspin-sdist-"))
        try:
            archive = self._source.download(sdist, tmp)
            tree = unpack_sdist(archive, tmp / "src", sdist.filename)
            return project_metadata(tree)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
