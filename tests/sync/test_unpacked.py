"""The unpacked-wheel cache: stored once when verified, used only while whole, pruned safely."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from crosspin.errors import WheelError
from crosspin.sync._unpacked import MAX_AGE, UnpackedCache
from crosspin.sync._wheel import Expected
from fixtures.hostile import Artefact, wheel_good, wheel_symlink_member

PKG = Expected(name=canonicalize_name("pkg"), version=Version("2.0"))


def _wheel(tmp_path: Path, artefact: Artefact) -> tuple[Path, str]:
    path = tmp_path / "wheels" / artefact.filename
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(artefact.data)
    return path, hashlib.sha256(artefact.data).hexdigest()


@pytest.fixture
def cache(tmp_path: Path) -> UnpackedCache:
    return UnpackedCache(tmp_path / "unpacked")


def test_a_stored_wheel_is_found_by_its_hash(tmp_path: Path, cache: UnpackedCache) -> None:
    """Unpacked once, then found (same files) by sha256; another project's pin does not match."""
    wheel, sha = _wheel(tmp_path, wheel_good("pkg", "2.0"))
    assert cache.lookup(sha, PKG) is None
    stored = cache.unpack(wheel, sha, PKG)
    found = cache.lookup(sha, PKG)
    assert found is not None and found.files == stored.files and found.root == stored.root
    assert (found.root / "pkg" / "__init__.py").is_file()
    assert cache.lookup(sha, Expected(name=canonicalize_name("other"))) is None


def test_a_malformed_wheel_never_gets_an_entry(tmp_path: Path, cache: UnpackedCache) -> None:
    """A refused wheel leaves nothing behind: the next sync checks it again, from the archive."""
    wheel, sha = _wheel(tmp_path, wheel_symlink_member("pkg", "2.0"))
    with pytest.raises(WheelError, match="symbolic link"):
        cache.unpack(wheel, sha, PKG)
    assert cache.lookup(sha, PKG) is None
    assert [p.name for p in cache.root.rglob("*") if p.name != ".lock"] == [sha[:2]]


@pytest.mark.parametrize("damage", ["append", "truncate", "replace-with-link", "delete"])
def test_a_changed_file_discards_the_entry(tmp_path: Path, cache: UnpackedCache,
                                           damage: str) -> None:
    """A file edited in place (through a hardlinked install), truncated, replaced or gone:
    the entry is not used again, and the wheel is unpacked afresh."""
    wheel, sha = _wheel(tmp_path, wheel_good("pkg", "2.0"))
    stored = cache.unpack(wheel, sha, PKG)
    target = stored.root / "pkg" / "__init__.py"
    if damage == "append":
        with target.open("ab") as fh:
            fh.write(b"print('edited')\n")
    elif damage == "truncate":
        os.truncate(target, 0)
    elif damage == "replace-with-link":
        target.unlink()
        target.symlink_to("/etc/hostname")
    else:
        target.unlink()
    assert cache.lookup(sha, PKG) is None
    again = cache.unpack(wheel, sha, PKG)
    assert (again.root / "pkg" / "__init__.py").read_bytes() == b'__version__ = "2.0"\n'


def test_a_tampered_manifest_is_not_trusted(tmp_path: Path, cache: UnpackedCache) -> None:
    """A manifest naming ``../`` paths (or not parsing) makes the entry a miss."""
    wheel, sha = _wheel(tmp_path, wheel_good("pkg", "2.0"))
    cache.unpack(wheel, sha, PKG)
    manifest = cache.root / sha[:2] / sha / "manifest.json"
    data = json.loads(manifest.read_text())
    data["files"][0][0] = "../../../escape.py"
    manifest.write_text(json.dumps(data))
    assert cache.lookup(sha, PKG) is None
    assert cache.lookup("../" + sha[3:], PKG) is None


def test_a_manifest_row_of_the_wrong_kind_is_not_trusted(tmp_path: Path,
                                                         cache: UnpackedCache) -> None:
    """A file row whose size is text, or that has a field too few, is a miss as well."""
    wheel, sha = _wheel(tmp_path, wheel_good("pkg", "2.0"))
    cache.unpack(wheel, sha, PKG)
    manifest = cache.root / sha[:2] / sha / "manifest.json"
    good = json.loads(manifest.read_text())
    for row in ([*good["files"][0][:2], str(good["files"][0][2]), *good["files"][0][3:]],
                good["files"][0][:4]):
        manifest.write_text(json.dumps({**good, "files": [row, *good["files"][1:]]}))
        assert cache.lookup(sha, PKG) is None
        cache.unpack(wheel, sha, PKG)


def test_two_syncs_storing_one_wheel_share_one_entry(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Another sync stores the same wheel while this one unpacks it: its entry is used."""
    wheel, sha = _wheel(tmp_path, wheel_good("pkg", "2.0"))
    first = UnpackedCache(tmp_path / "u").unpack(wheel, sha, PKG)
    entry = tmp_path / "u" / sha[:2] / sha
    aside = entry.with_name("aside")
    entry.rename(aside)
    real_rename = os.rename

    def other_sync_first(src: str, dst: str) -> None:
        if aside.exists():
            real_rename(aside, entry)  # the other sync's entry lands first
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", other_sync_first)
    second = UnpackedCache(tmp_path / "u").unpack(wheel, sha, PKG)
    monkeypatch.undo()
    assert second.root == first.root
    assert not [p for p in entry.parent.iterdir() if p.name.startswith(".tmp-")]


def test_pruning_removes_old_entries_unless_a_sync_uses_the_cache(tmp_path: Path) -> None:
    """Entries unused for MAX_AGE days go when another is stored; never under a running sync."""
    old, old_sha = _wheel(tmp_path, wheel_good("old", "1.0"))
    new, new_sha = _wheel(tmp_path, wheel_good("new", "1.0"))
    cache = UnpackedCache(tmp_path / "u")
    cache.unpack(old, old_sha, Expected())
    manifest = tmp_path / "u" / old_sha[:2] / old_sha / "manifest.json"
    past = time.time() - (MAX_AGE + 1) * 86400
    os.utime(manifest, (past, past))
    with UnpackedCache(tmp_path / "u").in_use():
        cache.prune()  # another sync holds the cache: nothing goes
        assert manifest.exists()
    with UnpackedCache(tmp_path / "u").in_use() as using:
        using.unpack(new, new_sha, Expected())
    assert not manifest.exists()
    assert UnpackedCache(tmp_path / "u").lookup(new_sha, Expected()) is not None
