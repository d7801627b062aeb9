"""A faulty index: transient faults are retried, others fail in one line; nothing corrupt kept."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from crosspin.errors import HashMismatchError, IndexFetchError
from crosspin.index import IndexClient, IndexSettings
from fixtures import faults
from fixtures.faults import FaultPlan
from tests.helpers import assert_cache_consistent, run_cli

ANY = ">=3.8"
PACKAGES: dict[str, Any] = {
    "app": {"1.0.0": {"requires_python": ANY, "requires": ["lib>=1"]}},
    "lib": {"1.0.0": {"requires_python": ANY}, "2.0.0": {"requires_python": ANY}},
}
LIB_WHEEL = "lib-2.0.0-py3-none-any.whl"


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Back-off sleeps, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr("crosspin.index._http._sleep", recorded.append)
    return recorded


def _compile(url: str, work: Path, *args: str) -> Any:
    (work / "requirements.in").write_text("app\n", encoding="utf-8")
    return run_cli(["compile", "requirements.in", "-o", "requirements.txt", "--isolated",
                    "--index-url", url, "--cache-dir", str(work / "cache"), "--python", "3.12",
                    "--platform", "linux-x86_64", "--generate-hashes", *args], cwd=work)


def _errors(result: Any) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def _ok(result: Any, work: Path) -> None:
    assert result.code == 0, result.stderr
    text = (work / "requirements.txt").read_text(encoding="utf-8")
    assert "app==1.0.0" in text and "lib==2.0.0" in text
    assert_cache_consistent(work / "cache")


def _failed(result: Any, work: Path, url_part: str) -> str:
    assert result.code == 1, result.stderr
    errors = _errors(result)
    assert len(errors) == 1, result.stderr
    assert url_part in errors[0], errors[0]
    assert "Traceback" not in result.stderr + result.stdout
    assert not (work / "requirements.txt").exists(), "a partial lockfile was written"
    assert_cache_consistent(work / "cache")
    return errors[0]


# -- transient faults: retried with bounded back-off, then success ---------------------------

TRANSIENT = {
    "503-twice": (r"/simple/lib/", faults.status(503), 2),
    "500-metadata": (r"\.metadata$", faults.status(500), 1),
    "502-page": (r"/simple/app/", faults.status(502), 2),
    "reset-page": (r"/simple/lib/", faults.reset(), 2),
    "reset-metadata": (r"\.metadata$", faults.reset(), 1),
    "truncated-page": (r"/simple/lib/", faults.truncate(0.3), 2),
    "truncated-metadata": (r"\.metadata$", faults.truncate(0.5), 1),
}


@pytest.mark.parametrize("case", sorted(TRANSIENT))
def test_transient_fault_is_retried(
    case: str, make_index: Any, tmp_path: Path, sleeps: list[float]
) -> None:
    """A fault that clears within the retry budget costs retries, not the lock."""
    pattern, fault, times = TRANSIENT[case]
    plan = FaultPlan().add(pattern, fault, times=times)
    srv = make_index(PACKAGES, before_response=plan)
    result = _compile(srv.index_url, tmp_path)
    _ok(result, tmp_path)
    assert plan.hits() == times
    assert len(sleeps) == times and sleeps == sorted(sleeps), sleeps
    assert all(0 < s <= 1.0 for s in sleeps), sleeps


def test_429_honours_retry_after_with_a_bound(
    make_index: Any, tmp_path: Path, sleeps: list[float]
) -> None:
    """429 waits as long as Retry-After says, but never longer than max_retry_after (10 s)."""
    plan = (FaultPlan().add(r"/simple/lib/", faults.too_many_requests("2"), times=1)
            .add(r"/simple/lib/", faults.too_many_requests("3600"), times=1))
    srv = make_index(PACKAGES, before_response=plan)
    _ok(_compile(srv.index_url, tmp_path), tmp_path)
    assert sleeps == [2.0, 10.0]


def test_429_http_date_retry_after(make_index: Any, tmp_path: Path, sleeps: list[float]) -> None:
    """A Retry-After in the past (an HTTP date) means retry now."""
    plan = FaultPlan().add(r"/simple/lib/",
                           faults.too_many_requests("Wed, 21 Oct 2015 07:28:00 GMT"), times=1)
    srv = make_index(PACKAGES, before_response=plan)
    _ok(_compile(srv.index_url, tmp_path), tmp_path)
    assert sleeps == [0.0]


# -- persistent faults: one clear line naming the URL, exit 1, nothing written ---------------

PERSISTENT = {
    "503-forever": (r"/simple/lib/", faults.status(503), "/simple/lib/", "HTTP 503"),
    "429-forever": (r"/simple/lib/", faults.too_many_requests("0"), "/simple/lib/", "HTTP 429"),
    "reset-forever": (r"/simple/lib/", faults.reset(), "/simple/lib/", "connection failed"),
    "truncated-forever": (r"\.metadata$", faults.truncate(0.5), ".metadata", "connection"),
    "401": (r"/simple/lib/", faults.status(401), "/simple/lib/", "HTTP 401"),
    "malformed-json": (r"/simple/lib/", faults.replace_body(
        b'{"meta": {"api-version": "1.0"}, "files": [', "application/vnd.pypi.simple.v1+json"),
        "/simple/lib/", "invalid JSON"),
    "metadata-hash": (r"\.metadata$", faults.metadata_mismatch(), ".metadata", "hash"),
}


@pytest.mark.parametrize("case", sorted(PERSISTENT))
def test_persistent_fault_fails_with_one_line(
    case: str, make_index: Any, tmp_path: Path, sleeps: list[float]
) -> None:
    """A fault that never clears ends in exit 1 and one error line naming the URL."""
    pattern, fault, url_part, reason = PERSISTENT[case]
    srv = make_index(PACKAGES, api="json", before_response=FaultPlan().add(pattern, fault))
    line = _failed(_compile(srv.index_url, tmp_path), tmp_path, url_part)
    assert reason in line, line
    assert srv.url in line
    assert len(sleeps) <= 2  # retries are bounded (3 tries by default)


def test_failed_run_keeps_the_previous_lock(
    make_index: Any, tmp_path: Path, sleeps: list[float]
) -> None:
    """A rerun that hits a dead index leaves the existing lockfile byte-identical."""
    plan = FaultPlan()
    srv = make_index(PACKAGES, before_response=plan)
    _ok(_compile(srv.index_url, tmp_path), tmp_path)
    before = (tmp_path / "requirements.txt").read_bytes()
    plan.add(r"/simple/", faults.status(503))
    result = _compile(srv.index_url, tmp_path, "--refresh", "-U")
    assert result.code == 1 and len(_errors(result)) == 1, result.stderr
    assert (tmp_path / "requirements.txt").read_bytes() == before


# -- odd but valid answers -------------------------------------------------------------------


def test_html_page_with_wrong_content_type(make_index: Any, tmp_path: Path) -> None:
    """An HTML page served as application/octet-stream is still read as HTML."""
    plan = FaultPlan().add(r"/simple/", faults.content_type("application/octet-stream"))
    srv = make_index(PACKAGES, api="html", before_response=plan)
    _ok(_compile(srv.index_url, tmp_path), tmp_path)


def test_malformed_html_is_not_a_crash(make_index: Any, tmp_path: Path) -> None:
    """Garbage HTML yields no links: 'no version of lib' rather than a traceback."""
    plan = FaultPlan().add(r"/simple/lib/", faults.replace_body(
        b"<html><body><a href='../../files/x.whl'<<a href=\x00></body", "text/html"))
    srv = make_index(PACKAGES, api="html", before_response=plan)
    result = _compile(srv.index_url, tmp_path)
    assert result.code != 0 and "Traceback" not in result.stderr
    assert len(_errors(result)) == 1, result.stderr
    assert not (tmp_path / "requirements.txt").exists()


def test_unverified_metadata_naming_another_project_is_ignored(
    make_index: Any, tmp_path: Path
) -> None:
    """An unadvertised .metadata for another project falls back to the wheel's own metadata."""
    plan = FaultPlan().add(r"\.metadata$", faults.replace_body(
        b"Metadata-Version: 2.1\nName: intruder\nVersion: 1.0.0\nRequires-Dist: ghost\n"))
    srv = make_index(PACKAGES, advertise_metadata=False, before_response=plan)
    _ok(_compile(srv.index_url, tmp_path), tmp_path)


