"""Reusing the last lock when nothing changed (crosspin.pipeline._memo), else resolving again."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import compile_in, make_project

REUSED = "reused the last resolution"

PACKAGES: dict[str, Any] = {
    "app": {"1.0.0": {"requires": ["lib>=1"], "requires_python": ">=3.8"}},
    "lib": {"1.0.0": {"requires_python": ">=3.8"}},
}


@pytest.fixture(autouse=True)
def _memo_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROSSPIN_MEMO", "1")


def _primed(make_index: Any, tmp_path: Path, *args: str) -> Any:
    """An index and a folder where the same compile ran twice; the second reused the first.

    The first run has no output yet; it stores its lock under its own key and
    under the key of a rerun that reads that lock as existing pins (a rerun
    gives the same lock), so the very next run reuses it.
    """
    server = make_index(PACKAGES)
    (tmp_path / "requirements.in").write_text("app\n", encoding="utf-8")
    for run in range(2):
        result = compile_in(server, tmp_path, *args)
        assert result.code == 0, result.stderr
        assert (REUSED in result.stderr) == (run == 1), result.stderr
    return server


def _lock(tmp_path: Path) -> str:
    return (tmp_path / "requirements.txt").read_text(encoding="utf-8")


def test_an_unchanged_rerun_reuses_the_lock_without_metadata_requests(
    make_index: Any, tmp_path: Path
) -> None:
    """Same inputs, output and index: the stored lock, byte-identical, and only pages are read."""
    server = _primed(make_index, tmp_path)
    before, seen = _lock(tmp_path), len(server.requests)
    result = compile_in(server, tmp_path)
    assert result.code == 0, result.stderr
    assert REUSED in result.stderr
    assert _lock(tmp_path) == before
    assert all("/simple/" in r.path for r in server.requests[seen:])


def test_reused_lock_equals_a_fresh_resolution(
    make_index: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What reuse writes is what resolving again writes."""
    server = _primed(make_index, tmp_path, "--generate-hashes")
    assert REUSED in compile_in(server, tmp_path, "--generate-hashes").stderr
    reused = _lock(tmp_path)
    monkeypatch.setenv("CROSSPIN_MEMO", "0")
    fresh = compile_in(server, tmp_path, "--generate-hashes")
    assert REUSED not in fresh.stderr
    assert _lock(tmp_path) == reused


def test_offline_rerun_reuses_from_the_cache(make_index: Any, tmp_path: Path) -> None:
    """--offline reuses the lock when the cached pages read the same; the index is not asked."""
    server = _primed(make_index, tmp_path)
    seen = len(server.requests)
    result = compile_in(server, tmp_path, "--offline")
    assert REUSED in result.stderr, result.stderr
    assert len(server.requests) == seen


