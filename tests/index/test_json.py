"""PEP 691 JSON pages: every file URL and hash reads as the general path reads it."""

from __future__ import annotations

import json
import random
import urllib.parse

import pytest

from crosspin.distributions import checked_hashes
from crosspin.index._json import join_url, parse_json

BASE = "https://example.test/simple/foo/"
SHA = "ab12" * 16

#: URLs a page may list: plain absolute ones (the fast path) and every kind the
#: general path must still see (relative, odd scheme case, queries, parameters,
#: fragments, brackets, whitespace, non-ASCII, empty host, ports, dot segments).
URLS = [
    "https://files.example.test/packages/ab/cd/foo-1.0-py3-none-any.whl",
    "http://files.example.test/foo-1.0.tar.gz",
    "https://files.example.test:8443/p/foo-1.0.tar.gz",
    "https://files.example.test",
    "https://files.example.test/",
    "https://h.test/a/./b/../foo-1.0.tar.gz",
    "https://h.test/a%2Bb/foo-1.0.tar.gz",
    "https://h.test/~user/$x/'q'/(1)/*/foo-1.0.tar.gz",
    "https://h.test/a@b/foo.whl",
    "https://user:pw@h.test/foo.whl",
    "https://h.test/foo.whl#sha256=" + SHA,
    "https://h.test/foo.whl#",
    "https://h.test/foo.whl?",
    "https://h.test/foo.whl?x=1",
    "https://h.test/a;params/foo.whl",
    "https://h.test/foo.whl;",
    "https://[::1]/foo.whl",
    "https://[::1/foo.whl",
    "HTTPS://h.test/foo.whl",
    "Https://h.test/foo.whl",
    " https://h.test/foo.whl",
    "https://h.test/foo.whl ",
    "https://h.test/fo\to.whl",
    "https://h.test/fo\no.whl",
    "https://h.test/f\\oo.whl",
    "https://h\u00e9.test/foo.whl",
    "https://h.test/f\u00f6o.whl",
    "https:///foo.whl",
    "https:foo.whl",
    "https://h.test:/foo.whl",
    "https://h.test:99999999999/foo.whl",
    "ftp://h.test/foo.whl",
    "file:///tmp/foo.whl",
    "//h.test/foo.whl",
    "/packages/foo.whl",
    "../../packages/foo.whl",
    "foo-1.0.tar.gz",
    "foo-1.0.tar.gz#md5=00",
    "",
]


def _general(base: str, url: str) -> str:
    return urllib.parse.urljoin(base, url).partition("#")[0]


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("base", [BASE, "http://example.test/simple/foo/"])
def test_file_urls_resolve_as_urljoin_does(base: str, url: str) -> None:
    """The fast path for plain absolute URLs never changes what a lock would say."""
    try:
        expected = _general(base, url)
    except ValueError:
        with pytest.raises(ValueError):
            join_url(base, url)
        return
    assert join_url(base, url) == expected


def test_random_urls_resolve_as_urljoin_does() -> None:
    """Random URLs over the characters that matter agree with urljoin too."""
    rng = random.Random(17)
    alphabet = "aZ09.-:/@%?#;[]\\ \t~!$'()*+,=_\u00e9"
    for _ in range(3000):
        tail = "".join(rng.choice(alphabet) for _ in range(rng.randrange(12)))
        url = rng.choice(["https://", "http://", "HTTP://", "", "/"]) + rng.choice(
            ["h.test", "h.test:80", "", "[::1]"]) + tail
        try:
            expected = _general(BASE, url)
        except ValueError:
            continue
        assert join_url(BASE, url) == expected, url


@pytest.mark.parametrize("hashes", [
    {"sha256": SHA},
    {"sha256": SHA.upper()},
    {"sha256": SHA[:-1]},
    {"sha256": "../" + SHA[3:]},
    {"sha256": 5},
    {"md5": "0" * 32},
    {"sha256": SHA, "md5": "0" * 32},
    {"SHA256": SHA},
    {},
])
def test_hashes_read_as_checked_hashes_keeps_them(hashes: dict[str, object]) -> None:
    """A page's hashes are kept only when well formed, the one-sha256 case included."""
    page = {"meta": {"api-version": "1.1"}, "files": [
        {"filename": "foo-1.0.tar.gz", "url": "foo-1.0.tar.gz", "hashes": hashes,
         "core-metadata": hashes},
    ]}
    (link,) = parse_json(json.dumps(page).encode(), BASE, lambda url: url)
    expected = checked_hashes(
        (k, v) for k, v in hashes.items() if isinstance(v, str))
    assert link.hashes == expected
    assert link.metadata_hashes == expected
    assert link.url == "https://example.test/simple/foo/foo-1.0.tar.gz"
