"""Index settings for sync and export, from the lock's option lines."""

from __future__ import annotations

from crosspin.lock import Sources
from crosspin.settings import index_settings


def test_sync_never_lets_a_later_index_shadow_the_first() -> None:
    """A hashless lock synced with two indexes uses first-index, as compile did."""
    settings = index_settings(
        sources=Sources(index_url="https://private.example/simple",
                        extra_index_urls=("https://pypi.org/simple",)),
        isolated=True,
    )
    assert settings.index_strategy == "first-index"
    assert settings.index_url == "https://private.example/simple"


def test_no_index_lock_syncs_from_find_links_only() -> None:
    """A lock compiled with --no-index is synced from its find-links alone."""
    settings = index_settings(
        sources=Sources(no_index=True, find_links=("/srv/wheels",)), isolated=True
    )
    assert settings.index_url == ""
    assert settings.extra_index_urls == ()
    assert settings.find_links == ("/srv/wheels",)
