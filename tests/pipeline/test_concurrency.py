"""Many crosspin processes sharing one cache: identical locks, a consistent cache."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fixtures.faults import FaultPlan, slow
from tests.helpers import assert_cache_consistent
from tests.helpers.pythons import require_python

ANY = ">=3.8"
PACKAGES: dict[str, Any] = {
    "app": {"1.0.0": {"requires_python": ANY,
                      "requires": ["lib>=1", "win ; sys_platform == 'win32'",
                                   "old ; python_version < '3.11'"]}},
    "lib": {"1.0.0": {"requires_python": ANY, "requires": ["dep"]},
            "2.0.0": {"requires_python": ">=3.10", "requires": ["dep>=2"]}},
    "dep": {"1.0.0": {"requires_python": ANY}, "2.0.0": {"requires_python": ANY}},
    "win": {"1.0.0": {"requires_python": ANY}},
    "old": {"1.0.0": {"requires_python": ANY}},
}
RUNS = 8


def _env(*, memo: bool = False) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["CROSSPIN_MEMO"] = "1" if memo else "0"
    return env


def _start(url: str, work: Path, cache: Path, *, memo: bool = False) -> subprocess.Popen[bytes]:
    work.mkdir(parents=True, exist_ok=True)
    (work / "requirements.in").write_text("app\n", encoding="utf-8")
    return subprocess.Popen(
        [sys.executable, "-m", "crosspin", "compile", "requirements.in", "-o",
         "requirements.txt", "--isolated", "--index-url", url, "--cache-dir", str(cache),
         "--python", ">=3.9", "--generate-hashes"],
        cwd=work, env=_env(memo=memo), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


@pytest.mark.slow
def test_parallel_compiles_share_one_cache(make_index: Any, tmp_path: Path) -> None:
    """8 simultaneous compiles (last-lock reuse on, as users run) agree and leave a whole cache."""
    plan = FaultPlan().add(r"\.metadata$", slow(0.05))  # widen the race windows
    srv = make_index(PACKAGES, before_response=plan)
    cache = tmp_path / "cache"
    procs = [_start(srv.index_url, tmp_path / f"run{i}", cache, memo=True) for i in range(RUNS)]
    results = [(p.wait(timeout=240), p.stderr.read() if p.stderr else b"") for p in procs]
    for code, err in results:
        assert code == 0, err.decode()
        assert b"Traceback" not in err
    outputs = {(tmp_path / f"run{i}" / "requirements.txt").read_bytes() for i in range(RUNS)}
    assert len(outputs) == 1
    text = outputs.pop().decode()
    assert "lib==2.0.0" in text and "lib==1.0.0" in text and "--hash=sha256:" in text
    assert_cache_consistent(cache)
    entries = list(cache.rglob("memo/*/*.json"))
    assert entries, "no run stored its lock for reuse"
    for entry in entries:  # every stored lock is whole and is the lock the runs wrote
        stored = json.loads(entry.read_bytes())["lock"]
        assert stored == hashlib.sha256(text.encode()).hexdigest(), entry
    # A warm rerun of one of them reuses the stored lock (its output still holds it).
    again = _start(srv.index_url, tmp_path / "run0", cache, memo=True)
    assert again.wait(timeout=120) == 0
    assert b"reused the last resolution" in (again.stderr.read() if again.stderr else b"")
    assert (tmp_path / "run0" / "requirements.txt").read_text(encoding="utf-8") == text
    fresh = _start(srv.index_url, tmp_path / "fresh", cache, memo=False)
    assert fresh.wait(timeout=120) == 0
    assert (tmp_path / "fresh" / "requirements.txt").read_text(encoding="utf-8") == text


@pytest.mark.slow
def test_sync_and_compile_together(make_index: Any, tmp_path: Path) -> None:
    """A sync and compiles running at once on one cache both succeed; the venv gets the lock."""
    python3 = require_python("3.12")
    srv = make_index(PACKAGES)
    cache = tmp_path / "cache"
    first = _start(srv.index_url, tmp_path / "lock", cache)
    assert first.wait(timeout=120) == 0, first.stderr.read() if first.stderr else b""
    venv = tmp_path / "venv"
    subprocess.run([str(python3), "-m", "venv", "--without-pip", str(venv)], check=True)
    # New cache readers and writers during the sync: a refresh rewrites every page entry.
    sync = subprocess.Popen(
        [sys.executable, "-m", "crosspin", "sync", str(tmp_path / "lock" / "requirements.txt"),
         "--python", str(venv / "bin" / "python"), "--isolated", "--index-url", srv.index_url,
         "--cache-dir", str(cache)],
        cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    compiles = [_start(srv.index_url, tmp_path / f"c{i}", cache) for i in range(3)]
    assert sync.wait(timeout=240) == 0, sync.stderr.read() if sync.stderr else b""
    for proc in compiles:
        assert proc.wait(timeout=240) == 0
    site = next((venv / "lib").glob("python3.*/site-packages"))
    names = sorted(p.name for p in site.glob("*.dist-info"))
    assert names == ["app-1.0.0.dist-info", "dep-2.0.0.dist-info", "lib-2.0.0.dist-info"]
    lock = (tmp_path / "lock" / "requirements.txt").read_bytes()
    assert all((tmp_path / f"c{i}" / "requirements.txt").read_bytes() == lock for i in range(3))
    assert_cache_consistent(cache)
