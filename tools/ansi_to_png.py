"""Render a captured terminal (``tmux capture-pane -e -p``) to PNG for the docs.

Usage: python tools/ansi_to_png.py CAPTURE.ans OUT.png [TITLE]. The ANSI text
goes through rich's recording console to SVG, then ``rsvg-convert``
(Debian: librsvg2-bin) turns the SVG into a PNG.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main() -> None:
    """Convert argv[1] (ANSI text) to argv[2] (PNG)."""
    from rich.console import Console
    from rich.text import Text

    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    title = sys.argv[3] if len(sys.argv) > 3 else "crosspin"
    lines = source.read_text(encoding="utf-8").rstrip("\n").splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    width = max(80, max((len(Text.from_ansi(x).plain) for x in lines), default=80) + 2)
    console = Console(record=True, width=width, force_terminal=True, color_system="256",
                      file=open("/dev/null", "w", encoding="utf-8"))  # noqa: SIM115
    for line in lines:
        console.print(Text.from_ansi(line), soft_wrap=True)
    svg = target.with_suffix(".svg")
    console.save_svg(str(svg), title=title)
    subprocess.run(["rsvg-convert", "-o", str(target), str(svg)], check=True)
    svg.unlink()


if __name__ == "__main__":
    main()
