"""Why a compile failed, in the user's terms; and which pins need a source build somewhere.

The resolver says that no set of versions fits; this module asks the index
why, for the requirements the user wrote: a name no index knows (a typo: it
names the close ones, D9), a specifier that matches no version (it names
the nearest), an upload cut-off that hides every matching release, a
Requires-Python that sets a floor (it names the ``--python`` that works),
a package with files for some platforms only (it names the marker to
write). Each answer is one error with one hint. After a successful compile,
:func:`source_build_warnings` names the pins that have no wheel for some
environments of their marker (pip builds them from source there).
"""

from __future__ import annotations

import bisect
import datetime
import difflib
from collections.abc import Callable, Iterable, Sequence

import attrs
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from crosspin.distributions import DistFile
from crosspin.environments import Environment, Matrix, describe_environments
from crosspin.errors import (
    CrosspinError,
    NoMatchingVersionError,
    NotInstallableError,
    PlatformOnlyError,
    ProjectNotFoundError,
    PythonFloorError,
    ResolutionError,
    UploadCutoffError,
)
from crosspin.inputs import InputSet, RootRequirement
from crosspin.lock import Lock, LockedPackage
from crosspin.markers import marker_for

__all__ = ["Diagnosis", "SourceBuild", "diagnose", "source_build_warnings"]

#: The most names a typo check asks the index for (D9: a handful, after a 404 only).
_MAX_PROBES = 15

Files = Callable[[str], Sequence[DistFile]]


@attrs.frozen(kw_only=True)
class Diagnosis:
    """What :func:`diagnose` may look at.

    ``files`` are a project's files as the run sees them (after the upload
    cut-off); ``all_files`` the same without the cut-off (``None`` when there
    is none); ``prefetch`` asks for several projects at once; ``cutoff`` is
    the option as given and its instant; ``index`` names the first index and
    ``others`` counts the other indexes and find-links locations;
    ``known`` are names the run already knows (the inputs, the old lock).
    """

    files: Files
    prefetch: Callable[[Iterable[str]], None]
    all_files: Files | None = None
    cutoff: str = ""
    cutoff_at: datetime.datetime | None = None
    index: str = ""
    others: int = 0
    known: tuple[str, ...] = ()
    allow_build: Callable[[str], bool] = lambda name: True


def diagnose(
    error: ResolutionError, inputs: InputSet, matrix: Matrix, using: Diagnosis
) -> CrosspinError:
    """A clearer error for ``error`` when the index can say why; else ``error`` itself."""
    for root in inputs.requirements:
        if root.link is None:
            found = _root_problem(root, using)
            if found is not None:
                return found
    names = [canonicalize_name(error.package)] if isinstance(error, NotInstallableError) else []
    names.extend(canonicalize_name(r.requirement.name) for r in inputs.requirements
                 if r.link is None)
    for name in dict.fromkeys(names):
        found = _not_installable(name, inputs, matrix, using)
        if found is not None:
            return found
    return error


def _root_problem(root: RootRequirement, using: Diagnosis) -> CrosspinError | None:
    """The project is unknown, or no version (uploaded before the cut-off) matches."""
    req = root.requirement
    name = canonicalize_name(req.name)
    files = [f for f in using.files(name) if not f.is_yanked]
    if not files and using.all_files is not None and using.all_files(name):
        return _cutoff(root, [f for f in using.all_files(name) if not f.is_yanked], using,
                       everything=True)
    if not files:
        return ProjectNotFoundError(req.name, location=root.location, index=using.index,
                                    others=using.others, close=_close_names(name, using))
    versions = sorted({f.version for f in files})
    if list(req.specifier.filter(versions, prereleases=True)):
        return None
    if using.all_files is not None:
        hidden = [f for f in using.all_files(name)
                  if not f.is_yanked and req.specifier.contains(f.version, prereleases=True)]
        if hidden:
            return _cutoff(root, hidden, using, everything=False)
    return NoMatchingVersionError(_requirement_text(req), package=req.name,
                                  location=root.location, newest=str(versions[-1]),
                                  nearest=_nearest(req.specifier, versions))


