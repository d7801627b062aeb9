"""Lock real projects with the ``crosspin`` command and report what breaks.

Usage::

    python tools/realworld.py --out DIR [--top N | --only NAME ... | --no-top]
        [--no-projects] [--jobs N] [--timeout S] [--cache-dir DIR]
        [--exclude-newer DATE] [--fresh {sample,all,none}] [--resume]
    python tools/realworld.py --report DIR      # summary.md from DIR/results.jsonl

Each job locks one input on its own over the default matrix (or the case's own
``--python``/``--platform``), only through the ``crosspin`` command in a
subprocess, the way a user runs it:

1. ``crosspin compile`` (requirements.txt, or pylock.toml for the ``:pylock``
   jobs of the project inputs);
2. ``crosspin check`` on the lock;
3. ``crosspin compile`` again with the lock present: the output must be
   byte-identical;
4. (for the project inputs, the named cases, every tenth ranked project, or
   all with ``--fresh all``) compile the same inputs into a new directory: the
   output must equal the first one (idempotent = equal to fresh).

Inputs: the N most-downloaded PyPI projects (``rank_among_15000_most_downloaded``
in ``--ranks``, one ``requirements.in`` line each) and the cases in
``fixtures/realworld/cases.toml`` (committed project inputs and the
single-requirement cases of issue 14).

Every job ends in one class: ``ok``, ``traceback`` (a Python traceback on
stderr, an exit code outside 0/1/2, or a failure without an ``error:`` line),
``refusal`` (a clear ``error:`` line; its reason is recorded), ``check-failed``,
``changed-on-rerun`` (stage ``rerun`` or ``fresh``) or ``timeout`` (the whole
job, default 600 s). Results are appended to ``DIR/results.jsonl`` as each job
ends (``--resume`` skips the jobs already there, so a killed run continues)
and summarised in ``DIR/summary.md``. Compiles run with ``CROSSPIN_MEMO=0``
so a rerun resolves again instead of reusing the last lock.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import difflib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - crosspin depends on tomli there
    import tomli as tomllib

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CASES = REPO / "fixtures" / "realworld" / "cases.toml"
DEFAULT_RANKS = Path("/work/.library/env/packages/pypi.tsv")
RANK_COLUMN = "rank_among_15000_most_downloaded"

#: Exit codes crosspin documents (docs/cli.md): 0 fine, 1 no solution / fetch
#: failure / stale or inconsistent lock, 2 bad input.
DOCUMENTED_EXIT_CODES = frozenset({0, 1, 2})
TRACEBACK_MARK = "Traceback (most recent call last):"

OK = "ok"
TRACEBACK = "traceback"
REFUSAL = "refusal"
CHECK_FAILED = "check-failed"
CHANGED = "changed-on-rerun"
TIMEOUT = "timeout"
RUNNER_ERROR = "runner-error"
#: Report order: the worst first (``runner-error`` is this tool's own failure).
CLASSES = (TRACEBACK, TIMEOUT, CHECK_FAILED, CHANGED, REFUSAL, OK, RUNNER_ERROR)


# ---------------------------------------------------------------- cases and jobs


@dataclass(frozen=True)
class Step:
    """One ``crosspin compile`` of a case: its input files, output name and extra options."""

    src: tuple[str, ...]
    output: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Job:
    """One case in one output format, run from a fresh work directory."""

    id: str
    kind: str  # "pypi", "project" or "case"
    about: str
    steps: tuple[Step, ...]
    files: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    source_dir: Path | None = None
    rank: int | None = None
    fresh: bool = False


def top_projects(ranks: Path, top: int) -> list[tuple[int, str]]:
    """The ``top`` most-downloaded projects as ``(rank, name)``, best first."""
    found: list[tuple[int, str]] = []
    with ranks.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            raw = (row.get(RANK_COLUMN) or "").strip()
            if raw.isdigit() and int(raw) <= top:
                found.append((int(raw), row["name"]))
    return sorted(found)


def pypi_job(rank: int, name: str, fresh_every: int) -> Job:
    """A one-line ``requirements.in`` naming a ranked project."""
    return Job(
        id=name, kind="pypi", about=f"PyPI rank {rank}", rank=rank,
        steps=(Step(src=("requirements.in",), output="requirements.txt"),),
        files={"requirements.in": f"{name}\n"},
        fresh=fresh_every > 0 and rank % fresh_every == 0,
    )


def load_cases(path: Path) -> list[Job]:
    """The jobs of ``cases.toml``: ``[[project]]`` folders and ``[[case]]`` requirement lists.

    A project gets a ``:pylock`` job too unless it says ``pylock = false``.
    """
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    jobs: list[Job] = []
    for entry in data.get("project", []):
        folder = path.parent / entry["dir"]
        if not folder.is_dir():
            raise SystemExit(f"{path}: project folder {folder} is missing")
        common = tuple(entry.get("args", ()))
        steps = tuple(
            Step(src=tuple(s["src"]), output=s.get("output", "requirements.txt"),
                 args=common + tuple(s.get("args", ())))
            for s in entry.get("steps", [{"src": ["requirements.in"]}])
        )
        jobs.append(Job(id=f"project:{entry['name']}", kind="project", about=entry["about"],
                        steps=steps, source_dir=folder, fresh=True))
        if entry.get("pylock", True):
            last = steps[-1]
            pylock_steps = (*steps[:-1], Step(src=last.src, output="pylock.toml", args=last.args))
            jobs.append(Job(id=f"project:{entry['name']}:pylock", kind="project",
                            about=entry["about"] + " (pylock.toml)", steps=pylock_steps,
                            source_dir=folder, fresh=True))
    for entry in data.get("case", []):
        lines = "".join(f"{line}\n" for line in entry["requirements"])
        jobs.append(Job(
            id=f"case:{entry['name']}", kind="case", about=entry["about"],
            steps=(Step(src=("requirements.in",), output="requirements.txt",
                        args=tuple(entry.get("args", ()))),),
            files={"requirements.in": lines}, fresh=True,
        ))
    return jobs


# ---------------------------------------------------------------- running crosspin


@dataclass(frozen=True)
class Run:
    """What one crosspin command did."""

    argv: tuple[str, ...]
    returncode: int | None
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False


@dataclass(frozen=True)
class Verdict:
    """The class of one command's outcome, with the text that explains it."""

    cls: str
    reason: str = ""
    last_line: str = ""


