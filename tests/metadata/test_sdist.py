"""Sdist metadata: PKG-INFO (PEP 643) or a static [project] table first, a quiet build last."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.version import Version

from crosspin.distributions import DistFile
from crosspin.metadata import MetadataProvider
from crosspin.metadata._core import parse_core_metadata
from crosspin.metadata._sdist import static_fields
from fixtures.hostile import HostileIndex
from fixtures.sdists import (
    CHATTY_BACKEND,
    FAILING_BACKEND,
    WORKING_BACKEND,
    docopt_description,
    pkg_info,
    pyproject,
    sdist,
)
from tests.helpers import ONE_ENV, CliResult, parse_pins, run_cli


def _compile(hostile: HostileIndex, work: Path, requirements: str, *args: str) -> CliResult:
    server = hostile.start(api="json")
    work.mkdir(parents=True, exist_ok=True)
    (work / "requirements.in").write_text(requirements)
    cache = [] if "--cache-dir" in args else ["--no-cache"]
    return run_cli(["compile", "requirements.in", "-o", "requirements.txt", "--isolated",
                    *cache, "--index-url", server.index_url, *ONE_ENV, *args], cwd=work)


def _pins(work: Path) -> set[tuple[str, str]]:
    text = (work / "requirements.txt").read_text()
    return {(name, version) for name, version, _ in parse_pins(text)}


@pytest.mark.parametrize(("files", "backend"), [
    ({"pkg_info": pkg_info("a", "1.0", "2.2", requires=["b>=1"])}, FAILING_BACKEND),
    ({"pkg_info": pkg_info("a", "1.0", "2.1", requires=["b>=1"]),
      "pyproject_toml": pyproject("a", dynamic=["dependencies"])}, WORKING_BACKEND),
], ids=["pkg-info-2.2-no-build", "dynamic-dependencies-built"])
def test_the_sdist_says_or_the_backend_says(
    hostile: HostileIndex, tmp_path: Path, files: dict[str, bytes], backend: bytes
) -> None:
    """PKG-INFO 2.2 without Dynamic is final (the failing backend never runs); with
    dynamic = ["dependencies"] the backend's answer counts."""
    hostile.add("a", sdist("a", "1.0", backend=backend, **files))
    hostile.add_good("b", "1.0")
    result = _compile(hostile, tmp_path, "a\n")
    assert result.code == 0, result.stderr
    assert _pins(tmp_path) == {("a", "1.0"), ("b", "1.0")}


@pytest.mark.parametrize("field", ["Requires-Dist", "Requires-Python"])
def test_a_dynamic_field_means_a_build(hostile: HostileIndex, tmp_path: Path, field: str) -> None:
    """Dynamic: Requires-Dist (or Requires-Python) in PKG-INFO 2.2: only the backend can say."""
    info = pkg_info("a", "1.0", "2.2", requires=["b>=1"], dynamic=[field])
    hostile.add("a", sdist("a", "1.0", pkg_info=info, backend=FAILING_BACKEND))
    result = _compile(hostile, tmp_path, "a==1.0\n")
    assert result.code == 1
    assert "cannot build a 1.0 (a-1.0.tar.gz)" in result.stderr


def test_a_static_project_table_is_read_without_a_build(
    hostile: HostileIndex, tmp_path: Path
) -> None:
    """PKG-INFO 2.1, but [project] states dependencies and extras: no build, extras kept."""
    toml = pyproject("a", dependencies=["b>=1"], optional={"x": ["c ; python_version >= '3'"]},
                     requires_python=">=3.8")
    hostile.add("a", sdist("a", "1.0", pkg_info=pkg_info("a", "1.0", "2.1"),
                           pyproject_toml=toml, backend=FAILING_BACKEND))
    hostile.add_good("b", "1.0")
    hostile.add_good("c", "1.0")
    result = _compile(hostile, tmp_path, "a[x]\n")
    assert result.code == 0, result.stderr
    assert _pins(tmp_path) == {("a", "1.0"), ("b", "1.0"), ("c", "1.0")}


def test_metadata_of_another_project_is_refused(hostile: HostileIndex, tmp_path: Path) -> None:
    """A PKG-INFO naming another project: one error naming the sdist, never its dependencies."""
    info = pkg_info("evil", "1.0", "2.2", requires=["b"])
    hostile.add("a", sdist("a", "1.0", pkg_info=info, backend=FAILING_BACKEND))
    result = _compile(hostile, tmp_path, "a==1.0\n")
    assert result.code == 1
    assert result.stderr.startswith(
        "error: bad metadata for a 1.0: its metadata names another project ('evil')")


