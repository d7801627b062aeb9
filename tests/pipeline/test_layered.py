"""Layered locks: main.in -> main.txt, then dev.in with ``-c main.txt`` -> dev.txt."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import compile_in, parse_pins


def _pins(path: Path) -> dict[str, str]:
    return {n: v for n, v, _ in parse_pins(path.read_text(encoding="utf-8"))}


def test_shared_pins_stay_identical(index: Any, tmp_path: Path) -> None:
    """dev.txt pins what main.txt pins for every shared package, and says why."""
    (tmp_path / "main.in").write_text("web<2\n", encoding="utf-8")
    (tmp_path / "dev.in").write_text("-c main.txt\ntool\nweb\n", encoding="utf-8")
    assert compile_in(index, tmp_path, "main.in").code == 0
    main = _pins(tmp_path / "main.txt")
    assert main == {"web": "1.0.0", "util": "2.1.0"}
    result = compile_in(index, tmp_path, "dev.in")
    assert result.code == 0, result.stderr
    dev = _pins(tmp_path / "dev.txt")
    assert {n: dev[n] for n in main} == main
    assert dev["tool"] == "1.0.0"


def test_shared_pins_say_via_the_constraint_file(index: Any, tmp_path: Path) -> None:
    """Like pip-compile, dev.txt adds '-c main.txt' to the via of packages main.txt pins."""
    (tmp_path / "main.in").write_text("web<2\n", encoding="utf-8")
    (tmp_path / "dev.in").write_text("-c main.txt\ntool\nweb\n", encoding="utf-8")
    assert compile_in(index, tmp_path, "main.in").code == 0
    result = compile_in(index, tmp_path, "dev.in")
    assert result.code == 0, result.stderr
    text = (tmp_path / "dev.txt").read_text(encoding="utf-8")
    blocks = _blocks(text)
    assert "#   -c main.txt" in blocks["util"] and "#   tool" in blocks["util"]
    assert "#   -c main.txt" in blocks["web"] and "#   -r dev.in" in blocks["web"]
    assert "-c main.txt" not in blocks["tool"]
    main = (tmp_path / "main.txt").read_text(encoding="utf-8")
    assert "-c " not in main


def _blocks(text: str) -> dict[str, str]:
    """Pin name -> its line plus the '# via' comment lines under it."""
    out: dict[str, str] = {}
    name = ""
    for line in text.splitlines():
        if line and not line.startswith(("#", " ", "-")):
            name = line.split("==")[0].split(" ")[0]
            out[name] = line
        elif name and line.startswith("    #"):
            out[name] += "\n" + line
    return out


def test_conflict_between_layers_names_both_chains(index: Any, tmp_path: Path) -> None:
    """A pin in main.txt that dev.in cannot live with: both chains, exit 1, nothing written."""
    (tmp_path / "main.in").write_text("util<2\n", encoding="utf-8")
    (tmp_path / "dev.in").write_text("-c main.txt\ntool\n", encoding="utf-8")
    assert compile_in(index, tmp_path, "main.in").code == 0
    result = compile_in(index, tmp_path, "dev.in")
    assert result.code == 1
    assert "-c main.txt -> util==1.0.0" in result.stderr
    # The root's origin, then each pinned parent, then the failing requirement.
    assert "-r dev.in -> tool==1.0.0 -> util>=2" in result.stderr
    assert "-r dev.in -> tool -> tool==1.0.0" not in result.stderr
    assert not (tmp_path / "dev.txt").exists()


def test_several_inputs_compile_in_dependency_order(index: Any, tmp_path: Path) -> None:
    """`compile dev.in main.in`: main.txt first (dev.in names it), each to its sibling."""
    (tmp_path / "main.in").write_text("web<2\n", encoding="utf-8")
    (tmp_path / "dev.in").write_text("-c main.txt\ntool\nweb\n", encoding="utf-8")
    result = compile_in(index, tmp_path, "dev.in", "main.in")
    assert result.code == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith(("main", "dev"))]
    assert [line.split(":")[0] for line in lines] == ["main.txt", "dev.txt"]
    main = _pins(tmp_path / "main.txt")
    dev = _pins(tmp_path / "dev.txt")
    assert {n: dev[n] for n in main} == main
    assert "--output-file=dev.txt dev.in" in (tmp_path / "dev.txt").read_text()


def test_compile_order_follows_constraint_files(tmp_path: Path) -> None:
    """Order: inputs whose outputs are named by -c/-r come first; others keep their order."""
    from crosspin.pipeline import compile_order
    from tests.helpers import chdir

    (tmp_path / "main.in").write_text("a\n", encoding="utf-8")
    (tmp_path / "docs.in").write_text("-c dev.txt\nb\n", encoding="utf-8")
    (tmp_path / "dev.in").write_text("-r main.txt\nc\n", encoding="utf-8")
    (tmp_path / "other.in").write_text("d\n", encoding="utf-8")
    with chdir(tmp_path):
        assert compile_order(["docs.in", "other.in", "dev.in", "main.in"]) == [
            "main.in", "dev.in", "docs.in", "other.in"]


@pytest.mark.parametrize("line", [
    "-cmain.txt",
    '-c "main.txt"',
    "--constraint=main.txt",
    "-r main.txt  # the shared pins",
    "-c \\\n    main.txt",
    "--constr main.txt",
])
def test_compile_order_reads_every_spelling_pip_reads(tmp_path: Path, line: str) -> None:
    """dev.in compiles after main.in however its -c/-r line is spelled (pip's tokenizer)."""
    from crosspin.pipeline import compile_order
    from tests.helpers import chdir

    (tmp_path / "main.in").write_text("a\n", encoding="utf-8")
    (tmp_path / "dev.in").write_text(f"{line}\nc\n", encoding="utf-8")
    with chdir(tmp_path):
        assert compile_order(["dev.in", "main.in"]) == ["main.in", "dev.in"]
