"""One target environment: its marker environment, wheel tags and Requires-Python answers."""

from __future__ import annotations

import itertools

import pytest
from packaging.specifiers import SpecifierSet
from packaging.tags import parse_tag

from crosspin.environments import PLATFORMS, Environment
from crosspin.environments._environment import _admits, _patch_versions


def test_marker_environment_is_the_targets_not_the_hosts() -> None:
    """Markers see the target (lowest covered patch), never the machine crosspin runs on."""
    env = Environment(python=(3, 11), platform=PLATFORMS["windows-x86_64"], patch_floor=2)
    values = env.marker_environment
    assert (values["sys_platform"], values["platform_machine"], values["os_name"]) == (
        "win32", "AMD64", "nt")
    assert (values["python_version"], values["python_full_version"]) == ("3.11", "3.11.2")
    assert env.name == "3.11.2+-windows-x86_64"


def test_patch_range_names_and_split_flag() -> None:
    """A patch range reads 3.9.0-3.9.1 or 3.9.2+; a whole minor reads 3.9."""
    linux = PLATFORMS["linux-x86_64"]
    assert Environment(python=(3, 9), platform=linux).python_label == "3.9"
    assert not Environment(python=(3, 9), platform=linux).is_patch_split
    low = Environment(python=(3, 9), platform=linux, patch_floor=0, patch_ceiling=2)
    assert (low.python_label, low.is_patch_split) == ("3.9.0-3.9.1", True)
    assert low.with_patches(2, None).python_label == "3.9.2+"


@pytest.mark.parametrize(("spec", "whole", "from_patch_2"), [
    (">=3.9", True, True),
    (">=3.9.2", False, True),
    ("!=3.9.0,!=3.9.1", False, True),
    ("<3.9.5", False, False),
])
def test_requires_python_must_admit_every_covered_patch(
    spec: str, whole: bool, from_patch_2: bool
) -> None:
    """A minor admits a Requires-Python only if every patch release it stands for does."""
    env = Environment(python=(3, 9), platform=PLATFORMS["linux-x86_64"])
    assert env.admits_python(SpecifierSet(spec)) is whole
    assert env.with_patches(2, None).admits_python(SpecifierSet(spec)) is from_patch_2


def test_factored_wheel_check_equals_the_expanded_tags() -> None:
    """Whether a wheel installs is answered from factored tag sets exactly as from every tag."""
    interpreters = ["cp39", "cp310", "cp311", "cp312", "cp313", "cp314", "cp38", "cp36", "py3",
                    "py39", "py311", "py2", "py2.py3", "pp310", "cp314t", "py30"]
    abis = ["none", "abi3", "cp39", "cp311", "cp312", "cp313", "cp314t", "cp310", "pypy310_pp73"]
    platforms = ["any", "manylinux_2_17_x86_64", "manylinux2014_aarch64", "musllinux_1_1_x86_64",
                 "macosx_10_9_x86_64", "macosx_11_0_arm64", "macosx_14_0_universal2",
                 "win_amd64", "win32", "win_arm64", "linux_x86_64", "manylinux_2_39_x86_64",
                 "manylinux1_x86_64", "macosx_10_9_universal2.macosx_11_0_arm64"]
    for python in [(3, 9), (3, 11), (3, 13), (3, 14)]:
        for platform in PLATFORMS.values():
            env = Environment(python=python, platform=platform)
            expanded = set(env.tags)
            for combo in itertools.product(interpreters, abis, platforms):
                wheel = parse_tag("-".join(combo))
                assert env.supports_wheel(wheel) == bool(wheel & expanded), (env.name, combo)




def test_requires_python_checked_once_per_minor_when_no_clause_names_it() -> None:
    """Skipping patch-by-patch checks gives the same answer as checking all 60 patches."""
    specs = [">=3.8", "<4", ">=3.11.2", "!=3.11.*", "<3.11", "~=3.10", "~=3.11.1", ">3.10",
             "==3.12.*", ">=3.9,!=3.10.0,<3.13", ">=3.11.0rc1", "===3.11.4", ">=3", "<3.11.5",
             ">=2.7,!=3.0.*,!=3.1.*", "==3.*"]
    for spec in specs:
        for python in [(3, 9), (3, 10), (3, 11), (3, 12), (3, 13), (3, 14)]:
            for floor, ceiling in [(0, None), (3, None), (0, 5), (2, 7)]:
                top = 60 if ceiling is None else ceiling
                slow = all(SpecifierSet(spec).contains(v, prereleases=True)
                           for v in _patch_versions(python)[floor:top])
                assert _admits(spec, python, floor, ceiling) == slow, (spec, python, floor)
