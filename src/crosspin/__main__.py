"""``python -m crosspin``."""

from __future__ import annotations

from crosspin.cli import main

if __name__ == "__main__":
    main()
