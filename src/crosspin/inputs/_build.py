"""Dependencies of a local project whose ``pyproject.toml`` does not state them.

Projects with ``dynamic = ["dependencies"]`` (or only ``setup.py`` /
``setup.cfg``) are asked through PEP 517's
``prepare_metadata_for_build_wheel`` in an isolated build environment, and
their Requires-Dist is split back into base requirements and extras so it
can be read like a static ``[project]`` table.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
from packaging.markers import InvalidMarker, Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name

from crosspin.errors import BuildError, Problem
from crosspin.metadata import BuildSettings, Release, project_metadata

__all__ = ["BuiltProject", "build_metadata", "split_extra", "split_extras"]

_EXTRA_CLAUSE = re.compile(r'^(?:extra == "(?P<a>[^"]*)"|"(?P<b>[^"]*)" == extra)$')


@attrs.frozen(kw_only=True)
class BuiltProject:
    """What a project's built metadata says, shaped like a ``[project]`` table.

    Each requirement is ``(location, text)``; ``extras`` maps canonical extra
    names to theirs.
    """

    name: NormalizedName
    requires_python: SpecifierSet | None
    dependencies: tuple[tuple[str, str], ...]
    extras: dict[NormalizedName, tuple[tuple[str, str], ...]]


def build_metadata(
    folder: Path,
    display: str,
    *,
    build: BuildSettings = BuildSettings(),
    log: Callable[[str], None] | None = None,
) -> tuple[BuiltProject, list[Problem]]:
    """Build the metadata of the project in ``folder`` and read its dependencies.

    The build is quiet, bounded and fed from ``build``'s indexes (see
    :mod:`crosspin.metadata`). Raises :class:`~crosspin.errors.BuildError`
    when the backend fails and :class:`~crosspin.errors.MetadataError` when
    what it wrote is unusable; a Requires-Dist whose extra cannot be told
    comes back as a problem located at ``display: Requires-Dist[i]``.
    """
    try:
        metadata = project_metadata(folder, build=build, log=log, release=Release(name=display))
    except BuildError as exc:
        # One's own project: wheels elsewhere are no help; its whole output is.
        where = "." if folder.resolve() == Path.cwd().resolve() else shlex.quote(str(folder))
        raise BuildError(exc.package, exc.reason, version=exc.version, file=exc.file,
                         output=exc.output,
                         hint=f"run 'python -m build --wheel {where}' to see the backend's "
                              "whole output") from None
    problems: list[Problem] = []
    dependencies: list[tuple[str, str]] = []
    extras: dict[NormalizedName, list[tuple[str, str]]] = {
        canonicalize_name(e): [] for e in sorted(metadata.provides_extras)
    }
    for index, original in enumerate(metadata.requires_dist):
        location = f"{display}: Requires-Dist[{index}] (built metadata)"
        split = split_extras(original.marker)
        if split is None:
            problems.append(
                Problem(location=location, reason=f"cannot tell which extra needs {original}")
            )
            continue
        for extra, residual in split:
            requirement = Requirement(str(original))  # a copy: parsed lines are shared
            requirement.marker = residual
            if extra is None:
                dependencies.append((location, str(requirement)))
            else:
                extras.setdefault(extra, []).append((location, str(requirement)))
    built = BuiltProject(
        name=metadata.name,
        requires_python=metadata.requires_python,
        dependencies=tuple(dependencies),
        extras={name: tuple(items) for name, items in extras.items()},
    )
    return built, problems


def split_extra(
    marker: Marker | None,
) -> tuple[NormalizedName | None, Marker | None] | None:
    """Split ``extra == "x"`` out of a Requires-Dist marker.

    Returns ``(extra or None, the rest of the marker or None)``, or ``None``
    when ``extra`` is used in a way that is not a plain top-level ``and``
    clause (which backends do not generate).
    """
    if marker is None:
        return None, None
    text = str(marker)
    if "extra" not in text:
        return None, marker
    if len(list(_top_level(text, " or "))) > 1:
        return None
    extra: NormalizedName | None = None
    rest: list[str] = []
    for clause in _top_level(text, " and "):
        match = _EXTRA_CLAUSE.match(clause)
        if match and extra is None:
            extra = canonicalize_name(match.group("a") or match.group("b") or "")
        else:
            rest.append(clause)
    if extra is None or any("extra" in _unquoted(clause) for clause in rest):
        return None
    if not rest:
        return extra, None
    try:
        return extra, Marker(" and ".join(rest))
    except InvalidMarker:  # pragma: no cover - parts of a valid marker stay valid
        return None


def split_extras(
    marker: Marker | None,
) -> list[tuple[NormalizedName | None, Marker | None]] | None:
    """Split a marker that names extras into ``(extra or None, the rest)`` per alternative.

    ``extra == "a" or extra == "b"`` gives ``[("a", None), ("b", None)]``;
    ``sys_platform == "win32" or extra == "test"`` gives the base part
    ``(None, sys_platform == "win32")`` and ``("test", None)``: the requirement
    holds where any part does, as pip reads it with each requested extra.
    A marker without ``extra`` stays whole. ``None`` when an alternative uses
    ``extra`` in another way (see :func:`split_extra`).
    """
    if marker is None or "extra" not in str(marker):
        return [(None, marker)]
    parts: list[tuple[NormalizedName | None, Marker | None]] = []
    for alternative in _top_level(str(marker), " or "):
        try:
            split = split_extra(Marker(alternative))
        except InvalidMarker:  # pragma: no cover - parts of a valid marker stay valid
            return None
        if split is None:
            return None
        parts.append(split)
    return parts


def _top_level(text: str, separator: str) -> Iterator[str]:
    """Split on ``separator`` outside parentheses and quotes."""
    depth = 0
    quote = ""
    start = 0
    index = 0
    while index < len(text):
        char = text[index]
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0 and text.startswith(separator, index):
            yield text[start:index]
            index += len(separator)
            start = index
            continue
        index += 1
    yield text[start:]


def _unquoted(text: str) -> str:
    return re.sub(r"\"[^\"]*\"|'[^']*'", "", text)
