"""Requires-Dist and Requires-Python of each (name, version).

Core metadata comes from a wheel (its PEP 658 file, a range request into
it, or as a last resort the whole file: the index client decides), from an
sdist's own ``PKG-INFO`` (Metadata-Version 2.2+ without dynamic
dependencies, PEP 643) or static ``pyproject.toml`` ``[project]`` table
(read from the archive, not unpacked), and otherwise from a PEP 517 build
in an isolated environment (``prepare_metadata_for_build_wheel``), quiet,
under a deadline and fed from the run's own indexes (:class:`BuildSettings`).
Core metadata files are read by one reader that never re-serialises them
(``_core``). Sdists are unpacked by :func:`unpack_sdist`, the one place
that decides what an archive may contain and how big it may be
(``sync`` builds from it too); build children run through one runner that
can stop them all (:func:`stop_children`, for the CLI on Ctrl-C/SIGTERM).
"""

from __future__ import annotations

from crosspin.metadata._archives import SdistLimits, unpack_sdist
from crosspin.metadata._build import BuildSettings, Release
from crosspin.metadata._process import stop_children
from crosspin.metadata._provider import (
    DistMetadata,
    MetadataProvider,
    MetadataSource,
    project_metadata,
)

__all__ = [
    "BuildSettings",
    "DistMetadata",
    "MetadataProvider",
    "MetadataSource",
    "Release",
    "SdistLimits",
    "project_metadata",
    "stop_children",
    "unpack_sdist",
]
