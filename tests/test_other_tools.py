"""The checks that used to live only behind ``-m network``, on the loopback index.

- crosspin run by another CPython (3.12, 3.13: any that can import this run's
  libraries without installing anything) writes byte-identical locks (DESIGN.md,
  contract 2); CPython 3.9 needs older libraries than this test environment's,
  so that case stays in tests/test_network.py;
- pip-compile (pip-tools) pins what crosspin pins for the one environment
  it resolves for;
- pip >= 26.1 installs a pylock.toml crosspin wrote (in
  tests/lockfiles/test_pylock_interop.py).

Each skips with the reason when the other tool or interpreter is absent.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

from fixtures.server import IndexServer
from tests.helpers import REPO, UNIVERSAL_PROJECT, parse_pins, run_cli
from tests.helpers.pythons import python_params, require_python

#: A few features whose rendering could depend on the running Python: a
#: universal matrix, markers, hashes, upload times (--exclude-newer), extras.
PROJECT: dict[str, Any] = {
    **UNIVERSAL_PROJECT,
    "tool": {"1.0.0": {"requires_python": ">=3.8", "extras": {"fast": ["native"]}},
             "2.0.0": {"requires_python": ">=3.10", "extras": {"fast": ["native"]}}},
}
ARGS = ["--isolated", "--generate-hashes", "--exclude-newer", "2030-01-01", "-q"]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from fixtures.catalog import IndexFactory

    factory = IndexFactory(tmp_path_factory.mktemp("other-tools"))
    try:
        yield factory(PROJECT)
    finally:
        factory.close()


def _inputs(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "requirements.in").write_text("app\ntool[fast]\n", encoding="utf-8")
    return folder


def _crosspin_under(python: Path) -> list[str]:
    """A command running this checkout's crosspin under ``python``, with this run's libraries.

    Nothing is installed: the interpreter imports ``src/`` and this test
    environment's site-packages (pure Python), so no network is needed.
    """
    boot = ("import sys; sys.path[:0] = sys.argv[1:3]; del sys.argv[1:3]; "
            "sys.argv[0] = 'crosspin'; from crosspin.cli import main; main()")
    return [str(python), "-I", "-c", boot, str(REPO / "src"), sysconfig.get_paths()["purelib"]]


@pytest.mark.parametrize("minor", python_params(("3.12", "3.13")))
@pytest.mark.parametrize("output", ["requirements.txt", "pylock.toml"])
def test_output_is_byte_identical_under_another_python(
    minor: str, output: str, served: IndexServer, tmp_path: Path
) -> None:
    """The same compile under CPython 3.X writes the bytes this Python writes."""
    python = require_python(minor)
    cmd = _crosspin_under(python)
    # Only the libraries decide a skip; crosspin failing to import under 3.X is a failure.
    libraries = ("attrs, build, click, httpx, installer, packaging, platformdirs, "
                 "pyproject_hooks, resolvelib, rich, tomli_w, tomllib")
    probe = subprocess.run([str(python), "-I", "-c", f"import sys; sys.path[:0] = sys.argv[1:]; "
                            f"import {libraries}", sysconfig.get_paths()["purelib"]],
                           capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["?"])[-1]
        pytest.skip(f"this test run's libraries do not import under CPython {minor} ({last}); "
                    "tests/test_network.py builds a venv for it from the live index")
    ours, theirs = _inputs(tmp_path / "ours"), _inputs(tmp_path / "theirs")
    args = ["compile", "requirements.in", "-o", output, "--index-url", served.index_url, *ARGS]
    result = run_cli([*args, "--cache-dir", str(ours / "cache")], cwd=ours)
    assert result.code == 0, result.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON"))}
    done = subprocess.run([*cmd, *args, "--cache-dir", str(theirs / "cache")], cwd=theirs,
                          capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    mine = (ours / output).read_bytes()
    assert b"native" in mine and b"tool" in mine and b"sha256" in mine
    assert (theirs / output).read_bytes() == mine


def _pip_compile() -> list[str] | None:
    """pip-compile and the Python it resolves for: installed here, or in $CROSSPIN_TOOLS/bin."""
    if importlib.util.find_spec("piptools") is not None:
        return [sys.executable, "-m", "piptools", "compile"]
    tools = Path(os.environ.get("CROSSPIN_TOOLS", "/tmp/tools")) / "bin"
    found = shutil.which("pip-compile") or (
        str(tools / "pip-compile") if (tools / "pip-compile").exists() else None)
    if found is None:
        return None
    # Run it with the interpreter beside it, so that interpreter is known.
    python = Path(found).parent / "python"
    return [str(python), found] if python.exists() else None


def test_pip_compile_pins_what_crosspin_pins(served: IndexServer, tmp_path: Path) -> None:
    """For pip-compile's own environment (its Python on this Linux), the same pins."""
    pip_compile = _pip_compile()
    if pip_compile is None:
        pytest.skip("pip-tools is not installed here (nor in $CROSSPIN_TOOLS/bin, /tmp/tools/bin)")
    minor = subprocess.run(
        [pip_compile[0], "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True, text=True, check=True).stdout.strip()
    if sys.platform != "linux" or os.uname().machine != "x86_64":
        pytest.skip("the comparison environment is linux-x86_64")
    work = _inputs(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1")
    done = subprocess.run(
        [*pip_compile, "--quiet", "--no-header", "--index-url", served.index_url,
         "--cache-dir", str(work / "pip-cache"), "--output-file", "theirs.txt",
         "requirements.in"], cwd=work, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    result = run_cli(["compile", "requirements.in", "-o", "ours.txt", "--isolated", "-q",
                      "--index-url", served.index_url, "--cache-dir", str(work / "cache"),
                      "--python", minor, "--platform", "linux-x86_64"], cwd=work)
    assert result.code == 0, result.stderr

    def pins(name: str) -> set[str]:
        return {f"{n}=={v}" for n, v, _ in parse_pins((work / name).read_text("utf-8"))}

    theirs = pins("theirs.txt")
    assert {"app==1.0.0", "native==1.0.0"} <= theirs
    assert pins("ours.txt") == theirs
