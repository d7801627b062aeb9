"""Where a wheel's files go, and what the target must look like before any is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from crosspin.errors import WheelError
from crosspin.sync import Target
from crosspin.sync._place import Origin, Placement, check_placements, layout
from fixtures.hostile import Member
from tests.sync.conftest import UnpackFactory


def _site(target: Target) -> Path:
    return Path(target.scheme["purelib"])


def _check(target: Target, *placements: Placement, removed: frozenset[str] = frozenset(),
           owned: frozenset[str] = frozenset(), repairing: frozenset[str] = frozenset()
           ) -> list[Placement]:
    return check_placements(list(placements), target, removed=removed, repairing=repairing,
                            owned=lambda: owned)


def _refused(target: Target, placement: Placement, **kwargs: frozenset[str]) -> str:
    with pytest.raises(WheelError) as caught:
        _check(target, placement, **kwargs)
    return caught.value.reason


def test_layout_maps_every_scheme(target: Target, unpacked: UnpackFactory) -> None:
    """Package files to site-packages, .data members to their scheme, launchers and
    INSTALLER/direct_url.json written by crosspin."""
    extra = [Member(name="pkg-2.0.data/scripts/tool", data=b"#!python\nprint(1)\n"),
             Member(name="pkg-2.0.data/data/share/pkg/x.txt", data=b"x"),
             Member(name="pkg-2.0.dist-info/entry_points.txt",
                    data=b"[console_scripts]\npkg = pkg:main\n")]
    placement = layout(unpacked(extra=extra), target,
                       Origin(url="https://x/pkg.whl", archive_hash="sha256:ab"))
    site, venv = _site(target), Path(target.prefix)
    assert {d for _, d in placement.files} == {
        str(site / "pkg/__init__.py"), str(site / "pkg-2.0.dist-info/METADATA"),
        str(site / "pkg-2.0.dist-info/WHEEL"), str(site / "pkg-2.0.dist-info/entry_points.txt"),
        str(venv / "share/pkg/x.txt")}
    assert [d for _, d in placement.rewrite] == [str(venv / "bin/tool")]
    generated = {d: c for d, c, _ in placement.generated}
    assert str(venv / "bin/pkg") in generated
    assert generated[str(site / "pkg-2.0.dist-info/INSTALLER")] == b"crosspin\n"
    assert b'"sha256=ab"' in generated[str(site / "pkg-2.0.dist-info/direct_url.json")]


def test_an_empty_target_accepts_a_wheel(target: Target, unpacked: UnpackFactory) -> None:
    """Nothing is in the way: the placement passes unchanged."""
    placement = layout(unpacked(), target, None)
    assert _check(target, placement) == [placement]


def test_a_linked_folder_leading_out_is_refused(target: Target, unpacked: UnpackFactory,
                                                tmp_path: Path) -> None:
    """``site-packages/pkg`` -> a folder outside: writing through it is refused."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (_site(target) / "pkg").symlink_to(outside, target_is_directory=True)
    reason = _refused(target, layout(unpacked(), target, None))
    assert "is a link to" in reason and str(outside) in reason


def test_a_linked_folder_inside_its_scheme_is_followed(target: Target,
                                                       unpacked: UnpackFactory) -> None:
    """A link that stays inside the scheme's folder (``lib64 -> lib``) is fine."""
    real = _site(target) / "real"
    real.mkdir()
    (_site(target) / "pkg").symlink_to(real, target_is_directory=True)
    _check(target, layout(unpacked(), target, None))


def test_a_file_where_a_folder_is_needed_is_refused(target: Target,
                                                   unpacked: UnpackFactory) -> None:
    """``site-packages/pkg`` is a file: the package folder cannot be made."""
    (_site(target) / "pkg").write_text("")
    assert "where it needs a folder" in _refused(target, layout(unpacked(), target, None))


def test_data_files_never_replace_the_interpreter(target: Target,
                                                 unpacked: UnpackFactory) -> None:
    """``.data/data/bin/python3`` lands in the scripts folder under a reserved name."""
    extra = [Member(name="pkg-2.0.data/data/bin/python3", data=b"evil")]
    assert "interpreter" in _refused(target, layout(unpacked(extra=extra), target, None))


def test_an_unowned_file_outside_the_wheels_folders_is_not_replaced(
    target: Target, unpacked: UnpackFactory
) -> None:
    """A script nobody owns (the user's own ``bin/tool``) is never overwritten."""
    extra = [Member(name="pkg-2.0.data/scripts/tool", data=b"#!python\n")]
    (Path(target.prefix) / "bin" / "tool").write_text("mine\n")
    placement = layout(unpacked(extra=extra), target, None)
    assert "no installed package owns" in _refused(target, placement)


def test_replacing_what_is_explained_is_allowed(target: Target, unpacked: UnpackFactory) -> None:
    """Files owned by another package, removed first, or inside the wheel's own folders
    (a killed install's leftovers) may be replaced; so may any file while a RECORD-less
    install of the same project is repaired."""
    extra = [Member(name="pkg-2.0.data/scripts/tool", data=b"#!python\n")]
    tool = Path(target.prefix) / "bin" / "tool"
    tool.write_text("old\n")
    placement = layout(unpacked(extra=extra), target, None)
    (_site(target) / "pkg").mkdir()
    (_site(target) / "pkg" / "__init__.py").write_text("leftover\n")
    _check(target, placement, owned=frozenset({str(tool)}))
    _check(target, placement, removed=frozenset({str(tool)}))
    _check(target, placement, repairing=frozenset({"pkg"}))


def test_a_file_with_the_very_bytes_is_replaceable(target: Target,
                                                  unpacked: UnpackFactory) -> None:
    """A leftover identical to what the wheel writes (a killed install of it) is fine."""
    made = unpacked(extra=[Member(name="top.py", data=b"x = 1\n")])
    (_site(target) / "top.py").write_bytes(b"x = 1\n")
    _check(target, layout(made, target, None))
    (_site(target) / "top.py").write_bytes(b"x = 2\n")
    assert "top.py" in _refused(target, layout(made, target, None))


def test_files_two_wheels_write_are_written_once(target: Target,
                                                 unpacked: UnpackFactory) -> None:
    """Two wheels shipping one path: the later one writes it, both record it."""
    shared = Member(name="share.txt", data=b"same\n")
    first = layout(unpacked("a", "1.0", extra=[shared]), target, None)
    second = layout(unpacked("b", "1.0", extra=[shared]), target, None)
    checked = _check(target, first, second)
    path = str(Path(target.scheme["purelib"]) / "share.txt")
    assert path in checked[0].skip and path not in checked[1].skip
