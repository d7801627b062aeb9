"""Property tests over every parser a user can feed: no crash, no traceback, clear errors.

``CROSSPIN_FUZZ_EXAMPLES`` (default 200) sets the examples per property;
the ``fuzz/`` folder has an atheris harness for longer runs.
"""

from __future__ import annotations

import os
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crosspin import markers
from crosspin.environments import Matrix
from crosspin.errors import CrosspinError, LockFileError
from crosspin.inputs import read_inputs
from crosspin.lockfiles import pylock, requirements
from crosspin.reqfile import parse_text
from tests.helpers import run_cli

EXAMPLES = int(os.environ.get("CROSSPIN_FUZZ_EXAMPLES", "200"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=list(HealthCheck))

ANY = ">=3.8"
PACKAGES: dict[str, Any] = {
    "app": {"1.0.0": {"requires_python": ANY,
                      "requires": ["lib", "win ; sys_platform == 'win32'",
                                   "old ; python_version < '3.11'"],
                      "extras": {"x": ["dep"]}}},
    "lib": {"1.0.0": {"requires_python": ANY}, "2.0.0": {"requires_python": ">=3.11"}},
    "win": {"1.0.0": {"requires_python": ANY}},
    "old": {"1.0.0": {"requires_python": ANY}},
    "dep": {"1.0.0": {"requires_python": ANY}},
}

# Requirement-file-ish text: the alphabet of names, specifiers, markers, options and URLs.
_PIECES = st.sampled_from([
    "app", "lib", "Foo_Bar", "[x]", "[", "]", "==", ">=", "~=", "===", "!=", "1.0", "1.*",
    "2!1.0.post1.dev2", ";", " ; ", "python_version", "sys_platform", "'linux'", '"3.11"',
    "<", "and", "or", "(", ")", "extra", "==", "@", " @ ", "https://x/y.whl", "file:///tmp/x",
    "./local", "-e", "-r", "-c", "--hash=sha256:", "--hash", "-i", "--index-url", "\\\n",
    "\n", " ", "#", " #", "${HOME}", "$", "{", "}", "--pre", "--only-binary", ":all:",
    "--no-binary", "-f", "--extra-index-url", "-e ./x", "git+https://x/y@v1#egg=y",
    "#egg=", "&subdirectory=", "\t", "\r\n", "\x00", "é", "--config-settings", "=",
    "--global-option", "-Z", "--", ",",
])
REQ_TEXT = st.one_of(
    st.lists(_PIECES, max_size=25).map("".join),
    st.text(alphabet=string.printable + "é\x00", max_size=200),
)


@FUZZ
@given(text=REQ_TEXT)
def test_reqfile_tokenizer_never_raises(text: str) -> None:
    """Any text splits into lines and located problems; nothing is raised."""
    lines, problems = parse_text(text, "requirements.in", environ={"HOME": "/h"})
    assert all(line.path == "requirements.in" for line in lines)
    for problem in problems:
        assert problem.location.startswith("requirements.in:")
        assert "\n" not in problem.reason


@FUZZ
@given(text=REQ_TEXT)
def test_read_inputs_raises_only_crosspin_errors(text: str, tmp_path_factory: Any) -> None:
    """read_inputs on any requirements.in returns or raises a CrosspinError with a hint."""
    work = tmp_path_factory.mktemp("in")
    path = work / "requirements.in"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        read_inputs([path])
    except CrosspinError as exc:
        assert exc.hint, exc
        assert str(exc).strip()


@settings(max_examples=max(10, EXAMPLES // 10), deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(text=REQ_TEXT)
def test_cli_bad_input_is_one_error_line(text: str, tmp_path_factory: Any) -> None:
    """The CLI never shows a traceback; a user error is 'error:' + 'hint:' and exit 2."""
    work = tmp_path_factory.mktemp("cli")
    (work / "requirements.in").write_text(text, encoding="utf-8", errors="surrogatepass")
    result = run_cli(["compile", "requirements.in", "--isolated", "--offline", "--no-cache",
                      "--dry-run", "--index-url", "http://127.0.0.1:9/simple",
                      "--python", "3.12", "--platform", "linux-x86_64"], cwd=work)
    out = result.stdout + result.stderr
    assert "Traceback" not in out
    assert result.code in (0, 1, 2), out
    if result.code == 2:  # a bad line
        assert result.stderr.startswith("error:"), out
        assert "hint:" in result.stderr, out
    elif result.code == 1:  # good lines: the dead, offline index is the one error
        assert result.stderr.startswith("error: cannot fetch http://127.0.0.1:9/simple/"), out


MATRIX = Matrix.from_options(python=">=3.9")


@FUZZ
@given(selected=st.sets(st.sampled_from([e.name for e in MATRIX.environments]), min_size=1))
def test_marker_render_parse_evaluate_round_trip(selected: set[str]) -> None:
    """marker_for(S) rendered, parsed back and evaluated selects exactly S."""
    from packaging.markers import Marker

    try:
        marker = markers.marker_for(selected, MATRIX)
    except ValueError as exc:  # indistinguishable platforms: a documented refusal
        assert "cannot tell" in str(exc)
        return
    parsed = None if marker is None else Marker(str(marker))
    assert markers.environments_of(parsed, MATRIX) == frozenset(selected)
    simplified = markers.simplify(parsed, MATRIX)
    assert markers.environments_of(simplified, MATRIX) == frozenset(selected)


@pytest.fixture(scope="module")
def locks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A universal requirements.txt and pylock.toml of the same inputs."""
    from fixtures.catalog import IndexFactory

    work = tmp_path_factory.mktemp("locks")
    factory = IndexFactory(work / "idx")
    try:
        srv = factory(PACKAGES)
        (work / "requirements.in").write_text("app[x]\n", encoding="utf-8")
        texts = {}
        for out in ("requirements.txt", "pylock.toml"):
            result = run_cli(["compile", "requirements.in", "-o", out, "--isolated",
                              "--no-cache", "--generate-hashes", "--python", ">=3.9",
                              "--index-url", srv.index_url], cwd=work)
            assert result.code == 0, result.stderr
            texts[out] = (work / out).read_text(encoding="utf-8")
    finally:
        factory.close()
    return texts


def _mutate(text: str, data: st.DataObject) -> str:
    for _ in range(data.draw(st.integers(1, 4))):
        start = data.draw(st.integers(0, len(text)))
        end = data.draw(st.integers(start, min(len(text), start + 40)))
        insert = data.draw(st.one_of(
            st.just(""), _PIECES, st.text(max_size=10),
            st.sampled_from(['"', "'", "[", "]", "{", "}", "=", "\n", "[[packages]]\n",
                             'version = "x"', "marker = ", "sha256 = 1", "wheels = []"]),
        ))
        text = text[:start] + insert + text[end:]
    return text


@FUZZ
@given(data=st.data())
def test_requirements_lock_mutations(locks: dict[str, str], data: st.DataObject) -> None:
    """A damaged requirements.txt lock reads or fails with LockFileError, never a crash."""
    text = _mutate(locks["requirements.txt"], data)
    try:
        requirements.read(text)
    except LockFileError as exc:
        assert str(exc).startswith("requirements.txt")


@FUZZ
@given(data=st.data())
def test_pylock_mutations(locks: dict[str, str], data: st.DataObject) -> None:
    """A damaged pylock.toml reads or fails with LockFileError, never a crash."""
    text = _mutate(locks["pylock.toml"], data)
    try:
        pylock.read(text)
    except LockFileError as exc:
        assert str(exc).startswith("pylock.toml")


def test_pylock_and_requirements_agree(locks: dict[str, str]) -> None:
    """Both formats of one lock read back to the same pins in every environment."""
    req = requirements.read(locks["requirements.txt"])
    lock = pylock.read(locks["pylock.toml"])
    assert req.matrix is not None and lock.matrix is not None
    assert [e.name for e in req.matrix.environments] == [
        e.name for e in lock.matrix.environments]
    for env in req.matrix.environments:
        want = {(p.name, str(p.version)) for p in req.packages
                if markers.evaluate(p.marker, env)}
        got = {(p.name, str(p.version)) for p, m in zip(lock.packages, lock.lock_markers)
               if markers.evaluate(m, env)}
        assert want == got, env.name


def test_existing_pins_from_arbitrary_files(make_index: Any, tmp_path: Path) -> None:
    """A non-lock file as compile's output is refused before resolving; a pin file is read."""
    srv = make_index(PACKAGES)
    (tmp_path / "requirements.in").write_text("app\n", encoding="utf-8")
    garbage = "app==\n--hash\n[[packages]]\n"
    (tmp_path / "requirements.txt").write_text(garbage, encoding="utf-8")
    args = ["compile", "requirements.in", "--isolated", "--cache-dir", str(tmp_path / "c"),
            "--python", "3.12", "--platform", "linux-x86_64", "--index-url", srv.index_url]
    result = run_cli(args, cwd=tmp_path)
    assert result.code == 2, result.stderr
    assert result.stderr.splitlines() == [
        "error: requirements.txt: line 2: option --hash needs a value",
        "hint: regenerate the lock with 'crosspin compile' or fix it by hand"]
    assert srv.requests == [], "resolved although the existing output was refused"
    assert (tmp_path / "requirements.txt").read_text(encoding="utf-8") == garbage
    # A hand-written pin file is not ignored either: its pins are kept (pip-compile's rule).
    (tmp_path / "requirements.txt").write_text("lib==1.0.0\n", encoding="utf-8")
    result = run_cli(args, cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert "\nlib==1.0.0\n" in (tmp_path / "requirements.txt").read_text(encoding="utf-8")


NUL_INCLUDE = "-r \x00\n"  # found by test_read_inputs_raises_only_crosspin_errors (2000 examples)


def test_nul_in_include_path_is_an_input_error(tmp_path: Path) -> None:
    """'-r <NUL>' is reported as a bad line (InputError), not a ValueError."""
    path = tmp_path / "requirements.in"
    path.write_text(NUL_INCLUDE, encoding="utf-8")
    with pytest.raises(CrosspinError):
        read_inputs([path])


def test_nul_in_include_path_cli(tmp_path: Path) -> None:
    """The CLI answers '-r <NUL>' with one error line, a hint and exit code 2."""
    (tmp_path / "requirements.in").write_text(NUL_INCLUDE, encoding="utf-8")
    result = run_cli(["compile", "requirements.in", "--isolated", "--offline", "--no-cache",
                      "--dry-run", "--python", "3.12", "--platform", "linux-x86_64"],
                     cwd=tmp_path)
    assert result.code == 2 and result.stderr.startswith("error:"), result.stderr
