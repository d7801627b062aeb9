"""The merged result of a compile: the one contract for lockfile formats and sync.

A :class:`Lock` is a matrix plus the pins every fork chose, each pin a
:class:`LockedPackage` carrying the marker that selects exactly the
environments whose fork chose it. :func:`merge_forks` builds one from the
resolver's forks; :func:`check_lock` checks one against the correctness
contract (closed and installable in every environment); the lockfile
formats render and read it; ``sync`` installs the subset it selects;
:func:`environment_classes` and :func:`chains_to` answer ``envs`` and ``why``.
"""

from __future__ import annotations

from crosspin.lock._checker import CheckProblem, check_lock, selected_sets
from crosspin.lock._explain import MAX_CHAINS, EnvironmentClass, chains_to, environment_classes
from crosspin.lock._merge import Fork, ForkPin, merge_forks
from crosspin.lock._model import UNSAFE_PACKAGES, Lock, LockedPackage, Sources

__all__ = [
    "MAX_CHAINS",
    "UNSAFE_PACKAGES",
    "CheckProblem",
    "EnvironmentClass",
    "Fork",
    "ForkPin",
    "Lock",
    "LockedPackage",
    "Sources",
    "chains_to",
    "check_lock",
    "environment_classes",
    "merge_forks",
    "selected_sets",
]
