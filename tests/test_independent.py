"""Universal locks judged by checks that share nothing with crosspin's own model.

``crosspin.lock.check_lock`` uses :mod:`crosspin.environments` (marker
environments, wheel tags) and :mod:`crosspin.metadata`, as the resolver
does: a bug there could pass both. These checks cannot share it:

- **pip itself**, run under each real CPython 3.9-3.13 found on this machine
  (each is an environment of the default matrix: linux-x86_64), resolves the
  lock with ``pip install --dry-run --report`` against the fixture index. pip
  evaluates the markers, the wheel tags and Requires-Python for that
  interpreter and pulls in anything the lock forgot; what it would install
  must be exactly the lock's subset under the marker environment pip reports.
- **a model written here from the PEPs** for all 30 environments: marker
  values by hand, wheel compatibility decided per tag from PEP 425/600 and the
  documented OS floors (glibc 2.28, macOS 13), metadata read from the built
  index's files with :mod:`packaging.metadata`. Each environment's subset
  must be installable and closed under that model.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from packaging.markers import Marker
from packaging.metadata import Metadata
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

from fixtures.builder import BuiltIndex
from fixtures.catalog import IndexFactory
from fixtures.server import IndexServer
from tests.helpers import SPLIT_PROJECT, UNIVERSAL_PROJECT, run_cli
from tests.helpers.pythons import python_params, require_python

_PLATFORM_TAGS = ("manylinux_2_17_x86_64.manylinux2014_x86_64",
                  "manylinux_2_17_aarch64.manylinux2014_aarch64", "macosx_11_0_arm64",
                  "macosx_10_9_x86_64", "win_amd64")
#: Binary-only releases that fit only some environments: fast 2.0.0 has wheels for
#: CPython 3.12 and 3.13 only; glibc-new 2.0.0 needs glibc 2.34 on Linux.
BINARY_PROJECT: dict[str, Any] = {
    "app": {"1.0.0": {"requires_python": ">=3.8", "requires": ["fast", "glibc-new"]}},
    "fast": {"1.0.0": {"requires_python": ">=3.8"},
             "2.0.0": {"requires_python": ">=3.8", "sdist": False,
                       "wheel_tags": [f"cp3{m}-cp3{m}-{plat}" for m in (12, 13)
                                      for plat in _PLATFORM_TAGS]}},
    "glibc-new": {"1.0.0": {"requires_python": ">=3.8"},
                  "2.0.0": {"requires_python": ">=3.8", "sdist": False, "wheel_tags": [
                      "py3-none-manylinux_2_34_x86_64", "py3-none-manylinux_2_34_aarch64",
                      "py3-none-macosx_11_0_arm64", "py3-none-macosx_10_9_x86_64",
                      "py3-none-win_amd64"]}},
}
PROJECTS: dict[str, dict[str, Any]] = {"universal": UNIVERSAL_PROJECT, "split": SPLIT_PROJECT,
                                       "binary": BINARY_PROJECT}

#: The default matrix, written out: CPython 3.9-3.14 x these platforms.
MINORS = range(9, 15)
PLATFORMS: dict[str, dict[str, str]] = {
    "linux-x86_64": {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
                     "platform_machine": "x86_64"},
    "linux-aarch64": {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
                      "platform_machine": "aarch64"},
    "macos-arm64": {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix",
                    "platform_machine": "arm64"},
    "macos-x86_64": {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix",
                     "platform_machine": "x86_64"},
    "windows-x86_64": {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt",
                       "platform_machine": "AMD64"},
}
GLIBC_FLOOR = (2, 28)  # docs: a Linux lock serves glibc 2.28 and newer
MACOS_FLOOR = (13, 0)  # docs: a macOS lock serves macOS 13 and newer
_LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
_MAC_ARCHS = {"arm64": {"arm64", "universal2"},
              "x86_64": {"x86_64", "intel", "fat64", "fat3", "universal", "universal2"}}


@pytest.fixture(scope="module")
def locks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        dict[str, tuple[str, BuiltIndex, IndexServer]]]:
    """Each project's universal requirements.txt over the default matrix, its index and server."""
    work = tmp_path_factory.mktemp("independent")
    factory = IndexFactory(work / "indexes")
    out: dict[str, tuple[str, BuiltIndex, IndexServer]] = {}
    try:
        for name, packages in PROJECTS.items():
            built = factory.build(packages)
            server = factory.serve(built, api="html")  # HTML: older pips misread PEP 691 extras
            folder = work / name
            folder.mkdir()
            (folder / "requirements.in").write_text("app\n", encoding="utf-8")
            result = run_cli(["compile", "requirements.in", "--isolated", "-q", "--index-url",
                              server.index_url, "--cache-dir", str(folder / "cache")],
                             cwd=folder)
            assert result.code == 0, result.stderr
            out[name] = ((folder / "requirements.txt").read_text(encoding="utf-8"), built,
                         server)
        yield out
    finally:
        factory.close()


