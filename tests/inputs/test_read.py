from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from packaging.markers import Marker
from packaging.specifiers import SpecifierSet

from crosspin.errors import BuildError, InputError
from crosspin.inputs import InputSet, RootRequirement, input_digest, read_inputs
from crosspin.inputs._build import split_extra, split_extras

WHEEL = "foo-1.0-py3-none-any.whl"


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def read(root: Path, *sources: str, **kwargs: Any) -> InputSet:
    kwargs.setdefault("environ", {})
    return read_inputs([Path(s) for s in sources], base_dir=root, **kwargs)


def problems(root: Path, *sources: str, **kwargs: Any) -> list[str]:
    with pytest.raises(InputError) as info:
        read(root, *sources, **kwargs)
    return [str(p) for p in info.value.problems]


def by_name(entries: Sequence[RootRequirement]) -> dict[str, RootRequirement]:
    return {entry.name: entry for entry in entries}


# --- requirements files -------------------------------------------------------------------------


def test_plain_requirements_keep_origin_location_markers_and_extras(tmp_path: Path) -> None:
    """Each PEP 508 line becomes a root with '-r file' origin and 'file:line' location."""
    write(
        tmp_path,
        "requirements.in",
        """
        # comment
        requests[socks]>=2.31
        colorama ; sys_platform == "win32"
        """,
    )
    result = read(tmp_path, "requirements.in")
    req, colorama = result.requirements
    assert str(req.requirement) == "requests[socks]>=2.31"
    assert req.origin == "-r requirements.in" and req.location == "requirements.in:2"
    assert req.link is None and not req.editable
    assert colorama.requirement.marker == Marker('sys_platform == "win32"')
    assert result.files == ((tmp_path / "requirements.in").resolve(),)


def test_nested_files_are_relative_to_the_including_file(tmp_path: Path) -> None:
    """-r and -c paths resolve against the including file's folder; origins say so."""
    write(tmp_path, "reqs/main.in", "-r common/base.in\n-c ../constraints.txt\nflask\n")
    write(tmp_path, "reqs/common/base.in", "click\n")
    write(tmp_path, "constraints.txt", "click<9\n")
    result = read(tmp_path, "reqs/main.in")
    assert [(str(r.requirement), r.origin) for r in result.requirements] == [
        ("click", "-r reqs/common/base.in"),
        ("flask", "-r reqs/main.in"),
    ]
    (constraint,) = result.constraints
    assert (str(constraint.requirement), constraint.origin) == ("click<9", "-c constraints.txt")
    assert constraint.location == "constraints.txt:1"
    assert len(result.files) == 3


def test_constraints_and_overrides_arguments(tmp_path: Path) -> None:
    """Files given as constraints= and overrides= fill their own lists with their own origins."""
    write(tmp_path, "requirements.in", "flask\n")
    write(tmp_path, "cons.txt", "werkzeug<4\n")
    write(tmp_path, "over.txt", "markupsafe==2.1.5\n")
    result = read(
        tmp_path, "requirements.in", constraints=[Path("cons.txt")], overrides=[Path("over.txt")]
    )
    assert [r.origin for r in result.constraints] == ["-c cons.txt"]
    assert [r.origin for r in result.overrides] == ["--override over.txt"]
    assert [str(r.requirement) for r in result.overrides] == ["markupsafe==2.1.5"]


def test_absolute_source_inside_base_dir_is_named_relatively(tmp_path: Path) -> None:
    """An absolute path under the base folder is shown relative, as pip-compile shows it."""
    write(tmp_path, "requirements.in", "flask\n")
    result = read(tmp_path, str(tmp_path / "requirements.in"))
    assert result.requirements[0].origin == "-r requirements.in"


def test_file_included_twice_is_read_once(tmp_path: Path) -> None:
    """A file reached along two paths (a diamond) adds its requirements once."""
    write(tmp_path, "a.in", "-r common.in\n")
    write(tmp_path, "b.in", "-r common.in\n")
    write(tmp_path, "common.in", "six\n")
    result = read(tmp_path, "a.in", "b.in")
    assert [str(r.requirement) for r in result.requirements] == ["six"]


