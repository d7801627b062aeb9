"""Conformance: every packse scenario in ../shared/scenarios, through the real CLI.

Single-environment scenarios must match ``expected.satisfiable`` and
``expected.packages``. Universal scenarios must give, in every environment of
the matrix, the same selected set as uv's reference output whenever that
reference resolved and the scenario expects a solution; where the reference
failed but the scenario says it is satisfiable, crosspin must resolve it; and
every universal lock must pass the contract checker.

Some differences are deliberate (DESIGN.md, "Correctness contract" items 1
and 4): crosspin resolves one fork per environment of a concrete matrix,
newest Python first, and refuses to lock a package that some environment of
the matrix cannot install. Like pip, it considers a prerelease only where
pip's rule allows one. Those scenarios are listed in :data:`DIVERGES`,
:data:`NOT_INSTALLABLE` and :data:`NO_SOLUTION` with the reason, and tested
for crosspin's own answer instead. docs/conformance.md summarises the counts.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from packaging.markers import Marker

from crosspin.environments import Matrix
from tests.helpers import (
    REPO,
    matrix_for,
    run_cli,
    scenario_compile_args,
    scenarios_root,
    selected_by_env,
)

ROOT = scenarios_root()

#: Real failures crosspin does not fix yet, with the reason (strict xfail).
KNOWN: dict[str, str] = {}

_NEWEST = "crosspin takes each environment's newest allowed version where uv prefers fewer versions"
_PER_ENV = (
    "crosspin resolves each environment on its own, so a conflict between"
    " environments is no conflict (DESIGN.md: no false 'unsatisfiable'"
    " across non-sibling transitive dependencies)"
)

#: Scenario -> why crosspin's answer differs from uv's reference or from
#: ``expected.satisfiable``. The lock must still pass the contract checker
#: and match :data:`OWN_ANSWER` where the scenario names the right answer.
DIVERGES: dict[str, str] = {
    "conflict-in-fork": (
        "the conflict lives only on sys_platform 'os1'/'os2', outside the matrix:"
        " every matrix environment resolves to nothing"
    ),
    "fork-allows-non-conflicting-non-overlapping-dependencies": (
        f"{_NEWEST}; the description itself says the a>=1 fork is free to choose a 2.0.0"
    ),
    "fork-marker-selection": f"{_NEWEST}: a 0.2.0 wherever b>=2 is allowed",
    "fork-marker-track": f"{_NEWEST}: a 4.3.0 wherever b>=2.8 is allowed",
    "fork-non-local-fork-marker-direct": _PER_ENV,
    "fork-non-local-fork-marker-transitive": _PER_ENV,
    "lowest-direct-fork-max-python": (
        "forks run newest Python first; forkdep is direct (lowest) only below 3.12,"
        " so 3.12+ keep their newest 3.1 and 3.11 gets the lowest 2.8 (expected.packages)"
    ),
    "preferences-dependent-forking": (
        f"{_NEWEST}: foo is only pinned to 1.0.0 on linux; every other platform"
        " takes its own newest foo 2.0.0 (DESIGN.md item 4)"
    ),
    "preferences-dependent-forking-bistable": (
        f"{_NEWEST}: per-environment resolution has no preference-dependent fork"
        " points, cleaver 2.0.0 is installable everywhere"
    ),
    "preferences-dependent-forking-conflicting": (
        "unsatisfiable only for a resolver that does not fork; per environment"
        " (and in uv's own reference) it resolves"
    ),
    "preferences-dependent-forking-tristable": (
        f"{_NEWEST}: per-environment resolution has no preference-dependent fork"
        " points, cleaver 2.0.0 is installable everywhere"
    ),
    "prerelease-base-marker-stable-preference-explicit-first": (
        "the explanation wants the stable c 1.0.0 on every platform; uv picks 2.0.0a1 on linux"
    ),
    "prerelease-base-marker-stable-preference-plain-first": (
        "the explanation wants the stable c 1.0.0 on every platform; uv picks 2.0.0a1 on linux"
    ),
    "prerelease-marker-equivalent-stable-preference": (
        "the explanation wants the stable c 1.0.0 on linux; uv picks 2.0.0a1"
    ),
    "wrong-backtracking-indirect": (
        "the description says backtracking to b-inner 1.0.0 is wrong; uv does it,"
        " crosspin gives a 1.0.0 + b-inner 2.0.9"
    ),
}

#: Scenario -> {marker over the matrix ("" for all) -> exact selected set}:
#: the answer the scenario's description / expected names, in crosspin's terms.
OWN_ANSWER: dict[str, dict[str, set[str]]] = {
    "conflict-in-fork": {"": set()},
    "fork-allows-non-conflicting-non-overlapping-dependencies": {
        "sys_platform == 'linux'": {"a==2.0.0"},
        "sys_platform == 'darwin'": {"a==1.0.0"},
        "sys_platform == 'win32'": set(),
    },
    "fork-marker-selection": {
        "sys_platform == 'darwin'": {"a==0.1.0", "b==1.0.0"},
        "sys_platform != 'darwin'": {"a==0.2.0", "b==2.0.0"},
    },
    "fork-marker-track": {
        "sys_platform == 'darwin'": {"a==1.3.1", "b==2.7"},
        "sys_platform != 'darwin'": {"a==4.3.0", "b==2.8"},
    },
    "fork-non-local-fork-marker-direct": {
        "sys_platform == 'linux'": {"a==1.0.0", "c==1.0.0"},
        "sys_platform == 'darwin'": {"b==1.0.0", "c==2.0.0"},
        "sys_platform == 'win32'": set(),
    },
    "fork-non-local-fork-marker-transitive": {
        "sys_platform == 'linux'": {"a==1.0.0", "b==1.0.0", "c==1.0.0"},
        "sys_platform == 'darwin'": {"a==1.0.0", "b==1.0.0", "c==2.0.0"},
        "sys_platform == 'win32'": {"a==1.0.0", "b==1.0.0"},
    },
    "lowest-direct-fork-max-python": {
        "python_version < '3.12'": {"forkroot==3.0.0", "forkdep==2.8", "forkleaf==1.1.0"},
        "python_version >= '3.12'": {"forkroot==3.0.0", "forkdep==3.1", "forkleaf==1.1.0"},
    },
    "preferences-dependent-forking": {
        "sys_platform == 'linux'": {"cleaver==1.0.0", "foo==1.0.0", "bar==2.0.0"},
        "sys_platform != 'linux'": {"cleaver==1.0.0", "foo==2.0.0", "bar==1.0.0"},
    },
    "prerelease-base-marker-stable-preference-explicit-first": {"": {"c==1.0.0"}},
    "prerelease-base-marker-stable-preference-plain-first": {"": {"c==1.0.0"}},
    "prerelease-marker-equivalent-stable-preference": {
        "sys_platform == 'linux'": {"c==1.0.0"},
        "sys_platform != 'linux'": set(),
    },
    "wrong-backtracking-indirect": {"": {"a==1.0.0", "b==1.0.0", "b-inner==2.0.9"}},
}

_PIP_PRERELEASES = (
    "pip's prerelease rule (issue 14): a final release satisfies the specifiers, so"
    " prereleases are not considered, not even after every final release is rejected"
    " while backtracking; pip says there is no solution too"
)

#: Scenario -> why crosspin finds no solution where the scenario expects one.
NO_SOLUTION: dict[str, str] = {
    "prerelease-capped-union-alternate-parent": _PIP_PRERELEASES,
    "prerelease-capped-union-backtrack": _PIP_PRERELEASES,
    "prerelease-fallback-after-stable-rejected": _PIP_PRERELEASES,
}

#: Scenario -> (package, reason): crosspin must exit 1 with an ``error:``
#: line naming the package, because some matrix environment cannot install it.
NOT_INSTALLABLE: dict[str, tuple[str, str]] = {
    "python-less-than-current": (
        "a",
        "a's only release requires Python <=3.8; uv ignores the upper bound, crosspin"
        " never locks a version the target Python cannot install",
    ),
    "specific-architecture": (
        "c",
        "c (aarch64 only) has cp313 wheels only, nothing for 3.12/3.14 on linux-aarch64;"
        " uv ignores wheel tags in universal mode",
    ),
}


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


@pytest.mark.parametrize("path", _scenario_files())
def test_scenario(path: Path, scenario_indexes: Any, tmp_path: Path) -> None:
    """crosspin resolves each packse scenario as its description says."""
    from fixtures.scenarios import Scenario

    scenario = Scenario.from_toml(path)
    opts = scenario.resolver_options
    matrix_args, matrix = matrix_for(scenario)
    index_url = scenario_indexes.index_url(scenario.name)
    args = scenario_compile_args(scenario, tmp_path, index_url, matrix_args)
    result = run_cli(args, cwd=tmp_path)
    assert "Traceback" not in result.stderr
    if scenario.name in NOT_INSTALLABLE:
        package, _ = NOT_INSTALLABLE[scenario.name]
        assert result.code == 1, f"expected a refusal, got:\n{result.stdout}{result.stderr}"
        first = result.stderr.splitlines()[0]
        assert first.startswith("error: ")
        assert re.search(rf"\b{re.escape(package)}\b", first), first
        return
    satisfiable = (
        scenario.expected.satisfiable or scenario.name in DIVERGES
    ) and scenario.name not in NO_SOLUTION
    if not satisfiable:
        assert result.code == 1, f"expected no solution, got:\n{result.stdout}{result.stderr}"
        assert result.stderr.startswith("error: ")
        return
    assert result.code == 0, result.stderr
    text = (tmp_path / "requirements.txt").read_text(encoding="utf-8")
    got = selected_by_env(text, matrix)
    if opts.universal:
        _check_contract(text, matrix, index_url, tmp_path / "check-cache", opts)
    if scenario.name in OWN_ANSWER:
        _check_own_answer(got, matrix, OWN_ANSWER[scenario.name])
    if scenario.name in DIVERGES:
        return
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


def test_tables_name_real_scenarios() -> None:
    """Every divergence, refusal and xfail names a scenario that exists, once."""
    if ROOT is None:
        pytest.skip("no shared scenarios")
    names = {_name_of(p) for p in ROOT.glob("*/*.toml")}
    tables = [set(KNOWN), set(DIVERGES), set(NOT_INSTALLABLE), set(NO_SOLUTION)]
    for table in tables:
        assert table <= names, table - names
    for i, table in enumerate(tables):
        for other in tables[i + 1:]:
            assert not table & other, table & other
    assert set(OWN_ANSWER) <= set(DIVERGES)


def _counts() -> Counter[str]:
    """What docs/conformance.md counts, from the scenarios, uv's exit codes and the tables."""
    from fixtures.scenarios import Scenario

    assert ROOT is not None
    special = set(KNOWN) | set(DIVERGES) | set(NO_SOLUTION) | set(NOT_INSTALLABLE)
    counts: Counter[str] = Counter()
    for path in sorted(ROOT.glob("*/*.toml")):
        scenario = Scenario.from_toml(path)
        kind = "universal" if scenario.resolver_options.universal else "single"
        counts["total"] += 1
        counts[kind] += 1
        for table, label in ((DIVERGES, "diverges"), (NO_SOLUTION, "no-solution"),
                             (NOT_INSTALLABLE, "refused"), (KNOWN, "known")):
            if scenario.name in table:
                counts[f"{kind} {label}"] += 1
                counts[label] += 1
        if scenario.name in special:
            continue
        counts[f"{kind} equal"] += 1
        counts["equal"] += 1
        if not scenario.expected.satisfiable:
            counts[f"{kind} unsatisfiable"] += 1
        elif kind == "single":
            counts["single packages" if scenario.expected.packages else "single no packages"] += 1
        else:
            rc = ROOT / "reference" / f"{scenario.name}.rc"
            uv_resolved = rc.is_file() and rc.read_text().strip() == "0"
            counts["universal reference" if uv_resolved else "universal uv failed"] += 1
    return counts


