"""Helpers shared by tests: run the CLI in-process, read lockfiles per environment.

Also the projects, indexes and checks that several test modules share; a
test module never imports another test module (``from tests.helpers import
...`` is the one spelling).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import traceback
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
from packaging.markers import Marker
from packaging.version import Version

from crosspin.distributions import DistFile
from crosspin.environments import Environment, Matrix
from crosspin.index._cache import CachedPage, read_entry

REPO = Path(__file__).resolve().parents[2]


def scenarios_root() -> Path | None:
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
    """Exit code and captured streams of one in-process CLI run.

    ``exception`` is what escaped ``crosspin.cli.main`` uncaught (a crash):
    the run then looks as it would from a shell, exit code 1 and Python's
    traceback on stderr, so ``"Traceback" not in result.stderr`` can fail.
    """

    code: int
    stdout: str
    stderr: str
    exception: BaseException | None = None


#: Every exception that escaped ``main`` in this test; tests/conftest.py fails
#: the test at teardown when it is not empty, so a crash never passes as a
#: non-zero exit code that a test happened to expect.
UNCAUGHT: list[BaseException] = []


@contextlib.contextmanager
def chdir(path: Path) -> Iterator[None]:
    """Temporarily change the working directory."""
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def run_cli(args: Sequence[str], *, cwd: Path | None = None) -> CliResult:
    """Run ``crosspin ARGS`` in this process, as a user would from a shell."""
    from crosspin.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    crash: BaseException | None = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        ctx = chdir(cwd) if cwd is not None else contextlib.nullcontext()
        with ctx:
            try:
                main(list(args))
            except SystemExit as exc:
                code = int(exc.code or 0) if not isinstance(exc.code, str) else 1
            except Exception as exc:  # what the interpreter would print and exit 1 for
                crash, code = exc, 1
                traceback.print_exception(type(exc), exc, exc.__traceback__, file=err)
                UNCAUGHT.append(exc)
    return CliResult(code=code, stdout=out.getvalue(), stderr=err.getvalue(), exception=crash)


#: pip-tools' usual suspects: an extra (requests[socks]) and three six releases,
#: uploaded at midnight UTC on 2024-01-01, -02 and -03 (the fixtures' clock).
PIPTOOLS_PACKAGES: dict[str, Any] = {
    "requests": {"2.32.3": {"requires_python": ">=3.8", "requires": ["idna"],
                            "extras": {"socks": ["pysocks"]}}},
    "idna": {"3.10": {"requires_python": ">=3.8"}},
    "pysocks": {"1.7.1": {"requires_python": ">=3.8"}},
    "six": {"1.15.0": {"requires_python": ">=3.8"}, "1.16.0": {"requires_python": ">=3.8"},
            "1.17.0": {"requires_python": ">=3.8"}},
}

#: The one environment the single-environment CLI tests compile for.
ONE_ENV = ["--python", "3.12", "--platform", "linux-x86_64"]


def compile_in(index: Any, cwd: Path, *args: str) -> CliResult:
    """Run ``crosspin compile`` against a fixture index for :data:`ONE_ENV`."""
    return run_cli(["compile", "--isolated", "--index-url", index.index_url, "--cache-dir",
                    str(cwd / ".cache"), *ONE_ENV, *args], cwd=cwd)


def compile_requirements(index: Any, cwd: Path, requirements: str, *args: str) -> CliResult:
    """Write ``requirements.in`` into cwd and run a quiet ``crosspin compile`` against ``index``."""
    cwd.mkdir(parents=True, exist_ok=True)
    (cwd / "requirements.in").write_text(requirements, encoding="utf-8")
    return run_cli(["compile", "--isolated", "--index-url", index.index_url,
                    "--cache-dir", str(cwd / ".cache"), "-q", *args], cwd=cwd)


def parse_pins(text: str) -> list[tuple[str, str, Marker | None]]:
    """``(name, version, marker)`` of every pin line of a requirements file."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pins: list[tuple[str, str, Marker | None]] = []
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


