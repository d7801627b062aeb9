"""The mechanisms behind crosspin's speed (never timings): reuse, no repeats, cache use."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.tags import parse_tag
from packaging.version import Version

from crosspin.distributions import DistFile
from crosspin.environments import Matrix
from crosspin.metadata import DistMetadata
from crosspin.resolver import ResolveRequest, Root, resolve_matrix
from tests.helpers import MemoryFinder, run_cli

PLATFORMS = (
    "manylinux_2_17_x86_64", "manylinux_2_17_aarch64", "macosx_11_0_arm64",
    "macosx_10_9_x86_64", "win_amd64",
)


class _Metadata:
    def __init__(self, deps: dict[tuple[str, str], list[str]]) -> None:
        self.deps = deps

    def get(self, name: str, version: Version, files: Sequence[DistFile]) -> DistMetadata:
        lines = [f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"]
        lines += [f"Requires-Dist: {d}\n" for d in self.deps.get((name, str(version)), [])]
        return DistMetadata.from_bytes("".join(lines).encode(), source=name)


def _file(filename: str, requires_python: str | None = None) -> DistFile:
    dist = DistFile.from_link(filename=filename, url=f"https://example.invalid/{filename}",
                              requires_python=requires_python)
    assert dist is not None
    return dist


def _wheel(name: str, version: str, tag: str = "py3-none-any") -> DistFile:
    return _file(f"{name}-{version}-{tag}.whl")


def _sdist(name: str, version: str) -> DistFile:
    return _file(f"{name}-{version}.tar.gz")


def _solve(files: dict[str, list[DistFile]], deps: dict[tuple[str, str], list[str]],
           roots: list[str]) -> tuple[list[Any], MemoryFinder]:
    finder = MemoryFinder(files)
    request = ResolveRequest(
        matrix=Matrix.from_options(),
        roots=[Root(requirement=Requirement(r), origin="-r in") for r in roots],
    )
    results = resolve_matrix(request, finder=finder, metadata=_Metadata(deps))
    return results, finder


def test_pure_python_project_resolves_once_for_thirty_environments() -> None:
    """A project whose answers never depend on the environment is resolved once, not 30 times."""
    files = {"a": [_wheel("a", "1.0"), _wheel("a", "2.0")], "b": [_wheel("b", "1.0")]}
    results, _ = _solve(files, {("a", "2.0"): ["b"]}, ["a"])
    assert len(results) == 1
    assert len(results[0].environments) == 30


def test_platform_wheels_of_unpicked_versions_do_not_split_environments() -> None:
    """Binary wheels everywhere plus an old Linux-only version still give one resolution."""
    new = [_wheel("native", "2.0", f"cp3{m}-cp3{m}-{p}") for m in range(9, 15) for p in PLATFORMS]
    old = [_wheel("native", "1.0", "cp39-cp39-manylinux_2_17_x86_64")]
    results, _ = _solve({"native": new + old}, {}, ["native"])
    assert len(results) == 1


def test_platform_markers_split_only_by_what_they_ask() -> None:
    """A Windows-only dependency splits the matrix in two classes, not per environment."""
    files = {"a": [_wheel("a", "1.0")], "w": [_wheel("w", "1.0")]}
    results, _ = _solve(files, {("a", "1.0"): ["w; sys_platform == 'win32'"]}, ["a"])
    assert sorted(len(r.environments) for r in results) == [6, 24]


def test_python_split_follows_requires_python_of_picked_versions() -> None:
    """A Requires-Python on the newest version splits Pythons, not platforms."""
    files = {"m": [
        _file("m-2.0-py3-none-any.whl", requires_python=">=3.11"),
        _sdist("m", "1.0"),
    ]}
    results, _ = _solve(files, {}, ["m"])
    assert len(results) == 2
    by_version = {str(r.pins["m"].version): len(r.environments) for r in results}
    assert by_version == {"2.0": 20, "1.0": 10}


def test_project_pages_are_read_once_per_run() -> None:
    """Every project's file list is asked of the finder once for the whole matrix."""
    files = {"a": [_wheel("a", "1.0")], "w": [_wheel("w", "1.0")], "b": [_wheel("b", "1.0")]}
    deps = {("a", "1.0"): ["w; sys_platform == 'win32'", "b; python_version < '3.11'"]}
    results, finder = _solve(files, deps, ["a"])
    assert len(results) > 1
    assert set(finder.reads.values()) == {1}


def test_tag_is_understood() -> None:
    """The wheel-tag fixture helper builds the tags the environments know."""
    assert _wheel("x", "1", "cp39-cp39-win_amd64").tags == frozenset(
        parse_tag("cp39-cp39-win_amd64")
    )


