"""``--compile-bytecode``: compile the installed modules, in parallel, with the target's Python.

Bytecode is the target interpreter's business (its magic number, its
``__pycache__`` names), so the target compiles: its ``compileall`` runs
over the folders and modules the sync installed, with one worker per core
(``-j 0``). Files already compiled are skipped; a file that does not
compile (a Python 2 leftover in a package) is left without bytecode, as
pip leaves it. The ``__pycache__`` folders are the environment's own,
never shared with the unpacked-wheel cache (folders are made, not linked).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable

from crosspin.errors import SyncError
from crosspin.sync._place import Placement

__all__ = ["compile_bytecode"]


def compile_bytecode(python: str, placements: Iterable[Placement], *, timeout: float) -> None:
    """Compile what ``placements`` installed below purelib/platlib with ``python``."""
    roots: set[str] = set()
    for placement in placements:
        root = placement.root
        for f, dest in placement.files:
            if not dest.startswith(root + os.sep):
                continue
            top = dest[len(root) + 1:].split(os.sep, 1)[0]
            if top.endswith(".dist-info"):
                continue
            if os.sep in dest[len(root) + 1:] or f.path.endswith(".py"):
                roots.add(os.path.join(root, top))
    if not roots:
        return
    try:
        subprocess.run([python, "-m", "compileall", "-q", "-q", "-j", "0", *sorted(roots)],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise SyncError(f"compiling bytecode took longer than {timeout:g}s",
                        hint="the packages are installed; run sync again without "
                             "--compile-bytecode, or let Python compile on import") from None
    except OSError as exc:
        raise SyncError(f"cannot run {python} to compile bytecode: {exc.strerror or exc}"
                        ) from None
