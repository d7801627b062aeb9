"""The ``crosspin`` command (console script and ``python -m crosspin``).

A no-op ``crosspin sync`` is answered from its stamp (:mod:`crosspin._noop`)
before click and the rest of crosspin are imported; everything else goes to
:func:`crosspin.cli.main` unchanged.
"""

from __future__ import annotations

import sys

from crosspin import _noop


def main() -> None:
    """Run ``crosspin`` with ``sys.argv``."""
    argv = sys.argv[1:]
    if _noop.answer(argv):
        sys.exit(0)
    # lazy: click, attrs and packaging are what a stamped no-op sync does without.
    from crosspin.cli import main as run

    run()  # reads sys.argv itself (click expands wildcards there on Windows)


if __name__ == "__main__":
    main()
