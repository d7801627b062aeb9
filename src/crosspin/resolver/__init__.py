"""Resolve direct requirements for every environment of a matrix.

Forks are solved from the newest Python down; each prefers the versions
earlier forks chose (DESIGN.md item 4), so versions split only where a
constraint or Requires-Python forces it. An environment that answers every
question an earlier fork asked (markers, Requires-Python, wheel tags) the
same way reuses that fork's result instead of resolving again.

The scheduler is ``_matrix``; one environment's resolvelib provider is
``_provider`` (it asks every question through ``_oracle``'s view of the
environment); ``_replay`` builds a fork straight from preferences where
that provably equals resolvelib's answer; ``_lookahead`` prefetches likely
picks; ``_model`` holds the values. Only this package imports resolvelib.
"""

from __future__ import annotations

from resolvelib import __version__ as RESOLVELIB_VERSION

from crosspin.resolver._matrix import resolve_environment, resolve_matrix
from crosspin.resolver._model import (
    Candidate,
    ForkResult,
    Pin,
    PinsFor,
    Rejection,
    Resolution,
    ResolveOptions,
    ResolveRequest,
    Root,
)
from crosspin.resolver._provider import Finder, Metadata

__all__ = [
    "RESOLVELIB_VERSION",
    "Candidate",
    "Finder",
    "ForkResult",
    "Metadata",
    "Pin",
    "PinsFor",
    "Rejection",
    "Resolution",
    "ResolveOptions",
    "ResolveRequest",
    "Root",
    "resolve_environment",
    "resolve_matrix",
]
