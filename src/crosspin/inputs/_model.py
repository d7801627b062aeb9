"""Value objects of :mod:`crosspin.inputs` and the reader's working state.

They live here so the private readers (requirements files, pyproject, links)
can build them without importing :mod:`crosspin.inputs`, which imports the
readers. :mod:`crosspin.inputs` re-exports the public ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import attrs
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name

from crosspin.errors import Problem

__all__ = ["InputOptions", "InputSet", "Kind", "RootRequirement", "State"]

#: Which list of an :class:`InputSet` a requirement goes to.
Kind = Literal["requirement", "constraint", "override"]


@attrs.frozen(kw_only=True)
class RootRequirement:
    """One direct requirement (or constraint/override) and where it was written.

    ``origin`` is what pip-compile prints after ``# via`` (``-r
    requirements.in``, ``-c constraints.txt``, ``pyproject.toml``,
    ``pyproject.toml::dependency-groups.dev``); ``location`` points at the
    line (``requirements.in:7``, ``pyproject.toml: project.dependencies[2]``).
    ``link`` is the absolute URL of a direct reference, local path
    (``file://``) or VCS requirement, and ``None`` for index requirements;
    ``requirement.url`` is the same link.
    """

    requirement: Requirement
    origin: str
    location: str
    editable: bool = False
    link: str | None = None
    hashes: tuple[str, ...] = ()
    #: ``link`` is a local path the user wrote relative: locks write it
    #: relative to the output file, so they do not depend on the host.
    relative: bool = False
    #: ``link`` as written, when it held ``${VAR}`` (expanded in ``link``):
    #: locks keep the variable, never its value.
    written_link: str | None = None

    @property
    def name(self) -> NormalizedName:
        """The canonical project name the requirement is for."""
        return canonicalize_name(self.requirement.name)


@attrs.frozen(kw_only=True)
class InputOptions:
    """Index and install options merged from every input file, as pip would merge them.

    The first ``--index-url`` wins; extra indexes, find-links and trusted
    hosts accumulate in order without repeats. ``only_binary`` and
    ``no_binary`` hold canonical names or ``":all:"``; as in pip, a name in
    either set decides for that name before ``":all:"`` in the other does.
    """

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    trusted_hosts: tuple[str, ...] = ()
    pre: bool = False
    no_index: bool = False
    only_binary: frozenset[str] = frozenset()
    no_binary: frozenset[str] = frozenset()


@attrs.frozen(kw_only=True)
class InputSet:
    """Everything the resolver needs from the project's files, and which files those were.

    ``project_name`` is set when a pyproject project was read (its own
    extras are expanded in place, never required from an index);
    ``requires_python`` is the intersection of the projects'
    ``requires-python``; ``files`` are the absolute paths of every file read,
    in reading order, for staleness checks.
    """

    requirements: tuple[RootRequirement, ...]
    constraints: tuple[RootRequirement, ...] = ()
    overrides: tuple[RootRequirement, ...] = ()
    options: InputOptions = InputOptions()
    requires_python: SpecifierSet | None = None
    project_name: NormalizedName | None = None
    files: tuple[Path, ...] = ()


@attrs.define
class State:
    """What the readers have gathered so far; turned into an :class:`InputSet` at the end."""

    base_dir: Path
    environ: dict[str, str]
    problems: list[Problem] = attrs.Factory(list)
    files: list[Path] = attrs.Factory(list)
    entries: dict[Kind, list[RootRequirement]] = attrs.Factory(
        lambda: {"requirement": [], "constraint": [], "override": []}
    )
    index_url: str | None = None
    extra_index_urls: list[str] = attrs.Factory(list)
    find_links: list[str] = attrs.Factory(list)
    trusted_hosts: list[str] = attrs.Factory(list)
    pre: bool = False
    no_index: bool = False
    only_binary: set[str] = attrs.Factory(set)
    no_binary: set[str] = attrs.Factory(set)
    requires_python: SpecifierSet | None = None
    project_name: NormalizedName | None = None

    def problem(self, location: str, reason: str) -> None:
        """Record one problem; reading goes on so every problem is reported."""
        self.problems.append(Problem(location=location, reason=reason))

    def read_file(self, path: Path) -> None:
        """Remember that ``path`` was read (once), for :attr:`InputSet.files`."""
        absolute = path.resolve()
        if absolute not in self.files:
            self.files.append(absolute)

    def add(self, kind: Kind, entry: RootRequirement) -> None:
        """Add a root entry, dropping exact repeats (a file reached twice)."""
        bucket = self.entries[kind]
        if entry not in bucket:
            bucket.append(entry)

    def options(self) -> InputOptions:
        """The merged options as a frozen value."""
        return InputOptions(
            index_url=self.index_url,
            extra_index_urls=tuple(self.extra_index_urls),
            find_links=tuple(self.find_links),
            trusted_hosts=tuple(self.trusted_hosts),
            pre=self.pre,
            no_index=self.no_index,
            only_binary=frozenset(self.only_binary),
            no_binary=frozenset(self.no_binary),
        )

    def result(self) -> InputSet:
        """The frozen :class:`InputSet` of everything read."""
        return InputSet(
            requirements=tuple(self.entries["requirement"]),
            constraints=tuple(self.entries["constraint"]),
            overrides=tuple(self.entries["override"]),
            options=self.options(),
            requires_python=self.requires_python,
            project_name=self.project_name,
            files=tuple(self.files),
        )
