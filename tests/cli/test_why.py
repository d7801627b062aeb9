"""crosspin why: chains from the roots to a package, grouped by environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
from packaging.markers import Marker
from packaging.utils import canonicalize_name
from packaging.version import Version

from crosspin.environments import Matrix
from crosspin.lock import Lock, LockedPackage, chains_to
from crosspin.lockfiles.requirements import RenderOptions, read, render
from tests.helpers import run_cli


def test_why_groups_environments_with_identical_chains(project: tuple[Any, Path]) -> None:
    """colorama is wanted only on Windows: one group of 6 and a not-installed line."""
    _, cwd = project
    result = run_cli(["why", "colorama"], cwd=cwd)
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "windows-x86_64 (every Python) (6 environments):",
        "  -r requirements.in -> app==1.0.0 -> colorama==0.4.6",
        "not installed in: linux-aarch64, linux-x86_64, macos-arm64, macos-x86_64 "
        "(every Python) (24 environments)",
    ]


def test_why_follows_transitive_chains(project: tuple[Any, Path]) -> None:
    """helper comes through app -> lib -> helper everywhere."""
    _, cwd = project
    result = run_cli(["why", "helper", "--python", "3.12", "--platform", "linux-x86_64"],
                     cwd=cwd)
    assert result.code == 0, result.stderr
    assert "  -r requirements.in -> app==1.0.0 -> lib==2.0.0 -> helper==2.0.0" in result.stdout
    assert "(1 environment)" in result.stdout


def test_why_unknown_package(project: tuple[Any, Path]) -> None:
    """A name the lock does not pin is a usage error with a hint."""
    _, cwd = project
    result = run_cli(["why", "nope"], cwd=cwd)
    assert result.code == 2
    assert "error: nope is not in requirements.txt" in result.stderr


def test_why_environment_filter_outside_matrix(project: tuple[Any, Path]) -> None:
    """--python 3.7 matches nothing: the message names the matrix."""
    _, cwd = project
    result = run_cli(["why", "app", "--python", "3.7"], cwd=cwd)
    assert result.code == 2
    assert "no environment of the lock matches --python 3.7 --platform *" in result.stderr


def _platform_edge_lock(*, per_env_edges: bool) -> Lock:
    """app and tool are roots; app -> c only on Windows, tool -> c everywhere."""
    matrix = Matrix.from_options(python="3.12", platforms=["linux-x86_64", "windows-x86_64"])
    linux, windows = "3.12-linux-x86_64", "3.12-windows-x86_64"
    both = frozenset({linux, windows})
    c = canonicalize_name("c")
    return Lock.build(matrix=matrix, packages=[
        LockedPackage(name=canonicalize_name("app"), version=Version("1.0"),
                      environments=both, via=("-r requirements.in",), dependencies=(c,),
                      dependency_environments={c: frozenset({windows})} if per_env_edges
                      else {}),
        LockedPackage(name=canonicalize_name("tool"), version=Version("1.0"),
                      environments=both, via=("-r requirements.in",), dependencies=(c,),
                      dependency_environments={c: both} if per_env_edges else {}),
        LockedPackage(name=c, version=Version("2.0"), environments=both, via=("app", "tool")),
        # A Windows-only parent of c: never part of a Linux chain.
        LockedPackage(name=canonicalize_name("w"), version=Version("1.0"),
                      marker=Marker("sys_platform == 'win32'"), environments=frozenset({windows}),
                      via=("-r requirements.in",)),
    ])


def test_why_chains_use_only_edges_present_in_each_environment() -> None:
    """With per-environment edges, a Windows-only edge app -> c is not a chain on Linux."""
    lock = _platform_edge_lock(per_env_edges=True)
    linux, windows = lock.matrix.environments
    assert chains_to(lock, "c", linux) == [("-r requirements.in", "tool==1.0", "c==2.0")]
    assert chains_to(lock, "c", windows) == [
        ("-r requirements.in", "app==1.0", "c==2.0"),
        ("-r requirements.in", "tool==1.0", "c==2.0"),
    ]
    # Read back from a file, only the union of '# via' lines is known.
    union = _platform_edge_lock(per_env_edges=False)
    assert len(chains_to(union, "c", linux)) == 2


def test_why_ignores_parents_the_environment_does_not_select() -> None:
    """A lock read from requirements.txt: a Windows-only parent is no Linux chain."""
    lock = _platform_edge_lock(per_env_edges=False)
    packages = [
        attrs.evolve(p, via=("tool", "w")) if p.name == "c" else p for p in lock.packages
    ]
    lock = attrs.evolve(lock, packages=tuple(packages))
    text = render(lock, RenderOptions())
    back = read(text)
    assert back.matrix is not None
    linux, windows = back.matrix.environments
    relock = Lock.build(matrix=back.matrix, packages=back.packages)
    assert canonicalize_name("w") not in {p.name for p in relock.select(linux)}
    assert chains_to(relock, "c", linux) == [("-r requirements.in", "tool==1.0", "c==2.0")]
    assert ("-r requirements.in", "w==1.0", "c==2.0") in chains_to(relock, "c", windows)


def test_why_constraint_origin_is_no_chain() -> None:
    """'# via -c main.txt' says a constraint pinned c; the chains are still its requirers."""
    lock = _platform_edge_lock(per_env_edges=False)
    lock = attrs.evolve(lock, packages=tuple(
        attrs.evolve(p, via=("-c main.txt", "tool")) if p.name == "c" else p
        for p in lock.packages
    ))
    linux, _ = lock.matrix.environments
    assert chains_to(lock, "c", linux) == [("-r requirements.in", "tool==1.0", "c==2.0")]


def test_why_not_newest_names_the_constraint_per_environment(
    make_index: Any, tmp_path: Path
) -> None:
    """--not-newest: a dependency's bound names the dependent; a kept pin says how to move it.

    ``old`` is kept at the existing lock's 1.0 (pip-tools' behaviour) although
    2.0 installs everywhere; ``lib`` is held by app's ``lib<2``; ``app`` is
    at its newest release (issue 14, held-back report).
    """
    server = make_index.serve(make_index.build({
        "app": {"1.0": {"requires": ["lib<2"]}},
        "lib": {"1.0": {}, "2.0": {}},
        "old": {"1.0": {}, "2.0": {}},
    }))
    (tmp_path / "requirements.in").write_text("app\nold\n", encoding="utf-8")
    (tmp_path / "requirements.txt").write_text("old==1.0\n", encoding="utf-8")
    args = ["compile", "requirements.in", "--isolated", "--index-url", server.index_url,
            "--cache-dir", str(tmp_path / "cache"), "--python", "3.12",
            "--platform", "linux-x86_64", "--platform", "windows-x86_64"]
    compiled = run_cli([*args, "-v"], cwd=tmp_path)
    assert compiled.code == 0, compiled.stderr
    kept = ("old 1.0 (newest 2.0) on linux-x86_64, windows-x86_64 (every Python): "
            "the existing lock pins 1.0 (--upgrade-package old moves it)")
    assert f"held back: {kept}" in compiled.stderr.splitlines()
    old = run_cli(["why", "--not-newest", "old"], cwd=tmp_path)
    assert old.code == 0, old.stderr
    assert old.stdout.splitlines() == [kept]
    lib = run_cli(["why", "--not-newest", "lib", "--cache-dir", str(tmp_path / "cache")],
                  cwd=tmp_path)
    assert lib.stdout.splitlines() == [
        "lib 1.0 (newest 2.0) on linux-x86_64, windows-x86_64 (every Python): "
        "app 1.0 requires lib<2"
    ], lib.stderr
    app = run_cli(["why", "--not-newest", "app"], cwd=tmp_path)
    assert app.stdout.splitlines() == [
        "app is at its newest release wherever the lock installs it"], app.stderr
    assert (tmp_path / "requirements.txt").read_text(encoding="utf-8").count("old==1.0") == 1


def test_why_on_a_pyproject_lock_finds_the_direct_dependencies(
    make_index: Any, tmp_path: Path
) -> None:
    """A lock made from pyproject.toml: its direct dependencies come from "pyproject.toml".

    The origin reads like a package name; ``why`` must not call such a
    dependency "not installed" anywhere (issue 14, Inputs and outputs).
    """
    server = make_index.serve(make_index.build({"six": {"1.0": {}}, "w": {"1.0": {}}}))
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0.1"\n'
        'dependencies = ["six", "w; sys_platform == \'win32\'"]\n', encoding="utf-8")
    compiled = run_cli(["compile", "pyproject.toml", "-o", "requirements.txt", "--isolated",
                        "--index-url", server.index_url, "--cache-dir", str(tmp_path / "cache"),
                        "--python", "3.12", "--platform", "linux-x86_64",
                        "--platform", "windows-x86_64"], cwd=tmp_path)
    assert compiled.code == 0, compiled.stderr
    six = run_cli(["why", "six"], cwd=tmp_path)
    assert six.code == 0, six.stderr
    assert "not installed" not in six.stdout
    assert "  pyproject.toml -> six==1.0" in six.stdout.splitlines()
    w = run_cli(["why", "w"], cwd=tmp_path)
    assert w.stdout.splitlines() == [
        "3.12-windows-x86_64 (1 environment):", "  pyproject.toml -> w==1.0",
        "not installed in: 3.12-linux-x86_64 (1 environment)"], w.stdout