def _pins(text: str) -> list[tuple[str, Version, Marker | None]]:
    """The lock's pin lines, read with packaging alone."""
    pins: list[tuple[str, Version, Marker | None]] = []
    for line in text.replace("\\\n", " ").splitlines():
        if not line.strip() or line[0] in "# -":
            continue
        req = Requirement(line.split(" --hash", 1)[0].strip())
        (spec,) = req.specifier
        assert spec.operator == "==", line
        pins.append((canonicalize_name(req.name), Version(spec.version), req.marker))
    return pins


def _subset(text: str, env: dict[str, str]) -> dict[str, Version]:
    chosen: dict[str, Version] = {}
    for name, version, marker in _pins(text):
        if marker is None or marker.evaluate({**env, "extra": ""}):
            assert name not in chosen, f"two pins of {name} in one environment"
            chosen[name] = version
    return chosen


# --- pip under real interpreters ------------------------------------------------------------


def _pip_for(python: Path, env: dict[str, str]) -> list[str]:
    """The interpreter's own pip when it has one that writes reports (>= 22.2), else this
    run's pip pointed at it (``--python``; recent pips no longer run under 3.9)."""
    own = subprocess.run([str(python), "-m", "pip", "--version"], capture_output=True,
                         text=True, env=env, check=False).stdout.split()
    if len(own) > 1 and tuple(int(x) for x in own[1].split(".")[:2]) >= (22, 2):
        return [str(python), "-m", "pip"]
    return [sys.executable, "-m", "pip", "--python", str(python)]


