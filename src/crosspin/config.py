"""Configuration crosspin reads: pip's own settings and ``[tool.crosspin]``.

crosspin honours the pip configuration a user already has (index URLs,
find-links, trusted hosts, certificates, timeouts), so a team moving from
pip-compile keeps its private indexes without repeating them.
:func:`load_pip_config` follows pip's precedence; :func:`load_tool_config`
reads the ``[tool.crosspin]`` table of ``pyproject.toml`` and reports every
bad key together, each with its key path.

Command-line options (handled by the CLI) override both.
"""

from __future__ import annotations

import configparser
import datetime
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Callable, Optional

import attrs

from crosspin.errors import InputError, Problem

__all__ = ["PipConfig", "ToolConfig", "load_pip_config", "load_tool_config"]


@attrs.frozen(kw_only=True)
class PipConfig:
    """What pip's own configuration (files and ``PIP_*`` variables) says.

    Fields are ``None``/empty when pip's configuration does not set them.
    """

    index_url: Optional[str] = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    trusted_hosts: tuple[str, ...] = ()
    cert: Optional[str] = None
    timeout: Optional[float] = None


# pip option name (as written in config files, after "_" -> "-") -> our field.
# pip accepts an option by any of its long names, hence the aliases.
_PIP_KEYS: dict[str, str] = {
    "index-url": "index_url",
    "extra-index-url": "extra_index_urls",
    "find-links": "find_links",
    "trusted-host": "trusted_hosts",
    "cert": "cert",
    "timeout": "timeout",
    "default-timeout": "timeout",
}
_PIP_LISTS = frozenset({"extra_index_urls", "find_links", "trusted_hosts"})


def load_pip_config(
    environ: Mapping[str, str] | None = None,
    *,
    global_files: Sequence[Path] | None = None,
) -> PipConfig:
    """Read pip's configuration the way ``pip install`` would.

    Files are read in pip's order: global (``$XDG_CONFIG_DIRS/pip/pip.conf``,
    ``/etc/pip.conf``), user (``~/.pip/pip.conf`` then
    ``$XDG_CONFIG_HOME/pip/pip.conf``; skipped when ``PIP_CONFIG_FILE`` names
    an existing file), site (``$VIRTUAL_ENV/pip.conf``), then the file named by
    ``PIP_CONFIG_FILE``; later files win. Across all files the ``[global]``
    section is applied first and ``[install]`` overrides it; ``PIP_*``
    variables override everything. ``PIP_CONFIG_FILE=os.devnull`` disables all
    files. List options (extra-index-url, find-links, trusted-host) hold
    whitespace-separated values. ``environ`` defaults to ``os.environ``;
    ``global_files`` replaces the system-wide files (for tests).

    Unreadable files are skipped, as pip would fail later on them anyway;
    a malformed timeout is reported as an :class:`~crosspin.errors.InputError`.
    """
    env = dict(os.environ if environ is None else environ)
    files = _config_files(env, global_files)
    # Values are keyed by our field name, so pip's aliases ("timeout" and
    # "default-timeout") override each other by source order, as in pip.
    sections: dict[str, dict[str, tuple[str, str]]] = {"global": {}, "install": {}}
    for path in files:
        parser = configparser.RawConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError, OSError):
            continue
        for section, values in sections.items():
            if parser.has_section(section):
                for key, value in parser.items(section):
                    field = _PIP_KEYS.get(key.replace("_", "-").lower())
                    if field is not None:
                        values[field] = (value, f"{path}: [{section}] {key}")
    merged: dict[str, tuple[str, str]] = {}
    for values in sections.values():
        merged.update(values)
    for name, value in env.items():
        if name.startswith("PIP_") and value != "":
            field = _PIP_KEYS.get(name[4:].lower().replace("_", "-"))
            if field is not None:
                merged[field] = (value, f"environment variable {name}")
    fields: dict[str, Any] = {}
    for field, (value, where) in merged.items():
        if field in _PIP_LISTS:
            fields[field] = tuple(value.split())
        elif field == "timeout":
            try:
                fields[field] = float(value)
            except ValueError:
                raise InputError(
                    [Problem(location=where, reason=f"timeout {value!r} is not a number")]
                ) from None
        else:
            fields[field] = value.strip() or None
    return PipConfig(**fields)


def _config_files(env: Mapping[str, str], global_files: Sequence[Path] | None) -> list[Path]:
    """pip's configuration files in override order (later wins), existing ones only."""
    env_file = env.get("PIP_CONFIG_FILE")
    if env_file is not None and env_file == os.devnull:
        return []
    home = Path(env.get("HOME") or env.get("USERPROFILE") or "~").expanduser()
    ext = "ini" if sys.platform == "win32" else "conf"
    files: list[Path] = []
    if global_files is not None:
        files.extend(global_files)
    elif sys.platform == "win32":
        program_data = env.get("PROGRAMDATA", r"C:\ProgramData")
        files.append(Path(program_data) / "pip" / "pip.ini")
    else:
        xdg_dirs = env.get("XDG_CONFIG_DIRS") or "/etc/xdg"
        files.extend(Path(d) / "pip" / "pip.conf" for d in xdg_dirs.split(os.pathsep) if d)
        files.append(Path("/etc/pip.conf"))
    if not (env_file and Path(env_file).exists()):
        if sys.platform == "win32":
            files.append(home / "pip" / "pip.ini")
            appdata = env.get("APPDATA")
            if appdata:
                files.append(Path(appdata) / "pip" / "pip.ini")
        else:
            files.append(home / ".pip" / "pip.conf")
            xdg_home = env.get("XDG_CONFIG_HOME") or str(home / ".config")
            if sys.platform == "darwin":
                mac = home / "Library" / "Application Support" / "pip"
                user_dir = mac if mac.exists() else Path(xdg_home) / "pip"
                files.append(user_dir / "pip.conf")
            else:
                files.append(Path(xdg_home) / "pip" / "pip.conf")
    venv = env.get("VIRTUAL_ENV")
    if venv:
        files.append(Path(venv) / f"pip.{ext}")
    if env_file:
        files.append(Path(env_file))
    return [f for f in files if f.is_file()]


@attrs.frozen(kw_only=True)
class ToolConfig:
    """The ``[tool.crosspin]`` table of ``pyproject.toml``.

    Every field is ``None``/empty when not set, so the CLI can tell "not
    configured" from a value and apply its own defaults. ``exclude_newer`` is
    kept as the ISO 8601 text (a TOML date or datetime is converted to it).
    """

    python: Optional[str] = None
    platforms: tuple[str, ...] = ()
    index_url: Optional[str] = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    generate_hashes: Optional[bool] = None
    allow_unsafe: Optional[bool] = None
    annotation_style: Optional[str] = None
    exclude_newer: Optional[str] = None


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
    from crosspin.environments import Platform  # deferred: pulls in packaging.tags
    from crosspin.errors import UsageError

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
    label = pyproject.name
    try:
        raw = pyproject.read_bytes()
    except FileNotFoundError:
        return ToolConfig()
    except OSError as exc:
        raise InputError([Problem(location=label, reason=f"cannot read: {exc.strerror}")]) from None
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.9/3.10 only
        import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError([Problem(location=label, reason=f"invalid TOML: {exc}")]) from None
    tool = data.get("tool", {})
    table = tool.get("crosspin") if isinstance(tool, dict) else None
    if table is None:
        return ToolConfig()
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
