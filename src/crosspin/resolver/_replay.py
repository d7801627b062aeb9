"""The replay fast path: build a resolution from preferences, resolvelib-exact.

Most forks of a matrix pick, for every package, the version an earlier fork
already chose (it comes first in the preference order). Running resolvelib
for them costs its per-round bookkeeping for nothing. :func:`replay` walks
the dependency graph instead, giving every identifier the first candidate
that ``find_matches`` would offer, and accepts the walk only where it can
prove that resolvelib would pin exactly these candidates.

Why this equals resolvelib's answer (resolvelib 1.x, the :class:`Provider`
of this package). Let ``R(I)`` be the final requirements on identifier
``I`` (from the roots and the dependencies of the chosen candidates) and
``G(I)`` the provider's order of ``I``'s versions filtered by constraints
only (preferences first, then newest or lowest first, stable before
prereleases). ``find_matches`` with any requirement subset ``S`` returns
``G(I)`` filtered by ``S`` and by installability, in the same order, and
the candidate resolvelib pins for ``I`` is the first of those whose
dependencies merge (a failing Requires-Python makes the merge fail).
We accept only when, for every reached identifier, each version before
the chosen ``c`` in ``G(I)`` is admitted by *no* requirement in ``R(I)``
(no subset ever offers it) or by *all* of them and is then either not
installable or (plain names only) fails Requires-Python (every subset
offers it and it is skipped the same way), and ``c`` is installable,
admitted by all of ``R(I)`` and its Requires-Python holds. Then, by
induction over resolvelib's rounds in whatever order it takes them: while
every pin so far is ours, the requirements on any identifier are a subset
of ``R(I)``, so the first candidate that merges is ``c``; merging ``c``'s
dependencies never empties a criterion (each requirement admits its
target's ``c``, which is installable); ``is_satisfied_by`` holds. No round
fails, so resolvelib never backtracks, and it stops once every reached
identifier is pinned: the same mapping and the same dependency graph.

Questions asked of the environment matter too (environments that answer
them alike reuse this result), so the walk runs on a scratch view and, once
accepted, :func:`replay` asks the real view exactly the questions resolvelib
would have asked: installability of the versions it would look at,
the markers of the dependencies of every candidate it would try, and the
Requires-Python of each.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import attrs
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from crosspin.errors import CrosspinError
from crosspin.resolver._model import PYTHON, Candidate, PythonCandidate, PythonReq, Req
from crosspin.resolver._provider import Provider

#: How many times the walk may revise its picks before giving up.
_MAX_PASSES = 8


@attrs.frozen(kw_only=True)
class _Plan:
    """What resolvelib would do for one identifier."""

    chosen: Candidate
    #: Versions before ``chosen`` whose installability resolvelib asks.
    looked_at: tuple[Version, ...]
    #: Installable versions it tries and drops for their Requires-Python.
    dropped: tuple[Candidate, ...]
    #: Installable versions it passes over for their metadata.
    skipped: tuple[Candidate, ...]
    yanked_ok: frozenset[Version]


class _Graph:
    """The part of resolvelib's result graph that ``_pins`` reads."""

    def __init__(self, parents: Mapping[str, set[str | None]]) -> None:
        self._parents = parents

    def iter_parents(self, key: str) -> Iterator[str | None]:
        """Identifiers whose pinned candidate requires ``key`` (None: a root)."""
        return iter(self._parents.get(key, ()))


@attrs.frozen(kw_only=True)
class Replayed:
    """A resolvelib-shaped result: ``mapping`` and ``graph``."""

    mapping: Mapping[str, Any]
    graph: _Graph


#: How often the fast path was taken / fell back, and how often an earlier
#: fork's picks were proven right without a search (for tests and benchmarks).
STATS = {"replayed": 0, "fallback": 0, "seeded": 0}

#: A solved fork's picks: name -> version (an identifier with extras has its name's).
Seed = Mapping[str, Version]


