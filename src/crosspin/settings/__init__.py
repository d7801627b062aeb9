"""Settings: the command line, requirement-file options, ``[tool.crosspin]``, pip's config.

Precedence, highest first: the command line, option lines inside
requirement files (or a lock's option lines, for sync and export),
``[tool.crosspin]``, pip-tools' ``[tool.pip-tools]`` and the options the
existing lock records (the CLI fills those in), pip's own configuration
(unless ``--isolated``), defaults. ``_config`` finds the configuration
file. It is written once: :func:`compile_settings` turns a
:class:`CompileOptions` (what the command line said) into the frozen
:class:`CompileSettings` a compile runs on, and :func:`index_settings` (or
:func:`lock_index_settings`, for a lock's sync or export) decides where
packages come from. pip's configuration is read by ``_pip``,
``[tool.crosspin]`` by ``_tool``, option text by ``_parse``, and the
``CROSSPIN_*`` variables once, at the edge, into a :class:`Tuning`.
"""

from __future__ import annotations

from crosspin.settings._build import build_settings
from crosspin.settings._compile import (
    CompileOptions,
    CompileSettings,
    InputSelection,
    LockOutput,
    compile_settings,
)
from crosspin.settings._config import ConfigChoice, ConfigFiles, load_config
from crosspin.settings._index import (
    Access,
    IndexCommandLine,
    IndexOptions,
    index_settings,
    lock_index_settings,
)
from crosspin.settings._parse import (
    binary_set,
    parse_exclude_newer,
    parse_upgrade_packages,
    parse_uploaded_prior_to,
)
from crosspin.settings._pip import PipConfig, load_pip_config
from crosspin.settings._pipenv import pip_environment
from crosspin.settings._tool import ToolConfig, load_tool_config
from crosspin.settings._tuning import Tuning

__all__ = [
    "Access",
    "CompileOptions",
    "CompileSettings",
    "ConfigChoice",
    "ConfigFiles",
    "IndexCommandLine",
    "IndexOptions",
    "InputSelection",
    "LockOutput",
    "PipConfig",
    "ToolConfig",
    "Tuning",
    "binary_set",
    "build_settings",
    "compile_settings",
    "index_settings",
    "load_config",
    "load_pip_config",
    "load_tool_config",
    "lock_index_settings",
    "parse_exclude_newer",
    "parse_upgrade_packages",
    "parse_uploaded_prior_to",
    "pip_environment",
]