def last_line(text: str, limit: int = 300) -> str:
    """The last non-blank line of ``text``, stripped and cut to ``limit`` characters."""
    for line in reversed(text.splitlines()):
        if line.strip():
            return _cut(line.strip(), limit)
    return ""


def _cut(line: str, limit: int) -> str:
    return line if len(line) <= limit else line[:limit] + "…"


def crosspin_frame(stderr: str) -> str:
    """The innermost traceback frame in crosspin's own code: ``file:line in function``."""
    found = ""
    for line in stderr.splitlines():
        match = _FRAME.match(line)
        if match and "/crosspin/" in match["path"].replace("\\", "/"):
            path = match["path"].replace("\\", "/")
            found = f"{path[path.rindex('/crosspin/') + 1:]}:{match['line']} in {match['func']}"
    return found


_FRAME = re.compile(r'\s*File "(?P<path>[^"]+)", line (?P<line>\d+), in (?P<func>\S+)')


def error_reason(stderr: str) -> str:
    """The ``error:`` message of a refusal (continuation lines joined with `` | ``)."""
    lines = stderr.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("error:"):
            parts = [line[len("error:"):].strip()]
            parts += [more.strip() for more in lines[i + 1:i + 6]
                      if more.startswith(" ") and more.strip()]
            return _cut(" | ".join(parts), 1000)
    return ""


