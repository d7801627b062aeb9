"""Time crosspin against uv, nab and pip-compile on the same inputs, in one run.

    python benchmarks/compare.py [--inputs trio-docs jupyter boto3]
        [--cases cold warm offline] [--runs 3] [--tools /tmp/tools/bin]
        [--json benchmarks/results.json]

Every command is a whole process: wall time (median, min, max over
``--runs``) and peak RSS of the child are recorded. Cases: ``cold`` (a
fresh, empty cache per run), ``warm`` (a cache filled by one untimed run;
pages revalidated as each tool does by default), ``offline`` (cache only).
All tools target Python ``>=3.9``; crosspin and nab over the five default
platforms, uv ``--universal`` (``--python-version 3.9``,
``UV_PYTHON_DOWNLOADS=never``), pip-compile one environment (this Python).
Tools that are not installed are skipped with the command that installs
them. Needs the live index. Ratios are against crosspin's universal lock.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

INPUTS = {
    # The shape of trio's docs requirements (~50 pins).
    "trio-docs": [
        "sphinx>=6.0", "jinja2", "sphinx_rtd_theme", "sphinxcontrib-jquery",
        "sphinxcontrib-trio", "towncrier", "sphinx-codeautolink", "attrs>=23.2",
        "sortedcontainers", "idna", "outcome", "sniffio", "cffi; os_name == 'nt'",
        "pyOpenSSL", "exceptiongroup; python_version < '3.11'",
    ],
    "jupyter": ["jupyter"],  # ~150 pins
    "boto3": ["boto3"],  # deep version history
}

#: nab's ids for crosspin's five default platforms.
NAB_PLATFORMS = ["linux_x86_64", "linux_aarch64", "macos_arm64", "macos_x86_64", "windows_amd64"]

INSTALL = "python -m venv /tmp/tools && /tmp/tools/bin/pip install uv pip-tools nab"


def _run(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int, int, float]:
    """Wall seconds, peak RSS (KiB), exit status and CPU seconds (user + system, the
    command's children included) of one command."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if proc.stderr is not None:
        err = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
        if status:
            print(f"  ! {' '.join(cmd[:3])}... failed: {err.strip()[-300:]}", file=sys.stderr)
    return (wall, usage.ru_maxrss, os.waitstatus_to_exitcode(status),
            usage.ru_utime + usage.ru_stime)


def _tools(tools: Path) -> dict[str, Path]:
    found = {}
    crosspin = shutil.which("crosspin") or str(Path(sys.executable).parent / "crosspin")
    found["crosspin"] = Path(crosspin)
    for name in ("uv", "nab", "pip-compile"):
        if (tools / name).exists():
            found[name] = tools / name
        else:
            print(f"skipping {name}: not installed ({INSTALL})", file=sys.stderr)
    return found


def _commands(tool: str, exe: Path, case: str, cache: Path) -> dict[str, list[str]]:
    """label -> command line for one tool and case (empty: not applicable)."""
    offline = case == "offline"
    if tool == "crosspin":
        base = [str(exe), "compile", "-q", "--cache-dir", str(cache)]
        if offline:
            base.append("--offline")
        one = ["--python", "3.11", "--platform", "linux-x86_64"]
        # "resolving": reuse of an unchanged lock (crosspin.pipeline._memo) off, so
        # the row times the resolution itself; the plain rows are what a
        # user gets by default (warm/offline reruns may reuse the last lock).
        fresh = ["env", "CROSSPIN_MEMO=0"]
        out = {
            "crosspin universal (30 envs)": [*base, "-o", "cp.txt", "requirements.in"],
            "crosspin universal, resolving": [*fresh, *base, "-o", "cpr.txt", "requirements.in"],
            "crosspin one env (3.11 linux)": [*base, "-o", "cp1.txt", *one, "requirements.in"],
            "crosspin one env, resolving": [*fresh, *base, "-o", "cp1r.txt", *one,
                                            "requirements.in"],
        }
        if case == "warm":
            # Like for like with uv, which revalidates every page: no
            # freshness window (docs/speed.md), reusing and resolving.
            again = ["env", "CROSSPIN_PAGE_MAX_AGE=0"]
            out["crosspin universal, revalidating"] = [
                *again, *base, "-o", "cpv.txt", "requirements.in"]
            out["crosspin universal, resolving, revalidating"] = [
                *again, "CROSSPIN_MEMO=0", *base, "-o", "cpvr.txt", "requirements.in"]
        return out
    if tool == "uv":
        cmd = [str(exe), "pip", "compile", "-q", "--universal", "--python-version", "3.9",
               "--python", "/root/.pyenv/versions/3.11.7/bin/python3",
               "--cache-dir", str(cache), "-o", "uv.txt", "requirements.in"]
        if offline:
            cmd.append("--offline")
        return {"uv pip compile --universal": cmd}
    if tool == "nab":
        # nab's universal mode wants the platforms spelled out (its own ids),
        # and one requirements file cannot hold its per-target results: pylock.
        cmd = [str(exe), "-q", "--no-progress", "lock", "--project-mode", "universal",
               "--project-matrix-python", ">=3.9", "--project-matrix-platforms",
               *NAB_PLATFORMS, "--cache-dir", str(cache),
               "--format", "pylock", "--output", "pylock.nab.toml"]
        if offline:
            cmd.append("--offline")
        return {"nab lock (universal)": [*cmd, "pyproject.toml"]}
    if tool == "pip-compile":
        if offline:
            return {}  # pip-compile has no cache-only mode
        return {"pip-compile (one env)": [str(exe), "-q", "--cache-dir", str(cache),
                                          "-o", "pc.txt", "requirements.in"]}
    return {}


def _write_inputs(work: Path, reqs: list[str]) -> None:
    (work / "requirements.in").write_text("\n".join(reqs) + "\n", encoding="utf-8")
    deps = ", ".join(json.dumps(r) for r in reqs)
    (work / "pyproject.toml").write_text(
        f'[project]\nname = "bench"\nversion = "0"\nrequires-python = ">=3.9"\n'
        f"dependencies = [{deps}]\n",
        encoding="utf-8",
    )


def bench(inputs: str, case: str, runs: int, tools: dict[str, Path]) -> list[dict[str, object]]:
    """Time every tool on one input set and case; one row per command.

    Runs are interleaved (run 1 of every command, then run 2, ...) so that
    a slow minute of the network or the machine hits every tool alike.
    """
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    commands: list[tuple[str, list[str], Path, Path]] = []
    works: list[Path] = []
    for tool, exe in tools.items():
        work = Path(tempfile.mkdtemp(prefix=f"crosspin-bench-{tool}-"))
        works.append(work)
        _write_inputs(work, INPUTS[inputs])
        shared = work / "cache"
        for label, cmd in _commands(tool, exe, case, shared).items():
            if case != "cold":
                # Fill the cache (online) once, untimed.
                _run([c for c in cmd if c != "--offline"], work, env)
            commands.append((label, cmd, work, shared))
    samples: dict[str, list[tuple[float, int, int, float]]] = {
        label: [] for label, *_ in commands}
    for i in range(runs):
        for label, cmd, work, shared in commands:
            if case == "cold":
                cold = work / f"cold-{i}"
                cmd_i = [str(cold) if c == str(shared) else c for c in cmd]
                samples[label].append(_run(cmd_i, work, env))
                shutil.rmtree(cold, ignore_errors=True)
            else:
                samples[label].append(_run(cmd, work, env))
    rows: list[dict[str, object]] = []
    for label, *_ in commands:
        walls = [s[0] for s in samples[label]]
        rows.append({
            "inputs": inputs, "case": case, "command": label,
            "median_s": round(statistics.median(walls), 3),
            "min_s": round(min(walls), 3), "max_s": round(max(walls), 3),
            "peak_rss_mb": round(max(s[1] for s in samples[label]) / 1024, 1),
            "cpu_median_s": round(statistics.median(s[3] for s in samples[label]), 3),
            "failures": sum(1 for s in samples[label] if s[2] != 0),
            "runs": runs,
        })
        print(_line(rows[-1]), flush=True)
    for work in works:
        shutil.rmtree(work, ignore_errors=True)
    base = next((r for r in rows if str(r["command"]).startswith("crosspin universal")), None)
    for r in rows:
        if base is not None and float(base["median_s"]) > 0:  # type: ignore[arg-type]
            r["ratio_vs_crosspin"] = round(
                float(r["median_s"]) / float(base["median_s"]), 2  # type: ignore[arg-type]
            )
    return rows


def _line(r: dict[str, object]) -> str:
    return (f"{r['inputs']:9} {r['case']:7} {r['command']:32} median {r['median_s']:7.2f}s "
            f"min {r['min_s']:6.2f}s max {r['max_s']:6.2f}s rss {r['peak_rss_mb']:6.1f}MB "
            f"fail {r['failures']}")


def table(rows: list[dict[str, object]]) -> str:
    """A markdown table of the rows (for benchmarks/README.md)."""
    out = ["| inputs | case | command | median | min | max | CPU | peak RSS | vs crosspin |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ratio = r.get("ratio_vs_crosspin", "")
        fail = f" ({r['failures']} failed)" if r["failures"] else ""
        cpu = f"{r['cpu_median_s']} s" if "cpu_median_s" in r else ""
        out.append(f"| {r['inputs']} | {r['case']} | {r['command']}{fail} | {r['median_s']} s "
                   f"| {r['min_s']} s | {r['max_s']} s | {cpu} | {r['peak_rss_mb']} MB "
                   f"| {ratio} |")
    return "\n".join(out)


def main() -> None:
    """Run the comparison, print a table and write the JSON results."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--inputs", nargs="+", default=sorted(INPUTS), choices=sorted(INPUTS))
    parser.add_argument("--cases", nargs="+", default=["cold", "warm", "offline"],
                        choices=["cold", "warm", "offline"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tools", default="/tmp/tools/bin")
    parser.add_argument("--only", nargs="*", help="tool names to run (default: all found)")
    parser.add_argument("--json", default=str(Path(__file__).with_name("results.json")))
    args = parser.parse_args()
    tools = _tools(Path(args.tools))
    # As an installed tool is: pip writes bytecode at install time, an
    # editable checkout (or PYTHONDONTWRITEBYTECODE) would compile every run.
    import crosspin

    subprocess.run([sys.executable, "-m", "compileall", "-q", *crosspin.__path__], check=False)
    if args.only:
        tools = {k: v for k, v in tools.items() if k in args.only}
    rows = []
    for inputs in args.inputs:
        for case in args.cases:
            rows.extend(bench(inputs, case, args.runs, tools))
    meta = {
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        "python": platform.python_version(),
    }
    Path(args.json).write_text(json.dumps({**meta, "rows": rows}, indent=1) + "\n",
                               encoding="utf-8")
    print(f"\n{meta['date']} — {meta['machine']}\n")
    print(table(rows))


if __name__ == "__main__":
    main()