def replay(
    provider: Provider, roots: Sequence[Req], scratch: Callable[[], Provider],
    seed: Seed | None = None,
) -> Replayed | None:
    """The resolution resolvelib would return for ``roots``, or None if unproven.

    ``scratch`` makes a provider for the same environment on a throwaway
    view: the search asks questions resolvelib might not, so it must not
    leave them on ``provider``'s view. On success ``provider`` has asked
    (and recorded) what resolvelib would have. ``seed`` holds other forks'
    picks, tried first (:func:`_seeded`); the result is the same without it.
    """
    sp = scratch()
    plans = None
    if seed:
        try:
            plans = _seeded(sp, roots, seed)
        except CrosspinError:
            sp = scratch()
        if plans is not None:
            STATS["seeded"] += 1
    if plans is None:
        try:
            plans = _search(sp, roots)
        except CrosspinError:
            plans = None
    if plans is None:
        STATS["fallback"] += 1
        return None
    STATS["replayed"] += 1
    return _commit(provider, roots, plans)


def _seeded(sp: Provider, roots: Sequence[Req], seed: Seed) -> dict[str, _Plan] | None:
    """Plans from one walk that takes ``seed``'s picks, if :func:`_verify` accepts them.

    Most forks of a matrix pick what an earlier one picked. The walk is a
    pass of :func:`_search` that takes ``seed``'s version wherever the
    requirements so far admit it (else picks as usual); :func:`_verify`
    is the whole proof that these picks are resolvelib's answer (it does
    not ask how they were found), so the search's passes and stability
    check are skipped. None when it does not accept: then the search runs
    (on the same scratch provider: everything it keeps is per candidate
    and the same whoever asks first).
    """
    def choose(ident: str, current: list[Req]) -> Candidate | None:
        first = current[0]
        version = seed.get(first.name)
        if version is not None and not any(r.link for r in current) and (
            first.name in sp.links or _admitted(sp, current, version)
        ):
            cand = _candidate(sp, current, first.name, first.extras, version,
                              sp._exact_user_pins(first.name, current))
            if first.name in sp.links or sp.broken(cand) is None:
                return cand
        return _pick(sp, ident, current)

    walked = _walk(sp, roots, choose)
    return None if walked is None else _verify(sp, *walked)


def _search(sp: Provider, roots: Sequence[Req]) -> dict[str, _Plan] | None:
    hint: Mapping[str, list[Req]] = {}
    chosen: Mapping[str, Candidate] = {}
    for r in roots:
        _prefetch(sp, r)
    for _ in range(_MAX_PASSES):
        # ident -> how many requirements it had when picked from exactly
        # those: while none is added, picking again gives the same candidate.
        picked_on: dict[str, int] = {}
        walked = _walk(sp, roots, _choice(sp, chosen, hint, picked_on))
        if walked is None:
            return None
        picked, reqs = walked
        stable = all(
            picked_on.get(i) == len(reqs[i]) or _pick(sp, i, reqs[i]) == c
            for i, c in picked.items()
        )
        if stable:
            return _verify(sp, picked, reqs)
        chosen, hint = picked, dict(reqs)
    return None


def _choice(
    sp: Provider, chosen: Mapping[str, Candidate], hint: Mapping[str, list[Req]],
    picked_on: dict[str, int],
) -> Callable[[str, list[Req]], Candidate | None]:
    """How a pass of :func:`_search` picks: the last pass's pick while admitted, else anew.

    A new pick first counts the requirements the last pass collected
    (``hint``), so it need not change once they arrive; one made from
    exactly the requirements so far is noted in ``picked_on``.
    """
    def choose(ident: str, current: list[Req]) -> Candidate | None:
        cand = chosen.get(ident)
        if cand is not None and _admitted(sp, current, cand.version):
            return cand
        extra = hint.get(ident, ())
        cand = _pick(sp, ident, [*current, *extra])
        if cand is None:
            cand = _pick(sp, ident, current)
        elif extra:
            return cand
        if cand is not None:
            picked_on[ident] = len(current)
        return cand

    return choose


def _walk(
    sp: Provider, roots: Sequence[Req], choose: Callable[[str, list[Req]], Candidate | None]
) -> tuple[dict[str, Candidate], dict[str, list[Req]]] | None:
    """One pass over the graph from ``roots``, breadth first.

    ``choose`` picks each identifier reached, given the requirements on it
    so far (the list grows as the walk goes on). Returns the picks and the
    final requirements on every identifier, or None where ``choose`` finds
    nothing.
    """
    reqs: dict[str, list[Req]] = defaultdict(list)
    for r in roots:
        reqs[r.identifier].append(r)
    queue = deque(reqs)
    seen = set(queue)
    picked: dict[str, Candidate] = {}
    while queue:
        ident = queue.popleft()
        cand = choose(ident, reqs[ident])
        if cand is None:
            return None
        picked[ident] = cand
        for dep in sp.get_dependencies(cand):
            if isinstance(dep, Req):
                reqs[dep.identifier].append(dep)
                if dep.identifier not in seen:
                    seen.add(dep.identifier)
                    queue.append(dep.identifier)
                    _prefetch(sp, dep)
    return picked, reqs


