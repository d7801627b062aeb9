"""The test fixtures themselves: scenario parsing, built wheels/sdists/pages, backend, pip."""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from packaging.metadata import Metadata

from fixtures.builder import BuiltIndex, build_index, render_metadata, upload_time
from fixtures.catalog import ScenarioIndexes
from fixtures.scenarios import (
    PackageVersion,
    Scenario,
    ScenarioError,
    load_scenarios,
    packages_from_dict,
)

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

INDEX: dict[str, Any] = {
    "a": {
        "1.0.0": {"requires": ["b>=1"], "requires_python": ">=3.8"},
        "2.0.0": {
            "requires": ["b>=2 ; sys_platform == 'linux'"],
            "extras": {"Extra_One": ["c<2 ; python_version < '3.13'", "d"]},
            "wheel_tags": [
                "py3-none-any",
                "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64",
            ],
            "yanked": "broken",
        },
    },
    "b": {"1.0.0": {"sdist": False}, "2.0.0": {"wheel": False}},
}


def read_metadata(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return archive.read(name)


def check_wheel(wheel: Path) -> None:
    """Assert that every RECORD line matches the archive and nothing is unlisted."""
    with zipfile.ZipFile(wheel) as archive:
        assert archive.testzip() is None
        record_name = next(n for n in archive.namelist() if n.endswith(".dist-info/RECORD"))
        listed = {}
        for line in archive.read(record_name).decode().splitlines():
            path, digest, size = line.rsplit(",", 2)
            listed[path] = (digest, size)
        assert set(listed) == set(archive.namelist())
        assert listed[record_name] == ("", "")
        for path, (digest, size) in listed.items():
            if path == record_name:
                continue
            data = archive.read(path)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            assert digest == "sha256=" + expected.decode()
            assert int(size) == len(data)


@pytest.fixture
def built(tmp_path: Path) -> BuiltIndex:
    return build_index(INDEX, tmp_path / "index")


# --- scenarios


def test_load_scenarios_reads_every_scenario(scenarios_root: Path) -> None:
    """All packse scenarios parse, sorted by their (unique) names."""
    scenarios = load_scenarios(scenarios_root)
    names = [scenario.name for scenario in scenarios]
    assert len(names) == len(list(scenarios_root.rglob("*.toml"))) >= 189
    assert names == sorted(set(names))
    basic = scenarios[names.index("fork-basic")]
    assert basic.root.requires == (
        "a>=2 ; sys_platform == 'linux'",
        "a<2 ; sys_platform == 'darwin'",
    )
    assert basic.resolver_options.universal
    assert [v.version for v in basic.packages["a"].versions] == ["1.0.0", "2.0.0"]


def test_scenario_defaults_follow_packse() -> None:
    """A version without settings gets Requires-Python >=3.12, one py3 wheel and an sdist."""
    version = packages_from_dict({"a": {"1.0": {}}})["a"].versions[0]
    assert version == PackageVersion(version="1.0")
    assert version.requires_python == ">=3.12"
    assert (version.wheel_tags, version.wheel, version.sdist, version.yanked) == (
        ("py3-none-any",),
        True,
        True,
        False,
    )


def test_inline_and_toml_package_shapes_agree() -> None:
    """The short inline shape and the TOML ``versions`` shape give the same packages."""
    inline = packages_from_dict({"a": {"2.0": {"requires": ["b"]}, "1.0": {}}})
    toml = packages_from_dict({"a": {"versions": {"1.0": {}, "2.0": {"requires": ["b"]}}}})
    assert inline == toml
    assert [v.version for v in inline["a"].versions] == ["1.0", "2.0"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"a": {"1.0": {"requiers": []}}}, "unknown key(s) requiers"),
        ({"a": {"1.0": {"wheel_tags": ["py3-any"]}}}, "not interpreter-abi-platform"),
        ({"a": {"one": {}}}, "invalid version"),
        ({"a": {"1.0": {"requires": "b"}}}, "expected a list of strings"),
        ({"a": {"1.0": {}, "1.0.0": {}}}, "same version"),
    ],
)
def test_malformed_packages_fail_with_location(data: dict[str, Any], message: str) -> None:
    """A typo in an inline index fails loudly and says where."""
    with pytest.raises(ScenarioError, match=r"packages\.a") as raised:
        packages_from_dict(data)
    assert message in str(raised.value)


