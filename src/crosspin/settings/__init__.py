"""Settings: the command line, requirement-file options, ``[tool.crosspin]`` and pip's config.

Precedence, highest first: the command line, option lines inside
requirement files (or a lock's option lines, for sync and export),
``[tool.crosspin]``, pip's own configuration (unless ``--isolated``),
defaults. pip's configuration is read by ``_pip``, ``[tool.crosspin]`` by
``_tool``, option text is parsed by ``_parse``, and ``_index`` joins them
into the :class:`~crosspin.index.IndexSettings` a sync or export uses.
"""

from __future__ import annotations

from crosspin.settings._index import index_settings
from crosspin.settings._parse import binary_set, parse_exclude_newer, parse_upgrade_packages
from crosspin.settings._pip import PipConfig, load_pip_config
from crosspin.settings._tool import ToolConfig, load_tool_config

__all__ = [
    "PipConfig",
    "ToolConfig",
    "binary_set",
    "index_settings",
    "load_pip_config",
    "load_tool_config",
    "parse_exclude_newer",
    "parse_upgrade_packages",
]
