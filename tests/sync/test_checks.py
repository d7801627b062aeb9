"""The pure rules a wheel's own files are read by (names, WHEEL, RECORD, entry points)."""

from __future__ import annotations

import hashlib
import itertools

import pytest

from crosspin.sync._checks import (
    WheelProblem,
    is_plain_member,
    member_problem,
    parse_entry_points,
    parse_record,
    parse_wheel_file,
    record_hash,
    reserved_name,
)

RECORD = "pkg-1.0.dist-info/RECORD"


@pytest.mark.parametrize("name", ["python", "python3", "python3.12", "pythonw.exe",
                                  "Python3.exe", "python3.13t", "pypy3", "activate",
                                  "activate.fish", "Activate.ps1", "activate_this.py",
                                  "deactivate.bat"])
def test_interpreter_and_activation_names_are_reserved(name: str) -> None:
    """These names in the scripts folder are the environment's own."""
    assert reserved_name(name)


@pytest.mark.parametrize("name", ["pythonista", "python-tool", "ipython", "py.test",
                                  "activate-global-python-argcomplete", "pip3"])
def test_honest_script_names_are_not_reserved(name: str) -> None:
    """Real packages ship these (argcomplete's activate-global-python-argcomplete)."""
    assert not reserved_name(name)


@pytest.mark.parametrize("name", ["/etc/passwd", "C:/x", "a/../../b", "a\\b", "a//b", "./a",
                                  "a/\x00"])
def test_unplain_member_names_are_problems(name: str) -> None:
    """Absolute, drive, parent, backslash, empty or dot parts are never installed."""
    assert member_problem(name)


def test_the_one_pattern_check_agrees_with_the_member_rules() -> None:
    """The cache's fast check of its manifest paths accepts exactly the names
    member_problem accepts (less a trailing ``/``: a file's path never has one), over
    every name of up to four pieces of an alphabet of the awkward ones."""
    pieces = ["a", ".", "..", "/", "\\", "\x00", ":", "C:", "b.c", "..a", ".a", "a..", "\n",
              " "]
    for n in range(1, 5):
        for combo in itertools.product(pieces, repeat=n):
            name = "".join(combo)
            expected = member_problem(name) is None and not name.endswith("/")
            assert is_plain_member(name) is expected, name


def test_record_accepts_base64_and_hex_digests() -> None:
    """The spec's urlsafe base64, and hex (gmsh's wheels write it; pip takes it)."""
    digest = hashlib.sha256(b"x").digest()
    text = (f"a.py,{record_hash('sha256', digest)},1\n"
            f"b.py,sha256={digest.hex()},1\n{RECORD},,\n")
    rows = parse_record(text, RECORD)
    assert rows["a.py"].matches(digest) and rows["b.py"].matches(digest)


@pytest.mark.parametrize("row", ["a.py,md5=abc,1", "a.py,sha256=not-a-digest,1",
                                 "a.py,sha256=,1", "a.py,,1", "a.py,sha256=x", "a.py,x,y,z"])
def test_bad_record_rows_are_problems(row: str) -> None:
    """Weak or malformed hashes, missing hashes, wrong field counts: refused with the line."""
    with pytest.raises(WheelProblem, match="RECORD line 1"):
        parse_record(f"{row}\n{RECORD},,\n", RECORD)


def test_root_is_purelib_missing_means_platlib() -> None:
    """Only ``true`` means purelib, as pip and installer read it; the version must be 1.x."""
    assert parse_wheel_file("Wheel-Version: 1.0\nRoot-Is-Purelib: true\n")
    assert not parse_wheel_file("Wheel-Version: 1.9\n")
    with pytest.raises(WheelProblem, match=r"Wheel-Version 2\.0"):
        parse_wheel_file("Wheel-Version: 2.0\nRoot-Is-Purelib: true\n")


def test_entry_point_sections_other_than_scripts_are_not_scripts() -> None:
    """Plugins (``[pytest11]``) are parsed but make no launcher; extras are allowed."""
    scripts = parse_entry_points("[console_scripts]\na = m.n:f [extra]\n[gui_scripts]\n"
                                 "b = m:g\n[pytest11]\nplugin = m\n")
    assert [(s.name, s.module, s.attr, s.section) for s in scripts] == [
        ("a", "m.n", "f", "console"), ("b", "m", "g", "gui")]
