"""Time crosspin against pip-compile and uv on the same inputs, in one run.

    python benchmarks/compare.py [--inputs jupyter] [--runs 3] [--tools /tmp/tools/bin]

Tools that are not installed are skipped (install them into a scratch venv:
``python -m venv /tmp/tools && /tmp/tools/bin/pip install uv pip-tools``).
Prints medians and ratios; needs the live index.
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

INPUTS = {
    "issue2": "sphinx>=4,<6.2\njinja2\nattrs>=19.2\nsortedcontainers\nidna\noutcome\nsniffio\n"
              "cffi; os_name == \"nt\"\npyOpenSSL\n",
    "jupyter": "jupyter\n",
    "boto3": "boto3\n",
}


def _time(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    """Run the comparison and print a table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--inputs", default="jupyter", choices=sorted(INPUTS))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tools", default="/tmp/tools/bin")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="crosspin-bench-"))
    (work / "requirements.in").write_text(INPUTS[args.inputs], encoding="utf-8")
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    crosspin = shutil.which("crosspin") or str(Path(sys.executable).parent / "crosspin")
    tools = Path(args.tools)
    cases = {
        "crosspin universal (30 envs, warm)": [crosspin, "compile", "-q", "-o", "cp.txt"],
        "crosspin one env (3.11 linux, warm)": [crosspin, "compile", "-q", "-o", "cp1.txt",
                                                "--python", "3.11", "--platform", "linux-x86_64"],
    }
    if (tools / "uv").exists():
        cases["uv pip compile --universal"] = [str(tools / "uv"), "pip", "compile", "-q",
                                               "--universal", "--python-version", "3.9",
                                               "--python", sys.executable, "-o", "uv.txt"]
    if (tools / "pip-compile").exists():
        cases["pip-compile (one env)"] = [str(tools / "pip-compile"), "-q", "-o", "pc.txt"]
    results = {}
    for label, cmd in cases.items():
        cmd = [*cmd, "requirements.in"]
        _time(cmd, work, env)  # warm the caches
        results[label] = [_time(cmd, work, env) for _ in range(args.runs)]
    base = statistics.median(results[next(iter(results))])
    print(f"inputs: {args.inputs}; runs: {args.runs}; machine: {os.cpu_count()} cores")
    for label, times in results.items():
        med = statistics.median(times)
        print(f"{label:40} median {med:6.2f}s  min {min(times):6.2f}s  "
              f"ratio vs crosspin {med / base:5.2f}")


if __name__ == "__main__":
    main()
