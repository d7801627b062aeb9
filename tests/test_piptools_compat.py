"""A drop-in for pip-tools users (issue 16): pip-tools 7.6's options, config and messages.

The option table is data: every option of ``pip-compile`` and ``pip-sync``
7.6.2 with crosspin's planned action. An option crosspin does not accept
yet is a strict xfail, so the table turns green option by option. The
behaviour tests pin what a user notices (a name, an exit code, a file),
not yet the exact wording, which docs/output.md will quote once settled;
each failing one is a strict xfail naming the gap. When an option starts to
parse, move its row from TO_ACCEPT to SAME.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ONE_ENV, PIPTOOLS_PACKAGES, compile_requirements, run_cli
from tests.helpers.pythons import require_python

ISSUE = "issue 16: not implemented yet"
ANY = ">=3.8"


def _cp(platform: str) -> list[str]:
    return [f"cp3{m}-cp3{m}-{platform}" for m in range(9, 15)]


PACKAGES: dict[str, Any] = {
    **PIPTOOLS_PACKAGES,
    "app": {"1.0": {"requires_python": ANY, "requires": ["lib"]}},
    "lib": {"1.0": {"requires_python": ">=3.11"}, "2.0": {"requires_python": ">=3.11"}},
    "pywin32": {"306": {"requires_python": None, "sdist": False, "wheel_tags": _cp("win_amd64")}},
    "uvloop": {"0.21.0": {"requires_python": ANY,
                          "wheel_tags": _cp("manylinux_2_17_x86_64") + _cp("macosx_11_0_arm64")
                          + _cp("manylinux_2_17_aarch64") + _cp("macosx_10_9_x86_64")}},
}


pytestmark = pytest.mark.usefixtures("plain")


@pytest.fixture
def index(make_index: Any) -> Any:
    return make_index(PACKAGES)


def _compile(index: Any, cwd: Path, requirements: str, *args: str) -> Any:
    return compile_requirements(index, cwd, requirements, *args)


# --- the option table -------------------------------------------------------------------------

#: (command, argv) of every pip-compile / pip-sync 7.6.2 option crosspin accepts.
SAME = [
    ("compile", ["-v"]), ("compile", ["-q"]), ("compile", ["--dry-run"]), ("compile", ["--pre"]),
    ("compile", ["--extra", "x"]), ("compile", ["--all-extras"]), ("compile", ["-f", "x"]),
    ("compile", ["-i", "x"]), ("compile", ["--extra-index-url", "x"]), ("compile", ["--header"]),
    ("compile", ["--no-header"]), ("compile", ["--annotate"]), ("compile", ["--no-annotate"]),
    ("compile", ["--annotation-style", "line"]), ("compile", ["-U"]), ("compile", ["-P", "x"]),
    ("compile", ["-o", "x"]), ("compile", ["--allow-unsafe"]), ("compile", ["--generate-hashes"]),
    ("compile", ["--emit-find-links"]), ("compile", ["--no-emit-find-links"]),
    ("compile", ["--cache-dir", "x"]), ("compile", ["--emit-index-url"]),
    ("compile", ["--no-emit-index-url"]), ("compile", ["-c", "x"]),
    ("compile", ["--version"]), ("compile", ["--color"]), ("compile", ["--no-color"]),
    ("compile", ["-n"]), ("compile", ["-p"]), ("compile", ["-r"]), ("compile", ["--rebuild"]),
    ("compile", ["--no-index"]), ("compile", ["--cert", "x"]), ("compile", ["--client-cert", "x"]),
    ("compile", ["--trusted-host", "x"]), ("compile", ["--uploaded-prior-to", "2024-01-01"]),
    ("compile", ["--emit-trusted-host"]), ("compile", ["--no-emit-trusted-host"]),
    ("compile", ["--no-upgrade"]), ("compile", ["--newline", "lf"]),
    ("compile", ["--no-allow-unsafe"]), ("compile", ["--strip-extras"]),
    ("compile", ["--no-strip-extras"]), ("compile", ["--reuse-hashes"]),
    ("compile", ["--no-reuse-hashes"]), ("compile", ["--max-rounds", "10"]),
    ("compile", ["--build-isolation"]), ("compile", ["--no-build-isolation"]),
    ("compile", ["--pip-args", "--pre"]), ("compile", ["--resolver", "backtracking"]),
    ("compile", ["--emit-options"]), ("compile", ["--no-emit-options"]),
    ("compile", ["--unsafe-package", "x"]), ("compile", ["--config", "pyproject.toml"]),
    ("compile", ["--no-config"]),
    ("sync", ["-a"]), ("sync", ["-n"]), ("sync", ["-f", "x"]), ("sync", ["-i", "x"]),
    ("sync", ["--extra-index-url", "x"]), ("sync", ["-v"]), ("sync", ["-q"]),
    ("sync", ["--version"]), ("sync", ["--force"]), ("sync", ["--trusted-host", "x"]),
    ("sync", ["--no-index"]), ("sync", ["--python-executable", "python3"]),
    ("sync", ["--cert", "x"]), ("sync", ["--client-cert", "x"]),
    ("sync", ["--pip-args", "--no-index"]), ("sync", ["--config", "pyproject.toml"]),
    ("sync", ["--no-config"]),
]

#: Options (or spellings) pip-tools 7.6.2 has and crosspin is to accept: none left.
TO_ACCEPT: list[tuple[str, list[str]]] = []

#: (command, argv, crosspin's equivalent the refusal names). The build-requirement
#: options are refused by the lead's decision D4 (their dynamic part would need a
#: build of the project's backend at compile time).
REFUSED = [
    ("compile", ["--resolver", "legacy"], "backtracking"),
    ("compile", ["--build-deps-for", "wheel"], "--group"),
    ("compile", ["--all-build-deps"], "--group"),
    ("compile", ["--only-build-deps"], "--group"),
]


def _ids(rows: list[tuple[str, list[str]]]) -> list[str]:
    return [f"{command} {argv[0]}" for command, argv in rows]


def _parses(command: str, argv: list[str], cwd: Path) -> Any:
    # --help is eager: click rejects an unknown option before printing help,
    # so this checks that the option parses without running the command.
    (cwd / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\n', encoding="utf-8")
    return run_cli([command, *argv, "--help"], cwd=cwd)


@pytest.mark.parametrize(("command", "argv"), SAME, ids=_ids(SAME))
def test_pip_tools_option_accepted(command: str, argv: list[str], tmp_path: Path) -> None:
    """A pip-tools 7.6 option crosspin already takes parses."""
    result = _parses(command, argv, tmp_path)
    assert result.code == 0, result.stderr


def test_no_pip_tools_option_is_left_to_accept() -> None:
    """Every pip-tools 7.6 option is in SAME or REFUSED (TO_ACCEPT is empty)."""
    assert TO_ACCEPT == []


@pytest.mark.parametrize(("command", "argv", "equivalent"), REFUSED,
                         ids=[f"{c} {' '.join(a)}" for c, a, _ in REFUSED])
def test_pip_tools_option_refused_with_equivalent(command: str, argv: list[str],
                                                  equivalent: str, tmp_path: Path) -> None:
    """An option crosspin cannot honour is one error line naming what to use instead."""
    result = run_cli([command, *argv], cwd=tmp_path)
    assert result.code == 2
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"error: {argv[0]}")
    assert equivalent in result.stderr


def test_sync_user_is_refused_with_equivalent(tmp_path: Path) -> None:
    """pip-sync --user: one error line naming --venv."""
    result = run_cli(["sync", "--user"], cwd=tmp_path)
    assert result.code == 2
    assert result.stderr.splitlines()[0].startswith("error: --user")
    assert "--venv" in result.stderr


# --- options and config ------------------------------------------------------------------------


def test_extras_are_stripped_by_default(index: Any, tmp_path: Path) -> None:
    """requests[socks] is locked as requests==..., so the lock also works with pip -c."""
    result = _compile(index, tmp_path, "requests[socks]\n", *ONE_ENV)
    assert result.code == 0, result.stderr
    text = (tmp_path / "requirements.txt").read_text(encoding="utf-8")
    assert "pysocks==1.7.1" in text
    assert "requests==2.32.3" in text


def test_requirements_from_stdin(index: Any, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """'crosspin compile - -o out.txt' reads requirement lines from stdin.

    The pin is 'via -r -', and check says it cannot tell whether such a lock is stale.
    """
    monkeypatch.setattr(sys, "stdin", io.StringIO("six\n"))
    result = run_cli(["compile", "-", "-o", "out.txt", "--isolated", "--index-url",
                      index.index_url, "--cache-dir", str(tmp_path / ".cache"), *ONE_ENV],
                     cwd=tmp_path)
    assert result.code == 0, result.stderr
    text = (tmp_path / "out.txt").read_text(encoding="utf-8")
    assert "six==1.17.0" in text
    assert "# via -r -" in text
    check = run_cli(["check", "out.txt", "--cache-dir", str(tmp_path / ".cache")], cwd=tmp_path)
    assert check.code == 0, check.stderr
    assert "note: out.txt was compiled from stdin, so staleness was not checked" in check.stderr


def test_pip_tools_config_table_is_read(index: Any, tmp_path: Path) -> None:
    """[tool.pip-tools] generate-hashes = true in .pip-tools.toml gives hashes."""
    (tmp_path / ".pip-tools.toml").write_text("[tool.pip-tools]\ngenerate-hashes = true\n",
                                             encoding="utf-8")
    result = _compile(index, tmp_path, "six\n", *ONE_ENV)
    assert result.code == 0, result.stderr
    assert "--hash=sha256:" in (tmp_path / "requirements.txt").read_text(encoding="utf-8")


def test_bare_rerun_keeps_the_options_of_the_lock(index: Any, tmp_path: Path) -> None:
    """After a one-environment hashed lock, a bare compile keeps matrix and hashes."""
    first = _compile(index, tmp_path, "six\n", *ONE_ENV, "--generate-hashes",
                     "--exclude-newer", "2024-01-02")
    assert first.code == 0, first.stderr
    (tmp_path / "requirements.in").write_text("six>=1\n", encoding="utf-8")
    again = run_cli(["compile", "--isolated", "--index-url", index.index_url,
                     "--cache-dir", str(tmp_path / ".cache"), "-q"], cwd=tmp_path)
    assert again.code == 0, again.stderr
    text = (tmp_path / "requirements.txt").read_text(encoding="utf-8")
    assert "# crosspin-matrix: python=3.12; platforms=linux-x86_64" in text
    assert "--hash=sha256:" in text
    assert "--exclude-newer=2024-01-02" in text


def test_stale_hint_prints_the_recorded_command(index: Any, tmp_path: Path) -> None:
    """The stale-lock hint is the command the lock was made with."""
    assert _compile(index, tmp_path, "six\n", *ONE_ENV).code == 0
    (tmp_path / "requirements.in").write_text("six>=1\n", encoding="utf-8")
    result = run_cli(["check", "--cache-dir", str(tmp_path / ".cache")], cwd=tmp_path)
    assert result.code == 1
    hint = result.stderr.splitlines()[-1]
    assert "--platform=linux-x86_64 --python=3.12" in hint


# --- messages ----------------------------------------------------------------------------------

#: The backend of broken-0.1.tar.gz: a compiler error instead of metadata.
_FAILING_METADATA = (
    "import sys\n"
    "def get_requires_for_build_wheel(config_settings=None):\n    return []\n"
    "def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):\n"
    "    print('error: Microsoft Visual C++ 14.0 or greater is required.', file=sys.stderr)\n"
    "    raise SystemExit(1)\n"
)

#: id, requirements.in, extra arguments ({links}: a find-links folder holding
#: broken-0.1.tar.gz), exit code, texts stderr must hold, texts it must not,
#: and what is wrong today (None: fixed).
MISTAKES = [
    ("typo", "reqeusts\n", [], 1, ["requests"], ["narrow the matrix"],
     None),
    ("no-such-version", "six==9.9\n", [], 1, ["1.17.0"], [],
     None),
    ("python-floor", "app\n", [], 1, [">=3.11", "--python"], ["no file is installable"], None),
    ("exclude-newer", "six\n", ["--exclude-newer", "2023-06-01"], 1,
     ["--exclude-newer", "2024-01-01"], [], None),
    ("build-failure", "broken\n", [*ONE_ENV, "-f", "{links}"], 1,
     ["Microsoft Visual C++ 14.0 or greater is required.", "install what the build needs"],
     ["crosspin-sdist", "narrow the matrix"],
     None),  # fixed (issue 14, RC3): the backend's last lines, no temp path
    ("python-3.99", "six\n", ["--python", "3.99"], 2, ["error: --python 3.99"], [], None),
    ("python-2.7", "six\n", ["--python", "2.7"], 2, ["error: --python 2.7"], [], None),
    ("python-below-3", "six\n", ["--python", "<3.0"], 2, ["error: --python"], ["None"], None),
    ("platform-only", "pywin32\n", [], 1, ['pywin32 ; sys_platform == "win32"'], [],
     None),
    ("platform-only-nowhere", "pywin32\n", ["--python", "3.12", "--platform", "linux-x86_64"],
     1, ["no version of pywin32 installs on linux-x86_64", "installs on no environment"],
     ["only for ;"], None),
    ("sdist-only-somewhere", "uvloop\n", [], 0, ["warning:", "windows-x86_64"], [],
     None),
]


def test_own_project_build_failure_names_the_backend_error_once(tmp_path: Path) -> None:
    """compile pyproject.toml whose backend fails: its error once, and how to see all of it."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
        '[project]\nname = "mine"\nversion = "1.0"\ndynamic = ["dependencies"]\n',
        encoding="utf-8")
    (project / "backend.py").write_text(_FAILING_METADATA, encoding="utf-8")
    result = run_cli(["compile", "pyproject.toml", *ONE_ENV, "--isolated", "--offline",
                      "--cache-dir", str(tmp_path / "cache")], cwd=project)
    assert result.code != 0
    assert result.stderr.count("Microsoft Visual C++ 14.0 or greater is required.") == 1
    assert "hint: run 'python -m build --wheel .' to see the backend's whole output" in (
        result.stderr), result.stderr
    assert "wheels" not in result.stderr


