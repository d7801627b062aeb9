"""Time ``crosspin sync`` against ``uv pip sync``, ``pip install -r`` and ``pip-sync``, in one run.

    python benchmarks/sync.py [--runs 3] [--cases warm warm+venv cold noop]
        [--only LABEL-PART ...] [--no-compile] [--target-python PATH]
        [--tools /tmp/tools/bin] [--json benchmarks/results-sync.json]
    python benchmarks/sync.py --report benchmarks/results-sync.json

Every tool installs the *same* lock: ``jupyter`` compiled by crosspin over
its default 30-environment matrix, as ``requirements.txt`` (with hashes,
without option lines: the machine's pip.conf indexes stay out of the lock)
and as ``pylock.toml``; for CPython 3.12 on Linux that is 96 packages.
The target is ``--target-python`` (default: the newest
``/root/.pyenv/versions/3.12.*``). Cases:

``warm``
    every tool's cache filled by one untimed install; an empty venv per run
    (made untimed).
``warm+venv``
    the same, with making the venv timed (``python -m venv --without-pip``
    for crosspin and pip, ``uv venv`` for uv, ``python -m venv`` for
    pip-sync, which runs the venv's own pip).
``cold``
    a fresh, empty cache per run (downloads from the live index), empty venv.
``noop``
    the venv already holds the lock's subset (installed by that tool).

pip is a pip >= 26.1 in its own venv, run with ``--python <target>``
(``--no-deps``: the lock is complete). pip-sync (pip-tools) runs from a
venv of the target's Python, so it evaluates the lock's markers for 3.12
(from /tmp/tools, a 3.11, it would pick the 3.11 subset). uv gets
``UV_PYTHON_DOWNLOADS=never`` and ``--python``. Each tool has its own cache
folder. Runs are interleaved over every case and command (run 1 of all,
then run 2, ...), so a slow minute of the network or of the shared machine
hits all alike; the load average is recorded with every sample.

Unless ``--no-compile``, the compile rows of issue 17 follow (jupyter,
crosspin and uv only, ``compare.bench``): cold, warm (pages reused within
crosspin's freshness window, and ``CROSSPIN_PAGE_MAX_AGE=0`` revalidating
like uv), offline; each with the "resolving" rows (``CROSSPIN_MEMO=0``)
beside the default (reusing) ones and one environment beside 30.
Needs the live index.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import compare  # a sibling script, not a package

ENV = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
CASES = ("warm", "warm+venv", "cold", "noop")
PIP_TOOLS = "pip-tools==7.6.2"  # the version in /tmp/tools


@dataclass
class Command:
    """One tool installing one lock file; ``{python}``/``{cache}`` filled per run."""

    label: str
    argv: list[str]
    lock: Path
    venv_cmd: list[str]  # makes the venv ({venv}); timed only in warm+venv
    base: str  # the crosspin label this row is compared with
    work: Path = Path()
    installed: int = 0
    samples: dict[str, list[tuple[float, int, float, float]]] = field(default_factory=dict)


def _default_target() -> str:
    found = sorted(Path("/root/.pyenv/versions").glob("3.12.*/bin/python3"),
                   key=lambda p: int(p.parts[-3].split(".")[2]))
    return str(found[-1]) if found else "python3.12"


def _venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _tool_venv(where: Path, python: str, requirement: str) -> Path:
    """A venv of ``python`` with ``requirement`` installed (kept between runs)."""
    exe = _venv_python(where)
    if not exe.exists():
        subprocess.run([python, "-m", "venv", str(where)], check=True)
        subprocess.run([str(exe), "-m", "pip", "install", "-q", "-U", requirement],
                       check=True, env=ENV)
    return exe


def make_locks(work: Path) -> tuple[Path, Path]:
    """The jupyter lock as requirements.txt and pylock.toml (live index)."""
    (work / "requirements.in").write_text("jupyter\n", encoding="utf-8")
    base = [sys.executable, "-m", "crosspin", "compile", "requirements.in", "-q",
            "--cache-dir", str(work / "compile-cache")]
    subprocess.run([*base, "-o", "requirements.txt", "--generate-hashes",
                    "--no-emit-index-url", "--no-emit-find-links"], check=True, cwd=work)
    subprocess.run([*base, "-o", "pylock.toml"], check=True, cwd=work)
    return work / "requirements.txt", work / "pylock.toml"


def commands(reqs: Path, pylock: Path, args: argparse.Namespace) -> list[Command]:
    """Every (tool, lock file) pair to time; tools that are missing are skipped."""
    crosspin = shutil.which("crosspin") or str(Path(sys.executable).parent / "crosspin")
    target = args.target_python
    bare = [target, "-m", "venv", "--without-pip", "{venv}"]
    out: list[Command] = []
    for lock in (reqs, pylock):
        base = f"crosspin sync {lock.name}"
        out.append(Command(base, [crosspin, "sync", "-q", str(lock), "--python", "{python}",
                                  "--cache-dir", "{cache}"], lock, bare, base))
        uv = args.tools / "uv"
        if uv.exists():
            out.append(Command(f"uv pip sync {lock.name}",
                               [str(uv), "pip", "sync", "-q", "--python", "{python}",
                                "--cache-dir", "{cache}", str(lock)], lock,
                               [str(uv), "venv", "-q", "--python", target, "{venv}"], base))
        if lock.name in args.pip_formats:
            pip = _tool_venv(args.pip_venv, sys.executable, "pip>=26.1")
            out.append(Command(f"pip install -r {lock.name}",
                               [str(pip), "-m", "pip", "--python", "{python}", "install", "-q",
                                "--no-deps", "--cache-dir", "{cache}", "-r", str(lock)],
                               lock, bare, base))
        if lock is reqs and (args.tools / "pip-sync").exists():
            # pip-sync evaluates markers with its own interpreter: run it from the target's.
            exe = _tool_venv(args.piptools_venv, target, PIP_TOOLS)
            out.append(Command(f"pip-sync {lock.name}",
                               [str(exe.parent / "pip-sync"), "-q", "--python-executable",
                                "{python}", "--pip-args", "--cache-dir {cache}", str(lock)],
                               lock, [target, "-m", "venv", "{venv}"], base))
    if args.only:
        out = [c for c in out if any(part in c.label for part in args.only)]
    return out


def _fill(argv: list[str], **values: Path) -> list[str]:
    """Replace ``{name}`` placeholders (whole or inside an argument)."""
    out = []
    for arg in argv:
        for key, value in values.items():
            arg = arg.replace("{" + key + "}", str(value))
        out.append(arg)
    return out


def _run(argv: list[str], cwd: Path) -> int:
    proc = subprocess.run(argv, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, check=False)
    if proc.returncode:
        err = proc.stderr.decode(errors="replace").strip()[-400:]
        print(f"  ! {' '.join(argv[:4])}... exit {proc.returncode}: {err}", file=sys.stderr)
    return proc.returncode


def _installed(venv: Path) -> int:
    site = next(iter((venv / "lib").glob("python*/site-packages")), None)
    if site is None:
        return 0
    return sum(1 for p in site.glob("*.dist-info") if not p.name.startswith("pip-"))


def _fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    return path


def _cpu() -> float:
    """CPU seconds (user + system) of every child waited for so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def sample(cmd: Command, case: str, run: int) -> tuple[float, int, float, float]:
    """One timed run of ``cmd`` in ``case``: (seconds, exit status, load average, CPU
    seconds). CPU time is what a loaded machine inflates least: wall time waits for the
    cores too."""
    load = os.getloadavg()[0]
    cache = cmd.work / "cache"
    venv = cmd.work / "venv-noop" if case == "noop" else _fresh(cmd.work / "venv")
    if case == "cold":
        cache = _fresh(cmd.work / f"cold-{run}")
    tool = _fill(cmd.argv, python=_venv_python(venv), cache=cache)
    make = _fill(cmd.venv_cmd, venv=venv)
    if case != "warm+venv" and case != "noop" and _run(make, cmd.work):
        return (0.0, 1, load, 0.0)
    cpu = _cpu()
    start = time.perf_counter()
    status = _run(make, cmd.work) if case == "warm+venv" else 0
    status = status or _run(tool, cmd.lock.parent)
    wall = time.perf_counter() - start
    cpu = _cpu() - cpu
    if case == "cold":
        shutil.rmtree(cache, ignore_errors=True)
    if not status and case != "noop" and _installed(venv) != cmd.installed:
        print(f"  ! {cmd.label} ({case}) installed {_installed(venv)}, "
              f"not {cmd.installed}", file=sys.stderr)
        status = 1
    return (wall, status, load, cpu)


