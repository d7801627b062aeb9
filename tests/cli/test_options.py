"""pip-compile's options with pip-tools' meaning: what each does to the lock a user reads.

Every test compiles against a loopback index and looks at the written file
(or stderr), never at internals.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ONE_ENV, PIPTOOLS_PACKAGES, compile_requirements, run_cli

ANY = ">=3.8"

PACKAGES: dict[str, Any] = {
    **PIPTOOLS_PACKAGES,
    "tool": {"1.0": {"requires_python": ANY, "requires": ["pip", "six"]}},
    "pip": {"24.0": {"requires_python": ANY}},
}


pytestmark = pytest.mark.usefixtures("plain")


@pytest.fixture
def index(make_index: Any) -> Any:
    return make_index(PACKAGES)


def _compile(index: Any, cwd: Path, requirements: str, *args: str) -> Any:
    return compile_requirements(index, cwd, requirements, *ONE_ENV, *args)


def _lock(cwd: Path, name: str = "requirements.txt") -> str:
    return (cwd / name).read_text(encoding="utf-8")


def _option_lines(cwd: Path) -> list[str]:
    """The lock's option lines (``--index-url ...``), the header's command left out."""
    return [line for line in _lock(cwd).splitlines() if line.startswith("--")]


def test_no_strip_extras_keeps_them(index: Any, tmp_path: Path) -> None:
    """--no-strip-extras writes requests[socks]==..., as pip-tools 7 did by default."""
    assert _compile(index, tmp_path, "requests[socks]\n", "--no-strip-extras").code == 0
    assert "requests[socks]==2.32.3" in _lock(tmp_path)


def test_stripped_lock_works_as_a_constraints_file(index: Any, tmp_path: Path) -> None:
    """The default lock has no [extras], so '-c requirements.txt' in another .in compiles."""
    assert _compile(index, tmp_path, "requests[socks]\n").code == 0
    assert "[socks]" not in _lock(tmp_path)
    (tmp_path / "dev.in").write_text("-c requirements.txt\nrequests\n", encoding="utf-8")
    result = run_cli(["compile", "dev.in", "--isolated", "--index-url", index.index_url,
                      "--cache-dir", str(tmp_path / ".cache"), "-q", *ONE_ENV], cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert "requests==2.32.3" in _lock(tmp_path, "dev.txt")


def test_stdin_needs_an_output_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """'compile -' without -o says what to add."""
    monkeypatch.setattr(sys, "stdin", io.StringIO("six\n"))
    result = run_cli(["compile", "-"], cwd=tmp_path)
    assert result.code == 2
    assert result.stderr == ("error: reading requirements from stdin needs --output-file\n"
                             "hint: e.g. crosspin compile - -o requirements.txt\n")


def test_no_index_writes_only_find_links(make_index: Any, index: Any, tmp_path: Path) -> None:
    """--no-index: packages come from --find-links, and the lock says --no-index."""
    built = make_index.build({"six": {"1.16.0": {"requires_python": ANY}}})
    result = _compile(index, tmp_path, "six\n", "--no-index", "-f", str(built.files_dir))
    assert result.code == 0, result.stderr
    assert _option_lines(tmp_path) == ["--no-index", f"--find-links {built.files_dir}"]
    assert "six==1.16.0" in _lock(tmp_path)


def test_trusted_host_is_written(index: Any, tmp_path: Path) -> None:
    """--trusted-host lines are written, and --no-emit-trusted-host drops them."""
    assert _compile(index, tmp_path, "six\n", "--trusted-host", "127.0.0.1").code == 0
    assert "--trusted-host 127.0.0.1" in _option_lines(tmp_path)
    assert _compile(index, tmp_path, "six\n", "--trusted-host", "127.0.0.1",
                    "--no-emit-trusted-host").code == 0
    assert _option_lines(tmp_path) == [f"--index-url {index.index_url}"]


def test_no_emit_options_drops_every_option_line(index: Any, tmp_path: Path) -> None:
    """--no-emit-options: no --index-url, --only-binary or --trusted-host line."""
    assert _compile(index, tmp_path, "six\n", "--only-binary", ":all:",
                    "--trusted-host", "127.0.0.1", "--no-emit-options").code == 0
    assert _option_lines(tmp_path) == []


def test_binary_options_are_written_like_pip_compile(index: Any, tmp_path: Path) -> None:
    """--only-binary from a .in file reaches the lock, so pip install -r makes the same choice."""
    assert _compile(index, tmp_path, "--only-binary six\nsix\n").code == 0
    assert "--only-binary six" in _lock(tmp_path)


def test_unsafe_package_replaces_the_unsafe_set(index: Any, tmp_path: Path) -> None:
    """--unsafe-package six: six is commented out and pip becomes an ordinary pin."""
    assert _compile(index, tmp_path, "tool\n", "--unsafe-package", "six").code == 0
    text = _lock(tmp_path)
    assert "\npip==24.0" in text
    assert "\n# six\n" in text
    assert "\nsix==" not in text


def test_newline_crlf_and_preserve(index: Any, tmp_path: Path) -> None:
    """--newline crlf writes CRLF; a rerun that forgets the option keeps the file's CRLF."""
    assert _compile(index, tmp_path, "six\n", "--newline", "crlf").code == 0
    raw = (tmp_path / "requirements.txt").read_bytes()
    assert b"\r\n" in raw
    assert raw.count(b"\n") == raw.count(b"\r\n")
    assert _compile(index, tmp_path, "six\n", "--no-remember").code == 0
    again = (tmp_path / "requirements.txt").read_bytes()
    assert b"--newline" not in again
    assert again.count(b"\n") == again.count(b"\r\n")


