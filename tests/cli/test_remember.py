"""A lock remembers how it was made, and pip-tools' configuration files are read.

A bare ``crosspin compile`` on an existing lock keeps its matrix and output
options unless given anew; ``[tool.pip-tools]`` (in ``.pip-tools.toml`` or
``pyproject.toml``) fills options as pip-tools does; ``[tool.crosspin]``
wins over both; the stale hint is the command that brings the lock back.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ONE_ENV, compile_requirements, run_cli

ANY = ">=3.8"
PACKAGES: dict[str, Any] = {
    "six": {"1.15.0": {"requires_python": ANY}, "1.16.0": {"requires_python": ANY},
            "1.17.0": {"requires_python": ANY}},
}
MATRIX_LINE = "# crosspin-matrix: python=3.12; platforms=linux-x86_64"


pytestmark = pytest.mark.usefixtures("plain")


@pytest.fixture
def index(make_index: Any) -> Any:
    return make_index(PACKAGES)


def _run(index: Any, cwd: Path, *args: str) -> Any:
    """``crosspin compile ARGS`` with only the fixture's index and cache added."""
    return run_cli(["compile", "--isolated", "--index-url", index.index_url,
                    "--cache-dir", str(cwd / ".cache"), *args], cwd=cwd)


def _first_lock(index: Any, cwd: Path, *args: str) -> str:
    result = compile_requirements(index, cwd, "six\n", *ONE_ENV, "--generate-hashes",
                                  "--annotation-style", "line", "--exclude-newer", "2024-01-02",
                                  *args)
    assert result.code == 0, result.stderr
    return (cwd / "requirements.txt").read_text(encoding="utf-8")


def _text(cwd: Path) -> str:
    return (cwd / "requirements.txt").read_text(encoding="utf-8")


def test_bare_rerun_is_byte_identical_and_says_why(index: Any, tmp_path: Path) -> None:
    """A bare compile on the lock keeps every option and says which it reused."""
    first = _first_lock(index, tmp_path)
    again = _run(index, tmp_path)
    assert again.code == 0, again.stderr
    assert _text(tmp_path) == first
    assert again.stderr.splitlines()[0] == (
        "note: using the options requirements.txt was made with: --annotation-style=line "
        "--exclude-newer=2024-01-02 --generate-hashes --platform=linux-x86_64 --python=3.12")


def test_an_option_given_anew_replaces_the_remembered_one(index: Any, tmp_path: Path) -> None:
    """--platform X replaces the remembered platforms; --no-generate-hashes drops hashes."""
    _first_lock(index, tmp_path)
    assert _run(index, tmp_path, "-q", "--platform", "macos-arm64",
                "--no-generate-hashes").code == 0
    text = _text(tmp_path)
    assert "# crosspin-matrix: python=3.12; platforms=macos-arm64" in text
    assert "--hash=" not in text
    assert "--exclude-newer=2024-01-02" in text
    assert "six==1.16.0" in text  # the cut-off kept: 1.17.0 came out after it


def test_upgrade_flags_are_not_remembered(index: Any, tmp_path: Path) -> None:
    """-P six upgrades once; the next bare run keeps the pin and records no -P."""
    _first_lock(index, tmp_path, "--exclude-newer", "none")
    assert "six==1.17.0" in _text(tmp_path)
    (tmp_path / "requirements.txt").write_text(
        _text(tmp_path).replace("six==1.17.0", "six==1.16.0"), encoding="utf-8")
    assert _run(index, tmp_path, "-q", "-P", "six").code == 0
    assert "six==1.17.0" in _text(tmp_path)
    assert "--upgrade" not in _text(tmp_path)


def test_no_remember_starts_over(index: Any, tmp_path: Path) -> None:
    """--no-remember: the default matrix, no hashes, no cut-off."""
    _first_lock(index, tmp_path)
    assert _run(index, tmp_path, "-q", "--no-remember").code == 0
    text = _text(tmp_path)
    assert "(30 environments)" in text
    assert "--hash=" not in text
    assert "exclude-newer" not in text


def test_tool_crosspin_wins_over_the_lock(index: Any, tmp_path: Path) -> None:
    """[tool.crosspin] python = "3.11" added after locking for 3.12 takes effect."""
    _first_lock(index, tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.crosspin]\npython = "3.11"\n',
                                             encoding="utf-8")
    assert _run(index, tmp_path, "-q").code == 0
    assert "# crosspin-matrix: python=3.11; platforms=linux-x86_64" in _text(tmp_path)


def test_stale_hint_is_the_command_and_running_it_fixes_the_lock(
    index: Any, tmp_path: Path
) -> None:
    """check's hint is the recorded command; running exactly that makes check pass."""
    _first_lock(index, tmp_path)
    (tmp_path / "requirements.in").write_text("six>=1\n", encoding="utf-8")
    stale = run_cli(["check", "--cache-dir", str(tmp_path / ".cache")], cwd=tmp_path)
    assert stale.code == 1
    hint = stale.stderr.splitlines()[-1]
    command = hint.removeprefix("hint: run '").removesuffix(
        "' to update requirements.txt, then commit both")
    assert command == (
        f"crosspin compile --annotation-style=line --exclude-newer=2024-01-02 "
        f"--generate-hashes --index-url={index.index_url} --isolated --platform=linux-x86_64 "
        "--python=3.12 --output-file=requirements.txt requirements.in")
    assert run_cli([*shlex.split(command)[1:], "-q", "--cache-dir", str(tmp_path / ".cache")],
                   cwd=tmp_path).code == 0
    assert run_cli(["check", "--cache-dir", str(tmp_path / ".cache")], cwd=tmp_path).code == 0


