"""pylock.toml through the CLI: multi-use selection, bad input, real installers."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import textwrap
import venv
from pathlib import Path
from typing import Any

import pytest
from packaging.pylock import Pylock

from crosspin.environments import Matrix
from tests.helpers import run_cli, selected

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

#: base -> a (-> c on Windows only); extra "test" -> t (-> f); group "dev" -> d (-> e);
#: group "lint" -> e; extra "docs" -> s on Linux only. Versions never conflict,
#: so the per-combination requirements.txt resolves the same versions.
PACKAGES: dict[str, Any] = {
    "a": {"1.0.0": {"requires": ["c>=1; sys_platform == 'win32'"], "requires_python": ">=3.8"}},
    "c": {"1.0.0": {"requires_python": ">=3.8"}, "2.0.0": {"requires_python": ">=3.8"}},
    "f": {"1.0.0": {"requires_python": ">=3.8"}},
    "t": {"1.0.0": {"requires": ["f"], "requires_python": ">=3.8"}},
    "d": {"1.0.0": {"requires": ["e"], "requires_python": ">=3.8"}},
    "e": {"1.0.0": {"requires_python": ">=3.8"}},
    "s": {"1.0.0": {"requires_python": ">=3.8"}},
}

PYPROJECT = textwrap.dedent(
    """\
    [project]
    name = "app"
    version = "0.1"
    requires-python = ">=3.9"
    dependencies = ["a"]

    [project.optional-dependencies]
    test = ["t"]
    docs = ["s; sys_platform == 'linux'"]

    [dependency-groups]
    dev = ["d"]
    lint = ["e"]
    """
)

EXTRAS = ("docs", "test")
GROUPS = ("dev", "lint")


def _compile(tmp_path: Path, url: str, *extra_args: str) -> Any:
    return run_cli(
        ["compile", "pyproject.toml", "--isolated", "--index-url", url,
         "--cache-dir", str(tmp_path / "cache"), "-q", *extra_args],
        cwd=tmp_path,
    )


@pytest.fixture
def project(tmp_path: Path, make_index: Any) -> tuple[Path, str]:
    srv = make_index(PACKAGES)
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    return tmp_path, srv.index_url


def _check_combinations(path: Path, url: str) -> None:
    result = _compile(path, url, "--all-extras", "--all-groups", "-o", "pylock.toml")
    assert result.code == 0, result.stderr
    text = (path / "pylock.toml").read_text(encoding="utf-8")
    lock = Pylock.from_dict(tomllib.loads(text))
    matrix = Matrix.from_options(python=">=3.9")
    for extras in _subsets(EXTRAS):
        for groups in _subsets(GROUPS):
            args = [f"--extra={e}" for e in extras] + [f"--group={g}" for g in groups]
            out = f"req-{'-'.join(extras + groups) or 'base'}.txt"
            res = _compile(path, url, *args, "-o", out)
            assert res.code == 0, res.stderr
            req_text = (path / out).read_text(encoding="utf-8")
            for env in matrix.environments:
                got = {
                    f"{p.name}=={p.version}"
                    for p, _ in lock.select(
                        environment=env.marker_environment,  # type: ignore[arg-type]
                        tags=env.tags, extras=extras, dependency_groups=groups,
                    )
                }
                assert got == set(selected(req_text, env)), (env.name, extras, groups)


def test_platform_only_edge_to_a_package_an_extra_also_needs(
    tmp_path: Path, make_index: Any
) -> None:
    """A Windows-only edge does not make a package base on Linux, where only an extra needs it."""
    packages = dict(PACKAGES, t={"1.0.0": {"requires": ["c"], "requires_python": ">=3.8"}})
    srv = make_index(packages)
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    _check_combinations(tmp_path, srv.index_url)


def _subsets(items: tuple[str, ...]) -> list[tuple[str, ...]]:
    return [c for n in range(len(items) + 1) for c in itertools.combinations(items, n)]


def test_pylock_selection_matches_requirements_per_combination(
    project: tuple[Path, str],
) -> None:
    """For every env and extra/group choice, pylock selects what requirements.txt pins."""
    path, url = project
    _check_combinations(path, url)
    lock = Pylock.from_dict(tomllib.loads((path / "pylock.toml").read_text(encoding="utf-8")))
    assert list(lock.extras or ()) == list(EXTRAS)
    assert list(lock.dependency_groups or ()) == list(GROUPS)
    assert list(lock.default_groups or ()) == []
    assert len(lock.environments or ()) == 5


def test_pylock_compile_is_byte_identical_on_rerun(project: tuple[Path, str]) -> None:
    """A second compile with the existing pylock.toml as input writes the same bytes."""
    path, url = project
    args = ["--all-extras", "--all-groups", "--group", "dev", "-o", "pylock.dev.toml"]
    assert _compile(path, url, *args).code == 0
    first = (path / "pylock.dev.toml").read_bytes()
    assert b'default-groups = [\n    "dev",\n]' in first
    again = _compile(path, url, *args)
    assert again.code == 0, again.stderr
    assert (path / "pylock.dev.toml").read_bytes() == first


def test_format_option_picks_pylock_for_any_name(project: tuple[Path, str]) -> None:
    """--format pylock writes a PEP 751 file even to a name that is not pylock.toml."""
    path, url = project
    result = _compile(path, url, "--format", "pylock", "-o", "-")
    assert result.code == 0, result.stderr
    assert result.stdout.startswith('lock-version = "1.0"')
    Pylock.from_dict(tomllib.loads(result.stdout))


def test_broken_existing_pylock_fails_with_key_path(project: tuple[Path, str]) -> None:
    """A hand-broken pylock.toml as the existing output: exit 2, one error line with the key."""
    path, url = project
    assert _compile(path, url, "-o", "pylock.toml").code == 0
    text = (path / "pylock.toml").read_text(encoding="utf-8")
    broken = text.replace("[packages.wheels.hashes]", "[packages.wheels.nohashes]", 1)
    assert broken != text
    (path / "pylock.toml").write_text(broken, encoding="utf-8")
    result = _compile(path, url, "-o", "pylock.toml")
    assert result.code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert "pylock.toml: packages[0].wheels[0].hashes" in errors[0]
    assert "Traceback" not in result.stderr
    assert (path / "pylock.toml").read_text(encoding="utf-8") == broken


def _venv(where: Path) -> Path:
    venv.EnvBuilder(with_pip=True, clear=True).create(where)
    return where / ("Scripts" if sys.platform == "win32" else "bin") / "python"


def _pip_supports_pylock(python: Path) -> bool:
    # ``-r pylock.toml`` is pip >= 26.1 (experimental); older pips mention
    # pylock in their help (``pip lock``) but read it as requirements lines.
    out = subprocess.run([str(python), "-m", "pip", "--version"],
                         capture_output=True, text=True, check=False).stdout.split()
    try:
        major, minor = (int(x) for x in out[1].split(".")[:2])
    except (IndexError, ValueError):
        return False
    return (major, minor) >= (26, 1)


def _host_lock(path: Path, url: str) -> None:
    py = f"{sys.version_info[0]}.{sys.version_info[1]}"
    result = _compile(path, url, "--python", py, "--all-extras", "--all-groups",
                      "-o", "pylock.toml")
    assert result.code == 0, result.stderr


def test_pip_installs_a_pylock_served_locally(
    project: tuple[Path, str], tmp_path_factory: Any
) -> None:
    """This run's pip (>= 26.1) installs a host pylock.toml from the loopback index, exactly."""
    if not _pip_supports_pylock(Path(sys.executable)):
        pytest.skip("this test run's pip is older than 26.1 and cannot install a pylock.toml "
                    "(.ci/run upgrades pip first)")
    path, url = project
    _host_lock(path, url)
    target = tmp_path_factory.mktemp("pylock-pip") / "v"
    venv.EnvBuilder(with_pip=False, clear=True).create(target)
    python = target / ("Scripts" if sys.platform == "win32" else "bin") / "python"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1")
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                           "-q", "-r", str(path / "pylock.toml")],
                          cwd=path, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    listed = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "list",
                             "--format=freeze"], capture_output=True, text=True, env=env,
                            check=True).stdout.lower().split()
    # The base set for this host: a (c only on Windows); extras and groups stay out.
    assert sorted(x for x in listed if not x.startswith("pip==")) == ["a==1.0.0"]


