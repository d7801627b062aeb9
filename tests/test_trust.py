"""Untrusted indexes: no shadowing across indexes, credentials never leak, no unasked builds."""

from __future__ import annotations

import base64
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fixtures.server import IndexServer, Request, Response
from tests.helpers import parse_pins, run_cli

ANY = ">=3.8"
PRIVATE: dict[str, Any] = {
    "corp": {"1.0.0": {"requires_python": ANY, "requires": ["shared"]}},
    "shared": {"1.0.0": {"requires_python": ANY}},
}
PUBLIC: dict[str, Any] = {
    "corp": {"99.0.0": {"requires_python": ANY}},  # a name squatter
    "shared": {"2.0.0": {"requires_python": ANY}},
    "only-public": {"1.0.0": {"requires_python": ANY}},
}
SECRET = "s3cr3t-t0ken"
ONE_ENV = ["--python", "3.12", "--platform", "linux-x86_64"]


@pytest.fixture
def two_indexes(make_index: Any) -> Iterator[IndexServer]:
    """One server with /private/simple and /public/simple."""
    private, public = make_index.build(PRIVATE), make_index.build(PUBLIC)
    with IndexServer.multi({"private": private.root, "public": public.root}) as srv:
        yield srv


def _compile(work: Path, *args: str, inputs: str = "corp\nonly-public\n") -> Any:
    (work / "requirements.in").write_text(inputs, encoding="utf-8")
    return run_cli(["compile", "requirements.in", "-o", "requirements.txt", "--isolated",
                    "--cache-dir", str(work / "cache"), "--generate-hashes", *ONE_ENV, *args],
                   cwd=work)


def _pins(work: Path) -> set[str]:
    text = (work / "requirements.txt").read_text(encoding="utf-8")
    return {f"{n}=={v}" for n, v, _ in parse_pins(text)}


def test_first_index_wins(two_indexes: IndexServer, tmp_path: Path) -> None:
    """A project on the first index is never taken from a later one, however new."""
    result = _compile(tmp_path, "--index-url", two_indexes.index_url_for("private"),
                      "--extra-index-url", two_indexes.index_url_for("public"))
    assert result.code == 0, result.stderr
    assert _pins(tmp_path) == {"corp==1.0.0", "shared==1.0.0", "only-public==1.0.0"}
    text = (tmp_path / "requirements.txt").read_text(encoding="utf-8")
    assert "/public/files/corp" not in text


def test_unsafe_best_match_is_opt_in(two_indexes: IndexServer, tmp_path: Path) -> None:
    """--index-strategy unsafe-best-match merges the indexes (pip's behaviour)."""
    result = _compile(tmp_path, "--index-url", two_indexes.index_url_for("private"),
                      "--extra-index-url", two_indexes.index_url_for("public"),
                      "--index-strategy", "unsafe-best-match")
    assert result.code == 0, result.stderr
    assert _pins(tmp_path) == {"corp==99.0.0", "only-public==1.0.0"}


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _guard(expected: str, seen: list[str]) -> Any:
    """A hook answering 401 to any request without the expected Authorization header."""

    def hook(request: Request, response: Response) -> Response | None:
        seen.append(request.path)
        if request.header("Authorization") != expected:
            return Response(status=401, headers=(("WWW-Authenticate", 'Basic realm="x"'),),
                            body=b"who are you?\n")
        return None

    return hook


def _assert_no_secret(work: Path, result: Any, *, lockfile: bool = True) -> None:
    assert SECRET not in result.stdout + result.stderr
    for path in work.rglob("*"):
        if path.is_file() and (lockfile or path.name != "requirements.txt"):
            assert SECRET.encode() not in path.read_bytes(), f"secret written to {path}"


@pytest.mark.parametrize("api", ["json", "html"])
def test_url_credentials_are_used_never_written(
    make_index: Any, tmp_path: Path, api: str
) -> None:
    """user:token@ in the index URL authenticates every request; no output or cache shows it."""
    seen: list[str] = []
    srv = make_index(PRIVATE, api=api, advertise_metadata=False,
                     before_response=_guard(_basic("me", SECRET), seen))
    url = srv.index_url.replace("http://", f"http://me:{SECRET}@")
    result = _compile(tmp_path, "--index-url", url, "-v", inputs="corp\n")
    assert result.code == 0, result.stderr
    assert _pins(tmp_path) == {"corp==1.0.0", "shared==1.0.0"}
    assert any(p.endswith(".metadata") or p.endswith(".whl") for p in seen)
    _assert_no_secret(tmp_path, result, lockfile=False)


