"""Tests for crosspin.lockfiles.pylock: PEP 751 out, pins back in."""

from __future__ import annotations

import datetime
import sys

import pytest
from packaging.markers import Marker
from packaging.pylock import Pylock
from packaging.utils import canonicalize_name
from packaging.version import Version

from crosspin.distributions import DistFile
from crosspin.environments import Matrix
from crosspin.errors import LockFileError
from crosspin.lock import Lock, LockedPackage
from crosspin.lockfiles import is_pylock_path
from crosspin.lockfiles.pylock import PylockOptions, read, render

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

DEFAULT = Matrix.from_options()
WHEN = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)


def dist(filename: str, digest: str, *, hashed: bool = True) -> DistFile:
    made = DistFile.from_link(
        filename=filename, url=f"https://files.example/{filename}",
        hashes={"sha256": digest * 64} if hashed else None, size=123, upload_time=WHEN,
        index="https://pypi.example/simple/",
    )
    assert made is not None
    return made


def pkg(
    name: str, version: str, *, via: tuple[str, ...] = (), deps: tuple[str, ...] = (),
    marker: str | None = None, files: tuple[DistFile, ...] = (), url: str | None = None,
    editable: bool = False,
) -> LockedPackage:
    return LockedPackage(
        name=canonicalize_name(name), version=Version(version),
        marker=Marker(marker) if marker else None, via=via,
        dependencies=tuple(canonicalize_name(d) for d in deps), files=files, url=url,
        editable=editable,
    )


def sample(matrix: Matrix = DEFAULT) -> Lock:
    return Lock.build(matrix=matrix, packages=[
        pkg("a", "1.0", via=("pyproject.toml",), deps=("b",),
            files=(dist("a-1.0-py3-none-any.whl", "1"), dist("a-1.0.tar.gz", "2"))),
        pkg("b", "2.0", via=("a", "pyproject.toml::dependency-groups.dev"),
            files=(dist("b-2.0-py3-none-any.whl", "3"),)),
        pkg("c", "3.0", marker='sys_platform == "win32"', deps=("d",),
            via=("pyproject.toml::optional-dependencies.test",),
            files=(dist("c-3.0-py3-none-any.whl", "4"),)),
        pkg("d", "1.0", via=("c", "pyproject.toml::dependency-groups.dev"),
            files=(dist("d-1.0-py3-none-any.whl", "5"),)),
    ])


def markers_of(text: str) -> dict[str, str | None]:
    return {p["name"]: p.get("marker") for p in tomllib.loads(text)["packages"]}


def test_round_trip_through_packaging_is_identical() -> None:
    """render -> Pylock.from_dict -> to_dict gives back the very same dict."""
    data = tomllib.loads(render(sample(), PylockOptions()))
    assert Pylock.from_dict(data).to_dict() == data


def test_rendering_is_byte_identical() -> None:
    """Two renders of the same lock give the same bytes, whatever the input order."""
    lock = sample()
    shuffled = Lock(matrix=lock.matrix, packages=tuple(reversed(lock.packages)))
    assert render(lock, PylockOptions()) == render(shuffled, PylockOptions())


def test_header_fields_and_environments() -> None:
    """lock-version, created-by, requires-python and one environment marker per platform."""
    data = tomllib.loads(render(sample(), PylockOptions(default_groups=("Dev",))))
    assert data["lock-version"] == "1.0"
    assert data["created-by"] == "crosspin"
    assert data["requires-python"] == ">=3.9"
    assert data["extras"] == ["test"]
    assert data["dependency-groups"] == ["dev"]
    assert data["default-groups"] == ["dev"]
    assert len(data["environments"]) == 5
    assert ('sys_platform == "win32" and platform_machine == "AMD64" and '
            'python_version >= "3.9" and python_version < "3.15"') in data["environments"]
    assert data["tool"]["crosspin"]["matrix"] == DEFAULT.to_spec()


def test_requires_python_has_an_upper_end_below_the_newest() -> None:
    """A matrix that stops below the newest Python says so in requires-python and environments."""
    matrix = Matrix.from_options(python="3.10,3.11", platforms=["linux-x86_64"])
    data = tomllib.loads(render(sample(matrix), PylockOptions()))
    assert data["requires-python"] == ">=3.10,<3.12"
    assert data["environments"] == [
        'sys_platform == "linux" and platform_machine == "x86_64" and '
        'python_version >= "3.10" and python_version < "3.12"'
    ]


