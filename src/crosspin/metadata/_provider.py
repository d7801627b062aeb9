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
import json
import shutil
import tempfile
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Protocol

import attrs
from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from crosspin.distributions import DistFile
from crosspin.errors import BuildError, MetadataError
from crosspin.metadata._archives import unpack_sdist

__all__ = [
    "DistMetadata",
    "MetadataProvider",
    "MetadataSource",
    "project_metadata",
]


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
    requires_python: SpecifierSet | None = None
    provides_extras: frozenset[str] = frozenset()

    @classmethod
    def from_bytes(cls, data: bytes, *, source: str) -> DistMetadata:
        """Parse METADATA / PKG-INFO bytes, leniently as pip does.

        Invalid Requires-Dist lines raise :class:`MetadataError` naming the
        source: silently dropping a dependency would give a wrong lock.
        """
        return cls._from_fields(_fields(data), source=source)

    @classmethod
    def from_fields_json(cls, raw: bytes, *, source: str) -> DistMetadata:
        """Metadata from the cached header strings of a wheel (parsed again, as fresh).

        Raises ``ValueError``/``KeyError``/``TypeError`` on an entry that is
        not such JSON, and :class:`MetadataError` as :meth:`from_bytes` would.
        """
        data = json.loads(raw)
        if data.get("format") != _FIELDS_FORMAT:
            raise ValueError("parsed-metadata entry of another format")
        fields = _Fields(
            name=str(data["name"]),
            version=str(data["version"]),
            requires_dist=tuple(str(line) for line in data["requires_dist"]),
            requires_python=None if data["requires_python"] is None
            else str(data["requires_python"]),
            provides_extra=tuple(str(e) for e in data["provides_extra"]),
        )
        return cls._from_fields(fields, source=source)

    @classmethod
    def _from_fields(cls, fields: _Fields, *, source: str) -> DistMetadata:
        if not fields.name or not fields.version:
            raise MetadataError(source, "metadata lacks Name or Version")
        try:
            parsed_version = Version(fields.version.strip())
        except InvalidVersion:
            raise MetadataError(source, f"invalid version {fields.version!r}") from None
        requires: list[Requirement] = []
        for line in fields.requires_dist:
            text = line.strip()
            req = _REQUIREMENTS.get(text)
            if req is None:
                try:
                    req = _REQUIREMENTS[text] = _requirement(text)
                except InvalidRequirement as exc:
                    raise MetadataError(source, f"invalid Requires-Dist {line!r}: {exc}") from None
            requires.append(req)
        rp = fields.requires_python
        spec: SpecifierSet | None = None
        if rp and rp.strip():
            try:
                spec = SpecifierSet(rp.strip())
            except InvalidSpecifier:
                spec = None  # pip ignores an invalid Requires-Python too
        extras = frozenset(canonicalize_name(e) for e in fields.provides_extra if e.strip())
        return cls(
            name=canonicalize_name(fields.name),
            version=parsed_version,
            requires_dist=tuple(requires),
            requires_python=spec,
            provides_extras=extras,
        )


#: Parsed Requires-Dist lines: releases of a project (and projects of an
#: ecosystem) repeat them. The objects are shared, so nobody may mutate them.
_REQUIREMENTS: dict[str, Requirement] = {}

#: Parsed environment markers by text: a few dozen (``extra == "test"``)
#: serve the thousand-odd Requires-Dist lines of a large lock.
_MARKERS: dict[str, Marker] = {}


def _requirement(text: str) -> Requirement:
    """``Requirement(text)``, parsing the marker part once per distinct marker text.

    The marker is the costly half of the grammar and repeats across lines.
    Only lines without a URL are split (a URL may hold ``;``); anything the
    split cannot read is parsed whole, so errors are packaging's own.
    """
    if "@" not in text:
        head, _, tail = text.partition(";")
        tail = tail.strip()
        try:
            req = Requirement(head)
            if tail:
                marker = _MARKERS.get(tail)
                if marker is None:
                    marker = _MARKERS[tail] = Marker(tail)
                req.marker = marker
            return req
        except (InvalidRequirement, InvalidMarker):
            pass
    return Requirement(text)


