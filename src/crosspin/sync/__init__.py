"""Install exactly the subset of a lock that one interpreter needs.

``sync`` asks the target interpreter for its marker environment, wheel tags
and install scheme, refuses it when it is outside the lock's matrix, picks
the pins whose markers hold there, and diffs them with what is installed.
Every file is downloaded and checked against the lock's hashes, every
wheel verified and checked against the lock, every removal and every
file's place checked before anything is removed or installed, so a
failure of any kind leaves the environment as it was. Two syncs of one
environment never overlap. crosspin's own environment keeps crosspin and
what it runs on; an externally managed (PEP 668) interpreter is refused
unless asked; a missing virtual environment can be created. ``export`` writes one environment's
subset as a flat requirements file (for ``pip install --require-hashes``).

Locks are read by :mod:`crosspin.lockfiles` (``read_lock``, ``merge_locks``).
Only this package imports ``installer``.
"""

from __future__ import annotations

from crosspin.sync._export import export_requirements
from crosspin.sync._fetch import FileSource, choose_file
from crosspin.sync._installed import InstalledDist, scan_installed
from crosspin.sync._plan import PROTECTED, SyncPlan, make_plan
from crosspin.sync._protect import create_venv, venv_python
from crosspin.sync._run import (
    InstallOptions,
    Prepared,
    Reporter,
    SyncRequest,
    SyncResult,
    apply_plan,
    plan_for,
    prepare,
    session,
)
from crosspin.sync._target import Target, inspect_target
from crosspin.sync._write import LINK_MODES, LinkMode

__all__ = [
    "LINK_MODES",
    "PROTECTED",
    "FileSource",
    "InstallOptions",
    "InstalledDist",
    "LinkMode",
    "Prepared",
    "Reporter",
    "SyncPlan",
    "SyncRequest",
    "SyncResult",
    "Target",
    "apply_plan",
    "choose_file",
    "create_venv",
    "export_requirements",
    "inspect_target",
    "make_plan",
    "plan_for",
    "prepare",
    "scan_installed",
    "session",
    "venv_python",
]