def _prefetch(sp: Provider, req: Req) -> None:
    """Start fetching the metadata of ``req``'s likely pick, as find_matches does.

    Without it a cold walk would download metadata one file at a time.
    """
    if req.link or req.name in sp.links:
        return
    # An earlier fork asking the same already started the same fetch.
    key = (req.name, sp.oracle.text(req.specifier), sp.view.preferred(req.name))
    if key in sp.oracle.prefetched:
        return
    sp.oracle.prefetched.add(key)
    for v in _lazy_order(sp, req.name, [c.specifier for c in sp.constraints.get(req.name, ())]):
        if sp.oracle.admits(req.specifier, v):
            pinned = sp._exact_user_pins(req.name, [req])
            sp.finder.prefetch_metadata(sp.oracle.usable_files(req.name, v, v in pinned)[:1])
            return


def _admitted(sp: Provider, reqs: Sequence[Req], version: Version) -> bool:
    admits = sp.oracle.admits
    return all(admits(r.specifier, version) for r in reqs)


def _python_ok(sp: Provider, cand: Candidate) -> bool:
    """Whether the candidate's Requires-Python holds (extras carry none)."""
    if cand.extras:
        return True
    deps = sp.get_dependencies(cand)
    return not (deps and isinstance(deps[0], PythonReq) and not sp.view.python(deps[0].specifier))


def _candidate(sp: Provider, ident_reqs: Sequence[Req], name: str, extras: frozenset[str],
               version: Version, yanked_ok: frozenset[Version]) -> Candidate:
    link = sp.links.get(name)
    if link is not None:
        return Candidate(name=ident_reqs[0].name, version=link.version, extras=extras,
                         files=link.files, link=link.link, editable=link.editable)
    key = (name, version, extras)
    cand = sp._candidates.get(key)
    if cand is None:
        files = sp.oracle.usable_files(name, version, version in yanked_ok)
        cand = sp._candidates[key] = Candidate(
            name=ident_reqs[0].name, version=version, extras=extras, files=files
        )
    return cand


def _order(sp: Provider, reqs: Sequence[Req]) -> Iterator[Version] | None:
    """``G(I)``: the identifier's versions in find_matches order, constraints only.

    Lazy (most walks stop at the first version). None where links make
    resolvelib refuse (``is_satisfied_by`` is false).
    """
    first = reqs[0]
    name = first.name
    cons = [c.specifier for c in sp.constraints.get(name, ())]
    link = sp.links.get(name)
    if link is not None:
        if any(r.link and r.link != link.link for r in reqs):
            return None
        ok = all(s.contains(link.version, prereleases=True) for s in cons)
        return iter([link.version] if ok else [])
    if any(r.link for r in reqs):
        return None
    return _lazy_order(sp, name, cons)


def _lazy_order(sp: Provider, name: str, cons: Sequence[SpecifierSet]) -> Iterator[Version]:
    """``Provider._ordered_versions(name, extras, [], set())``, one version at a time."""
    admits = sp.oracle.admits
    known = sp.oracle.versions(name)
    newest = sp.oracle.newest_first(name)
    options = sp.options
    lowest = options.resolution == "lowest" or (
        options.resolution == "lowest-direct" and name in sp.direct_names
    )
    seen: set[Version] = set()
    for v in sp.preferred(name):
        if v in known and v not in seen and all(admits(s, v) for s in cons):
            seen.add(v)
            yield v
    ordered: Sequence[Version] = newest[::-1] if lowest else newest
    passes = (True,) if options.pre else (False, True)
    for pre in passes:
        for v in ordered:
            wanted = options.pre or v.is_prerelease == pre
            if wanted and v not in seen and all(admits(s, v) for s in cons):
                yield v