def warm_up(cmd: Command) -> None:
    """Fill the tool's cache and make the no-op venv (one untimed install)."""
    venv = _fresh(cmd.work / "venv-noop")
    if _run(_fill(cmd.venv_cmd, venv=venv), cmd.work):
        raise SystemExit(f"cannot make a venv for {cmd.label}")
    if _run(_fill(cmd.argv, python=_venv_python(venv), cache=cmd.work / "cache"),
            cmd.lock.parent):
        raise SystemExit(f"{cmd.label} failed in the warm-up run")
    cmd.installed = _installed(venv)


def rows(cmds: list[Command], cases: list[str]) -> list[dict[str, object]]:
    """One row per (case, command): median/min/max, load range, ratio to crosspin."""
    out: list[dict[str, object]] = []
    for case in cases:
        medians = {}
        for cmd in cmds:
            walls = [s[0] for s in cmd.samples[case] if s[1] == 0] or [float("nan")]
            medians[cmd.label] = statistics.median(walls)
            loads = [s[2] for s in cmd.samples[case]]
            cpus = [s[3] for s in cmd.samples[case] if s[1] == 0] or [float("nan")]
            out.append({
                "case": case, "command": cmd.label, "lock": cmd.lock.name,
                "packages": cmd.installed,
                "median_s": round(medians[cmd.label], 3),
                "min_s": round(min(walls), 3), "max_s": round(max(walls), 3),
                "cpu_median_s": round(statistics.median(cpus), 3),
                "failures": sum(1 for s in cmd.samples[case] if s[1]),
                "runs": len(cmd.samples[case]),
                "load": [round(min(loads), 2), round(max(loads), 2)],
            })
        for row, cmd in zip(out[-len(cmds):], cmds):
            base = medians.get(cmd.base)
            if base:
                row["ratio_vs_crosspin"] = round(float(row["median_s"]) / base, 2)  # type: ignore[arg-type]
    return out


