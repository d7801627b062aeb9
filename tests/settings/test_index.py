"""Where packages come from: the one index precedence, for compile and for a lock's sync."""

from __future__ import annotations

from crosspin.lock import Sources
from crosspin.settings import (
    Access,
    IndexCommandLine,
    IndexOptions,
    PipConfig,
    Tuning,
    index_settings,
    lock_index_settings,
)

_PIP = PipConfig(index_url="https://pip.example/simple", extra_index_urls=("https://x/simple",),
                 trusted_hosts=("pip.example",), timeout=7.0)


def test_sync_never_lets_a_later_index_shadow_the_first() -> None:
    """A hashless lock synced with two indexes uses first-index, as compile did."""
    settings = lock_index_settings(
        Sources(index_url="https://private.example/simple",
                extra_index_urls=("https://pypi.org/simple",)),
        IndexCommandLine(), pip=PipConfig(), tuning=Tuning(),
    )
    assert settings.index_strategy == "first-index"
    assert settings.index_url == "https://private.example/simple"


def test_no_index_lock_syncs_from_find_links_only() -> None:
    """A lock compiled with --no-index is synced from its find-links alone."""
    settings = lock_index_settings(
        Sources(no_index=True, find_links=("/srv/wheels",)), IndexCommandLine(),
        pip=PipConfig(), tuning=Tuning(),
    )
    assert settings.index_url == ""
    assert settings.extra_index_urls == ()
    assert settings.find_links == ("/srv/wheels",)


def test_command_line_index_overrides_a_no_index_lock() -> None:
    """Naming an index on the sync command line brings indexes back for a --no-index lock."""
    command_line = IndexCommandLine(index=IndexOptions(index_url="https://cli.example/simple"))
    settings = lock_index_settings(Sources(no_index=True), command_line, pip=_PIP,
                                   tuning=Tuning())
    assert settings.index_url == "https://cli.example/simple"
    assert settings.extra_index_urls == ("https://x/simple",)


def test_pip_no_index_syncs_a_lock_from_find_links_unless_the_command_line_names_an_index(
) -> None:
    """pip's ``no-index`` (pip.conf, PIP_NO_INDEX) holds for a lock's sync as for
    ``pip install -r``; an ``--index-url`` on the command line brings indexes back."""
    sources = Sources(index_url="https://lock.example/simple", find_links=("/srv/wheels",))
    pip = PipConfig(no_index=True)
    settings = lock_index_settings(sources, IndexCommandLine(), pip=pip, tuning=Tuning())
    assert (settings.index_url, settings.extra_index_urls) == ("", ())
    assert settings.find_links == ("/srv/wheels",)
    command_line = IndexCommandLine(index=IndexOptions(index_url="https://cli.example/simple"))
    settings = lock_index_settings(sources, command_line, pip=pip, tuning=Tuning())
    assert settings.index_url == "https://cli.example/simple"


def test_first_level_with_an_index_wins_and_lists_gather_every_level() -> None:
    """Highest level names the index; extras, find-links and hosts come from all, in order."""
    levels = [
        IndexOptions(extra_index_urls=("https://a/simple",)),
        IndexOptions(index_url="https://file.example/simple", find_links=("./w",),
                     trusted_hosts=("file.example",)),
        IndexOptions(index_url="https://tool.example/simple",
                     extra_index_urls=("https://a/simple", "https://b/simple")),
    ]
    settings = index_settings(levels, no_index=False, pip=_PIP, access=Access(offline=True),
                              tuning=Tuning(page_max_age=5.0, retries=1))
    assert settings.index_url == "https://file.example/simple"
    assert settings.extra_index_urls == ("https://a/simple", "https://b/simple",
                                         "https://x/simple")
    assert settings.find_links == ("./w",)
    assert settings.trusted_hosts == ("file.example", "pip.example")
    assert (settings.offline, settings.timeout, settings.page_max_age, settings.retries) == (
        True, 7.0, 5.0, 1)
    assert settings.retry_backoff == 0.25  # not set by a variable: the index default


def test_pip_index_is_the_last_resort_before_pypi() -> None:
    """Without any index option pip's index is used; without that, PyPI."""
    assert index_settings([], no_index=False, pip=_PIP, access=Access(),
                          tuning=Tuning()).index_url == "https://pip.example/simple"
    assert index_settings([], no_index=False, pip=PipConfig(), access=Access(),
                          tuning=Tuning()).index_url == "https://pypi.org/simple"
