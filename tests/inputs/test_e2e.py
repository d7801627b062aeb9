"""Every input form of a Python project, end to end through ``crosspin compile``."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import PROJECT_INDEX, compile_in, make_project, run_cli

ANY = ">=3.8"


@pytest.fixture
def index(make_index: Any) -> Any:
    return make_index(PROJECT_INDEX)


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


def make_git_repo(folder: Path, name: str, version: str, requires: list[str]) -> str:
    """A local git repository holding one project; returns the commit id."""
    make_project(folder, name, version, requires)
    _git(folder, "init", "-q", "-b", "main")
    _git(folder, "add", ".")
    _git(folder, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "one")
    _git(folder, "tag", "v1")
    return _git(folder, "rev-parse", "HEAD")


def test_local_directory_written_relative_to_the_output(index: Any, tmp_path: Path) -> None:
    """./libs/mylib is resolved through PEP 517 and written relative to the output file."""
    make_project(tmp_path / "libs" / "mylib", "mylib", "0.3", ["web"])
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "main.in").write_text("../libs/mylib\n", encoding="utf-8")
    result = compile_in(index, tmp_path, "requirements/main.in", "-o", "out/lock.txt")
    assert result.code == 0, result.stderr
    text = (tmp_path / "out" / "lock.txt").read_text(encoding="utf-8")
    assert "\n../libs/mylib\n    # via -r requirements/main.in\n" in text
    assert "web==2.0.0\n    # via mylib\n" in text
    assert str(tmp_path) not in text
    again = compile_in(index, tmp_path, "requirements/main.in", "-o", "out/lock.txt")
    assert again.code == 0, again.stderr
    assert (tmp_path / "out" / "lock.txt").read_text(encoding="utf-8") == text


def test_editable_comes_first_as_written(index: Any, tmp_path: Path) -> None:
    """-e ./libs/zlib stays '-e ./libs/zlib', before every other pin."""
    make_project(tmp_path / "libs" / "zlib", "zlib", "1.0", ["util<2"])
    (tmp_path / "requirements.in").write_text("web<2\n-e ./libs/zlib\n", encoding="utf-8")
    result = compile_in(index, tmp_path, "requirements.in", "-o", "-", "--no-header",
                        "--no-emit-index-url")
    assert result.code == 0, result.stderr
    assert result.stdout.startswith("-e ./libs/zlib\n    # via -r requirements.in\n"
                                    "util==1.0.0\n")


def test_git_requirement_is_locked_to_the_commit(index: Any, tmp_path: Path) -> None:
    """git+file://...@v1 is cloned, read through PEP 517 and pinned to its 40-hex commit."""
    repo = tmp_path / "repo"
    commit = make_git_repo(repo, "gitlib", "2.5", ["util==1.0.0"])
    url = f"git+{repo.as_uri()}"
    (tmp_path / "requirements.in").write_text(f"gitlib @ {url}@v1\n", encoding="utf-8")
    result = compile_in(index, tmp_path, "requirements.in", "-o", "-", "--no-header",
                        "--no-emit-index-url")
    assert result.code == 0, result.stderr
    assert result.stdout == (f"gitlib @ {url}@{commit}\n    # via -r requirements.in\n"
                             "util==1.0.0\n    # via gitlib\n")


def test_git_ref_that_does_not_exist(index: Any, tmp_path: Path) -> None:
    """An unknown ref is one clear line naming the URL, not a traceback; nothing written."""
    repo = tmp_path / "repo"
    make_git_repo(repo, "gitlib", "2.5", [])
    (tmp_path / "requirements.in").write_text(f"gitlib @ git+{repo.as_uri()}@nope\n",
                                              encoding="utf-8")
    result = compile_in(index, tmp_path, "requirements.in")
    assert result.code == 2
    assert "cannot lock git+" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "requirements.txt").exists()


PYPROJECT = """\
[project]
name = "myproj"
version = "1.0"
requires-python = ">=3.10"
dependencies = ["web<2"]

[project.optional-dependencies]
docs = ["docs"]
test = ["pytest"]
all = ["myproj[test,docs]"]

[dependency-groups]
lint = ["lint"]
dev = [{include-group = "lint"}, "tool"]
"""