#: Bump when the stored parsed-metadata JSON changes shape.
_FIELDS_FORMAT = 1


@attrs.frozen(kw_only=True)
class _Fields:
    """The raw header strings resolution reads, exactly as the METADATA file has them.

    Stored (as JSON) instead of the parsed objects so a cached entry goes
    through the very same parsing as fresh bytes: same results, same errors.
    """

    name: str | None
    version: str | None
    requires_dist: tuple[str, ...]
    requires_python: str | None
    provides_extra: tuple[str, ...]


def _fields(data: bytes) -> _Fields:
    text = data.decode("utf-8", errors="replace")
    msg = email.parser.HeaderParser().parsestr(text)
    return _Fields(
        name=msg.get("Name"),
        version=msg.get("Version"),
        requires_dist=tuple(str(v) for v in msg.get_all("Requires-Dist") or []),
        requires_python=None if msg.get("Requires-Python") is None
        else str(msg.get("Requires-Python")),
        provides_extra=tuple(str(v) for v in msg.get_all("Provides-Extra") or []),
    )


def _fields_json(fields: _Fields) -> bytes:
    """Compact JSON for the disk cache; :meth:`DistMetadata.from_fields_json` reads it back.

    Reading it skips the e-mail header parsing of the whole (often large)
    METADATA file.
    """
    return json.dumps(
        {
            "format": _FIELDS_FORMAT,
            "name": fields.name,
            "version": fields.version,
            "requires_dist": list(fields.requires_dist),
            "requires_python": fields.requires_python,
            "provides_extra": list(fields.provides_extra),
        },
        separators=(",", ":"),
    ).encode()


def project_metadata(source_dir: Path, *, isolated: bool = True) -> DistMetadata:
    """Metadata of a source tree via its PEP 517 hooks, in an isolated build env."""
    # lazy: building is rare and ``build`` is slow to import.
    from build.util import project_wheel_metadata

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
        self._memo: dict[tuple[str, Version], Future[DistMetadata]] = {}

    def get(self, name: str, version: Version, files: Sequence[DistFile]) -> DistMetadata:
        """Metadata for ``name==version`` from one of its ``files``."""
        key = (name, version)
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
            known = self._parsed(best)
            if known is not None:
                return known
            fields = _fields(self._source.wheel_metadata(best))
            meta = DistMetadata._from_fields(fields, source=best.filename)
            store = getattr(self._source, "store_parsed_metadata", None)
            if store is not None:
                store(best, _fields_json(fields))
            return meta
        sdists = [f for f in files if not f.is_wheel]
        if not sdists:
            raise MetadataError(f"{name}=={version}", "no wheel or sdist to read metadata from")
        sdist = min(sdists, key=lambda f: (not f.filename.endswith(".tar.gz"), f.filename))
        return self._from_sdist(sdist)

    def _parsed(self, wheel: DistFile) -> DistMetadata | None:
        """The wheel's metadata from the source's parsed-fields cache, when it has one.

        Optional in :class:`MetadataSource`: sources without it (test fakes,
        the checker's) just always read the METADATA bytes.
        """
        load = getattr(self._source, "parsed_metadata", None)
        raw = None if load is None else load(wheel)
        if raw is None:
            return None
        try:
            return DistMetadata.from_fields_json(raw, source=wheel.filename)
        except (ValueError, KeyError, TypeError):
            return None  # a corrupt or foreign entry is a miss, never an error

    def _from_sdist(self, sdist: DistFile) -> DistMetadata:
        tmp = Path(tempfile.mkdtemp(prefix="crosspin-sdist-"))
        try:
            archive = self._source.download(sdist, tmp)
            tree = unpack_sdist(archive, tmp / "src", sdist.filename)
            return project_metadata(tree)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