def test_include_cycle_is_a_problem(tmp_path: Path) -> None:
    """Files that include each other are reported with the chain, not followed forever."""
    write(tmp_path, "a.in", "-r b.in\nsix\n")
    write(tmp_path, "b.in", "-r a.in\n")
    assert problems(tmp_path, "a.in") == [
        "b.in:1: requirement files include each other: a.in -> b.in -> a.in"
    ]


def test_options_are_merged_like_pip(tmp_path: Path) -> None:
    """First --index-url wins, extra indexes/find-links/hosts accumulate, flags and binary sets."""
    write(tmp_path, "wheels/.keep", "")
    write(
        tmp_path,
        "requirements.in",
        """
        -i https://first.example/simple
        --extra-index-url https://extra1.example/simple
        -f wheels
        --trusted-host first.example
        --only-binary :all:
        --no-binary Foo_Bar
        --prefer-binary
        -r more.in
        """,
    )
    write(
        tmp_path,
        "more.in",
        """
        --index-url https://second.example/simple
        --extra-index-url https://extra2.example/simple
        --extra-index-url https://extra1.example/simple
        --pre
        --no-index
        """,
    )
    options = read(tmp_path, "requirements.in").options
    assert options.index_url == "https://first.example/simple"
    assert options.extra_index_urls == (
        "https://extra1.example/simple",
        "https://extra2.example/simple",
    )
    assert options.find_links == ("wheels",)
    assert options.trusted_hosts == ("first.example",)
    assert options.pre and options.no_index
    assert options.no_binary == frozenset({"foo-bar"})
    assert options.only_binary == frozenset({":all:"})


def test_find_links_relative_to_a_nested_file(tmp_path: Path) -> None:
    """A relative -f in a nested file points at the folder beside that file when it exists."""
    write(tmp_path, "sub/wheels/.keep", "")
    write(tmp_path, "sub/r.in", "-f wheels\n-f https://h.example/links/\n")
    options = read(tmp_path, "sub/r.in").options
    assert options.find_links == ("sub/wheels", "https://h.example/links/")


def test_direct_reference_keeps_the_url(tmp_path: Path) -> None:
    """'name @ https://...' is a root with the URL as its link."""
    url = "https://files.example/foo-1.0-py3-none-any.whl#sha256=ab"
    write(tmp_path, "requirements.in", f"foo[x] @ {url} ; python_version >= '3.9'\n")
    (root,) = read(tmp_path, "requirements.in").requirements
    assert root.link == url
    assert root.requirement.url == url and root.requirement.extras == {"x"}
    assert root.requirement.marker == Marker('python_version >= "3.9"')


def test_bare_archive_url_gets_its_name_from_the_filename(tmp_path: Path) -> None:
    """A URL to a wheel or sdist without 'name @' is named after the file, as pip does."""
    write(tmp_path, "requirements.in", "https://files.example/Foo_Bar-2.0.tar.gz\n")
    (root,) = read(tmp_path, "requirements.in").requirements
    assert root.name == "foo-bar" and root.link == "https://files.example/Foo_Bar-2.0.tar.gz"


def test_local_wheel_path_is_resolved_against_the_files_folder(tmp_path: Path) -> None:
    """'./pkgs/x.whl' in sub/requirements.in means sub/pkgs/x.whl, as a file:// link."""
    wheel = write(tmp_path, f"sub/pkgs/{WHEEL}", "")
    write(tmp_path, "sub/requirements.in", f"./pkgs/{WHEEL} ; sys_platform == 'linux'\n")
    (root,) = read(tmp_path, "sub/requirements.in").requirements
    assert root.name == "foo"
    assert root.link == wheel.resolve().as_uri()
    assert root.requirement.url == root.link
    assert root.requirement.marker == Marker('sys_platform == "linux"')


def test_bare_archive_filename_that_exists_is_a_path(tmp_path: Path) -> None:
    """A bare wheel filename that exists beside the file is that file, not a project name."""
    wheel = write(tmp_path, WHEEL, "")
    write(tmp_path, "requirements.in", f"{WHEEL}\n")
    (root,) = read(tmp_path, "requirements.in").requirements
    assert root.name == "foo" and root.link == wheel.resolve().as_uri()


