from __future__ import annotations

import itertools
import shlex

import pytest

from crosspin.errors import Problem
from crosspin.reqfile import ReqLine, expand_env_vars, logical_lines, parse_text
from crosspin.reqfile._tokens import split_words


def parse_ok(text: str, environ: dict[str, str] | None = None) -> list[ReqLine]:
    lines, problems = parse_text(text, "requirements.in", environ=environ or {})
    assert problems == []
    return lines


def test_logical_lines_join_continuations_and_strip_comments() -> None:
    """Backslash continuations join, comments and blank lines vanish, numbers are the first line."""
    text = "# top comment\n\nfoo \\\n  >=1.0 # why\nbar  \n   # indented comment\nbaz"
    assert list(logical_lines(text)) == [(3, "foo   >=1.0"), (5, "bar"), (7, "baz")]


def test_hash_without_whitespace_is_not_a_comment() -> None:
    """URL fragments such as #egg= survive because a comment needs whitespace before '#'."""
    text = "git+https://example.com/r.git@v1#egg=foo\n"
    assert list(logical_lines(text)) == [(1, "git+https://example.com/r.git@v1#egg=foo")]


def test_comment_line_ends_a_continuation() -> None:
    """A trailing backslash before a comment line does not swallow the following requirement."""
    text = "foo \\\n# note\nbar\n"
    assert list(logical_lines(text)) == [(1, "foo"), (3, "bar")]


def test_trailing_backslash_at_end_of_file() -> None:
    """A backslash on the last line still yields the accumulated line."""
    assert list(logical_lines("foo\\")) == [(1, "foo")]


def test_plain_requirement_with_marker_and_extras() -> None:
    """A PEP 508 line with spaces, extras and markers is kept whole as the requirement."""
    (line,) = parse_ok('foo[bar] >= 1.0 ; python_version < "3.10"\n')
    assert line.requirement == 'foo[bar] >= 1.0 ; python_version < "3.10"'
    assert line.options == () and not line.editable and line.location == "requirements.in:1"


def test_hashes_and_continuations() -> None:
    """Per-requirement --hash options spread over continuation lines are collected in order."""
    text = "foo==1.0 \\\n    --hash=sha256:aa \\\n    --hash sha256:bb\n"
    (line,) = parse_ok(text)
    assert line.requirement == "foo==1.0"
    assert line.options == (("--hash", "sha256:aa"), ("--hash", "sha256:bb"))
    assert line.values("--hash") == ("sha256:aa", "sha256:bb")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-r base.txt", ("--requirement", "base.txt")),
        ("-rbase.txt", ("--requirement", "base.txt")),
        ("--requirement=base.txt", ("--requirement", "base.txt")),
        ("-c cons.txt", ("--constraint", "cons.txt")),
        ("-i https://i.example/simple", ("--index-url", "https://i.example/simple")),
        ("--index-url https://i.example/simple", ("--index-url", "https://i.example/simple")),
        ("--extra-index-url=https://x/simple", ("--extra-index-url", "https://x/simple")),
        ("-f ./wheels", ("--find-links", "./wheels")),
        ("--trusted-host i.example", ("--trusted-host", "i.example")),
        ("--pre", ("--pre", "")),
        ("--no-index", ("--no-index", "")),
        ("--prefer-binary", ("--prefer-binary", "")),
        ("--require-hashes", ("--require-hashes", "")),
        ("--only-binary :all:", ("--only-binary", ":all:")),
        ("--no-binary=foo,bar", ("--no-binary", "foo,bar")),
        ("--use-feature truststore", ("--use-feature", "truststore")),
        ("--extra-index https://x/simple", ("--extra-index-url", "https://x/simple")),
    ],
)
def test_option_lines_are_normalised_to_long_names(text: str, expected: tuple[str, str]) -> None:
    """Short, long, '=' and abbreviated spellings of an option give the same long name."""
    (line,) = parse_ok(text)
    assert line.requirement is None
    assert line.options == (expected,)


def test_several_options_on_one_line() -> None:
    """An option line may carry several global options, kept in order."""
    (line,) = parse_ok("-i https://i.example/simple --trusted-host i.example\n")
    assert line.options == (
        ("--index-url", "https://i.example/simple"),
        ("--trusted-host", "i.example"),
    )


