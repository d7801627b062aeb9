"""Issue 13, part 3: bounded -- no hang, no runaway memory, no quadratic parse, no traceback.

Hangs are run under a hard timeout and memory is read from the child's own
``ru_maxrss`` (``tests.helpers.hostile.run_crosspin(measure_memory=True)``). Where
crosspin has no knob yet to make a bound testable in seconds, the test sets
the environment variable the fix is expected to read (named in the reason
and in /work/notes/hostile-findings.md): ``CROSSPIN_DEADLINE`` (whole
request, seconds), ``CROSSPIN_BUILD_TIMEOUT`` (seconds),
``CROSSPIN_MAX_SDIST_SIZE`` (unpacked bytes) and ``CROSSPIN_MAX_SDIST_MEMBERS``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest

from fixtures import faults
from fixtures.hostile import (
    Artefact,
    HostileIndex,
    good_metadata,
    gzip_bomb,
    sdist_file_dir_clash,
    sdist_hanging_backend,
    sdist_many_members,
    sdist_not_an_archive,
    sdist_unpacked_bomb,
    wheel_huge_metadata,
    wheel_huge_record,
    wheel_with_big_file,
)
from tests.helpers.hostile import (
    ONE_ENV,
    Run,
    assert_one_error,
    assert_peak_below,
    compile_lock,
    compile_run,
    isolated_env,
    make_venv,
    resource_limit_file_size,
    run_crosspin,
)
from tests.helpers.venv_snapshot import assert_unchanged, snapshot

ISSUE = "issue 13: "
MIB = 1 << 20

#: A run that reads nothing big peaks near 40 MiB; the bombs below expand to 128 MiB, and
#: today's code peaks at 2 to 6 times that. A fix may hold up to its cap (say 64 MiB) once.
MEMORY_BOUND_MIB = 160


# --- every wait has a deadline


def test_a_dribbling_server_fails_naming_the_url(
    hostile: HostileIndex, tmp_path: Path
) -> None:
    """A page sent one byte every 2 s: crosspin gives up at its deadline, naming the URL."""
    hostile.add_good("a", "1.0")
    hostile.route(r"/simple/a/$", faults.dribble(2.0))
    server = hostile.start(api="json")
    env = isolated_env(CROSSPIN_DEADLINE="3", CROSSPIN_RETRIES="1")
    run = compile_run(server.index_url, tmp_path / "work", env=env, timeout=10)
    assert_one_error(run, "/simple/a/")


def _pids(pidfile: Path) -> list[int]:
    return [int(p) for p in pidfile.read_text().split()] if pidfile.exists() else []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited; only its parent has not reaped it yet.
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _kill(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _kill_group(leader: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(leader, signal.SIGKILL)


def _wait_for(condition: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


@pytest.fixture
def hanging(hostile: HostileIndex, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An index whose only ``hang`` is an sdist with a backend that never answers."""
    hostile.add("hang", sdist_hanging_backend("hang", "1.0"))
    pidfile = tmp_path / "backend.pids"
    yield hostile.start(api="json").index_url, pidfile
    _kill(_pids(pidfile))


@pytest.mark.slow
def test_a_hanging_build_backend_times_out(hanging: tuple[str, Path], tmp_path: Path) -> None:
    """A backend that never returns: one error line naming the package, its processes gone."""
    url, pidfile = hanging
    env = isolated_env(CROSSPIN_BUILD_TIMEOUT="3", HOSTILE_PIDFILE=str(pidfile))
    run = compile_run(url, tmp_path / "work", "hang\n", env=env, timeout=15)
    assert_one_error(run, "hang")
    assert not [p for p in _pids(pidfile) if _alive(p)], "the backend outlived crosspin"


@contextlib.contextmanager
def _building(url: str, work: Path, pidfile: Path) -> Iterator[subprocess.Popen[str]]:
    """A compile (its own process group) whose build backend is up and hanging."""
    work.mkdir()
    (work / "requirements.in").write_text("hang\n")
    env = isolated_env(HOSTILE_PIDFILE=str(pidfile))
    process = subprocess.Popen(
        [sys.executable, "-m", "crosspin", "compile", "requirements.in", "-o", "out.txt",
         "--isolated", "--no-cache", "--index-url", url, *ONE_ENV],
        cwd=work, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True)
    try:
        assert _wait_for(lambda: len(_pids(pidfile)) == 2, 60), "the backend never started"
        yield process
    finally:
        _kill_group(process.pid)


def _backend_gone(pidfile: Path) -> bool:
    """Whether the hook and its child are gone (within 5 s)."""
    return _wait_for(lambda: not any(_alive(p) for p in _pids(pidfile)), 5)


