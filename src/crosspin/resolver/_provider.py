"""The resolvelib provider for one environment.

It knows packaging, files and environments; resolvelib knows the algorithm.
Every question it asks of the environment goes through an
:class:`EnvironmentView`, so the scheduler can tell which other
environments would get the same answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Optional, Protocol

import attrs
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version
from resolvelib import AbstractProvider

from crosspin.distributions import DistFile
from crosspin.errors import BuildError, MetadataError
from crosspin.metadata import DistMetadata
from crosspin.resolver._model import (
    PYTHON,
    AnyReq,
    Candidate,
    PythonCandidate,
    PythonReq,
    Rejection,
    Req,
    ResolveOptions,
)
from crosspin.resolver._oracle import EnvironmentView, Question

AnyCandidate = Any  # Candidate | PythonCandidate

#: A candidate's dependencies before markers: fixed ones and, for each other
#: requirement, the questions its marker asks (with the candidate's extras
#: and without; None: no marker) and the requirement.
_Template = tuple[
    tuple[AnyReq, ...], tuple[tuple[Optional[tuple[Question, Question]], Req], ...]
]


class Finder(Protocol):
    """What the provider needs from the index."""

    def project_releases(self, name: str) -> Mapping[Version, tuple[DistFile, ...]]:
        """Every version of a project with its files (built lazily where the finder can)."""

    def prefetch_projects(self, names: Iterable[str]) -> None:
        """Start fetching project pages in the background."""

    def prefetch_metadata(self, files: Iterable[DistFile]) -> None:
        """Start fetching wheel metadata in the background."""


class Metadata(Protocol):
    """What the provider needs from the metadata layer."""

    def get(self, name: str, version: Version, files: Sequence[DistFile]) -> DistMetadata:
        """Metadata of ``name==version``."""


@attrs.frozen(kw_only=True)
class ForkInputs:
    """What one environment's resolution starts from, besides its roots.

    Constraints and overrides by name (already filtered by this
    environment's markers), the names of the roots, and candidates for
    direct references. Preferred versions (the existing lock's pins) are
    questions to the environment's view, not inputs: environments whose
    pins differ must not share a resolution.
    """

    constraints: Mapping[str, Sequence[Req]]
    overrides: Mapping[str, Sequence[Requirement]]
    direct_names: frozenset[str]
    links: Mapping[str, Candidate]


class Provider(AbstractProvider[Any, Any, str]):
    """Resolve direct requirements for one environment."""

    def __init__(
        self,
        *,
        view: EnvironmentView,
        finder: Finder,
        metadata: Metadata,
        options: ResolveOptions,
        fork: ForkInputs,
    ) -> None:
        self.view = view
        self.oracle = view.oracle
        self.finder = finder
        self.metadata = metadata
        self.options = options
        self.constraints = fork.constraints
        self.overrides = fork.overrides
        self.direct_names = fork.direct_names
        self.links = fork.links
        #: name -> why versions were passed over here (for messages and -v),
        #: keyed by their text so each reason is kept once.
        self.rejections: dict[str, dict[str, Rejection]] = defaultdict(dict)
        #: Names for which some find_matches offered no candidate at all.
        self.exhausted: set[str] = set()
        #: child name -> requirements that introduced it (for chains and via).
        self.introduced: dict[str, list[Req]] = defaultdict(list)
        self._candidates: dict[tuple[str, Version, frozenset[str]], Candidate] = {}
        self._deps: dict[tuple[str, Version, frozenset[str]], list[AnyReq]] = {}

    # -- resolvelib interface ------------------------------------------------

    def identify(self, requirement_or_candidate: Any) -> str:
        """The identifier (name or ``name[extras]``)."""
        return str(requirement_or_candidate.identifier)

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, Any],
        candidates: Mapping[str, Iterator[Any]],
        information: Mapping[str, Iterator[Any]],
        backtrack_causes: Sequence[Any],
    ) -> Any:
        """Python first, then pinned and direct names, conflict causes, then by name."""
        if identifier == PYTHON:
            return (0, 0, 0, 0, identifier)
        infos = list(information[identifier])
        pinned = any(
            isinstance(i.requirement, Req)
            and any(s.operator in ("==", "===") and "*" not in s.version
                    for s in i.requirement.specifier)
            for i in infos
        )
        direct = any(i.parent is None for i in infos)
        causes = {self.identify(c.requirement) for c in backtrack_causes}
        causes |= {c.parent.identifier for c in backtrack_causes if c.parent is not None}
        return (1, not pinned, identifier not in causes, not direct, identifier)

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[AnyReq]],
        incompatibilities: Mapping[str, Iterator[AnyCandidate]],
    ) -> Any:
        """Candidates for ``identifier`` in preference order."""
        reqs = list(requirements[identifier])
        if identifier == PYTHON:
            # The target Python is the only candidate; once backtracking has
            # ruled it out it must stay out, or resolvelib would re-pin it forever.
            python = PythonCandidate(environment=self.view.environment)
            ok = all(self.view.python(r.specifier) for r in reqs)
            return [python] if ok and python not in list(incompatibilities[identifier]) else []
        bad = {c.version for c in incompatibilities[identifier]}
        first = reqs[0]
        assert isinstance(first, Req)
        name, extras = first.name, first.extras
        link_candidate = self.links.get(name)
        if link_candidate is not None:
            cand = Candidate(
                name=name, version=link_candidate.version, extras=extras,
                files=link_candidate.files, link=link_candidate.link,
                editable=link_candidate.editable,
            )
            if cand.version in bad:
                return []
            specs = [r.specifier for r in reqs if isinstance(r, Req)]
            specs += [c.specifier for c in self.constraints.get(name, ())]
            if all(s.contains(cand.version, prereleases=True) for s in specs):
                return [cand]
            return []
        yanked_ok = self._exact_user_pins(name, reqs)
        order = self._ordered_versions(name, reqs, bad, yanked_ok)
        cache = self._candidates
        if order:
            self.finder.prefetch_metadata(
                self.oracle.usable_files(name, order[0], order[0] in yanked_ok)[:1]
            )

        def candidates() -> Iterator[Candidate]:
            # Lazy: installability is only asked about versions the resolver
            # actually reaches, so environments split on what is looked at.
            found = False
            for v in order:
                if not self.view.installable(name, v, v in yanked_ok):
                    continue
                key = (name, v, extras)
                cand = cache.get(key)
                if cand is None:
                    files = self.oracle.usable_files(name, v, v in yanked_ok)
                    cand = cache[key] = Candidate(name=name, version=v, extras=extras, files=files)
                if self.skipped(cand, pinned=v in yanked_ok):
                    continue
                found = True
                yield cand
            if not found:
                self.exhausted.add(name)
            if not found and self.oracle.versions(name) and not any(
                self.view.installable(name, v, False) for v in self.oracle.newest_first(name)
            ):
                self.reject(self.oracle.not_installable(self.view.environment, name))

        return candidates

    def reject(self, rejection: Rejection) -> None:
        """Remember why a version (or every version) was passed over here."""
        self.rejections[rejection.name].setdefault(str(rejection), rejection)

    def skipped(self, candidate: Candidate, *, pinned: bool) -> bool:
        """Whether a candidate is passed over for its metadata, like a yanked release.

        Invalid metadata or an sdist that cannot be built for its metadata
        rules a version out everywhere (pip and uv skip it too); the reason
        is kept for ``-v`` and for the error if nothing else fits. When the
        user pinned that version with ``==`` it is an error naming it.
        """
        problem = self.broken(candidate)
        if problem is None:
            return False
        if pinned:
            if problem.kind == "build-failed":
                # The metadata layer's own error: the sdist's name, the backend's last lines.
                self._template_of(candidate)
            what = f"{candidate.name} {candidate.version}"
            if problem.kind == "build-failed":
                raise BuildError(what, problem.detail)
            raise MetadataError(what, problem.detail)
        self.reject(problem)
        return True

    def broken(self, candidate: Candidate) -> Rejection | None:
        """Why a candidate's metadata rules it out, or None (memoised for the run)."""
        key = (candidate.name, candidate.version, candidate.link)
        if key in self.oracle.broken:
            return self.oracle.broken[key]
        problem: Rejection | None = None
        try:
            self._template_of(candidate)
        except BuildError as exc:
            # A build log ends with what went wrong.
            problem = Rejection(name=candidate.name, version=candidate.version,
                                kind="build-failed", detail=_one_line(exc.reason, last=True))
        except MetadataError as exc:
            # A parse error starts with the bad line (then packaging's caret drawing).
            problem = Rejection(name=candidate.name, version=candidate.version,
                                kind="invalid-metadata", detail=_one_line(exc.reason))
        self.oracle.broken[key] = problem
        return problem

    def _ordered_versions(
        self, name: str, reqs: Sequence[AnyReq], bad: set[Version], yanked_ok: frozenset[Version]
    ) -> list[Version]:
        """Versions admitted by every requirement and constraint, in preference order.

        Prereleases only where pip takes them: with ``--pre``, when a
        specifier names a prerelease (``>=2.0b1``), or when no final release
        that installs here satisfies the specifiers at all. Never as a
        fallback after final releases were rejected for other reasons.
        Without ``--pre`` final releases come first.
        """
        specs = [r.specifier for r in reqs if isinstance(r, Req)]
        specs += [c.specifier for c in self.constraints.get(name, ())]
        admits = self.oracle.admits
        admitted = [v for v in self.oracle.newest_first(name) if all(admits(s, v) for s in specs)]
        # pip decides on every release the specifiers admit, before backtracking
        # rules some out: an excluded final release still keeps prereleases away.
        if (
            not self.options.pre
            and any(v.is_prerelease for v in admitted)
            and not any(s.prereleases for s in specs)
            and self._final_installs(name, admitted, yanked_ok)
        ):
            admitted = [v for v in admitted if not v.is_prerelease]
        matching = [v for v in admitted if v not in bad]
        if self.options.resolution == "lowest" or (
            self.options.resolution == "lowest-direct" and name in self.direct_names
        ):
            matching.reverse()
        if not self.options.pre:
            # Where a specifier names a prerelease, final releases still come
            # first (uv's and the packse scenarios' "stable preference").
            matching = [v for v in matching if not v.is_prerelease] + [
                v for v in matching if v.is_prerelease
            ]
        allowed = set(matching)
        preferred = [v for v in self.preferred(name) if v in allowed]
        return list(dict.fromkeys([*preferred, *matching]))

    def preferred(self, name: str) -> tuple[Version, ...]:
        """Versions tried first: the existing lock's pin here (asked of the view)."""
        pinned = self.view.preferred(name)
        return () if pinned is None else (pinned,)

    def _final_installs(
        self, name: str, admitted: Sequence[Version], yanked_ok: frozenset[Version]
    ) -> bool:
        """Whether some admitted final release installs here.

        Preferred versions are asked first: the resolver asks about them
        anyway, so the answer rarely adds a question to the view.
        """
        wanted = set(admitted)
        first = [v for v in self.preferred(name) if v in wanted]
        return any(
            not v.is_prerelease and self.view.installable(name, v, v in yanked_ok)
            for v in dict.fromkeys([*first, *admitted])
        )

    def _exact_user_pins(self, name: str, reqs: Sequence[AnyReq]) -> frozenset[Version]:
        """Versions pinned exactly by the user: only these may be yanked (PEP 592).

        A root requirement or a constraint counts, a dependency does not.
        """
        user_reqs = [r for r in reqs if isinstance(r, Req) and r.origin is not None]
        user_reqs += list(self.constraints.get(name, ()))
        return frozenset(
            v
            for r in user_reqs
            for s in r.specifier
            if s.operator in ("==", "===") and "*" not in s.version
            for v in [_version_or_none(s.version)]
            if v is not None
        )

    def is_satisfied_by(self, requirement: AnyReq, candidate: AnyCandidate) -> bool:
        """Whether a candidate meets a requirement."""
        if isinstance(requirement, PythonReq):
            return self.view.python(requirement.specifier)
        if requirement.link and candidate.link and requirement.link != candidate.link:
            return False
        return self.oracle.admits(requirement.specifier, candidate.version)

    def get_dependencies(self, candidate: AnyCandidate) -> list[AnyReq]:
        """Requirements of a candidate that apply in this environment."""
        if isinstance(candidate, PythonCandidate):
            return []
        key = (candidate.name, candidate.version, candidate.extras)
        cached = self._deps.get(key)
        if cached is not None:
            return cached
        deps = self._dependencies(candidate)
        self._deps[key] = deps
        for d in deps:
            if isinstance(d, Req):
                self.introduced[d.name].append(d)
        self.finder.prefetch_projects(d.name for d in deps if isinstance(d, Req))
        return deps

    # -- helpers -------------------------------------------------------------

    def candidate_metadata(self, candidate: Candidate) -> DistMetadata:
        """Metadata of a candidate (memoised by the metadata layer)."""
        return self.metadata.get(candidate.name, candidate.version, candidate.files)

    def requires_python(self, candidate: Candidate) -> SpecifierSet | None:
        """A candidate's Requires-Python, from its dependencies' template (built once a run).

        None for a candidate with extras: its base candidate carries it.
        """
        for dep in self._template_of(candidate)[0]:
            if isinstance(dep, PythonReq):
                return dep.specifier
        return None

    def _template_of(self, candidate: Candidate) -> _Template:
        key = (candidate.name, candidate.version, candidate.extras, candidate.link)
        template: _Template | None = self.oracle.dependency_templates.get(key)
        if template is None:
            template = self.oracle.dependency_templates[key] = self._template(candidate)
        return template

    def _dependencies(self, candidate: Candidate) -> list[AnyReq]:
        fixed, entries = self._template_of(candidate)
        out: list[AnyReq] = list(fixed)
        extras = candidate.extras
        ask = self.view.ask
        for questions, dep in entries:
            if questions is not None:
                if extras:
                    # Only what the extra adds: true with the extra, false without.
                    if not ask(questions[0]) or ask(questions[1]):
                        continue
                elif not ask(questions[1]):
                    continue
            elif extras:
                continue
            replaced = self.overrides.get(dep.name)
            if replaced is not None:
                for o in replaced:
                    if o.marker is None or self.view.marker(o.marker):
                        out.append(Req.from_requirement(o, parent=dep.parent))
                continue
            out.append(dep)
        return out

    def _template(self, candidate: Candidate) -> _Template:
        """A candidate's dependencies before markers are evaluated: the same in every fork.

        Shared through the oracle, so the forks of a matrix build each
        requirement once and only answer its marker.
        """
        meta = self.candidate_metadata(candidate)
        fixed: list[AnyReq] = []
        parent = str(candidate.name)
        if candidate.extras:
            # name[x] depends on name itself at the same version, plus the
            # requirements that only the extra turns on.
            fixed.append(Req(name=candidate.name, specifier=SpecifierSet(f"=={candidate.version}"),
                             link=candidate.link, parent=parent))
        if meta.requires_python is not None and not candidate.extras:
            fixed.append(PythonReq(specifier=meta.requires_python, parent=parent))
        entries = tuple(
            (None if req.marker is None else (
                self.view.marker_question(req.marker, candidate.extras),
                self.view.marker_question(req.marker),
            ), Req.from_requirement(req, parent=parent))
            for req in meta.requires_dist
        )
        return tuple(fixed), entries


def _one_line(text: str, *, last: bool = False) -> str:
    """The first (or last) non-empty line of a multi-line message."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return text
    return lines[-1] if last else lines[0]


def _version_or_none(text: str) -> Version | None:
    # ``===`` takes arbitrary strings; those never name a yanked release.
    try:
        return Version(text)
    except InvalidVersion:
        return None


def requirement_chain(
    introduced: Mapping[str, Sequence[Req]], name: str, limit: int = 12, *,
    last: str | None = None,
) -> str:
    """``-r requirements.in -> a -> b<2``: how ``name`` was reached from a root.

    ``last`` replaces the requirement on ``name`` itself (the final step):
    a conflict chain shows the pin there (``b==1.0``), and the requirement
    the pin satisfies would only repeat the name.
    """
    parts: list[str] = []
    seen: set[str] = set()
    current = name
    req: Req | None = None
    while len(parts) < limit:
        reqs = introduced.get(current)
        if not reqs:
            break
        req = reqs[0]
        parts.append(last if last is not None and current == name else str(req))
        if req.parent is None or req.parent in seen:
            if req.origin:
                parts.append(req.origin)
            break
        seen.add(current)
        current = req.parent
    return " -> ".join(reversed(parts))


def normalise(name: str) -> NormalizedName:
    """Canonical project name."""
    return canonicalize_name(name)
