"""Issue 13, part 1: nothing an index says becomes a path, a credential or a trusted fact.

Each test serves a crafted index (``fixtures.hostile``) on 127.0.0.1 and
runs ``crosspin`` as a user would, in a subprocess. Tests of holes still
open are strict xfails naming what is missing; each was checked to fail
because the hole is real (the file does land outside the cache, the
poisoned metadata does reach the lock...), not because the test is broken.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from pathlib import Path
from typing import Any, Callable

import attrs
import pytest

from fixtures.hostile import (
    Artefact,
    HostileIndex,
    deep_json_page,
    good_metadata,
    json_meta_list_page,
    sdist_with_build_requires,
    wheel_good,
)
from fixtures.server import Request, Response
from tests.helpers.hostile import (
    ONE_ENV,
    Run,
    argv_logging_env,
    assert_one_error,
    children_with,
    compile_run,
    isolated_env,
    run_crosspin,
)

ISSUE = "issue 13: "


def _compile(index_url: str, work: Path, requirements: str = "a\n", *args: str,
             env: dict[str, str] | None = None, timeout: float = 60) -> Run:
    """A compile with its cache in ``work/cache`` (the cache is under attack here)."""
    return compile_run(index_url, work, requirements, *args, cache=True, env=env,
                       timeout=timeout)


def _lock(work: Path) -> str:
    return (work / "requirements.txt").read_text()


def _tree(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


# --- index values never form paths


@pytest.mark.parametrize("api", ["html", "json"])
def test_path_like_hash_never_leaves_the_cache(
    hostile: HostileIndex, tmp_path: Path, api: str
) -> None:
    """A ``#sha256=../../x`` fragment (HTML) or ``hashes.sha256`` (JSON) writes nothing outside."""
    # <cache>/v1/metadata/sha256/<hash[:2]>/<hash>: ".." then four more steps up is tmp_path.
    escape = "../../../../escaped.pth"
    hostile.add("a", wheel_good("a", "1.0"), hashes={"sha256": escape})
    server = hostile.start(api=api)
    work = tmp_path / "work"
    before = _tree(tmp_path)
    run = _compile(server.index_url, work)
    created = {p for p in _tree(tmp_path) - before
               if not p.startswith("work/cache/") and p not in ("work", "work/cache",
                                                               "work/requirements.in",
                                                               "work/requirements.txt")}
    assert not (tmp_path / "escaped.pth").exists(), f"written outside the cache:\n{run}"
    assert not created, f"files outside the cache: {sorted(created)}"
    assert "Traceback" not in run.stderr, str(run)


def test_a_filename_with_a_path_is_not_offered(
    hostile: HostileIndex, tmp_path: Path
) -> None:
    """A JSON ``filename`` holding ``../`` names no file of the project: it is never used."""
    hostile.add_good("a", "1.0")
    sneaky = "../../../a-2.0.tar.gz"
    hostile.add("a", Artefact(filename="a-2.0.tar.gz", data=b"never fetched"), filename=sneaky)
    server = hostile.start(api="json")
    run = _compile(server.index_url, tmp_path / "work", "a\n", "--generate-hashes")
    assert run.code == 0, str(run)
    assert "a==1.0" in _lock(tmp_path / "work")
    assert not (tmp_path / "a-2.0.tar.gz").exists()


# --- the cache belongs to the index that filled it


def _poison(hostile: HostileIndex, honest_wheel: Any) -> None:
    """A mirror that claims the honest wheel's sha256 but serves metadata of its own."""
    evil = good_metadata("a", "1.0", requires=["evil"])
    claimed = hashlib.sha256(honest_wheel.data).hexdigest()
    hostile.add("a", attrs.evolve(honest_wheel, metadata=evil), hashes={"sha256": claimed})
    hostile.add_good("evil", "1.0")


@pytest.mark.parametrize("refresh", [False, True], ids=["cached", "refresh"])
def test_a_hostile_mirror_cannot_poison_a_later_compile(
    tmp_path: Path, refresh: bool
) -> None:
    """Metadata a mirror served under an honest hash never decides a later compile elsewhere."""
    honest = HostileIndex(tmp_path / "honest")
    wheel = wheel_good("a", "1.0")
    honest.add("a", wheel)
    mirror = HostileIndex(tmp_path / "mirror")
    _poison(mirror, wheel)
    work = tmp_path / "work"
    with mirror.serve(api="json") as bad:
        first = _compile(bad.index_url, work)
    assert first.code == 0 and "evil==1.0" in _lock(work), str(first)
    with honest.serve(api="json") as good:
        second = _compile(good.index_url, work, "a\n", *(["--refresh"] if refresh else []))
    assert second.code == 0, str(second)
    assert "evil" not in _lock(work)


