"""Serve a small demo index on 127.0.0.1 for screenshots (slowed so progress is visible).

Usage: python tools/demo_index.py OUT_DIR [DELAY_SECONDS]; prints the index URL,
serves until killed. Used to take docs/img/*.png in a real terminal (tmux).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fixtures.builder import build_index
from fixtures.server import IndexServer
from tests.helpers import UNIVERSAL_PROJECT as PACKAGES

EXTRA: dict[str, Any] = {
    "web": {"1.0.0": {"requires_python": ">=3.8",
                      "requires": ["app", "click", "anyio"]}},
    "click": {"8.1.7": {"requires_python": ">=3.8",
                        "requires": ["colorama ; platform_system == 'Windows'"]}},
    "anyio": {"4.5.0": {"requires_python": ">=3.8",
                        "requires": ["exceptiongroup ; python_version < '3.11'", "idna"]}},
    "exceptiongroup": {"1.2.2": {"requires_python": ">=3.7"}},
    "idna": {"3.10": {"requires_python": ">=3.6"}},
}


def main() -> None:
    """Build the demo index under argv[1] and serve it until interrupted."""
    out = Path(sys.argv[1])
    delay = float(sys.argv[2]) if len(sys.argv) > 2 else 0.05
    built = build_index({**PACKAGES, **EXTRA}, out)

    def slow(request: Any, response: Any) -> None:
        time.sleep(delay)
        return

    server = IndexServer(built.root, before_response=slow).start()
    print(server.index_url, flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
