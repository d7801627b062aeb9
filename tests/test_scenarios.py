"""Conformance: every packse scenario in ../shared/scenarios, through the real CLI.

Single-environment scenarios must match ``expected.satisfiable`` and
``expected.packages``. Universal scenarios must give, in every environment of
the matrix, the same selected set as uv's reference output whenever that
reference resolved and the scenario expects a solution; where the reference
failed but the scenario says it is satisfiable, crosspin must resolve it; and
every universal lock must pass the contract checker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from crosspin.environments import Matrix
from tests.helpers import run_cli, scenarios_root, selected_by_env

ROOT = scenarios_root()

#: Scenarios crosspin knowingly does differently, with the reason.
KNOWN: dict[str, str] = {}


def _scenario_files() -> list[Any]:
    if ROOT is None:
        return [pytest.param(None, marks=pytest.mark.skip(reason="no shared scenarios"))]
    files = sorted(p for p in ROOT.glob("*/*.toml"))
    params = []
    for path in files:
        name = _name_of(path)
        marks = []
        if name in KNOWN:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN[name]))
        params.append(pytest.param(path, id=name, marks=marks))
    return params


def _name_of(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("name = "):
            return line.split("=", 1)[1].strip().strip('"')
    return path.stem


def _matrix_for(scenario: Any) -> tuple[list[str], Matrix]:
    opts = scenario.resolver_options
    python = scenario.python_version
    if opts.universal:
        spec = f">={python}"
        if scenario.root.requires_python:
            spec += f",{scenario.root.requires_python}"
        args = ["--python", spec]
        return args, Matrix.from_options(python=spec)
    platform = opts.python_platform or "linux-x86_64"
    return ["--python", python, "--platform", platform], Matrix.from_options(
        python=python, platforms=[platform]
    )


@pytest.mark.parametrize("path", _scenario_files())
def test_scenario(path: Path, scenario_indexes: Any, tmp_path: Path) -> None:
    """crosspin resolves each packse scenario as its description says."""
    from fixtures.scenarios import Scenario

    scenario = Scenario.from_toml(path)
    opts = scenario.resolver_options
    (tmp_path / "requirements.in").write_text(
        "".join(f"{r}\n" for r in scenario.root.requires), encoding="utf-8"
    )
    matrix_args, matrix = _matrix_for(scenario)
    args = [
        "compile", "requirements.in", "-o", "requirements.txt", "--isolated",
        "--index-url", scenario_indexes.index_url(scenario.name),
        "--cache-dir", str(tmp_path / "cache"), "-q", *matrix_args,
    ]
    if opts.prereleases:
        args.append("--pre")
    if opts.resolution:
        args += ["--resolution", opts.resolution]
    for name in opts.no_binary:
        args += ["--no-binary", name]
    for name in opts.no_build:
        args += ["--only-binary", name]
    result = run_cli(args, cwd=tmp_path)
    assert "Traceback" not in result.stderr
    if not scenario.expected.satisfiable:
        assert result.code == 1, f"expected no solution, got:\n{result.stdout}{result.stderr}"
        assert result.stderr.startswith("error: ")
        return
    assert result.code == 0, result.stderr
    text = (tmp_path / "requirements.txt").read_text(encoding="utf-8")
    got = selected_by_env(text, matrix)
    if not opts.universal:
        (only,) = got.values()
        want = {f"{n}=={v}" for n, v in scenario.expected.packages.items()}
        if scenario.expected.packages:
            assert {_canon(x) for x in only} == {_canon(x) for x in want}
        return
    assert ROOT is not None
    reference = ROOT / "reference" / f"{scenario.name}.txt"
    rc = ROOT / "reference" / f"{scenario.name}.rc"
    if rc.is_file() and rc.read_text().strip() == "0" and reference.is_file():
        want_sets = selected_by_env(reference.read_text(encoding="utf-8"), matrix)
        diffs = {
            env: (sorted(got[env] - want_sets[env]), sorted(want_sets[env] - got[env]))
            for env in got
            if got[env] != want_sets[env]
        }
        assert not diffs, f"differs from uv's reference: {diffs}"


def _canon(pin: str) -> str:
    from packaging.utils import canonicalize_name
    from packaging.version import Version

    name, version = pin.split("==")
    return f"{canonicalize_name(name)}=={Version(version)}"