def test_conformance_page_counts() -> None:
    """Every number docs/conformance.md states is what the scenarios and tables give."""
    if ROOT is None:
        pytest.skip("no shared scenarios")
    c = _counts()
    page = " ".join((REPO / "docs" / "conformance.md").read_text(encoding="utf-8").split())

    def number(pattern: str) -> tuple[int, ...]:
        found = re.search(pattern, page)
        assert found, f"docs/conformance.md no longer says: {pattern}"
        return tuple(int(g) for g in found.groups())

    assert number(r"runs all (\d+) packse scenarios") == (c["total"],)
    assert number(r"\| equal to uv's reference / `expected` \| \*\*(\d+)\*\* \((\d+) "
                  r"single-environment \+ (\d+) universal\)") == (
        c["equal"], c["single equal"], c["universal equal"])
    assert number(r"\(`DIVERGES`\) \| \*\*(\d+)\*\*") == (c["diverges"],)
    assert number(r"\(`NO_SOLUTION`\) \| \*\*(\d+)\*\*") == (c["no-solution"],)
    assert number(r"\(`NOT_INSTALLABLE`\) \| \*\*(\d+)\*\*") == (c["refused"],)
    assert number(r"\(`KNOWN`, strict xfail\) \| \*\*(\d+)\*\*") == (c["known"],)
    assert number(r"\| total \| (\d+) \|") == (c["total"],)
    assert number(r"Of the (\d+), (\d+) are single-environment scenarios: (\d+) match") == (
        c["total"], c["single"], c["single equal"])
    assert number(r"\((\d+) satisfiable ones give exactly `expected.packages`; (\d+) "
                  r"satisfiable ones whose `expected` lists no packages resolve") == (
        c["single packages"], c["single no packages"])
    assert number(r"(\d+) unsatisfiable ones exit 1") == (c["single unsatisfiable"],)
    assert number(r"(\d+) have no solution under pip's prerelease rule") == (
        c["single no-solution"],)
    assert number(r"and (\d+) is a deliberate refusal") == (c["single refused"],)
    assert number(r"The other (\d+) are universal: (\d+) equal") == (
        c["universal"], c["universal equal"])
    assert number(r"(\d+) deliberate divergences and (\d+) refusal") == (
        c["universal diverges"], c["universal refused"])
    assert number(r"\((\d+) equal to uv's reference in every environment of the matrix, "
                  r"(\d+) expected unsatisfiable") == (
        c["universal reference"], c["universal unsatisfiable"])
    assert c["universal uv failed"] == 1  # transitive-prerelease-forks, named on the page
    assert c["single"] + c["universal"] == c["total"]