def _cutoff(
    root: RootRequirement, hidden: Sequence[DistFile], using: Diagnosis, *, everything: bool
) -> UploadCutoffError:
    first = min(hidden, key=lambda f: (f.upload_time or datetime.datetime.max.replace(
        tzinfo=datetime.timezone.utc), f.version))
    uploaded = first.upload_time.date().isoformat() if first.upload_time else "an unknown day"
    move_to = uploaded
    if first.upload_time is not None and using.cutoff.startswith("--uploaded-prior-to"):
        # "prior to": strictly before, so the day after lets it in.
        move_to = (first.upload_time.date() + datetime.timedelta(days=1)).isoformat()
    return UploadCutoffError(_requirement_text(root.requirement), package=root.requirement.name,
                             location=root.location, cutoff=using.cutoff,
                             first=str(first.version), uploaded=uploaded, move_to=move_to,
                             everything=everything)


def _requirement_text(req: Requirement) -> str:
    return f"{req.name}{req.specifier}" if req.specifier else req.name


def _nearest(spec: SpecifierSet, versions: Sequence[Version]) -> list[str]:
    """Up to three versions closest to the one ``spec`` names, newest first."""
    asked = None
    for clause in spec:
        try:
            asked = Version(clause.version.removesuffix(".*"))
            break
        except InvalidVersion:
            continue
    if asked is None:
        return [str(v) for v in sorted(versions, reverse=True)[:3]]
    ordered = sorted(versions)
    at = bisect.bisect_left(ordered, asked)
    # Distance in releases from where the asked version would sit; ties go to the newer.
    by_distance = sorted(range(len(ordered)),
                         key=lambda i: (at - i if i < at else i - at + 1, -i))
    return [str(ordered[i]) for i in sorted(by_distance[:3], reverse=True)]


def _close_names(name: str, using: Diagnosis) -> list[str]:
    """Existing project names close to ``name``: known ones, then a few probed variants."""
    close = [n for n in difflib.get_close_matches(name, using.known, n=3, cutoff=0.75)
             if n != name]
    variants = _variants(name)[:_MAX_PROBES]
    using.prefetch(variants)
    close.extend(v for v in variants if v not in close and using.files(v))
    return close[:3]


def _variants(name: str) -> list[str]:
    """Likely intended names: adjacent letters swapped, then one letter dropped."""
    out: list[str] = []
    for i in range(len(name) - 1):
        swapped = name[:i] + name[i + 1] + name[i] + name[i + 2:]
        if swapped != name:
            out.append(swapped)
    out.extend(name[:i] + name[i + 1:] for i in range(len(name)) if len(name) > 2)
    return [canonicalize_name(v) for v in dict.fromkeys(out) if v and v[0].isalnum()]


def _installs(env: Environment, files: Sequence[DistFile], build: bool) -> bool:
    return any(
        (f.requires_python is None or env.admits_python(f.requires_python))
        and ((f.is_wheel and env.supports_wheel(f.tags)) or (not f.is_wheel and build))
        for f in files
    )


def _not_installable(
    name: str, inputs: InputSet, matrix: Matrix, using: Diagnosis
) -> CrosspinError | None:
    """Why no version of ``name`` installs on some environments: Python floor or platforms."""
    root = next((r for r in inputs.requirements
                 if canonicalize_name(r.requirement.name) == name and r.link is None), None)
    spec = root.requirement.specifier if root is not None else SpecifierSet()
    files = [f for f in using.files(name) if not f.is_yanked
             and spec.contains(f.version, prereleases=True)]
    if not files:
        return None
    build = using.allow_build(name)
    envs = matrix.environments
    missing = [e for e in envs if not _installs(e, files, build)]
    if not missing:
        return None
    requirement = _requirement_text(root.requirement) if root is not None else None
    described = describe_environments([e.name for e in missing], matrix, grouped=True)
    if all(_any_tag_fits([e], files, build) for e in missing):
        return _python_floor(name, files, missing, described, requirement)
    installs_on = [e.name for e in envs if e not in missing]
    marker = _marker(installs_on, matrix)
    only_sdist = not build and all(_installs(e, files, True) for e in missing)
    return PlatformOnlyError(name, described, missing=described,
                             installs_on=describe_environments(installs_on, matrix,
                                                               grouped=True),
                             marker=marker, requirement=requirement, only_sdist=only_sdist)