def _index(make_index: Any) -> Any:
    built = make_index.build({
        "app": {"1.0.0": {"requires_python": ">=3.8",
                          "requires": ["lib", "winonly ; sys_platform == 'win32'"]}},
        "lib": {"1.0.0": {"requires_python": ">=3.8"}, "2.0.0": {"requires_python": ">=3.8"}},
        "winonly": {"1.0.0": {"requires_python": ">=3.8"}},
    })
    return make_index.serve(built)


def _compile(server: Any, cwd: Path, *extra: str) -> Any:
    return run_cli(
        ["compile", "requirements.in", "--isolated", "--index-url", server.index_url,
         "--cache-dir", str(cwd / "cache"), "-q", *extra],
        cwd=cwd,
    )


def test_universal_lock_requests_each_url_once(make_index: Any, tmp_path: Path) -> None:
    """A 30-environment lock never asks the index for the same page or file twice."""
    server = _index(make_index)
    (tmp_path / "requirements.in").write_text("app\n", encoding="utf-8")
    result = _compile(server, tmp_path)
    assert result.code == 0, result.stderr
    paths = Counter(r.path for r in server.requests)
    assert paths and max(paths.values()) == 1, paths


def test_warm_run_fetches_only_page_revalidations(make_index: Any, tmp_path: Path) -> None:
    """A second run reuses cached metadata: it only revalidates pages (which send validators)."""
    server = _index(make_index)
    (tmp_path / "requirements.in").write_text("app\n", encoding="utf-8")
    assert _compile(server, tmp_path).code == 0
    before = len(server.requests)
    assert _compile(server, tmp_path).code == 0
    again = [r.path for r in server.requests[before:]]
    assert not [p for p in again if p.endswith((".metadata", ".whl", ".tar.gz"))], again


def test_offline_lock_from_the_cache_alone(make_index: Any, tmp_path: Path) -> None:
    """After one online run, --offline produces the same lock with the index gone."""
    server = _index(make_index)
    (tmp_path / "requirements.in").write_text("app\n", encoding="utf-8")
    assert _compile(server, tmp_path).code == 0
    online = (tmp_path / "requirements.txt").read_text(encoding="utf-8")
    before = len(server.requests)
    result = _compile(server, tmp_path, "--offline")
    assert result.code == 0, result.stderr
    assert len(server.requests) == before
    assert (tmp_path / "requirements.txt").read_text(encoding="utf-8") == online


def test_memoised_wheel_tags_agree_with_packaging() -> None:
    """Reading a page parses each distinct tag triple once, with packaging's exact answers."""
    import random

    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    from crosspin.distributions import is_basename, parse_filename

    rng = random.Random(7)
    names = ["numpy-2.0.1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
             "a-1.0-1-py3-none-any.whl", "a-1.0--none-any.whl", "a-b-1.0-py3-none-any.whl"]
    names += ["".join(rng.choice("ab1.-_-py3") for _ in range(rng.randint(1, 20))) + ".whl"
              for _ in range(3000)]
    for name in names:
        try:
            n, v, _b, tags = parse_wheel_filename(name)
            expected: Any = (n, v, "wheel", tags)
        except InvalidWheelFilename:
            expected = None
        if not is_basename(name):
            expected = None  # ".x-1-py3-none-any.whl" names no file crosspin fetches
        assert parse_filename(name) == expected, name


def test_fast_upload_time_parse_matches_the_general_one() -> None:
    """Upload times parse to the instants written out here, on the fast path and off it."""
    import datetime

    from crosspin.index._page import parse_time

    utc = datetime.timezone.utc
    at = datetime.datetime(2023, 3, 1, 6, 30, 10, 320768, tzinfo=utc)
    cases: dict[str, datetime.datetime | None] = {
        "2023-03-01T06:30:10.320768Z": at,  # PyPI's spelling: the fast path
        "2023-03-01T06:30:10.320768z": at,
        "2023-03-01T06:30:10.320768+00:00": at,
        "2023-03-01T06:30:10.3207Z": at.replace(microsecond=320700),
        "2023-03-01T06:30:10.3Z": at.replace(microsecond=300000),
        "2023-03-01T06:30:10Z": at.replace(microsecond=0),
        "2023-03-01T06:30:10.320768": at,  # naive: taken as UTC (PEP 700)
        "2023-03-01T07:30:10.320768+01:00": at,  # converted to UTC
        "2023-13-01T06:30:10.320768Z": None,  # PyPI's shape, month 13: not a time
        "not a time at all, 27 chars": None,
        "": None,
    }
    for text, want in cases.items():
        for spelling in (text, f" {text} "):  # padding forces the general path
            got = parse_time(spelling) if spelling.strip() else parse_time(text)
            assert got == want, spelling
            assert got is None or got.utcoffset() == datetime.timedelta(0), spelling
    assert parse_time(None) is None