#: A small project with a platform split (colorama only on Windows) and a
#: Python split (backport below 3.11), so the lock has markers to break.
SPLIT_PROJECT: dict[str, Any] = {
    "app": {"1.0.0": {"requires_python": ">=3.8",
                      "requires": ["lib>=1", "colorama ; os_name == 'nt'",
                                   "backport ; python_version < '3.11'"]}},
    "lib": {"1.0.0": {"requires_python": ">=3.8"}, "2.0.0": {"requires_python": ">=3.8",
                                                         "requires": ["helper>=2"]}},
    "helper": {"1.0.0": {"requires_python": ">=3.8"}, "2.0.0": {"requires_python": ">=3.8"}},
    "colorama": {"0.4.6": {"requires_python": ">=3.8"}},
    "backport": {"1.0.0": {"requires_python": ">=3.8"}},
}

#: A project shaped like real ones: platform-only and Python-only dependencies,
#: binary wheels per platform, a version split forced by Requires-Python, and
#: two non-sibling packages that need different versions of one package on
#: different platforms (the case other tools call unsatisfiable).
UNIVERSAL_PROJECT: dict[str, Any] = {
    "app": {"1.0.0": {"requires_python": ">=3.8",
                      "requires": ["pa", "pb", "native", "modern", "colorama ; os_name == 'nt'",
                                   "backport ; python_version < '3.11'"]}},
    "pa": {"1.0.0": {"requires_python": ">=3.8", "requires": ["pc<2 ; sys_platform == 'linux'"]}},
    "pb": {"1.0.0": {"requires_python": ">=3.8", "requires": ["pc>=2 ; sys_platform == 'win32'"]}},
    "pc": {"1.0.0": {"requires_python": ">=3.8"}, "2.0.0": {"requires_python": ">=3.8"}},
    "colorama": {"0.4.6": {"requires_python": ">=3.8"}},
    "backport": {"1.0.0": {"requires_python": ">=3.8"}},
    "modern": {"1.0.0": {"requires_python": ">=3.8"}, "2.0.0": {"requires_python": ">=3.11"}},
    "native": {
        "1.0.0": {
            "requires_python": ">=3.8",
            "sdist": False,
            "wheel_tags": [
                f"cp3{m}-cp3{m}-{plat}"
                for m in range(9, 15)
                for plat in (
                    "manylinux_2_17_x86_64.manylinux2014_x86_64",
                    "manylinux_2_17_aarch64.manylinux2014_aarch64",
                    "macosx_11_0_arm64",
                    "macosx_10_9_x86_64",
                    "win_amd64",
                    "win32",
                )
            ],
        }
    },
}

#: An index for every input form of a project (requirements, pyproject, local trees).
PROJECT_INDEX: dict[str, Any] = {
    "web": {"1.0.0": {"requires_python": ">=3.8", "requires": ["util>=1"]},
            "2.0.0": {"requires_python": ">=3.8", "requires": ["util>=2"]}},
    "util": {"1.0.0": {"requires_python": ">=3.8"}, "2.0.0": {"requires_python": ">=3.8"},
             "2.1.0": {"requires_python": ">=3.8"}},
    "tool": {"1.0.0": {"requires_python": ">=3.8", "requires": ["util>=2"]}},
    "docs": {"1.0.0": {"requires_python": ">=3.8"}},
    "lint": {"1.0.0": {"requires_python": ">=3.8"}},
    "pytest": {"1.0.0": {"requires_python": ">=3.8"}},
}