def _marker(names: Sequence[str], matrix: Matrix) -> str | None:
    """The marker selecting ``names`` of ``matrix`` (``None``: none, all, or not expressible)."""
    if not names:
        return None
    try:
        found = marker_for(names, matrix)
    except ValueError:  # environments no marker tells apart
        return None
    return str(found) if found is not None else None


def _any_tag_fits(envs: Iterable[Environment], files: Sequence[DistFile], build: bool) -> bool:
    """Whether some file fits each environment's platform (Requires-Python aside)."""
    return all(any((f.is_wheel and e.supports_wheel(f.tags)) or (not f.is_wheel and build)
                   for f in files) for e in envs)


def _python_floor(
    name: str, files: Sequence[DistFile], missing: Sequence[Environment],
    described: Sequence[str], requirement: str | None,
) -> PythonFloorError:
    pythons = sorted({e.python for e in missing})
    specs = {str(f.requires_python) for f in files if f.requires_python is not None}
    newest = max(files, key=lambda f: f.version)
    needs = str(newest.requires_python) if newest.requires_python is not None else (
        " or ".join(sorted(specs)))
    lowest = next((f"{m[0]}.{m[1]}" for m in _minors_after(pythons[-1])
                   if any(f.requires_python is None or f.requires_python.contains(
                       f"{m[0]}.{m[1]}.99", prereleases=True) for f in files)), None)
    return PythonFloorError(name, described, pythons=[f"{m}.{n}" for m, n in pythons],
                            requires_python=needs, lowest=lowest, requirement=requirement)


def _minors_after(python: tuple[int, int]) -> list[tuple[int, int]]:
    return [(python[0], m) for m in range(python[1] + 1, 20)]


@attrs.frozen(kw_only=True)
class SourceBuild:
    """A pin that has no wheel for some environments of its marker (pip builds it there).

    ``environments`` describe where; ``marker`` selects where it has a
    wheel, for the direct ``requirement`` on it (``None`` when it is not one).
    """

    name: str
    version: str
    environments: tuple[str, ...]
    marker: str | None = None
    requirement: str | None = None

    def message(self) -> str:
        """The warning's text."""
        return (f"{self.name}=={self.version} has no wheel for {'; '.join(self.environments)}:"
                " pip builds it from source there")

    def hint(self) -> str:
        """What to do about it."""
        if self.marker and self.requirement:
            return (f"if it is not needed there, write it as: {self.requirement} ; "
                    f"{self.marker} (--no-build refuses source builds)")
        return "--no-build refuses source builds, if it is not needed there"


def source_build_warnings(lock: Lock, inputs: InputSet) -> list[SourceBuild]:
    """Pins of ``lock`` with only an sdist for some environments that select them."""
    matrix = lock.matrix
    by_name = matrix.by_name()
    roots = {canonicalize_name(r.requirement.name): r for r in inputs.requirements}
    out = []
    for package in lock.packages:
        if package.url or not package.files:
            continue
        envs = [by_name[n] for n in sorted(package.environments) if n in by_name]
        sdist_only = [e.name for e in envs if not _has_wheel(e, package)]
        if not sdist_only:
            continue
        root = roots.get(package.name)
        with_wheel = [e.name for e in matrix.environments if e.name not in sdist_only]
        marker = _marker(with_wheel, matrix) if root is not None else None
        out.append(SourceBuild(
            name=package.name, version=str(package.version),
            environments=tuple(describe_environments(sdist_only, matrix, grouped=True)),
            marker=marker,
            requirement=_requirement_text(root.requirement) if root is not None else None))
    return out


def _has_wheel(env: Environment, package: LockedPackage) -> bool:
    return any(f.is_wheel and env.supports_wheel(f.tags)
               and (f.requires_python is None or env.admits_python(f.requires_python))
               for f in package.files)
