"""Requires-Dist and Requires-Python of each (name, version).

Core metadata comes from a wheel (its PEP 658 file, a range request into
it, or as a last resort the whole file: the index client decides), from an
sdist or a local project through its PEP 517
``prepare_metadata_for_build_wheel`` hook in an isolated build environment.
Parsed results are memoised per run; the index client caches the raw bytes
on disk, keyed by file hash, and the parsed fields of wheels and sdists
(an sdist's build runs once, not once per compile).
"""

from __future__ import annotations

import collections
import json
import tempfile
import threading
from collections.abc import Callable, Sequence
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
from crosspin.errors import MetadataError
from crosspin.metadata._archives import read_sdist_files, unpack_sdist
from crosspin.metadata._build import BuildSettings, Release, prepare_metadata
from crosspin.metadata._core import CoreFields, parse_core_metadata
from crosspin.metadata._sdist import static_fields, static_tree_fields

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
    def from_bytes(
        cls, data: bytes, *, source: str, name: str | None = None,
        version: Version | None = None,
    ) -> DistMetadata:
        """Parse METADATA / PKG-INFO bytes, leniently as pip does; never re-serialised.

        Invalid Requires-Dist lines raise :class:`MetadataError` naming the
        project, its version and ``source`` (the file): silently dropping a
        dependency would give a wrong lock. ``name``/``version`` are what
        the caller asked for, for the message when the file's own are unusable.
        """
        return cls.from_fields(parse_core_metadata(data), source=source, name=name,
                               version=version)

    @classmethod
    def from_fields_json(cls, raw: bytes, *, source: str) -> DistMetadata:
        """Metadata from the cached header strings of a wheel (parsed again, as fresh).

        Raises ``ValueError``/``KeyError``/``TypeError`` on an entry that is
        not such JSON, and :class:`MetadataError` as :meth:`from_bytes` would.
        """
        data = json.loads(raw)
        if data.get("format") != _FIELDS_FORMAT:
            raise ValueError("parsed-metadata entry of another format")
        fields = CoreFields(
            name=str(data["name"]),
            version=str(data["version"]),
            requires_dist=tuple(str(line) for line in data["requires_dist"]),
            requires_python=None if data["requires_python"] is None
            else str(data["requires_python"]),
            provides_extra=tuple(str(e) for e in data["provides_extra"]),
        )
        return cls.from_fields(fields, source=source)

    @classmethod
    def from_fields(
        cls, fields: CoreFields, *, source: str, name: str | None = None,
        version: Version | None = None,
    ) -> DistMetadata:
        """Check and parse raw header values (see :meth:`from_bytes`)."""

        def error(reason: str) -> MetadataError:
            return MetadataError(
                canonicalize_name(name or fields.name or source),
                reason,
                version=str(version) if version is not None else fields.version,
                file=source,
            )

        if not fields.name or not fields.version:
            raise error("metadata lacks Name or Version")
        try:
            parsed_version = Version(fields.version.strip())
        except InvalidVersion:
            raise error(f"invalid version {fields.version!r}") from None
        requires: list[Requirement] = []
        for line in fields.requires_dist:
            text = line.strip()
            req = _REQUIREMENTS.get(text)
            if req is None:
                try:
                    req = _REQUIREMENTS[text] = _requirement(text)
                except (InvalidRequirement, RecursionError) as exc:
                    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else "too deep"
                    raise error(f"invalid Requires-Dist {line!r}: {detail}") from None
            requires.append(req)
        rp = fields.requires_python
        spec: SpecifierSet | None = None
        if rp and rp.strip():
            try:
                spec = SpecifierSet(rp.strip())
            except (InvalidSpecifier, RecursionError):
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
        except (InvalidRequirement, InvalidMarker, RecursionError):
            pass
    return Requirement(text)


#: Bump when the stored parsed-metadata JSON changes shape.
_FIELDS_FORMAT = 1


def _fields_json(fields: CoreFields) -> bytes:
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


def project_metadata(
    source_dir: Path,
    *,
    build: BuildSettings = BuildSettings(),
    release: Release | None = None,
    log: Callable[[str], None] | None = None,
) -> DistMetadata:
    """Metadata of a source tree: its static ``[project]`` table, else its PEP 517 hooks.

    The build runs in an isolated environment filled from ``build``'s
    indexes; errors name ``release`` (default: the folder's name).
    """
    release = release or Release(name=source_dir.name)
    pyproject = source_dir / "pyproject.toml"
    static = None
    if pyproject.is_file():
        static = static_tree_fields(_read_capped(pyproject, build.limits.file))
    if static is not None:
        return DistMetadata.from_fields(static, source=f"{source_dir.name}/pyproject.toml")
    data = prepare_metadata(source_dir, release, settings=build, log=log)
    return DistMetadata.from_bytes(data, source=release.file or release.name,
                                   name=release.name)


