"""tools/realworld.py: classification, cases, and whole runs against a loopback index.

The real corpus (PyPI's top projects, fixtures/realworld) needs the live index
and is run by hand (docs/realworld.md); ``test_live_project`` is its
``network`` smoke test.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.helpers import REPO


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("realworld", REPO / "tools" / "realworld.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["realworld"] = module
    spec.loader.exec_module(module)
    return module


rw = _load()


def _run(code: int | None, stderr: str = "", *, timed_out: bool = False) -> object:
    return rw.Run(argv=("compile",), returncode=code, stdout="", stderr=stderr, seconds=2.0,
                  timed_out=timed_out)


REFUSAL = """\
Resolving 30 environments
error: no solution for 3.12-linux-x86_64: conflicting requirements on six
  -r requirements.in -> six>=1.16
  -c constraints.txt -> six<1.16
hint: relax the conflicting requirements, or narrow the matrix
"""

TRACEBACK = """\
Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/crosspin/metadata.py", line 218, in project_metadata
  File "/usr/lib/python3.11/email/generator.py", line 225, in _write_headers
email.errors.HeaderParseError: header value appears to contain an embedded header
"""


@pytest.mark.parametrize(
    ("code", "stderr", "timed_out", "cls", "reason"),
    [
        (0, "Locked 5 packages\n", False, "ok", ""),
        (1, REFUSAL, False, "refusal",
         "no solution for 3.12-linux-x86_64: conflicting requirements on six"
         " | -r requirements.in -> six>=1.16 | -c constraints.txt -> six<1.16"),
        (1, TRACEBACK, False, "traceback", "traceback"),
        # A traceback is a bug even when the exit code looks documented.
        (2, "error: bad\n" + TRACEBACK, False, "traceback", "traceback"),
        (-9, "", False, "traceback", "exit code -9"),
        (3, "error: odd\n", False, "traceback", "exit code 3"),
        (1, "something failed\n", False, "traceback", "exit 1 without an error: line"),
        (None, "Resolving\n", True, "timeout", "stopped after 2 s (the job's --timeout ran out)"),
    ],
)
def test_classify(code: int | None, stderr: str, timed_out: bool, cls: str, reason: str) -> None:
    verdict = rw.classify(_run(code, stderr, timed_out=timed_out))
    assert (verdict.cls, verdict.reason) == (cls, reason)


def test_traceback_verdict_names_the_exception_and_crosspins_frame() -> None:
    verdict = rw.classify(_run(1, TRACEBACK))
    assert verdict.last_line.startswith("email.errors.HeaderParseError: header value")
    assert rw.crosspin_frame(TRACEBACK) == "crosspin/metadata.py:218 in project_metadata"


def test_check_failure_is_its_own_class_but_a_crash_stays_a_traceback() -> None:
    stale = "error: requirements.txt is stale: requirements.in changed\nhint: run compile\n"
    failed = rw.classify_check(_run(1, stale))
    assert failed.cls == "check-failed"
    assert "requirements.txt is stale" in failed.reason
    assert rw.classify_check(_run(1, TRACEBACK)).cls == "traceback"
    assert rw.classify_check(_run(0)).cls == "ok"


def test_diff_summary_lists_changed_pins_only() -> None:
    before = "# header\ntorch==2.10.0 ; sys_platform == \"linux\"\nsix==1.16.0\n"
    after = "# header\ntorch==2.9.1 ; sys_platform == \"linux\"\nsix==1.16.0\n"
    assert rw.diff_summary(before, after) == [
        '-torch==2.10.0 ; sys_platform == "linux"', '+torch==2.9.1 ; sys_platform == "linux"']


def test_committed_cases_are_complete() -> None:
    """Every committed project names its inputs, and each input says what it represents."""
    jobs = rw.load_cases(rw.DEFAULT_CASES)
    projects = {job.id for job in jobs if job.kind == "project" and not job.id.endswith(":pylock")}
    assert len(projects) >= 6
    assert {"project:django-app", "project:piptools-layered", "project:dependency-groups",
            "project:legacy-pins", "project:desktop-agent", "project:datascience"} <= projects
    for job in jobs:
        if job.kind != "project":
            continue
        for step in job.steps:
            for name in step.src:
                first = (job.source_dir / name).read_text(encoding="utf-8").splitlines()[0]
                assert first.startswith("# "), f"{job.id}: {name} needs a first-line comment"
    assert any(job.id.endswith(":pylock") for job in jobs)
    assert "case:torchvision-3platforms" in {job.id for job in jobs}


def test_top_projects_reads_ranks(tmp_path: Path) -> None:
    tsv = tmp_path / "pypi.tsv"
    tsv.write_text("name\tversion\tmonth\trank_among_15000_most_downloaded\tsummary\n"
                   "six\t1\t2020-01\t3\tx\nboto3\t1\t2020-01\t1\ty\n"
                   "rare\t1\t2020-01\t\tz\nidna\t1\t2020-01\t2\t\"quoted\n", encoding="utf-8")
    assert rw.top_projects(tsv, 2) == [(1, "boto3"), (2, "idna")]


def test_summary_lists_every_refusal_and_traceback() -> None:
    records = [
        {"id": "six", "kind": "pypi", "rank": 2, "class": "ok", "seconds": 1.0, "pins": 1},
        {"id": "docopt", "kind": "pypi", "rank": 9, "class": "traceback", "stage": "compile",
         "reason": "traceback", "last_line": "HeaderParseError: embedded header",
         "crosspin_frame": "crosspin/metadata.py:218 in project_metadata"},
        {"id": "case:graphene", "kind": "case", "class": "refusal", "stage": "compile",
         "reason": "bad metadata for graphene 2.1.5"},
    ]
    text = rw.render_summary(records)
    assert "| traceback | 0 | 1 | 0 | 1 |" not in text
    assert "| traceback | 0 | 0 | 1 | 1 |" in text
    assert "| refusal | 0 | 1 | 0 | 1 |" in text
    assert ("| docopt | compile | crosspin/metadata.py:218 in project_metadata"
            " | HeaderParseError: embedded header |") in text
    assert "| case:graphene | compile | bad metadata for graphene 2.1.5 |" in text


# ---------------------------------------------------------------- whole runs


def _cases(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "cases.toml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def _simple_cases(tmp_path: Path, *names: str) -> Path:
    """A cases.toml with one single-requirement case per name."""
    body = "".join(f'[[case]]\nname = "{n}"\nabout = "x"\nrequirements = ["a"]\n' for n in names)
    return _cases(tmp_path, body)


def _records(out: Path) -> dict[str, dict[str, Any]]:
    lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    return {r["id"]: r for r in map(json.loads, lines)}


def test_run_against_a_local_index(make_index: Any, tmp_path: Path) -> None:
    """Real crosspin, real loopback index: a lockable case is ok (checked, rerun, fresh),
    a missing package is a refusal with its reason; --resume skips what is done."""
    any_python = {"requires_python": ">=3.8"}
    srv = make_index({
        "app": {"1.0.0": {**any_python,
                          "requires": ["six>=1.15", "colorama ; sys_platform == 'win32'"]}},
        "six": {"1.15.0": any_python, "1.16.0": any_python},
        "colorama": {"0.4.6": any_python},
    }, api="json")
    project = tmp_path / "proj"
    project.mkdir()
    (project / "base.in").write_text("# a layer\napp\n", encoding="utf-8")
    (project / "dev.in").write_text("# on top\n-c base.txt\nsix\n", encoding="utf-8")
    cases = _cases(tmp_path, """\
        [[project]]
        name = "layers"
        dir = "proj"
        about = "two layers"
        steps = [{ src = ["base.in"], output = "base.txt" },
                 { src = ["dev.in"], output = "dev.txt" }]
        pylock = false

        [[case]]
        name = "missing"
        about = "no such project"
        requirements = ["no-such-project"]
        """)
    out = tmp_path / "out"
    argv = ["--out", str(out), "--no-top", "--cases", str(cases), "--cache-dir",
            str(tmp_path / "cache"), "--compile-arg=--isolated",
            f"--compile-arg=--index-url={srv.index_url}", "--timeout", "120"]
    assert rw.main(argv) == 0
    records = _records(out)
    layers = records["project:layers"]
    assert layers["class"] == "ok", layers
    assert layers["fresh_compared"] is True
    assert "six==1.16.0" in (out / "work" / "project_layers" / "dev.txt").read_text()
    missing = records["case:missing"]
    assert missing["class"] == "refusal"
    assert "no-such-project" in missing["reason"]
    summary = (out / "summary.md").read_text()
    assert "| ok | 1 | 0 | 0 | 1 |" in summary
    assert "| case:missing | compile |" in summary

    (out / "results.jsonl").write_text(
        json.dumps(records["project:layers"]) + "\n", encoding="utf-8")
    assert rw.main([*argv, "--resume"]) == 0
    again = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in again] == ["project:layers", "case:missing"]


FAKE = """\
import pathlib, sys, time
args = sys.argv[1:]
if args[0] == "--version":
    print("fake 0"); sys.exit(0)