def test_scenario_from_toml_reads_all_sections(tmp_path: Path) -> None:
    """Every documented section lands in its typed field; [testgen] is ignored."""
    path = tmp_path / "s.toml"
    path.write_text(
        'name = "s"\ndescription = "d"\n[root]\nrequires = ["a"]\nrequires_python = ">=3.9"\n'
        '[environment]\npython = "3.9"\nadditional_python = ["3.11"]\n'
        '[resolver_options]\nuniversal = true\nno_binary = ["a"]\nresolution = "lowest"\n'
        '[expected]\nsatisfiable = true\n[expected.packages]\na = "1.0.0"\n'
        '[packages.a.versions."1.0.0"]\nyanked = true\n[testgen]\ndisable = true\n'
    )
    scenario = Scenario.from_toml(path)
    assert scenario.root.requires_python == ">=3.9"
    assert scenario.environment.additional_python == ("3.11",)
    assert scenario.resolver_options.no_binary == ("a",)
    assert scenario.resolver_options.resolution == "lowest"
    assert scenario.python_version == "3.9"
    assert scenario.expected.packages == {"a": "1.0.0"}
    assert scenario.packages["a"].versions[0].yanked is True


# --- metadata and files


def test_metadata_combines_extra_and_requirement_markers() -> None:
    """Extras become Provides-Extra (normalised) and parenthesised ``extra ==`` markers."""
    version = packages_from_dict(INDEX)["a"].versions[1]
    assert render_metadata("a", version).decode().splitlines() == [
        "Metadata-Version: 2.1",
        "Name: a",
        "Version: 2.0.0",
        "Requires-Python: >=3.12",
        "Requires-Dist: b>=2 ; sys_platform == 'linux'",
        "Provides-Extra: extra-one",
        "Requires-Dist: c<2 ; (python_version < '3.13') and extra == \"extra-one\"",
        'Requires-Dist: d ; extra == "extra-one"',
    ]


def test_prefix_renames_packages_and_their_requirements(tmp_path: Path) -> None:
    """A packse-style prefix applies to names, filenames, pages and Requires-Dist."""
    index = build_index(INDEX, tmp_path, prefix="demo-")
    wheel = index.files_for("a", "1.0.0")[0]
    assert wheel.name == "demo_a-1.0.0-py3-none-any.whl"
    metadata = Metadata.from_email(read_metadata(wheel))
    assert metadata.name == "demo-a"
    assert [str(r) for r in metadata.requires_dist or []] == ["demo-b>=1"]
    assert (tmp_path / "simple" / "demo-b" / "index.json").is_file()
    assert index.files_for("demo-a", "1.0.0") == index.files_for("a", "1.0.0")


def test_wheels_are_valid_and_match_their_metadata_files(built: BuiltIndex) -> None:
    """Each wheel is a sound zip with a correct RECORD, and .metadata equals its METADATA."""
    wheels = sorted(built.files_dir.glob("*.whl"))
    assert [w.name for w in wheels] == [
        "a-1.0.0-py3-none-any.whl",
        "a-2.0.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "a-2.0.0-py3-none-any.whl",
        "b-1.0.0-py3-none-any.whl",
    ]
    for wheel in wheels:
        check_wheel(wheel)
        metadata = read_metadata(wheel)
        assert Path(f"{wheel}.metadata").read_bytes() == metadata
        parsed = Metadata.from_email(metadata, validate=True)
        assert wheel.name.startswith(f"{parsed.name}-{parsed.version}-")


def test_compressed_wheel_tag_is_kept_in_name_and_expanded_in_wheel_file(
    built: BuiltIndex,
) -> None:
    """A compressed tag set names one wheel whose WHEEL lists every tag."""
    wheel = built.files_for("a", "2.0.0")[1]
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read("a-2.0.0.dist-info/WHEEL").decode()
        assert archive.read("a/__init__.py") == b'__version__ = "2.0.0"\n'
    assert [line for line in text.splitlines() if line.startswith("Tag:")] == [
        "Tag: cp312-cp312-manylinux_2_17_x86_64",
        "Tag: cp312-cp312-manylinux2014_x86_64",
    ]
    assert "Root-Is-Purelib: true" in text


def test_wheel_and_sdist_switches_select_files(built: BuiltIndex) -> None:
    """``wheel = false`` and ``sdist = false`` drop exactly those files."""
    assert [p.name for p in built.files_for("b", "1.0.0")] == ["b-1.0.0-py3-none-any.whl"]
    assert [p.name for p in built.files_for("b", "2.0.0")] == ["b-2.0.0.tar.gz"]
    assert len(built.files_for("a", "2.0.0")) == 3