def _check_contract(text: str, matrix: Matrix, index_url: str, cache: Path, opts: Any) -> None:
    """The lock, read back, passes the contract checker over its matrix."""
    from crosspin.index import IndexClient, IndexSettings
    from crosspin.lock import Lock, check_lock
    from crosspin.lockfiles.requirements import read
    from crosspin.metadata import MetadataProvider

    parsed = read(text)
    lock = Lock.build(matrix=parsed.matrix or matrix, packages=parsed.packages)
    assert lock.matrix.environments == matrix.environments
    settings = IndexSettings(index_url=index_url, cache_dir=cache)
    with IndexClient(settings) as client:
        problems = check_lock(
            lock, finder=client, metadata=MetadataProvider(client),
            allow_build=not opts.no_build,
        )
    assert problems == [], "\n".join(str(p) for p in problems)


def _check_own_answer(
    got: dict[str, frozenset[str]], matrix: Matrix, answer: dict[str, set[str]]
) -> None:
    """Each environment selects exactly the set its marker in ``answer`` names."""
    for env in matrix.environments:
        wants = [
            pins for marker, pins in answer.items()
            if not marker or Marker(marker).evaluate(dict(env.marker_environment))
        ]
        assert len(wants) == 1, f"{env.name}: answer markers must partition the matrix"
        assert {_canon(p) for p in got[env.name]} == {_canon(p) for p in wants[0]}, env.name


def _canon(pin: str) -> str:
    from packaging.utils import canonicalize_name
    from packaging.version import Version

    name, version = pin.split("==")
    return f"{canonicalize_name(name)}=={Version(version)}"