class MetadataProvider:
    """Memoised metadata per (name, version), from the best file available.

    Wheels give their METADATA (the index client decides how); an sdist its
    ``PKG-INFO`` or static ``pyproject.toml`` (``_sdist``), else a PEP 517
    build run as ``build`` says. ``log`` receives lines for ``-v`` (where
    an sdist's metadata came from, the backend's output). ``sdists`` counts
    how each sdist's metadata was read: ``PKG-INFO``, ``pyproject.toml``,
    ``built``, ``cached`` (read or built by an earlier run).
    """

    def __init__(
        self,
        source: MetadataSource,
        *,
        build: BuildSettings = BuildSettings(),
        log: Callable[[str], None] | None = None,
    ) -> None:
        self._source = source
        self._build = build
        self._log = log
        self._lock = threading.Lock()
        self._memo: dict[tuple[str, Version], Future[DistMetadata]] = {}
        self.sdists: collections.Counter[str] = collections.Counter()

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
            fields = parse_core_metadata(self._source.wheel_metadata(best))
            meta = DistMetadata.from_fields(fields, source=best.filename, name=name,
                                            version=version)
            store = getattr(self._source, "store_parsed_metadata", None)
            if store is not None:
                store(best, _fields_json(fields))
            return meta
        sdists = [f for f in files if not f.is_wheel]
        if not sdists:
            raise MetadataError(name, "no wheel or sdist to read metadata from",
                                version=str(version))
        sdist = min(sdists, key=lambda f: (not f.filename.endswith(".tar.gz"), f.filename))
        load = getattr(self._source, "parsed_sdist_metadata", None)
        raw = None if load is None else load(sdist)
        if raw is not None:
            try:
                known = DistMetadata.from_fields_json(raw, source=sdist.filename)
            except (ValueError, KeyError, TypeError):
                known = None  # a corrupt or foreign entry is a miss, never an error
            # The same file listed under another project or version (a mirror's
            # claim) is read again, and refused there as its PKG-INFO says.
            if known is not None and (known.name, known.version) == (
                    canonicalize_name(name), version):
                self._count("cached", f"{name} {version}: metadata of {sdist.filename} "
                                      "from the cache")
                return known
        fields = self._from_sdist(name, version, sdist)
        store = getattr(self._source, "store_parsed_sdist_metadata", None)
        if store is not None:
            store(sdist, _fields_json(fields))
        return DistMetadata.from_fields(fields, source=sdist.filename, name=name,
                                        version=version)

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

    def _from_sdist(self, name: str, version: Version, sdist: DistFile) -> CoreFields:
        """The sdist's core fields: its PKG-INFO or static pyproject.toml, else a build."""
        release = Release(name=name, version=str(version), file=sdist.filename)
        limits = self._build.limits
        with tempfile.TemporaryDirectory(prefix="crosspin-sdist-") as tmp:
            archive = self._source.download(sdist, Path(tmp))
            files = read_sdist_files(archive, ("PKG-INFO", "pyproject.toml"), name=name,
                                     version=str(version), limits=limits)
            static = static_fields(files, name=name, version=version, file=sdist.filename)
            if static is not None:
                fields, where = static
                self._count(where, f"{name} {version}: metadata from its sdist's {where}")
                return fields
            tree = unpack_sdist(archive, Path(tmp) / "src", name, version=str(version),
                                limits=limits)
            self._count("built", f"{name} {version}: building {sdist.filename} for its metadata")
            data = prepare_metadata(tree, release, settings=self._build, log=self._log)
        return parse_core_metadata(data)

    def _count(self, how: str, line: str) -> None:
        with self._lock:
            self.sdists[how] += 1
        if self._log is not None:
            self._log(line)


def _read_capped(path: Path, cap: int) -> bytes | None:
    """At most ``cap`` bytes of ``path``; ``None`` when it is larger or unreadable."""
    try:
        with path.open("rb") as handle:
            data = handle.read(cap + 1)
    except OSError:
        return None
    return data if len(data) <= cap else None
