"""Issue 16's compile mistakes: the whole of stderr, one ``error:`` and one ``hint:`` line.

Each row is a requirements.in, the extra arguments and the exact stderr
(``{index}`` stands for the loopback index's URL). docs/output.md and
the closing note quote these texts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ONE_ENV, compile_requirements

ANY = ">=3.8"


def _cp(platform: str, minors: range = range(9, 15)) -> list[str]:
    return [f"cp3{m}-cp3{m}-{platform}" for m in minors]


PACKAGES: dict[str, Any] = {
    "requests": {"2.32.3": {"requires_python": ANY}},
    "six": {"1.15.0": {"requires_python": ANY}, "1.16.0": {"requires_python": ANY},
            "1.17.0": {"requires_python": ANY}},
    "app": {"1.0": {"requires_python": ANY, "requires": ["lib"]}},
    "lib": {"1.0": {"requires_python": ">=3.11"}, "2.0": {"requires_python": ">=3.11"}},
    "numpy": {"2.2.0": {"requires_python": ">=3.10"}, "2.3.0": {"requires_python": ">=3.11"}},
    "pywin32": {"306": {"requires_python": None, "sdist": False, "wheel_tags": _cp("win_amd64")}},
    # The last macOS x86_64 wheels stop at Python 3.12; no sdist (torch's shape).
    "torch": {"2.2.2": {"requires_python": ANY, "sdist": False,
                        "wheel_tags": _cp("manylinux_2_17_x86_64") + _cp("win_amd64")
                        + _cp("macosx_11_0_arm64") + _cp("manylinux_2_17_aarch64")
                        + _cp("macosx_10_9_x86_64", range(9, 13))}},
    "uvloop": {"0.21.0": {"requires_python": ANY,
                          "wheel_tags": _cp("manylinux_2_17_x86_64") + _cp("macosx_11_0_arm64")
                          + _cp("manylinux_2_17_aarch64") + _cp("macosx_10_9_x86_64")}},
}

pytestmark = pytest.mark.usefixtures("plain")

ROWS = [
    ("typo", "reqeusts\n", [], 1,
     "error: requirements.in:1: no project named 'reqeusts' on {index}\n"
     "hint: did you mean 'requests'?\n"),
    ("typo-no-close-name", "zzqx\n", ["--extra-index-url", "{index}"], 1,
     "error: requirements.in:1: no project named 'zzqx' on {index} (nor on 1 other indexes "
     "and find-links)\n"
     "hint: check the spelling, or add the index that serves it with --extra-index-url\n"),
    ("no-such-version", "six==9.9\n", [], 1,
     "error: requirements.in:1: six==9.9 matches none of six's versions on the index "
     "(newest: 1.17.0)\n"
     "hint: the nearest versions are 1.17.0, 1.16.0, 1.15.0\n"),
    ("python-floor", "app\n", [], 1,
     "error: no version of lib supports Python 3.9, 3.10: its versions need Python >=3.11\n"
     "hint: lock for Python 3.11 and newer: --python '>=3.11' (or requires-python = "
     "\">=3.11\" in pyproject.toml)\n"),
    ("python-floor-direct", "numpy>=2.3\n", [], 1,
     "error: no version of numpy supports Python 3.9, 3.10: every version needs Python "
     ">=3.11\n"
     "hint: lock for Python 3.11 and newer with --python '>=3.11', or limit the pin: "
     "numpy>=2.3 ; python_version >= \"3.11\"\n"),
    ("exclude-newer", "six\n", ["--exclude-newer", "2023-06-01"], 1,
     "error: every release of six was uploaded after --exclude-newer 2023-06-01 (the first, "
     "six 1.15.0, on 2024-01-01)\n"
     "hint: move --exclude-newer to 2024-01-01 or later, or drop it\n"),
    ("exclude-newer-matching", "six>=1.17\n", ["--exclude-newer", "2024-01-02"], 1,
     "error: requirements.in:1: six>=1.17 has no release uploaded before --exclude-newer "
     "2024-01-02 (six 1.17.0: 2024-01-03)\n"
     "hint: move --exclude-newer to 2024-01-03 or later, or drop it\n"),
    ("uploaded-prior-to", "six>=1.17\n", ["--uploaded-prior-to", "2024-01-03"], 1,
     "error: requirements.in:1: six>=1.17 has no release uploaded before --uploaded-prior-to "
     "2024-01-03 (six 1.17.0: 2024-01-03)\n"
     "hint: move --uploaded-prior-to to 2024-01-04 or later, or drop it\n"),
    ("platform-only", "pywin32\n", [], 1,
     "error: pywin32 has wheels only for windows-x86_64; no file installs on linux-aarch64, "
     "linux-x86_64, macos-arm64, macos-x86_64\n"
     "hint: if you need it only where it installs, write it as: pywin32 ; "
     "sys_platform == \"win32\"\n"),
    ("platform-and-python", "torch\n", [], 1,
     "error: no version of torch installs on macos-x86_64 (3.13, 3.14): no wheel for them "
     "and no sdist\n"
     "hint: if you need it only where it installs, write it as: torch ; "
     "platform_machine != \"x86_64\" or python_version < \"3.13\" or sys_platform == "
     "\"linux\"\n"),
    ("only-sdist-and-no-build", "uvloop\n", ["--no-build"], 1,
     "error: no version of uvloop installs on windows-x86_64 (every Python): only an sdist, "
     "and building is not allowed (--no-build/--only-binary)\n"
     "hint: if you need it only where it installs, write it as: uvloop ; "
     "sys_platform != \"win32\"\n"),
    ("sdist-only-warning", "uvloop\n", [], 0,
     "warning: uvloop==0.21.0 has no wheel for windows-x86_64 (every Python): pip builds it "
     "from source there\n"
     "hint: if it is not needed there, write it as: uvloop ; sys_platform != \"win32\" "
     "(--no-build refuses source builds)\n"),
]


@pytest.mark.parametrize(("requirements", "args", "code", "stderr"),
                         [pytest.param(*row[1:], id=row[0]) for row in ROWS])
def test_mistake_message(requirements: str, args: list[str], code: int, stderr: str,
                         make_index: Any, tmp_path: Path) -> None:
    """One error line naming the cause and one hint saying what to do; no lock on failure."""
    index = make_index(PACKAGES)
    result = compile_requirements(index, tmp_path, requirements,
                                  *(a.replace("{index}", index.index_url) for a in args))
    assert result.code == code
    assert result.stderr == stderr.replace("{index}", index.index_url)
    assert (tmp_path / "requirements.txt").exists() == (code == 0)


def test_a_single_environment_lock_of_a_platform_only_package(make_index: Any,
                                                              tmp_path: Path) -> None:
    """pywin32 for Linux alone: no marker to suggest; the hint says to lock elsewhere or drop it."""
    index = make_index(PACKAGES)
    result = compile_requirements(index, tmp_path, "pywin32\n", *ONE_ENV)
    assert result.code == 1
    assert result.stderr.splitlines()[-1] == (
        "hint: it installs on no environment of the matrix: lock for a platform it has files "
        "for (--platform), or drop it")
