"""The matrix a lock covers: from --python, --platform and Requires-Python; recorded, read back."""

from __future__ import annotations

import pytest
from packaging.specifiers import SpecifierSet

from crosspin.environments import DEFAULT_PYTHONS, Matrix, describe_environments
from crosspin.errors import UsageError


def test_default_matrix_is_every_supported_python_on_five_platforms() -> None:
    """No options: CPython 3.9-3.14 x the five default platforms, newest Python first."""
    matrix = Matrix.from_options()
    assert len(matrix) == len(DEFAULT_PYTHONS) * 5 == 30
    assert matrix.environments[0].python == (3, 14)
    assert matrix.environments[-1].python == (3, 9)


@pytest.mark.parametrize(("python", "pythons"), [
    ("3.12", ("3.12",)),
    ("3.10,3.12", ("3.12", "3.10")),
    (">=3.12", ("3.14", "3.13", "3.12")),
    (">=3.9,<3.11", ("3.10", "3.9")),
    ("3.9.2", ("3.9.2",)),
])
def test_python_option_forms(python: str, pythons: tuple[str, ...]) -> None:
    """--python takes a minor, a list, a specifier or a full version."""
    assert Matrix.from_options(python=python, platforms=["linux-x86_64"]).pythons == pythons


def test_requires_python_splits_a_minor_at_a_patch_boundary() -> None:
    """A project needing >=3.9.2 gets 3.9.2+ (not all of 3.9, not none of it)."""
    matrix = Matrix.from_options(python="3.9,3.10", platforms=["linux-x86_64"],
                                 requires_python=SpecifierSet(">=3.9.2"))
    assert [e.name for e in matrix.environments] == ["3.10-linux-x86_64",
                                                     "3.9.2+-linux-x86_64"]


def test_no_python_left_is_a_usage_error() -> None:
    """A requires-python the chosen Pythons cannot meet is one clear error."""
    with pytest.raises(UsageError, match="have no Python version in common"):
        Matrix.from_options(python="3.9", requires_python=SpecifierSet(">=3.12"))


def test_spec_round_trips_exactly() -> None:
    """The header's spec reads back as the same matrix, patch splits included."""
    matrix = Matrix.from_options(python=">=3.9,<3.12", platforms=["linux-x86_64", "macos-arm64"],
                                 requires_python=SpecifierSet("!=3.9.0,!=3.9.1"))
    spec = matrix.to_spec()
    assert spec == "python=3.9.2+,3.10,3.11; platforms=linux-x86_64,macos-arm64"
    assert Matrix.from_spec(spec) == matrix


def test_describe_groups_environments_for_people() -> None:
    """A platform with every Python reads '(every Python)'; a short set is listed by name."""
    matrix = Matrix.from_options(python="3.11,3.12", platforms=["linux-x86_64", "windows-x86_64"])
    assert matrix.describe() == "python 3.11, 3.12 x linux-x86_64, windows-x86_64 (4 environments)"
    names = [e.name for e in matrix.environments]
    assert describe_environments(names, matrix) == [
        "linux-x86_64, windows-x86_64 (every Python)"]
    assert describe_environments(names[:2], matrix) == names[:2]


def test_a_split_matrix_round_trips_and_covers_what_was_asked() -> None:
    """A lock's matrix with minors split at patch boundaries reads back the same (issue 14)."""
    split = Matrix.from_spec("python=3.9.0-3.9.1,3.9.2+,3.14.1,3.14.0,3.14.2+; "
                             "platforms=linux-x86_64,windows-x86_64")
    assert Matrix.from_spec(split.to_spec()) == split
    assert split.pythons == ("3.14.2+", "3.14.1", "3.14.0", "3.9.2+", "3.9.0-3.9.1")
    asked = Matrix.from_options(python="3.9,3.14", platforms=["linux-x86_64", "windows-x86_64"])
    assert split.covers_same(asked) and asked.covers_same(split)
    assert not split.covers_same(Matrix.from_options(python="3.9,3.14",
                                                      platforms=["linux-x86_64"]))
    assert split.patch_cuts() == {(3, 9): frozenset({2}), (3, 14): frozenset({1, 2})}
    assert asked.patch_cuts() == {}
