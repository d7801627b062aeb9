"""Sdists are read and unpacked within caps, and only plain files and folders are written."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from crosspin.errors import BuildError
from crosspin.metadata import SdistLimits, unpack_sdist
from crosspin.metadata._archives import read_sdist_files


def _tar(path: Path, members: list[tuple[str, bytes | None]], *,
         links: tuple[tuple[str, str], ...] = ()) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                archive.addfile(info)
            else:
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
        for name, target in links:
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            archive.addfile(info)
    return path


def test_project_files_are_read_without_unpacking(tmp_path: Path) -> None:
    """PKG-INFO and pyproject.toml from the top folder; nothing is written."""
    path = _tar(tmp_path / "a-1.0.tar.gz", [("a-1.0/PKG-INFO", b"info"),
                                            ("a-1.0/sub/PKG-INFO", b"nested"),
                                            ("a-1.0/pyproject.toml", b"toml")])
    found = read_sdist_files(path, ("PKG-INFO", "pyproject.toml"), name="a")
    assert found == {"PKG-INFO": b"info", "pyproject.toml": b"toml"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-1.0.tar.gz"]


def test_a_metadata_file_past_its_cap_is_left_out(tmp_path: Path) -> None:
    """A 2 KiB PKG-INFO with a 1 KiB cap: treated as absent (the caller builds)."""
    path = _tar(tmp_path / "a.tar.gz", [("a-1.0/PKG-INFO", b"x" * 2048)])
    assert read_sdist_files(path, ("PKG-INFO",), name="a", limits=SdistLimits(file=1024)) == {}


@pytest.mark.parametrize(("limits", "reason"), [
    (SdistLimits(size=1000), "unpacks to more than 1000 bytes"),
    (SdistLimits(members=3), "has more than 3 members"),
])
def test_caps_hold_before_anything_is_written(
    tmp_path: Path, limits: SdistLimits, reason: str
) -> None:
    """Past the size or member cap: a BuildError naming the sdist, and an empty destination."""
    path = _tar(tmp_path / "a-1.0.tar.gz", [("a-1.0/", None)] + [
        (f"a-1.0/f{i}", b"0" * 600) for i in range(4)])
    with pytest.raises(BuildError) as caught:
        unpack_sdist(path, tmp_path / "out", "a", version="1.0", limits=limits)
    assert str(caught.value).startswith(f"cannot build a 1.0 (a-1.0.tar.gz): the sdist {reason}")
    assert list((tmp_path / "out").iterdir()) == []


def test_the_caps_also_bound_reading_metadata(tmp_path: Path) -> None:
    """Looking for PKG-INFO past a bomb stops at the cap, not at the end of the archive."""
    path = _tar(tmp_path / "a.tar.gz", [("a-1.0/big", b"0" * 5000), ("a-1.0/PKG-INFO", b"x")])
    with pytest.raises(BuildError, match="unpacks to more than"):
        read_sdist_files(path, ("PKG-INFO",), name="a", limits=SdistLimits(size=4096))


def test_links_are_skipped_and_files_kept(tmp_path: Path) -> None:
    """A symbolic link in an sdist is not written (it could point anywhere); the rest is."""
    path = _tar(tmp_path / "a.tar.gz", [("a-1.0/setup.py", b"pass\n")],
                links=(("a-1.0/LICENSE", "/etc/passwd"),))
    tree = unpack_sdist(path, tmp_path / "out", "a")
    assert sorted(p.name for p in tree.iterdir()) == ["setup.py"]


@pytest.mark.parametrize("name", ["../evil", "/abs/evil", "a-1.0/../../evil", "C:/evil"])
def test_members_outside_the_archive_are_refused(tmp_path: Path, name: str) -> None:
    """Absolute paths, '..' and drive letters: refused before anything is written."""
    path = _tar(tmp_path / "a.tar.gz", [(name, b"x")])
    with pytest.raises(BuildError, match="points outside the archive"):
        unpack_sdist(path, tmp_path / "out", "a")
    assert list((tmp_path / "out").iterdir()) == []


def test_a_file_that_is_also_a_folder_is_refused(tmp_path: Path) -> None:
    """'a-1.0/pkg' as a file and as a folder: one BuildError, no NotADirectoryError."""
    path = _tar(tmp_path / "a.tar.gz", [("a-1.0/pkg", b"x"), ("a-1.0/pkg/__init__.py", b"")])
    with pytest.raises(BuildError, match=r"'a-1\.0/pkg' is both a file and a folder"):
        unpack_sdist(path, tmp_path / "out", "a")


def test_not_an_archive(tmp_path: Path) -> None:
    """An HTML error page saved as .tar.gz: one BuildError saying so."""
    path = tmp_path / "a-1.0.tar.gz"
    path.write_bytes(b"<html>502</html>")
    with pytest.raises(BuildError, match="not a tar or zip archive"):
        read_sdist_files(path, ("PKG-INFO",), name="a", version="1.0")


def test_a_truncated_archive_is_corrupt(tmp_path: Path) -> None:
    """A .tar.gz cut in half: a BuildError, not EOFError."""
    path = _tar(tmp_path / "a-1.0.tar.gz", [(f"a-1.0/f{i}", bytes(range(256)) * 40)
                                            for i in range(20)])
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(BuildError, match=r"sdist archive is corrupt|not a tar or zip"):
        unpack_sdist(path, tmp_path / "out", "a")


def test_zip_sdists(tmp_path: Path) -> None:
    """Old .zip sdists: read and unpacked the same way, their declared sizes capped."""
    path = tmp_path / "a-1.0.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a-1.0/PKG-INFO", b"info")
        archive.writestr("a-1.0/a/__init__.py", b"")
    assert read_sdist_files(path, ("PKG-INFO",), name="a") == {"PKG-INFO": b"info"}
    tree = unpack_sdist(path, tmp_path / "out", "a")
    assert (tree / "a" / "__init__.py").is_file()
    with pytest.raises(BuildError, match="unpacks to more than 2 bytes"):
        unpack_sdist(path, tmp_path / "out2", "a", limits=SdistLimits(size=2))