@pytest.mark.slow
def test_sigterm_takes_the_build_backend_down_too(
    hanging: tuple[str, Path], tmp_path: Path
) -> None:
    """SIGTERM to crosspin during a build: crosspin and the backend's whole group end."""
    url, pidfile = hanging
    with _building(url, tmp_path / "work", pidfile) as process:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=20)
        assert _backend_gone(pidfile), "the backend outlived crosspin"


@pytest.mark.slow
def test_ctrl_c_exits_130_and_stops_the_build(
    hanging: tuple[str, Path], tmp_path: Path
) -> None:
    """Ctrl-C (SIGINT to the foreground group) during a build: exit 130, "Interrupted.", clean."""
    url, pidfile = hanging
    with _building(url, tmp_path / "work", pidfile) as process:
        os.killpg(process.pid, signal.SIGINT)
        _out, err = process.communicate(timeout=20)
        assert process.returncode == 130, err
        assert err.strip().splitlines()[-1] == "Interrupted.", err
        assert "Traceback" not in err, err
        assert _backend_gone(pidfile), "the backend outlived crosspin"


# --- every decompression and every body has a cap


@pytest.mark.parametrize("api", ["json", "html"])
def test_a_gzip_bomb_page_is_refused_within_bounded_memory(
    hostile: HostileIndex, tmp_path: Path, api: str
) -> None:
    """A 128 KiB gzip body that inflates to 128 MiB: refused by size, memory stays bounded."""
    hostile.add_good("a", "1.0")
    if api == "json":
        prefix = b'{"meta": {"api-version": "1.1"}, "name": "a", "files": []}'
        kind = "application/vnd.pypi.simple.v1+json"
    else:
        prefix = b'<html><body><a href="../../files/a-1.0-py3-none-any.whl">a</a>'
        kind = "text/html"
    hostile.route(r"/simple/a/$", gzip_bomb(128 * MIB, prefix=prefix, content_type=kind))
    server = hostile.start(api=api)
    run = compile_run(server.index_url, tmp_path / "work", measure_memory=True)
    assert_peak_below(run, MEMORY_BOUND_MIB)
    assert_one_error(run, "/simple/a/")


def test_a_gzip_bomb_metadata_file_is_refused_within_bounded_memory(
    hostile: HostileIndex, tmp_path: Path
) -> None:
    """A PEP 658 file that inflates to 128 MiB: refused, memory stays bounded."""
    artefact = hostile.add_good("a", "1.0")
    prefix = good_metadata("a", "1.0") + b"\n"
    hostile.route(rf"/files/{artefact.filename}\.metadata$",
                  gzip_bomb(128 * MIB, prefix=prefix, content_type="application/octet-stream"))
    server = hostile.start(api="json")
    run = compile_run(server.index_url, tmp_path / "work", measure_memory=True)
    assert_peak_below(run, MEMORY_BOUND_MIB)
    assert_one_error(run, artefact.filename)


def test_a_metadata_zip_bomb_in_a_wheel_stays_bounded(
    hostile: HostileIndex, tmp_path: Path
) -> None:
    """A wheel whose METADATA inflates to 64 MiB (no .metadata file): bounded, no traceback."""
    bomb = wheel_huge_metadata("a", "1.0", 64 * MIB)
    hostile.add("a", bomb)
    server = hostile.start(api="json")
    run = compile_run(server.index_url, tmp_path / "work", measure_memory=True, timeout=120)
    assert_peak_below(run, MEMORY_BOUND_MIB)
    assert "Traceback" not in run.stderr, str(run)


def test_a_server_ignoring_range_is_streamed_to_disk(
    hostile: HostileIndex, tmp_path: Path
) -> None:
    """No .metadata and no Range: the 128 MiB wheel is read from disk, not from memory."""
    hostile.add("a", wheel_with_big_file("a", "1.0", 128 * MIB))
    server = hostile.start(api="json", range_requests=False)
    run = compile_run(server.index_url, tmp_path / "work", measure_memory=True, timeout=120)
    assert run.code == 0, str(run)
    assert_peak_below(run, 100)