def test_pyproject_extras_groups_and_self_reference(index: Any, tmp_path: Path) -> None:
    """--extra all pulls myproj[test,docs] in place; --group dev includes lint; origins say so."""
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    result = compile_in(index, tmp_path, "pyproject.toml", "--extra", "all", "--group", "dev",
                        "-o", "-", "--no-header", "--no-emit-index-url")
    assert result.code == 0, result.stderr
    out = result.stdout
    assert "web==1.0.0\n    # via pyproject.toml\n" in out
    assert "docs==1.0.0\n    # via pyproject.toml::optional-dependencies.all\n" in out \
        or "docs==1.0.0\n    # via pyproject.toml::optional-dependencies.docs\n" in out
    assert "pytest==1.0.0" in out
    assert "lint==1.0.0\n    # via pyproject.toml::dependency-groups.dev\n" in out \
        or "lint==1.0.0\n    # via pyproject.toml::dependency-groups.lint\n" in out
    assert "tool==1.0.0\n    # via pyproject.toml::dependency-groups.dev\n" in out
    assert "myproj" not in out


SELF_EXTRA_PYPROJECT = """\
[project]
name = "myproj"
version = "1.0"
dependencies = [
    "web<2",
    "pytest; extra == 'test'",
    "tool; sys_platform == 'linux' and extra == 'test'",
    "docs; extra == 'docs' or extra == 'test'",
    "lint; extra == 'nowhere'",
]

[project.optional-dependencies]
test = []
docs = []
"""


@pytest.mark.parametrize(("selection", "expected"), [
    ((), {"web==1.0.0", "util==2.1.0"}),
    (("--extra", "docs"), {"web==1.0.0", "util==2.1.0", "docs==1.0.0"}),
    (("--extra", "test"), {"web==1.0.0", "util==2.1.0", "pytest==1.0.0", "tool==1.0.0",
                           "docs==1.0.0"}),
    (("--all-extras",), {"web==1.0.0", "util==2.1.0", "pytest==1.0.0", "tool==1.0.0",
                         "docs==1.0.0"}),
], ids=["none", "docs", "test", "all"])
def test_extra_markers_in_dependencies_follow_the_selected_extras(
    index: Any, tmp_path: Path, selection: tuple[str, ...], expected: set[str]
) -> None:
    """``extra == "test"`` inside ``[project].dependencies`` counts when ``test`` is selected
    (as ``pip install .[test]`` reads the project's metadata) and never otherwise; an extra
    the project does not declare is never installed, as pip warns and skips it."""
    (tmp_path / "pyproject.toml").write_text(SELF_EXTRA_PYPROJECT, encoding="utf-8")
    result = compile_in(index, tmp_path, "pyproject.toml", *selection, "-o", "-", "-q",
                        "--platform", "linux-x86_64")
    assert result.code == 0, result.stderr
    assert _pins(result.stdout) == expected
    if "tool==1.0.0" in expected:  # the environment part of the marker is kept
        result = compile_in(index, tmp_path, "pyproject.toml", *selection, "-o", "-", "-q",
                            "--platform", "linux-x86_64", "--platform", "windows-x86_64")
        assert result.code == 0, result.stderr
        assert 'tool==1.0.0 ; sys_platform == "linux"' in result.stdout


def test_every_bad_line_at_once(index: Any, tmp_path: Path) -> None:
    """Problems in two files are all reported with file:line; exit 2; nothing written."""
    (tmp_path / "requirements.in").write_text("web\n-r more.in\nfoo >=< 1\n", encoding="utf-8")
    (tmp_path / "more.in").write_text("ok\n./missing/dir\n", encoding="utf-8")
    result = compile_in(index, tmp_path, "requirements.in")
    assert result.code == 2
    assert "requirements.in:3" in result.stderr and "more.in:2" in result.stderr
    assert not (tmp_path / "requirements.txt").exists()


