"""The compile pipeline and the lock checks: the only package that joins the stages.

``compile``: inputs (:mod:`crosspin.inputs`) and settings
(:mod:`crosspin.settings`) -> a parsed :class:`CompileRequest` -> forks over
the matrix (:mod:`crosspin.resolver`) -> one merged lock
(:mod:`crosspin.lock`) -> its text (:mod:`crosspin.lockfiles`). The last
lock is reused when nothing it was computed from changed (``_memo``).
``check``: a lock against its recorded inputs and the correctness contract.
The CLI parses options, calls these and prints what they return.
"""

from __future__ import annotations

from crosspin.pipeline._check import (
    ParseCommand,
    check_compile_inputs,
    check_consistency,
    check_stale,
)
from crosspin.pipeline._compile import Client, CompileRequest, compile_lock
from crosspin.pipeline._order import compile_order, default_output
from crosspin.pipeline._run import (
    ClientPool,
    CompileResult,
    Reporter,
    file_sha256s,
    run_compile,
)
from crosspin.pipeline._why import not_newest

__all__ = [
    "Client",
    "ClientPool",
    "CompileRequest",
    "CompileResult",
    "ParseCommand",
    "Reporter",
    "check_compile_inputs",
    "check_consistency",
    "check_stale",
    "compile_lock",
    "compile_order",
    "default_output",
    "file_sha256s",
    "not_newest",
    "run_compile",
]
