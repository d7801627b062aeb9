"""One fork: resolve the roots for one environment with resolvelib (or the replay).

:func:`resolve_environment` builds the provider for an environment's view,
tries the replay fast path, else runs resolvelib; turns its result into
pins (``_pins``) and a failure into a :class:`ResolutionError` that names
the conflict or why nothing installs (``_explain``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version
from resolvelib import BaseReporter, ResolutionImpossible, ResolutionTooDeep, Resolver

from crosspin.environments import Environment
from crosspin.errors import NotInstallableError, ResolutionError
from crosspin.resolver._model import (
    PYTHON,
    Bound,
    Candidate,
    ForkResult,
    Pin,
    PythonReq,
    Rejection,
    Req,
    ResolveRequest,
    Root,
)
from crosspin.resolver._oracle import EnvironmentView, Oracle
from crosspin.resolver._provider import (
    Finder,
    ForkInputs,
    Metadata,
    Provider,
    requirement_chain,
)
from crosspin.resolver._replay import Seed, replay

__all__ = ["resolve_environment", "resolve_view"]


def resolve_environment(
    env: Environment,
    request: ResolveRequest,
    *,
    finder: Finder,
    metadata: Metadata,
    oracle: Oracle | None = None,
) -> tuple[EnvironmentView, ForkResult]:
    """Resolve the request's roots for one environment (its matrix is not consulted).

    The environment prefers the versions the existing lock pins there
    (``request.existing``). ``oracle`` shares facts and answers with other
    environments of the same run (:func:`resolve_matrix` passes one); a
    fresh one is made otherwise.
    """
    view = EnvironmentView(env, oracle or Oracle(
        finder.project_releases, request.options, existing=request.existing))
    return view, resolve_view(view, request, finder=finder, metadata=metadata)


def resolve_view(
    view: EnvironmentView, request: ResolveRequest, *, finder: Finder, metadata: Metadata,
    seed: Seed | None = None,
) -> ForkResult:
    """:func:`resolve_environment` on a given view, which records every question asked.

    ``seed`` holds other forks' picks the fast path tries first (the result
    is the same with or without it). Raises :class:`ResolutionError` when
    nothing fits; the view keeps the questions the failed attempt asked
    (the scheduler reads them).
    """
    env = view.environment
    options = request.options
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
            provider, reqs, lambda: make_provider(EnvironmentView(env, view.oracle)), seed
        )
        if replayed is not None:
            return _result(env, replayed, provider, active_roots)
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
    return _result(env, result, provider, active_roots)


def _result(env: Environment, result: Any, provider: Provider, roots: Sequence[Root]) -> ForkResult:
    edges = _edges(result.mapping, provider)
    pins = _pins(result, provider, roots, edges)
    return ForkResult(environments=(env,), pins=pins, skipped=_skipped(provider),
                      bounds=_bounds(edges, provider, pins))


def _bounds(
    edges: Sequence[Req], provider: Provider, pins: Mapping[NormalizedName, Pin]
) -> dict[NormalizedName, tuple[Bound, ...]]:
    """Who asks for which versions of each pinned name (requirements with a specifier)."""
    found: dict[NormalizedName, dict[tuple[str, str], Bound]] = defaultdict(dict)
    text = provider.oracle.text  # str() once per specifier object for the run
    for edge in edges:
        if not edge.specifier or edge.parent == edge.name or edge.name not in pins:
            continue
        parent = pins.get(canonicalize_name(edge.parent)) if edge.parent else None
        who = (f"{parent.name} {parent.version}" if parent is not None
               else edge.parent or edge.origin or "a direct requirement")
        found[edge.name][(who, text(edge.specifier))] = Bound(who=who, specifier=edge.specifier)
    for constraints in provider.constraints.values():
        for c in constraints:
            if c.specifier and c.name in pins:
                who = c.origin or "a constraint"
                found[c.name][(who, str(c.specifier))] = Bound(who=who, specifier=c.specifier)
    return {name: tuple(b for _, b in sorted(by.items())) for name, by in sorted(found.items())}


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


def _pins(
    result: Any, provider: Provider, roots: Sequence[Root], edges: Sequence[Req]
) -> dict[NormalizedName, Pin]:
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
    for edge in edges:
        if edge.marker is None:
            unconditional.add(edge.name)
        else:
            text = provider.oracle.text(edge.marker)  # str() once per marker object
            if "extra" not in text:
                markers[edge.name].add(text)
    pins: dict[NormalizedName, Pin] = {}
    for base_name, cand in base.items():
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
            requires_python=provider.requires_python(cand) if not cand.link else None,
            edge_markers=frozenset(markers.get(base_name, ())),
            unconditional=base_name in unconditional,
        )
    return pins


def _edges(mapping: Mapping[str, Any], provider: Provider) -> list[Req]:
    """The requirements of the result's own graph: the roots and its pins' dependencies.

    Not ``provider.introduced``, which also holds what versions that
    backtracking passed over asked for: their markers are no hint for the
    pins (and would make two forks with the same pins look different).
    """
    edges = [e for reqs in provider.introduced.values() for e in reqs if e.parent is None]
    for ident, cand in mapping.items():
        if ident != PYTHON:
            edges += (d for d in provider.get_dependencies(cand) if isinstance(d, Req))
    return edges
