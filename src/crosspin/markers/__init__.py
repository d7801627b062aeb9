"""Marker algebra over a matrix: from a set of environments to a readable marker.

A lock pins each ``name==version`` for the environments whose fork chose
it; the marker written beside it must select exactly those environments of
the matrix and read like a person wrote it. :func:`marker_for` finds one
(``_algebra``), over a space of atoms the matrix can tell apart
(``_space``, ``_tree``) with a smallest cover (``_cover``).
"""

from __future__ import annotations

from crosspin.markers._algebra import (
    conjoin,
    disjoin,
    environments_of,
    evaluate,
    marker_for,
    simplify,
)

__all__ = [
    "conjoin",
    "disjoin",
    "environments_of",
    "evaluate",
    "marker_for",
    "simplify",
]
