"""pip's own configuration: its files and ``PIP_*`` variables, read as pip reads them.

crosspin honours the pip configuration a user already has (index URLs,
find-links, trusted hosts, certificates, timeouts), so a team moving from
pip-compile keeps its private indexes without repeating them.
:func:`load_pip_config` follows pip's precedence.
"""

from __future__ import annotations

import configparser
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from crosspin.errors import InputError, Problem

__all__ = ["PipConfig", "load_pip_config"]


@attrs.frozen(kw_only=True)
class PipConfig:
    """What pip's own configuration (files and ``PIP_*`` variables) says.

    Fields are ``None``/empty when pip's configuration does not set them.
    """

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    trusted_hosts: tuple[str, ...] = ()
    cert: str | None = None
    timeout: float | None = None
    #: ``no-index``: only find-links (and direct references), no index at all.
    no_index: bool = False


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
    "no-index": "no_index",
}
_PIP_LISTS = frozenset({"extra_index_urls", "find_links", "trusted_hosts"})
_PIP_BOOLS = frozenset({"no_index"})
# pip's strtobool: what a config file or a PIP_* variable may say for a flag.
_TRUE = frozenset({"y", "yes", "t", "true", "on", "1"})
_FALSE = frozenset({"n", "no", "f", "false", "off", "0"})


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
    whitespace-separated values; ``no-index`` is a flag (``true``/``yes``/``1``).
    ``environ`` defaults to ``os.environ``; ``global_files`` replaces the
    system-wide files (for tests).

    Unreadable files are skipped, as pip would fail later on them anyway;
    a malformed timeout or flag is reported as an :class:`~crosspin.errors.InputError`.
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
        elif field in _PIP_BOOLS:
            fields[field] = _flag(value, where)
        else:
            fields[field] = value.strip() or None
    return PipConfig(**fields)


def _flag(value: str, where: str) -> bool:
    """A pip flag's value, read as pip reads it (yes/no, true/false, on/off, 1/0)."""
    word = value.strip().lower()
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise InputError([Problem(
        location=where,
        reason=f"{value!r} is not a boolean (use yes/no, true/false or 1/0, as pip does)")])


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
