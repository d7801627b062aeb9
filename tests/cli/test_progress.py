"""Progress for people: live only on a terminal, plain in CI and pipes, NO_COLOR honoured."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from crosspin.cli._progress import interactive, reporter, use_color
from tests.helpers import run_cli
from tests.helpers.pythons import require_python


class _Tty(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def terminal_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Clear CI/NO_COLOR/TERM so each test sets only what it pins."""
    for name in ("CI", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")


def test_live_only_on_a_terminal(terminal_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """A TTY gets a live display; a pipe, CI, TERM=dumb and -q do not."""
    assert interactive(_Tty())
    assert not interactive(io.StringIO())
    assert not interactive(_Tty(), quiet=True)
    monkeypatch.setenv("CI", "true")
    assert not interactive(_Tty())
    monkeypatch.delenv("CI")
    monkeypatch.setenv("TERM", "dumb")
    assert not interactive(_Tty())


def test_no_color(terminal_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """NO_COLOR turns colour off even on a terminal."""
    assert use_color(_Tty())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(_Tty())


def test_live_display_draws_resolving(terminal_env: None) -> None:
    """On a terminal the bar shows 'Resolving', counts and the last environment."""
    stream = _Tty()
    with reporter(stream=stream) as progress:
        progress.start("Resolving", 2)
        progress.advance("3.12-linux-x86_64")
        progress.advance("3.13-linux-x86_64")
    text = stream.getvalue()
    assert "Resolving" in text and "2/2" in text


def test_plain_verbose_lines_when_piped(terminal_env: None) -> None:
    """Piped with -v: one plain line per step, no escape codes."""
    stream = io.StringIO()
    with reporter(stream=stream, verbose=1) as progress:
        progress.start("Resolving", 1)
        progress.advance("3.12-linux-x86_64", detail="resolved")
    assert stream.getvalue() == "3.12-linux-x86_64 (resolved)\n"


def test_quiet_prints_nothing(terminal_env: None) -> None:
    """-q wins over -v: nothing at all."""
    stream = _Tty()
    with reporter(stream=stream, quiet=True, verbose=2) as progress:
        progress.start("Resolving", 1)
        progress.advance("x")
    assert stream.getvalue() == ""


def test_compile_summary_line(project: tuple[Any, Path]) -> None:
    """compile ends with 'Locked N packages for M environments in T s (K resolutions)'."""
    server, cwd = project
    result = run_cli(["compile", "--isolated", "--index-url", server.index_url,
                      "--cache-dir", str(cwd / "cache")], cwd=cwd)
    assert result.code == 0, result.stderr
    import re

    assert re.fullmatch(
        r"Locked 5 packages for 30 environments in \d+\.\d\d s \(\d+ resolutions?\)\n",
        result.stderr,
    ), result.stderr


def test_version_imports_no_rich_or_httpx() -> None:
    """'crosspin --version' stays fast: neither rich nor httpx is imported."""
    code = ("import sys\nfrom crosspin.cli import main\n"
            "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('rich', 'httpx') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip().endswith("[]")


@pytest.fixture
def sync_project(make_index: Any, tmp_path: Path) -> tuple[Path, list[str]]:
    """A compiled two-package lock, an empty venv, and the sync arguments for them."""
    python = require_python("3.12")
    server = make_index.serve(make_index.build({
        "six": {"1.16.0": {"requires_python": ">=3.8"}},
        "attrs": {"23.1.0": {"requires_python": ">=3.8"}},
    }))
    (tmp_path / "requirements.in").write_text("six\nattrs\n", encoding="utf-8")
    compiled = run_cli(["compile", "--isolated", "--index-url", server.index_url, "-q",
                        "--cache-dir", str(tmp_path / "cache"), "requirements.in"], cwd=tmp_path)
    assert compiled.code == 0, compiled.stderr
    venv = tmp_path / "venv"
    subprocess.run([str(python), "-m", "venv", "--without-pip", str(venv)], check=True)
    return tmp_path, ["sync", "--venv", str(venv), "--isolated", "--index-url", server.index_url,
                      "--cache-dir", str(tmp_path / "cache")]


_SUMMARY = r"Installed 2, uninstalled 0 packages in \d+\.\ds\n"


def test_sync_piped_prints_only_the_summary(terminal_env: None,
                                            sync_project: tuple[Path, list[str]]) -> None:
    """Piped (no TTY): no live display, just the summary line."""
    cwd, args = sync_project
    result = run_cli(args, cwd=cwd)
    assert result.code == 0, result.stderr
    assert re.fullmatch(_SUMMARY, result.stderr), result.stderr


def test_sync_verbose_lines(terminal_env: None, sync_project: tuple[Path, list[str]]) -> None:
    """-v: one plain line per file downloaded (or found unpacked) and per wheel installed."""
    cwd, args = sync_project
    result = run_cli([*args, "-v"], cwd=cwd)
    assert result.code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert sorted(lines[:2]) == ["attrs==23.1.0 (downloaded)", "six==1.16.0 (downloaded)"]
    assert sorted(lines[2:4]) == ["attrs==23.1.0 (installed)", "six==1.16.0 (installed)"]
    assert re.fullmatch(_SUMMARY, "\n".join(lines[4:]) + "\n"), result.stderr
    again = run_cli([*args, "-v"], cwd=cwd)
    assert again.stderr == "Everything up to date\n"


def test_sync_quiet(terminal_env: None, sync_project: tuple[Path, list[str]]) -> None:
    """-q: a successful sync prints nothing, on a terminal too."""
    cwd, args = sync_project
    code, text = _run_on_tty([*args, "-q"], cwd)
    assert code == 0 and text == ""


def test_sync_live_display(terminal_env: None, monkeypatch: pytest.MonkeyPatch,
                           sync_project: tuple[Path, list[str]]) -> None:
    """On a terminal: Downloading and Installing bars with counts, then the summary; NO_COLOR
    keeps colour codes out."""
    monkeypatch.setenv("NO_COLOR", "1")
    cwd, args = sync_project
    code, text = _run_on_tty(args, cwd)
    assert code == 0, text
    assert "Downloading" in text and "Installing" in text and "2/2" in text
    assert not re.search(r"\x1b\[(3|9)\dm", text)  # no foreground colours
    assert re.search(_SUMMARY + r"\Z", text), text


def _run_on_tty(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run the CLI with stderr a (fake) terminal; exit code and what it drew."""
    from crosspin.cli import main
    from tests.helpers import chdir

    err = _Tty()
    code = 0
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()), chdir(cwd):
        try:
            main(args)
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, err.getvalue()