@pytest.mark.slow
def test_a_huge_record_is_refused_before_the_venv_changes(
    hostile: HostileIndex, tmp_path: Path
) -> None:
    """A wheel whose RECORD inflates to 64 MiB: refused by size, venv unchanged, bounded."""
    hostile.add_good("a", "1.0")
    bomb = wheel_huge_record("a", "2.0", 64 * MIB)
    hostile.add("a", bomb)
    server = hostile.start(api="json")
    python = make_venv(tmp_path / "venv")
    old = compile_lock(server.index_url, tmp_path / "old", ["a==1.0"])
    new = compile_lock(server.index_url, tmp_path / "new", ["a==2.0"])
    args = ["--python", str(python), "--isolated", "--no-cache"]
    assert run_crosspin(["sync", str(old), *args], cwd=tmp_path).code == 0
    before = snapshot(tmp_path / "venv")
    run = run_crosspin(["sync", str(new), *args], cwd=tmp_path, measure_memory=True)
    assert_unchanged(before, snapshot(tmp_path / "venv"))
    assert_peak_below(run, MEMORY_BOUND_MIB)
    assert_one_error(run, bomb.filename, "RECORD")


@pytest.mark.slow
def test_an_sdist_past_the_unpacked_size_cap_is_refused(
    hostile: HostileIndex, tmp_path: Path
) -> None:
    """An sdist holding 8 MiB of zeros, with the cap at 1 MiB: one error line, nothing built."""
    hostile.add("a", sdist_unpacked_bomb("a", "1.0", 8 * MIB))
    server = hostile.start(api="json")
    env = isolated_env(CROSSPIN_MAX_SDIST_SIZE=str(MIB))
    run = compile_run(server.index_url, tmp_path / "work", env=env, timeout=120)
    assert_one_error(run, "a")
    assert not (tmp_path / "work" / "requirements.txt").exists()


@pytest.mark.slow
def test_an_sdist_past_the_member_cap_is_refused(
    hostile: HostileIndex, tmp_path: Path
) -> None:
    """An sdist of 3,000 members, with the cap at 1,000: one error line, nothing built."""
    hostile.add("a", sdist_many_members("a", "1.0", 3000))
    server = hostile.start(api="json")
    env = isolated_env(CROSSPIN_MAX_SDIST_MEMBERS="1000")
    run = compile_run(server.index_url, tmp_path / "work", env=env, timeout=120)
    assert_one_error(run, "a")
    assert not (tmp_path / "work" / "requirements.txt").exists()


# --- requirement files: no FIFO, no device, no giant file, no quadratic comment


def _inputs_run(work: Path, lines: str, *extra: str, timeout: float = 20) -> Run:
    (work / "requirements.in").write_text(lines)
    return run_crosspin(["compile", "requirements.in", "-o", "requirements.txt", "--isolated",
                         "--offline", "--cache-dir", str(work / "cache"), *ONE_ENV, *extra],
                        cwd=work, timeout=timeout)


@pytest.mark.parametrize("option", ["-r", "-c"])
def test_a_fifo_as_requirements_file_is_an_error(tmp_path: Path, option: str) -> None:
    """``-r pipe`` / ``-c pipe`` naming a FIFO nobody writes to: one error line, no hang."""
    os.mkfifo(tmp_path / "pipe.txt")
    run = _inputs_run(tmp_path, f"a\n{option} pipe.txt\n", timeout=4)
    assert_one_error(run, "pipe.txt")


def test_a_device_as_constraints_file_is_an_error(tmp_path: Path) -> None:
    """``-c /dev/null``: one error line naming it (``/dev/zero`` would never end)."""
    run = _inputs_run(tmp_path, "a\n-c /dev/null\n")
    assert_one_error(run, "/dev/null")


def test_a_requirements_file_past_the_size_cap_is_an_error(tmp_path: Path) -> None:
    """A 64 MiB ``-r`` file (all comments): one error line naming it, before any resolution."""
    line = b"#" * 1023 + b"\n"
    with (tmp_path / "big.txt").open("wb") as out:
        for _ in range(64):
            out.write(line * 1024)
    run = _inputs_run(tmp_path, "a\n-r big.txt\n")
    assert_one_error(run, "big.txt")


def test_a_megabyte_of_spaces_parses_quickly(tmp_path: Path) -> None:
    """A 1 MiB line of spaces: the file is read and its real problem reported in seconds."""
    run = _inputs_run(tmp_path, "a\n" + " " * MIB + "\n-r missing.txt\n", timeout=6)
    assert not run.timed_out, "the parse did not finish in 6 s"
    assert_one_error(run, "missing.txt")
    assert run.seconds < 5


# --- no traceback on broken inputs


@pytest.mark.slow
@pytest.mark.parametrize("broken", [sdist_not_an_archive, sdist_file_dir_clash],
                         ids=["not-an-archive", "file-directory-clash"])
