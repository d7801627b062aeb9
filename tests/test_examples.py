"""The ready-to-copy files in examples/ and .pre-commit-hooks.yaml work as written.

Each test reads the shipped file itself (so an edit of the example is what
is tested) and runs its commands against a loopback index: the Dockerfile's
build stage in real virtual environments (no Docker engine needed), tox's
and GitHub Actions' ``pip install -r`` per Python with real interpreters,
and the pre-commit hook's entry. pip runs with this machine's pip
configuration switched off, so only the fixture index is used.
"""

from __future__ import annotations

import configparser
import functools
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REPO, run_cli
from tests.helpers.pythons import require_python

#: app needs six everywhere and exceptiongroup below Python 3.11, so a
#: universal lock gives different Pythons different subsets.
PACKAGES: dict[str, Any] = {
    "app": {"1.0": {"requires_python": ">=3.8",
                    "requires": ["six", "exceptiongroup ; python_version < '3.11'"]}},
    "six": {"1.16.0": {"requires_python": ">=3.8"}},
    "exceptiongroup": {"1.2.2": {"requires_python": ">=3.7"}},
}


#: This test run's pip, pointed at other interpreters with --python.
_PIP = [sys.executable, "-m", "pip"]


def _clean_env(tmp_path: Path, path_dirs: tuple[Path, ...] = ()) -> dict[str, str]:
    """os.environ without pip's configuration, with caches kept under tmp_path."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIP_", "VIRTUAL_ENV", "CROSSPIN_"))}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1",
               PIP_NO_INPUT="1", PIP_NO_CACHE_DIR="1", NO_COLOR="1",
               XDG_CACHE_HOME=str(tmp_path / "xdg-cache"))
    if path_dirs:
        env["PATH"] = os.pathsep.join([*map(str, path_dirs), env.get("PATH", "")])
    return env


def _lock(make_index: Any, cwd: Path, requirements: str = "app\n") -> Any:
    """Serve PACKAGES and compile ``requirements.in`` (no hashes) into cwd; the server.

    HTML pages: the pips that pyenv's interpreters bundle (23.0) misread PEP 691
    metadata entries.
    """
    server = make_index(PACKAGES, api="html")
    cwd.mkdir(parents=True, exist_ok=True)
    (cwd / "requirements.in").write_text(requirements, encoding="utf-8")
    result = run_cli(["compile", "--isolated", "--index-url", server.index_url,
                      "--cache-dir", str(cwd / ".cache"), "-q"], cwd=cwd)
    assert result.code == 0, result.stderr
    return server


@functools.cache
def _runner_pip_supports(python: Path) -> bool:
    """Whether this test run's pip can act on ``python`` with ``--python`` (a question of
    the interpreter's version, asked once per interpreter)."""
    done = subprocess.run([*_PIP, "--python", str(python), "--version"], capture_output=True,
                          text=True, check=False,
                          env={**os.environ, "PIP_CONFIG_FILE": os.devnull})
    return done.returncode == 0


def _pip_for(python: Path) -> list[str]:
    """A pip command acting on ``python``: this run's pip, else the venv's own."""
    if _runner_pip_supports(python):
        return [*_PIP, "--python", str(python)]
    return [str(python), "-m", "pip"]


def _installed(python: Path) -> set[str]:
    """``name==version`` of what a venv holds, pip and setuptools left out."""
    out = subprocess.run([*_pip_for(python), "list", "--format=freeze"],
                         capture_output=True, text=True, check=True,
                         env={**os.environ, "PIP_CONFIG_FILE": os.devnull}).stdout
    return {line.strip().lower() for line in out.splitlines()
            if line.strip() and not line.lower().startswith(("pip==", "setuptools=="))}


def _exported(lock: Path, python: str) -> set[str]:
    """The pins ``crosspin export`` gives for this Python on linux-x86_64."""
    result = run_cli(["export", str(lock), "--python", python, "--platform", "linux-x86_64",
                      "--isolated", "--cache-dir", str(lock.parent / ".cache")])
    assert result.code == 0, result.stderr
    return {line.split()[0].lower() for line in result.stdout.splitlines()
            if "==" in line and not line.startswith(("#", " ", "-"))}