def test_no_index_in_a_file_uses_only_find_links(index: Any, tmp_path: Path) -> None:
    """--no-index inside requirements.in: the index is never asked; find-links still are."""
    from fixtures.builder import build_index

    built = build_index({"local": {"1.0.0": {"requires_python": ANY}}}, tmp_path / "wheels")
    (tmp_path / "requirements.in").write_text(
        f"--no-index\n--find-links {built.files_dir}\nlocal\n", encoding="utf-8")
    result = compile_in(index, tmp_path, "requirements.in", "-o", "-", "-q")
    assert result.code == 0, result.stderr
    assert _pins(result.stdout) == {"local==1.0.0"}
    assert index.requests == [], "the index was asked despite --no-index"
    assert "--no-index" in result.stdout.splitlines()  # the lock installs the same way
    # A project only the index has is then not found: named, and still no request.
    (tmp_path / "requirements.in").write_text(
        f"--no-index\n--find-links {built.files_dir}\nlocal\nweb\n", encoding="utf-8")
    result = compile_in(index, tmp_path, "requirements.in")
    assert result.code == 1
    assert result.stderr.startswith("error: requirements.in:4: no project named 'web' "
                                    "on the --find-links locations"), result.stderr
    assert index.requests == []


def _pins(text: str) -> set[str]:
    from tests.helpers import parse_pins

    return {f"{n}=={v}" for n, v, _ in parse_pins(text)}


def test_override_replaces_what_a_dependency_declares(index: Any, tmp_path: Path) -> None:
    """--override util<2 wins over web's util>=2 (the broken-metadata escape hatch)."""
    (tmp_path / "requirements.in").write_text("web==2.0.0\n", encoding="utf-8")
    (tmp_path / "overrides.txt").write_text("util<2\n", encoding="utf-8")
    result = compile_in(index, tmp_path, "requirements.in", "--override", "overrides.txt",
                        "-o", "-", "-q")
    assert result.code == 0, result.stderr
    assert _pins(result.stdout) == {"web==2.0.0", "util==1.0.0"}


def test_override_with_a_url_keeps_the_url(index: Any, tmp_path: Path) -> None:
    """`util @ <wheel URL>` in an override file replaces web's util>=2 with that file, and the
    lock says so (the URL, not an index pin)."""
    from fixtures.builder import build_index

    built = build_index({"util": {"1.5.0": {"requires_python": ANY}}}, tmp_path / "direct")
    wheel = next(p for p in built.files_for("util", "1.5.0") if p.suffix == ".whl")
    (tmp_path / "requirements.in").write_text("web==2.0.0\n", encoding="utf-8")
    (tmp_path / "overrides.txt").write_text(f"util @ {wheel.as_uri()}\n", encoding="utf-8")
    result = compile_in(index, tmp_path, "requirements.in", "--override", "overrides.txt",
                        "-o", "-", "-q")
    assert result.code == 0, result.stderr
    assert f"util @ {wheel.as_uri()}" in result.stdout
    assert "util==" not in result.stdout
    assert "web==2.0.0" in result.stdout


def test_constraint_with_a_url_pins_that_file_when_needed(index: Any, tmp_path: Path) -> None:
    """`util @ <wheel URL>` in a constraints file: web's util is that file (not an index pin
    under `# via -c`); a URL constraint for a name nothing needs adds nothing."""
    from fixtures.builder import build_index

    built = build_index({"util": {"2.5.0": {"requires_python": ANY}},
                         "unused": {"1.0.0": {"requires_python": ANY}}}, tmp_path / "direct")
    wheel, unused = (next(p for p in built.files_for(n, v) if p.suffix == ".whl")
                     for n, v in (("util", "2.5.0"), ("unused", "1.0.0")))
    (tmp_path / "requirements.in").write_text("web\n", encoding="utf-8")
    (tmp_path / "constraints.txt").write_text(
        f"util @ {wheel.as_uri()}\nunused @ {unused.as_uri()}\n", encoding="utf-8")
    result = compile_in(index, tmp_path, "requirements.in", "-c", "constraints.txt",
                        "-o", "-", "-q")
    assert result.code == 0, result.stderr
    assert f"util @ {wheel.as_uri()}" in result.stdout
    assert "util==" not in result.stdout and "unused" not in result.stdout
    assert "web==2.0.0" in result.stdout