@pytest.mark.parametrize("project", sorted(PROJECTS))
@pytest.mark.parametrize("minor", python_params(("3.9", "3.10", "3.11", "3.12", "3.13")))
def test_pip_under_a_real_interpreter_installs_exactly_the_subset(
    minor: str, project: str, locks: dict[str, tuple[str, BuiltIndex, IndexServer]],
    tmp_path: Path,
) -> None:
    """pip --dry-run --report under CPython 3.X selects exactly what the lock's markers say."""
    python = require_python(minor)
    text, _, server = locks[project]
    lock = tmp_path / "requirements.txt"
    lock.write_text(text, encoding="utf-8")
    report = tmp_path / "report.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1")
    done = subprocess.run(
        [*_pip_for(python, env), "install", "--dry-run", "--ignore-installed", "--quiet",
         "--report", str(report), "--index-url", server.index_url, "-r", str(lock)],
        capture_output=True, text=True, env=env, check=False, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(report.read_text(encoding="utf-8"))
    pip_env = data["environment"]
    assert pip_env["python_version"] == minor and pip_env["sys_platform"] == "linux"
    installs = {canonicalize_name(item["metadata"]["name"]): Version(item["metadata"]["version"])
                for item in data["install"]}
    assert installs == _subset(text, pip_env)
    assert installs, "pip would install nothing"


# --- a model written from the PEPs ----------------------------------------------------------


def _environment(minor: int, platform: str) -> dict[str, str]:
    return {**PLATFORMS[platform], "python_version": f"3.{minor}",
            "python_full_version": f"3.{minor}.0", "implementation_name": "cpython",
            "platform_python_implementation": "CPython", "implementation_version": f"3.{minor}.0",
            "platform_release": "", "platform_version": ""}


def _platform_ok(tag: str, platform: str) -> bool:
    machine = PLATFORMS[platform]["platform_machine"]
    if platform.startswith("linux"):
        for legacy, glibc in _LEGACY_MANYLINUX.items():
            if tag == f"{legacy}_{machine}":
                return glibc <= GLIBC_FLOOR
        parts = tag.split("_", 3)
        if len(parts) == 4 and parts[0] == "manylinux" and parts[3] == machine:
            return (int(parts[1]), int(parts[2])) <= GLIBC_FLOOR
        return False
    if platform.startswith("macos"):
        parts = tag.split("_", 3)
        if len(parts) != 4 or parts[0] != "macosx":
            return False
        major, minor = int(parts[1]), int(parts[2])
        release = (major, 0) if major >= 11 else (major, minor)
        return release <= MACOS_FLOOR and parts[3] in _MAC_ARCHS[machine]
    return tag == "win_amd64"


def _wheel_ok(filename: str, minor: int, platform: str) -> bool:
    """PEP 425: some tag of the wheel is one CPython 3.minor on ``platform`` accepts."""
    _, _, _, tags = parse_wheel_filename(filename)
    for tag in tags:
        if tag.platform != "any" and not _platform_ok(tag.platform, platform):
            continue
        if tag.interpreter in ("py3", f"py3{minor}") and tag.abi == "none":
            return True
        if tag.interpreter == f"cp3{minor}" and tag.abi in (f"cp3{minor}", "abi3", "none"):
            return True
        if (tag.interpreter.startswith("cp3") and tag.abi == "abi3"
                and int(tag.interpreter[3:]) <= minor):
            return True
    return False


def _metadata(built: BuiltIndex, name: str, version: Version) -> Metadata:
    files = [f for (n, v), paths in built.files.items()
             if canonicalize_name(n) == name and Version(v) == version for f in paths]
    assert files, f"{name}=={version} is not on the index"
    sidecar = next(f for f in files if (f.parent / f"{f.name}.metadata").is_file())
    raw = (sidecar.parent / f"{sidecar.name}.metadata").read_bytes()
    return Metadata.from_email(raw, validate=False)


def _problems(text: str, built: BuiltIndex, minor: int, platform: str) -> list[str]:
    env = _environment(minor, platform)
    subset = _subset(text, env)
    problems = []
    for name, version in sorted(subset.items()):
        meta = _metadata(built, name, version)
        if meta.requires_python and not SpecifierSet(str(meta.requires_python)).contains(
                f"3.{minor}.0"):
            problems.append(f"{name}=={version}: Requires-Python {meta.requires_python}")
        files = [f.name for (n, v), paths in built.files.items()
                 if canonicalize_name(n) == name and Version(v) == version for f in paths]
        wheels = [f for f in files if f.endswith(".whl")]
        if not any(_wheel_ok(w, minor, platform) for w in wheels) and not any(
                f.endswith(".tar.gz") for f in files):
            problems.append(f"{name}=={version}: no wheel for this environment ({wheels})")
        for req in meta.requires_dist or []:
            if req.marker is not None and not req.marker.evaluate({**env, "extra": ""}):
                continue
            dep = canonicalize_name(req.name)
            if dep not in subset:
                problems.append(f"{name}=={version} needs {req}: not in the lock here")
            elif not req.specifier.contains(subset[dep], prereleases=True):
                problems.append(f"{name}=={version} needs {req}: the lock has {subset[dep]}")
    if "app" not in subset:
        problems.append("the root app is not selected")
    return problems


@pytest.mark.parametrize("project", sorted(PROJECTS))
def test_every_environment_is_installable_and_closed_by_an_independent_model(
    project: str, locks: dict[str, tuple[str, BuiltIndex, IndexServer]],
) -> None:
    """30 environments, markers and tags from the PEPs: each subset installs and is closed."""
    text, built, _ = locks[project]
    problems = {f"3.{m}-{p}": found for m in MINORS for p in PLATFORMS
                if (found := _problems(text, built, m, p))}
    assert problems == {}


SINGLE = [(14, "linux-x86_64"), (13, "linux-x86_64"), (13, "linux-aarch64"),
          (12, "macos-arm64"), (11, "windows-x86_64")]


@pytest.mark.parametrize(("minor", "platform"), SINGLE, ids=[f"3.{m}-{p}" for m, p in SINGLE])
def test_single_environment_locks_pass_the_independent_model(
    minor: int, platform: str, locks: dict[str, tuple[str, BuiltIndex, IndexServer]],
    tmp_path: Path,
) -> None:
    """One environment alone: the newest installable releases, and the model agrees."""
    _, built, server = locks["binary"]
    (tmp_path / "requirements.in").write_text("app\n", encoding="utf-8")
    result = run_cli(["compile", "requirements.in", "--isolated", "-q", "-o", "-", "--index-url",
                      server.index_url, "--cache-dir", str(tmp_path / "cache"),
                      "--python", f"3.{minor}", "--platform", platform], cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert _problems(result.stdout, built, minor, platform) == []
    chosen = _subset(result.stdout, _environment(minor, platform))
    assert str(chosen["fast"]) == ("2.0.0" if minor in (12, 13) else "1.0.0")
    assert str(chosen["glibc-new"]) == ("1.0.0" if platform.startswith("linux") else "2.0.0")


def test_binary_only_releases_are_newest_where_they_install(
    locks: dict[str, tuple[str, BuiltIndex, IndexServer]],
) -> None:
    """fast 2.0.0 on CPython 3.12/3.13 only; glibc-new 2.0.0 everywhere but Linux."""
    text, _, _ = locks["binary"]
    for minor in MINORS:
        for platform in PLATFORMS:
            chosen = _subset(text, _environment(minor, platform))
            fast = "2.0.0" if minor in (12, 13) else "1.0.0"
            glibc_new = "1.0.0" if platform.startswith("linux") else "2.0.0"
            assert (str(chosen["fast"]), str(chosen["glibc-new"])) == (fast, glibc_new), (
                f"3.{minor}-{platform}")


def test_the_independent_model_can_say_no() -> None:
    """The model refuses what it must: wrong CPU, too new a glibc or macOS, another CPython."""
    assert _wheel_ok("n-1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", 12,
                     "linux-x86_64")
    assert not _wheel_ok("n-1-cp312-cp312-manylinux_2_17_x86_64.whl", 12, "linux-aarch64")
    assert not _wheel_ok("n-1-cp312-cp312-manylinux_2_34_x86_64.whl", 12, "linux-x86_64")
    assert not _wheel_ok("n-1-cp312-cp312-macosx_14_0_arm64.whl", 12, "macos-arm64")
    assert _wheel_ok("n-1-cp312-cp312-macosx_11_0_universal2.whl", 12, "macos-x86_64")
    assert not _wheel_ok("n-1-cp313-cp313-win_amd64.whl", 12, "windows-x86_64")
    assert _wheel_ok("n-1-cp38-abi3-win_amd64.whl", 12, "windows-x86_64")
    assert not _wheel_ok("n-1-cp312-cp312-win32.whl", 12, "windows-x86_64")