# -- the client directly: timeouts and corrupt downloads -------------------------------------


def _client(url: str, cache: Path, **changes: Any) -> IndexClient:
    return IndexClient(IndexSettings(index_url=url, cache_dir=cache, retry_backoff=0.0,
                                     **changes))


def test_timeout_is_retried_then_reported(make_index: Any, tmp_path: Path) -> None:
    """A server slower than the timeout is retried; if it never answers, the URL is named."""
    plan = FaultPlan().add(r"/simple/lib/", faults.stall(1.0), times=1)
    srv = make_index(PACKAGES, before_response=plan)
    with _client(srv.index_url, tmp_path / "cache", timeout=0.3) as client:
        assert {str(f.version) for f in client.project_files("lib")} == {"1.0.0", "2.0.0"}
        assert client.stats["retries"] == 1
    plan.add(r"/simple/app/", faults.stall(0.6))
    timed_out = r"/simple/app/.*timed out \(after 2 attempts\)"
    with _client(srv.index_url, tmp_path / "cache2", timeout=0.3, retries=2) as client, \
            pytest.raises(IndexFetchError, match=timed_out):
        client.project_files("app")
    assert_cache_consistent(tmp_path / "cache2")


def test_corrupt_download_is_never_cached(make_index: Any, tmp_path: Path) -> None:
    """A file whose bytes differ from the index's hash raises and leaves no cache entry."""
    plan = FaultPlan().add(LIB_WHEEL + "$", faults.corrupt())
    srv = make_index(PACKAGES, before_response=plan)
    with _client(srv.index_url, tmp_path / "cache") as client:
        wheel = next(f for f in client.project_files("lib") if f.filename == LIB_WHEEL)
        with pytest.raises(HashMismatchError):
            client.download(wheel, tmp_path / "out")
    assert not (tmp_path / "out" / LIB_WHEEL).exists()
    assert list((tmp_path / "out").iterdir()) == []
    assert not list((tmp_path / "cache").rglob(wheel.sha256 or "none"))
    assert_cache_consistent(tmp_path / "cache")


