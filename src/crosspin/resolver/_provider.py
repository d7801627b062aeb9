"""The resolvelib provider for one environment.

It knows packaging, files and environments; resolvelib knows the algorithm.
Every question it asks of the environment goes through an
:class:`EnvironmentView`, so the scheduler can tell which other
environments would get the same answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version
from resolvelib import AbstractProvider

from crosspin.distributions import DistFile
from crosspin.metadata import DistMetadata
from crosspin.resolver._model import (
    PYTHON,
    AnyReq,
    Candidate,
    EnvironmentView,
    PythonCandidate,
    PythonReq,
    Req,
    ResolveOptions,
)

AnyCandidate = Any  # Candidate | PythonCandidate


class Finder(Protocol):
    """What the provider needs from the index."""

    def project_files(self, name: str) -> tuple[DistFile, ...]:
        """Every file of a project."""

    def prefetch_projects(self, names: Iterable[str]) -> None:
        """Start fetching project pages in the background."""

    def prefetch_metadata(self, files: Iterable[DistFile]) -> None:
        """Start fetching wheel metadata in the background."""


class Metadata(Protocol):
    """What the provider needs from the metadata layer."""

    def get(self, name: str, version: Version, files: Sequence[DistFile]) -> DistMetadata:
        """Metadata of ``name==version``."""


class Provider(AbstractProvider[Any, Any, str]):
    """Resolve direct requirements for one environment."""

    def __init__(
        self,
        *,
        view: EnvironmentView,
        finder: Finder,
        metadata: Metadata,
        options: ResolveOptions,
        constraints: Mapping[str, Sequence[Req]],
        overrides: Mapping[str, Sequence[Requirement]],
        preferences: Mapping[str, Sequence[Version]],
        direct_names: frozenset[str],
        links: Mapping[str, Candidate],
    ) -> None:
        self.view = view
        self.finder = finder
        self.metadata = metadata
        self.options = options
        self.constraints = constraints
        self.overrides = overrides
        self.preferences = preferences
        self.direct_names = direct_names
        self.links = links
        #: name -> why no version fitted (for "not installable" messages).
        self.rejections: dict[str, set[str]] = defaultdict(set)
        #: child name -> requirements that introduced it (for chains and via).
        self.introduced: dict[str, list[Req]] = defaultdict(list)
        self._versions: dict[str, dict[Version, list[DistFile]]] = {}
        self._deps: dict[tuple[str, str, frozenset[str]], list[AnyReq]] = {}

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
    ) -> list[AnyCandidate]:
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
        versions = self._usable_versions(name, reqs)
        spec = SpecifierSet()
        for r in reqs:
            assert isinstance(r, Req)
            spec &= r.specifier
        for c in self.constraints.get(name, ()):
            spec &= c.specifier
        matching = [v for v in versions if v not in bad and spec.contains(v, prereleases=True)]
        if not matching:
            if not versions and self._versions.get(name):
                self.rejections[name].add("no file is installable here")
            return []
        lowest = self.options.resolution == "lowest" or (
            self.options.resolution == "lowest-direct" and name in self.direct_names
        )
        matching.sort(reverse=not lowest)
        if not self.options.pre:
            # Stable releases first, prereleases after them. A prerelease is
            # only reached when every stable release in range has been
            # rejected (or a specifier names one explicitly, which the
            # ordering leaves unchanged): the resolver falls back to it
            # instead of reporting a false conflict.
            matching = [v for v in matching if not v.is_prerelease] + [
                v for v in matching if v.is_prerelease
            ]
        preferred = [v for v in self.preferences.get(name, ()) if v in set(matching)]
        order = list(dict.fromkeys([*preferred, *matching]))
        candidates = [
            Candidate(name=name, version=v, extras=extras, files=tuple(versions[v]))
            for v in order
        ]
        if candidates:
            self.finder.prefetch_metadata(candidates[0].files[:1])
        return candidates

    def is_satisfied_by(self, requirement: AnyReq, candidate: AnyCandidate) -> bool:
        """Whether a candidate meets a requirement."""
        if isinstance(requirement, PythonReq):
            return self.view.python(requirement.specifier)
        if requirement.link and candidate.link and requirement.link != candidate.link:
            return False
        return bool(requirement.specifier.contains(candidate.version, prereleases=True))

    def get_dependencies(self, candidate: AnyCandidate) -> list[AnyReq]:
        """Requirements of a candidate that apply in this environment."""
        if isinstance(candidate, PythonCandidate):
            return []
        key = (candidate.name, str(candidate.version), candidate.extras)
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

    def _dependencies(self, candidate: Candidate) -> list[AnyReq]:
        meta = self.candidate_metadata(candidate)
        out: list[AnyReq] = []
        parent = str(candidate.name)
        if candidate.extras:
            # name[x] depends on name itself at the same version, plus the
            # requirements that only the extra turns on.
            out.append(Req(name=candidate.name, specifier=SpecifierSet(f"=={candidate.version}"),
                           link=candidate.link, parent=parent))
        if meta.requires_python is not None and not candidate.extras:
            out.append(PythonReq(specifier=meta.requires_python, parent=parent))
        for req in meta.requires_dist:
            if req.marker is not None:
                if candidate.extras:
                    # Only what the extra adds: true with the extra, false without.
                    if not self.view.marker(req.marker, candidate.extras):
                        continue
                    if self.view.marker(req.marker):
                        continue
                elif not self.view.marker(req.marker):
                    continue
            elif candidate.extras:
                continue
            dep_name = canonicalize_name(req.name)
            replaced = self.overrides.get(dep_name)
            if replaced is not None:
                for o in replaced:
                    if o.marker is None or self.view.marker(o.marker):
                        out.append(Req.from_requirement(o, parent=parent))
                continue
            out.append(Req.from_requirement(req, parent=parent))
        return out

    def _usable_versions(self, name: str, reqs: Sequence[AnyReq]) -> dict[Version, list[DistFile]]:
        """Versions with at least one file this environment can use."""
        if name not in self._versions:
            by_version: dict[Version, list[DistFile]] = defaultdict(list)
            for f in self.finder.project_files(name):
                by_version[f.version].append(f)
            self._versions[name] = dict(by_version)
        # A yanked version is usable only when the user pins it exactly
        # (PEP 592): a root requirement or a constraint, not a dependency.
        user_reqs = [r for r in reqs if isinstance(r, Req) and r.origin is not None]
        user_reqs += list(self.constraints.get(name, ()))
        pinned = {
            v
            for r in user_reqs
            for s in r.specifier
            if s.operator in ("==", "===") and "*" not in s.version
            for v in [_version_or_none(s.version)]
            if v is not None
        }
        wheels_ok = self.options.may_use_wheels(name)
        build_ok = self.options.may_build(name)
        usable: dict[Version, list[DistFile]] = {}
        for version, files in self._versions[name].items():
            live = [f for f in files if not f.is_yanked or version in pinned]
            if not live:
                continue
            installable = False
            for f in live:
                if f.requires_python is not None and not self.view.python(f.requires_python):
                    continue
                if f.is_wheel:
                    if wheels_ok and self.view.wheel(f.tags):
                        installable = True
                        break
                elif build_ok:
                    installable = True
                    break
            if installable:
                # Wheels are kept for metadata even when no wheel installs here
                # (all wheels of a version share metadata) unless forbidden.
                usable[version] = [f for f in live if build_ok or f.is_wheel]
        return usable


def _version_or_none(text: str) -> Version | None:
    # ``===`` takes arbitrary strings; those never name a yanked release.
    try:
        return Version(text)
    except InvalidVersion:
        return None


def requirement_chain(introduced: Mapping[str, Sequence[Req]], name: str, limit: int = 12) -> str:
    """``-r requirements.in -> a -> b<2``: how ``name`` was reached from a root."""
    parts: list[str] = []
    seen: set[str] = set()
    current = name
    req: Req | None = None
    while len(parts) < limit:
        reqs = introduced.get(current)
        if not reqs:
            break
        req = reqs[0]
        parts.append(str(req))
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