def table(sync_rows: list[dict[str, object]]) -> str:
    """A markdown table of the sync rows (for benchmarks/README.md)."""
    out = ["| case | command | pkgs | median | min | max | CPU | load "
           "| vs crosspin (same lock) |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in sync_rows:
        fail = f" ({r['failures']} failed)" if r["failures"] else ""
        lo, hi = r["load"]  # type: ignore[misc]
        cpu = f"{r['cpu_median_s']} s" if "cpu_median_s" in r else ""
        out.append(f"| {r['case']} | {r['command']}{fail} | {r['packages']} "
                   f"| {r['median_s']} s | {r['min_s']} s | {r['max_s']} s | {cpu} | {lo}-{hi} "
                   f"| {r.get('ratio_vs_crosspin', '')} |")
    return "\n".join(out)


def _median(rows: list[dict[str, object]], case: str, command: str,
            key: str = "median_s") -> float | None:
    for r in rows:
        if r["case"] == case and r["command"] == command and not r.get("failures"):
            value = r.get(key)
            return None if value is None else float(value)  # type: ignore[arg-type]
    return None


def issue_table(sync_rows: list[dict[str, object]], compile_rows: list[dict[str, object]]) -> str:
    """Issue 17's table: crosspin and the reference tool, side by side, from one run.

    The CPU column (user + system seconds, children included) is the ratio a
    loaded machine distorts least; results files older than it leave it empty.
    """
    out = ["| case | crosspin | reference | time / reference | CPU / reference CPU |",
           "|---|---|---|---|---|"]

    def line(what: str, rows: list[dict[str, object]], case: str, ours: str, ref: str,
             ref_name: str) -> None:
        mine, theirs = _median(rows, case, ours), _median(rows, case, ref)
        if mine is None or theirs is None:
            return
        cpu_mine = _median(rows, case, ours, "cpu_median_s")
        cpu_theirs = _median(rows, case, ref, "cpu_median_s")
        cpu = (f"{cpu_mine:.2f} s / {cpu_theirs:.2f} s = {cpu_mine / cpu_theirs:.2f}x"
               if cpu_mine is not None and cpu_theirs else "")
        out.append(f"| {what} | {mine:.2f} s | {theirs:.2f} s ({ref_name}) "
                   f"| {mine / theirs:.2f}x | {cpu} |")

    for case, what in (("warm", "sync into an empty venv, caches warm"),
                       ("warm+venv", "the same, venv creation included"),
                       ("cold", "sync into an empty venv, cold cache"),
                       ("noop", "no-op sync")):
        for lock in ("pylock.toml", "requirements.txt"):
            line(f"{what} ({lock})", sync_rows, case, f"crosspin sync {lock}",
                 f"uv pip sync {lock}", "uv pip sync")
    uv = "uv pip compile --universal"
    for case, command, what in (
        ("cold", "crosspin universal (30 envs)", "compile cold (empty cache), 30 envs"),
        ("cold", "crosspin universal, resolving", "compile cold, 30 envs, resolving"),
        ("warm", "crosspin universal (30 envs)", "compile warm, reusing (600 s page window)"),
        ("warm", "crosspin universal, resolving", "compile warm, resolving (600 s page window)"),
        ("warm", "crosspin universal, revalidating", "compile warm, reusing, pages revalidated"),
        ("warm", "crosspin universal, resolving, revalidating",
         "compile warm, resolving, pages revalidated"),
        ("offline", "crosspin universal (30 envs)", "compile offline, reusing"),
        ("offline", "crosspin universal, resolving", "compile offline, resolving"),
    ):
        line(what, compile_rows, case, command, uv, "uv")
    for case in ("offline", "warm", "cold"):
        line(f"compile {case}, resolving: 30 envs vs 1 env", compile_rows, case,
             "crosspin universal, resolving", "crosspin one env, resolving", "crosspin, 1 env")
    return "\n".join(out)


def report(path: Path) -> None:
    """Print the tables of a results file written by an earlier run."""
    data = json.loads(path.read_text(encoding="utf-8"))
    print(f"{data['date']} ({data['started']}) - {data['machine']}; target {data['target']}; "
          f"{data['runs']} interleaved runs; {data['versions']}\n")
    print(issue_table(data["sync"], data["compile"]))
    print()
    print(table(data["sync"]))
    if data["compile"]:
        print()
        print(compare.table(data["compile"]))


def main() -> None:
    """Run the benchmark, print tables and write the JSON results."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=CASES)
    parser.add_argument("--only", nargs="*", help="run only commands whose label has one of these")
    parser.add_argument("--pip-formats", nargs="*", default=["requirements.txt"],
                        help="lock files pip installs (pylock.toml support is experimental)")
    parser.add_argument("--no-compile", action="store_true", help="skip the compile rows")
    parser.add_argument("--compile-runs", type=int, default=None)
    parser.add_argument("--target-python", default=_default_target())
    parser.add_argument("--tools", type=Path, default=Path("/tmp/tools/bin"))
    tmp = Path(tempfile.gettempdir())
    parser.add_argument("--pip-venv", type=Path, default=tmp / "crosspin-bench-pip")
    parser.add_argument("--piptools-venv", type=Path, default=tmp / "crosspin-bench-piptools")
    parser.add_argument("--json", type=Path, default=Path(__file__).with_name("results-sync.json"))
    parser.add_argument("--report", type=Path, default=None,
                        help="print the tables of an earlier results file; run nothing")
    args = parser.parse_args()
    if args.report is not None:
        report(args.report)
        return
    import crosspin

    # As an installed tool is (pip compiles at install; PYTHONDONTWRITEBYTECODE is set here).
    subprocess.run([sys.executable, "-m", "compileall", "-q", *crosspin.__path__], check=False)
    work = Path(tempfile.mkdtemp(prefix="crosspin-bench-sync-"))
    reqs, pylock = make_locks(work)
    cmds = commands(reqs, pylock, args)
    for i, cmd in enumerate(cmds):
        cmd.work = work / f"cmd{i}"
        cmd.work.mkdir()
        cmd.samples = {case: [] for case in args.cases}
        warm_up(cmd)
        print(f"warm-up: {cmd.label}: {cmd.installed} packages", flush=True)
    started = time.strftime("%Y-%m-%d %H:%M")
    for run in range(args.runs):  # interleaved: run 1 of every case and command, then run 2...
        for case in args.cases:
            for cmd in cmds:
                cmd.samples[case].append(sample(cmd, case, run))
                wall, status, load, cpu = cmd.samples[case][-1]
                print(f"run {run + 1} {case:9} {cmd.label:34} {wall:7.2f}s "
                      f"cpu {cpu:6.2f}s exit {status} load {load:.2f}", flush=True)
    sync_rows = rows(cmds, args.cases)
    compile_rows: list[dict[str, object]] = []
    if not args.no_compile:
        tools = {k: v for k, v in compare._tools(args.tools).items() if k in ("crosspin", "uv")}
        for case in ("cold", "warm", "offline"):
            compile_rows.extend(compare.bench("jupyter", case, args.compile_runs or args.runs,
                                              tools))
    meta = {
        "date": datetime.date.today().isoformat(), "started": started,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        "target": args.target_python, "runs": args.runs,
        "versions": _versions(args, cmds),
    }
    args.json.write_text(json.dumps({**meta, "sync": sync_rows, "compile": compile_rows},
                                    indent=1) + "\n", encoding="utf-8")
    print()
    report(args.json)
    shutil.rmtree(work, ignore_errors=True)


def _versions(args: argparse.Namespace, cmds: list[Command]) -> dict[str, str]:
    out = {"crosspin": _out([sys.executable, "-m", "crosspin", "--version"])}
    if any(c.label.startswith("uv") for c in cmds):
        out["uv"] = _out([str(args.tools / "uv"), "--version"])
    if any(c.label.startswith("pip install") for c in cmds):
        out["pip"] = _out([str(_venv_python(args.pip_venv)), "-m", "pip", "--version"])
    if any(c.label.startswith("pip-sync") for c in cmds):
        out["pip-sync"] = _out([str(args.piptools_venv / "bin" / "pip-sync"), "--version"])
    return out


def _out(argv: list[str]) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, env=ENV, check=False)
    return proc.stdout.strip().split(" from ")[0]


if __name__ == "__main__":
    main()
