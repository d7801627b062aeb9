"""Render a captured terminal (``tmux capture-pane -e -p``) to PNG for the docs.

Usage: python tools/ansi_to_png.py CAPTURE.ans OUT.png [TITLE]. The ANSI text
goes through rich's recording console to SVG, then ``rsvg-convert``
(Debian: librsvg2-bin) turns the SVG into a PNG. rsvg drops the leading
blanks of a ``<text>`` run (the two-space indent of ``why`` chains vanished),
so leading blanks are turned into an ``x`` offset first.
"""

from __future__ import annotations

import re
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
    svg.write_text(_indent_by_offset(svg.read_text(encoding="utf-8")), encoding="utf-8")
    subprocess.run(["rsvg-convert", "-o", str(target), str(svg)], check=True)
    svg.unlink()


_BLANK = "&#160;"
_RUN = re.compile(r'<text ([^>]*?)x="([0-9.]+)"([^>]*?)textLength="([0-9.]+)"([^>]*)>'
                  r'((?:&#160;)+)')


def _indent_by_offset(svg: str) -> str:
    """Move each text run's leading blanks into its ``x`` (and ``textLength``)."""

    def shift(m: re.Match[str]) -> str:
        blanks = len(m.group(6)) // len(_BLANK)
        total = len(_BLANK_TEXT.sub("x", m.string[m.end(5) + 1:m.string.index("</text>", m.end())]))
        width = float(m.group(4)) / total if total else 0.0
        x = float(m.group(2)) + blanks * width
        length = float(m.group(4)) - blanks * width
        return (f'<text {m.group(1)}x="{x:g}"{m.group(3)}textLength="{length:g}"{m.group(5)}>')

    return _RUN.sub(shift, svg)


_BLANK_TEXT = re.compile(r"&[#a-z0-9]+;")


if __name__ == "__main__":
    main()
