"""Platforms by name: the five defaults, OS floors, uv's spellings, and clear refusals."""

from __future__ import annotations

import pytest

from crosspin.environments import DEFAULT_PLATFORMS, PLATFORMS, Platform
from crosspin.errors import UsageError


def test_default_platforms_are_known_platforms() -> None:
    """The default matrix uses five named platforms, all known."""
    assert set(DEFAULT_PLATFORMS) <= set(PLATFORMS)
    assert len(DEFAULT_PLATFORMS) == 5


@pytest.mark.parametrize(("name", "expected", "glibc", "macos"), [
    ("linux-x86_64", "linux-x86_64", (2, 28), None),
    ("LINUX-AARCH64", "linux-aarch64", (2, 28), None),
    ("linux-x86_64-manylinux_2_17", "linux-x86_64-manylinux_2_17", (2, 17), None),
    ("x86_64-manylinux2014", "linux-x86_64-manylinux_2_17", (2, 17), None),
    ("aarch64-manylinux_2_31", "linux-aarch64-manylinux_2_31", (2, 31), None),
    ("macos-arm64-14.0", "macos-arm64-14.0", None, (14, 0)),
    ("aarch64-apple-darwin", "macos-arm64", None, (13, 0)),
    ("x86_64-pc-windows-msvc", "windows-x86_64", None, None),
    ("windows", "windows-x86_64", None, None),
])
def test_names_and_aliases(
    name: str, expected: str, glibc: tuple[int, int] | None, macos: tuple[int, int] | None
) -> None:
    """Known names, OS floors and uv's spellings all read as one Platform."""
    platform = Platform.from_name(name)
    assert (platform.name, platform.glibc, platform.macos) == (expected, glibc, macos)


def test_an_unknown_platform_names_the_known_ones() -> None:
    """A typo is one UsageError whose hint lists the platforms crosspin knows."""
    with pytest.raises(UsageError) as caught:
        Platform.from_name("linux-sparc")
    assert "linux-sparc" in caught.value.message
    assert caught.value.hint is not None and "linux-x86_64" in caught.value.hint


def test_wheel_platform_tags_follow_the_os_floor() -> None:
    """A glibc 2.17 floor accepts manylinux2014 wheels but not manylinux_2_28 ones."""
    old = Platform.from_name("linux-x86_64-manylinux_2_17")
    assert "manylinux2014_x86_64" in old.platform_tags
    assert "manylinux_2_28_x86_64" not in old.platform_tags
    assert "manylinux_2_28_x86_64" in PLATFORMS["linux-x86_64"].platform_tags
    assert PLATFORMS["windows-x86_64"].platform_tags == ("win_amd64",)
    assert "macosx_11_0_arm64" in PLATFORMS["macos-arm64"].platform_tags