def test_a_broken_sdist_is_one_error_line(
    hostile: HostileIndex, tmp_path: Path, broken: Callable[[str, str], Artefact]
) -> None:
    """An HTML page saved as ``a-1.0.tar.gz``; ``a/`` a file and a folder: one line naming it."""
    hostile.add("a", broken("a", "1.0"))
    server = hostile.start(api="json")
    line = assert_one_error(compile_run(server.index_url, tmp_path / "work"))
    assert "a-1.0" in line or "a==1.0" in line or "a 1.0" in line, line


def _deep_groups(depth: int) -> str:
    lines = ["[project]", 'name = "deep"', 'version = "1.0"', "dependencies = []", "",
             "[dependency-groups]"]
    lines += [f'g{i} = [{{include-group = "g{i + 1}"}}]' for i in range(depth)]
    lines.append(f'g{depth} = ["a"]')
    return "\n".join(lines) + "\n"


def test_a_deep_include_group_chain(tmp_path: Path) -> None:
    """5,000 groups each including the next: one error line (or a lock), never a traceback."""
    (tmp_path / "pyproject.toml").write_text(_deep_groups(5000))
    run = run_crosspin(["compile", "pyproject.toml", "--group", "g0", "-o", "requirements.txt",
                        "--isolated", "--offline", "--cache-dir", str(tmp_path / "cache"),
                        *ONE_ENV], cwd=tmp_path, timeout=60)
    assert not run.timed_out, str(run)
    assert "Traceback" not in run.stderr, str(run)
    assert len(run.errors) == 1, str(run)


def test_a_full_disk_while_writing_the_lock(
    hostile: HostileIndex, tmp_path: Path
) -> None:
    """Writing ``-o`` fails (file size limit: EFBIG, as ENOSPC would): one line, old lock kept."""
    hostile.add_good("a", "1.0")
    server = hostile.start(api="json")
    work = tmp_path / "work"
    work.mkdir()
    (work / "requirements.txt").write_text("# the previous lock\n")
    run = compile_run(server.index_url, work, preexec=resource_limit_file_size(256))
    assert_one_error(run, "requirements.txt")
    assert (work / "requirements.txt").read_text() == "# the previous lock\n"
    assert sorted(p.name for p in work.iterdir()) == ["requirements.in", "requirements.txt"]


def test_a_full_disk_while_exporting(hostile: HostileIndex, tmp_path: Path) -> None:
    """``export -o`` cannot be written: one line, the previous file kept, no temporary left."""
    hostile.add_good("a", "1.0")
    server = hostile.start(api="json")
    lock = compile_lock(server.index_url, tmp_path / "work", ["a"])
    out = tmp_path / "work" / "exported.txt"
    out.write_text("# the previous export\n")
    run = run_crosspin(["export", str(lock), "--python", "3.12", "--platform", "linux-x86_64",
                        "-o", str(out), "--isolated", "--no-cache"], cwd=tmp_path / "work",
                       preexec=resource_limit_file_size(64))
    assert_one_error(run, "exported.txt")
    assert out.read_text() == "# the previous export\n"
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]


# --- lock files keep their mode


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _with_umask(mask: int) -> Any:
    def apply() -> None:
        os.umask(mask)

    return apply


def test_a_new_lock_is_0644_under_the_umask(
    hostile: HostileIndex, tmp_path: Path
) -> None:
    """A new lock is readable by the group and others as any file the user writes (umask 022)."""
    hostile.add_good("a", "1.0")
    server = hostile.start(api="json")
    run = compile_run(server.index_url, tmp_path / "work", preexec=_with_umask(0o022))
    assert run.code == 0, str(run)
    assert oct(_mode(tmp_path / "work" / "requirements.txt")) == oct(0o644)


@pytest.mark.parametrize("command", ["compile", "export"])
def test_a_rewritten_lock_keeps_its_mode(
    hostile: HostileIndex, tmp_path: Path, command: str
) -> None:
    """A lock (or export) the user made 0664 is still 0664 after crosspin rewrites it."""
    hostile.add_good("a", "1.0")
    server = hostile.start(api="json")
    work = tmp_path / "work"
    lock = compile_lock(server.index_url, work, ["a"])
    target = lock if command == "compile" else work / "exported.txt"
    target.write_text("# before\n")
    target.chmod(0o664)
    if command == "compile":
        run = compile_run(server.index_url, work, preexec=_with_umask(0o022))
    else:
        run = run_crosspin(["export", str(lock.with_name("requirements.txt")), "--python",
                            "3.12", "--platform", "linux-x86_64", "-o", str(target),
                            "--isolated", "--no-cache"], cwd=work, preexec=_with_umask(0o022))
    assert run.code == 0, str(run)
    assert oct(_mode(target)) == oct(0o664)