name = pathlib.Path.cwd().name
counter = pathlib.Path("calls")
calls = int(counter.read_text()) + 1 if counter.exists() else 1
counter.write_text(str(calls))
if name.startswith("case_crash"):
    print("Traceback (most recent call last):\\n  File x\\nKeyError: 'torch'", file=sys.stderr)
    sys.exit(1)
if name.startswith("case_slow"):
    time.sleep(60)
if args[0] == "export":
    print("lib==1.0\\nsix==1.16.0")
    sys.exit(0)
if args[0] == "compile" and "--python" in args:
    pathlib.Path(args[args.index("-o") + 1]).write_text("lib==2.0\\nsix==1.16.0\\n")
    sys.exit(0)
if args[0] == "compile" and name.startswith("case_garbled"):
    # 24 bytes of a TLS record before the text, as a real run once wrote.
    pathlib.Path(args[args.index("-o") + 1]).write_bytes(b"\\x17\\x03\\x03\\x00\\x13\\xf9#\\n")
    sys.exit(0)
if args[0] == "compile" and name.startswith("case_held"):
    pathlib.Path(args[args.index("-o") + 1]).write_text("lib==1.0 ; python_version < '3.13'\\n")
    sys.exit(0)
if args[0] == "compile":
    out = args[args.index("-o") + 1]
    pins = "torch==2.10.0\\n" if calls == 1 else "torch==2.9.1\\n"
    pathlib.Path(out).write_text(pins)