def _edit_input(tmp_path: Path, server: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    (tmp_path / "requirements.in").write_text("app\nlib<2\n", encoding="utf-8")
    return []


def _edit_output(tmp_path: Path, server: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    path = tmp_path / "requirements.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("# via", "#   via"), "utf-8")
    return []


def _new_option(tmp_path: Path, server: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return ["--generate-hashes"]


def _new_release(tmp_path: Path, server: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    newer = {**PACKAGES, "lib": {**PACKAGES["lib"], "2.0.0": {"requires_python": ">=3.8"}}}
    from fixtures.builder import build_index

    built = build_index(newer, tmp_path / "newer-index")
    shutil.copytree(built.root, server.roots[""], dirs_exist_ok=True)
    return ["--upgrade"]


def _environment(tmp_path: Path, server: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("CROSSPIN_REPLAY", "0")
    return []


CHANGES = {
    "requirements.in edited": _edit_input,
    "output edited by hand": _edit_output,
    "an option added": _new_option,
    "a new release on the index": _new_release,
    "a CROSSPIN_ variable set": _environment,
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=list(CHANGES))
def test_any_change_resolves_again(
    change: Any, make_index: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inputs, the output's pins, options, the index and CROSSPIN_ settings all count."""
    monkeypatch.delenv("CROSSPIN_REPLAY", raising=False)
    args = ["--upgrade"] if change is _new_release else []
    server = _primed(make_index, tmp_path, *args)
    extra = change(tmp_path, server, monkeypatch)
    result = compile_in(server, tmp_path, *extra)
    assert result.code == 0, result.stderr
    assert REUSED not in result.stderr
    if change is _new_release:
        assert "lib==2.0.0" in _lock(tmp_path)


def test_direct_references_are_always_resolved(make_index: Any, tmp_path: Path) -> None:
    """A local tree may change under the same name: such inputs are never reused."""
    server = make_index(PACKAGES)
    make_project(tmp_path / "mylib", "mylib", "1.0", ["lib"])
    (tmp_path / "requirements.in").write_text("./mylib\n", encoding="utf-8")
    for _ in range(3):
        result = compile_in(server, tmp_path)
        assert result.code == 0, result.stderr
        assert REUSED not in result.stderr


def test_memo_off_and_refresh_always_resolve(
    make_index: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--refresh and CROSSPIN_MEMO=0 resolve again even when nothing changed."""
    server = _primed(make_index, tmp_path)
    assert REUSED not in compile_in(server, tmp_path, "--refresh").stderr
    monkeypatch.setenv("CROSSPIN_MEMO", "0")
    assert REUSED not in compile_in(server, tmp_path).stderr


def test_unused_entries_are_pruned_when_a_neighbour_is_stored(tmp_path: Path) -> None:
    """A stored lock unused for 30 days goes away when another lands beside it."""
    import os
    import time

    from crosspin.pipeline._memo import Memo

    class _Sources:
        def source_digests(self) -> dict[str, str]:
            return {"https://idx.test/simple/a/": "d1"}

        def current_digest(self, key: str) -> str:
            return "d1"

    folder = tmp_path / "memo" / "ab"
    folder.mkdir(parents=True)
    stale, kept = folder / ("ab" + "0" * 62 + ".json"), folder / ("ab" + "1" * 62 + ".json")
    for path, days in ((stale, 31), (kept, 29)):
        path.write_text("{}", encoding="utf-8")
        when = time.time() - days * 24 * 3600
        os.utime(path, (when, when))
    memo = Memo(path=folder / ("ab" + "2" * 62 + ".json"))
    memo.store(_Sources(), "text\n", "Locked 1 package")
    output = tmp_path / "requirements.txt"
    output.write_text("text\n", encoding="utf-8")
    assert memo.lookup(_Sources(), output) == ("text\n", "Locked 1 package")
    assert not stale.exists() and kept.exists()


def test_an_entry_holds_a_digest_of_the_lock_and_reuses_only_the_same_output(
    tmp_path: Path,
) -> None:
    """The memo never holds lock text: it reuses a lock only while the output still is it."""
    from crosspin.pipeline._memo import Memo

    class _Sources:
        def source_digests(self) -> dict[str, str]:
            return {"https://idx.test/simple/a/": "d1"}

        def current_digest(self, key: str) -> str:
            return "d1"

    memo = Memo(path=tmp_path / "memo" / "ab" / ("ab" + "2" * 62 + ".json"))
    memo.store(_Sources(), "a==1.0\n", "Locked 1 package")
    assert "a==1.0" not in memo.path.read_text(encoding="utf-8")
    output = tmp_path / "requirements.txt"
    assert memo.lookup(_Sources(), output) is None  # no output: nothing to reuse
    output.write_text("a==1.0\nevil==6.6.6\n", encoding="utf-8")
    assert memo.lookup(_Sources(), output) is None  # another text: resolve again
    output.write_text("a==1.0\n", encoding="utf-8")
    assert memo.lookup(_Sources(), output) == ("a==1.0\n", "Locked 1 package")


def test_find_links_folders_count_with_their_files(make_index: Any, tmp_path: Path) -> None:
    """A find-links folder is part of what was read: a file added there resolves again."""
    from tests.helpers import ONE_ENV, run_cli

    older = make_index.build(PACKAGES)
    newer = make_index.build({**PACKAGES, "lib": {**PACKAGES["lib"],
                                                  "2.0.0": {"requires_python": ">=3.8"}}})
    links = tmp_path / "wheels"
    links.mkdir()
    for (_name, _version), paths in older.files.items():
        for path in paths:
            shutil.copy(path, links)
    (tmp_path / "requirements.in").write_text("--no-index\napp\n", encoding="utf-8")
    args = ["compile", "--isolated", "--find-links", str(links), "--cache-dir",
            str(tmp_path / ".cache"), *ONE_ENV, "--upgrade", "requirements.in"]
    for run in range(3):
        result = run_cli(args, cwd=tmp_path)
        assert result.code == 0, result.stderr
        assert (REUSED in result.stderr) == (run > 0)
    for path in newer.files[("lib", "2.0.0")]:
        shutil.copy(path, links)
    result = run_cli(args, cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert REUSED not in result.stderr
    assert "lib==2.0.0" in _lock(tmp_path)


def test_pylock_rerun_is_reused_and_equals_a_fresh_resolution(
    make_index: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """-o pylock.toml takes the default path too: the second run reuses, byte-identical."""
    server = make_index(PACKAGES)
    (tmp_path / "requirements.in").write_text("app\n", encoding="utf-8")
    for run in range(3):
        result = compile_in(server, tmp_path, "-o", "pylock.toml")
        assert result.code == 0, result.stderr
        assert (REUSED in result.stderr) == (run >= 1), (run, result.stderr)
    reused = (tmp_path / "pylock.toml").read_bytes()
    assert reused.startswith(b'lock-version = "1.0"')
    monkeypatch.setenv("CROSSPIN_MEMO", "0")
    assert REUSED not in compile_in(server, tmp_path, "-o", "pylock.toml").stderr
    assert (tmp_path / "pylock.toml").read_bytes() == reused
    # The other format of the same inputs and output name is its own entry.
    monkeypatch.setenv("CROSSPIN_MEMO", "1")
    for fmt in ("pylock", "requirements"):
        (tmp_path / "lock.out").unlink(missing_ok=True)  # no existing pins: same key but format
        result = compile_in(server, tmp_path, "-o", "lock.out", "--format", fmt)
        assert result.code == 0, result.stderr
        assert REUSED not in result.stderr
    assert (tmp_path / "lock.out").read_text(encoding="utf-8").startswith("#")


LAYERED: dict[str, Any] = {
    "app": {"1.0.0": {"requires": ["lib>=1"], "requires_python": ">=3.8"}},
    "lib": {"1.0.0": {"requires_python": ">=3.8"}, "2.0.0": {"requires_python": ">=3.8"}},
    "tool": {"1.0.0": {"requires": ["lib"], "requires_python": ">=3.8"}},
}


def test_several_in_files_reuse_each_and_follow_the_constraint_file(
    make_index: Any, tmp_path: Path
) -> None:
    """main.in, dev.in (-c main.txt): reused together; a changed main.txt re-resolves dev.in."""
    server = make_index(LAYERED)
    (tmp_path / "main.in").write_text("app\n", encoding="utf-8")
    (tmp_path / "dev.in").write_text("-c main.txt\ntool\n", encoding="utf-8")
    for run in range(3):
        result = compile_in(server, tmp_path, "dev.in", "main.in")
        assert result.code == 0, result.stderr
        assert result.stderr.count(REUSED) == (2 if run >= 1 else 0), (run, result.stderr)
    main = (tmp_path / "main.txt").read_text(encoding="utf-8")
    assert "\nlib==2.0.0\n" in main
    assert "\nlib==2.0.0\n" in (tmp_path / "dev.txt").read_text(encoding="utf-8")
    # main.in caps lib: main.txt changes, so dev.in (which reads it) must resolve again.
    (tmp_path / "main.in").write_text("app\nlib<2\n", encoding="utf-8")
    result = compile_in(server, tmp_path, "dev.in", "main.in")
    assert result.code == 0, result.stderr
    assert REUSED not in result.stderr, result.stderr
    assert "\nlib==1.0.0\n" in (tmp_path / "main.txt").read_text(encoding="utf-8")
    assert "\nlib==1.0.0\n" in (tmp_path / "dev.txt").read_text(encoding="utf-8")
