"""Resolve direct requirements for every environment of a matrix.

Each environment takes the newest releases that install there, preferring
only what the existing lock pins for it (DESIGN.md items 4 and 5). An
environment that answers every question an earlier fork asked (markers,
Requires-Python, wheel tags, existing pins) the same way reuses that fork's
result instead of resolving again; a minor whose answers change between
patch releases is split there (``python_full_version`` markers).

The scheduler is ``_matrix`` (patch splits in ``_patches``); one fork is
``_fork``; one environment's resolvelib provider is
``_provider`` (it asks every question through ``_oracle``'s view of the
environment); ``_replay`` builds a fork straight from preferences where
that provably equals resolvelib's answer; ``_lookahead`` prefetches likely
picks; ``_held`` says why a pin is below the newest release (the
held-back report); ``_model`` holds the values. Only this package imports resolvelib.
"""

from __future__ import annotations

from resolvelib import __version__ as RESOLVELIB_VERSION

from crosspin.resolver._fork import resolve_environment
from crosspin.resolver._matrix import resolve_matrix
from crosspin.resolver._model import (
    Candidate,
    ForkResult,
    HeldBack,
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
    "HeldBack",
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
