"""The sync run as a whole: nothing is imported once the target starts changing; repairs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.hostile import (
    Artefact,
    HostileIndex,
    Member,
    good_metadata,
    standard_members,
    wheel_bytes_from,
    with_record,
)
from tests.helpers.hostile import compile_lock, isolated_env, make_venv, run_crosspin, site_packages

pytestmark = pytest.mark.slow

# Runs crosspin with a meta-path hook that notes every import made after the
# target's first change (a removal or a written wheel).
_WATCH = """\
import atexit, importlib.abc, json, os, sys
import crosspin.sync._run as run
late = []
state = {"changed": False}
class Late(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if state["changed"]:
            late.append(name)
        return None
sys.meta_path.insert(0, Late())
def watch(name):
    original = getattr(run, name)
    def wrapped(*args, **kwargs):
        state["changed"] = True
        return original(*args, **kwargs)
    setattr(run, name, wrapped)
watch("remove")
watch("write_placement")
atexit.register(lambda: open(os.environ["LATE_FILE"], "w").write(json.dumps(late)))
from crosspin.cli import main
main(sys.argv[1:])
"""


def _rich_wheel(name: str, version: str) -> Artefact:
    """A wheel with a console script, a ``.data/scripts`` file and a data file."""
    stem = f"{name}-{version}"
    extra = [Member(name=f"{stem}.dist-info/entry_points.txt",
                    data=f"[console_scripts]\n{name}-cli = {name}:__version__\n".encode()),
             Member(name=f"{stem}.data/scripts/{name}-tool", data=b"#!python\nprint(1)\n"),
             Member(name=f"{stem}.data/data/share/{name}/x.txt", data=b"x\n")]
    members = with_record(standard_members(name, version, extra=extra), f"{stem}.dist-info/RECORD")
    return Artefact(filename=f"{stem}-py3-none-any.whl", data=wheel_bytes_from(members),
                    metadata=good_metadata(name, version))


def test_nothing_is_imported_after_the_first_change(tmp_path: Path) -> None:
    """A sync that removes, replaces and installs (scripts, data) imports all it needs first.

    (A sync into crosspin's own venv once removed 21 packages, then crashed
    importing ``installer``.)
    """
    index = HostileIndex(tmp_path / "index")
    index.add_good("gone", "1.0")
    index.add("pkg", _rich_wheel("pkg", "1.0"))
    index.add("pkg", _rich_wheel("pkg", "2.0"))
    with index.serve(api="json") as server:
        old = compile_lock(server.index_url, tmp_path / "old", ["gone==1.0", "pkg==1.0"])
        new = compile_lock(server.index_url, tmp_path / "new", ["pkg==2.0"])
        python = make_venv(tmp_path / "venv")
        args = ["--python", str(python), "--isolated", "--no-cache"]
        assert run_crosspin(["sync", str(old), *args], cwd=tmp_path).code == 0
        late = tmp_path / "late.json"
        env = isolated_env(LATE_FILE=str(late))
        done = subprocess.run([sys.executable, "-c", _WATCH, "sync", str(new), *args],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(late.read_text()) == []
    site = site_packages(tmp_path / "venv")
    assert (site / "pkg-2.0.dist-info" / "RECORD").is_file()
    assert not (site / "gone-1.0.dist-info").exists()
    assert (tmp_path / "venv" / "bin" / "pkg-tool").read_text().startswith(f"#!{python}")


def test_a_killed_install_of_another_version_is_repaired(tmp_path: Path) -> None:
    """``pkg-2.0.dist-info`` without RECORD (killed) and the lock now wants 3.0:
    3.0 is installed over the leftovers and the broken dist-info goes."""
    index = HostileIndex(tmp_path / "index")
    for version in ("2.0", "3.0"):
        index.add("pkg", _rich_wheel("pkg", version))
    with index.serve(api="json") as server:
        two = compile_lock(server.index_url, tmp_path / "two", ["pkg==2.0"])
        three = compile_lock(server.index_url, tmp_path / "three", ["pkg==3.0"])
        python = make_venv(tmp_path / "venv")
        args = ["--python", str(python), "--isolated", "--no-cache"]
        assert run_crosspin(["sync", str(two), *args], cwd=tmp_path).code == 0
        site = site_packages(tmp_path / "venv")
        (site / "pkg-2.0.dist-info" / "RECORD").unlink()
        done = run_crosspin(["sync", str(three), *args], cwd=tmp_path)
        again = run_crosspin(["sync", str(three), *args], cwd=tmp_path)
    assert done.code == 0, str(done)
    assert sorted(p.name for p in site.glob("pkg-*.dist-info")) == ["pkg-3.0.dist-info"]
    assert "Everything up to date" in again.stderr, str(again)