def classify(run: Run) -> Verdict:
    """``ok``, ``timeout``, ``traceback`` or ``refusal`` for one crosspin command.

    A traceback anywhere on stderr, an exit code crosspin does not document
    (a signal, 3, ...), or a failure without an ``error:`` line is a
    ``traceback``: the contract is one clear line for every user error.
    """
    if run.timed_out:
        return Verdict(TIMEOUT,
                       reason=f"stopped after {run.seconds:.0f} s (the job's --timeout ran out)",
                       last_line=last_line(run.stderr))
    if TRACEBACK_MARK in run.stderr:
        return Verdict(TRACEBACK, reason="traceback", last_line=last_line(run.stderr))
    if run.returncode not in DOCUMENTED_EXIT_CODES:
        return Verdict(TRACEBACK, reason=f"exit code {run.returncode}",
                       last_line=last_line(run.stderr))
    if run.returncode == 0:
        return Verdict(OK)
    reason = error_reason(run.stderr)
    if not reason:
        return Verdict(TRACEBACK, reason=f"exit {run.returncode} without an error: line",
                       last_line=last_line(run.stderr) or last_line(run.stdout))
    return Verdict(REFUSAL, reason=reason, last_line=last_line(run.stderr))


def classify_check(run: Run) -> Verdict:
    """Like :func:`classify`, but a clean failure of ``check`` is ``check-failed``."""
    verdict = classify(run)
    crashed = TRACEBACK_MARK in run.stderr or run.returncode not in DOCUMENTED_EXIT_CODES
    if verdict.cls in (OK, TIMEOUT) or crashed:
        return verdict
    text = (run.stderr.strip() or run.stdout.strip()).splitlines()
    return Verdict(CHECK_FAILED, reason=" | ".join(line.strip() for line in text[:8]),
                   last_line=last_line(run.stderr) or last_line(run.stdout))


