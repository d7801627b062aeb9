"""crosspin check and compile --check: stale and inconsistent locks fail, current ones pass."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.helpers import run_cli


def _check(cwd: Path, *extra: str) -> Any:
    return run_cli(["check", "--cache-dir", str(cwd / "cache"), *extra], cwd=cwd)


def test_lock_records_input_digest(project: tuple[Any, Path]) -> None:
    """The header carries '# crosspin-inputs: sha256:<64 hex>' right after the matrix."""
    _, cwd = project
    text = (cwd / "requirements.txt").read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if x.startswith("# crosspin-inputs:"))
    assert len(line.split("sha256:", 1)[1]) == 64


def test_fresh_lock_passes(project: tuple[Any, Path]) -> None:
    """A just-compiled lock is consistent in all 30 environments and up to date."""
    _, cwd = project
    result = _check(cwd)
    assert result.code == 0, result.stderr
    assert "consistent in 30 environments and up to date with its inputs" in result.stderr


def test_changed_requirements_in_is_stale(project: tuple[Any, Path]) -> None:
    """Adding a requirement to requirements.in makes check exit 1 with the stale message."""
    _, cwd = project
    (cwd / "requirements.in").write_text("app\nhelper\n", encoding="utf-8")
    result = _check(cwd)
    assert result.code == 1
    assert ("error: requirements.txt is stale: requirements.in changed since it was compiled"
            in result.stderr)
    server, _ = project
    assert (f"hint: run 'crosspin compile --index-url={server.index_url} --isolated "
            "--output-file=requirements.txt requirements.in' to update requirements.txt"
            in result.stderr)


def test_reordered_requirements_in_is_not_stale(project: tuple[Any, Path]) -> None:
    """Comments and line order do not change what the lock depends on."""
    _, cwd = project
    (cwd / "requirements.in").write_text("# the app\napp\n", encoding="utf-8")
    assert _check(cwd).code == 0


def test_hand_edited_version_is_inconsistent(project: tuple[Any, Path]) -> None:
    """lib pinned to 2.0.0 by hand (it needs helper>=2, absent) fails in every environment."""
    _, cwd = project
    lock = cwd / "requirements.txt"
    text = lock.read_text(encoding="utf-8")
    assert "lib==1.0.0" not in text  # highest: lib 2.0.0 and helper 2.0.0
    lock.write_text(text.replace("helper==2.0.0", "helper==1.0.0"), encoding="utf-8")
    result = _check(cwd)
    assert result.code == 1
    assert "error: requirements.txt is inconsistent (30 problems):" in result.stderr
    assert "lib==2.0.0: needs helper>=2 but helper 1.0.0 is selected" in result.stderr
    assert "... and 18 more" in result.stderr


def test_hand_deleted_marker_pin_is_inconsistent(project: tuple[Any, Path]) -> None:
    """Removing the Windows-only colorama pin breaks exactly the Windows environments."""
    _, cwd = project
    lock = cwd / "requirements.txt"
    lines = lock.read_text(encoding="utf-8").splitlines(keepends=True)
    start = next(i for i, x in enumerate(lines) if x.startswith("colorama=="))
    del lines[start:start + 2]
    lock.write_text("".join(lines), encoding="utf-8")
    result = _check(cwd, "--skip-inputs")
    assert result.code == 1
    assert "(6 problems)" in result.stderr
    assert "-windows-x86_64: app==1.0.0: needs colorama" in result.stderr


def test_check_offline_uses_the_cache(project: tuple[Any, Path]) -> None:
    """With the index gone, --offline still checks from the metadata compile cached."""
    server, cwd = project
    server.stop()
    assert _check(cwd, "--offline").code == 0


def test_lock_without_matrix_is_refused(tmp_path: Path) -> None:
    """A plain pip-compile file has no matrix: check says so instead of guessing."""
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n", encoding="utf-8")
    result = run_cli(["check"], cwd=tmp_path)
    assert result.code == 2
    assert "records no matrix" in result.stderr


def test_compile_check_passes_and_writes_nothing(project: tuple[Any, Path]) -> None:
    """compile --check on a current lock exits 0 and leaves the file byte for byte."""
    _, cwd = project
    before = (cwd / "requirements.txt").read_bytes()
    result = run_cli(["compile", "--check", "--cache-dir", str(cwd / "cache")], cwd=cwd)
    assert result.code == 0, result.stderr
    assert (cwd / "requirements.txt").read_bytes() == before


def test_compile_check_catches_changed_inputs(project: tuple[Any, Path]) -> None:
    """compile --check exits 1 after requirements.in changed, and does not rewrite the lock."""
    _, cwd = project
    before = (cwd / "requirements.txt").read_bytes()
    (cwd / "requirements.in").write_text("app>=1\n", encoding="utf-8")
    result = run_cli(["compile", "--check", "--cache-dir", str(cwd / "cache")], cwd=cwd)
    assert result.code == 1
    assert "is stale" in result.stderr
    assert (cwd / "requirements.txt").read_bytes() == before


def test_compile_check_catches_a_different_matrix(project: tuple[Any, Path]) -> None:
    """compile --check --python 3.12 against a 30-environment lock is stale."""
    _, cwd = project
    result = run_cli(["compile", "--check", "--python", "3.12",
                      "--cache-dir", str(cwd / "cache")], cwd=cwd)
    assert result.code == 1
    assert "its matrix is not python 3.12" in result.stderr


def test_pylock_records_inputs_and_goes_stale(project: tuple[Any, Path]) -> None:
    """pylock.toml records its inputs' digest; a changed requirements.in makes check exit 1."""
    server, cwd = project
    result = run_cli(["compile", "requirements.in", "--isolated", "--index-url",
                      server.index_url, "--cache-dir", str(cwd / "cache"), "-q",
                      "-o", "pylock.toml"], cwd=cwd)
    assert result.code == 0, result.stderr
    text = (cwd / "pylock.toml").read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if x.startswith("inputs = "))
    assert len(line.split("sha256:", 1)[1].rstrip('"')) == 64
    fresh = _check(cwd, "pylock.toml")
    assert fresh.code == 0, fresh.stderr
    assert "up to date with its inputs" in fresh.stderr
    (cwd / "requirements.in").write_text("app\nhelper\n", encoding="utf-8")
    stale = _check(cwd, "pylock.toml")
    assert stale.code == 1
    assert ("error: pylock.toml is stale: requirements.in changed since it was compiled"
            in stale.stderr)
