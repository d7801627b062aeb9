"""Requires-Dist and Requires-Python of each (name, version).

Core metadata comes from a wheel (its PEP 658 file, a range request into
it, or as a last resort the whole file: the index client decides), from an
sdist or a local project through its PEP 517
``prepare_metadata_for_build_wheel`` hook in an isolated build environment.
Sdists are unpacked by :func:`unpack_sdist`, the one place that decides
what an archive may contain (``sync`` builds from it too).
"""

from __future__ import annotations

from crosspin.metadata._archives import unpack_sdist
from crosspin.metadata._provider import (
    DistMetadata,
    MetadataProvider,
    MetadataSource,
    project_metadata,
)

__all__ = [
    "DistMetadata",
    "MetadataProvider",
    "MetadataSource",
    "project_metadata",
    "unpack_sdist",
]