def diff_summary(before: str, after: str, limit: int = 24) -> list[str]:
    """The changed lines between two locks (header lines with the time excluded)."""
    changed = [
        line for line in difflib.unified_diff(before.splitlines(), after.splitlines(),
                                              lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    return changed[:limit]


@dataclass
class Options:
    """Settings shared by every job of a run."""

    crosspin: tuple[str, ...]
    out: Path
    timeout: float = 600.0
    cache_dir: Path | None = None
    exclude_newer: str | None = None
    extra_args: tuple[str, ...] = ()
    memo: bool = False
    #: ``(python, platform)`` pairs whose one-environment compile the lock is compared with.
    newest_envs: tuple[tuple[str, str], ...] = ()


class Runner:
    """Runs jobs and appends their records to ``results.jsonl`` (thread-safe)."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.results = options.out / "results.jsonl"
        self._lock = threading.Lock()
        self._children: set[subprocess.Popen[str]] = set()

    # -- commands

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["NO_COLOR"] = "1"
        env["PYTHONUNBUFFERED"] = "1"
        if not self.options.memo:
            env["CROSSPIN_MEMO"] = "0"
        return env

    def command(self, args: Sequence[str], cwd: Path, deadline: float) -> Run:
        """Run ``crosspin ARGS`` in ``cwd``; kill its process group at the deadline."""
        argv = (*self.options.crosspin, *args)
        start = time.monotonic()
        remaining = max(deadline - start, 1.0)
        proc = subprocess.Popen(argv, cwd=cwd, env=self._env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                                encoding="utf-8", errors="replace", start_new_session=True)
        with self._lock:
            self._children.add(proc)
        timed_out = False
        try:
            out, err = proc.communicate(timeout=remaining)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc)
            out, err = proc.communicate()
        finally:
            with self._lock:
                self._children.discard(proc)
        return Run(argv=tuple(args), returncode=None if timed_out else proc.returncode,
                   stdout=out, stderr=err, seconds=time.monotonic() - start,
                   timed_out=timed_out)

    def stop_children(self) -> None:
        """Kill the process groups of the commands still running (on Ctrl-C)."""
        with self._lock:
            children = list(self._children)
        for proc in children:
            _kill_group(proc)

    def compile_args(self, step: Step) -> list[str]:
        """``compile`` arguments of one step, with the run's shared options."""
        args = ["compile", *step.src, "-o", step.output, *step.args, *self.options.extra_args]
        if self.options.cache_dir is not None:
            args += ["--cache-dir", str(self.options.cache_dir)]
        if self.options.exclude_newer:
            args += ["--exclude-newer", self.options.exclude_newer]
        return args

    def check_args(self, step: Step) -> list[str]:
        """``check`` arguments for the lock one step wrote."""
        args = ["check", step.output]
        if self.options.cache_dir is not None:
            args += ["--cache-dir", str(self.options.cache_dir)]
        return args

    # -- jobs

    def workdir(self, job: Job, suffix: str = "") -> Path:
        """A new copy of the job's inputs under ``OUT/work`` (replacing an old one)."""
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in job.id)
        path = self.options.out / "work" / f"{safe}{suffix}"
        if path.exists():
            shutil.rmtree(path)
        if job.source_dir is not None:
            shutil.copytree(job.source_dir, path)
        else:
            path.mkdir(parents=True)
        for name, text in job.files.items():
            (path / name).write_text(text, encoding="utf-8")
        return path

    def run_job(self, job: Job) -> dict[str, Any]:
        """Compile, check, rerun (and maybe compile fresh) ``job``; return its record."""
        start = time.monotonic()
        deadline = start + self.options.timeout
        work = self.workdir(job)
        record: dict[str, Any] = {
            "id": job.id, "kind": job.kind, "rank": job.rank, "about": job.about,
            "exclude_newer": self.options.exclude_newer, "workdir": str(work),
        }
        verdict, stage, extra = self._stages(job, work, deadline)
        record.update(extra)
        record.update({"class": verdict.cls, "stage": stage, "reason": verdict.reason,
                       "last_line": verdict.last_line,
                       "seconds": round(time.monotonic() - start, 2),
                       "finished": datetime.now(timezone.utc).isoformat(timespec="seconds")})
        return record

    def _stages(self, job: Job, work: Path,
                deadline: float) -> tuple[Verdict, str, dict[str, Any]]:
        extra: dict[str, Any] = {}
        outputs: dict[str, str] = {}
        for number, step in enumerate(job.steps, 1):
            label = f"step {number} " if len(job.steps) > 1 else ""
            args = self.compile_args(step)
            run = self.command(args, work, deadline)
            verdict = classify(run)
            if verdict.cls != OK:
                _save_log(work, f"compile{number}", run)
                return verdict, f"{label}compile", {"command": _shown(args),
                                                    **_failure(run)}
            first = read_lock(work / step.output)
            if first is None:
                return (Verdict(CHECK_FAILED, reason=f"{step.output} is not UTF-8 text: "
                                f"{_head(work / step.output)}"),
                        f"{label}compile", extra)
            extra[f"compile{number}_seconds"] = round(run.seconds, 2)
            extra["pins"] = count_pins(first, step.output)
            check = self.command(self.check_args(step), work, deadline)
            verdict = classify_check(check)
            if verdict.cls != OK:
                _save_log(work, f"check{number}", check)
                return verdict, f"{label}check", {**extra, **_failure(check)}
            if (number == len(job.steps) and self.options.newest_envs
                    and not step.output.endswith(".toml")):
                extra["held_back"] = self.held_back(job, step, work, deadline)
            again = self.command(args, work, deadline)
            verdict = classify(again)
            if verdict.cls != OK:
                _save_log(work, f"rerun{number}", again)
                return verdict, f"{label}rerun", {**extra, **_failure(again)}
            second = read_lock(work / step.output)
            if second != first:
                (work / f"{step.output}.first").write_text(first, encoding="utf-8")
                return (Verdict(CHANGED, reason="a second compile with the lock present "
                                "changed it", last_line=""),
                        f"{label}rerun", {**extra, "diff": diff_summary(first, second or "")})
            outputs[step.output] = first
        if job.fresh:
            fresh = self.workdir(job, ".fresh")
            for step in job.steps:
                run = self.command(self.compile_args(step), fresh, deadline)
                verdict = classify(run)
                if verdict.cls != OK:
                    _save_log(fresh, "compile", run)
                    return verdict, "fresh compile", {**extra, **_failure(run)}
            for name, first in outputs.items():
                again_text = read_lock(fresh / name)
                if again_text != first:
                    return (Verdict(CHANGED, reason=f"{name} compiled into a new directory "
                                    "differs from the rerun lock"),
                            "fresh", {**extra, "diff": diff_summary(first, again_text or "")})
            extra["fresh_compared"] = True
        return Verdict(OK), "", extra

    def held_back(self, job: Job, step: Step, work: Path,
                  deadline: float) -> list[dict[str, str]]:
        """Pins of the lock older, in one environment, than a compile for that environment alone.

        ``crosspin export`` gives the lock's pins for the environment; a
        compile with ``--python``/``--platform`` naming only it gives that
        environment's own newest choice. Environments outside the lock's
        matrix, or whose own compile fails, are skipped.
        """
        found: list[dict[str, str]] = []
        for python, platform in self.options.newest_envs:
            env_args = ["--python", python, "--platform", platform]
            exported = self.command(["export", step.output, *env_args, "-o", "-"], work, deadline)
            if exported.returncode != 0:
                continue
            alone_dir = work / f"alone-{python}-{platform}"
            alone_dir.mkdir(exist_ok=True)
            for name in step.src:
                source = work / name
                if source.is_file():
                    shutil.copy(source, alone_dir / name)
            for other in job.steps[:-1]:
                shutil.copy(work / other.output, alone_dir / other.output)
            single = replace(step, args=(*_without_matrix(step.args), *env_args))
            alone = self.command(self.compile_args(single), alone_dir, deadline)
            if alone.returncode != 0:
                continue
            ours = flat_pins(exported.stdout)
            theirs = flat_pins(read_lock(alone_dir / step.output) or "")
            for name, version in sorted(ours.items()):
                best = theirs.get(name)
                if best is not None and _older(version, best):
                    found.append({"env": f"{python}-{platform}", "name": name,
                                  "lock": version, "alone": best})
        return found

    def append(self, record: dict[str, Any]) -> None:
        """Append one record to ``results.jsonl`` (one line, flushed)."""
        line = json.dumps(record, sort_keys=True)
        with self._lock, self.results.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()


def _kill_group(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _failure(run: Run) -> dict[str, Any]:
    """What a failure record keeps of a command: its stderr tail and crosspin frame."""
    found: dict[str, Any] = {"stderr_tail": _tail(run.stderr)}
    frame = crosspin_frame(run.stderr)
    if frame:
        found["crosspin_frame"] = frame
    return found


def _tail(text: str, lines: int = 25) -> list[str]:
    return [_cut(line, 300) for line in text.splitlines()[-lines:]]


def _shown(args: Sequence[str]) -> str:
    return "crosspin " + " ".join(_quote(a) for a in args)


def _quote(arg: str) -> str:
    if arg and all(c.isalnum() or c in "-_.,/:=@+" for c in arg):
        return arg
    return "'" + arg.replace("'", "'\\''") + "'"


def _save_log(work: Path, name: str, run: Run) -> None:
    text = (f"$ crosspin {' '.join(_quote(a) for a in run.argv)}\n"
            f"exit: {run.returncode} timed_out: {run.timed_out} seconds: {run.seconds:.1f}\n"
            f"--- stdout\n{run.stdout}\n--- stderr\n{run.stderr}")
    (work / f"{name}.log").write_text(text, encoding="utf-8")


def read_lock(path: Path) -> str | None:
    """A lock's text, or None when it is not UTF-8 (a corrupt lock is a finding, not a crash)."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None


def _head(path: Path) -> str:
    return repr(path.read_bytes()[:40])


def flat_pins(text: str) -> dict[str, str]:
    """``name -> version`` of the unconditional ``name==version`` lines of a requirements file."""
    pins: dict[str, str] = {}
    for line in text.splitlines():
        match = _PIN.match(line)
        if match:
            pins[match["name"].lower().replace("_", "-").replace(".", "-")] = match["version"]
    return pins


_PIN = re.compile(r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(?P<version>[^\s;\\]+)")


def _older(version: str, other: str) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(version) < Version(other)
    except InvalidVersion:
        return False


def _without_matrix(args: Sequence[str]) -> tuple[str, ...]:
    """``args`` without ``--python``/``--platform`` options (and their values)."""
    kept: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in ("--python", "--platform"):
            skip = True
        elif not arg.startswith(("--python=", "--platform=")):
            kept.append(arg)
    return tuple(kept)


def count_pins(text: str, output: str) -> int:
    """How many pins a lock lists (``==`` lines, or ``[[packages]]`` tables of a pylock)."""
    if output.endswith(".toml"):
        return sum(1 for line in text.splitlines() if line.strip() == "[[packages]]")
    return sum(1 for line in text.splitlines()
               if line[:1].isalnum() and "==" in line.split(";")[0])


# ---------------------------------------------------------------- results and report


def read_results(path: Path) -> list[dict[str, Any]]:
    """Every record of a results file (the last one wins per job id; torn lines skipped)."""
    if not path.exists():
        return []
    by_id: dict[str, dict[str, Any]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and "id" in record:
            by_id[record["id"]] = record
    return list(by_id.values())


def _order(record: dict[str, Any]) -> tuple[int, int, str]:
    kinds = {"project": 0, "case": 1, "pypi": 2}
    return (kinds.get(record.get("kind", ""), 3), record.get("rank") or 0, record["id"])


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")[:400]


def render_summary(records: Iterable[dict[str, Any]], title: str = "crosspin real-world run",
                   meta: dict[str, Any] | None = None) -> str:
    """The markdown report: counts per class and kind, then every non-ok job."""
    rows = sorted(records, key=_order)
    out = [f"# {title}", ""]
    for key, value in (meta or {}).items():
        out.append(f"- {key}: {value}")
    if meta:
        out.append("")
    kinds = ["project", "case", "pypi"]
    counts = Counter((r["class"], r.get("kind")) for r in rows)
    out += ["| class | " + " | ".join(kinds) + " | total |",
            "|---|" + "---:|" * (len(kinds) + 1)]
    for cls in CLASSES:
        per = [counts[(cls, kind)] for kind in kinds]
        out.append(f"| {cls} | " + " | ".join(str(n) for n in per) + f" | {sum(per)} |")
    totals = [sum(counts[(cls, kind)] for cls in CLASSES) for kind in kinds]
    out.append("| **all** | " + " | ".join(str(n) for n in totals) + f" | {sum(totals)} |")
    sections = [
        (TRACEBACK, "Tracebacks", ("stage", "crosspin_frame", "last_line")),
        (TIMEOUT, "Timeouts", ("stage", "last_line")),
        (CHECK_FAILED, "Locks that fail `crosspin check`", ("reason",)),
        (CHANGED, "Changed on rerun / differs from fresh", ("stage", "diff")),
        (REFUSAL, "Refusals", ("stage", "reason")),
        (RUNNER_ERROR, "Runner errors (this tool's bugs)", ("reason",)),
    ]
    for cls, heading, columns in sections:
        chosen = [r for r in rows if r["class"] == cls]
        if not chosen:
            continue
        out += ["", f"## {heading} ({len(chosen)})", "",
                "| job | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
        for r in chosen:
            cells = []
            for column in columns:
                value = r.get(column, "")
                if column == "diff":
                    value = " ".join(f"`{line}`" for line in (value or [])[:6])
                elif column == "last_line" and r.get("reason") not in ("", "traceback"):
                    value = f"{r.get('reason')}: {value}"
                cells.append(_cell(value))
            out.append(f"| {_cell(r['id'])} | " + " | ".join(cells) + " |")
    held = [(r["id"], h) for r in rows for h in r.get("held_back") or ()]
    if held:
        out += ["", f"## Held back against a one-environment compile ({len(held)} pins, "
                f"{len({job for job, _ in held})} jobs)", "",
                "| job | environment | package | lock | alone |", "|---|---|---|---|---|"]
        out += [f"| {_cell(job)} | {h['env']} | {h['name']} | {h['lock']} | {h['alone']} |"
                for job, h in held]
    done = [r for r in rows if r["class"] == OK]
    if done:
        slow = sorted(done, key=lambda r: -float(r.get("seconds", 0)))[:10]
        out += ["", "## Slowest ok jobs", "", "| job | seconds | pins |", "|---|---:|---:|"]
        out += [f"| {_cell(r['id'])} | {r.get('seconds')} | {r.get('pins', '')} |" for r in slow]
    return "\n".join(out) + "\n"


def write_summary(out: Path, meta: dict[str, Any] | None = None) -> Path:
    """Render ``out/summary.md`` from ``out/results.jsonl``."""
    path = out / "summary.md"
    path.write_text(render_summary(read_results(out / "results.jsonl"), meta=meta),
                    encoding="utf-8")
    return path


# ---------------------------------------------------------------- command line


def default_crosspin() -> tuple[str, ...]:
    """The ``crosspin`` beside this Python, else on PATH, else ``python -m crosspin``."""
    beside = Path(sys.executable).parent / "crosspin"
    if beside.exists():
        return (str(beside),)
    found = shutil.which("crosspin")
    return (found,) if found else (sys.executable, "-m", "crosspin")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The runner's command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("realworld-results"),
                        help="results folder (results.jsonl, summary.md, work/)")
    parser.add_argument("--top", type=int, default=1000, help="most-downloaded projects to lock")
    parser.add_argument("--no-top", action="store_true", help="no ranked PyPI projects")
    parser.add_argument("--only", nargs="+", default=None, metavar="NAME",
                        help="only these jobs (a PyPI name, or a case/project id or name)")
    parser.add_argument("--no-projects", action="store_true",
                        help="skip fixtures/realworld/cases.toml")
    parser.add_argument("--cases", type=Path, default=DEFAULT_CASES)
    parser.add_argument("--ranks", type=Path, default=DEFAULT_RANKS,
                        help=f"TSV with name and {RANK_COLUMN} columns")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per job")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--exclude-newer", default=None, help="passed to every compile")
    parser.add_argument("--compile-arg", action="append", default=[], metavar="ARG",
                        help="extra argument for every compile (repeatable)")
    parser.add_argument("--fresh", choices=("sample", "all", "none"), default="sample",
                        help="compile fresh into a new folder and compare: cases and every "
                        "tenth ranked project (sample), every job, or none")
    parser.add_argument("--newest", action="append", default=[], metavar="PY:PLATFORM",
                        help="also compare the lock's pins for this environment (e.g. "
                        "3.12:linux-x86_64) with a compile for it alone; repeatable")
    parser.add_argument("--resume", action="store_true",
                        help="keep results.jsonl and skip the jobs it already has")
    parser.add_argument("--memo", action="store_true",
                        help="let compile reuse its last lock (default: CROSSPIN_MEMO=0)")
    parser.add_argument("--crosspin", default=None,
                        help="crosspin command (default: the one beside this Python)")
    parser.add_argument("--report", type=Path, default=None, metavar="DIR",
                        help="only write DIR/summary.md from DIR/results.jsonl")
    return parser.parse_args(argv)


def select_jobs(args: argparse.Namespace) -> list[Job]:
    """The jobs a command line asks for, cases first, then by rank."""
    jobs: list[Job] = []
    if not args.no_projects:
        jobs += load_cases(args.cases)
    wanted = {name.lower() for name in args.only} if args.only else None
    if not args.no_top:
        fresh_every = {"sample": 10, "all": 1, "none": 0}[args.fresh]
        jobs += [pypi_job(rank, name, fresh_every)
                 for rank, name in top_projects(args.ranks, args.top)]
    if wanted is not None:
        def keep(job: Job) -> bool:
            short = job.id.split(":")
            return bool({job.id.lower(), *(part.lower() for part in short[1:2])} & wanted)
        jobs = [job for job in jobs if keep(job)]
        known = {job.id.lower() for job in jobs} | {
            job.id.split(":")[1].lower() for job in jobs if ":" in job.id}
        jobs += [pypi_job(0, name, 1 if args.fresh == "all" else 0)
                 for name in args.only if name.lower() not in known]
    if args.fresh != "sample":
        jobs = [replace(job, fresh=args.fresh == "all") for job in jobs]
    return jobs


def main(argv: Sequence[str] | None = None) -> int:
    """Run the selected jobs (or only ``--report``); write results and the summary."""
    args = parse_args(argv)
    if args.report is not None:
        print(write_summary(args.report))
        return 0
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    results = out / "results.jsonl"
    if not args.resume and results.exists():
        results.unlink()
    done = {r["id"] for r in read_results(results)} if args.resume else set()
    jobs = [job for job in select_jobs(args) if job.id not in done]
    crosspin = tuple(args.crosspin.split()) if args.crosspin else default_crosspin()
    version = subprocess.run([*crosspin, "--version"], capture_output=True, text=True,
                             check=False).stdout.strip()
    options = Options(crosspin=crosspin, out=out, timeout=args.timeout,
                      cache_dir=args.cache_dir.resolve() if args.cache_dir else None,
                      exclude_newer=args.exclude_newer, extra_args=tuple(args.compile_arg),
                      memo=args.memo,
                      newest_envs=tuple(tuple(e.split(":", 1)) for e in args.newest))
    meta = {"crosspin": version, "command": " ".join(sys.argv),
            "exclude-newer": args.exclude_newer or "-", "timeout per job": f"{args.timeout:.0f} s"}
    runner = Runner(options)
    print(f"{len(jobs)} jobs ({len(done)} already done) -> {results}", flush=True)

    def one(job: Job) -> None:
        try:
            record = runner.run_job(job)
        except Exception as exc:  # the runner's own bug: record it, go on with the next job
            record = {"id": job.id, "kind": job.kind, "rank": job.rank, "class": RUNNER_ERROR,
                      "stage": "runner", "reason": f"{type(exc).__name__}: {exc}"[:500],
                      "seconds": 0.0}
        runner.append(record)
        note = f" [{record['stage']}] {record.get('reason') or ''}" if record["class"] != OK else ""
        print(f"{record['class']:>16}  {job.id}  {record['seconds']:.1f}s{note}"[:300], flush=True)

    try:
        if args.jobs <= 1:
            for job in jobs:
                one(job)
        else:
            with ThreadPoolExecutor(max_workers=args.jobs) as pool:
                list(pool.map(one, jobs))
    except KeyboardInterrupt:
        runner.stop_children()
        print("interrupted; rerun with --resume to continue", file=sys.stderr)
        write_summary(out, meta)
        return 130
    print(write_summary(out, meta))
    return 0


if __name__ == "__main__":
    sys.exit(main())
