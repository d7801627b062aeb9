"""The order several ``.in`` files compile in: a file after the inputs whose outputs it names."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from crosspin.reqfile import parse_text, read_text_file

__all__ = ["compile_order", "default_output"]


def default_output(sources: Sequence[str]) -> str:
    """Where compile writes without ``-o``: ``x.in`` -> ``x.txt``, else ``requirements.txt``."""
    if len(sources) == 1 and sources[0] != "-":
        src = Path(sources[0])
        if src.suffix == ".in":
            return str(src.with_suffix(".txt"))
        return str(src.parent / "requirements.txt") if src.parent != Path() else "requirements.txt"
    return "requirements.txt"


def compile_order(sources: Sequence[str]) -> list[str]:
    """Inputs ordered so that a file comes after the inputs whose outputs it names.

    ``dev.in`` saying ``-c main.txt`` (or ``-r main.txt``, spelled any way
    pip reads it: ``-cmain.txt``, ``-c "main.txt"``, ``--constraint=...``)
    compiles after ``main.in``; otherwise the order given is kept. A cycle keeps the order
    of the files in it as given.
    """
    outputs = {Path(default_output([s])).resolve(): s for s in sources}
    needs: dict[str, list[str]] = {s: [] for s in sources}
    for source in sources:
        try:
            text = read_text_file(Path(source))
        except (OSError, ValueError):  # UnicodeDecodeError and FileRefused are ValueErrors
            continue  # read_inputs reports it properly later
        lines, _ = parse_text(text, source)  # a bad line is reported by read_inputs
        for line in lines:
            for target in (*line.values("--requirement"), *line.values("--constraint")):
                dep = outputs.get((Path(source).parent / target).resolve())
                if dep is not None and dep != source:
                    needs[source].append(dep)
    ordered: list[str] = []
    visiting: set[str] = set()

    def visit(source: str) -> None:
        if source in ordered or source in visiting:
            return
        visiting.add(source)
        for dep in needs[source]:
            visit(dep)
        visiting.discard(source)
        ordered.append(source)

    for source in sources:
        visit(source)
    return ordered