def test_truncated_download_is_retried(make_index: Any, tmp_path: Path) -> None:
    """A download cut short once is fetched again, verified and cached whole."""
    plan = FaultPlan().add(LIB_WHEEL + "$", faults.truncate(0.5), times=1)
    srv = make_index(PACKAGES, before_response=plan)
    with _client(srv.index_url, tmp_path / "cache") as client:
        wheel = next(f for f in client.project_files("lib") if f.filename == LIB_WHEEL)
        path = client.download(wheel, tmp_path / "out")
        assert hashlib.sha256(path.read_bytes()).hexdigest() == wheel.sha256
        assert client.stats["retries"] == 1
    assert_cache_consistent(tmp_path / "cache")


def test_corrupt_whole_wheel_metadata_fallback(make_index: Any, tmp_path: Path) -> None:
    """No metadata files, no ranges, a corrupt wheel: compile fails naming the wheel URL."""
    plan = FaultPlan().add(LIB_WHEEL + "$", faults.corrupt(10))
    srv = make_index(PACKAGES, advertise_metadata=False, serve_metadata_files=False,
                     range_requests=False, before_response=plan)
    line = _failed(_compile(srv.index_url, tmp_path), tmp_path, LIB_WHEEL)
    assert "hash" in line


def test_env_var_overrides_backoff() -> None:
    """CROSSPIN_RETRY_BACKOFF / CROSSPIN_RETRIES shorten retries; junk values are ignored."""
    from crosspin.index._http import RetryPolicy
    from crosspin.settings import Access, PipConfig, Tuning, index_settings

    tuning = Tuning.from_environ({"CROSSPIN_RETRY_BACKOFF": "0.01", "CROSSPIN_RETRIES": "5",
                                  "CROSSPIN_MAX_RETRY_AFTER": "x"})
    settings = index_settings([], no_index=False, pip=PipConfig(), access=Access(),
                              tuning=tuning)
    policy = RetryPolicy(tries=settings.retries, backoff=settings.retry_backoff,
                         max_retry_after=settings.max_retry_after)
    assert (policy.tries, policy.backoff, policy.max_retry_after) == (5, 0.01, 10.0)
    assert policy.delay(3, None) == pytest.approx(0.04)


# -- resumed downloads (issue 17) --------------------------------------------------------------


def _partial(cache: Path, sha256: str) -> Path:
    return cache / "v1" / "files" / "partial" / sha256


def test_a_cut_download_resumes_where_it_stopped(make_index: Any, tmp_path: Path) -> None:
    """A download cut off (a kill, a dropped connection) keeps its bytes in the cache; the
    next run asks only for the rest (``Range``) and ends with the whole, verified file."""
    plan = FaultPlan().add(LIB_WHEEL + "$", faults.truncate(0.5), times=1)
    srv = make_index(PACKAGES, before_response=plan)
    cache = tmp_path / "cache"
    with _client(srv.index_url, cache, retries=1) as client:
        wheel = next(f for f in client.project_files("lib") if f.filename == LIB_WHEEL)
        assert wheel.sha256 is not None
        with pytest.raises(IndexFetchError):
            client.download(wheel, tmp_path / "out")
    kept = _partial(cache, wheel.sha256).stat().st_size
    assert kept > 0
    srv.clear_requests()
    with _client(srv.index_url, cache) as client:
        path = client.download(wheel, tmp_path / "out")
        assert client.stats["resumed"] == 1
    assert hashlib.sha256(path.read_bytes()).hexdigest() == wheel.sha256
    assert kept < path.stat().st_size
    asked = [r for r in srv.requests if r.path.endswith(LIB_WHEEL)]
    assert [(r.range, r.status) for r in asked] == [(f"bytes={kept}-", 206)]
    assert not _partial(cache, wheel.sha256).exists()
    assert_cache_consistent(cache)


def test_a_wrong_kept_start_is_dropped_and_the_file_fetched_whole(
    make_index: Any, tmp_path: Path
) -> None:
    """Bytes kept from an interrupted download that are not the file's start fail the hash:
    they are thrown away and the whole file is fetched once more, never installed."""
    srv = make_index(PACKAGES)
    cache = tmp_path / "cache"
    with _client(srv.index_url, cache) as client:
        wheel = next(f for f in client.project_files("lib") if f.filename == LIB_WHEEL)
        assert wheel.sha256 is not None
        partial = _partial(cache, wheel.sha256)
        partial.parent.mkdir(parents=True)
        partial.write_bytes(b"not the start of a wheel")
        srv.clear_requests()
        path = client.download(wheel, tmp_path / "out")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == wheel.sha256
    asked = [r for r in srv.requests if r.path.endswith(LIB_WHEEL)]
    assert [(r.range, r.status) for r in asked] == [("bytes=24-", 206), (None, 200)]
    assert not partial.exists()
    assert_cache_consistent(cache)