@pytest.mark.parametrize("output", ["requirements.txt", "pylock.toml"])
def test_url_credentials_not_in_lockfile(make_index: Any, tmp_path: Path, output: str) -> None:
    """The lockfile names the index (requirements.txt's --index-url line, pylock's ``index``
    and file URLs) without the user:password the index URL was given with."""
    srv = make_index(PRIVATE, before_response=_guard(_basic("me", SECRET), []))
    url = srv.index_url.replace("http://", f"http://me:{SECRET}@")
    result = _compile(tmp_path, "--index-url", url, "-o", output, inputs="corp\n")
    assert result.code == 0, result.stderr
    text = (tmp_path / output).read_text(encoding="utf-8")
    assert SECRET not in text and "me:" not in text
    assert srv.index_url in text


def test_wrong_credentials_fail_without_echoing_them(make_index: Any, tmp_path: Path) -> None:
    """A 401 is one error line with the URL redacted and a hint about credentials."""
    srv = make_index(PRIVATE, before_response=_guard(_basic("me", "right"), []))
    url = srv.index_url.replace("http://", f"http://me:{SECRET}@")
    result = _compile(tmp_path, "--index-url", url, inputs="corp\n")
    assert result.code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "401" in errors[0], result.stderr
    assert "credentials" in result.stderr
    _assert_no_secret(tmp_path, result)


def test_netrc_credentials(
    make_index: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A netrc entry for the index host authenticates; the secret appears nowhere."""
    srv = make_index(PRIVATE, before_response=_guard(_basic("netrc-user", SECRET), []))
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1\nlogin netrc-user\npassword {SECRET}\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    work = tmp_path / "work"
    work.mkdir()
    result = _compile(work, "--index-url", srv.index_url, "-v", inputs="corp\n")
    assert result.code == 0, result.stderr
    _assert_no_secret(work, result)


def test_keyring_credentials(
    make_index: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When a keyring module is importable its credential for the index is used."""
    asked: list[str] = []

    def get_credential(service: str, username: str | None) -> Any:
        asked.append(service)
        return types.SimpleNamespace(username="ring-user", password=SECRET)

    fake = types.ModuleType("keyring")
    fake.get_credential = get_credential  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "keyring", fake)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    srv = make_index(PRIVATE, before_response=_guard(_basic("ring-user", SECRET), []))
    work = tmp_path / "work"
    work.mkdir()
    result = _compile(work, "--index-url", srv.index_url, inputs="corp\n")
    assert result.code == 0, result.stderr
    assert asked
    _assert_no_secret(work, result)


def test_url_credentials_beat_netrc(
    make_index: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Credentials in the URL take precedence over a netrc entry for the same host."""
    srv = make_index(PRIVATE, before_response=_guard(_basic("me", SECRET), []))
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1\nlogin other\npassword wrong\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    work = tmp_path / "work"
    work.mkdir()
    url = srv.index_url.replace("http://", f"http://me:{SECRET}@")
    result = _compile(work, "--index-url", url, inputs="corp\n")
    assert result.code == 0, result.stderr


def test_no_build_never_fetches_an_sdist(make_index: Any, tmp_path: Path) -> None:
    """--no-build with an sdist-only project fails cleanly without downloading the sdist."""
    srv = make_index({"src-only": {"1.0.0": {"requires_python": ANY, "wheel": False}}})
    result = _compile(tmp_path, "--index-url", srv.index_url, "--no-build", inputs="src-only\n")
    assert result.code != 0
    assert "Traceback" not in result.stderr
    assert len([x for x in result.stderr.splitlines() if x.startswith("error:")]) == 1
    assert not any(r.path.endswith(".tar.gz") for r in srv.requests)
    assert not (tmp_path / "requirements.txt").exists()
