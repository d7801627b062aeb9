"""The ``[tool.crosspin]`` table of ``pyproject.toml``.

:func:`load_tool_config` reads it and reports every bad key together, each
with its key path (``pyproject.toml: tool.crosspin.<key>``).
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any, Callable, Literal

import attrs

from crosspin.environments import Platform
from crosspin.errors import InputError, Problem, UsageError
from crosspin.settings._toml import read_toml

__all__ = ["ToolConfig", "load_tool_config", "tool_config_from_table"]


@attrs.frozen(kw_only=True)
class ToolConfig:
    """The ``[tool.crosspin]`` table of ``pyproject.toml``.

    Every field is ``None``/empty when not set, so the CLI can tell "not
    configured" from a value and apply its own defaults. ``exclude_newer`` is
    kept as the ISO 8601 text (a TOML date or datetime is converted to it).
    """

    python: str | None = None
    platforms: tuple[str, ...] = ()
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    generate_hashes: bool | None = None
    allow_unsafe: bool | None = None
    annotation_style: Literal["split", "line"] | None = None
    exclude_newer: str | None = None


_ANNOTATION_STYLES = ("line", "split")


def _str(value: object) -> tuple[object | None, str | None]:
    if isinstance(value, str):
        return value, None
    return None, "must be a string"


def _bool(value: object) -> tuple[object | None, str | None]:
    if isinstance(value, bool):
        return value, None
    return None, "must be true or false"


def _str_list(value: object) -> tuple[object | None, str | None]:
    if isinstance(value, str):  # a single value is a list of one
        return (value,), None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value), None
    return None, "must be a list of strings"


def _platforms(value: object) -> tuple[object | None, str | None]:
    parsed, problem = _str_list(value)
    if problem is not None or not isinstance(parsed, tuple):
        return None, problem
    for name in parsed:
        try:
            Platform.from_name(name)
        except UsageError as exc:
            return None, f"{exc.message} ({exc.hint})" if exc.hint else exc.message
    return parsed, None


def _annotation_style(value: object) -> tuple[object | None, str | None]:
    if isinstance(value, str) and value in _ANNOTATION_STYLES:
        return value, None
    return None, f"must be one of {', '.join(repr(s) for s in _ANNOTATION_STYLES)}"


def _exclude_newer(value: object) -> tuple[object | None, str | None]:
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat(), None
    if isinstance(value, str):
        text = value.strip()
        try:
            # Python 3.9's fromisoformat knows no "Z"; the CLI parses the same way.
            datetime.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        except ValueError:
            return None, f"{value!r} is not an ISO 8601 date or datetime"
        return text, None
    return None, "must be an ISO 8601 date or datetime"


_Check = Callable[[object], "tuple[object | None, str | None]"]

_TOOL_KEYS: dict[str, tuple[str, _Check]] = {
    "python": ("python", _str),
    "platforms": ("platforms", _platforms),
    "index-url": ("index_url", _str),
    "extra-index-urls": ("extra_index_urls", _str_list),
    "find-links": ("find_links", _str_list),
    "generate-hashes": ("generate_hashes", _bool),
    "allow-unsafe": ("allow_unsafe", _bool),
    "annotation-style": ("annotation_style", _annotation_style),
    "exclude-newer": ("exclude_newer", _exclude_newer),
}


def load_tool_config(pyproject: Path) -> ToolConfig:
    """Read ``[tool.crosspin]`` from a ``pyproject.toml``.

    A missing file or table gives all defaults. Keys are kebab-case
    (``extra-index-urls``); snake_case spellings are accepted too. Unknown
    keys and wrongly typed values are all reported in one
    :class:`~crosspin.errors.InputError`, each located as
    ``pyproject.toml: tool.crosspin.<key>``.
    """
    data = read_toml(pyproject, pyproject.name)
    tool = (data or {}).get("tool", {})
    table = tool.get("crosspin") if isinstance(tool, dict) else None
    if table is None:
        return ToolConfig()
    return tool_config_from_table(table, pyproject.name)


def tool_config_from_table(table: object, label: str) -> ToolConfig:
    """A ``[tool.crosspin]`` table (read from ``label``) as a :class:`ToolConfig`.

    Every bad key is reported in one :class:`~crosspin.errors.InputError`.
    """
    if not isinstance(table, dict):
        raise InputError([Problem(location=f"{label}: tool.crosspin", reason="must be a table")])
    problems: list[Problem] = []
    fields: dict[str, Any] = {}
    for key, value in table.items():
        where = f"{label}: tool.crosspin.{key}"
        spec = _TOOL_KEYS.get(key.replace("_", "-"))
        if spec is None:
            known = ", ".join(_TOOL_KEYS)
            problems.append(Problem(location=where, reason=f"unknown key (known keys: {known})"))
            continue
        field, check = spec
        if field in fields:
            problems.append(Problem(location=where, reason="given twice (kebab and snake case)"))
            continue
        parsed, problem = check(value)
        if problem is not None:
            problems.append(Problem(location=where, reason=problem))
        else:
            fields[field] = parsed
    if problems:
        raise InputError(problems)
    return ToolConfig(**fields)
