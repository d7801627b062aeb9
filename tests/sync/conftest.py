"""Fixtures for sync's module tests: a stand-in target folder tree and unpacked wheels."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from crosspin.sync import Target
from crosspin.sync._wheel import Expected, Unpacked, unpack_wheel
from fixtures.hostile import Member, standard_members, wheel_bytes_from, with_record

MARKERS = {"python_version": "3.12", "python_full_version": "3.12.1", "sys_platform": "linux",
           "platform_machine": "x86_64", "os_name": "posix", "platform_system": "Linux",
           "implementation_name": "cpython", "platform_python_implementation": "CPython",
           "platform_release": "", "platform_version": "", "implementation_version": "3.12.1"}


@pytest.fixture
def target(tmp_path: Path) -> Target:
    """A venv-shaped folder tree (no interpreter runs): scheme folders under ``tmp/venv``."""
    venv = tmp_path / "venv"
    site = venv / "lib" / "python3.12" / "site-packages"
    site.mkdir(parents=True)
    (venv / "bin").mkdir()
    return Target(executable=str(venv / "bin" / "python"), prefix=str(venv),
                  version_info=(3, 12, 1), markers=dict(MARKERS), tags=(),
                  scheme={"purelib": str(site), "platlib": str(site),
                          "scripts": str(venv / "bin"), "data": str(venv),
                          "headers": str(venv / "include" / "site" / "python3.12")})


UnpackFactory = Callable[..., Unpacked]


@pytest.fixture
def unpacked(tmp_path: Path) -> UnpackFactory:
    """``unpacked(name, version, extra=[Member...])``: an honest wheel, unpacked and verified."""
    count = [0]

    def make(name: str = "pkg", version: str = "2.0", extra: Sequence[Member] = ()) -> Unpacked:
        count[0] += 1
        info = f"{name}-{version}.dist-info"
        members = with_record(standard_members(name, version, extra=extra), f"{info}/RECORD")
        wheel = tmp_path / f"w{count[0]}" / f"{name}-{version}-py3-none-any.whl"
        wheel.parent.mkdir()
        wheel.write_bytes(wheel_bytes_from(members))
        return unpack_wheel(wheel, tmp_path / f"u{count[0]}",
                            Expected(name=canonicalize_name(name)))

    return make
