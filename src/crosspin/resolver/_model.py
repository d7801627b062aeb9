"""Value objects of one resolution: requirements, candidates, pins, options."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Literal, Union

import attrs
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from crosspin.distributions import DistFile
from crosspin.environments import Environment, Matrix

Resolution = Literal["highest", "lowest", "lowest-direct"]

#: Why a version was passed over in one environment: its (or every file's)
#: Requires-Python excludes the environment, no wheel fits its tags and there
#: is no sdist, only sdists and builds are not allowed, its metadata is
#: invalid, or its sdist cannot be built to read the metadata.
RejectionKind = Literal[
    "requires-python", "no-wheel", "no-build", "invalid-metadata", "build-failed"
]

#: The identifier of the pseudo-package standing for the target Python.
PYTHON = "<python>"


def identifier(name: str, extras: frozenset[str]) -> str:
    """``name`` or ``name[extra1,extra2]``: extras are their own identifiers."""
    if not extras:
        return name
    return f"{name}[{','.join(sorted(extras))}]"


@attrs.frozen(kw_only=True)
class Root:
    """A direct requirement, with where it came from (for ``# via``)."""

    requirement: Requirement
    origin: str
    link: str | None = None
    editable: bool = False


@attrs.frozen(kw_only=True)
class ResolveOptions:
    """Choices that change which candidates a resolution may pick."""

    pre: bool = False
    resolution: Resolution = "highest"
    #: Names (or ``":all:"``) whose sdists must not be built.
    no_build: frozenset[str] = frozenset()
    #: Names (or ``":all:"``) whose wheels must not be used.
    no_binary: frozenset[str] = frozenset()

    def may_build(self, name: str) -> bool:
        """Whether an sdist of ``name`` may be built (for metadata or install)."""
        return ":all:" not in self.no_build and name not in self.no_build

    def may_use_wheels(self, name: str) -> bool:
        """Whether wheels of ``name`` may be used."""
        return ":all:" not in self.no_binary and name not in self.no_binary


@attrs.frozen(kw_only=True)
class Req:
    """A requirement on one identifier as the provider sees it."""

    name: NormalizedName
    extras: frozenset[str] = frozenset()
    specifier: SpecifierSet = SpecifierSet()
    link: str | None = None
    #: ``None`` for requirements from metadata; the origin string for roots.
    origin: str | None = None
    #: The parent's name (for ``# via`` and conflict chains); None for roots.
    parent: str | None = None
    marker: Marker | None = None

    @property
    def identifier(self) -> str:
        """The resolvelib identifier this requirement constrains."""
        return identifier(self.name, self.extras)

    @classmethod
    def from_requirement(
        cls,
        req: Requirement,
        *,
        origin: str | None = None,
        parent: str | None = None,
        link: str | None = None,
    ) -> Req:
        """Wrap a PEP 508 requirement."""
        return cls(
            name=canonicalize_name(req.name),
            extras=frozenset(canonicalize_name(e) for e in req.extras),
            specifier=req.specifier,
            link=link or req.url,
            origin=origin,
            parent=parent,
            marker=req.marker,
        )

    def __str__(self) -> str:
        extras = f"[{','.join(sorted(self.extras))}]" if self.extras else ""
        if self.link:
            return f"{self.name}{extras} @ {self.link}"
        return f"{self.name}{extras}{self.specifier}"


@attrs.frozen(kw_only=True)
class PythonReq:
    """A Requires-Python from a candidate's metadata, as a requirement."""

    specifier: SpecifierSet
    parent: str

    @property
    def identifier(self) -> str:
        """Always :data:`PYTHON`."""
        return PYTHON

    def __str__(self) -> str:
        return f"Python{self.specifier}"


AnyReq = Union[Req, PythonReq]


@attrs.frozen(kw_only=True)
class Candidate:
    """One version of one identifier that a resolution may pin."""

    name: NormalizedName
    version: Version
    extras: frozenset[str] = frozenset()
    #: Non-yanked (or explicitly pinned) files of this version: for metadata.
    files: tuple[DistFile, ...] = ()
    link: str | None = None
    editable: bool = False

    @property
    def identifier(self) -> str:
        """The resolvelib identifier of this candidate."""
        return identifier(self.name, self.extras)

    def __str__(self) -> str:
        return f"{self.identifier}=={self.version}"


@attrs.frozen(kw_only=True)
class Rejection:
    """Why a version of a package (``version=None``: every version) is not used here.

    ``requires_python`` is the Requires-Python that shut the environment out
    (``kind == "requires-python"``); ``detail`` the metadata or build
    problem in one line. Messages and the held-back report read the fields;
    ``str()`` is the one-line form.
    """

    name: NormalizedName
    kind: RejectionKind
    version: Version | None = None
    detail: str = ""
    requires_python: SpecifierSet | None = None

    def __str__(self) -> str:
        what = f"{self.name} {self.version}" if self.version is not None else self.name
        if self.kind == "invalid-metadata":
            return f"{what}: {self.detail}"
        if self.kind == "build-failed":
            return f"{what}: its metadata cannot be built ({self.detail})"
        if self.kind == "requires-python":
            needs = f"Python{self.requires_python}" if self.requires_python else "another Python"
            if self.version is None:
                return f"every version needs {needs}"
            return f"{what} needs {needs}"
        if self.kind == "no-build":
            return "only sdists here, and building is not allowed"
        return "no wheel for this platform and no sdist"


@attrs.frozen(kw_only=True)
class PythonCandidate:
    """The target Python: the only candidate of :data:`PYTHON`."""

    environment: Environment

    @property
    def identifier(self) -> str:
        """Always :data:`PYTHON`."""
        return PYTHON


@attrs.frozen(kw_only=True)
class Pin:
    """What one fork chose for one package name."""

    name: NormalizedName
    version: Version
    #: Extras requested by root requirements (written as ``name[extra]``).
    extras: frozenset[str] = frozenset()
    files: tuple[DistFile, ...] = ()
    link: str | None = None
    editable: bool = False
    via: frozenset[str] = frozenset()
    dependencies: frozenset[NormalizedName] = frozenset()
    requires_python: SpecifierSet | None = None
    #: Markers of the requirements that pulled this package in (hints).
    edge_markers: frozenset[str] = frozenset()
    #: Whether some requirement reached it without any marker.
    unconditional: bool = False


@attrs.frozen(kw_only=True)
class Bound:
    """A requirement on a name in one fork's graph, and who asks for it.

    ``who`` reads like ``app 1.0`` (a dependent pin), ``-r requirements.in``
    (a root) or ``-c constraints.txt`` (a constraint): the held-back report
    names it when ``specifier`` rules the newest release out.
    """

    who: str
    specifier: SpecifierSet


@attrs.frozen(kw_only=True)
class HeldBack:
    """One package below its newest release in one environment, and why."""

    name: NormalizedName
    version: Version
    newest: Version
    #: What rules ``newest`` out here, one short phrase each.
    reasons: tuple[str, ...]
    #: Whether only the environment's Python (a Requires-Python) or the
    #: existing lock's pin holds it: what a user expects, never warned about.
    expected: bool = False
    environment: str

    def describe(self) -> str:
        """``name 1.0 (newest 2.0): reason; reason`` (without the environments)."""
        return f"{self.name} {self.version} (newest {self.newest}): {'; '.join(self.reasons)}"


@attrs.frozen(kw_only=True)
class ForkResult:
    """One resolution and the environments it serves."""

    environments: tuple[Environment, ...]
    pins: Mapping[NormalizedName, Pin]
    #: Versions passed over for their metadata (invalid, or an sdist that
    #: does not build): the resolution went on without them.
    skipped: tuple[Rejection, ...] = ()
    #: The requirements on each pinned name in this fork's graph (roots,
    #: constraints, the pins' dependencies): what the held-back report reads.
    bounds: Mapping[NormalizedName, tuple[Bound, ...]] = attrs.field(factory=dict)
    #: Pins below their newest release, per environment, and why (filled by
    #: the scheduler when the request asks: ``ResolveRequest.explain``).
    held_back: tuple[HeldBack, ...] = ()


def evaluate_marker(marker: Marker, environment: Environment, extras: frozenset[str]) -> bool:
    """Evaluate ``marker`` in ``environment``; true if any active extra makes it true."""
    env = dict(environment.marker_environment)
    if not extras:
        env["extra"] = ""
        return marker.evaluate(env)
    for extra in sorted(extras):
        env["extra"] = extra
        if marker.evaluate(env):
            return True
    return False


def _roots(roots: Iterable[Root]) -> tuple[Root, ...]:
    return tuple(roots)


#: Existing pins for an environment: name -> version (from the output file).
PinsFor = Callable[[Environment], Mapping[str, Version]]


@attrs.frozen(kw_only=True)
class ResolveRequest:
    """Everything one resolution of a matrix needs besides the index.

    ``existing`` gives the pins an environment prefers (the output file's);
    ``links`` are candidates for direct references, by name. ``fast_path``
    builds a fork straight from preferences where that provably equals
    resolvelib's answer (``_replay``); off runs resolvelib for every fork.
    ``lookahead`` fetches likely picks and their dependencies in background
    threads while resolving (``_lookahead``): worth it when the finder goes
    to the network, wasted work when it reads a warm cache.
    """

    matrix: Matrix
    roots: tuple[Root, ...] = attrs.field(converter=_roots)
    options: ResolveOptions = ResolveOptions()
    constraints: tuple[Root, ...] = attrs.field(default=(), converter=_roots)
    overrides: tuple[Root, ...] = attrs.field(default=(), converter=_roots)
    existing: PinsFor | None = None
    #: Where to split minors from the start (minor -> patch numbers): the
    #: existing lock's splits, so a rerun starts where the last compile ended.
    patch_cuts: Mapping[tuple[int, int], frozenset[int]] = attrs.field(factory=dict)
    links: Mapping[str, Candidate] = attrs.field(factory=dict)
    fast_path: bool = True
    lookahead: bool = False
    #: Say why a pin is below its newest release (``ForkResult.held_back``):
    #: for ``-v`` and ``crosspin why --not-newest``.
    explain: bool = False
