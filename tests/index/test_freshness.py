"""How long a cached project page is trusted: validators, the window, CROSSPIN_PAGE_MAX_AGE.

A page that came with an ETag is revalidated on every run (a 304 costs no
body); a page that came without validators cannot be revalidated, so within
the freshness window (600 s, ``CROSSPIN_PAGE_MAX_AGE``) the cached copy is used
without asking the index, and after it the page is downloaded again.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from crosspin.index import DEFAULT_PAGE_MAX_AGE
from tests.helpers import compile_in

PACKAGES: dict[str, Any] = {
    "app": {"1.0.0": {"requires_python": ">=3.8", "requires": ["lib"]}},
    "lib": {"1.0.0": {"requires_python": ">=3.8"}},
}


def _page_requests(server: Any) -> list[tuple[str, int]]:
    return [(r.path, r.status) for r in server.requests if "/simple/" in r.path]


def _compile(server: Any, work: Path) -> list[tuple[str, int]]:
    """One compile; the page requests it made."""
    server.clear_requests()
    result = compile_in(server, work, "requirements.in", "-o", "-", "-q")
    assert result.code == 0, result.stderr
    assert "lib==1.0.0" in result.stdout
    return _page_requests(server)


def _age_cached_pages(cache: Path, seconds: float) -> int:
    """Make every cached page ``seconds`` old; how many there are."""
    pages = [p for p in cache.rglob("*.json") if p.parent.parent.name == "pages"]
    when = time.time() - seconds
    for page in pages:
        os.utime(page, (when, when))
    return len(pages)


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "requirements.in").write_text("app\n", encoding="utf-8")
    return tmp_path


def test_the_fixture_serves_pages_without_validators(make_index: Any) -> None:
    """page_validators=False: no ETag on pages, If-None-Match never gives 304."""
    import httpx

    plain, validated = make_index(PACKAGES, page_validators=False), make_index(PACKAGES)
    for server, has_etag in ((plain, False), (validated, True)):
        url = f"{server.index_url}/app/"
        first = httpx.get(url)
        assert ("etag" in first.headers) == has_etag
        again = httpx.get(url, headers={"If-None-Match": first.headers.get("etag", '"x"')})
        assert again.status_code == (304 if has_etag else 200)


def test_validated_pages_are_revalidated_every_run(make_index: Any, work: Path) -> None:
    """Pages with an ETag are asked again on every run and answered 304."""
    server = make_index(PACKAGES)
    assert _compile(server, work) == [("/simple/app/", 200), ("/simple/lib/", 200)]
    assert _compile(server, work) == [("/simple/app/", 304), ("/simple/lib/", 304)]


def test_pages_without_validators_are_trusted_within_the_window(
    make_index: Any, work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No ETag: not asked again for 600 s; after that downloaded again (200, not 304)."""
    assert DEFAULT_PAGE_MAX_AGE == 600
    monkeypatch.delenv("CROSSPIN_PAGE_MAX_AGE", raising=False)
    server = make_index(PACKAGES, page_validators=False)
    assert _compile(server, work) == [("/simple/app/", 200), ("/simple/lib/", 200)]
    assert _compile(server, work) == []  # both pages fresh: the index is not asked
    assert _age_cached_pages(work / ".cache", DEFAULT_PAGE_MAX_AGE - 60) == 2
    assert _compile(server, work) == []  # 540 s old: still inside the window
    _age_cached_pages(work / ".cache", DEFAULT_PAGE_MAX_AGE + 1)
    assert _compile(server, work) == [("/simple/app/", 200), ("/simple/lib/", 200)]
    assert _compile(server, work) == []  # downloaded again, so fresh again


def test_page_max_age_sets_the_window(
    make_index: Any, work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CROSSPIN_PAGE_MAX_AGE=0 asks every time; =3600 trusts a 601 s old page."""
    server = make_index(PACKAGES, page_validators=False)
    monkeypatch.setenv("CROSSPIN_PAGE_MAX_AGE", "0")
    assert _compile(server, work) == [("/simple/app/", 200), ("/simple/lib/", 200)]
    assert _compile(server, work) == [("/simple/app/", 200), ("/simple/lib/", 200)]
    monkeypatch.setenv("CROSSPIN_PAGE_MAX_AGE", "3600")
    _age_cached_pages(work / ".cache", DEFAULT_PAGE_MAX_AGE + 1)
    assert _compile(server, work) == []
    _age_cached_pages(work / ".cache", 3601)
    assert _compile(server, work) == [("/simple/app/", 200), ("/simple/lib/", 200)]