def test_a_missing_input_file_says_how_to_start(tmp_path: Path) -> None:
    """compile requirements.in where there is none: named once, and what to write in it."""
    result = run_cli(["compile", "requirements.in", "--isolated", "--offline"], cwd=tmp_path)
    assert result.code == 2
    assert result.stderr.splitlines() == [
        "error: requirements.in: no such file",
        "hint: create it with one requirement per line (e.g. requests), or name your input: "
        "crosspin compile pyproject.toml",
    ]


@pytest.mark.parametrize(
    ("requirements", "args", "code", "present", "absent"),
    [pytest.param(*row[1:6], id=row[0], marks=[] if row[6] is None else
                  pytest.mark.xfail(strict=True, reason=str(row[6])))
     for row in MISTAKES],
)
def test_mistake_gets_a_message_that_says_what_to_do(
    requirements: str, args: list[str], code: int, present: list[str], absent: list[str],
    index: Any, tmp_path: Path,
) -> None:
    """Each of issue 16's mistakes: the exit code, the facts to name, no misleading advice."""
    from fixtures._backend_template import sdist_bytes

    links = tmp_path / "links"
    links.mkdir()
    (links / "broken-0.1.tar.gz").write_bytes(sdist_bytes("broken", "0.1", {
        "PKG-INFO": b"Metadata-Version: 2.1\nName: broken\nVersion: 0.1\n",
        "pyproject.toml": (b'[build-system]\nrequires = []\n'
                           b'build-backend = "backend"\nbackend-path = ["."]\n'),
        "backend.py": _FAILING_METADATA.encode(),
    }))
    project = tmp_path / "project"
    result = _compile(index, project, requirements,
                      *(a.replace("{links}", str(links)) for a in args))
    assert result.code == code, result.stderr
    for text in present:
        assert text in result.stderr, text
    for text in absent:
        assert text not in result.stderr, text
    if code != 0:
        assert not (project / "requirements.txt").exists()


