"""Target environments and the matrix a lock covers.

An :class:`Environment` is one concrete target: a CPython minor version
(standing for every patch release of it, or a patch range where a
Requires-Python cuts the minor) on one :class:`Platform`. Its PEP 508 marker
environment and its wheel tags are computed for the target with
:mod:`packaging.tags`, never read from the host, so the output does not
depend on the machine crosspin runs on. A :class:`Matrix` is the list of
environments one lock covers.

Platforms live in ``_platforms``, one environment in ``_environment``, the
matrix and its descriptions in ``_matrix``. This package imports nothing of
crosspin but :mod:`crosspin.errors`.
"""

from __future__ import annotations

from crosspin.environments._environment import Environment
from crosspin.environments._matrix import (
    DEFAULT_PYTHONS,
    Matrix,
    describe_environments,
    describe_in_order,
    python_first,
)
from crosspin.environments._platforms import DEFAULT_PLATFORMS, PLATFORMS, Platform

__all__ = [
    "DEFAULT_PLATFORMS",
    "DEFAULT_PYTHONS",
    "PLATFORMS",
    "Environment",
    "Matrix",
    "Platform",
    "describe_environments",
    "describe_in_order",
    "python_first",
]
