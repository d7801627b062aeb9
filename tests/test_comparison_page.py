"""docs/comparison.md quotes measured facts: its tables agree with the files they cite.

The speed table is benchmarks/results.json's medians (the [B] run); the
correctness table is docs/conformance.md's counts (which
tests/test_scenarios.py recomputes from the scenarios). A new benchmark run
or a changed count makes this fail until the page is updated.
"""

from __future__ import annotations

import json
import re

from tests.helpers import REPO

PAGE = (REPO / "docs" / "comparison.md").read_text(encoding="utf-8")

#: Page column -> results.json command.
COLUMNS = {
    "crosspin": "crosspin universal (30 envs)",
    "crosspin, resolving": "crosspin universal, resolving",
    "uv 0.13.8": "uv pip compile --universal",
    "nab 0.0.23": "nab lock (universal)",
    "pip-compile (1 env)": "pip-compile (one env)",
}


def _table(heading: str) -> list[list[str]]:
    """The first table after ``heading``: its header row, then its body rows."""
    lines = PAGE.split(heading, 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    return [rows[0], *rows[2:]]


def test_speed_table_is_the_benchmark_run() -> None:
    """Every number of the universal-lock speed table is results.json's median."""
    results = json.loads((REPO / "benchmarks" / "results.json").read_text(encoding="utf-8"))
    assert results["date"] in PAGE
    median = {(r["inputs"], r["case"], r["command"]): r["median_s"] for r in results["rows"]}
    header, *rows = _table("## Speed of a universal lock")
    assert len(rows) == 9
    for row in rows:
        inputs = row[0].split()[0]
        case = {"cold cache": "cold", "warm cache": "warm"}.get(row[1], row[1])
        for column, cell in zip(header[2:], row[2:]):
            if cell == "—":
                assert (inputs, case, COLUMNS[column]) not in median
                continue
            measured = median[(inputs, case, COLUMNS[column])]
            shown = cell.removesuffix(" s")
            decimals = len(shown.partition(".")[2])
            assert abs(float(shown) - measured) <= 0.5 * 10 ** -decimals + 1e-9, (row, column)


def test_correctness_counts_are_the_conformance_page() -> None:
    """The scenario counts are docs/conformance.md's."""
    conformance = (REPO / "docs" / "conformance.md").read_text(encoding="utf-8")
    counts = [int(n) for n in re.findall(r"\| \*\*(\d+)\*\*", conformance)]
    total = int(re.search(r"^\| total \| (\d+) \|$", conformance, re.M).group(1))  # type: ignore[union-attr]
    _, *rows = _table("## Correctness")
    assert [int(row[1]) for row in rows] == counts
    assert f"{total} packse" in PAGE and sum(counts) == total


def test_every_tool_the_guide_names_has_a_place() -> None:
    """uv and nab are measured; PDM, Poetry and pex are named as not measured."""
    assert "| nab" in PAGE or "nab 0.0.23" in PAGE
    assert "PDM, Poetry and pex were not run here" in PAGE
    assert "order of magnitude" not in PAGE
