"""Which files and packages a pylock.toml lists, through ``crosspin compile`` on a fixture index.

``--no-binary NAME`` (and ``:all:``) means pip and crosspin never install a
wheel of NAME, so the lock lists only its sdist (and hashes only that);
setuptools/pip are always in a pylock when the graph needs them (an
install-everything format; decisions.md, issue 14), while requirements.txt
keeps pip-compile's unsafe section.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

import pytest
from packaging.pylock import Pylock

from tests.helpers import ONE_ENV, parse_pins, run_cli

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

ANY = ">=3.8"
PACKAGES: dict[str, Any] = {
    "app": {"1.0.0": {"requires_python": ANY, "requires": ["lib", "plugin"]}},
    "lib": {"1.0.0": {"requires_python": ANY}},
    "plugin": {"1.0.0": {"requires_python": ANY, "requires": ["setuptools"]}},
    "setuptools": {"70.0.0": {"requires_python": ANY}},
}


def _compile(work: Path, url: str, *args: str) -> Any:
    (work / "requirements.in").write_text("app\n", encoding="utf-8")
    return run_cli(["compile", "requirements.in", "--isolated", "--index-url", url,
                    "--cache-dir", str(work / ".cache"), "-q", *ONE_ENV, *args], cwd=work)


def _packages(text: str) -> dict[str, dict[str, Any]]:
    data = tomllib.loads(text)
    Pylock.from_dict(data)
    return {p["name"]: p for p in data["packages"]}


@pytest.mark.parametrize("no_binary", ["lib", ":all:"])
def test_no_binary_lists_only_the_sdist(make_index: Any, tmp_path: Path, no_binary: str) -> None:
    """--no-binary lib: lib's pylock entry has an sdist and no wheels; other packages keep
    their wheels unless :all:; requirements.txt hashes only what pip may install."""
    built = make_index.build(PACKAGES)
    index = make_index.serve(built)
    result = _compile(tmp_path, index.index_url, "--no-binary", no_binary, "-o", "pylock.toml")
    assert result.code == 0, result.stderr
    packages = _packages((tmp_path / "pylock.toml").read_text(encoding="utf-8"))
    assert "sdist" in packages["lib"] and "wheels" not in packages["lib"], packages["lib"]
    assert ("wheels" in packages["app"]) == (no_binary == "lib")
    result = _compile(tmp_path, index.index_url, "--no-binary", no_binary, "--generate-hashes",
                      "-o", "requirements.txt")
    assert result.code == 0, result.stderr
    text = (tmp_path / "requirements.txt").read_text(encoding="utf-8")
    assert f"--no-binary {no_binary}" in text.splitlines()
    assert {n for n, _, _ in parse_pins(text)} == {"app", "lib", "plugin"}
    lib_hashes = [h for h in text.split("lib==1.0.0", 1)[1].split("# via", 1)[0].split()
                  if h.startswith("--hash=")]
    sdist = next(p for p in built.files_for("lib", "1.0.0") if p.name.endswith(".tar.gz"))
    assert lib_hashes == [f"--hash=sha256:{hashlib.sha256(sdist.read_bytes()).hexdigest()}"]


def test_pylock_lists_setuptools_when_the_graph_needs_it(make_index: Any, tmp_path: Path) -> None:
    """plugin needs setuptools: pylock.toml lists it without --allow-unsafe (an installer of
    the file installs everything it needs); requirements.txt leaves it out, as pip-compile."""
    index = make_index(PACKAGES)
    result = _compile(tmp_path, index.index_url, "-o", "pylock.toml")
    assert result.code == 0, result.stderr
    packages = _packages((tmp_path / "pylock.toml").read_text(encoding="utf-8"))
    assert packages["setuptools"]["version"] == "70.0.0"
    assert [d["name"] for d in packages["plugin"]["dependencies"]] == ["setuptools"]
    result = _compile(tmp_path, index.index_url, "-o", "requirements.txt")
    assert result.code == 0, result.stderr
    text = (tmp_path / "requirements.txt").read_text(encoding="utf-8")
    assert "setuptools" not in {n for n, _, _ in parse_pins(text)}
    assert "# The following packages are considered to be unsafe" in text