# --- sync --------------------------------------------------------------------------------------


def test_sync_keeps_crosspin_in_its_own_environment(index: Any, tmp_path: Path) -> None:
    """A dry run against the environment crosspin runs in plans no removal of its requirements.

    Only --dry-run: this is the test run's own environment.
    """
    assert _compile(index, tmp_path, "six\n").code == 0
    result = run_cli(["sync", "--python", sys.executable, "--dry-run", "--isolated",
                      "--index-url", index.index_url, "--cache-dir", str(tmp_path / ".cache")],
                     cwd=tmp_path)
    removals = next((line for line in result.stdout.splitlines()
                     if line.startswith("Would uninstall:")), "")
    for name in ("click", "attrs", "httpx", "packaging", "installer", "resolvelib"):
        assert f" {name}==" not in removals, name
    assert "is crosspin's own environment: keeping crosspin and the" in result.stderr


def test_sync_creates_a_missing_venv(index: Any, tmp_path: Path) -> None:
    """sync --venv app makes the virtual environment, then installs the lock into it."""
    assert _compile(index, tmp_path, "six\n").code == 0
    result = run_cli(["sync", "--venv", "app", "--isolated", "--index-url", index.index_url,
                      "--cache-dir", str(tmp_path / ".cache")], cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert f"Created a virtual environment at app with {sys.executable}" in result.stderr
    assert (tmp_path / "app" / "pyvenv.cfg").is_file()
    assert _site(tmp_path / "app") == {"six-1.17.0.dist-info"}


def _site(venv: Path) -> set[str]:
    """The dist-info folders installed in ``venv``."""
    return {p.name for p in venv.glob("lib/python3*/site-packages/*.dist-info")}


def _sync(index: Any, cwd: Path, *args: str) -> Any:
    return run_cli(["sync", *args, "--isolated", "--index-url", index.index_url,
                    "--cache-dir", str(cwd / ".cache")], cwd=cwd)


def test_sync_creates_dot_venv_when_there_is_none(index: Any, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A bare 'crosspin sync' without an active virtualenv makes ./.venv (D10)."""
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    assert _compile(index, tmp_path, "six\n").code == 0
    result = _sync(index, tmp_path)
    assert result.code == 0, result.stderr
    assert "Created a virtual environment at .venv" in result.stderr
    assert _site(tmp_path / ".venv") == {"six-1.17.0.dist-info"}


def test_a_venv_made_for_a_dry_run_or_a_failed_sync_is_removed(index: Any,
                                                               tmp_path: Path) -> None:
    """A dry run plans against a new venv and removes it; so does a sync that fails."""
    assert _compile(index, tmp_path, "six\n").code == 0
    dry = _sync(index, tmp_path, "--venv", "app", "--dry-run")
    assert dry.code == 1, dry.stderr
    assert "Would create a virtual environment at app" in dry.stderr
    assert "Would install: six==1.17.0" in dry.stdout
    assert not (tmp_path / "app").exists()
    failed = _sync(index, tmp_path, "missing.txt", "--venv", "app")
    assert failed.code != 0
    assert "missing.txt" in failed.stderr
    assert not (tmp_path / "app").exists()


def test_sync_venv_refuses_a_folder_that_is_not_a_venv(index: Any, tmp_path: Path) -> None:
    """--venv DIR naming a folder with other files in it: one line, nothing written."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "main.py").write_text("print()\n", encoding="utf-8")
    assert _compile(index, tmp_path, "six\n").code == 0
    result = _sync(index, tmp_path, "--venv", "app")
    assert result.code == 2
    assert "app exists and is not a virtual environment" in result.stderr
    assert sorted(p.name for p in (tmp_path / "app").iterdir()) == ["main.py"]


def test_keep_leaves_the_package_under_test_alone(index: Any, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """--keep NAME: a package the lock does not list stays; the rest follows the lock.

    Also --python-executable NAME, looked up on PATH as pip-sync does.
    """
    assert _compile(index, tmp_path, "requests\n", "-o", "full.txt").code == 0
    assert _compile(index, tmp_path, "idna\n", "-o", "test.txt").code == 0
    assert _sync(index, tmp_path, "full.txt", "--venv", "app").code == 0
    assert _site(tmp_path / "app") == {"requests-2.32.3.dist-info", "idna-3.10.dist-info"}
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # A wrapper, not a link: a linked venv python away from its pyvenv.cfg is the base one.
    wrapper = bin_dir / "apppython"
    wrapper.write_text(f'#!/bin/sh\nexec "{tmp_path / "app" / "bin" / "python"}" "$@"\n',
                       encoding="utf-8")
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    plan = _sync(index, tmp_path, "test.txt", "--python-executable", "apppython", "--dry-run")
    assert "Would uninstall: requests==2.32.3" in plan.stdout, plan.stderr
    kept = _sync(index, tmp_path, "test.txt", "--venv", "app", "--keep", "requests")
    assert kept.code == 0, kept.stderr
    assert _site(tmp_path / "app") == {"requests-2.32.3.dist-info", "idna-3.10.dist-info"}
    again = _sync(index, tmp_path, "test.txt", "--venv", "app", "--keep", "Requests",
                  "--dry-run")
    assert again.code == 0, again.stdout


def test_force_lets_the_later_lock_win(index: Any, tmp_path: Path) -> None:
    """Two locks pinning six differently: an error naming both, or with --force the later."""
    assert _compile(index, tmp_path, "six==1.16.0\n", "-o", "old.txt", *ONE_ENV).code == 0
    assert _compile(index, tmp_path, "six\n", "-o", "new.txt", *ONE_ENV).code == 0
    python = require_python("3.12")
    args = ["old.txt", "new.txt", "--python", str(python), "--dry-run"]
    refused = _sync(index, tmp_path, *args)
    assert refused.code != 0
    assert "six==1.16.0" in refused.stderr and "six==1.17.0" in refused.stderr
    forced = _sync(index, tmp_path, *args, "--force")
    assert "six==1.17.0 from new.txt replaces six==1.16.0 from old.txt" in forced.stderr
    assert "six==1.17.0" in forced.stdout and "six==1.16.0" not in forced.stdout


def test_sync_refuses_an_input_file(tmp_path: Path) -> None:
    """'crosspin sync requirements.in': one line naming the lock to sync instead."""
    (tmp_path / "requirements.in").write_text("six\n", encoding="utf-8")
    result = run_cli(["sync", "requirements.in", "--venv", "app"], cwd=tmp_path)
    assert result.code == 2
    assert result.stderr.startswith("error: requirements.in is an input file, not a lock")
    assert "crosspin sync requirements.txt" in result.stderr
    assert not (tmp_path / "app").exists()


def test_sync_pip_args_and_config(index: Any, tmp_path: Path) -> None:
    """--pip-args words become sync's options (others are refused, naming the word), and
    [tool.pip-tools.sync] fills options not given (compile's keys are ignored)."""
    assert _compile(index, tmp_path, "six\n").code == 0
    refused = run_cli(["sync", "--pip-args", "--prefer-binary", "--venv", "app"], cwd=tmp_path)
    assert refused.code == 2
    assert "'--prefer-binary' has no crosspin equivalent" in refused.stderr
    assert not (tmp_path / "app").exists()
    (tmp_path / ".pip-tools.toml").write_text(
        "[tool.pip-tools]\ngenerate-hashes = true\n[tool.pip-tools.sync]\ndry-run = true\n",
        encoding="utf-8")
    result = run_cli(["sync", "--venv", "app", "--isolated", "--cache-dir",
                      str(tmp_path / ".cache"), "--pip-args",
                      f"--index-url {index.index_url}"], cwd=tmp_path)
    assert result.code == 1, result.stderr
    assert "Would install: six==1.17.0" in result.stdout


def _externally_managed_python(root: Path) -> Path:
    """A throw-away "system" CPython 3.12 whose stdlib holds EXTERNALLY-MANAGED (PEP 668).

    The interpreter binary is copied into ``root/bin``; ``root/lib/python3.12``
    links every stdlib entry of the real one, with an empty site-packages of
    its own, so Python takes ``root`` as its prefix and nothing outside it
    can change.
    """
    real = require_python("3.12").resolve()
    base = real.parent.parent
    stdlib = root / "lib" / "python3.12"
    stdlib.mkdir(parents=True)
    for entry in (base / "lib" / "python3.12").iterdir():
        if entry.name != "site-packages":
            (stdlib / entry.name).symlink_to(entry)
    (stdlib / "site-packages").mkdir()
    (stdlib / "EXTERNALLY-MANAGED").write_text("[externally-managed]\nError=test\n",
                                               encoding="utf-8")
    (root / "bin").mkdir()
    python = root / "bin" / "python3.12"
    python.write_bytes(real.read_bytes())
    python.chmod(0o755)
    import subprocess

    probe = subprocess.run([str(python), "-c", "import sys; print(sys.prefix)"],
                           capture_output=True, text=True, check=False)
    if probe.returncode != 0 or probe.stdout.strip() != str(root):
        pytest.skip(f"a copy of {real} does not run from its own prefix")
    return python


def test_sync_refuses_an_externally_managed_python(index: Any, tmp_path: Path) -> None:
    """PEP 668: without --break-system-packages, sync changes nothing and says why."""
    python = _externally_managed_python(tmp_path / "system")
    assert _compile(index, tmp_path, "six\n", *ONE_ENV).code == 0
    result = run_cli(["sync", "--python", str(python), "--isolated", "--index-url",
                      index.index_url, "--cache-dir", str(tmp_path / ".cache")], cwd=tmp_path)
    site = tmp_path / "system" / "lib" / "python3.12" / "site-packages"
    assert not list(site.iterdir())
    assert result.code != 0
    assert "externally managed" in result.stderr
    assert "--break-system-packages" in result.stderr
    dry = run_cli(["sync", "--python", str(python), "--dry-run", "--isolated", "--index-url",
                   index.index_url, "--cache-dir", str(tmp_path / ".cache")], cwd=tmp_path)
    assert dry.code == 1
    assert "warning:" in dry.stderr and "externally managed" in dry.stderr
    assert "Would install: six==1.17.0" in dry.stdout
    forced = run_cli(["sync", "--python", str(python), "--break-system-packages", "--isolated",
                      "--index-url", index.index_url, "--cache-dir", str(tmp_path / ".cache")],
                     cwd=tmp_path)
    assert forced.code == 0, forced.stderr
    assert (site / "six-1.17.0.dist-info").is_dir()