def test_local_directory_with_extras_takes_the_pyproject_name(tmp_path: Path) -> None:
    """'../libs/bar[fast]' reads [project] name from the folder's pyproject.toml."""
    write(tmp_path, "libs/bar/pyproject.toml", '[project]\nname = "Bar.Lib"\nversion = "1"\n')
    write(tmp_path, "app/requirements.in", "../libs/bar[fast]\n")
    result = read(tmp_path, "app/requirements.in")
    (root,) = result.requirements
    assert root.name == "bar-lib" and root.requirement.extras == {"fast"}
    assert root.link == (tmp_path / "libs/bar").resolve().as_uri()
    assert (tmp_path / "libs/bar/pyproject.toml").resolve() in result.files


def test_setup_cfg_name_is_used_for_a_directory(tmp_path: Path) -> None:
    """A setup.cfg-only folder is named from [metadata] name."""
    write(tmp_path, "lib/setup.cfg", "[metadata]\nname = oldstyle\n")
    write(tmp_path, "requirements.in", "./lib\n")
    assert read(tmp_path, "requirements.in").requirements[0].name == "oldstyle"


def test_unnamed_directory_needs_a_name(tmp_path: Path) -> None:
    """A folder without a static name is a problem unless written 'name @ path'."""
    (tmp_path / "lib").mkdir()
    write(tmp_path, "bad.in", "./lib\n")
    assert problems(tmp_path, "bad.in") == [
        "bad.in:1: cannot determine the name of ./lib; write it as 'name @ ./lib'"
    ]
    write(tmp_path, "good.in", "mylib @ ./lib\n")
    (root,) = read(tmp_path, "good.in").requirements
    assert root.name == "mylib" and root.link == (tmp_path / "lib").resolve().as_uri()


def test_file_urls(tmp_path: Path) -> None:
    """Absolute file:// URLs work bare and after 'name @'."""
    wheel = write(tmp_path, f"w/{WHEEL}", "")
    write(tmp_path, "requirements.in", f"{wheel.as_uri()}\nfoo @ {wheel.as_uri()}\n")
    first, second = read(tmp_path, "requirements.in").requirements
    assert first.link == second.link == wheel.resolve().as_uri()


def test_name_must_match_the_archive(tmp_path: Path) -> None:
    """'bar @ ./foo-1.0-...whl' is refused: the wheel is for foo."""
    write(tmp_path, WHEEL, "")
    write(tmp_path, "requirements.in", f"bar @ ./{WHEEL}\n")
    assert problems(tmp_path, "requirements.in") == [
        "requirements.in:1: the name 'bar' does not match the file, which is for 'foo'"
    ]


def test_vcs_requirements(tmp_path: Path) -> None:
    """VCS URLs keep their link verbatim and take their name from #egg= or 'name @'."""
    write(
        tmp_path,
        "requirements.in",
        """
        git+https://g.example/org/a.git@v1.0#egg=alpha
        beta @ git+https://g.example/org/b.git@main
        git+ssh://git@g.example/org/c.git#egg=gamma ; python_version < "3.12"
        """,
    )
    roots = by_name(read(tmp_path, "requirements.in").requirements)
    assert roots["alpha"].link == "git+https://g.example/org/a.git@v1.0#egg=alpha"
    assert roots["beta"].link == "git+https://g.example/org/b.git@main"
    assert roots["gamma"].link == "git+ssh://git@g.example/org/c.git#egg=gamma"
    assert roots["gamma"].requirement.marker == Marker('python_version < "3.12"')


def test_editables(tmp_path: Path) -> None:
    """-e takes a local folder (named from its pyproject) or a VCS URL."""
    write(tmp_path, "src/proj/pyproject.toml", '[project]\nname = "proj"\n')
    write(
        tmp_path,
        "requirements.in",
        "-e ./src/proj\n-e git+https://g.example/r.git#egg=remote\n",
    )
    roots = by_name(read(tmp_path, "requirements.in").requirements)
    assert roots["proj"].editable and roots["remote"].editable
    assert roots["proj"].link == (tmp_path / "src/proj").resolve().as_uri()


