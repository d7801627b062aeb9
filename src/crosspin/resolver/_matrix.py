"""The fork scheduler: resolve direct requirements for every environment of a matrix.

Each environment gets the newest releases that install there (DESIGN.md
item 4): a fork prefers only what the existing lock pins for it (pip-tools'
behaviour, item 5), never another fork's picks, so a limit that belongs to
one environment (its Requires-Python, missing wheels, a glibc or macOS
floor) never holds another one back. Environments that answer every
question a fork asked (markers, Requires-Python, wheel tags, existing pins)
the same way share that fork's result instead of resolving again.

Where a fork's answers change between patch releases of its minor
(``Requires-Python: !=3.9.0,!=3.9.1``), every environment of that minor is
split there and each part resolved (``_patches``), so the newest release
serves each patch release that can install it; parts that end up with the
same pins are joined again, and the split stays only where it changes the
lock. Splits are per minor, across every platform, so the matrix a lock
records stays Pythons x platforms. A split the existing lock made is where
the next compile starts, so a rerun gives the same lock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import attrs
from packaging.utils import canonicalize_name
from packaging.version import Version

from crosspin.environments import Environment, Matrix, describe_environments
from crosspin.errors import NotInstallableError, ResolutionError
from crosspin.resolver._fork import resolve_view
from crosspin.resolver._held import held_back
from crosspin.resolver._lookahead import Lookahead
from crosspin.resolver._model import ForkResult, HeldBack, ResolveRequest
from crosspin.resolver._oracle import EnvironmentView, Oracle
from crosspin.resolver._patches import cuts, split
from crosspin.resolver._provider import Finder, Metadata

__all__ = ["resolve_matrix"]


@attrs.define
class _Solved:
    """One resolution (or failure) and the view that recorded its questions."""

    view: EnvironmentView
    result: ForkResult | None
    error: ResolutionError | None = None

    def same_result(self, other: _Solved) -> bool:
        """Whether two parts of an environment got the same pins (or the same failure)."""
        if self is other:
            return True
        if self.result is not None and other.result is not None:
            return self.result.pins == other.result.pins
        return self.error is not None and other.error is not None and (
            str(self.error) == str(other.error)
        )


def resolve_matrix(
    request: ResolveRequest,
    *,
    finder: Finder,
    metadata: Metadata,
    on_fork: Callable[[Environment, bool], None] | None = None,
) -> list[ForkResult]:
    """One :class:`ForkResult` per environment class of the request's matrix.

    The environments of the results are the request's, except where one was
    split at a patch boundary: then its parts (``3.9.0-3.9.1``, ``3.9.2+``)
    stand in its place. ``on_fork`` hears of every environment (or part) as
    it is done (``True`` when it reused an earlier fork's answers). Raises
    :class:`ResolutionError` (or :class:`NotInstallableError`) naming every
    environment that has no solution, after trying them all.
    """
    ahead = _start_lookahead(request, finder, metadata) if request.lookahead else None
    try:
        return _Scheduler(request, finder, metadata, on_fork).run()
    finally:
        if ahead is not None:
            ahead.close()


def _start_lookahead(request: ResolveRequest, finder: Finder, metadata: Metadata) -> Lookahead:
    hints: dict[str, list[Version]] = defaultdict(list)
    if request.existing is not None:
        for env in request.matrix.environments:
            for name, version in request.existing(env).items():
                if version not in hints[name]:
                    hints[name].append(version)
    pythons = [Version(e.python_full_version) for e in request.matrix.environments]
    ahead = Lookahead(
        finder=finder, metadata=metadata, options=request.options,
        oldest_python=str(min(pythons)) if pythons else None,
        hints=hints, skip=frozenset(request.links),
    )
    ahead.start(r.requirement for r in request.roots if r.link is None)
    return ahead


class _Scheduler:
    """Solves the environments of one request, minor by minor, newest first."""

    def __init__(
        self, request: ResolveRequest, finder: Finder, metadata: Metadata,
        on_fork: Callable[[Environment, bool], None] | None,
    ) -> None:
        self.request = request
        self.finder = finder
        self.metadata = metadata
        self.on_fork = on_fork
        self.oracle = Oracle(finder.project_releases, request.options, existing=request.existing)
        self.solved: list[_Solved] = []
        self.by_env: dict[Environment, _Solved] = {}
        #: name -> the version the latest fork that pins it chose: where the
        #: next fork's fast path starts (a speed-up only, see ``_replay``).
        self.picked: dict[str, Version] = {}

    def run(self) -> list[ForkResult]:
        final: list[tuple[Environment, _Solved]] = []
        minors: dict[tuple[int, int], list[Environment]] = {}
        for env in self.request.matrix.environments:
            minors.setdefault(env.python, []).append(env)
        for minor, envs in minors.items():
            final += self._minor(envs, self.request.patch_cuts.get(minor, frozenset()))
        matrix = Matrix(environments=tuple(e for e, _ in final))
        failures = [(e, s.error) for e, s in final if s.error is not None]
        if failures:
            raise _combine(failures, matrix)
        groups: dict[int, list[Environment]] = {}
        results: dict[int, ForkResult] = {}
        held: dict[int, list[HeldBack]] = defaultdict(list)
        for env, solved in final:
            assert solved.result is not None
            groups.setdefault(id(solved), []).append(env)
            results[id(solved)] = solved.result
            if self.request.explain:
                held[id(solved)] += self._held_back(env, solved.result)
        return [attrs.evolve(results[k], environments=tuple(envs), held_back=tuple(held[k]))
                for k, envs in groups.items()]

    def _held_back(self, env: Environment, result: ForkResult) -> list[HeldBack]:
        """Why ``env`` got less than the newest release of some pins (not for lowest picks)."""
        resolution = self.request.options.resolution
        if resolution == "lowest":
            return []
        direct = frozenset(canonicalize_name(r.requirement.name) for r in self.request.roots)
        return held_back(env, result.pins, result.bounds, oracle=self.oracle,
                         metadata=self.metadata, direct=direct,
                         lowest=direct if resolution == "lowest-direct" else frozenset())

    def _minor(
        self, envs: list[Environment], seeds: frozenset[int]
    ) -> list[tuple[Environment, _Solved]]:
        """Every environment of one minor, split wherever a fork's answers change by patch."""
        at = set(seeds)
        while True:
            found: set[int] = set()
            for part in sorted((p for e in envs for p in split(e, at)), key=lambda e: e.sort_key):
                solved = self._solve(part)
                found |= cuts(self.oracle, part, solved.view.answers)
            if found <= at:
                break
            at |= found
        joined = {cut for cut in at if not self._joinable(envs, at, cut)}
        out = []
        for env in envs:
            resolved = split(env, at)
            for part in split(env, joined):
                # every resolved piece of a joined part has the same result
                first = next(p for p in resolved if _within(p, part))
                out.append((part, self.by_env[first]))
        return sorted(out, key=lambda pair: pair[0].sort_key)

    def _joinable(self, envs: list[Environment], at: set[int], cut: int) -> bool:
        """Whether the parts on both sides of ``cut`` got the same answer on every platform."""
        for env in envs:
            parts = split(env, at)
            below = [p for p in parts if p.patch_ceiling == cut]
            above = [p for p in parts if p.patch_floor == cut]
            if below and above and not self.by_env[below[0]].same_result(self.by_env[above[0]]):
                return False
        return True

    def _solve(self, env: Environment) -> _Solved:
        """The resolution of ``env``: an earlier one with the same answers, or a new one."""
        known = self.by_env.get(env)
        if known is not None:
            return known
        reused = next((s for s in self.solved if s.view.same_answers(env)), None)
        if reused is not None:
            self.by_env[env] = reused
            if self.on_fork:
                self.on_fork(env, True)
            return reused
        view = EnvironmentView(env, self.oracle)
        try:
            solved = _Solved(view=view, result=resolve_view(
                view, self.request, finder=self.finder, metadata=self.metadata,
                seed=self.picked))
        except ResolutionError as exc:
            solved = _Solved(view=view, result=None, error=exc)
        self.solved.append(solved)
        if solved.result is not None:
            self.picked.update((n, p.version) for n, p in solved.result.pins.items())
        self.by_env[env] = solved
        if self.on_fork:
            self.on_fork(env, False)
        return solved


def _within(inner: Environment, outer: Environment) -> bool:
    """Whether ``inner``'s patch range lies inside ``outer``'s (same minor and platform)."""
    top = outer.patch_ceiling
    return inner.patch_floor >= outer.patch_floor and (
        top is None or (inner.patch_ceiling is not None and inner.patch_ceiling <= top)
    )


def _combine(
    failures: list[tuple[Environment, ResolutionError]], matrix: Matrix
) -> ResolutionError:
    first = failures[0][1]
    envs = describe_environments([e.name for e, _ in failures], matrix)
    if isinstance(first, NotInstallableError):
        same = [e.name for e, f in failures
                if isinstance(f, NotInstallableError) and f.package == first.package]
        return NotInstallableError(
            first.package, describe_environments(same, matrix), reason=first.detail,
            kind=first.kind, requires_python=first.requires_python,
            lowest_python=first.lowest_python,
        )
    return ResolutionError(first.reason, environments=envs, chains=first.chains)

