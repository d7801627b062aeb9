"""What is installed in the target: dist-info and egg-info metadata in its site dirs.

``.egg-info`` installs (``setup.py install``, old pips) have no RECORD, so
sync cannot uninstall them safely: they are reported, never removed. A
``.dist-info`` without RECORD is what an install killed half way leaves:
it is *broken*, never counted as installed, and the next sync repairs it.
A ``.dist-info`` folder without METADATA is what an uninstall killed half
way leaves (crosspin removes METADATA and RECORD last): a *leftover*, whose
other files are gone already; the next sync deletes the folder.
"""

from __future__ import annotations

import email.parser
import json
from collections.abc import Iterable
from pathlib import Path

import attrs
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

__all__ = ["InstalledDist", "scan_installed", "scan_leftovers"]


@attrs.frozen(kw_only=True)
class InstalledDist:
    """One installed distribution: name, version, its dist-info and PEP 610 URL."""

    name: NormalizedName
    version: Version | None
    raw_version: str
    dist_info: Path
    direct_url: str | None = None
    #: An ``.egg-info`` install: sync reports it instead of removing it.
    legacy: bool = False
    #: A ``.dist-info`` without RECORD (a killed install): reinstalled, never "installed".
    broken: bool = False


def scan_installed(site_dirs: Iterable[Path]) -> dict[NormalizedName, list[InstalledDist]]:
    """Every ``*.dist-info`` and ``*.egg-info`` in ``site_dirs``, by canonical name."""
    found: dict[NormalizedName, list[InstalledDist]] = {}
    for site in site_dirs:
        if not site.is_dir():
            continue
        for info in sorted(site.glob("*.dist-info")):
            dist = _read(info)
            if dist is not None:
                found.setdefault(dist.name, []).append(dist)
        for info in sorted(site.glob("*.egg-info")):
            dist = _read(info)
            if dist is not None:
                found.setdefault(dist.name, []).append(attrs.evolve(dist, legacy=True))
    return found


def scan_leftovers(site_dirs: Iterable[Path]) -> tuple[Path, ...]:
    """``*.dist-info`` folders in ``site_dirs`` without METADATA (a killed uninstall's)."""
    found: list[Path] = []
    for site in site_dirs:
        if site.is_dir():
            found.extend(info for info in sorted(site.glob("*.dist-info"))
                         if info.is_dir() and not info.is_symlink()
                         and not (info / "METADATA").exists())
    return tuple(found)


def _read(info: Path) -> InstalledDist | None:
    # An egg-info is a folder with PKG-INFO, or a single PKG-INFO file.
    meta = info if info.is_file() else info / (
        "PKG-INFO" if info.name.endswith(".egg-info") else "METADATA")
    try:
        raw = meta.read_bytes()
    except OSError:
        return None
    msg = email.parser.BytesParser().parsebytes(raw, headersonly=True)
    name, version_text = msg.get("Name"), msg.get("Version")
    if not name or not version_text:
        return None
    try:
        version: Version | None = Version(str(version_text))
    except InvalidVersion:
        version = None
    url = None
    try:
        url = json.loads((info / "direct_url.json").read_text(encoding="utf-8")).get("url")
    except (OSError, ValueError, AttributeError):
        url = None
    broken = info.name.endswith(".dist-info") and not (info / "RECORD").is_file()
    return InstalledDist(name=canonicalize_name(str(name)), version=version,
                         raw_version=str(version_text), dist_info=info, direct_url=url,
                         broken=broken)