@pytest.mark.parametrize("other", ["requirements.in", "constraints.txt", "overrides.txt"])
def test_two_urls_for_one_name_are_an_error_naming_both(
    index: Any, tmp_path: Path, other: str
) -> None:
    """`util @ A` in one input and `util @ B` in another (or the same): exit 2, one message
    naming both URLs and where each was written; nothing written."""
    from fixtures.builder import build_index

    built = build_index({"util": {"1.5.0": {"requires_python": ANY},
                                  "1.6.0": {"requires_python": ANY}}}, tmp_path / "direct")
    first, second = (next(p for p in built.files_for("util", v) if p.suffix == ".whl")
                     for v in ("1.5.0", "1.6.0"))
    files = {"requirements.in": "web\n", "constraints.txt": "", "overrides.txt": ""}
    files["overrides.txt"] += f"util @ {first.as_uri()}\n"
    files[other] += f"util @ {second.as_uri()}\n"
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    result = compile_in(index, tmp_path, "requirements.in", "-c", "constraints.txt",
                        "--override", "overrides.txt")
    assert result.code == 2, result.stdout + result.stderr
    assert first.as_uri() in result.stderr and second.as_uri() in result.stderr
    assert "overrides.txt:1" in result.stderr and f"{other}:" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "requirements.txt").exists()


def test_constraints_file_narrows_without_adding(index: Any, tmp_path: Path) -> None:
    """-c constraints.txt caps a version; a constrained name nobody needs is not added."""
    (tmp_path / "requirements.in").write_text("web\n", encoding="utf-8")
    (tmp_path / "constraints.txt").write_text("util<2.1\ndocs==1.0.0\n", encoding="utf-8")
    result = compile_in(index, tmp_path, "requirements.in", "-c", "constraints.txt",
                        "-o", "-", "-q")
    assert result.code == 0, result.stderr
    assert _pins(result.stdout) == {"web==2.0.0", "util==2.0.0"}


def test_options_inside_the_file(index: Any, tmp_path: Path) -> None:
    """--find-links and --only-binary written in requirements.in are honoured."""
    from fixtures.builder import build_index

    built = build_index({"local": {"1.0.0": {"requires_python": ANY}}}, tmp_path / "wheels")
    (tmp_path / "requirements.in").write_text(
        f"--find-links {built.files_dir}\n--only-binary local\nlocal\nweb\n", encoding="utf-8"
    )
    result = compile_in(index, tmp_path, "requirements.in", "-o", "-", "-q")
    assert result.code == 0, result.stderr
    assert {"local==1.0.0", "web==2.0.0"} <= _pins(result.stdout)
    assert f"--find-links {built.files_dir}" in result.stdout


def test_wheel_url_direct_reference(index: Any, tmp_path: Path) -> None:
    """`name @ URL-of-a-wheel` is locked as that URL, its dependencies resolved."""
    from fixtures.builder import build_index

    built = build_index({"direct": {"1.0.0": {"requires_python": ANY, "requires": ["util<2"]}}},
                        tmp_path / "direct")
    wheel = next(p for p in built.files_for("direct", "1.0.0") if p.suffix == ".whl")
    (tmp_path / "requirements.in").write_text(f"direct @ {wheel.as_uri()}\n", encoding="utf-8")
    result = compile_in(index, tmp_path, "requirements.in", "-o", "-", "-q")
    assert result.code == 0, result.stderr
    assert f"direct @ {wheel.as_uri()}" in result.stdout
    assert "util==1.0.0" in result.stdout


def test_requires_python_bounds_the_default_matrix(index: Any, tmp_path: Path) -> None:
    """[project] requires-python >=3.11 drops 3.9 and 3.10 from the default matrix."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "1"\nrequires-python = ">=3.11"\n'
        'dependencies = ["web"]\n', encoding="utf-8")
    result = run_cli(["compile", "--isolated", "--index-url", index.index_url, "--cache-dir",
                      str(tmp_path / ".cache"), "pyproject.toml", "-q"], cwd=tmp_path)
    assert result.code == 0, result.stderr
    text = (tmp_path / "requirements.txt").read_text()
    assert "# crosspin-matrix: python=3.11,3.12,3.13,3.14; platforms=" in text


def test_setup_py_project_via_pep517(index: Any, tmp_path: Path) -> None:
    """A project whose dependencies come from its build backend (dynamic) is resolved."""
    project = make_project(tmp_path / "proj", "proj", "0.1", requires=["web<2"])
    result = compile_in(index, tmp_path, str(project), "-o", "-", "-q")
    assert result.code == 0, result.stderr
    assert _pins(result.stdout) == {"web==1.0.0", "util==2.1.0"}
