"""Helpers shared by tests: run the CLI in-process, read lockfiles per environment."""

from __future__ import annotations

import contextlib
import io
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Optional

import attrs
from packaging.markers import Marker
from packaging.version import Version

from crosspin.distributions import DistFile
from crosspin.environments import Environment, Matrix

REPO = Path(__file__).resolve().parent.parent


def scenarios_root() -> Optional[Path]:
    """The shared packse scenarios, or None when they are not beside the repo."""
    env = os.environ.get("CROSSPIN_SCENARIOS")
    root = Path(env) if env else REPO.parent / "shared" / "scenarios"
    return root if root.is_dir() else None


class MemoryFinder:
    """An in-memory index for the resolver (project -> files); counts page reads."""

    def __init__(self, files: dict[str, list[DistFile]]) -> None:
        self.files = files
        self.reads: Counter[str] = Counter()

    def project_files(self, name: str) -> tuple[DistFile, ...]:
        self.reads[name] += 1
        return tuple(self.files.get(name, ()))

    def project_releases(self, name: str) -> dict[Version, tuple[DistFile, ...]]:
        grouped: dict[Version, list[DistFile]] = {}
        for f in self.project_files(name):
            grouped.setdefault(f.version, []).append(f)
        return {v: tuple(fs) for v, fs in grouped.items()}

    def prefetch_projects(self, names: Iterable[str]) -> None:
        pass

    def prefetch_metadata(self, files: Iterable[DistFile]) -> None:
        pass


@attrs.frozen
class CliResult:
    """Exit code and captured streams of one in-process CLI run."""

    code: int
    stdout: str
    stderr: str


@contextlib.contextmanager
def chdir(path: Path) -> Iterator[None]:
    """Temporarily change the working directory."""
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def run_cli(args: Sequence[str], *, cwd: Optional[Path] = None) -> CliResult:
    """Run ``crosspin ARGS`` in this process, as a user would from a shell."""
    from crosspin.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        ctx = chdir(cwd) if cwd is not None else contextlib.nullcontext()
        with ctx:
            try:
                main(list(args))
            except SystemExit as exc:
                code = int(exc.code or 0) if not isinstance(exc.code, str) else 1
    return CliResult(code=code, stdout=out.getvalue(), stderr=err.getvalue())


#: The one environment the single-environment CLI tests compile for.
ONE_ENV = ["--python", "3.12", "--platform", "linux-x86_64"]


def compile_in(index: Any, cwd: Path, *args: str) -> CliResult:
    """Run ``crosspin compile`` against a fixture index for :data:`ONE_ENV`."""
    return run_cli(["compile", "--isolated", "--index-url", index.index_url, "--cache-dir",
                    str(cwd / ".cache"), *ONE_ENV, *args], cwd=cwd)


def parse_pins(text: str) -> list[tuple[str, str, Optional[Marker]]]:
    """``(name, version, marker)`` of every pin line of a requirements file."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pins = []
    logical = text.replace("\\\n", " ")
    for line in logical.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "-")) or line.startswith(" "):
            continue
        body = stripped.split(" --hash", 1)[0].split("  #", 1)[0].strip()
        req = Requirement(body)
        spec = next(iter(req.specifier))
        pins.append((canonicalize_name(req.name), spec.version, req.marker))
    return pins


def selected(text: str, env: Environment) -> frozenset[str]:
    """``name==version`` the file's markers select in ``env``."""
    values = dict(env.marker_environment)
    values["extra"] = ""
    return frozenset(
        f"{name}=={version}"
        for name, version, marker in parse_pins(text)
        if marker is None or marker.evaluate(values)
    )


def selected_by_env(text: str, matrix: Matrix) -> dict[str, frozenset[str]]:
    """Environment name -> selected ``name==version`` set."""
    return {env.name: selected(text, env) for env in matrix.environments}