@pytest.mark.network
def test_pip_installs_from_pylock(project: tuple[Path, str], tmp_path_factory: Any) -> None:
    """pip (upgraded from the configured index if needed) installs the base set from pylock."""
    path, url = project
    _host_lock(path, url)
    python = _venv(tmp_path_factory.mktemp("pipvenv") / "v")
    if not _pip_supports_pylock(python):
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-U", "pip"], check=True)
    if not _pip_supports_pylock(python):
        pytest.skip("this pip cannot install from pylock.toml")
    subprocess.run([str(python), "-m", "pip", "install", "-r", str(path / "pylock.toml")],
                   check=True, cwd=path)
    listed = subprocess.run([str(python), "-m", "pip", "list", "--format=freeze"],
                            capture_output=True, text=True, check=True).stdout.lower()
    assert "a==1.0.0" in listed
    assert "t==" not in listed  # extras are not installed by default


def test_uv_installs_from_pylock(project: tuple[Path, str], tmp_path_factory: Any) -> None:
    """uv pip install -r pylock.toml installs the base set into a real venv."""
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH")
    path, url = project
    _host_lock(path, url)
    target = tmp_path_factory.mktemp("uvvenv") / "v"
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(target)], check=True)
    python = target / ("Scripts" if sys.platform == "win32" else "bin") / "python"
    subprocess.run([uv, "pip", "install", "--python", str(python), "--offline",
                    "-r", str(path / "pylock.toml")], check=True, cwd=path)
    listed = subprocess.run([uv, "pip", "freeze", "--python", str(python)],
                            capture_output=True, text=True, check=True).stdout.lower()
    assert "a==1.0.0" in listed