def _pip_install_r(tmp_path: Path, python: Path, lock: Path) -> Path:
    """A fresh venv of ``python`` after ``pip install -r lock``; its interpreter.

    The venv gets no pip of its own (ensurepip is slow, and old pips misread
    PEP 691 metadata entries): this test run's pip installs into it, unless that
    pip no longer supports the venv's Python; then the venv's bundled pip does.
    """
    venv = tmp_path / f"venv-{python.parts[-3]}"
    env = _clean_env(tmp_path)
    subprocess.run([str(python), "-m", "venv", "--without-pip", str(venv)], check=True, env=env)
    target = venv / "bin" / "python"
    if not _runner_pip_supports(target):
        # Recent pips no longer run for older Pythons: the venv's own bundled pip does.
        subprocess.run([str(target), "-m", "ensurepip", "--default-pip"], check=True,
                       env=env, capture_output=True)
    done = subprocess.run([*_pip_for(target), "install", "-q", "-r", str(lock)],
                          capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    return venv / "bin" / "python"


# --- examples/Dockerfile -------------------------------------------------------------------


def _instructions(text: str) -> list[list[tuple[str, str]]]:
    """A Dockerfile's stages, each a list of ``(INSTRUCTION, arguments)``.

    Comment lines are dropped and ``\\`` continuations joined, as Docker does.
    """
    stages: list[list[tuple[str, str]]] = []
    logical = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            logical += line[:-1] + " "
            continue
        logical += line
        word, _, rest = logical.partition(" ")
        if word.upper() == "FROM":
            stages.append([])
        stages[-1].append((word.upper(), rest.strip()))
        logical = ""
    return stages


def _in_root(command: str, root: Path) -> str:
    """``command`` with the image's absolute folders moved under ``root``."""
    return re.sub(r"(?<![\w./-])/(src|app|srv)(?=/|\s|$)", lambda m: f"{root}/{m.group(1)}",
                  command)


def _docker_tools(tmp_path: Path) -> Path:
    """A bin folder where ``python`` is CPython 3.12 and ``crosspin`` is this crosspin."""
    tools = tmp_path / "tools-bin"
    tools.mkdir()
    (tools / "python").symlink_to(require_python("3.12"))
    script = tools / "crosspin"
    script.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m crosspin "$@"\n',
                      encoding="utf-8")
    script.chmod(0o755)
    return tools


def _run_build_stage(stage: list[tuple[str, str]], context: Path, root: Path,
                     env: dict[str, str]) -> None:
    for instruction, args in stage:
        if instruction == "COPY":
            source, target = args.split()
            if re.fullmatch(r"crosspin-\*\.whl", source):
                continue  # the wheel the comment says to build: the tools folder provides it
            destination = Path(_in_root(target, root))
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(context / source, destination)
        elif instruction == "RUN":
            if re.fullmatch(r"pip install (--no-cache-dir )?/tmp/crosspin-\*\.whl", args):
                continue  # crosspin's own wheel (D13): the tools folder provides it
            done = subprocess.run(["bash", "-c", _in_root(args, root)], env=env,
                                  capture_output=True, text=True, check=False)
            assert done.returncode == 0, f"RUN {args}\n{done.stdout}\n{done.stderr}"


def test_dockerfile_build_stage(make_index: Any, tmp_path: Path) -> None:
    """The build stage exports the Linux subset and pip installs it with --require-hashes.

    The lock has no hashes: the export must add them, or pip refuses.
    """
    context = tmp_path / "project"
    _lock(make_index, context)
    assert "--hash" not in (context / "requirements.txt").read_text(encoding="utf-8")
    stages = _instructions((REPO / "examples" / "Dockerfile").read_text(encoding="utf-8"))
    assert len(stages) == 2
    root = tmp_path / "image"
    env = _clean_env(tmp_path, (_docker_tools(tmp_path),))
    _run_build_stage(stages[0], context, root, env)
    assert ("COPY", "--from=build /app /app") in stages[1]
    app_python = root / "app" / "bin" / "python"
    assert _installed(app_python) == _exported(context / "requirements.txt", "3.12")
    done = subprocess.run([str(app_python), "-c", "import app, six"], check=False)
    assert done.returncode == 0