def test_page_links_become_the_same_files_as_from_link() -> None:
    """A page link turns into exactly the DistFile that DistFile.from_link builds."""
    from crosspin.index._page import Link, parse_time
    from crosspin.index._releases import record_to_dist

    links = [
        Link(filename="a-1.0-py3-none-any.whl", url="https://x/a.whl",
             hashes=(("sha256", "ab"), ("md5", "cd")), requires_python=">=3.8",
             upload_time="2023-03-01T06:30:10.320768Z", size=3,
             metadata_hashes=(("sha256", "ee"),)),
        Link(filename="a-1.0.tar.gz", url="https://x/a.tgz", yanked="", requires_python=" "),
        Link(filename="a-1.0-1-cp311-cp311-win_amd64.whl", url="https://x/b.whl",
             metadata_hashes=()),
        Link(filename="a-1.0.exe", url="https://x/a.exe"),
    ]
    for link in links:
        expected = DistFile.from_link(
            filename=link.filename, url=link.url, hashes=dict(link.hashes),
            requires_python=link.requires_python, yanked=link.yanked,
            upload_time=parse_time(link.upload_time),
            size=link.size,
            metadata_hashes=None if link.metadata_hashes is None else dict(link.metadata_hashes),
            index="i",
        )
        assert record_to_dist(link.to_dict(), index="i") == expected


class _Source:
    """A metadata source with a parsed-fields cache, counting METADATA reads."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.reads = 0
        self.parsed: dict[str, bytes] = {}

    def wheel_metadata(self, file: DistFile) -> bytes:
        self.reads += 1
        return self.data

    def download(self, file: DistFile, dest_dir: Path) -> Path:
        raise AssertionError("wheels only")

    def parsed_metadata(self, file: DistFile) -> bytes | None:
        return self.parsed.get(file.filename)

    def store_parsed_metadata(self, file: DistFile, data: bytes) -> None:
        self.parsed[file.filename] = data


def test_parsed_metadata_cache_gives_the_same_metadata_without_rereading() -> None:
    """A second run reads a wheel's metadata from the parsed-fields cache, with equal results."""
    from crosspin.metadata import MetadataProvider

    data = (b"Metadata-Version: 2.1\nName: Foo_Bar\nVersion: 1.0\nRequires-Python: >=3.8\n"
            b"Requires-Dist: a>=1; extra == 'x'\nRequires-Dist: b\nProvides-Extra: X\n\nbody\n")
    wheel = DistFile.from_link(filename="foo_bar-1.0-py3-none-any.whl", url="https://x/f.whl",
                               hashes={"sha256": "00"})
    assert wheel is not None
    source = _Source(data)
    first = MetadataProvider(source).get("foo-bar", Version("1.0"), [wheel])
    second = MetadataProvider(source).get("foo-bar", Version("1.0"), [wheel])
    assert source.reads == 1
    assert first == second == DistMetadata.from_bytes(data, source="x")
    source.parsed[wheel.filename] = b"{not json"
    assert MetadataProvider(source).get("foo-bar", Version("1.0"), [wheel]) == first
    assert source.reads == 2


