"""Fixture distributions work with real tools (build hooks, build, pip) and match packse."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Optional

import pytest
from packaging.metadata import Metadata
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from pyproject_hooks import BuildBackendHookCaller

from fixtures.builder import BuiltIndex, build_index
from fixtures.catalog import IndexFactory
from fixtures.scenarios import Scenario

PYENV = Path("/root/.pyenv/versions")
INTERPRETERS = [sys.executable] + [
    str(PYENV / version / "bin" / "python3")
    for version in ("3.8.18", "3.9.18", "3.10.13", "3.12.1", "3.13.0")
    if (PYENV / version / "bin" / "python3").exists()
]
# Requires-Python below the venv's interpreter, so pip accepts these.
APP = {
    "app": {"1.0.0": {"requires": ["lib>=1"], "requires_python": ">=3.8"}},
    "lib": {
        "1.0.0": {"requires_python": ">=3.8"},
        "2.0.0": {"requires_python": ">=3.8", "wheel": False},
    },
}


def unpack_sdist(built: BuiltIndex, name: str, version: str, into: Path) -> Path:
    sdist = next(p for p in built.files_for(name, version) if p.name.endswith(".tar.gz"))
    with tarfile.open(sdist) as archive:
        archive.extractall(into)  # our own tarball: safe
    return into / sdist.name[: -len(".tar.gz")]


def wheel_metadata(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(next(n for n in archive.namelist() if n.endswith("/METADATA")))


@pytest.fixture(scope="module")
def app_index(tmp_path_factory: pytest.TempPathFactory) -> BuiltIndex:
    return build_index(APP, tmp_path_factory.mktemp("app-index"))


@pytest.mark.parametrize(
    "python",
    INTERPRETERS,
    ids=lambda path: "running" if path == sys.executable else Path(path).parent.parent.name,
)
def test_sdist_backend_hooks_run_under_every_python(
    python: str, app_index: BuiltIndex, tmp_path: Path
) -> None:
    """The in-tree backend answers every PEP 517 hook, stdlib-only, on Python 3.8+."""
    source = unpack_sdist(app_index, "app", "1.0.0", tmp_path / "src")
    hooks = BuildBackendHookCaller(
        str(source), build_backend="_fixture_backend", backend_path=["."], python_executable=python
    )
    assert hooks.get_requires_for_build_wheel({}) == []
    assert hooks.get_requires_for_build_sdist({}) == []
    assert hooks.get_requires_for_build_editable({}) == []
    info = hooks.prepare_metadata_for_build_wheel(str(tmp_path))
    assert info == "app-1.0.0.dist-info"
    published = app_index.files_for("app", "1.0.0")
    assert (tmp_path / info / "METADATA").read_bytes() == wheel_metadata(published[0])
    (tmp_path / "out").mkdir()
    wheel = hooks.build_wheel(str(tmp_path / "out"))
    assert (tmp_path / "out" / wheel).read_bytes() == published[0].read_bytes()
    sdist = hooks.build_sdist(str(tmp_path / "out"))
    assert (tmp_path / "out" / sdist).read_bytes() == published[1].read_bytes()
    (tmp_path / "editable").mkdir()
    editable = hooks.build_editable(str(tmp_path / "editable"))
    with zipfile.ZipFile(tmp_path / "editable" / editable) as archive:
        assert archive.read("_app_editable.pth").decode().strip() == str(source)


@pytest.mark.slow
def test_python_m_build_builds_the_sdist_without_network(
    app_index: BuiltIndex, tmp_path: Path
) -> None:
    """``python -m build --no-isolation`` rebuilds the published wheel and sdist byte for byte."""
    source = unpack_sdist(app_index, "lib", "2.0.0", tmp_path / "src")
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel",
         "--outdir", str(tmp_path / "dist"), str(source)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    assert (tmp_path / "dist" / "lib-2.0.0.tar.gz").read_bytes() == (
        app_index.files_for("lib", "2.0.0")[0].read_bytes()
    )
    built_wheel = tmp_path / "dist" / "lib-2.0.0-py3-none-any.whl"
    assert Metadata.from_email(wheel_metadata(built_wheel)).version.public == "2.0.0"


@pytest.mark.slow
def test_pip_installs_from_files_and_from_the_server(
    app_index: BuiltIndex, make_index: IndexFactory, tmp_path: Path
) -> None:
    """pip installs fixture wheels, builds fixture sdists, and resolves against the server."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    # --isolated: ignore this machine's pip.conf (extra indexes, find-links).
    pip = [str(python), "-m", "pip", "--isolated", "--disable-pip-version-check", "--no-input"]
    install = [*pip, "install", "--no-cache-dir"]
    subprocess.run(
        [*install, "--no-index", "--find-links", str(app_index.files_dir), "app"],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    probe = "import app, lib; print(app.__version__, lib.__version__)"
    versions = subprocess.run([str(python), "-c", probe], check=True, capture_output=True)
    assert versions.stdout.split() == [b"1.0.0", b"2.0.0"]  # lib 2.0.0 was built from its sdist
    subprocess.run([*pip, "uninstall", "-y", "app", "lib"], check=True, capture_output=True)
    server = make_index.serve(app_index)
    subprocess.run(
        [*install, "--index-url", server.index_url, "app", "lib<2"],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    versions = subprocess.run([str(python), "-c", probe], check=True, capture_output=True)
    assert versions.stdout.split() == [b"1.0.0", b"1.0.0"]
    paths = [record.path for record in server.requests if record.status == 200]
    assert "/simple/app/" in paths and "/simple/lib/" in paths
    assert "/files/lib-1.0.0-py3-none-any.whl" in paths


# --- cross-check against the packse-built index


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: dict[str, dict[str, Optional[str]]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, Optional[str]]]) -> None:
        if tag == "a":
            attributes = dict(attrs)
            href = attributes.get("href") or ""
            self.links[href.split("#")[0].rsplit("/", 1)[-1]] = attributes


