"""The run's index settings as the environment of a child pip (build requirements)."""

from __future__ import annotations

import os

from crosspin.index import IndexSettings
from crosspin.settings import pip_environment


def test_the_runs_indexes_replace_pips_own_configuration() -> None:
    """PIP_* of the process are dropped; the run's indexes, links and hosts are set."""
    settings = IndexSettings(index_url="https://u:secret@private/simple",
                             extra_index_urls=("https://extra/simple",),
                             find_links=("/wheels",), trusted_hosts=("private",),
                             cert="/ca.pem")
    env = pip_environment(settings, {"PIP_INDEX_URL": "https://pypi.org/simple",
                                     "pip_extra_index_url": "x", "HOME": "/home/u"})
    assert env["PIP_INDEX_URL"] == "https://u:secret@private/simple"
    assert env["PIP_EXTRA_INDEX_URL"] == "https://extra/simple"
    assert env["PIP_FIND_LINKS"] == "/wheels"
    assert env["PIP_TRUSTED_HOST"] == "private"
    assert env["PIP_CERT"] == "/ca.pem"
    assert env["PIP_CONFIG_FILE"] == os.devnull
    assert env["HOME"] == "/home/u" and "pip_extra_index_url" not in env


def test_no_index_and_offline_runs_use_find_links_only() -> None:
    """A lock compiled with --no-index (or an offline run) never lets pip reach an index."""
    for settings in (IndexSettings(index_url="", find_links=("/wheels",)),
                     IndexSettings(offline=True, find_links=("/wheels",))):
        env = pip_environment(settings, {})
        assert env["PIP_NO_INDEX"] == "1" and "PIP_INDEX_URL" not in env