def _pick(sp: Provider, ident: str, reqs: Sequence[Req]) -> Candidate | None:
    """The first candidate find_matches would offer that survives its merge."""
    if not reqs:
        return None
    order = _order(sp, reqs)
    if order is None:
        return None
    first = reqs[0]
    linked = first.name in sp.links
    yanked_ok = sp._exact_user_pins(first.name, reqs)
    for v in order:
        if not _admitted(sp, reqs, v):
            continue
        if not linked and not sp.view.installable(first.name, v, v in yanked_ok):
            continue
        cand = _candidate(sp, reqs, first.name, first.extras, v, yanked_ok)
        if not linked and sp.broken(cand) is not None:
            continue
        if _python_ok(sp, cand):
            return cand
    return None


def _verify(
    sp: Provider, picked: Mapping[str, Candidate], reqs: Mapping[str, Sequence[Req]]
) -> dict[str, _Plan] | None:
    """Plans if every pick is resolvelib's whatever the pin order (module docstring)."""
    plans: dict[str, _Plan] = {}
    admits = sp.oracle.admits
    pre = sp.options.pre
    for ident, cand in picked.items():
        ident_reqs = reqs[ident]
        order = _order(sp, ident_reqs)
        if order is None:
            return None
        name = ident_reqs[0].name
        if not pre and (cand.version.is_prerelease or any(
            s.prereleases for s in (
                *(r.specifier for r in ident_reqs),
                *(c.specifier for c in sp.constraints.get(name, ())),
            )
        )):
            # Whether prereleases are offered depends on which requirements
            # are known when (Provider._ordered_versions): resolvelib decides.
            return None
        linked = name in sp.links
        yanked_ok = sp._exact_user_pins(name, ident_reqs)
        looked_at: list[Version] = []
        dropped: list[Candidate] = []
        skipped: list[Candidate] = []
        for v in order:
            if v == cand.version:
                break
            if v.is_prerelease and not pre:
                continue  # a final release is installable: never offered
            hits = [admits(r.specifier, v) for r in ident_reqs]
            if not any(hits):
                continue
            if not all(hits) or linked:
                return None  # offered or not depending on pin order
            looked_at.append(v)
            if not sp.view.installable(name, v, v in yanked_ok):
                continue
            other = _candidate(sp, ident_reqs, name, cand.extras, v, yanked_ok)
            if sp.broken(other) is not None:
                if v in yanked_ok:
                    return None  # resolvelib raises on a broken exact pin
                skipped.append(other)
                continue
            if cand.extras or _python_ok(sp, other):
                return None
            dropped.append(other)
        else:
            return None  # c is not in G(I)
        if not _admitted(sp, ident_reqs, cand.version) or not _python_ok(sp, cand):
            return None
        if not linked and not sp.view.installable(name, cand.version, cand.version in yanked_ok):
            return None
        plans[ident] = _Plan(chosen=cand, looked_at=tuple(looked_at), dropped=tuple(dropped),
                             skipped=tuple(skipped), yanked_ok=yanked_ok)
    return plans


def _commit(provider: Provider, roots: Sequence[Req], plans: Mapping[str, _Plan]) -> Replayed:
    """Ask ``provider`` resolvelib's questions and shape its result."""
    view = provider.view
    mapping: dict[str, Any] = {}
    parents: dict[str, set[str | None]] = defaultdict(set)
    for r in roots:
        parents[r.identifier].add(None)
    has_python = False
    for ident, plan in plans.items():
        cand = plan.chosen
        if cand.link is None:
            view.preferred(cand.name)
            for v in (*plan.looked_at, cand.version):
                view.installable(cand.name, v, v in plan.yanked_ok)
            for passed in plan.skipped:
                provider.skipped(passed, pinned=False)
            cand = provider._candidates.setdefault((cand.name, cand.version, cand.extras), cand)
        for tried in (*plan.dropped, cand):
            for dep in provider.get_dependencies(tried):
                if isinstance(dep, PythonReq):
                    view.python(dep.specifier)
                    has_python = True
                elif tried is cand:
                    parents[dep.identifier].add(ident)
        mapping[ident] = cand
    if has_python:
        mapping[PYTHON] = PythonCandidate(environment=view.environment)
    return Replayed(mapping=mapping, graph=_Graph(parents))