def _grid() -> list[dict[str, str]]:
    points = []
    for platform in ("linux", "win32", "darwin"):
        for implementation in ("cpython", "pypy"):
            for python in ("3.8", "3.9", "3.12", "3.13", "3.14"):
                pypy = implementation == "pypy"
                points.append({
                    "sys_platform": platform, "implementation_name": implementation,
                    "platform_python_implementation": "PyPy" if pypy else "CPython",
                    "python_version": python, "python_full_version": f"{python}.0",
                    "os_name": "nt" if platform == "win32" else "posix",
                    "platform_machine": "x86_64",
                })  # fmt: skip
    return points


GRID = _grid()


def _active(metadata: Metadata, extra: str, point: dict[str, str], depth: int = 0) -> set[Any]:
    """Requirements in force for one environment and extra, self-extras expanded.

    hatchling (packse's backend) flattens ``a[x]`` inside ``a``'s own extras;
    comparing what is in force makes both spellings equal.
    """
    found: set[Any] = set()
    for requirement in metadata.requires_dist or []:
        if requirement.marker and not requirement.marker.evaluate({**point, "extra": extra}):
            continue
        if canonicalize_name(requirement.name) == metadata.name and depth < 5:
            for inner in requirement.extras:
                found |= _active(metadata, canonicalize_name(inner), point, depth + 1)
        else:
            found.add(_key(requirement))
    return found


def _key(requirement: Requirement) -> tuple[str, str, frozenset[str], Optional[str]]:
    return (
        canonicalize_name(requirement.name),
        str(requirement.specifier),
        frozenset(requirement.extras),
        requirement.url,
    )


def _summary(wheel: Path) -> tuple[Any, ...]:
    metadata = Metadata.from_email(wheel_metadata(wheel), validate=False)
    extras = sorted(canonicalize_name(e) for e in metadata.provides_extra or [])
    in_force = {
        (extra, i): _active(metadata, extra, point)
        for extra in ["", *extras]
        for i, point in enumerate(GRID)
    }
    return str(metadata.requires_python or ""), extras, in_force


def _packse_filename(filename: str, requires_python: Optional[str]) -> str:
    # hatchling tags a wheel py2.py3 when Requires-Python admits Python 2.
    if requires_python is not None and SpecifierSet(requires_python).contains("2.7"):
        return filename.replace("-py3-none-any.whl", "-py2.py3-none-any.whl")
    return filename


def test_builds_match_the_packse_index(
    scenarios: list[Scenario], scenarios_root: Path, tmp_path: Path
) -> None:
    """Every scenario's files, metadata, Requires-Python and yanks match packse's build."""
    packse = scenarios_root.parent / "scenario-index"
    if not packse.is_dir():
        pytest.skip(f"no packse-built scenario index at {packse}")
    problems = []
    for scenario in scenarios:
        prefix = f"{scenario.name}-"
        built = build_index(scenario, tmp_path / scenario.name, prefix=prefix)
        for name, package in scenario.packages.items():
            project = canonicalize_name(prefix + name)
            packse_page = packse / "simple-html" / project / "index.html"
            if not packse_page.is_file():
                problems.append(f"{project}: missing from packse")
                continue
            links = _Links()
            links.feed(packse_page.read_text())
            page = json.loads((built.simple_dir / project / "index.json").read_text())
            by_version = {version.version: version for version in package.versions}
            mine = {}
            for entry in page["files"]:
                version = entry["filename"].split("-")[1].removesuffix(".tar.gz")
                packse_name = _packse_filename(
                    entry["filename"], by_version[version].requires_python
                )
                mine[packse_name] = entry
            if set(mine) != set(links.links):
                problems.append(f"{project}: files {sorted(mine)} != {sorted(links.links)}")
                continue
            for filename, entry in mine.items():
                theirs = links.links[filename]
                if entry.get("requires-python") != theirs.get("data-requires-python"):
                    problems.append(f"{filename}: Requires-Python differs")
                if (entry["yanked"] is not False) != ("data-yanked" in theirs):
                    problems.append(f"{filename}: yanked differs")
                if filename.endswith(".whl") and _summary(
                    built.files_dir / entry["filename"]
                ) != _summary(packse / "files" / filename):
                    problems.append(f"{filename}: METADATA differs")
    assert problems == []