def test_editable_folder_by_bare_name_and_with_extras(tmp_path: Path) -> None:
    """'-e pkg' is the folder pkg when it exists; '-e .[dev]' keeps the extras."""
    write(tmp_path, "pkg/pyproject.toml", '[project]\nname = "pkg"\n')
    write(tmp_path, "pyproject.toml", '[project]\nname = "top"\n')
    write(tmp_path, "requirements.in", "-e pkg\n-e .[dev]\n")
    pkg, top = read(tmp_path, "requirements.in").requirements
    assert (pkg.name, pkg.editable, pkg.link) == ("pkg", True, (tmp_path / "pkg").as_uri())
    assert (top.name, top.requirement.extras) == ("top", {"dev"})


@pytest.mark.parametrize(
    ("lines", "no_binary", "only_binary"),
    [
        (["--no-binary :all:", "--only-binary foo"], {":all:"}, {"foo"}),
        (["--only-binary :all:", "--no-binary foo"], {"foo"}, {":all:"}),
        (["--no-binary a,b", "--no-binary :none:", "--no-binary c"], {"c"}, set()),
        (["--no-binary a", "--only-binary a"], set(), {"a"}),
    ],
)
def test_binary_options_exclude_each_other_like_pip(
    tmp_path: Path, lines: list[str], no_binary: set[str], only_binary: set[str]
) -> None:
    """--no-binary and --only-binary move names between the two sets; :all:/:none: as in pip."""
    write(tmp_path, "r.in", "\n".join(lines) + "\n")
    options = read(tmp_path, "r.in").options
    assert (set(options.no_binary), set(options.only_binary)) == (no_binary, only_binary)


def test_hashes_are_kept(tmp_path: Path) -> None:
    """--hash options on a requirement line end up on the root, in order, without repeats."""
    write(
        tmp_path,
        "requirements.in",
        "six==1.16.0 --hash=sha256:aa \\\n  --hash=sha256:bb --hash=sha256:aa\n",
    )
    (root,) = read(tmp_path, "requirements.in").requirements
    assert root.hashes == ("sha256:aa", "sha256:bb")


def test_environment_variables_are_expanded(tmp_path: Path) -> None:
    """${VAR} in index URLs and requirements is replaced from the environment."""
    write(tmp_path, "requirements.in", "-i https://${USER_TOKEN}@i.example/simple\n${PKG}>=1\n")
    result = read(tmp_path, "requirements.in", environ={"USER_TOKEN": "tok", "PKG": "six"})
    assert result.options.index_url == "https://tok@i.example/simple"
    assert str(result.requirements[0].requirement) == "six>=1"


def test_all_problems_in_all_files_are_reported_together(tmp_path: Path) -> None:
    """Bad lines in two files and a missing include come back in one InputError."""
    write(
        tmp_path,
        "requirements.in",
        """
        good==1.0
        bad req!
        --frobnicate
        -r other.in
        -r missing.in
        """,
    )
    write(tmp_path, "other.in", "ok\n./nowhere/foo-1.0.tar.gz\n-e notalocalpath\n")
    found = problems(tmp_path, "requirements.in")
    assert [p.split(": ", 1)[0] for p in found] == [
        "requirements.in:2",
        "requirements.in:3",
        "other.in:2",
        "other.in:3",
        "requirements.in:5",
    ]
    assert found[0] == (
        "requirements.in:2: invalid requirement 'bad req!': "
        "Expected semicolon (after name with no version specifier) or end"
    )
    assert found[1].endswith("unknown option --frobnicate")
    assert found[2].endswith("no such file or directory: ./nowhere/foo-1.0.tar.gz")
    assert "editable requirement must be a local directory or a VCS URL" in found[3]
    assert found[4] == "requirements.in:5: no such file: missing.in"


