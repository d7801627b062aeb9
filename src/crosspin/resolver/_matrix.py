"""The fork scheduler: resolve direct requirements for every environment of a matrix.

Forks are solved from the newest Python down; each prefers the versions
earlier forks chose (DESIGN.md item 4), so versions split only where a
constraint or Requires-Python forces it. An environment that answers every
question an earlier fork asked (markers, Requires-Python, wheel tags) the
same way reuses that fork's result instead of resolving again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version
from resolvelib import BaseReporter, ResolutionImpossible, ResolutionTooDeep, Resolver

from crosspin.environments import Environment, Matrix, describe_environments
from crosspin.errors import NotInstallableError, ResolutionError
from crosspin.resolver._lookahead import Lookahead
from crosspin.resolver._model import (
    PYTHON,
    Candidate,
    ForkResult,
    Pin,
    PythonReq,
    Rejection,
    Req,
    ResolveOptions,
    ResolveRequest,
    Root,
    evaluate_marker,
)
from crosspin.resolver._oracle import EnvironmentView, Oracle
from crosspin.resolver._provider import (
    Finder,
    ForkInputs,
    Metadata,
    Provider,
    requirement_chain,
)
from crosspin.resolver._replay import replay

__all__ = ["resolve_environment", "resolve_matrix"]

@attrs.define
class _Solved:
    view: EnvironmentView
    result: ForkResult


def resolve_matrix(
    request: ResolveRequest,
    *,
    finder: Finder,
    metadata: Metadata,
    on_fork: Callable[[Environment, bool], None] | None = None,
) -> list[ForkResult]:
    """One :class:`ForkResult` per environment class of the request's matrix.

    ``on_fork`` hears of every environment as it is done (``True`` when it
    reused an earlier fork's answers). Raises :class:`ResolutionError` (or
    :class:`NotInstallableError`) naming every environment that has no
    solution, after trying them all.
    """
    ahead = _start_lookahead(request, finder, metadata) if request.lookahead else None
    try:
        return _resolve_matrix(request, finder, metadata, on_fork)
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


def _resolve_matrix(
    request: ResolveRequest,
    finder: Finder,
    metadata: Metadata,
    on_fork: Callable[[Environment, bool], None] | None,
) -> list[ForkResult]:
    options = request.options
    solved: list[_Solved] = []
    oracle = Oracle(finder.project_releases, options)
    chosen: dict[str, list[Version]] = defaultdict(list)
    failures: list[tuple[Environment, ResolutionError]] = []
    for env in request.matrix.environments:
        reused = next((s for s in solved if s.view.same_answers(env)), None)
        if reused is not None:
            reused.result = attrs.evolve(
                reused.result, environments=(*reused.result.environments, env)
            )
            if on_fork:
                on_fork(env, True)
            continue
        prefs: dict[str, list[Version]] = defaultdict(list)
        if request.existing is not None:
            for name, version in request.existing(env).items():
                prefs[name].append(version)
        direct = _direct_names(env, request.roots)
        for name, versions in chosen.items():
            # A package this fork resolves lowest takes its own lowest: an
            # earlier fork's pick is a "newest" to share, not a lower bound.
            if not _lowest(options, name, direct):
                prefs[name].extend(sorted(versions, reverse=True))
        try:
            view, result = resolve_environment(
                env, request, finder=finder, metadata=metadata, preferences=prefs,
                oracle=oracle,
            )
        except ResolutionError as exc:
            failures.append((env, exc))
            if on_fork:
                on_fork(env, False)
            continue
        if on_fork:
            on_fork(env, False)
        for name, pin in result.pins.items():
            # A lowest pick is not shared: later forks that resolve the
            # package highest take their own newest (uv does the same).
            if _lowest(options, name, direct):
                continue
            if pin.version not in chosen[name]:
                chosen[name].append(pin.version)
        solved.append(_Solved(view=view, result=result))
    if failures:
        raise _combine(failures, request.matrix)
    return [s.result for s in solved]


def _direct_names(env: Environment, roots: Sequence[Root]) -> frozenset[str]:
    """Names of the roots whose markers are true in ``env``."""
    return frozenset(
        canonicalize_name(r.requirement.name) for r in roots
        if r.requirement.marker is None
        or evaluate_marker(r.requirement.marker, env, frozenset())
    )


def _lowest(options: ResolveOptions, name: str, direct: frozenset[str]) -> bool:
    """Whether ``name`` is resolved to its lowest version in a fork with these roots."""
    return options.resolution == "lowest" or (
        options.resolution == "lowest-direct" and name in direct
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


def resolve_environment(
    env: Environment,
    request: ResolveRequest,
    *,
    finder: Finder,
    metadata: Metadata,
    preferences: Mapping[str, Sequence[Version]] | None = None,
    oracle: Oracle | None = None,
) -> tuple[EnvironmentView, ForkResult]:
    """Resolve the request's roots for one environment (its matrix is not consulted).

    ``oracle`` shares facts and answers with other environments of the same
    run (:func:`resolve_matrix` passes one); a fresh one is made otherwise.
    """
    options = request.options
    view = EnvironmentView(env, oracle or Oracle(finder.project_releases, options))
    active_roots = [
        r for r in request.roots
        if r.requirement.marker is None or view.marker(r.requirement.marker)
    ]
    reqs = [
        Req.from_requirement(r.requirement, origin=r.origin, link=r.link) for r in active_roots
    ]
    constraint_map: dict[str, list[Req]] = defaultdict(list)
    for c in request.constraints:
        if c.requirement.marker is None or view.marker(c.requirement.marker):
            req = Req.from_requirement(c.requirement, origin=c.origin, link=c.link)
            constraint_map[req.name].append(req)
    override_map: dict[str, list[Requirement]] = defaultdict(list)
    for o in request.overrides:
        override_map[canonicalize_name(o.requirement.name)].append(o.requirement)
    fork = ForkInputs(
        constraints=constraint_map,
        overrides=override_map,
        preferences=preferences or {},
        direct_names=frozenset(r.name for r in reqs),
        links=request.links,
    )

    def make_provider(on: EnvironmentView) -> Provider:
        return Provider(view=on, finder=finder, metadata=metadata, options=options, fork=fork)

    provider = make_provider(view)
    for r in reqs:
        provider.introduced[r.name].append(r)
    finder.prefetch_projects(r.name for r in reqs)
    if request.fast_path:
        replayed = replay(
            provider, reqs, lambda: make_provider(EnvironmentView(env, view.oracle))
        )
        if replayed is not None:
            pins = _pins(replayed, provider, active_roots)
            return view, ForkResult(environments=(env,), pins=pins, skipped=_skipped(provider))
    resolver: Resolver[Any, Any, str] = Resolver(provider, BaseReporter())
    try:
        result = resolver.resolve(reqs, max_rounds=20000)
    except ResolutionImpossible as exc:
        raise _explain(exc, provider, env) from None
    except ResolutionTooDeep:
        raise ResolutionError(
            "the resolver gave up after too many backtracking rounds",
            environments=[env.name],
            hint="add constraints to narrow the search",
        ) from None
    return view, ForkResult(environments=(env,), pins=_pins(result, provider, active_roots),
                            skipped=_skipped(provider))


def _skipped(provider: Provider) -> tuple[Rejection, ...]:
    """The versions a fork passed over for their metadata, in name and version order."""
    found = [r for by_text in provider.rejections.values() for r in by_text.values()
             if r.kind in _SKIP_KINDS]
    return tuple(sorted(found, key=lambda r: (r.name, r.version or Version("0"))))


def _explain(
    exc: ResolutionImpossible[Any, Any], provider: Provider, env: Environment
) -> ResolutionError:
    causes = list(exc.causes)
    names = []
    for cause in causes:
        req = cause.requirement
        if isinstance(req, Req) and req.name not in names:
            names.append(req.name)
    for name in names:
        if name in provider.exhausted and provider.rejections.get(name):
            return _not_installable(name, provider.rejections[name], env)
    chains: list[str] = []
    python_reqs: list[str] = []
    for cause in causes:
        req = cause.requirement
        if isinstance(req, PythonReq):
            python_reqs.append(f"{cause.parent} requires Python{req.specifier}")
            continue
        chain = _chain_for(provider, req, cause.parent)
        if chain not in chains:
            chains.append(chain)
    for name in names:
        # A constraint (e.g. "-c main.txt" in a layered lock) is half of the conflict.
        for constraint in provider.constraints.get(name, ()):
            chain = f"{constraint.origin or 'constraint'} -> {constraint}"
            if chain not in chains:
                chains.append(chain)
    if python_reqs and not chains:
        return ResolutionError(
            f"every candidate needs a newer Python: {'; '.join(sorted(set(python_reqs)))}",
            environments=[env.name],
        )
    what = ", ".join(names) if names else "the requirements"
    reason = f"conflicting requirements on {what}"
    if len(chains) == 1 and names:
        reason = f"no version of {names[0]} satisfies the requirements"
    skipped = sorted(t for n in names for t in provider.rejections.get(n, {}))
    if skipped:
        reason += f" (skipped: {'; '.join(skipped)})"
    return ResolutionError(reason, environments=[env.name], chains=chains)


def _not_installable(
    name: str, rejections: Mapping[str, Rejection], env: Environment
) -> NotInstallableError:
    """The error for a package none of whose versions is usable in ``env``.

    The kind is the environment's own limit when there is one (Requires-Python,
    tags, builds), else the metadata problem that ruled the versions out.
    """
    ordered = sorted(rejections.values(), key=lambda r: (r.kind in _SKIP_KINDS, str(r)))
    main = ordered[0]
    return NotInstallableError(
        name, [env.name], reason="; ".join(str(r) for r in ordered), kind=main.kind,
        requires_python=str(main.requires_python) if main.requires_python else None,
    )


#: Rejections of one version for its metadata (not for this environment).
_SKIP_KINDS = frozenset({"invalid-metadata", "build-failed"})


def _chain_for(provider: Provider, req: Req, parent: Any) -> str:
    if parent is None:
        return f"{req.origin or 'root'} -> {req}"
    pinned = f"{parent.name}=={parent.version}"
    upstream = requirement_chain(provider.introduced, str(parent.name), last=pinned)
    return f"{upstream or pinned} -> {req}"


def _pins(result: Any, provider: Provider, roots: Sequence[Root]) -> dict[NormalizedName, Pin]:
    mapping: Mapping[str, Any] = result.mapping
    graph = result.graph
    root_extras: dict[str, set[str]] = defaultdict(set)
    root_origins: dict[str, set[str]] = defaultdict(set)
    for r in roots:
        name = canonicalize_name(r.requirement.name)
        root_extras[name].update(canonicalize_name(e) for e in r.requirement.extras)
        root_origins[name].add(r.origin)
    base: dict[str, Candidate] = {}
    for ident, cand in mapping.items():
        if ident == PYTHON:
            continue
        if not cand.extras:
            base[cand.name] = cand
    via: dict[str, set[str]] = defaultdict(set)
    deps: dict[str, set[str]] = defaultdict(set)
    for ident, cand in mapping.items():
        if ident == PYTHON:
            continue
        for parent in graph.iter_parents(ident):
            if parent is None or parent == PYTHON or parent not in mapping:
                # resolvelib keeps a pin that backtracking left unreachable
                # from the roots as a parent in its graph: not in the result.
                continue
            pname = mapping[parent].name
            if pname != cand.name:
                via[cand.name].add(pname)
                deps[pname].add(cand.name)
    markers: dict[str, set[str]] = defaultdict(set)
    unconditional: set[str] = set()
    for child, edges in provider.introduced.items():
        for edge in edges:
            if edge.parent is not None and edge.parent not in base:
                continue
            if edge.marker is None:
                unconditional.add(child)
            else:
                text = provider.oracle.text(edge.marker)  # str() once per marker object
                if "extra" not in text:
                    markers[child].add(text)
    pins: dict[NormalizedName, Pin] = {}
    for base_name, cand in base.items():
        meta = provider.candidate_metadata(cand) if not cand.link else None
        pins[cand.name] = Pin(
            name=cand.name,
            version=cand.version,
            extras=frozenset(root_extras.get(base_name, ())),
            files=cand.files,
            link=cand.link,
            editable=cand.editable,
            # pip-compile names a constraint file that applied: "# via -c main.txt".
            via=frozenset(via[base_name] | root_origins.get(base_name, set()) | {
                c.origin for c in provider.constraints.get(base_name, ())
                if c.origin and c.origin.startswith("-c ")
            }),
            dependencies=frozenset(canonicalize_name(d) for d in deps[base_name]),
            requires_python=meta.requires_python if meta else None,
            edge_markers=frozenset(markers.get(base_name, ())),
            unconditional=base_name in unconditional,
        )
    return pins