def test_dockerfile_sync_alternative(make_index: Any, tmp_path: Path) -> None:
    """The commented 'crosspin sync --venv /app' alternative gives the same venv."""
    context = tmp_path / "project"
    _lock(make_index, context)
    text = (REPO / "examples" / "Dockerfile").read_text(encoding="utf-8")
    match = re.search(r"^# Alternative to the pip line.*\n#\s+(.+)$", text, re.M)
    assert match is not None, "the Dockerfile no longer shows the sync alternative"
    root = tmp_path / "image"
    (root / "src").mkdir(parents=True)
    shutil.copy(context / "requirements.txt", root / "src" / "requirements.txt")
    env = _clean_env(tmp_path, (_docker_tools(tmp_path),))
    done = subprocess.run(["bash", "-c", _in_root(match.group(1), root)], env=env,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert _installed(root / "app" / "bin" / "python") == _exported(
        context / "requirements.txt", "3.12")


# --- examples/tox.ini and examples/github-actions.yml ------------------------------------------


def test_tox_example_reads_the_lock_the_howto_writes(make_index: Any, tmp_path: Path) -> None:
    """tox.ini's deps name the file docs/howto.md's library recipe compiles, and it installs."""
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(REPO / "examples" / "tox.ini", encoding="utf-8")
    deps = tox["testenv"]["deps"].split()
    assert deps[0] == "-r"
    lock_name = deps[1]
    howto = (REPO / "docs" / "howto.md").read_text(encoding="utf-8")
    command = next(line for line in howto.splitlines()
                   if line.startswith("crosspin compile pyproject.toml"))
    assert f"-o {lock_name}" in command
    server = make_index(PACKAGES, api="html")
    project = tmp_path / "lib"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "lib"\nversion = "1.0"\nrequires-python = ">=3.9"\n'
        'dependencies = ["six"]\n[project.optional-dependencies]\ntest = ["app"]\n',
        encoding="utf-8")
    result = run_cli([*shlex.split(command)[1:], "--isolated", "--index-url", server.index_url,
                      "--cache-dir", str(project / ".cache"), "-q"], cwd=project)
    assert result.code == 0, result.stderr
    # The oldest env, below exceptiongroup's marker (the Actions test takes the newest).
    oldest = tox["tox"]["envlist"].split(",")[0].strip()
    minor = f"{oldest[2]}.{oldest[3:]}"
    python = _pip_install_r(tmp_path, require_python(minor), project / lock_name)
    installed = _installed(python)
    assert installed == _exported(project / lock_name, minor)
    assert "exceptiongroup==1.2.2" in installed


def test_tox_sync_alternative_keeps_the_package_under_test(make_index: Any,
                                                            tmp_path: Path) -> None:
    """tox.ini's commented 'crosspin sync ... --keep mylib' line: the env matches the lock,
    and the package tox installed (which the lock does not list) stays."""
    text = (REPO / "examples" / "tox.ini").read_text(encoding="utf-8")
    match = re.search(r"^#\s+commands_pre = (crosspin sync .+)$", text, re.M)
    assert match is not None, "tox.ini no longer shows the sync alternative"
    project = tmp_path / "project"
    _lock(make_index, project)
    shutil.copy(project / "requirements.txt", project / "requirements-test.txt")
    venv = tmp_path / "py312"
    subprocess.run([str(require_python("3.12")), "-m", "venv", "--without-pip", str(venv)],
                   check=True)
    site = next(venv.glob("lib/python3*/site-packages"))
    for name in ("mylib", "stray"):  # installed by tox: the project, and a leftover
        info = site / f"{name}-1.0.dist-info"
        info.mkdir()
        (site / f"{name}.py").write_text("", encoding="utf-8")
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
                                       encoding="utf-8")
        (info / "RECORD").write_text(f"{name}.py,,\n{info.name}/METADATA,,\n"
                                     f"{info.name}/RECORD,,\n", encoding="utf-8")
    args = shlex.split(match.group(1).replace("{envpython}", str(venv / "bin" / "python")))
    result = run_cli([*args[1:], "--isolated", "--cache-dir", str(project / ".cache")],
                     cwd=project)
    assert result.code == 0, result.stderr
    installed = {p.name for p in site.glob("*.dist-info")}
    assert installed == {"mylib-1.0.dist-info", "app-1.0.dist-info", "six-1.16.0.dist-info"}