def test_missing_source_file(tmp_path: Path) -> None:
    """A source that does not exist is a problem named by the path as given."""
    assert problems(tmp_path, "nope.in") == ["nope.in: no such file"]


# --- pyproject.toml -----------------------------------------------------------------------------

PYPROJECT = """
[project]
name = "MyProj"
version = "1.0"
requires-python = ">=3.9"
dependencies = ["attrs>=23", "tomli; python_version < '3.11'"]

[project.optional-dependencies]
docs = ["sphinx>=7"]
test = ["pytest>=8", "MyProj[docs]; sys_platform != 'win32'"]
cli = ["click"]

[dependency-groups]
lint = ["ruff"]
Dev = [{include-group = "lint"}, "myproj[cli]", "pre-commit"]
"""


def test_pyproject_dependencies_and_metadata(tmp_path: Path) -> None:
    """[project] dependencies are roots with TOML key locations; name and requires-python too."""
    write(tmp_path, "pyproject.toml", PYPROJECT)
    result = read(tmp_path, "pyproject.toml")
    assert [(str(r.requirement), r.origin, r.location) for r in result.requirements] == [
        ("attrs>=23", "pyproject.toml", "pyproject.toml: project.dependencies[0]"),
        (
            'tomli; python_version < "3.11"',
            "pyproject.toml",
            "pyproject.toml: project.dependencies[1]",
        ),
    ]
    assert result.project_name == "myproj"
    assert result.requires_python == SpecifierSet(">=3.9")


def test_project_folder_as_source(tmp_path: Path) -> None:
    """A folder source means its pyproject.toml."""
    write(tmp_path, "proj/pyproject.toml", PYPROJECT)
    result = read(tmp_path, "proj")
    assert result.requirements[0].origin == "proj/pyproject.toml"


def test_selected_extras_and_self_reference(tmp_path: Path) -> None:
    """An extra that names the project's own extra gets that extra's requirements, markers kept."""
    write(tmp_path, "pyproject.toml", PYPROJECT)
    result = read(tmp_path, "pyproject.toml", extras=["TEST"])
    extra = [r for r in result.requirements if r.origin.endswith("test")]
    assert [(str(r.requirement), r.location) for r in extra] == [
        ("pytest>=8", "pyproject.toml: project.optional-dependencies.test[0]"),
        (
            'sphinx>=7; sys_platform != "win32"',
            "pyproject.toml: project.optional-dependencies.docs[0]",
        ),
    ]
    assert {r.origin for r in extra} == {"pyproject.toml::optional-dependencies.test"}
    assert "myproj" not in {r.name for r in result.requirements}


def test_all_extras(tmp_path: Path) -> None:
    """all_extras selects every optional-dependencies table."""
    write(tmp_path, "pyproject.toml", PYPROJECT)
    origins = {r.origin for r in read(tmp_path, "pyproject.toml", all_extras=True).requirements}
    assert origins == {
        "pyproject.toml",
        "pyproject.toml::optional-dependencies.cli",
        "pyproject.toml::optional-dependencies.docs",
        "pyproject.toml::optional-dependencies.test",
    }


def test_dependency_group_including_another(tmp_path: Path) -> None:
    """A group's include-group and self-referencing extras are expanded, each line located."""
    write(tmp_path, "pyproject.toml", PYPROJECT)
    result = read(tmp_path, "pyproject.toml", groups=["dev"])
    dev = [r for r in result.requirements if r.origin == "pyproject.toml::dependency-groups.dev"]
    assert [(str(r.requirement), r.location) for r in dev] == [
        ("ruff", "pyproject.toml: dependency-groups.lint[0]"),
        ("click", "pyproject.toml: project.optional-dependencies.cli[0]"),
        ("pre-commit", "pyproject.toml: dependency-groups.Dev[2]"),
    ]


def test_all_groups(tmp_path: Path) -> None:
    """all_groups selects every group, each with its own origin."""
    write(tmp_path, "pyproject.toml", PYPROJECT)
    result = read(tmp_path, "pyproject.toml", all_groups=True)
    ruff = [r.origin for r in result.requirements if r.name == "ruff"]
    assert ruff == [
        "pyproject.toml::dependency-groups.dev",
        "pyproject.toml::dependency-groups.lint",
    ]