def _honest_pair(tmp_path: Path) -> HostileIndex:
    index = HostileIndex(tmp_path / "index")
    index.add_good("a", "1.0", requires=["b"])
    index.add_good("b", "1.0")
    return index


def _cache_files(work: Path, kind: str) -> list[Path]:
    return [p for p in (work / "cache" / "v1" / kind).rglob("*") if p.is_file()]


def _recompile_after(tmp_path: Path, damage: Callable[[Path], None]) -> str:
    """Compile ``a`` (needs ``b``), ``damage(work)`` the cache, compile again: the new lock."""
    index = _honest_pair(tmp_path)
    work = tmp_path / "work"
    with index.serve(api="json") as server:
        assert _compile(server.index_url, work).code == 0
        assert "b==1.0" in _lock(work)
        damage(work)
        run = _compile(server.index_url, work)
    assert run.code == 0, str(run)
    return _lock(work)


def test_an_edited_parsed_metadata_entry_is_not_trusted(tmp_path: Path) -> None:
    """Dropping a dependency from the parsed-metadata cache does not drop it from the lock."""

    edited: list[Path] = []

    def edit(work: Path) -> None:
        for entry in _cache_files(work, "parsed"):
            # An entry may start with a line of its own (a digest): keep it as it was.
            raw = entry.read_bytes()
            head, _, body = raw.rpartition(b"\n") if not raw.startswith(b"{") else (b"", b"", raw)
            fields = json.loads(body)
            if fields.get("name") == "a" and fields.get("requires_dist"):
                fields["requires_dist"] = []
                entry.write_bytes(head + (b"\n" if head else b"") + json.dumps(fields).encode())
                edited.append(entry)

    assert "b==1.0" in _recompile_after(tmp_path, edit)
    assert edited, "no parsed-metadata entry of a was found to edit"


def test_a_truncated_metadata_entry_is_refetched(tmp_path: Path) -> None:
    """A METADATA cache entry cut short (a full disk, a bad copy) is fetched again, not believed."""

    def truncate(work: Path) -> None:
        for entry in _cache_files(work, "parsed"):
            entry.unlink()
        for entry in _cache_files(work, "metadata"):
            data = entry.read_bytes()
            entry.write_bytes(data[: data.index(b"Requires-Python")])

    assert "b==1.0" in _recompile_after(tmp_path, truncate)


def test_a_tampered_cached_wheel_is_not_read_for_metadata(tmp_path: Path) -> None:
    """A wheel in the file cache whose bytes no longer match its name is never read."""
    index = HostileIndex(tmp_path / "index")
    honest = wheel_good("a", "1.0", requires=["b"])
    index.add("a", attrs.evolve(honest, metadata=None))  # no .metadata: the whole wheel is read
    index.add_good("b", "1.0")
    index.add_good("evil", "1.0")
    work = tmp_path / "work"
    with index.serve(api="json", range_requests=False) as server:
        assert _compile(server.index_url, work).code == 0
        cached = _cache_files(work, "files")
        assert cached, "the whole wheel was expected in the file cache"
        tampered = wheel_good("a", "1.0", requires=["evil"]).data
        for path in cached:
            path.write_bytes(tampered)
        for kind in ("parsed", "metadata"):
            for entry in _cache_files(work, kind):
                entry.unlink()
        run = _compile(server.index_url, work)
    assert run.code == 0, str(run)
    assert "evil" not in _lock(work) and "b==1.0" in _lock(work)


def test_an_edited_memo_entry_cannot_change_the_lock(tmp_path: Path) -> None:
    """Editing the stored text of a reusable resolution does not change what compile writes."""
    index = _honest_pair(tmp_path)
    work = tmp_path / "work"
    env = isolated_env(CROSSPIN_MEMO="1")
    with index.serve(api="json") as server:
        for _ in range(2):  # the second run has an output: the key a third run reuses
            assert _compile(server.index_url, work, env=env).code == 0
        honest = _lock(work)
        entries = [p for p in (work / "cache" / "v1" / "memo").rglob("*.json")]
        assert entries
        evil = honest + "evil==6.6.6\n"
        for entry in entries:
            data = json.loads(entry.read_text())
            # Whatever the entry keeps of the lock (its text, or a digest of it) now says evil.
            assert "text" in data or "lock" in data, data
            if "text" in data:
                data["text"] = evil
            if "lock" in data:
                data["lock"] = hashlib.sha256(evil.encode()).hexdigest()
            entry.write_text(json.dumps(data))
        run = _compile(server.index_url, work, env=env)
    assert run.code == 0, str(run)
    assert _lock(work) == honest