def test_building_twice_gives_identical_bytes(tmp_path: Path) -> None:
    """Rebuilding gives the same files, hashes and pages (locks stay valid)."""

    def digests(root: Path) -> dict[str, str]:
        return {
            str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }

    build_index(INDEX, tmp_path / "one")
    build_index(INDEX, tmp_path / "two")
    first = digests(tmp_path / "one")
    assert first == digests(tmp_path / "two")
    assert len(first) == 11 + 6  # distributions and .metadata files, then pages


def test_sdist_is_a_reproducible_self_building_tarball(built: BuiltIndex) -> None:
    """The sdist has fixed mtimes/owners, PKG-INFO and an in-tree stdlib backend."""
    sdist = built.files_for("a", "1.0.0")[-1]
    with tarfile.open(sdist) as archive:
        members = archive.getmembers()
        assert {m.mtime for m in members} == {315532800}
        assert {(m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, "", "")}
        names = [m.name for m in members]
        assert names == sorted(names)
        assert set(names) >= {
            "a-1.0.0/PKG-INFO",
            "a-1.0.0/pyproject.toml",
            "a-1.0.0/_fixture_backend.py",
            "a-1.0.0/a/__init__.py",
        }
        pkg_info = archive.extractfile("a-1.0.0/PKG-INFO")
        pyproject = archive.extractfile("a-1.0.0/pyproject.toml")
        assert pkg_info is not None and pyproject is not None
        assert pkg_info.read() == read_metadata(built.files_for("a", "1.0.0")[0])
        system = tomllib.loads(pyproject.read().decode())["build-system"]
    assert system == {"requires": [], "build-backend": "_fixture_backend", "backend-path": ["."]}


def test_pages_describe_every_file(built: BuiltIndex) -> None:
    """JSON and HTML pages carry hashes, sizes, Requires-Python, yanks, metadata, upload times."""
    page = json.loads((built.simple_dir / "a" / "index.json").read_text())
    assert page["meta"] == {"api-version": "1.1"}
    assert (page["name"], page["versions"]) == ("a", ["1.0.0", "2.0.0"])
    by_name = {entry["filename"]: entry for entry in page["files"]}
    for path in built.files_for("a", "1.0.0") + built.files_for("a", "2.0.0"):
        entry = by_name[path.name]
        assert entry["url"] == f"../../files/{path.name}"
        assert entry["hashes"] == {"sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
        assert entry["size"] == path.stat().st_size
    wheel = by_name["a-2.0.0-py3-none-any.whl"]
    metadata_hash = hashlib.sha256(read_metadata(built.files_dir / wheel["filename"])).hexdigest()
    assert wheel["core-metadata"] == wheel["dist-info-metadata"] == {"sha256": metadata_hash}
    assert (wheel["yanked"], wheel["requires-python"]) == ("broken", ">=3.12")
    assert by_name["a-2.0.0.tar.gz"]["core-metadata"] is False
    assert by_name["a-1.0.0.tar.gz"]["yanked"] is False
    assert by_name["a-1.0.0.tar.gz"]["upload-time"] == "2024-01-01T00:00:00.000000Z"
    assert wheel["upload-time"] == "2024-01-02T00:00:00.000000Z"
    html = (built.simple_dir / "a" / "index.html").read_text()
    assert 'data-requires-python="&gt;=3.8"' in html
    assert 'data-yanked="broken"' in html
    assert f'data-core-metadata="sha256={metadata_hash}"' in html
    assert 'data-upload-time="2024-01-02T00:00:00.000000Z"' in html
    root = (built.simple_dir / "index.html").read_text()
    assert '<a href="a/">a</a>' in root and '<a href="b/">b</a>' in root


def test_upload_times_step_one_day_from_the_base() -> None:
    """Version i of a package is uploaded i days after ``upload_base``."""
    from fixtures.builder import DEFAULT_UPLOAD_BASE

    assert upload_time(DEFAULT_UPLOAD_BASE, 31) == "2024-02-01T00:00:00.000000Z"


def test_scenario_indexes_serve_each_scenario(scenario_indexes: ScenarioIndexes) -> None:
    """Every scenario is built once (all 1354 packse files) and served under its own prefix."""
    from urllib.request import urlopen

    name = "fork-basic"
    assert scenario_indexes.scenario(name).name == name
    with urlopen(f"{scenario_indexes.index_url(name)}/a/") as response:
        body = response.read().decode()
    assert "a-2.0.0-py3-none-any.whl" in body
    assert scenario_indexes.built(name).files_for("a", "1.0.0")
    assert len(scenario_indexes.names) >= 189
    built = [scenario_indexes.built(name) for name in scenario_indexes.names]
    assert sum(len(paths) for index in built for paths in index.files.values()) >= 1354
