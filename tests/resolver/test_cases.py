"""Resolver behaviour as data: every ``cases/*.toml`` through the real CLI.

A case is a small index (the packse ``[packages]`` table; a version without
``requires_python`` gets ``>=3.8``), the direct requirements, the compile
arguments and what the user must see: the lock's pin lines (markers
included, exactly as written), or the error (a regular expression searched
in stderr), plus lines that ``-v`` prints (regular expressions, each
matching a whole line).
Every case runs with the replay fast path on and off (the two must agree),
and a lock is checked with ``crosspin check``, compiled again with the lock
present (byte-identical) and compared with a fresh compile (identical).
The format is described in ``cases/README.md``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import failing_sdist, run_cli

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on old Pythons only
    import tomli as tomllib

CASES = Path(__file__).parent / "cases"

_KEYS = {"name", "description", "requires", "args", "packages", "broken_sdists", "expected",
         "xfail"}
_EXPECTED = {"lines", "error", "verbose", "rerun"}


def _cases() -> list[Any]:
    params = []
    for path in sorted(CASES.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        marks = []
        if "xfail" in data:
            marks.append(pytest.mark.xfail(strict=True, reason=data["xfail"]))
        for replay in ("1", "0"):
            params.append(pytest.param(data, replay, id=f"{data['name']}-replay{replay}",
                                       marks=marks))
    return params


def _packages(table: Mapping[str, Any]) -> dict[str, Any]:
    """The ``[packages]`` table with ``requires_python = ">=3.8"`` where a version sets none."""
    out: dict[str, Any] = {}
    for name, spec in table.items():
        versions = spec.get("versions", spec)
        out[name] = {v: {"requires_python": ">=3.8", **body} for v, body in versions.items()}
    return out


def _pins(text: str) -> list[str]:
    """The pin lines of a requirements lock, without hashes and comments."""
    logical = text.replace("\\\n", " ")
    return [
        line.split(" --hash", 1)[0].split("  #", 1)[0].strip()
        for line in logical.splitlines()
        if line.strip() and not line.startswith(("#", " ", "-"))
    ]


@pytest.mark.parametrize(("case", "replay"), _cases())
def test_case(case: dict[str, Any], replay: str, make_index: Any, tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> None:
    """Each case's lock (or error) is what its file says, with and without the fast path."""
    assert set(case) <= _KEYS, set(case) - _KEYS
    expected = case["expected"]
    assert set(expected) <= _EXPECTED, set(expected) - _EXPECTED
    monkeypatch.setenv("CROSSPIN_REPLAY", replay)
    server = make_index.serve(make_index.build(_packages(case["packages"])))
    work = tmp_path / "work"
    work.mkdir()
    (work / "requirements.in").write_text("".join(f"{r}\n" for r in case["requires"]),
                                          encoding="utf-8")
    args = ["compile", "requirements.in", "--isolated", "--index-url", server.index_url,
            "--cache-dir", str(tmp_path / "cache"), "-v", *case.get("args", [])]
    if case.get("broken_sdists"):
        links = tmp_path / "links"
        for pin in case["broken_sdists"]:
            name, version = pin.split("==")
            failing_sdist(links, name, version)
        args += ["--find-links", str(links)]
    result = run_cli(args, cwd=work)
    lines = result.stderr.splitlines()
    # crosspin's own traceback starts a line; -v shows a backend's output indented.
    assert not any(line.startswith("Traceback") for line in lines), result.stderr
    for pattern in expected.get("verbose", []):
        assert any(re.fullmatch(pattern, line) for line in lines), result.stderr
    if "error" in expected:
        assert result.code == 1, result.stderr
        first = result.stderr.splitlines()[-2 if "hint:" in result.stderr else -1]
        assert re.search(expected["error"], result.stderr), result.stderr
        assert first.startswith(("error:", "hint:", "  ")), result.stderr
        return
    assert result.code == 0, result.stderr
    lock = (work / "requirements.txt").read_text(encoding="utf-8")
    assert _pins(lock) == expected["lines"]
    checked = run_cli(["check", "--cache-dir", str(tmp_path / "cache")], cwd=work)
    assert checked.code == 0, checked.stderr
    if not expected.get("rerun", True):
        return
    again = run_cli(args, cwd=work)
    assert again.code == 0, again.stderr
    assert (work / "requirements.txt").read_text(encoding="utf-8") == lock, "changed on rerun"
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "requirements.in").write_bytes((work / "requirements.in").read_bytes())
    assert run_cli(args, cwd=fresh).code == 0
    assert (fresh / "requirements.txt").read_text(encoding="utf-8") == lock, "fresh differs"


def test_cases_have_unique_names() -> None:
    """Case names are ids: unique, and the same as the file's stem."""
    names = []
    for path in CASES.glob("*.toml"):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        assert data["name"] == path.stem
        names.append(data["name"])
    assert len(names) == len(set(names)) > 0