# --- an http(s) index cannot reach local files or the user's credentials


@pytest.mark.parametrize("api", ["html", "json"])
def test_a_remote_page_cannot_make_crosspin_read_local_files(
    hostile: HostileIndex, tmp_path: Path, api: str
) -> None:
    """A ``file:`` link on an http page is refused: the local wheel is never opened."""
    secret = tmp_path / "private-wheels"
    secret.mkdir()
    local = wheel_good("a", "1.0", requires=["leaked-from-disk"])
    (secret / local.filename).write_bytes(local.data)
    hostile.add("a", attrs.evolve(local, metadata=None),
                url=(secret / local.filename).as_uri())
    hostile.add_good("leaked-from-disk", "1.0")
    server = hostile.start(api=api)
    run = _compile(server.index_url, tmp_path / "work", "a\n", "-v")
    lock = (tmp_path / "work" / "requirements.txt")
    assert "Traceback" not in run.stderr, str(run)
    assert not lock.exists() or "leaked-from-disk" not in lock.read_text(), str(run)
    assert "file:" not in run.stdout
    # Refused for the right reason, and said so under -v.
    assert f"ignored a file: link on {server.index_url}/a/" in run.stderr, str(run)


@pytest.mark.parametrize("scheme", ["ftp", "smb", "data"])
def test_a_remote_page_link_of_another_scheme_is_dropped(
    hostile: HostileIndex, tmp_path: Path, scheme: str
) -> None:
    """Not only ``file:``: any non-http(s) link on an http page is dropped and named under -v;
    the release it stood for is then simply not offered."""
    wheel = wheel_good("a", "1.0")
    hostile.add("a", wheel, url=f"{scheme}://127.0.0.1/{wheel.filename}")
    server = hostile.start(api="json")
    run = _compile(server.index_url, tmp_path / "work", "a\n", "-v")
    assert "Traceback" not in run.stderr, str(run)
    assert run.code != 0 and not (tmp_path / "work" / "requirements.txt").exists(), str(run)
    assert f"ignored a {scheme}: link on {server.index_url}/a/" in run.stderr, str(run)


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_credentials_in_page_links_never_replace_the_users(
    hostile: HostileIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page linking to ``http://mallory:pw@host/...`` never makes crosspin log in as mallory."""
    seen: list[str] = []
    lock = threading.Lock()
    alice = _basic("alice", "alice-secret")

    def guard(request: Request, response: Response) -> Response | None:
        with lock:
            seen.append(request.header("Authorization") or "")
        if request.header("Authorization") != alice:
            return Response(status=401, headers=(("WWW-Authenticate", 'Basic realm="x"'),))
        return None

    wheel = wheel_good("a", "1.0")
    hostile.route(r".", guard)
    with hostile.serve(api="json") as server:
        port = server.url.rsplit(":", 1)[1]
        url = f"http://mallory:stolen@127.0.0.1:{port}/files/{wheel.filename}"
        hostile.add("a", wheel, url=url)
        netrc = tmp_path / "netrc"
        netrc.write_text("machine 127.0.0.1\nlogin alice\npassword alice-secret\n")
        netrc.chmod(0o600)
        env = isolated_env(NETRC=str(netrc))
        run = _compile(server.index_url, tmp_path / "work", env=env)
    assert seen and all(header == alice for header in seen), \
        f"{sum(h != alice for h in seen)} of {len(seen)} requests were not alice's\n{run}"
    assert run.code == 0, str(run)


# --- build requirements come from the run's own indexes


@pytest.mark.slow
def test_compile_build_requirements_come_from_the_runs_index(tmp_path: Path) -> None:
    """An sdist needing a private build dependency: fetched from --index-url (credentials kept
    out of argv), never asked of pip's default index."""
    private = HostileIndex(tmp_path / "private")
    private.add("needs-build", sdist_with_build_requires("needs-build", "1.0",
                                                         ["private-build-dep"]))
    private.add_good("private-build-dep", "1.0")
    decoy = HostileIndex(tmp_path / "decoy")  # stands for pypi.org: must never be asked
    with private.serve(api="json") as server, decoy.serve() as default:
        host = server.url.split("//", 1)[1]
        url = f"http://builder:bu1ld-s3cret@{host}/simple"
        env, argv_log = argv_logging_env(tmp_path / "site", PIP_INDEX_URL=default.index_url)
        run = _compile(url, tmp_path / "work", "needs-build\n", env=env, timeout=300)
        asked = [r.path for r in default.requests]
    assert not asked, f"pip's default index was asked for {asked}\n{run}"
    assert run.code == 0, str(run)
    leaked = children_with(argv_log, "bu1ld-s3cret")
    assert not leaked, f"credentials in a child's argv: {leaked[:1]}"


# --- what reaches the lock


def _direct_url_lock(hostile: HostileIndex, tmp_path: Path, userinfo: str,
                     **env: str) -> tuple[str, str]:
    """The lock of ``a @ http://<userinfo>@host/files/<wheel>``, and ``host/files/<wheel>``."""
    wheel = hostile.add_good("a", "1.0")
    server = hostile.start(api="json")
    where = f"{server.url.split('//', 1)[1]}/files/{wheel.filename}"
    requirement = f"a @ http://{userinfo}@{where}\n"
    run = _compile(server.index_url, tmp_path / "work", requirement, env=isolated_env(**env))
    assert run.code == 0, str(run)
    return _lock(tmp_path / "work"), where


def test_direct_url_keeps_its_variable_not_the_secret(
    hostile: HostileIndex, tmp_path: Path
) -> None:
    """``a @ http://user:${TOKEN}@host/...`` is locked with ``${TOKEN}``, never its value."""
    lock, _where = _direct_url_lock(hostile, tmp_path, "user:${HOSTILE_TOKEN}",
                                    HOSTILE_TOKEN="s3cret-value")
    assert "s3cret-value" not in lock
    assert "${HOSTILE_TOKEN}" in lock


def test_direct_url_credentials_are_stripped(
    hostile: HostileIndex, tmp_path: Path
) -> None:
    """``a @ http://user:secret@host/...``: the lock keeps the URL, not the password."""
    lock, where = _direct_url_lock(hostile, tmp_path, "someone:pl41n-secret")
    assert "pl41n-secret" not in lock and "someone:" not in lock
    assert where in lock


@pytest.mark.parametrize("api", ["html", "json"])
def test_generate_hashes_never_writes_an_unhashed_pin(
    hostile: HostileIndex, tmp_path: Path, api: str
) -> None:
    """An index without hashes: every pin still gets a ``--hash`` (downloaded), or an error."""
    wheel = wheel_good("a", "1.0")
    hostile.add("a", wheel, hashes={})
    server = hostile.start(api=api)
    run = _compile(server.index_url, tmp_path / "work", "a\n", "--generate-hashes")
    if run.code != 0:
        assert_one_error(run, "hash")
        return
    digest = hashlib.sha256(wheel.data).hexdigest()
    assert f"--hash=sha256:{digest}" in _lock(tmp_path / "work"), str(run)


def test_pylock_with_only_a_weak_hash_is_refused(
    hostile: HostileIndex, tmp_path: Path
) -> None:
    """A pylock.toml naming only an md5 for a file is an error, not a verified install."""
    wheel = hostile.add_good("a", "1.0")
    server = hostile.start(api="json")
    work = tmp_path / "work"
    work.mkdir()
    (work / "requirements.in").write_text("a\n")
    made = run_crosspin(["compile", "requirements.in", "-o", "pylock.toml", "--isolated",
                         "--no-cache", "--index-url", server.index_url, *ONE_ENV], cwd=work)
    assert made.code == 0, str(made)
    text = (work / "pylock.toml").read_text()
    sha = hashlib.sha256(wheel.data).hexdigest()
    md5 = hashlib.md5(wheel.data).hexdigest()
    assert sha in text
    (work / "pylock.toml").write_text(text.replace(f'sha256 = "{sha}"', f'md5 = "{md5}"'))
    run = run_crosspin(["export", "pylock.toml", "--python", "3.12", "--platform",
                        "linux-x86_64", "--isolated", "--no-cache"], cwd=work)
    assert_one_error(run, "md5")


# --- malformed pages: one line, no traceback


def test_json_page_with_meta_as_a_list(hostile: HostileIndex, tmp_path: Path) -> None:
    """``"meta": [...]``: one error line naming the page URL, exit 1."""
    hostile.add_good("a", "1.0")
    hostile.route(r"/simple/a/$", json_meta_list_page("a"))
    server = hostile.start(api="json")
    run = _compile(server.index_url, tmp_path / "work")
    assert_one_error(run, "/simple/a/")
    assert run.code == 1


def test_deeply_nested_json_page(hostile: HostileIndex, tmp_path: Path) -> None:
    """100,000 nested lists: one error line naming the page URL, exit 1."""
    hostile.add_good("a", "1.0")
    hostile.route(r"/simple/a/$", deep_json_page(100_000))
    server = hostile.start(api="json")
    run = _compile(server.index_url, tmp_path / "work")
    assert_one_error(run, "/simple/a/")
    assert run.code == 1