def test_unknown_extra_and_group(tmp_path: Path) -> None:
    """Asking for an extra or group the project lacks is a problem listing what exists."""
    write(tmp_path, "pyproject.toml", PYPROJECT)
    assert problems(tmp_path, "pyproject.toml", extras=["nope"], groups=["none"]) == [
        "pyproject.toml: unknown extra 'nope' (the project defines: cli, docs, test)",
        "pyproject.toml: unknown dependency group 'none' (the project defines: dev, lint)",
    ]


def test_extra_without_a_project(tmp_path: Path) -> None:
    """--extra with only requirements files is a problem, not silently ignored."""
    write(tmp_path, "requirements.in", "six\n")
    assert problems(tmp_path, "requirements.in", extras=["x"]) == [
        "--extra: 'x' needs a pyproject.toml among the inputs"
    ]


def test_pyproject_problems_carry_key_paths(tmp_path: Path) -> None:
    """Bad dependencies, groups, includes and self-extras are reported at their TOML keys."""
    write(
        tmp_path,
        "pyproject.toml",
        """
        [project]
        name = "p"
        requires-python = ">=3.x"
        dependencies = ["ok", "not valid!"]
        [project.optional-dependencies]
        a = ["p[missing]"]
        [dependency-groups]
        dev = ["fine", "bad req!", {include-group = "ghost"}]
        loop1 = [{include-group = "loop2"}]
        loop2 = [{include-group = "loop1"}]
        """,
    )
    found = problems(tmp_path, "pyproject.toml", extras=["a"], groups=["dev", "loop1"])
    locations = [p.split(": ", 2)[1] for p in found]
    assert locations == [
        "project.requires-python",
        "project.dependencies[1]",
        "project.optional-dependencies.a[0]",
        "dependency-groups.dev[1]",
        "dependency-groups.dev[2]",
        "dependency-groups.loop2[0]",
    ]
    assert found[2].endswith("p has no extra 'missing'")
    assert found[4].endswith("no dependency group 'ghost' to include")
    assert found[5].endswith("dependency groups include each other: loop1 -> loop2 -> loop1")


def test_group_include_of_unknown_group(tmp_path: Path) -> None:
    """An include-group naming no group is reported at the include's position."""
    write(tmp_path, "pyproject.toml", '[dependency-groups]\ndev = ["a", {include-group = "x"}]\n')
    assert problems(tmp_path, "pyproject.toml", groups=["dev"]) == [
        "pyproject.toml: dependency-groups.dev[1]: no dependency group 'x' to include"
    ]


def test_groups_without_a_project_table(tmp_path: Path) -> None:
    """A pyproject.toml with only [dependency-groups] is read as is, with nothing to build."""
    write(tmp_path, "pyproject.toml", '[dependency-groups]\ndev = ["pytest"]\n')
    result = read(tmp_path, "pyproject.toml", groups=["dev"])
    assert [str(r.requirement) for r in result.requirements] == ["pytest"]
    assert result.project_name is None


def test_invalid_toml(tmp_path: Path) -> None:
    """A TOML syntax error is one problem naming the file."""
    write(tmp_path, "pyproject.toml", "[project\n")
    (found,) = problems(tmp_path, "pyproject.toml")
    assert found.startswith("pyproject.toml: cannot read TOML:")


def test_pyproject_direct_reference_is_relative_to_the_project(tmp_path: Path) -> None:
    """A 'name @ file:...' dependency in pyproject gets an absolute link."""
    wheel = write(tmp_path, f"proj/dist/{WHEEL}", "")
    write(
        tmp_path,
        "proj/pyproject.toml",
        f'[project]\nname = "p"\ndependencies = ["foo @ {wheel.as_uri()}"]\n',
    )
    (root,) = read(tmp_path, "proj/pyproject.toml").requirements
    assert root.link == wheel.resolve().as_uri()


# --- dynamic projects ---------------------------------------------------------------------------