def make_project(folder: Path, name: str, version: str, requires: Sequence[str] = (),
                 extras: dict[str, list[str]] | None = None) -> Path:
    """A local source tree with a stdlib-only PEP 517 backend (no network to build)."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "fixtures" / "_backend_template.py", folder / "_fixture_backend.py")
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {r}" for r in requires]
    for extra, reqs in (extras or {}).items():
        lines.append(f"Provides-Extra: {extra}")
        lines += [f"Requires-Dist: {r} ; extra == \"{extra}\"" for r in reqs]
    (folder / "PKG-INFO").write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    (folder / "pyproject.toml").write_text(
        "[build-system]\nrequires = []\nbuild-backend = \"_fixture_backend\"\n"
        "backend-path = [\".\"]\n\n[project]\n"
        f"name = \"{name}\"\ndynamic = [\"version\", \"dependencies\"]\n",
        encoding="utf-8",
    )
    pkg = folder / name.replace("-", "_")
    pkg.mkdir(exist_ok=True)
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    return folder


def assert_cache_consistent(cache: Path) -> None:
    """Every cache entry is whole: files and metadata match their sha256 names, framed
    entries their digest, pages parse, no temp files."""
    if not cache.exists():
        return
    for path in cache.rglob("*"):
        if path.is_dir():
            continue
        assert not path.name.startswith(".tmp-"), f"temporary file left: {path}"
        rel = path.relative_to(cache).parts
        if rel[1:] == ("unpacked", ".lock"):
            continue  # the unpacked store's one shared lock (pruning), kept on purpose
        assert not path.name.endswith(".lock"), f"lock file left: {path}"
        if rel[1:3] in (("files", "sha256"), ("metadata", "sha256")):
            assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name, path
        if rel[1:3] == ("metadata", "sha256"):
            assert path.read_bytes().startswith(b"Metadata-Version:"), path
            assert b"ghost" not in path.read_bytes(), path
        elif rel[1] in ("pages", "metadata", "parsed"):
            body = read_entry(path)
            assert body is not None, f"damaged entry: {path}"
            if rel[1] == "pages":
                CachedPage.from_json(body)  # a whole entry, or this raises
            if rel[1] == "metadata":
                assert b"ghost" not in body, path


def scenario_compile_args(
    scenario: Any, folder: Path, index_url: str, matrix_args: list[str]
) -> list[str]:
    """Write the scenario's requirements.in into ``folder``; the compile arguments for it."""
    opts = scenario.resolver_options
    (folder / "requirements.in").write_text(
        "".join(f"{r}\n" for r in scenario.root.requires), encoding="utf-8"
    )
    args = [
        "compile", "requirements.in", "-o", "requirements.txt", "--isolated",
        "--index-url", index_url, "--cache-dir", str(folder / "cache"), "-q", *matrix_args,
    ]
    if opts.prereleases:
        args.append("--pre")
    if opts.resolution:
        args += ["--resolution", opts.resolution]
    for name in opts.no_binary:
        args += ["--no-binary", name]
    for name in opts.no_build:
        args += ["--only-binary", name]
    return args


def matrix_for(scenario: Any) -> tuple[list[str], Matrix]:
    """The ``--python``/``--platform`` arguments of a scenario and the matrix they give."""
    opts = scenario.resolver_options
    python = scenario.python_version
    if opts.universal:
        spec = f">={python}"
        if scenario.root.requires_python:
            spec += f",{scenario.root.requires_python}"
        args = ["--python", spec]
        return args, Matrix.from_options(python=spec)
    platform = opts.python_platform or "linux-x86_64"
    return ["--python", python, "--platform", platform], Matrix.from_options(
        python=python, platforms=[platform]
    )


def write_sdist(path: Path, members: dict[str, str]) -> Path:
    """A ``.tar.gz`` at ``path`` holding ``members`` (archive name -> text)."""
    import tarfile

    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tf:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tf.addfile(info, io.BytesIO(data))
    return path


#: A PEP 517 backend whose every hook fails, as NVIDIA's placeholder sdists do.
_NEVER_BUILDS = '''\
def _fail(*args, **kwargs):
    raise RuntimeError("this placeholder never builds")


get_requires_for_build_wheel = prepare_metadata_for_build_wheel = build_wheel = _fail
build_sdist = _fail
'''


def failing_sdist(folder: Path, name: str, version: str) -> Path:
    """``NAME-VERSION.tar.gz`` in ``folder``: an sdist that cannot even tell its metadata."""
    stem = f"{name}-{version}"
    return write_sdist(folder / f"{stem}.tar.gz", {
        f"{stem}/PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{stem}/pyproject.toml": ('[build-system]\nrequires = []\n'
                                   'build-backend = "backend"\nbackend-path = ["."]\n'),
        f"{stem}/backend.py": _NEVER_BUILDS,
    })