def _uv() -> str | None:
    found = shutil.which("uv")
    return found or (str(Path("/tmp/tools/bin/uv")) if Path("/tmp/tools/bin/uv").exists()
                     else None)


@pytest.mark.network
def test_live_jupyter_pylock_selects_like_requirements_and_installs(
    tmp_path: Path, capsys: Any
) -> None:
    """Live jupyter: select() == requirements.txt in all 30 envs; pip and uv install it."""
    (tmp_path / "requirements.in").write_text("jupyter\n", encoding="utf-8")
    for out in ("pylock.toml", "requirements.txt"):
        result = run_cli(["compile", "requirements.in", "-q", "-o", out], cwd=tmp_path)
        assert result.code == 0, result.stderr
    lock = Pylock.from_dict(tomllib.loads((tmp_path / "pylock.toml").read_text("utf-8")))
    req_text = (tmp_path / "requirements.txt").read_text(encoding="utf-8")
    matrix = Matrix.from_options()
    equal = 0
    for env in matrix.environments:
        got = {f"{p.name}=={p.version}" for p, _ in lock.select(
            environment=env.marker_environment, tags=env.tags)}  # type: ignore[arg-type]
        assert got == set(selected(req_text, env)), env.name
        equal += 1
    assert equal == len(matrix) == 30
    with capsys.disabled():
        print(f"\npylock select() == requirements.txt in {equal}/{len(matrix)} environments")
    python = _venv(tmp_path / "pipvenv")
    if not _pip_supports_pylock(python):
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-U", "pip>=26.1"],
                       check=True)
    assert _pip_supports_pylock(python)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", "pylock.toml"],
                   check=True, cwd=tmp_path)
    subprocess.run([str(python), "-c", "import jupyter_server, notebook"], check=True)
    uv = _uv()
    if uv is None:
        return
    uv_env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    target = tmp_path / "uvvenv"
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(target)], check=True,
                   env=uv_env)
    subprocess.run([uv, "pip", "install", "-q", "--python", str(target / "bin" / "python"),
                    "-r", "pylock.toml"], check=True, cwd=tmp_path, env=uv_env)
    subprocess.run([str(target / "bin" / "python"), "-c", "import jupyter_server, notebook"],
                   check=True)
