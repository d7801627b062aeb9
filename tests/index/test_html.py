"""HTML project pages: the fast tag scan reads every page exactly as html.parser does."""

from __future__ import annotations

import pytest

from crosspin.index._html import _LinkCollector, parse_html

BASE = "https://example.test/simple/foo/"
#: Digests of the right length (a page's malformed ones are dropped: see the last tests).
AB, CD, EF = "AB12" * 16, "cd34" * 16, "ef56" * 16

PAGES = {
    "pypi-style": (
        '<!DOCTYPE html><html><head><meta name="pypi:repository-version" content="1.1">'
        "<title>Links for foo</title></head><body><h1>Links for foo</h1>\n"
        f'<a href="https://files.example.test/p/foo-1.0.tar.gz#sha256={AB}" '
        f'data-requires-python="&gt;=3.8" data-dist-info-metadata="sha256={CD}" '
        f'data-core-metadata="sha256={CD}">foo-1.0.tar.gz</a><br />\n'
        f'<a href="https://files.example.test/p/foo-1.0-py3-none-any.whl#sha256={EF}" '
        'data-yanked="">foo-1.0-py3-none-any.whl</a><br />\n</body></html>'
    ),
    "raw > in a quoted value, single quotes, bare attribute": (
        "<a href='../../files/foo-2.0.tar.gz#md5=00' data-requires-python='>=3.9,<4' "
        "data-yanked>foo-2.0.tar.gz</a>"
    ),
    "upper-case tags, repeated attribute, unquoted value": (
        '<A HREF="/x/foo-3.0.zip" href="/y/foo-3.0.zip" DATA-UPLOAD-TIME=2024-01-01T00:00:00Z>'
        "foo</A>"
    ),
    "relative, percent-encoded, query, dot segments, no href": (
        '<a href="foo%2B1-4.0.tar.gz?x=1">a</a><a name="top">b</a>'
        '<a href="https://h.test/a/./b/../foo-5.0.tar.gz">c</a><a href="">d</a>'
        '<a\nhref="foo-6.0.tar.gz"\ndata-dist-info-metadata="true">e</a>'
    ),
    "entities in values": (
        '<a href="foo-7.0.tar.gz#sha256=aa&amp;md5=bb" data-yanked="bad &quot;release&quot;">x</a>'
    ),
}


@pytest.mark.parametrize("text", PAGES.values(), ids=list(PAGES))
def test_fast_scan_equals_html_parser(text: str) -> None:
    """Every attribute a simple page can carry reads the same through the fast scan."""
    collector = _LinkCollector(BASE, lambda url: url)
    collector.feed(text)
    collector.close()
    fast = parse_html(text, BASE, lambda url: url)
    assert fast == collector.links
    assert fast  # every page above has links


def test_base_tag_and_comments_take_the_parser() -> None:
    """A <base href> changes where relative links point; a commented-out link is no link."""
    text = (
        '<base href="https://mirror.test/pkgs/"><!-- <a href="gone-1.0.tar.gz">x</a> -->'
        '<a href="foo-1.0.tar.gz">foo</a>'
    )
    (link,) = parse_html(text, BASE, lambda url: url)
    assert link.url == "https://mirror.test/pkgs/foo-1.0.tar.gz"


def test_pypi_page_fields() -> None:
    """Hashes, Requires-Python (unescaped), PEP 658/714 metadata and yanked reasons are read."""
    sdist, wheel = parse_html(PAGES["pypi-style"], BASE, lambda url: url)
    assert sdist.filename == "foo-1.0.tar.gz"
    assert sdist.hashes == (("sha256", AB.lower()),)
    assert sdist.requires_python == ">=3.8"
    assert sdist.metadata_hashes == (("sha256", CD),)
    assert wheel.yanked == ""
    assert wheel.metadata_hashes is None


@pytest.mark.parametrize("fragment", [
    "sha256=../../../../escaped.pth", "sha256=" + "a" * 63, "sha256=" + "g" * 64,
    "sha256=" + "a" * 65, "shake_128=" + "a" * 64, "nosuchalgo=" + "a" * 64,
])
def test_a_malformed_hash_is_no_hash(fragment: str) -> None:
    """A hash that is not hex of its algorithm's length is dropped, never kept as text."""
    page = (f'<a href="foo-1.0.tar.gz#{fragment}" data-core-metadata="{fragment}">x</a>'
            f'<a href="foo-2.0.tar.gz#md5={"0" * 32}&amp;{fragment}">y</a>')
    one, two = parse_html(page, BASE, lambda url: url)
    assert one.hashes == () and one.metadata_hashes is None
    assert two.hashes == (("md5", "0" * 32),)
