"""``unpack_wheel``: a wheel is verified in full while it is unpacked, or refused with a reason."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from crosspin.errors import WheelError
from crosspin.sync._wheel import Expected, unpack_wheel
from fixtures.hostile import (
    MALFORMED_WHEELS,
    Artefact,
    Member,
    standard_members,
    wheel_bytes_from,
    wheel_good,
    wheel_huge_record,
    with_record,
)

EXPECTED = Expected(name=canonicalize_name("pkg"), version=Version("2.0"))
INFO = "pkg-2.0.dist-info"


def _write(tmp_path: Path, artefact: Artefact) -> Path:
    path = tmp_path / artefact.filename
    path.write_bytes(artefact.data)
    return path


def _wheel(tmp_path: Path, members: list[Member], name: str = "pkg-2.0-py3-none-any.whl") -> Path:
    path = tmp_path / name
    path.write_bytes(wheel_bytes_from(members))
    return path


def _refusal(wheel: Path, dest: Path, expected: Expected = EXPECTED) -> str:
    with pytest.raises(WheelError) as caught:
        unpack_wheel(wheel, dest, expected)
    assert wheel.name in caught.value.message
    return caught.value.reason


def test_an_honest_wheel_unpacks_with_its_record_hashes(tmp_path: Path) -> None:
    """Files land below dest byte for byte, each with its RECORD hash; RECORD is left out."""
    extra = [Member(name="pkg-2.0.dist-info/entry_points.txt",
                    data=b"[console_scripts]\npkg-cli = pkg:main\n[other]\nx = y\n")]
    members = with_record(standard_members("pkg", "2.0", extra=extra), f"{INFO}/RECORD")
    unpacked = unpack_wheel(_wheel(tmp_path, members), tmp_path / "out", EXPECTED)
    assert unpacked.dist_info == INFO and unpacked.purelib
    assert {f.path for f in unpacked.files} == {m.name for m in members} - {f"{INFO}/RECORD"}
    for f in unpacked.files:
        assert (tmp_path / "out" / f.path).read_bytes() == next(
            m.data for m in members if m.name == f.path)
        assert f.hash.startswith("sha256=")
    assert [(s.name, s.module, s.attr, s.section) for s in unpacked.scripts] == [
        ("pkg-cli", "pkg", "main", "console")]


@pytest.mark.parametrize("case", [c for c in MALFORMED_WHEELS if c.id != "metadata-disagrees"],
                         ids=lambda c: c.id)
def test_every_malformed_wheel_is_refused_with_its_reason(tmp_path: Path, case: object) -> None:
    """Each malformed case of the hostile bed is refused here, the reason naming the flaw.

    (``metadata-disagrees`` is a sound wheel whose METADATA the lock does
    not describe: the check against the lock refuses it, see test_closure.)
    """
    artefact = case.build("pkg", "2.0")  # type: ignore[attr-defined]
    reason = _refusal(_write(tmp_path, artefact), tmp_path / "out")
    assert artefact.reason.lower() in reason.lower()


def test_the_locked_version_must_be_the_files(tmp_path: Path) -> None:
    """A wheel of another version than the pin is refused by its file name."""
    wheel = _write(tmp_path, wheel_good("pkg", "2.0"))
    reason = _refusal(wheel, tmp_path / "out", Expected(name=canonicalize_name("pkg"),
                                                        version=Version("1.0")))
    assert "the lock pins pkg==1.0" in reason


def test_a_member_missing_from_record_is_refused(tmp_path: Path) -> None:
    """A file RECORD does not list (so no hash vouches for it) is refused."""
    members = with_record(standard_members("pkg", "2.0"), f"{INFO}/RECORD")
    members.append(Member(name="pkg/extra.py", data=b"x = 1\n"))
    assert "does not list the member pkg/extra.py" in _refusal(_wheel(tmp_path, members),
                                                               tmp_path / "out")


def test_a_record_row_without_a_member_is_refused(tmp_path: Path) -> None:
    """RECORD naming a file the archive does not hold is refused."""
    ghost = Member(name="pkg/ghost.py", data=b"")
    members = [m for m in with_record([*standard_members("pkg", "2.0"), ghost],
                                      f"{INFO}/RECORD") if m.name != ghost.name]
    assert "lists pkg/ghost.py" in _refusal(_wheel(tmp_path, members), tmp_path / "out")


def test_a_member_whose_bytes_differ_from_record_is_refused(tmp_path: Path) -> None:
    """The CRC can be right and the bytes still not the ones RECORD hashed."""
    members = with_record(standard_members("pkg", "2.0"), f"{INFO}/RECORD")
    members = [Member(name=m.name, data=b"changed\n") if m.name == "pkg/__init__.py" else m
               for m in members]
    assert "does not match its RECORD hash" in _refusal(_wheel(tmp_path, members),
                                                        tmp_path / "out")


def test_a_record_path_with_parent_parts_is_refused(tmp_path: Path) -> None:
    """A RECORD row naming ``../`` is refused before anything is written."""
    members = with_record(standard_members("pkg", "2.0"), f"{INFO}/RECORD",
                          lambda rows: [*rows, "../../../tmp/escape.py,,"])
    assert "outside the environment" in _refusal(_wheel(tmp_path, members), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_names_that_differ_only_by_case_are_refused(tmp_path: Path) -> None:
    """``pkg/A.py`` and ``pkg/a.py`` are one file on macOS and Windows."""
    extra = [Member(name="pkg/A.py", data=b""), Member(name="pkg/a.py", data=b"")]
    members = with_record(standard_members("pkg", "2.0", extra=extra), f"{INFO}/RECORD")
    assert "twice" in _refusal(_wheel(tmp_path, members), tmp_path / "out")


def test_a_huge_record_is_refused_by_its_declared_size(tmp_path: Path) -> None:
    """A RECORD inflating to 64 MiB is refused from the zip's numbers, before it is read."""
    artefact = wheel_huge_record("pkg", "2.0", 64 << 20)
    assert "RECORD file is 63 MiB" in _refusal(_write(tmp_path, artefact), tmp_path / "out")


def test_a_wheel_declaring_too_much_is_refused(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The members' declared sizes are summed and capped before anything is inflated."""
    monkeypatch.setattr("crosspin.sync._wheel.MAX_UNPACKED", 10)
    wheel = _write(tmp_path, wheel_good("pkg", "2.0"))
    assert "more than the" in _refusal(wheel, tmp_path / "out")


def test_executable_members_stay_executable(tmp_path: Path) -> None:
    """A member with an executable mode in the zip is unpacked executable."""
    members = with_record(standard_members("pkg", "2.0", extra=[
        Member(name="pkg/tool.sh", data=b"#!/bin/sh\n")]), f"{INFO}/RECORD")
    wheel = _wheel(tmp_path, members)
    rewritten = tmp_path / "exec" / wheel.name
    rewritten.parent.mkdir()
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(rewritten, "w") as out:
        for info in src.infolist():
            if info.filename == "pkg/tool.sh":
                info.external_attr = (stat.S_IFREG | 0o755) << 16
            out.writestr(info, src.read(info))
    unpacked = unpack_wheel(rewritten, tmp_path / "out", EXPECTED)
    tool = next(f for f in unpacked.files if f.path == "pkg/tool.sh")
    assert tool.executable
    assert (tmp_path / "out" / "pkg" / "tool.sh").stat().st_mode & 0o100