"""


def test_fake_crosspin_outcomes(tmp_path: Path) -> None:
    """Traceback, changed-on-rerun and timeout, from a stand-in ``crosspin`` command."""
    fake = tmp_path / "fake_crosspin.py"
    fake.write_text(FAKE, encoding="utf-8")
    cases = _simple_cases(tmp_path, "crash", "flip", "slow", "garbled", "held")
    out = tmp_path / "out"
    assert rw.main(["--out", str(out), "--no-top", "--cases", str(cases), "--timeout", "3",
                    "--crosspin", f"{sys.executable} {fake}", "--jobs", "2",
                    "--newest", "3.12:linux-x86_64"]) == 0
    records = _records(out)
    assert records["case:crash"]["class"] == "traceback"
    assert records["case:crash"]["last_line"] == "KeyError: 'torch'"
    flip = records["case:flip"]
    assert (flip["class"], flip["stage"]) == ("changed-on-rerun", "rerun")
    assert flip["diff"] == ["-torch==2.10.0", "+torch==2.9.1"]
    assert records["case:slow"]["class"] == "timeout"
    assert records["case:slow"]["seconds"] < 30
    garbled = records["case:garbled"]
    assert garbled["class"] == "check-failed"
    assert garbled["reason"].startswith("requirements.txt is not UTF-8 text: b'\\x17\\x03\\x03")
    held = records["case:held"]
    assert held["class"] == "ok"
    assert held["held_back"] == [
        {"env": "3.12-linux-x86_64", "name": "lib", "lock": "1.0", "alone": "2.0"}]
    assert "| case:held | 3.12-linux-x86_64 | lib | 1.0 | 2.0 |" in (out / "summary.md").read_text()


def test_flat_pins_and_matrix_options() -> None:
    text = "# c\nTyping_Extensions==4.6 ; python_version < '3.11'\nrich[jupyter]==13.0 \\\n"
    assert rw.flat_pins(text) == {"typing-extensions": "4.6", "rich": "13.0"}
    assert rw._without_matrix(["--python", ">=3.10", "--extra", "test", "--platform=linux-x86_64",
                               "--platform", "macos-arm64"]) == ("--extra", "test")


@pytest.mark.network
def test_live_project(tmp_path: Path) -> None:
    """One committed project through the whole pipeline against the live index."""
    out = tmp_path / "out"
    assert rw.main(["--out", str(out), "--no-top", "--only", "http-client"]) == 0
    records = _records(out)
    assert {r["class"] for r in records.values()} == {"ok"}, records


def test_a_runner_bug_is_recorded_and_the_run_goes_on(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    cases = _simple_cases(tmp_path, "one", "two")

    def broken(self: object, job: object) -> None:
        raise KeyError("oops")

    monkeypatch.setattr(rw.Runner, "run_job", broken)
    out = tmp_path / "out"
    assert rw.main(["--out", str(out), "--no-top", "--cases", str(cases),
                    "--crosspin", f"{sys.executable} -c pass"]) == 0
    records = _records(out)
    assert {r["class"] for r in records.values()} == {"runner-error"}
    assert records["case:two"]["reason"] == "KeyError: 'oops'"
    assert "## Runner errors (this tool's bugs) (2)" in (out / "summary.md").read_text()
