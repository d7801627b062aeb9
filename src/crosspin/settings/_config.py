"""Which configuration files a command reads: ``[tool.crosspin]``, ``[tool.pip-tools]``.

pip-tools' rule, kept so its users' files work unchanged: ``--config FILE``
if given; else, for each folder holding a source (in argument order; the
current folder for stdin), ``.pip-tools.toml`` then ``pyproject.toml``, and
the first file that exists is the one (never merged). ``[tool.pip-tools]``
is read from it, with ``[tool.pip-tools.compile]`` (or ``.sync``) laid
over; a top-level ``[pip-tools]`` table is ignored (pip-tools ignores it
too) with a warning. ``[tool.crosspin]`` is read from ``--config FILE`` or
else the ``pyproject.toml`` among the sources or in the current folder.
``--no-config`` reads neither.

The tables' values are returned as written; the CLI maps pip-tools' keys
onto its options (it knows them), and :attr:`ConfigFiles.digest` makes a
config edit visible to ``check`` (the lock records it with the inputs).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import attrs

from crosspin.errors import InputError, Problem
from crosspin.settings._toml import read_toml
from crosspin.settings._tool import ToolConfig, tool_config_from_table

__all__ = ["ConfigChoice", "ConfigFiles", "load_config"]


@attrs.frozen(kw_only=True)
class ConfigChoice:
    """What the command line says about configuration files: ``--config FILE``, ``--no-config``."""

    path: str | None = None
    enabled: bool = True


@attrs.frozen(kw_only=True)
class ConfigFiles:
    """The configuration a command runs with.

    ``crosspin`` is ``[tool.crosspin]``; ``piptools`` the keys of
    ``[tool.pip-tools]`` (the command's sub-table laid over), as written,
    with ``piptools_label`` naming where they came from for messages;
    ``warnings`` are lines to print (an ignored ``[pip-tools]`` table).
    """

    crosspin: ToolConfig = ToolConfig()
    crosspin_table: Mapping[str, Any] = attrs.field(factory=dict)
    piptools: Mapping[str, Any] = attrs.field(factory=dict)
    piptools_label: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def digest(self) -> str | None:
        """A sha256 of both tables (``None`` when neither says anything)."""
        if not self.crosspin_table and not self.piptools:
            return None
        text = json.dumps({"crosspin": self.crosspin_table, "pip-tools": self.piptools},
                          sort_keys=True, default=str, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _folders(sources: Sequence[str]) -> list[Path]:
    folders: list[Path] = []
    for source in sources or ["-"]:
        path = Path(source)
        folder = Path() if source == "-" else (path if path.is_dir() else path.parent)
        if folder not in folders:
            folders.append(folder)
    return folders


def _piptools_file(sources: Sequence[str]) -> Path | None:
    for folder in _folders(sources):
        for name in (".pip-tools.toml", "pyproject.toml"):
            if (folder / name).is_file():
                return folder / name
    return None


def _crosspin_file(sources: Sequence[str]) -> Path:
    for source in sources:
        if Path(source).name == "pyproject.toml":
            return Path(source)
    return Path("pyproject.toml")


def _label(path: Path) -> str:
    return path.as_posix()


def load_config(
    sources: Sequence[str], choice: ConfigChoice, command: Literal["compile", "sync"]
) -> ConfigFiles:
    """The ``[tool.crosspin]`` and ``[tool.pip-tools]`` tables ``command`` reads for ``sources``.

    Bad ``[tool.crosspin]`` keys are one :class:`InputError`; pip-tools'
    keys are checked by the caller, which knows its options.
    """
    if not choice.enabled:
        return ConfigFiles()
    given = Path(choice.path) if choice.path else None
    if given is not None and not given.is_file():
        raise InputError([Problem(location=_label(given), reason="no such file (--config)")],
                         hint="name an existing TOML file, or drop --config")
    crosspin_path = given or _crosspin_file(sources)
    crosspin_data = read_toml(crosspin_path, _label(crosspin_path)) or {}
    tool = crosspin_data.get("tool")
    crosspin_table = tool.get("crosspin") if isinstance(tool, dict) else None
    crosspin = (tool_config_from_table(crosspin_table, _label(crosspin_path))
                if crosspin_table is not None else ToolConfig())
    piptools_path = given or _piptools_file(sources)
    piptools: dict[str, Any] = {}
    warnings: list[str] = []
    label = ""
    if piptools_path is not None:
        label = _label(piptools_path)
        data = (crosspin_data if piptools_path == crosspin_path
                else read_toml(piptools_path, label) or {})
        if isinstance(data.get("pip-tools"), dict):
            warnings.append(f"{label}: [pip-tools] is ignored (pip-tools ignores it too); "
                            "did you mean [tool.pip-tools]?")
        tool = data.get("tool")
        table = tool.get("pip-tools") if isinstance(tool, dict) else None
        if table is not None and not isinstance(table, dict):
            raise InputError([Problem(location=f"{label}: tool.pip-tools",
                                      reason="must be a table")])
        for key, value in (table or {}).items():
            if key in ("compile", "sync") and isinstance(value, dict):
                continue
            piptools[key] = value
        own = (table or {}).get(command)
        if isinstance(own, dict):
            piptools.update(own)
    return ConfigFiles(
        crosspin=crosspin,
        crosspin_table=dict(crosspin_table) if isinstance(crosspin_table, dict) else {},
        piptools=piptools,
        piptools_label=label,
        warnings=tuple(warnings),
    )
