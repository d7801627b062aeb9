"""Target platforms: an operating system and CPU with the wheel tags it accepts.

A :class:`Platform` names what a lock serves (``linux-x86_64``,
``macos-arm64``, ...) with the oldest OS release it must serve (a glibc or
macOS floor); its wheel platform tags are computed with
:mod:`packaging.tags` for the target, never read from the host.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

import attrs
from packaging import tags as _tags

from crosspin.errors import UsageError

__all__ = ["DEFAULT_PLATFORMS", "PLATFORMS", "Platform"]


@attrs.frozen(kw_only=True, order=False)
class Platform:
    """An operating system and CPU, with the wheel platform tags it accepts.

    ``glibc`` (Linux) and ``macos`` (macOS) give the oldest OS release the
    lock must serve: wheels that need a newer one are not installable there.
    """

    name: str
    sys_platform: str
    platform_system: str
    os_name: str
    platform_machine: str
    arch: str
    glibc: tuple[int, int] | None = None
    macos: tuple[int, int] | None = None

    @classmethod
    def from_name(cls, name: str) -> Platform:
        """Parse a platform name: a known one, or a variant with an OS floor.

        Accepted: ``linux-x86_64``, ``linux-aarch64``, ``macos-arm64``,
        ``macos-x86_64``, ``windows-x86_64``, ``windows-arm64``; a Linux one
        with a glibc floor (``linux-x86_64-manylinux_2_17``); a macOS one with
        a release floor (``macos-arm64-14.0``); and uv's spellings
        (``x86_64-manylinux2014``, ``aarch64-apple-darwin``,
        ``x86_64-pc-windows-msvc``, ``x86_64-unknown-linux-gnu``).
        """
        key = name.strip().lower()
        if key in PLATFORMS:
            return PLATFORMS[key]
        alias = _UV_ALIASES.get(key)
        if alias is not None:
            return alias
        m = re.fullmatch(r"(linux-(?:x86_64|aarch64))-manylinux_?(\d+)_(\d+)", key)
        if m:
            base = PLATFORMS[m.group(1)]
            return attrs.evolve(base, name=key, glibc=(int(m.group(2)), int(m.group(3))))
        m = re.fullmatch(r"(x86_64|aarch64)-manylinux_?(\d+)_(\d+)", key)
        if m:
            base = PLATFORMS[f"linux-{m.group(1)}"]
            glibc = (int(m.group(2)), int(m.group(3)))
            name = f"{base.name}-manylinux_{glibc[0]}_{glibc[1]}"
            return attrs.evolve(base, name=name, glibc=glibc)
        m = re.fullmatch(r"(macos-(?:arm64|x86_64))-(\d+)\.(\d+)", key)
        if m:
            base = PLATFORMS[m.group(1)]
            return attrs.evolve(base, name=key, macos=(int(m.group(2)), int(m.group(3))))
        known = ", ".join(sorted(PLATFORMS))
        raise UsageError(f"unknown platform {name!r}", hint=f"use one of: {known}")

    @functools.cached_property
    def platform_tags(self) -> tuple[str, ...]:
        """Wheel platform tags this platform installs, most specific first."""
        if self.sys_platform == "linux":
            assert self.glibc is not None
            return tuple(_manylinux_platforms(self.glibc, self.arch))
        if self.sys_platform == "darwin":
            assert self.macos is not None
            return tuple(_tags.mac_platforms(self.macos, self.arch))
        return (self.arch,)

    def __str__(self) -> str:
        return self.name


def _manylinux_platforms(glibc: tuple[int, int], arch: str) -> Iterable[str]:
    # PEP 600 tags from the floor down, with the legacy aliases of PEP 513,
    # 571 and 599 at the glibc release each stands for, then the bare tag.
    legacy = {(2, 17): "manylinux2014", (2, 12): "manylinux2010", (2, 5): "manylinux1"}
    major, minor = glibc
    for m in range(minor, 4, -1):
        yield f"manylinux_{major}_{m}_{arch}"
        alias = legacy.get((major, m))
        if alias and (alias != "manylinux2014" or arch in {"x86_64", "aarch64", "i686"}):
            yield f"{alias}_{arch}"
    yield f"linux_{arch}"


_LINUX: dict[str, Any] = {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"}
_MACOS: dict[str, Any] = {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix"}
_WINDOWS: dict[str, Any] = {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt"}

#: Every platform crosspin knows by name.
PLATFORMS: dict[str, Platform] = {
    p.name: p
    for p in (
        Platform(name="linux-x86_64", platform_machine="x86_64", arch="x86_64",
                 glibc=(2, 28), **_LINUX),
        Platform(name="linux-aarch64", platform_machine="aarch64", arch="aarch64",
                 glibc=(2, 28), **_LINUX),
        Platform(name="macos-arm64", platform_machine="arm64", arch="arm64",
                 macos=(13, 0), **_MACOS),
        Platform(name="macos-x86_64", platform_machine="x86_64", arch="x86_64",
                 macos=(13, 0), **_MACOS),
        Platform(name="windows-x86_64", platform_machine="AMD64", arch="win_amd64",
                 **_WINDOWS),
        Platform(name="windows-arm64", platform_machine="ARM64", arch="win_arm64",
                 **_WINDOWS),
    )
}

#: The platforms of a default matrix.
DEFAULT_PLATFORMS: tuple[str, ...] = (
    "linux-x86_64",
    "linux-aarch64",
    "macos-arm64",
    "macos-x86_64",
    "windows-x86_64",
)

_UV_ALIASES: dict[str, Platform] = {
    "linux": PLATFORMS["linux-x86_64"],
    "macos": PLATFORMS["macos-arm64"],
    "windows": PLATFORMS["windows-x86_64"],
    "x86_64-unknown-linux-gnu": PLATFORMS["linux-x86_64"],
    "aarch64-unknown-linux-gnu": PLATFORMS["linux-aarch64"],
    "aarch64-apple-darwin": PLATFORMS["macos-arm64"],
    "x86_64-apple-darwin": PLATFORMS["macos-x86_64"],
    "x86_64-pc-windows-msvc": PLATFORMS["windows-x86_64"],
    "aarch64-pc-windows-msvc": PLATFORMS["windows-arm64"],
    "x86_64-manylinux2014": attrs.evolve(
        PLATFORMS["linux-x86_64"], name="linux-x86_64-manylinux_2_17", glibc=(2, 17)
    ),
    "aarch64-manylinux2014": attrs.evolve(
        PLATFORMS["linux-aarch64"], name="linux-aarch64-manylinux_2_17", glibc=(2, 17)
    ),
}
