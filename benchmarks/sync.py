"""Time a warm ``crosspin sync`` against ``pip install -r`` and ``uv pip sync``, in one run.

    python benchmarks/sync.py [--lock pylock.toml] [--target-python PATH] [--runs 3]
        [--tools /tmp/tools/bin] [--pip-venv DIR]

The lock defaults to the live jupyter lock (``jupyter`` over the default
30-environment matrix, compiled to ``pylock.toml`` in a scratch folder).
Each tool installs the *same* lock into a fresh, empty virtual environment
of ``--target-python`` (made with ``venv --without-pip``, not timed). Warm
means every tool has downloaded every file once before the timed runs (one
untimed install each). pip is a pip >= 26.1 (``-r pylock.toml`` support)
in its own venv, run with ``--python <target>``; uv gets
``UV_PYTHON_DOWNLOADS=never``. Prints the median of ``--runs`` per tool and
the ratios against crosspin. Needs the live index.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENV = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def _fresh_venv(python: str, where: Path) -> Path:
    if where.exists():
        shutil.rmtree(where)
    subprocess.run([python, "-m", "venv", "--without-pip", str(where)], check=True)
    return where / "bin" / "python"


def _pip(venv: Path, python: str) -> Path:
    pip_python = venv / "bin" / "python"
    if not pip_python.exists():
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(pip_python), "-m", "pip", "install", "-q", "-U", "pip>=26.1"],
                       check=True, env=ENV)
    return pip_python


def _commands(lock: Path, tools: Path, pip_python: Path) -> dict[str, list[str]]:
    crosspin = shutil.which("crosspin") or str(Path(sys.executable).parent / "crosspin")
    out = {
        "crosspin sync": [crosspin, "sync", str(lock), "--python", "{target}"],
        "pip install -r": [str(pip_python), "-m", "pip", "--python", "{target}", "install",
                           "-q", "--no-deps", "-r", str(lock)],
    }
    uv = tools / "uv"
    if uv.exists():
        out["uv pip sync"] = [str(uv), "pip", "sync", "-q", "--python", "{target}", str(lock)]
    return out


def _time(cmd: list[str], target: Path, cwd: Path) -> float:
    args = [str(target) if a == "{target}" else a for a in cmd]
    start = time.perf_counter()
    subprocess.run(args, check=True, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    """Run the benchmark and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lock", type=Path, default=None)
    parser.add_argument("--target-python", default="/root/.pyenv/versions/3.12.1/bin/python3")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tools", type=Path, default=Path("/tmp/tools/bin"))
    parser.add_argument("--pip-venv", type=Path,
                        default=Path(tempfile.gettempdir()) / "crosspin-bench-pip")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="crosspin-bench-sync-"))
    lock = args.lock
    if lock is None:
        (work / "requirements.in").write_text("jupyter\n", encoding="utf-8")
        subprocess.run([sys.executable, "-m", "crosspin", "compile", "requirements.in", "-q",
                        "-o", "pylock.toml"], check=True, cwd=work)
        lock = work / "pylock.toml"
    lock = lock.resolve()
    pip_python = _pip(args.pip_venv, sys.executable)
    commands = _commands(lock, args.tools, pip_python)
    times: dict[str, list[float]] = {name: [] for name in commands}
    counts = {}
    for name, cmd in commands.items():  # warm-up: every tool downloads every file once
        target = _fresh_venv(args.target_python, work / "venv")
        _time(cmd, target, lock.parent)
        site = next((work / "venv" / "lib").glob("python*/site-packages"))
        counts[name] = len(list(site.glob("*.dist-info")))
    for _ in range(args.runs):  # interleaved, so drift hits every tool alike
        for name, cmd in commands.items():
            target = _fresh_venv(args.target_python, work / "venv")
            times[name].append(_time(cmd, target, lock.parent))
    base = statistics.median(times["crosspin sync"])
    print(f"lock: {lock} ({counts['crosspin sync']} packages installed); "
          f"median of {args.runs} warm runs into an empty venv of {args.target_python}")
    print("| tool | packages | median s | min s | max s | time / crosspin |")
    print("|---|---|---|---|---|---|")
    for name, values in times.items():
        med = statistics.median(values)
        print(f"| {name} | {counts[name]} | {med:.2f} | {min(values):.2f} | {max(values):.2f} "
              f"| {med / base:.2f} |")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