def test_a_failing_build_names_the_release_and_shows_its_last_lines(
    hostile: HostileIndex, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """Pinned with ==, the error names 'a 1.0 (a-1.0.tar.gz)', shows the backend's last 20
    lines (indented), never a temporary path; nothing of the backend reaches the terminal."""
    hostile.add("a", sdist("a", "1.0", pkg_info=pkg_info("a", "1.0", "2.1"),
                           backend=FAILING_BACKEND))
    result = _compile(hostile, tmp_path, "a==1.0\n")
    assert result.code == 1
    lines = result.stderr.splitlines()
    assert lines[0] == ('error: cannot build a 1.0 (a-1.0.tar.gz): the build backend failed: '
                        'ERROR: Dependency "dbus-1" not found')
    shown = lines[1:-1]
    assert len(shown) == 20
    assert shown[0] == "    backend noise line 22"
    assert shown[-1] == '    ERROR: Dependency "dbus-1" not found'
    assert lines[-1].startswith("hint: ")
    assert "crosspin-" not in result.stderr and "/tmp" not in result.stderr
    assert "backend noise" not in capfd.readouterr().err


def test_build_output_shows_only_with_verbose(
    hostile: HostileIndex, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """A chatty backend is silent by default; -v shows its lines and where metadata came from."""
    hostile.add("a", sdist("a", "1.0", pkg_info=pkg_info("a", "1.0", "2.1"),
                           backend=CHATTY_BACKEND))
    quiet = _compile(hostile, tmp_path / "quiet", "a\n")
    assert quiet.code == 0, quiet.stderr
    assert "banner" not in quiet.stderr + capfd.readouterr().err
    verbose = _compile(hostile, tmp_path / "verbose", "a\n", "-v")
    assert verbose.code == 0, verbose.stderr
    assert "running egg_info -- chatty backend banner" in verbose.stderr
    assert "a 1.0: building a-1.0.tar.gz for its metadata" in verbose.stderr


def test_a_header_folded_description_through_a_build(
    hostile: HostileIndex, tmp_path: Path
) -> None:
    """docopt 0.6.2's shape (Metadata 1.1, built): its dependencies are read, no traceback."""
    info = pkg_info("docopt", "0.6.2", "1.1", requires=["b"],
                    description_header=docopt_description())
    hostile.add("docopt", sdist("docopt", "0.6.2", pkg_info=info))
    hostile.add_good("b", "1.0")
    result = _compile(hostile, tmp_path, "docopt\n")
    assert result.code == 0, result.stderr
    assert _pins(tmp_path) == {("docopt", "0.6.2"), ("b", "1.0")}


def test_a_local_project_with_a_static_table_is_not_built(
    hostile: HostileIndex, tmp_path: Path
) -> None:
    """A direct reference to a folder whose [project] says everything: read, not built."""
    project = tmp_path / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_bytes(pyproject("proj", "2.0", dependencies=["b"]))
    (project / "_fixture_backend.py").write_bytes(FAILING_BACKEND)
    hostile.add_good("b", "1.0")
    result = _compile(hostile, tmp_path / "work", f"proj @ {project.as_uri()}\n")
    assert result.code == 0, result.stderr
    assert "b==1.0\n" in (tmp_path / "work" / "requirements.txt").read_text()


# --- static_fields, the rule itself


def _files(info: bytes | None = None, toml: bytes | None = None) -> dict[str, bytes]:
    return {k: v for k, v in (("PKG-INFO", info), ("pyproject.toml", toml)) if v is not None}


@pytest.mark.parametrize(("version", "dynamic", "trusted"), [
    ("2.1", [], False), ("2.2", [], True), ("2.4", ["License"], True),
    ("2.2", ["requires-dist"], False), ("2.3", ["Requires-Python"], False), ("x", [], False),
])
def test_pep_643_rule(version: str, dynamic: list[str], trusted: bool) -> None:
    """PKG-INFO counts from 2.2 on, unless Requires-Dist/Requires-Python is dynamic."""
    from packaging.version import Version

    info = pkg_info("a", "1.0", version, requires=["b"], dynamic=dynamic)
    found = static_fields(_files(info), name="a", version=Version("1.0"), file="a-1.0.tar.gz")
    assert (found is not None) == trusted
    if found is not None:
        assert found[1] == "PKG-INFO"


@pytest.mark.parametrize(("toml", "trusted"), [
    (pyproject("a", dependencies=["b"]), True),
    (pyproject("a"), True),  # no dependencies at all is static too
    (pyproject("a", dependencies=["b"], dynamic=["version"]), True),
    (pyproject("a", dynamic=["dependencies"]), False),
    (pyproject("a", dependencies=["b"], dynamic=["optional-dependencies"]), False),
    (pyproject("a", dependencies=["b"], dynamic=["requires-python"]), False),
    (pyproject(), False),  # no [project]
    (b"[project\n", False),  # not TOML
    (b'[project]\nname = "a"\ndependencies = "b"\n', False),  # wrong type: let the backend say
])
def test_static_project_rule(toml: bytes, trusted: bool) -> None:
    """[project] counts when dependencies, optional-dependencies, requires-python are static."""
    from packaging.version import Version

    found = static_fields(_files(pkg_info("a", "1.0", "2.1"), toml), name="a",
                          version=Version("1.0"), file="a-1.0.tar.gz")
    assert (found is not None) == trusted


def test_optional_dependencies_become_extra_markers() -> None:
    """Each extra's requirements get 'extra == ...' joined to their own marker (as backends do)."""
    from packaging.version import Version

    toml = pyproject("a", dependencies=["b"], optional={"Dev_X": ["c>=1 ; os_name == 'nt'", "d"]})
    found = static_fields(_files(None, toml), name="a", version=Version("1.0"), file="f")
    assert found is not None
    fields = found[0]
    assert fields.requires_dist == ("b", 'c>=1; os_name == "nt" and extra == "dev-x"',
                                    'd; extra == "dev-x"')
    assert fields.provides_extra == ("Dev_X",)
    assert parse_core_metadata(b"Name: a\n").name == "a"


def test_a_built_sdist_is_built_once_per_cache(hostile: HostileIndex, tmp_path: Path) -> None:
    """The fields a build gave are kept under the sdist's sha256: the next compile (a rerun,
    a fresh folder) reads them from the cache instead of running the backend again.

    On the live index pyspark's build took ~57 s in every compile, and sglang's path to
    flashinfer-python 0.4.0rc3 (a build that installs torch) made one job time out.
    """
    info = pkg_info("a", "1.0", "2.1", requires=["b>=1"])
    hostile.add("a", sdist("a", "1.0", pkg_info=info,
                           pyproject_toml=pyproject("a", dynamic=["dependencies"]),
                           backend=WORKING_BACKEND))
    hostile.add_good("b", "1.0")
    cache = str(tmp_path / "cache")
    runs = [_compile(hostile, tmp_path / f"run{i}", "a\n", "-v", "--cache-dir", cache)
            for i in (1, 2)]
    assert [r.code for r in runs] == [0, 0], runs[1].stderr
    assert "a 1.0: building a-1.0.tar.gz for its metadata" in runs[0].stderr
    assert "building" not in runs[1].stderr
    assert "a 1.0: metadata of a-1.0.tar.gz from the cache" in runs[1].stderr
    assert _pins(tmp_path / "run1") == _pins(tmp_path / "run2") == {("a", "1.0"), ("b", "1.0")}


class _CachedSource:
    """A source whose sdist cache holds ``entry``; reading the sdist itself is recorded."""

    def __init__(self, entry: bytes) -> None:
        self.entry = entry
        self.downloads = 0

    def wheel_metadata(self, file: DistFile) -> bytes:
        raise AssertionError("sdists only")

    def download(self, file: DistFile, dest_dir: Path) -> Path:
        self.downloads += 1
        raise OSError("not here")

    def parsed_sdist_metadata(self, file: DistFile) -> bytes | None:
        return self.entry


@pytest.mark.parametrize(("entry", "trusted"), [
    (b'{"format":1,"name":"a","version":"1.0","requires_dist":["b"],'
     b'"requires_python":null,"provides_extra":[]}', True),
    (b'{"format":1,"name":"evil","version":"1.0","requires_dist":["b"],'
     b'"requires_python":null,"provides_extra":[]}', False),
    (b'{"format":1,"name":"a","version":"2.0","requires_dist":["b"],'
     b'"requires_python":null,"provides_extra":[]}', False),
    (b"{not json", False),
], ids=["same-release", "another-project", "another-version", "corrupt"])
def test_a_cached_sdist_entry_counts_only_for_its_own_release(entry: bytes, trusted: bool) -> None:
    """The entry is named by the file's sha256; one naming another release (the same file
    listed under another name by a mirror) or a damaged one is a miss: the sdist is read."""
    file = DistFile.from_link(filename="a-1.0.tar.gz", url="https://x/a-1.0.tar.gz",
                              hashes={"sha256": "0" * 64})
    assert file is not None
    source = _CachedSource(entry)
    provider = MetadataProvider(source)
    if trusted:
        meta = provider.get("a", Version("1.0"), [file])
        assert [str(r) for r in meta.requires_dist] == ["b"]
        assert source.downloads == 0
    else:
        with pytest.raises(OSError, match="not here"):
            provider.get("a", Version("1.0"), [file])
        assert source.downloads == 1
