"""Read a local project's requirements: ``[project]``, extras and ``[dependency-groups]``.

A project is first read as a :class:`ProjectSpec` (static TOML, or built
metadata when the dependencies are dynamic), then :func:`emit` turns the
selected parts into root requirements. Requirements on the project itself
(``myproj[test]`` in ``myproj``'s own extras or groups) are replaced by
what they name, since the project is not on any index.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
from packaging.dependency_groups import DependencyGroupInclude, DependencyGroupResolver
from packaging.errors import ExceptionGroup
from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name

from crosspin.inputs._build import BuiltProject, split_extras
from crosspin.inputs._links import Direct, interpret, invalid
from crosspin.inputs._model import RootRequirement, State

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on old Pythons only
    import tomli as tomllib

__all__ = ["ProjectSpec", "emit", "load_static"]

#: Fields whose being dynamic means the dependencies must come from a build.
_DYNAMIC_FIELDS = frozenset({"dependencies", "optional-dependencies", "requires-python"})

#: How deep ``include-group`` may nest: deeper is an input problem, never a RecursionError.
MAX_GROUP_DEPTH = 100

Items = tuple[tuple[str, str], ...]


@attrs.frozen(kw_only=True)
class ProjectSpec:
    """One local project's requirements before selection, each as ``(location, text)``.

    ``needs_build`` is set when ``[project]`` cannot tell the dependencies;
    ``groups`` is the raw ``[dependency-groups]`` table (never built: PEP 735
    groups live only in ``pyproject.toml``).
    """

    display: str
    folder: Path
    name: NormalizedName | None = None
    requires_python: SpecifierSet | None = None
    dependencies: Items = ()
    extras: Mapping[NormalizedName, Items] = attrs.field(factory=dict)
    groups: Mapping[str, Any] = attrs.field(factory=dict)
    needs_build: bool = False

    def with_built(self, built: BuiltProject) -> ProjectSpec:
        """This spec with what the built metadata says in place of ``[project]``."""
        return attrs.evolve(
            self,
            name=built.name,
            requires_python=built.requires_python,
            dependencies=built.dependencies,
            extras=built.extras,
            needs_build=False,
        )


def load_static(state: State, path: Path, display: str) -> ProjectSpec | None:
    """Read a ``pyproject.toml`` (or note a ``setup.py``-only project) without building.

    Problems go to ``state``; ``None`` means the file could not be read at all.
    """
    folder = path.parent
    if path.name in ("setup.py", "setup.cfg"):
        if not path.is_file():
            state.problem(display, f"no such file: {display}")
            return None
        state.read_file(path)
        _read_siblings(state, folder)
        return ProjectSpec(display=display, folder=folder, needs_build=True)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        state.problem(display, f"no such file: {display}")
        return None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        state.problem(display, f"cannot read TOML: {exc}")
        return None
    state.read_file(path)
    _read_siblings(state, folder)
    groups = data.get("dependency-groups", {})
    if not isinstance(groups, dict):
        state.problem(f"{display}: dependency-groups", "must be a table")
        groups = {}
    project = data.get("project")
    if project is None:
        # Without [project], only a setup.py/setup.cfg makes it a project to
        # build; otherwise the file holds just groups (or tool settings).
        legacy = any((folder / name).is_file() for name in ("setup.py", "setup.cfg"))
        return ProjectSpec(display=display, folder=folder, groups=groups, needs_build=legacy)
    if not isinstance(project, dict):
        state.problem(f"{display}: project", "must be a table")
        return None
    name = project.get("name")
    spec = ProjectSpec(
        display=display,
        folder=folder,
        name=canonicalize_name(name) if isinstance(name, str) else None,
        groups=groups,
    )
    dynamic = project.get("dynamic", [])
    if isinstance(dynamic, list) and _DYNAMIC_FIELDS & set(dynamic):
        return attrs.evolve(spec, needs_build=True)
    extras = _extras_table(state, display, project.get("optional-dependencies", {}))
    dependencies = _string_list(
        state, f"{display}: project.dependencies", project.get("dependencies", [])
    )
    return attrs.evolve(
        spec,
        requires_python=_requires_python(state, display, project.get("requires-python")),
        dependencies=_move_extra_markers(state, dependencies, extras),
        extras=extras,
    )


def emit(
    state: State,
    spec: ProjectSpec,
    *,
    extras: Sequence[NormalizedName],
    groups: Sequence[NormalizedName],
) -> None:
    """Add the project's base requirements and the selected extras and groups to ``state``.

    ``extras``/``groups`` are the ones this project defines (the caller has
    checked the user's selection against every project read).
    """
    emitter = _Emitter(state=state, spec=spec)
    emitter.items(spec.dependencies, spec.display, None, ())
    for extra in extras:
        origin = f"{spec.display}::optional-dependencies.{extra}"
        emitter.items(spec.extras[extra], origin, None, (extra,))
    if groups:
        names = group_names(state, spec)
        kept = set(names.values())
        resolver = DependencyGroupResolver({k: v for k, v in spec.groups.items() if k in kept})
        for group in groups:
            origin = f"{spec.display}::dependency-groups.{group}"
            emitter.group(resolver, names, group, origin, ())


def group_names(state: State | None, spec: ProjectSpec) -> dict[NormalizedName, str]:
    """Canonical group name -> name as written; duplicates are reported once to ``state``."""
    names: dict[NormalizedName, str] = {}
    for written in spec.groups:
        canonical = canonicalize_name(written)
        if canonical in names and state is not None:
            state.problem(
                f"{spec.display}: dependency-groups",
                f"duplicate group names {names[canonical]!r} and {written!r}",
            )
        names.setdefault(canonical, written)
    return names


@attrs.define
class _Emitter:
    state: State
    spec: ProjectSpec

    def items(
        self, items: Items, origin: str, marker: Marker | None, active: tuple[str, ...]
    ) -> None:
        for location, text in items:
            try:
                requirement = Requirement(text)
            except InvalidRequirement as exc:
                self.state.problem(location, invalid(text, exc))
                continue
            self.requirement(requirement, text, location, origin, marker, active)

    def requirement(
        self,
        requirement: Requirement,
        text: str,
        location: str,
        origin: str,
        marker: Marker | None,
        active: tuple[str, ...],
    ) -> None:
        combined = _and(marker, requirement.marker)
        if self.spec.name is not None and canonicalize_name(requirement.name) == self.spec.name:
            self.self_reference(requirement, location, origin, combined, active)
            return
        # A copy: packaging's group resolver caches the objects it hands out.
        requirement = Requirement(str(requirement))
        link: str | None = None
        if requirement.url is not None:
            result = interpret(text, folder=self.spec.folder)
            if not isinstance(result, Direct):
                self.state.problem(location, result)
                return
            requirement, link = result.requirement, result.link
        requirement.marker = combined
        self.state.add(
            "requirement",
            RootRequirement(requirement=requirement, origin=origin, location=location, link=link),
        )

    def self_reference(
        self,
        requirement: Requirement,
        location: str,
        origin: str,
        marker: Marker | None,
        active: tuple[str, ...],
    ) -> None:
        # "myproj[test]" inside myproj stands for test's requirements. The
        # base requirements need no repeating: emit() always adds them.
        for extra in sorted(canonicalize_name(e) for e in requirement.extras):
            if extra in active:
                continue  # an extra naming itself (or a cycle) adds nothing new
            if extra not in self.spec.extras:
                self.state.problem(location, f"{self.spec.name} has no extra {extra!r}")
                continue
            self.items(self.spec.extras[extra], origin, marker, (*active, extra))

    def group(
        self,
        resolver: DependencyGroupResolver,
        names: Mapping[NormalizedName, str],
        group: NormalizedName,
        origin: str,
        chain: tuple[NormalizedName, ...],
    ) -> None:
        written = names[group]
        key = f"{self.spec.display}: dependency-groups.{written}"
        try:
            parsed = resolver.lookup(written)
        except ExceptionGroup:
            self.locate_group_problems(written, key, names)
            return
        chain = (*chain, group)
        for index, item in enumerate(parsed):
            location = f"{key}[{index}]"
            if isinstance(item, DependencyGroupInclude):
                included = canonicalize_name(item.include_group)
                if included in chain:
                    cycle = " -> ".join((*chain, included))
                    self.state.problem(location, f"dependency groups include each other: {cycle}")
                elif len(chain) >= MAX_GROUP_DEPTH:
                    self.state.problem(location, f"dependency groups include each other more "
                                                 f"than {MAX_GROUP_DEPTH} deep")
                elif included not in names:
                    self.state.problem(location, f"no dependency group {included!r} to include")
                else:
                    self.group(resolver, names, included, origin, chain)
            else:
                self.requirement(item, str(item), location, origin, None, ())

    def locate_group_problems(
        self, written: str, key: str, names: Mapping[NormalizedName, str]
    ) -> None:
        raw = self.spec.groups[written]
        if not isinstance(raw, list):
            self.state.problem(key, "must be a list")
            return
        # Ask packaging about each item alone, to put its message on the right line.
        for index, item in enumerate(raw):
            try:
                (parsed,) = DependencyGroupResolver({"item": [item]}).lookup("item")
            except ExceptionGroup as group:
                for exc in group.exceptions:
                    reason = str(exc)
                    if isinstance(item, str):
                        reason = invalid(item, exc)
                    self.state.problem(f"{key}[{index}]", reason)
                continue
            if isinstance(parsed, DependencyGroupInclude):
                included = canonicalize_name(parsed.include_group)
                if included not in names:
                    self.state.problem(
                        f"{key}[{index}]", f"no dependency group {included!r} to include"
                    )


def _read_siblings(state: State, folder: Path) -> None:
    # They decide what a build reports, so a change in them makes a lock stale.
    for name in ("pyproject.toml", "setup.py", "setup.cfg"):
        if (folder / name).is_file():
            state.read_file(folder / name)


def _and(left: Marker | None, right: Marker | None) -> Marker | None:
    if left is None:
        return right
    if right is None:
        return left
    return Marker(f"({left}) and ({right})")


def _move_extra_markers(
    state: State, dependencies: Items, extras: dict[NormalizedName, Items]
) -> Items:
    """Move ``name; extra == "test"`` lines of ``dependencies`` under the extra they name.

    Built metadata carries them as ``Requires-Dist: name; extra == "test"``,
    which pip installs exactly when ``test`` is requested; so here they
    count when that extra is selected, with the rest of the marker kept.
    An extra the project does not declare is never installed (pip warns and
    skips it); ``extras`` gains the moved lines in place.
    """
    base: list[tuple[str, str]] = []
    for location, text in dependencies:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            base.append((location, text))  # reported when emitted
            continue
        parts = split_extras(requirement.marker)
        if parts is None:
            state.problem(location, f"cannot tell which extra needs {text!r}")
            continue
        if parts == [(None, requirement.marker)]:
            base.append((location, text))
            continue
        for extra, residual in parts:
            requirement.marker = residual
            if extra is None:
                base.append((location, str(requirement)))
            elif extra in extras:
                extras[extra] = (*extras[extra], (location, str(requirement)))
    return tuple(base)


def _requires_python(state: State, display: str, value: object) -> SpecifierSet | None:
    if value is None:
        return None
    if not isinstance(value, str):
        state.problem(f"{display}: project.requires-python", "must be a string")
        return None
    try:
        return SpecifierSet(value)
    except InvalidSpecifier as exc:
        state.problem(
            f"{display}: project.requires-python", invalid(value, exc, what="requires-python")
        )
        return None


def _string_list(state: State, key: str, value: object) -> Items:
    if not isinstance(value, list):
        state.problem(key, "must be a list of strings")
        return ()
    items: list[tuple[str, str]] = []
    for index, item in enumerate(value):
        if isinstance(item, str):
            items.append((f"{key}[{index}]", item))
        else:
            state.problem(f"{key}[{index}]", "must be a string")
    return tuple(items)


def _extras_table(state: State, display: str, value: object) -> dict[NormalizedName, Items]:
    key = f"{display}: project.optional-dependencies"
    if not isinstance(value, dict):
        state.problem(key, "must be a table")
        return {}
    return {
        canonicalize_name(extra): _string_list(state, f"{key}.{extra}", items)
        for extra, items in value.items()
    }