def test_only_the_versions_looked_at_become_files(
    make_index: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    """Reading a page with 40 releases builds the files of the one version the lock picks."""
    from crosspin.index import _releases

    built: list[str] = []
    real = _releases.record_to_dist

    def counting(record: Any, *, index: str) -> DistFile | None:
        built.append(record["filename"])
        return real(record, index=index)

    monkeypatch.setattr(_releases, "record_to_dist", counting)
    tags = ["py3-none-any", "cp311-cp311-manylinux_2_17_x86_64", "cp311-cp311-win_amd64"]
    versions = {f"1.{i}.0": {"wheel_tags": tags, "requires_python": ">=3.8"} for i in range(40)}
    server = make_index.serve(make_index.build({"lib": versions}))
    (tmp_path / "requirements.in").write_text("lib\n", encoding="utf-8")
    result = _compile(server, tmp_path, "--python", "3.11", "--platform", "linux-x86_64")
    assert result.code == 0, result.stderr
    assert "lib==1.39.0" in (tmp_path / "requirements.txt").read_text(encoding="utf-8")
    assert len(built) == 4 and all(f.startswith("lib-1.39.0") for f in built), built


def test_releases_list_versions_before_building_files() -> None:
    """A project's versions are known from filenames alone; malformed files never become files.

    A version spelled only by malformed files is listed with no files (never installable).
    """
    from packaging.utils import canonicalize_name

    from crosspin.index._releases import Releases, group_records

    records = [
        {"filename": name, "url": f"https://x.test/{name}"}
        for name in ["foo-1.0.tar.gz", "Foo-1.0.0-py3-none-any.whl", "foo-2.0-py3-none-any.whl",
                     "foo-2.0-py3-none-any.whl", "bar-9.0.tar.gz", "foo-3.0.exe",
                     "foo-x.y.z.tar.gz", "foo-4.0-py3-none-bad-tag.whl"]
    ]
    records[3] = {**records[3], "url": "https://mirror.test/foo-2.0-py3-none-any.whl"}
    releases = Releases(canonicalize_name("Foo"), [("https://i.test", group_records(records)),
                                                   ("", group_records(records[:1]))])
    assert set(releases) == {Version("1.0"), Version("2.0"), Version("4.0")}
    assert releases[Version("4.0")] == ()
    assert [f.filename for f in releases[Version("1.0")]] == [
        "foo-1.0.tar.gz", "Foo-1.0.0-py3-none-any.whl"]
    assert [f.url for f in releases[Version("2.0")]] == [
        "https://x.test/foo-2.0-py3-none-any.whl", "https://mirror.test/foo-2.0-py3-none-any.whl"]
    assert [f.filename for f in releases.files()] == [
        "foo-1.0.tar.gz", "Foo-1.0.0-py3-none-any.whl", "foo-2.0-py3-none-any.whl",
        "foo-2.0-py3-none-any.whl"]


def test_lookahead_fetches_likely_picks_and_their_dependencies() -> None:
    """Cold runs: the newest admitted release, the oldest Python's pick and their deps are
    fetched ahead; extras-only dependencies and sdist-only releases are not."""
    from crosspin.resolver import ResolveOptions
    from crosspin.resolver._lookahead import Lookahead

    files = {
        "app": [_wheel("app", "2.0"), _file("app-1.5-py3-none-any.whl", ">=3.5"),
                _sdist("app", "1.0")],
        "lib": [_sdist("lib", "1.0")],
        "dep": [_wheel("dep", "1.0")],
        "docs": [_wheel("docs", "1.0")],
    }
    files["app"][0] = _file("app-2.0-py3-none-any.whl", ">=3.12")

    class _Meta:
        def __init__(self) -> None:
            self.asked: list[tuple[str, str]] = []

        def get(self, name: str, version: Version, files: Sequence[DistFile]) -> DistMetadata:
            self.asked.append((name, str(version)))
            requires = {"app": ["lib", "dep", "docs ; extra == 'docs'"]}.get(name, [])
            return DistMetadata(name=name, version=version,  # type: ignore[arg-type]
                                requires_dist=tuple(Requirement(r) for r in requires))

    meta = _Meta()
    ahead = Lookahead(finder=MemoryFinder(files), metadata=meta, options=ResolveOptions(),
                      oldest_python="3.9.0", hints={}, skip=frozenset())
    ahead.start([Requirement("app>=1.2")])
    ahead.wait()
    ahead.close()
    assert sorted(meta.asked) == [("app", "1.5"), ("app", "2.0"), ("dep", "1.0")]


def test_split_requirement_parse_equals_packaging() -> None:
    """Requires-Dist lines parsed with shared markers equal packaging's own parse, errors too."""
    import pytest
    from packaging.requirements import InvalidRequirement

    from crosspin.metadata._provider import _requirement

    for text in ["foo>=1.0", "foo[bar,baz] (>=1,<2) ; python_version < '3.10'",
                 'a; extra == "x;y"', "b ;sys_platform=='win32' and extra=='test'",
                 "c @ https://x.test/c.whl ; os_name == 'nt'", "d==1.*", "E_f.g!=2"]:
        assert str(_requirement(text)) == str(Requirement(text)), text
        assert _requirement(text) == Requirement(text), text
    for bad in ["; extra == 'x'", "foo; bogus == 1", "foo>=", "foo; python_version <"]:
        with pytest.raises(InvalidRequirement) as got:
            _requirement(bad)
        with pytest.raises(InvalidRequirement) as expected:
            Requirement(bad)
        assert str(got.value) == str(expected.value), bad
