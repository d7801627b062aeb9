"""An sdist's dependencies without building it, when the sdist itself says them.

Two sources are trusted, in this order (PEP 643, PEP 621):

1. ``PKG-INFO`` with ``Metadata-Version`` 2.2 or later where neither
   ``Requires-Dist`` nor ``Requires-Python`` is listed as ``Dynamic``:
   the backend promised a wheel built from the sdist carries the same.
2. ``pyproject.toml``'s ``[project]`` table when ``dependencies``,
   ``optional-dependencies`` and ``requires-python`` are not ``dynamic``:
   a backend may not add to static fields.

Otherwise (older metadata, ``setup.py`` projects, dynamic fields) the
caller builds. Both files are read straight from the archive, capped, with
no unpacking. The name in either file must match the sdist's (a mismatch
is an error: the archive is not what the index says).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, Literal

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from crosspin.errors import MetadataError
from crosspin.metadata._core import CoreFields, parse_core_metadata

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as tomllib

__all__ = ["StaticSource", "static_fields", "static_tree_fields"]

#: PEP 643: Requires-Dist/Requires-Python in PKG-INFO are final from this version on.
_PEP_643 = Version("2.2")
#: ``[project]`` keys whose being dynamic means only a build can tell.
_DYNAMIC_KEYS = frozenset({"dependencies", "optional-dependencies", "requires-python"})

#: Where static metadata came from.
StaticSource = Literal["PKG-INFO", "pyproject.toml"]


def static_fields(
    files: Mapping[str, bytes], *, name: str, version: Version, file: str
) -> tuple[CoreFields, StaticSource] | None:
    """Core metadata fields from an sdist's ``PKG-INFO`` or ``pyproject.toml``, if trustworthy.

    ``files`` maps ``PKG-INFO`` / ``pyproject.toml`` to their bytes (either
    may be missing); ``name``, ``version`` and ``file`` are what the index
    said. ``None`` means a build is needed. Raises :class:`MetadataError`
    when a file names another project or version.
    """
    pkg_info = files.get("PKG-INFO")
    if pkg_info is not None:
        fields = parse_core_metadata(pkg_info)
        if _final(fields):
            _check_identity(fields, name=name, version=version, file=file)
            return fields, "PKG-INFO"
    pyproject = files.get("pyproject.toml")
    if pyproject is not None:
        fields_or_none = _from_pyproject(pyproject, version=version)
        if fields_or_none is not None:
            _check_identity(fields_or_none, name=name, version=version, file=file)
            return fields_or_none, "pyproject.toml"
    return None


def static_tree_fields(pyproject: bytes | None) -> CoreFields | None:
    """A local project's fields from its ``pyproject.toml``, when its ``[project]`` says them.

    Unlike an sdist's, a folder has no file name to give the version, so
    the version must be static too; ``None`` means a build is needed.
    """
    return None if pyproject is None else _from_pyproject(pyproject, version=None)


def _final(fields: CoreFields) -> bool:
    """Whether PKG-INFO's Requires-Dist and Requires-Python are final (PEP 643)."""
    try:
        declared = Version((fields.metadata_version or "").strip())
    except InvalidVersion:
        return False
    dynamic = {d.strip().lower() for d in fields.dynamic}
    return (
        declared >= _PEP_643
        and "requires-dist" not in dynamic
        and "requires-python" not in dynamic
        and bool(fields.name)
    )


def _from_pyproject(data: bytes, *, version: Version | None) -> CoreFields | None:
    """The fields a static ``[project]`` table gives; ``None`` when it cannot say them all.

    ``version`` is the sdist's; ``None`` takes ``[project].version``, which
    must then be static.

    Values of the wrong type also mean ``None``: the backend would refuse
    such a table, and a build then reports the backend's own words.
    """
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return None
    project = document.get("project")
    if not isinstance(project, dict):
        return None
    dynamic = project.get("dynamic", [])
    if not _strings(dynamic) or _DYNAMIC_KEYS & set(dynamic):
        return None
    name = project.get("name")
    dependencies = project.get("dependencies", [])
    optional = project.get("optional-dependencies", {})
    requires_python = project.get("requires-python")
    if not isinstance(name, str) or not _strings(dependencies) or not isinstance(optional, dict):
        return None
    if requires_python is not None and not isinstance(requires_python, str):
        return None
    if version is None:
        written = project.get("version")
        if not isinstance(written, str) or "version" in dynamic:
            return None
    else:
        written = str(version)
    requires = list(dependencies)
    extras: list[str] = []
    for extra, items in optional.items():
        if not _strings(items):
            return None
        extras.append(extra)
        requires.extend(_under_extra(item, extra) for item in items)
    return CoreFields(
        metadata_version="2.4",
        name=name,
        version=written,
        requires_dist=tuple(requires),
        requires_python=requires_python,
        provides_extra=tuple(extras),
    )


def _under_extra(requirement: str, extra: str) -> str:
    """``requirement`` needed only with ``extra``, as a backend writes it into Requires-Dist.

    A requirement packaging cannot read is passed on as written (with the
    clause appended), to fail where every Requires-Dist line is checked.
    """
    clause = f'extra == "{canonicalize_name(extra)}"'
    try:
        parsed = Requirement(requirement)
        parsed.marker = Marker(f"({parsed.marker}) and {clause}" if parsed.marker else clause)
    except (InvalidRequirement, InvalidMarker):
        return f"{requirement} ; {clause}"
    return str(parsed)


def _check_identity(fields: CoreFields, *, name: str, version: Version, file: str) -> None:
    """The file must describe the release the index listed."""
    written = (fields.name or "").strip()
    if canonicalize_name(written) != canonicalize_name(name):
        raise MetadataError(name, f"its metadata names another project ({written!r})",
                            version=str(version), file=file)
    if fields.version is None:
        return
    try:
        same = Version(fields.version.strip()) == version
    except InvalidVersion:
        same = False
    if not same:
        raise MetadataError(name, f"its metadata names another version ({fields.version!r})",
                            version=str(version), file=file)


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)