def test_stale_hint_from_another_folder_says_cd(index: Any, tmp_path: Path) -> None:
    """A lock compiled in sub/: the hint from its parent starts with 'cd sub &&'."""
    (tmp_path / "sub").mkdir()
    _first_lock(index, tmp_path / "sub")
    (tmp_path / "sub" / "requirements.in").write_text("six>=1\n", encoding="utf-8")
    stale = run_cli(["check", "sub/requirements.txt", "--cache-dir", str(tmp_path / ".cache")],
                    cwd=tmp_path)
    assert stale.code == 1
    assert stale.stderr.splitlines()[-1].startswith("hint: run 'cd sub && crosspin compile ")


def test_custom_compile_command_is_shown_and_the_real_one_kept(
    index: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CUSTOM_COMPILE_COMMAND: the header and the stale hint show it; remembering still works."""
    monkeypatch.setenv("CUSTOM_COMPILE_COMMAND", "make lock")
    first = _first_lock(index, tmp_path)
    assert "#    make lock\n" in first
    assert "# crosspin-command: crosspin compile --annotation-style=line" in first
    monkeypatch.delenv("CUSTOM_COMPILE_COMMAND")
    (tmp_path / "requirements.in").write_text("six>=1\n", encoding="utf-8")
    stale = run_cli(["check", "--cache-dir", str(tmp_path / ".cache")], cwd=tmp_path)
    assert stale.stderr.splitlines()[-1] == (
        "hint: run 'make lock' to update requirements.txt, then commit both")
    assert _run(index, tmp_path, "-q").code == 0
    assert MATRIX_LINE in _text(tmp_path)


def test_pip_tools_compile_table_over_the_common_one(index: Any, tmp_path: Path) -> None:
    """[tool.pip-tools.compile] overrides [tool.pip-tools]; config values stay out of the header."""
    (tmp_path / ".pip-tools.toml").write_text(
        "[tool.pip-tools]\nannotation-style = 'split'\ngenerate_hashes = true\n"
        "[tool.pip-tools.compile]\nannotation-style = 'line'\nno-header = false\n"
        "[tool.pip-tools.sync]\nask = true\n", encoding="utf-8")
    (tmp_path / "requirements.in").write_text("six\n", encoding="utf-8")
    assert _run(index, tmp_path, "-q", *ONE_ENV).code == 0
    text = _text(tmp_path)
    assert "six==1.17.0 \\\n    --hash=sha256:" in text
    assert "    # via -r requirements.in\n" in text  # line style with hashes
    assert "generate-hashes" not in text.split("\n\n")[0]


def test_tool_crosspin_wins_over_pip_tools(index: Any, tmp_path: Path) -> None:
    """Both tables in pyproject.toml: [tool.crosspin]'s generate-hashes = false wins."""
    (tmp_path / "pyproject.toml").write_text(
        "[tool.crosspin]\ngenerate-hashes = false\n[tool.pip-tools]\ngenerate-hashes = true\n",
        encoding="utf-8")
    (tmp_path / "requirements.in").write_text("six\n", encoding="utf-8")
    assert _run(index, tmp_path, "-q", *ONE_ENV).code == 0
    assert "--hash=" not in _text(tmp_path)


def test_unknown_pip_tools_key_is_named(index: Any, tmp_path: Path) -> None:
    """A key that is no pip-compile or pip-sync option: one error with its key path."""
    (tmp_path / ".pip-tools.toml").write_text("[tool.pip-tools]\ngenerate-hash = true\n",
                                             encoding="utf-8")
    (tmp_path / "requirements.in").write_text("six\n", encoding="utf-8")
    result = _run(index, tmp_path, "-q", *ONE_ENV)
    assert result.code == 2
    assert result.stderr == (
        "error: .pip-tools.toml: tool.pip-tools.generate-hash: no pip-compile or pip-sync "
        "option 'generate-hash' (did you mean generate-hashes, no-generate-hashes?)\n"
        "hint: fix or remove the key(s) named above\n")


def test_no_config_and_top_level_table(index: Any, tmp_path: Path) -> None:
    """--no-config reads nothing; a top-level [pip-tools] table is named as ignored."""
    (tmp_path / ".pip-tools.toml").write_text(
        "[pip-tools]\ngenerate-hashes = true\n", encoding="utf-8")
    (tmp_path / "requirements.in").write_text("six\n", encoding="utf-8")
    result = _run(index, tmp_path, "-q", *ONE_ENV)
    assert result.code == 0
    assert result.stderr == ("warning: .pip-tools.toml: [pip-tools] is ignored (pip-tools "
                             "ignores it too); did you mean [tool.pip-tools]?\n")
    assert "--hash=" not in _text(tmp_path)
    assert _run(index, tmp_path, "-q", "--no-config").stderr == ""


def test_a_config_edit_makes_the_lock_stale(index: Any, tmp_path: Path) -> None:
    """Changing [tool.pip-tools] after locking: check calls the lock stale (D6)."""
    (tmp_path / ".pip-tools.toml").write_text("[tool.pip-tools]\nallow-unsafe = false\n",
                                             encoding="utf-8")
    (tmp_path / "requirements.in").write_text("six\n", encoding="utf-8")
    assert _run(index, tmp_path, "-q", *ONE_ENV).code == 0
    assert run_cli(["check", "--cache-dir", str(tmp_path / ".cache")], cwd=tmp_path).code == 0
    (tmp_path / ".pip-tools.toml").write_text("[tool.pip-tools]\nallow-unsafe = true\n",
                                             encoding="utf-8")
    assert run_cli(["check", "--cache-dir", str(tmp_path / ".cache")], cwd=tmp_path).code == 1
