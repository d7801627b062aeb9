"""The replay fast path gives exactly resolvelib's forks, or steps aside."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from crosspin.distributions import DistFile
from crosspin.environments import Matrix
from crosspin.errors import CrosspinError
from crosspin.metadata import DistMetadata
from crosspin.resolver import ResolveOptions, ResolveRequest, Root, resolve_matrix
from crosspin.resolver._replay import STATS
from crosspin.settings import Tuning
from tests.helpers import MemoryFinder, matrix_for, run_cli, scenario_compile_args, scenarios_root

ROOT = scenarios_root()

_TAGS = (
    "py3-none-any", "py3-none-any", "py3-none-any", "cp312-cp312-manylinux_2_17_x86_64",
    "cp311-abi3-win_amd64", "py3-none-macosx_11_0_arm64",
)
_MARKERS = (
    "", "", "", "; sys_platform == 'win32'", "; python_version < '3.11'",
    "; platform_machine == 'aarch64'", "; sys_platform != 'darwin'",
)
_SPECS = ("", "", ">=1.1", "<2", "!=1.2", ">=1.0,<1.3", "==1.1", ">1.0")
_PYTHONS = (None, None, None, ">=3.10", ">=3.12", "<3.13")


class _Metadata:
    def __init__(self, deps: dict[tuple[str, str], list[str]],
                 python: dict[tuple[str, str], str]) -> None:
        self.deps = deps
        self.python = python

    def get(self, name: str, version: Version, files: Sequence[DistFile]) -> DistMetadata:
        key = (name, str(version))
        lines = [f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"]
        if key in self.python:
            lines.append(f"Requires-Python: {self.python[key]}\n")
        lines += [f"Requires-Dist: {d}\n" for d in self.deps.get(key, [])]
        return DistMetadata.from_bytes("".join(lines).encode(), source=name)


def _wheel(name: str, version: str) -> DistFile:
    dist = DistFile.from_link(filename=f"{name}-{version}-py3-none-any.whl",
                              url=f"https://example.invalid/{name}-{version}-py3-none-any.whl")
    assert dist is not None
    return dist


def _universe(seed: int) -> tuple[MemoryFinder, _Metadata, list[Root], ResolveOptions]:
    """A random small index: projects p0..pN, versions 1.0..1.3, random deps."""
    rng = random.Random(seed)
    names = [f"p{i}" for i in range(rng.randint(3, 9))]
    files: dict[str, list[DistFile]] = {}
    deps: dict[tuple[str, str], list[str]] = {}
    python: dict[tuple[str, str], str] = {}
    for i, name in enumerate(names):
        for minor in range(rng.randint(1, 4)):
            version = f"1.{minor}"
            req_py = rng.choice(_PYTHONS)
            tag = rng.choice(_TAGS)
            dist = DistFile.from_link(
                filename=f"{name}-{version}-{tag}.whl",
                url=f"https://example.invalid/{name}-{version}-{tag}.whl",
                requires_python=req_py if rng.random() < 0.5 else None,
                yanked="bad" if rng.random() < 0.05 else None,
            )
            assert dist is not None
            files.setdefault(name, []).append(dist)
            if req_py is not None:
                python[(name, version)] = req_py
            later = names[i + 1:]
            picks = rng.sample(later, k=min(len(later), rng.randint(0, 3)))
            deps[(name, version)] = [
                f"{d}{rng.choice(_SPECS)}{rng.choice(_MARKERS)}" for d in picks
            ]
            if rng.random() < 0.15 and later:
                deps[(name, version)].append(f"{rng.choice(later)}[x]; extra == 'x'")
    roots = [Root(requirement=Requirement(f"{names[0]}{rng.choice(_SPECS)}"), origin="-r in")]
    if rng.random() < 0.5:
        roots.append(Root(requirement=Requirement(f"{rng.choice(names[1:])}[x]"), origin="-r in"))
    options = ResolveOptions(resolution=rng.choice(("highest", "highest", "lowest-direct")))
    return MemoryFinder(files), _Metadata(deps, python), roots, options


def _outcome(fast: bool, seed: int) -> Any:
    finder, metadata, roots, options = _universe(seed)
    try:
        request = ResolveRequest(matrix=Matrix.from_options(), roots=roots, options=options,
                                 fast_path=fast)
        return resolve_matrix(request, finder=finder, metadata=metadata)
    except CrosspinError as exc:
        return (type(exc).__name__, str(exc))


def test_random_indexes_give_resolvelibs_forks() -> None:
    """Over 120 random indexes and the 30-environment matrix, fast path == resolvelib alone.

    The fast path starts each fork from the earlier forks' picks where it
    can prove them right, so these forks are also that shortcut's check.
    """
    before = dict(STATS)
    for seed in range(120):
        assert _outcome(True, seed) == _outcome(False, seed), f"seed {seed}"
    assert STATS["replayed"] > before["replayed"]  # the fast path really ran
    assert STATS["fallback"] > before["fallback"]  # and really stepped aside
    assert STATS["seeded"] > before["seeded"]  # and took an earlier fork's picks


def test_switch_turns_the_fast_path_off() -> None:
    """CROSSPIN_REPLAY=0 runs resolvelib for every fork."""
    before = dict(STATS)
    files = {"a": [_wheel("a", "1.0")], "b": [_wheel("b", "1.0")]}
    metadata = _Metadata({("a", "1.0"): ["b"]}, {})
    roots = [Root(requirement=Requirement("a"), origin="-r in")]
    for environ in ({"CROSSPIN_REPLAY": "0"}, {}):
        request = ResolveRequest(matrix=Matrix.from_options(), roots=roots,
                                 fast_path=Tuning.from_environ(environ).replay)
        resolve_matrix(request, finder=MemoryFinder(files), metadata=metadata)
        if environ:
            assert before == STATS
    assert STATS["replayed"] == before["replayed"] + 1


def _scenarios() -> list[Any]:
    if ROOT is None:
        return [pytest.param(None, marks=pytest.mark.skip(reason="no shared scenarios"))]
    return [pytest.param(p, id=p.stem) for p in sorted(ROOT.glob("*/*.toml"))]


@pytest.mark.parametrize("path", _scenarios())
def test_scenarios_give_resolvelibs_forks(
    path: Path | None, scenario_indexes: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every packse scenario, universal and single: the fast path's forks are resolvelib's."""
    import crosspin.pipeline._compile
    from fixtures.scenarios import Scenario

    assert path is not None
    real = resolve_matrix
    calls: list[str] = []

    def both(request: ResolveRequest, **kwargs: Any) -> Any:
        outcomes: list[Any] = []
        for fast in (True, False):
            try:
                outcomes.append(real(attrs.evolve(request, fast_path=fast), **kwargs))
            except CrosspinError as exc:
                outcomes.append(exc)
        fast_out, slow_out = outcomes
        if isinstance(slow_out, CrosspinError):
            calls.append("error")
            assert (type(fast_out), str(fast_out)) == (type(slow_out), str(slow_out))
            raise slow_out
        calls.append("forks")
        assert fast_out == slow_out
        return slow_out

    monkeypatch.setattr(crosspin.pipeline._compile, "resolve_matrix", both)
    scenario = Scenario.from_toml(path)
    matrix_args, _ = matrix_for(scenario)
    args = scenario_compile_args(
        scenario, tmp_path, scenario_indexes.index_url(scenario.name), matrix_args
    )
    result = run_cli(args, cwd=tmp_path)
    assert result.exception is None, result.stderr  # an AssertionError in both() lands here
    assert len(calls) == 1, calls  # the compile resolved once, through both paths
    assert result.code == {"forks": 0, "error": 1}[calls[0]], result.stderr
    if calls == ["forks"]:
        assert (tmp_path / "requirements.txt").is_file()