def test_editable_lines() -> None:
    """-e takes the requirement as its value and may carry --config-settings."""
    lines = parse_ok(
        "-e ./libs/foo\n--editable=git+https://g.example/r.git#egg=bar\n"
        "-e ./baz --config-settings editable_mode=compat\n"
    )
    assert [(ln.requirement, ln.editable) for ln in lines] == [
        ("./libs/foo", True),
        ("git+https://g.example/r.git#egg=bar", True),
        ("./baz", True),
    ]
    assert lines[2].options == (("--config-settings", "editable_mode=compat"),)


def test_quoted_option_values() -> None:
    """Option values are split like a shell, so quoted paths with spaces work."""
    (line,) = parse_ok('-r "my reqs/base.txt"\n')
    assert line.options == (("--requirement", "my reqs/base.txt"),)


def test_env_vars_are_expanded_like_pip() -> None:
    """${VAR} is replaced when set and non-empty; unset, empty and lower-case ones stay."""
    environ = {"TOKEN": "s3cr3t", "EMPTY": "", "lower": "x"}
    text = (
        "-i https://u:${TOKEN}@i.example/simple\nfoo @ https://h/${MISSING}/${EMPTY}/${lower}.whl"
    )
    lines = parse_ok(text, environ)
    assert lines[0].options == (("--index-url", "https://u:s3cr3t@i.example/simple"),)
    assert lines[1].requirement == "foo @ https://h/${MISSING}/${EMPTY}/${lower}.whl"
    assert expand_env_vars("${A}${B}", {"A": "1", "B": "2"}) == "12"


def test_env_var_with_hash_is_not_a_comment() -> None:
    """Comments are removed before expansion, so a value containing ' #' is kept."""
    (line,) = parse_ok("foo @ https://h/${P}\n", {"P": "a #b"})
    assert line.requirement == "foo @ https://h/a #b"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("--frobnicate", "unknown option --frobnicate"),
        ("-x foo", "unknown option -x"),
        ("-r", "option -r needs a value"),
        ("--pre=yes", "option --pre takes no value"),
        ("--hash=sha256:aa", "option --hash must follow a requirement on the same line"),
        ("foo -i https://x/simple", "option --index-url cannot share a line with a requirement"),
        ("foo --hash=nothex", "invalid --hash value 'nothex': expected <algorithm>:<hexdigest>"),
        ("-e ./a --hash=sha256:aa", "editable requirements cannot have hashes"),
        ("foo -e ./a", "an editable line holds exactly one requirement"),
        ("-r a.txt b.txt", "unexpected argument 'b.txt' after the options"),
        ("-r 'unterminated", "cannot split options: No closing quotation"),
    ],
)
def test_bad_lines_become_problems(text: str, reason: str) -> None:
    """Each kind of bad line is reported as a located problem instead of an exception."""
    lines, problems = parse_text(f"ok==1\n{text}\n", "reqs.txt", environ={})
    assert [ln.requirement for ln in lines] == ["ok==1"]
    assert problems == [Problem(location="reqs.txt:2", reason=reason)]


def test_all_problems_are_collected() -> None:
    """Several bad lines in one file are all reported, each with its own line number."""
    _, problems = parse_text("--bogus\nfoo\n\n--pre=1\n", "r.in", environ={})
    assert [p.location for p in problems] == ["r.in:1", "r.in:4"]


def test_option_words_split_as_shlex_splits_them() -> None:
    """The direct split of quote-free text (a lock's --hash options) gives shlex's words,
    and text with quotes or backslashes still goes to shlex, errors included."""
    pieces = ["--hash=sha256:ab", " ", "\t", "\n", "\r", "\x0b", "\xa0", "'", '"', "\\", "x",
              "#", ""]
    for combo in itertools.product(pieces, repeat=4):
        text = "".join(combo)
        try:
            expected: list[str] | str = shlex.split(text)
        except ValueError:
            expected = "error"
        try:
            got: list[str] | str = split_words(text)
        except ValueError:
            got = "error"
        assert got == expected, repr(text)