def _workflow() -> str:
    return (REPO / "examples" / "github-actions.yml").read_text(encoding="utf-8")


def test_github_actions_lock_job(make_index: Any, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The lock job's 'crosspin check' passes on a fresh lock and fails once the input moves."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    assert re.search(r"^\s*- run: pip install tools/crosspin-\*\.whl$", _workflow(), re.M)
    runs = re.findall(r"^\s*- run: (crosspin .+)$", _workflow(), re.M)
    assert runs == ["crosspin check requirements.txt"]
    project = tmp_path / "project"
    _lock(make_index, project)
    args = shlex.split(runs[0])[1:]
    assert run_cli(args, cwd=project).code == 0
    (project / "requirements.in").write_text("app\nsix\n", encoding="utf-8")
    stale = run_cli(args, cwd=project)
    assert stale.code == 1
    assert "is stale" in stale.stderr


def test_github_actions_test_job(make_index: Any, tmp_path: Path) -> None:
    """The newest matrix Python's 'pip install -r requirements.txt' installs its subset."""
    workflow = _workflow()
    assert re.search(r"^\s*- run: pip install -r requirements.txt$", workflow, re.M)
    matrix = re.search(r"^\s*python: \[(.+)\]$", workflow, re.M)
    assert matrix is not None
    pythons = [p.strip().strip('"') for p in matrix.group(1).split(",")]
    project = tmp_path / "project"
    _lock(make_index, project)
    # The newest Python, above exceptiongroup's marker (the tox test takes the oldest).
    python = _pip_install_r(tmp_path, require_python(pythons[-1]), project / "requirements.txt")
    installed = _installed(python)
    assert installed == _exported(project / "requirements.txt", pythons[-1])
    assert installed == {"app==1.0", "six==1.16.0"}


# --- .pre-commit-hooks.yaml ----------------------------------------------------------------------


def _hook() -> dict[str, str]:
    text = (REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    return dict(re.findall(r"^\s*-?\s*(\w+): (.+)$", text, re.M))


def test_precommit_hook_runs_on_the_right_files() -> None:
    """The hook fires for inputs and locks, not for unrelated files."""
    files = re.compile(_hook()["files"])
    for name in ("requirements.in", "requirements.txt", "requirements-dev.in",
                 "requirements-test.txt", "constraints.txt", "pyproject.toml"):
        assert files.search(name), name
    for name in ("README.md", "src/app.py", "docs/requirements.md"):
        assert not files.search(name), name


def test_precommit_hook_entry(make_index: Any, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The hook's entry passes on a current lock and fails, naming it, on a stale one."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    hook = _hook()
    assert hook["pass_filenames"] == "false"
    args = shlex.split(hook["entry"])
    assert args[0] == "crosspin"
    project = tmp_path / "project"
    _lock(make_index, project)
    assert run_cli(args[1:], cwd=project).code == 0
    (project / "requirements.in").write_text("app>=1\n", encoding="utf-8")
    stale = run_cli(args[1:], cwd=project)
    assert stale.code == 1
    assert stale.stderr.startswith("error: requirements.txt is stale")
