"""Check a lock against the correctness contract (DESIGN.md item 1).

For every environment of the lock's matrix, the pins its markers select
must be closed (every dependency of every selected pin, evaluated in that
environment, is satisfied by a selected pin) and installable (a compatible
wheel, or an sdist when builds are allowed, and a Requires-Python that
admits the environment). Tests run this on every universal lock; ``crosspin
check`` runs it for users.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

import attrs
from packaging.utils import canonicalize_name
from packaging.version import Version

from crosspin.distributions import DistFile
from crosspin.environments import Environment
from crosspin.lock._model import Lock, LockedPackage

if TYPE_CHECKING:  # only named in annotations: sync and the lock readers need no metadata
    from crosspin.metadata import DistMetadata

__all__ = ["CheckProblem", "check_lock", "selected_sets"]


class _Finder(Protocol):
    def project_files(self, name: str) -> tuple[DistFile, ...]: ...


class _Metadata(Protocol):
    def get(self, name: str, version: Version, files: Sequence[DistFile]) -> DistMetadata: ...


@attrs.frozen(kw_only=True)
class CheckProblem:
    """One way a lock fails the contract in one environment."""

    environment: str
    package: str
    reason: str

    def __str__(self) -> str:
        return f"{self.environment}: {self.package}: {self.reason}"


def selected_sets(lock: Lock) -> dict[str, frozenset[str]]:
    """Environment name -> ``{"name==version", ...}`` the lock's markers select."""
    out: dict[str, frozenset[str]] = {}
    for env in lock.matrix.environments:
        picked = [p for p in lock.packages if _marker_true(p, env)]
        out[env.name] = frozenset(f"{p.name}=={p.version}" for p in picked)
    return out


def _marker_true(pkg: LockedPackage, env: Environment) -> bool:
    if pkg.marker is None:
        return True
    return bool(pkg.marker.evaluate(dict(env.marker_environment)))


def check_lock(
    lock: Lock,
    *,
    finder: _Finder,
    metadata: _Metadata,
    expected: Mapping[str, Iterable[str]] | None = None,
    allow_build: bool = True,
    assume_present: Iterable[str] = (),
) -> list[CheckProblem]:
    """Every contract violation of ``lock`` (empty when it is correct).

    ``expected`` maps environment names to the ``name==version`` set that
    environment's fork resolved; when given, the marker-selected set must
    equal it exactly. ``assume_present`` names packages the lock leaves to
    the installer on purpose (pip-compile's unsafe section: ``# setuptools``).
    """
    unpinned = frozenset(canonicalize_name(n) for n in assume_present)
    problems: list[CheckProblem] = []
    selected = selected_sets(lock)
    for env in lock.matrix.environments:
        picked = [p for p in lock.packages if _marker_true(p, env)]
        if expected is not None and env.name in expected:
            want = frozenset(expected[env.name])
            got = selected[env.name]
            for extra in sorted(got - want):
                problems.append(CheckProblem(environment=env.name, package=extra,
                                             reason="selected by markers but not resolved"))
            for missing in sorted(want - got):
                problems.append(CheckProblem(environment=env.name, package=missing,
                                             reason="resolved but not selected by markers"))
        by_name: dict[str, list[LockedPackage]] = {}
        for p in picked:
            by_name.setdefault(p.name, []).append(p)
        for name, pins in by_name.items():
            if len(pins) > 1:
                versions = ", ".join(str(p.version) for p in pins)
                problems.append(CheckProblem(environment=env.name, package=name,
                                             reason=f"several versions selected: {versions}"))
        # (package, extras) pairs still to check: extras requested by any
        # requirement add their own dependencies to the closure.
        todo: list[tuple[LockedPackage, frozenset[str]]] = [
            (pkg, frozenset(canonicalize_name(e) for e in pkg.extras)) for pkg in picked
        ]
        done: set[tuple[str, str, frozenset[str]]] = set()
        while todo:
            pkg, extras = todo.pop()
            key = (pkg.name, str(pkg.version), extras)
            if key in done or pkg.url:
                continue
            first_visit = not any(k[:2] == key[:2] for k in done)
            done.add(key)
            files = _files_of(pkg, finder)
            if first_visit:
                problems.extend(_installable(pkg, files, env, allow_build))
            if not files:
                continue
            meta = metadata.get(pkg.name, pkg.version, files)
            found, more = _closed(pkg, meta, env, by_name, extras, first_visit, unpinned)
            problems.extend(found)
            todo.extend(more)
    return problems


def _files_of(pkg: LockedPackage, finder: _Finder) -> list[DistFile]:
    if pkg.files:
        return list(pkg.files)
    return [f for f in finder.project_files(pkg.name) if f.version == pkg.version]


def _installable(
    pkg: LockedPackage, files: Sequence[DistFile], env: Environment, allow_build: bool
) -> list[CheckProblem]:
    ok = False
    for f in files:
        if f.requires_python is not None and not env.admits_python(f.requires_python):
            continue
        if (f.is_wheel and env.supports_wheel(f.tags)) or (not f.is_wheel and allow_build):
            ok = True
            break
    if ok:
        return []
    return [CheckProblem(environment=env.name, package=f"{pkg.name}=={pkg.version}",
                         reason="no file is installable in this environment")]


def _closed(
    pkg: LockedPackage,
    meta: DistMetadata,
    env: Environment,
    by_name: Mapping[str, Sequence[LockedPackage]],
    extras: frozenset[str],
    check_python: bool,
    unpinned: frozenset[str],
) -> tuple[list[CheckProblem], list[tuple[LockedPackage, frozenset[str]]]]:
    problems = []
    more: list[tuple[LockedPackage, frozenset[str]]] = []
    if check_python and meta.requires_python is not None and not env.admits_python(
        meta.requires_python
    ):
        problems.append(CheckProblem(
            environment=env.name, package=f"{pkg.name}=={pkg.version}",
            reason=f"Requires-Python {meta.requires_python} excludes this environment"))
    markers = dict(env.marker_environment)
    active = ["", *sorted(extras)]
    for req in meta.requires_dist:
        if req.marker is not None and not any(
            req.marker.evaluate({**markers, "extra": e}) for e in active
        ):
            continue
        dep = canonicalize_name(req.name)
        pins = by_name.get(dep)
        if not pins and dep in unpinned:
            continue
        if not pins:
            problems.append(CheckProblem(
                environment=env.name, package=f"{pkg.name}=={pkg.version}",
                reason=f"needs {req} but nothing selects {dep}"))
            continue
        fitting = [p for p in pins if req.specifier.contains(p.version, prereleases=True)]
        if not fitting:
            got = ", ".join(str(p.version) for p in pins)
            problems.append(CheckProblem(
                environment=env.name, package=f"{pkg.name}=={pkg.version}",
                reason=f"needs {req} but {dep} {got} is selected"))
        elif req.extras:
            more.append((fitting[0], frozenset(canonicalize_name(e) for e in req.extras)))
    return problems, more