BACKEND = '''
import os

METADATA = """Metadata-Version: 2.1
Name: dynproj
Version: 1.0
Requires-Python: >=3.10
Requires-Dist: attrs>=23
Requires-Dist: tomli; python_version < "3.11"
Provides-Extra: docs
Requires-Dist: sphinx; extra == "docs"
Requires-Dist: furo; python_version >= "3.10" and extra == "docs"
"""

def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    if os.environ.get("CROSSPIN_TEST_FAIL_BUILD"):
        raise RuntimeError("backend exploded")
    dist_info = os.path.join(metadata_directory, "dynproj-1.0.dist-info")
    os.makedirs(dist_info)
    with open(os.path.join(dist_info, "METADATA"), "w") as f:
        f.write(METADATA)
    return "dynproj-1.0.dist-info"

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    raise NotImplementedError
'''

DYNAMIC_PYPROJECT = """
[build-system]
requires = []
build-backend = "backend"
backend-path = ["_backend"]

[project]
name = "dynproj"
version = "1.0"
dynamic = ["dependencies", "optional-dependencies"]

[dependency-groups]
dev = ["dynproj[docs]", "pytest"]
"""


def make_dynamic(root: Path) -> None:
    write(root, "proj/pyproject.toml", DYNAMIC_PYPROJECT)
    write(root, "proj/_backend/backend.py", BACKEND)


def test_dynamic_dependencies_come_from_the_build_backend(tmp_path: Path) -> None:
    """A project with dynamic dependencies is asked through PEP 517; extras are split out."""
    make_dynamic(tmp_path)
    result = read(tmp_path, "proj/pyproject.toml", extras=["docs"], groups=["dev"])
    got = [(str(r.requirement), r.origin) for r in result.requirements]
    assert got == [
        ("attrs>=23", "proj/pyproject.toml"),
        ('tomli; python_version < "3.11"', "proj/pyproject.toml"),
        ("sphinx", "proj/pyproject.toml::optional-dependencies.docs"),
        ('furo; python_version >= "3.10"', "proj/pyproject.toml::optional-dependencies.docs"),
        ("sphinx", "proj/pyproject.toml::dependency-groups.dev"),
        ('furo; python_version >= "3.10"', "proj/pyproject.toml::dependency-groups.dev"),
        ("pytest", "proj/pyproject.toml::dependency-groups.dev"),
    ]
    assert result.requirements[0].location == (
        "proj/pyproject.toml: Requires-Dist[0] (built metadata)"
    )
    assert result.requires_python == SpecifierSet(">=3.10")
    assert result.project_name == "dynproj"


def test_setup_py_source_is_built(tmp_path: Path) -> None:
    """A setup.py source (no [project] table) is asked through its build backend."""
    write(tmp_path, "proj/pyproject.toml", DYNAMIC_PYPROJECT.split("[project]")[0])
    write(tmp_path, "proj/_backend/backend.py", BACKEND)
    write(tmp_path, "proj/setup.py", "raise SystemExit('not run: the in-tree backend is used')\n")
    result = read(tmp_path, "proj/setup.py")
    assert [r.origin for r in result.requirements] == ["proj/setup.py"] * 2
    assert result.project_name == "dynproj"
    assert set(result.files) == {
        (tmp_path / "proj/setup.py").resolve(),
        (tmp_path / "proj/pyproject.toml").resolve(),
    }


def test_dynamic_project_with_unknown_extra(tmp_path: Path) -> None:
    """Extras of a built project are checked against its Provides-Extra."""
    make_dynamic(tmp_path)
    assert problems(tmp_path, "proj/pyproject.toml", extras=["nope"]) == [
        "proj/pyproject.toml: unknown extra 'nope' (the project defines: docs)"
    ]


def test_failing_backend_is_a_build_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A backend that fails is reported as BuildError naming the project, not a traceback."""
    make_dynamic(tmp_path)
    monkeypatch.setenv("CROSSPIN_TEST_FAIL_BUILD", "1")
    with pytest.raises(BuildError) as info:
        read(tmp_path, "proj/pyproject.toml")
    assert info.value.package == "proj/pyproject.toml"


def test_nothing_is_built_when_files_have_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Input problems are raised before any slow build starts."""
    make_dynamic(tmp_path)
    monkeypatch.setenv("CROSSPIN_TEST_FAIL_BUILD", "1")
    write(tmp_path, "requirements.in", "bad req!\n")
    with pytest.raises(InputError):
        read(tmp_path, "proj/pyproject.toml", "requirements.in")