def test_patch_split_matrix_uses_full_versions() -> None:
    """A matrix cut at a patch release bounds Python with python_full_version."""
    from packaging.specifiers import SpecifierSet

    matrix = Matrix.from_options(python="3.9", platforms=["linux-x86_64"],
                                 requires_python=SpecifierSet(">=3.9.2"))
    data = tomllib.loads(render(sample(matrix), PylockOptions()))
    assert data["requires-python"] == ">=3.9.2,<3.10"
    assert data["environments"][0].endswith(
        'python_full_version >= "3.9.2" and python_version < "3.10"')


def test_reach_markers_for_extras_and_groups() -> None:
    """Base pins stay unconditional; extra/group-only pins get 'x' in extras/dependency_groups."""
    markers = markers_of(render(sample(), PylockOptions()))
    assert markers["a"] is None
    assert markers["b"] is None  # base via a, even though dev names it too
    assert markers["c"] == 'sys_platform == "win32" and "test" in extras'
    assert markers["d"] == ('(sys_platform == "win32" and "test" in extras) or '
                            '"dev" in dependency_groups')


def test_root_marker_limits_where_an_origin_reaches() -> None:
    """A base root 'x; sys_platform == "linux"' makes x base only on Linux."""
    from packaging.requirements import Requirement

    lock = Lock.build(matrix=DEFAULT, packages=[
        pkg("x", "1.0", via=("pyproject.toml", "pyproject.toml::optional-dependencies.e"),
            files=(dist("x-1.0-py3-none-any.whl", "1"),)),
    ])
    roots = {"pyproject.toml": [Requirement('x; sys_platform == "linux"')],
             "pyproject.toml::optional-dependencies.e": [Requirement("x")]}
    text = render(lock, PylockOptions(root_requirements=roots))
    assert markers_of(text)["x"] == 'sys_platform == "linux" or "e" in extras'


def test_constraint_origin_reaches_nothing() -> None:
    """'# via -c main.txt' (a constraint pinned it) does not make an extra's pin a base one."""
    lock = Lock.build(matrix=DEFAULT, packages=[
        pkg("x", "1.0", via=("-c main.txt", "pyproject.toml::optional-dependencies.e"),
            files=(dist("x-1.0-py3-none-any.whl", "1"),)),
    ])
    assert markers_of(render(lock, PylockOptions()))["x"] == '"e" in extras'


def test_files_hashes_sizes_upload_times() -> None:
    """Wheels and sdist carry name, url, upload-time (UTC), size and hashes; index is set."""
    (a, *_) = tomllib.loads(render(sample(), PylockOptions()))["packages"]
    assert a["index"] == "https://pypi.example/simple/"
    assert a["sdist"]["hashes"] == {"sha256": "2" * 64}
    assert a["wheels"][0] == {
        "name": "a-1.0-py3-none-any.whl", "url": "https://files.example/a-1.0-py3-none-any.whl",
        "upload-time": WHEN, "size": 123, "hashes": {"sha256": "1" * 64},
    }
    assert a["dependencies"] == [{"name": "b"}]


def test_unsafe_packages_are_always_listed() -> None:
    """setuptools and pip are listed: a pylock installs everything it names (no --allow-unsafe
    there, unlike requirements.txt; decisions.md, issue 14)."""
    lock = Lock.build(matrix=DEFAULT, packages=[
        pkg("setuptools", "70.0", via=("-r requirements.in",),
            files=(dist("setuptools-70.0-py3-none-any.whl", "1"),)),
        pkg("pip", "25.0", via=("-r requirements.in",),
            files=(dist("pip-25.0-py3-none-any.whl", "2"),)),
    ])
    text = render(lock, PylockOptions())
    assert 'name = "setuptools"' in text and 'name = "pip"' in text