@pytest.mark.parametrize(("option", "when", "version"), [
    ("--exclude-newer", "2024-01-01", "1.15.0"),
    ("--exclude-newer", "2024-01-02T00:00:00Z", "1.15.0"),
    ("--uploaded-prior-to", "2024-01-02", "1.15.0"),
    ("--uploaded-prior-to", "2024-01-03", "1.16.0"),
], ids=["exclude-newer-date", "exclude-newer-instant", "prior-to-date", "prior-to-next-day"])
def test_upload_cut_off(index: Any, tmp_path: Path, option: str, when: str,
                        version: str) -> None:
    """Cut-offs as uv and pip read them: strict at an instant; --exclude-newer DATE = that day."""
    # six 1.15.0, 1.16.0 and 1.17.0 were uploaded at midnight UTC, 2024-01-01, -02 and -03.
    assert _compile(index, tmp_path, "six\n", option, when).code == 0
    assert f"six=={version}" in _lock(tmp_path)


def test_both_cut_offs_are_refused(index: Any, tmp_path: Path) -> None:
    """--exclude-newer with --uploaded-prior-to is one setting given twice."""
    result = _compile(index, tmp_path, "six\n", "--exclude-newer", "2024-01-01",
                      "--uploaded-prior-to", "2024-01-01")
    assert result.code == 2
    assert result.stderr.startswith("error: --exclude-newer and --uploaded-prior-to")


def test_pip_args_are_translated(index: Any, tmp_path: Path) -> None:
    """--pip-args '--trusted-host H --only-binary six' acts as those options."""
    result = _compile(index, tmp_path, "six\n", "--pip-args",
                      "--trusted-host 127.0.0.1 --only-binary=six")
    assert result.code == 0, result.stderr
    text = _lock(tmp_path)
    assert "--trusted-host 127.0.0.1" in text
    assert "--only-binary six" in text


def test_pip_args_word_without_equivalent_is_named(index: Any, tmp_path: Path) -> None:
    """A pip option crosspin has no equivalent for is one error naming it."""
    result = _compile(index, tmp_path, "six\n", "--pip-args", "--prefer-binary")
    assert result.code == 2
    assert result.stderr == (
        "error: --pip-args: crosspin does not run pip to resolve, and '--prefer-binary' has "
        "no crosspin equivalent\n"
        "hint: drop it, or use crosspin's options (crosspin compile --help)\n"
    )
    assert not (tmp_path / "requirements.txt").exists()


def test_tuning_options_have_no_effect_and_say_so(index: Any, tmp_path: Path) -> None:
    """--max-rounds and --reuse-hashes change nothing; -v says why."""
    result = _compile(index, tmp_path, "six\n", "--max-rounds", "3", "--reuse-hashes")
    assert result.code == 0, result.stderr
    assert "note:" not in result.stderr
    verbose = run_cli(["compile", "--isolated", "--index-url", index.index_url, "--cache-dir",
                       str(tmp_path / ".cache"), "-v", "--max-rounds", "3", "--dry-run"],
                      cwd=tmp_path)
    assert "note: --max-rounds has no effect" in verbose.stderr


def test_color_forces_colour_on(index: Any, tmp_path: Path) -> None:
    """--color colours error: even when NO_COLOR is set and stderr is not a terminal."""
    result = run_cli(["compile", "--color", "--python", "2.7"], cwd=tmp_path)
    assert result.code == 2
    assert "\x1b[" in result.stderr
    plain = run_cli(["compile", "--python", "2.7"], cwd=tmp_path)
    assert "\x1b[" not in plain.stderr


def test_version_on_the_command(tmp_path: Path) -> None:
    """'crosspin compile --version' prints the version, as pip-compile --version."""
    result = run_cli(["compile", "--version"], cwd=tmp_path)
    assert result.code == 0
    assert result.stdout.startswith("crosspin, version ")


def test_help_is_in_sections_with_examples(tmp_path: Path) -> None:
    """compile --help groups options (Matrix, Output, Indexes...) and ends with examples."""
    text = run_cli(["compile", "--help"], cwd=tmp_path).stdout
    sections = [line for line in text.splitlines() if line and not line.startswith(" ")]
    for title in ("Matrix:", "Inputs:", "Output:", "Upgrading:", "Resolution:", "Indexes:",
                  "Cache and network:", "Checking:", "Configuration:", "Messages:",
                  "Examples:"):
        assert title in sections, title
    assert "[default: split]" in text
    assert "--max-rounds" not in text.split("Examples:")[0]