@pytest.mark.parametrize(
    ("marker", "expected"),
    [
        (None, (None, None)),
        ('python_version < "3.8"', (None, 'python_version < "3.8"')),
        ('extra == "Docs_X"', ("docs-x", None)),
        ('"docs" == extra', ("docs", None)),
        ('(python_version < "3.8" or os_name == "nt") and extra == "docs"', ("docs", None)),
        ('python_version < "3.8" and extra == "docs" and os_name == "nt"', ("docs", None)),
        ('python_version < "3.8" or extra == "docs"', "unsupported"),
        ('extra == "a" and extra == "b"', "unsupported"),
    ],
)
def test_split_extra(marker: str | None, expected: object) -> None:
    """Requires-Dist markers split into the extra and the rest, refusing forms not generated."""
    result = split_extra(Marker(marker) if marker else None)
    if expected == "unsupported":
        assert result is None
        return
    assert result is not None
    extra, rest = result
    assert isinstance(expected, tuple)
    assert extra == expected[0]
    if expected[1] is not None:
        assert rest == Marker(expected[1])
    elif marker and " and " in marker and "extra" in marker and marker.count("==") > 1:
        assert rest is not None
    else:
        assert rest is None


@pytest.mark.parametrize(
    ("marker", "expected"),
    [
        ('python_version < "3.8"', [(None, 'python_version < "3.8"')]),
        ('extra == "a" or extra == "B"', [("a", None), ("b", None)]),
        ('sys_platform == "win32" or extra == "test"',
         [(None, 'sys_platform == "win32"'), ("test", None)]),
        ('os_name == "nt" and extra == "test" or extra == "docs"',
         [("test", 'os_name == "nt"'), ("docs", None)]),
        ('(python_version < "3.8" or extra == "x") and os_name == "nt"', None),
    ],
)
def test_split_extras(marker: str, expected: list[tuple[str | None, str | None]] | None) -> None:
    """A marker naming extras splits into one (extra, rest) per top-level alternative."""
    result = split_extras(Marker(marker))
    if expected is None:
        assert result is None
        return
    assert result == [(e, Marker(m) if m else None) for e, m in expected]


# --- digest -------------------------------------------------------------------------------------


def test_digest_is_stable_and_order_independent(tmp_path: Path) -> None:
    """Reordering or renumbering lines keeps the digest; changing a requirement changes it."""
    write(tmp_path, "a.in", "six\nattrs>=23\n")
    write(tmp_path, "b.in", "# moved\n\nattrs>=23\nsix\n")
    write(tmp_path, "c.in", "six\nattrs>=24\n")
    digest_a = input_digest(read(tmp_path, "a.in"))
    assert digest_a == input_digest(read(tmp_path, "a.in"))
    assert len(digest_a) == 64
    write(tmp_path, "a.in", "attrs>=23\n\n\nsix\n")
    assert input_digest(read(tmp_path, "a.in")) == digest_a
    assert input_digest(read(tmp_path, "c.in")) != digest_a


def test_digest_tracks_options_and_origins(tmp_path: Path) -> None:
    """Index order and where a requirement comes from are part of the digest."""
    write(tmp_path, "a.in", "--extra-index-url https://1/\n--extra-index-url https://2/\nsix\n")
    write(tmp_path, "b.in", "--extra-index-url https://2/\n--extra-index-url https://1/\nsix\n")
    assert input_digest(read(tmp_path, "a.in")) != input_digest(read(tmp_path, "b.in"))
    write(tmp_path, "c.in", "--extra-index-url https://1/\n--extra-index-url https://2/\nsix\n")
    assert input_digest(read(tmp_path, "a.in")) != input_digest(read(tmp_path, "c.in"))