def test_direct_references_become_archive_and_directory() -> None:
    """A wheel URL pin is an archive table; a local tree a directory table (editable kept)."""
    url = "https://files.example/w-1.0-py3-none-any.whl"
    wheel = DistFile.from_link(filename="w-1.0-py3-none-any.whl", url=url,
                               hashes={"sha256": "9" * 64})
    assert wheel is not None
    lock = Lock.build(matrix=DEFAULT, packages=[
        pkg("w", "1.0", via=("-r r.in",), url=url, files=(wheel,)),
        pkg("local", "0.1", via=("-r r.in",), url="./src/local", editable=True),
    ])
    packages = {p["name"]: p for p in tomllib.loads(render(lock, PylockOptions()))["packages"]}
    assert packages["w"]["archive"] == {"url": url, "hashes": {"sha256": "9" * 64}}
    assert packages["local"]["directory"] == {"path": "src/local", "editable": True}
    assert "version" not in packages["local"]


def test_file_without_hash_is_an_error_not_a_bad_file() -> None:
    """PEP 751 needs a hash per file: a hashless file raises LockFileError naming it."""
    lock = Lock.build(matrix=DEFAULT, packages=[
        pkg("a", "1.0", via=("-r r.in",),
            files=(dist("a-1.0-py3-none-any.whl", "1", hashed=False),)),
    ])
    with pytest.raises(LockFileError, match=r"no hash is known for a-1\.0-py3-none-any\.whl"):
        render(lock, PylockOptions())


def test_package_without_files_fails_validation_with_key() -> None:
    """An index pin with no file at all fails packaging's validation, with its key path."""
    lock = Lock.build(matrix=DEFAULT, packages=[pkg("a", "1.0", via=("-r r.in",))])
    with pytest.raises(LockFileError) as info:
        render(lock, PylockOptions(path="out/pylock.toml"))
    assert info.value.key == "packages[0]"
    assert str(info.value).startswith("out/pylock.toml: packages[0]: ")


def test_read_back_pins_matrix_and_hashes() -> None:
    """read() returns the pins, their environments (extras ignored), hashes and the matrix."""
    parsed = read(render(sample(), PylockOptions()))
    assert parsed.matrix == DEFAULT
    assert parsed.extras == ("test",)
    assert parsed.dependency_groups == ("dev",)
    by_name: dict[str, LockedPackage] = {p.name: p for p in parsed.packages}
    assert by_name["a"].recorded_hashes == (f"sha256:{'1' * 64}", f"sha256:{'2' * 64}")
    assert by_name["c"].marker == Marker('sys_platform == "win32"')
    assert len(by_name["c"].environments) == 6
    assert by_name["d"].marker is None
    win = next(e for e in DEFAULT.environments if e.platform.sys_platform == "win32")
    assert by_name["c"].applies_to(win)


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda d: d["packages"][1]["wheels"][0].pop("hashes"), "packages[1].wheels[0].hashes"),
        (lambda d: d["packages"][0].pop("name"), "packages[0].name"),
        (lambda d: d.pop("lock-version"), "lock-version"),
        (lambda d: d["packages"][2].update(marker="os_name ==="), "packages[2].marker"),
        (lambda d: d["tool"]["crosspin"].update(matrix="python=3.x"), "tool.crosspin.matrix"),
    ],
    ids=["hashes", "name", "lock-version", "marker", "matrix"],
)
def test_read_errors_name_the_key_path(edit: object, key: str) -> None:
    """A broken pylock.toml raises LockFileError with the key path of the problem."""
    import tomli_w

    data = tomllib.loads(render(sample(), PylockOptions()))
    edit(data)  # type: ignore[operator]
    with pytest.raises(LockFileError) as info:
        read(tomli_w.dumps(data), "pylock.toml")
    assert info.value.key == key
    assert info.value.exit_code == 2


def test_read_rejects_invalid_toml() -> None:
    """Text that is not TOML is a LockFileError, not a traceback."""
    with pytest.raises(LockFileError, match="not valid TOML"):
        read("lock-version = ", "pylock.toml")


def test_pylock_path_names() -> None:
    """pylock.toml and pylock.NAME.toml are pylock names; requirements.txt is not."""
    assert is_pylock_path("pylock.toml")
    assert is_pylock_path("out/pylock.dev.toml")
    assert not is_pylock_path("requirements.txt")
    assert not is_pylock_path("pylock.a.b.toml")
