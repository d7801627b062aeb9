"""Read a project's direct requirements from its files into one :class:`InputSet`.

Inputs are pip-style requirements files (``requirements.in``, with ``-r``,
``-c``, options, direct references, local paths, VCS URLs and editables)
and local projects (``pyproject.toml`` ``[project]`` dependencies, selected
extras and PEP 735 dependency groups; projects whose dependencies are
dynamic are asked through PEP 517). Every requirement keeps where it was
written, so ``# via`` lines and error messages can point at it.

Every problem in every file is collected and raised once as
:class:`~crosspin.errors.InputError`; nothing is built when the files
already have problems.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from packaging.utils import NormalizedName, canonicalize_name

from crosspin.errors import InputError, Problem
from crosspin.index import redact
from crosspin.inputs._build import build_metadata
from crosspin.inputs._model import InputOptions, InputSet, Kind, RootRequirement, State
from crosspin.inputs._project import ProjectSpec, emit, group_names, load_static
from crosspin.inputs._reqfiles import MISSING, display_name, read_requirements_file
from crosspin.metadata import BuildSettings

__all__ = ["input_digest", "read_inputs"]

_PROJECT_FILES = ("pyproject.toml", "setup.py", "setup.cfg")


def read_inputs(
    sources: Sequence[Path],
    *,
    constraints: Sequence[Path] = (),
    overrides: Sequence[Path] = (),
    extras: Sequence[str] = (),
    all_extras: bool = False,
    groups: Sequence[str] = (),
    all_groups: bool = False,
    base_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
    build: Callable[[InputOptions], BuildSettings] | None = None,
    log: Callable[[str], None] | None = None,
) -> InputSet:
    """Read every source, constraints file and overrides file into an :class:`InputSet`.

    A source is a requirements file, a ``*.toml`` file read as a
    ``pyproject.toml``, a ``setup.py``/``setup.cfg``, or a project folder.
    ``extras``/``groups`` select optional dependencies and dependency groups
    of the projects among the sources (each must exist in one of them).
    Relative paths are relative to ``base_dir`` (default: the current
    folder), and origins name files relative to it, as the user would.
    ``environ`` replaces ``os.environ`` for ``${VAR}`` expansion.
    ``build`` gives the settings a dynamic project is built with, from the
    options the files hold (the caller knows the precedence); ``log`` gets
    the lines ``-v`` shows.

    Raises :class:`~crosspin.errors.InputError` with every problem found,
    and :class:`~crosspin.errors.BuildError` when a dynamic project's
    metadata cannot be built.
    """
    base = (base_dir if base_dir is not None else Path.cwd()).absolute()
    state = State(base_dir=base, environ=dict(os.environ if environ is None else environ))
    seen: set[tuple[Path, Kind]] = set()
    specs: list[ProjectSpec] = []
    for source in sources:
        display = display_name(source, base)
        actual = source if source.is_absolute() else base / source
        project_file = _project_file(actual)
        if project_file is not None:
            display = posixpath.join(display, project_file.name) if actual.is_dir() else display
            spec = load_static(state, project_file, display)
            if spec is not None:
                specs.append(spec)
        else:
            read_requirements_file(state, display, "requirement", seen=seen)
    for path in constraints:
        read_requirements_file(state, display_name(path, base), "constraint", seen=seen)
    for path in overrides:
        read_requirements_file(state, display_name(path, base), "override", seen=seen)
    wanted_extras = _canonical(extras)
    wanted_groups = _canonical(groups)
    if any(spec.needs_build for spec in specs):
        # Build only when the files are right: building is slow, and pointless otherwise.
        if state.problems:
            raise InputError(state.problems)
        settings = BuildSettings() if build is None else build(state.options())
        for index, spec in enumerate(specs):
            if spec.needs_build:
                built, problems = build_metadata(spec.folder, spec.display, build=settings,
                                                 log=log)
                state.problems.extend(problems)
                specs[index] = spec.with_built(built)
    _check_selection(state, specs, wanted_extras, wanted_groups)
    for spec in specs:
        state.project_name = state.project_name or spec.name
        if spec.requires_python is not None:
            previous = state.requires_python
            state.requires_python = (
                spec.requires_python if previous is None else previous & spec.requires_python
            )
        emit(
            state,
            spec,
            extras=sorted(spec.extras)
            if all_extras
            else [e for e in wanted_extras if e in spec.extras],
            groups=sorted(group_names(None, spec))
            if all_groups
            else [g for g in wanted_groups if g in group_names(None, spec)],
        )
    _check_links(state)
    if state.problems:
        problems = _unique(state.problems)
        hint = None
        if [p.reason for p in problems] == [MISSING]:  # the one input named is not there
            hint = ("create it with one requirement per line (e.g. requests), or name your "
                    "input: crosspin compile pyproject.toml")
        raise InputError(problems, hint=hint)
    return state.result()


def input_digest(inputs: InputSet) -> str:
    """A sha256 that changes exactly when the inputs change in a way a lock depends on.

    Line numbers and the order of requirements are left out (moving a line
    changes no lock); the order of index URLs and find-links is kept (it is
    the search order). Files are left out: their paths depend on the host.
    """
    options = inputs.options
    payload = {
        "requirements": _entries(inputs.requirements),
        "constraints": _entries(inputs.constraints),
        "overrides": _entries(inputs.overrides),
        "options": {
            "index_url": options.index_url,
            "extra_index_urls": list(options.extra_index_urls),
            "find_links": list(options.find_links),
            "trusted_hosts": sorted(options.trusted_hosts),
            "pre": options.pre,
            "no_index": options.no_index,
            "only_binary": sorted(options.only_binary),
            "no_binary": sorted(options.no_binary),
        },
        "requires_python": str(inputs.requires_python) if inputs.requires_python else None,
        "project_name": inputs.project_name,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _entries(entries: Sequence[RootRequirement]) -> list[str]:
    # Each entry as canonical JSON, so sorting is total and host-independent.
    return sorted(
        json.dumps([str(e.requirement), e.origin, e.editable, e.link, sorted(e.hashes)])
        for e in entries
    )


def _project_file(path: Path) -> Path | None:
    if path.is_dir():
        for name in _PROJECT_FILES:
            if (path / name).is_file():
                return path / name
        return path / "pyproject.toml"  # reported as missing by load_static
    if path.suffix == ".toml" or path.name in ("setup.py", "setup.cfg"):
        return path
    return None


def _canonical(names: Sequence[str]) -> list[NormalizedName]:
    return list(dict.fromkeys(canonicalize_name(name) for name in names))


def _check_selection(
    state: State,
    specs: Sequence[ProjectSpec],
    extras: Sequence[NormalizedName],
    groups: Sequence[NormalizedName],
) -> None:
    for option, wanted, known_in in (
        ("--extra", extras, lambda spec: set(spec.extras)),
        ("--group", groups, lambda spec: set(group_names(None, spec))),
    ):
        known: set[str] = set()
        for spec in specs:
            known |= known_in(spec)
        for name in wanted:
            if name in known:
                continue
            if not specs:
                state.problem(option, f"{name!r} needs a pyproject.toml among the inputs")
                continue
            what = "extra" if option == "--extra" else "dependency group"
            listing = ", ".join(sorted(known)) or "none"
            state.problem(
                specs[0].display, f"unknown {what} {name!r} (the project defines: {listing})"
            )


def _check_links(state: State) -> None:
    """One URL per name across requirements, constraints and overrides.

    A lock pins a name to one file: two different URLs (``util @ A`` in
    requirements.in, ``util @ B`` in an override file) cannot both hold, so
    the second is a problem naming both and where each was written.
    """
    first: dict[NormalizedName, RootRequirement] = {}
    for kind in ("requirement", "constraint", "override"):
        for entry in state.entries[kind]:
            if not entry.link:
                continue
            seen = first.setdefault(entry.name, entry)
            if seen.link != entry.link:
                state.problem(entry.location, (
                    f"two URLs for {entry.name}: {_shown(seen)} ({seen.location}) "
                    f"and {_shown(entry)}; "
                    "a lock pins one file per name"))


def _shown(entry: RootRequirement) -> str:
    """A link for a message: as written when it held ``${VAR}``, never a credential."""
    return entry.written_link or redact(entry.link or "")


def _unique(problems: Sequence[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))
