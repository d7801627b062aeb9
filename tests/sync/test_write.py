"""Writing a checked placement: linked or copied, never through a link, RECORD last."""

from __future__ import annotations

import csv
import errno
import os
from pathlib import Path

import pytest

from crosspin.sync import Target
from crosspin.sync._checks import file_hash
from crosspin.sync._place import check_placements, layout
from crosspin.sync._write import Linker, write_placement
from fixtures.hostile import Member
from tests.sync.conftest import UnpackFactory

EXTRA = [Member(name="pkg-2.0.data/scripts/tool", data=b"#!python\nprint('tool')\n"),
         Member(name="pkg-2.0.dist-info/entry_points.txt",
                data=b"[console_scripts]\npkg = pkg:main\n")]


def _install(target: Target, unpacked: UnpackFactory, linker: Linker) -> Path:
    made = unpacked(extra=EXTRA)
    placement = check_placements([layout(made, target, None)], target, removed=(),
                                 repairing=(), owned=frozenset)[0]
    write_placement(placement, linker)
    return Path(target.scheme["purelib"]) / "pkg-2.0.dist-info"


@pytest.mark.parametrize("mode", ["hardlink", "copy"])
def test_installed_files_match_their_record(target: Target, unpacked: UnpackFactory,
                                            mode: str) -> None:
    """Every RECORD row names a file whose bytes hash to it; RECORD lists itself unhashed."""
    info = _install(target, unpacked, Linker(mode))  # type: ignore[arg-type]
    site = info.parent
    rows = list(csv.reader((info / "RECORD").read_text().splitlines()))
    paths = {row[0] for row in rows}
    assert {"pkg/__init__.py", "pkg-2.0.dist-info/INSTALLER", "pkg-2.0.dist-info/RECORD",
            "../../../bin/pkg", "../../../bin/tool"} <= paths
    for path, digest, size in rows:
        if path.endswith("RECORD"):
            assert (digest, size) == ("", "")
            continue
        full = os.path.normpath(site / path)
        assert file_hash(full) == digest and Path(full).stat().st_size == int(size)
    tool = Path(target.scheme["scripts"]) / "tool"
    assert tool.read_bytes().startswith(f"#!{target.executable}\n".encode())
    assert os.access(tool, os.X_OK) and os.access(Path(target.scheme["scripts"]) / "pkg", os.X_OK)


def test_hardlinks_share_the_unpacked_file(target: Target, unpacked: UnpackFactory) -> None:
    """In hardlink mode the installed file is the unpacked one (same inode)."""
    made = unpacked()
    placement = layout(made, target, None)
    write_placement(placement, Linker("hardlink"))
    source = made.root / "pkg" / "__init__.py"
    assert source.samefile(Path(target.scheme["purelib"]) / "pkg" / "__init__.py")


def test_a_link_in_the_way_is_replaced_not_followed(target: Target, unpacked: UnpackFactory,
                                                    tmp_path: Path) -> None:
    """A symlink where a file goes is replaced by the file; what it pointed to is untouched."""
    victim = tmp_path / "victim.txt"
    victim.write_text("keep\n")
    folder = Path(target.scheme["purelib"]) / "pkg"
    folder.mkdir()
    (folder / "__init__.py").symlink_to(victim)
    for mode in ("hardlink", "copy"):
        write_placement(layout(unpacked(), target, None), Linker(mode))
        assert not (folder / "__init__.py").is_symlink()
        assert victim.read_text() == "keep\n"


def test_auto_copies_when_links_cross_filesystems(target: Target, unpacked: UnpackFactory,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """``auto``: the first EXDEV switches the run to copies, and the install completes."""

    def no_link(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", no_link)
    linker = Linker("auto")
    _install(target, unpacked, linker)
    assert linker.used in ("clone", "copy")  # clone where the filesystem can (btrfs, xfs)
    with pytest.raises(OSError):
        Linker("hardlink").place(__file__, str(Path(target.prefix) / "x"))
