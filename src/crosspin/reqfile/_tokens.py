"""Tokenizer for pip's requirements-file syntax: logical lines, options, env vars.

It turns text into :class:`ReqLine` values (one per logical line) and a list
of :class:`~crosspin.errors.Problem` values, without reading other files:
``-r``/``-c`` lines are returned as options for the caller to follow. The
rules are pip's, so a file pip accepts reads the same here:

* a line ending in a backslash continues on the next one;
* ``#`` starts a comment at the start of a line or after whitespace (so URL
  fragments such as ``#egg=`` or ``#sha256=`` survive);
* ``${VAR}`` (upper-case letters, digits, ``_``) is replaced by the
  environment variable when it is set and not empty, and kept as written
  otherwise;
* words up to the first one starting with ``-`` are the requirement, the
  rest are options, split like a POSIX shell would.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterator, Mapping, Sequence

import attrs

from crosspin.errors import Problem

__all__ = [
    "GLOBAL_OPTIONS",
    "REQUIREMENT_OPTIONS",
    "ReqLine",
    "expand_env_vars",
    "logical_lines",
    "parse_text",
    "spans",
    "split_words",
]

#: Options that apply to the whole file (a line with one of them has no requirement).
#: Long name -> whether it takes a value.
GLOBAL_OPTIONS: Mapping[str, bool] = {
    "--constraint": True,
    "--extra-index-url": True,
    "--find-links": True,
    "--index-url": True,
    "--no-binary": True,
    "--no-index": False,
    "--only-binary": True,
    "--pre": False,
    "--prefer-binary": False,
    "--require-hashes": False,
    "--requirement": True,
    "--trusted-host": True,
    "--use-feature": True,
}

#: Options that belong to the requirement on their line.
REQUIREMENT_OPTIONS: Mapping[str, bool] = {
    "--config-settings": True,
    "--global-option": True,
    "--hash": True,
}

_EDITABLE = "--editable"

_SHORT = {
    "-c": "--constraint",
    "-e": _EDITABLE,
    "-f": "--find-links",
    "-i": "--index-url",
    "-r": "--requirement",
}

_ALL_LONG: Mapping[str, bool] = {**GLOBAL_OPTIONS, **REQUIREMENT_OPTIONS, _EDITABLE: True}

_ENV_VAR_RE = re.compile(r"\$\{([A-Z0-9_]+)\}")
_HASH_RE = re.compile(r"^[A-Za-z0-9_]+:[0-9A-Fa-f]+$")


@attrs.frozen(kw_only=True)
class ReqLine:
    """One logical line of a requirements file: a requirement, options, or both.

    ``requirement`` is the requirement text (PEP 508, URL or path) or
    ``None`` for lines holding only options. ``options`` are ``(long name,
    value)`` pairs in the order written, short names spelled long (``-r`` is
    ``--requirement``); flags have the value ``""``. ``-e`` is not among
    them: it sets ``editable`` and its value is the requirement.
    """

    path: str
    lineno: int
    requirement: str | None
    editable: bool = False
    options: tuple[tuple[str, str], ...] = ()
    #: ``requirement`` as written, before ``${VAR}`` expansion (``None`` when the same):
    #: a lock keeps the variable, never the secret it stands for.
    written: str | None = None

    @property
    def location(self) -> str:
        """``path:lineno`` of the line, for messages and ``# via`` style origins."""
        return f"{self.path}:{self.lineno}"

    def values(self, option: str) -> tuple[str, ...]:
        """Every value given for one long option on this line, in order."""
        return tuple(value for name, value in self.options if name == option)


def spans(physical: Sequence[str]) -> list[tuple[int, int]]:
    """``(first, last)`` line numbers (from 1) of each logical line, blank and comment ones too.

    pip's joining rule: a line ending in a backslash continues on the next
    one, unless it is a comment line (a comment line ends a continuation,
    so a stray trailing backslash cannot swallow the next requirement).
    """
    out = []
    number = 1
    while number <= len(physical):
        first = number
        while number < len(physical) and _continues(physical[number - 1]):
            number += 1
        out.append((first, number))
        number += 1
    return out


def _continues(raw: str) -> bool:
    return raw.endswith("\\") and not raw.lstrip().startswith("#")


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Yield ``(first physical line number, text)`` for each non-blank logical line.

    Backslash continuations are joined (see :func:`spans`) and comments are
    removed, as pip does.
    """
    physical = text.splitlines()
    for first, last in spans(physical):
        joined = "".join(
            raw[:-1] if _continues(raw) else raw for raw in physical[first - 1:last]
        )
        line = _strip_comment(joined).strip()
        if line:
            yield first, line


def _strip_comment(line: str) -> str:
    """``line`` up to its comment: a ``#`` at the start or after whitespace (pip's rule).

    A scan, not a regular expression: ``(^|\\s+)#`` backtracks over every run
    of blanks, and a line of a million spaces took hours.
    """
    start = 0
    while True:
        found = line.find("#", start)
        if found == -1:
            return line
        if found == 0 or line[found - 1].isspace():
            return line[:found]
        start = found + 1


def expand_env_vars(line: str, environ: Mapping[str, str] | None = None) -> str:
    """Replace ``${VAR}`` with the variable's value when it is set and not empty.

    Only upper-case names are recognised and unset variables stay as
    written, which is what pip does; credentials in index URLs are the
    usual use.
    """
    env = os.environ if environ is None else environ

    def replace(match: re.Match[str]) -> str:
        return env.get(match.group(1)) or match.group(0)

    return _ENV_VAR_RE.sub(replace, line)


def parse_text(
    text: str, path: str, *, environ: Mapping[str, str] | None = None
) -> tuple[list[ReqLine], list[Problem]]:
    """Tokenize a requirements file's text into lines and problems.

    Nothing is read or followed (``-r``/``-c`` come back as options), and
    nothing is raised: every bad line becomes a :class:`Problem` located at
    ``path:lineno`` and the good lines are still returned, so a caller can
    report all problems of all files at once.
    """
    lines: list[ReqLine] = []
    problems: list[Problem] = []
    for lineno, raw in logical_lines(text):
        location = f"{path}:{lineno}"
        line = expand_env_vars(raw, environ)
        requirement_text, option_text = _split_args_options(line)
        written_text = _split_args_options(raw)[0] if line != raw else requirement_text
        try:
            tokens = split_words(option_text)
        except ValueError as exc:
            problems.append(Problem(location=location, reason=f"cannot split options: {exc}"))
            continue
        options, reasons = _parse_options(tokens)
        editable_values = [value for name, value in options if name == _EDITABLE]
        options = [(name, value) for name, value in options if name != _EDITABLE]
        requirement: str | None = requirement_text or None
        written: str | None = written_text or None
        editable = bool(editable_values)
        if editable:
            if requirement is not None or len(editable_values) > 1:
                reasons.append("an editable line holds exactly one requirement")
            requirement = editable_values[0]
            written = _written_editable(raw) if line != raw else requirement
        reasons.extend(_check_combination(requirement, editable, options))
        if reasons:
            problems.extend(Problem(location=location, reason=r) for r in reasons)
            continue
        lines.append(
            ReqLine(
                path=path,
                lineno=lineno,
                requirement=requirement,
                editable=editable,
                options=tuple(options),
                written=written if written != requirement else None,
            )
        )
    return lines, problems


def _written_editable(raw: str) -> str | None:
    """The value of ``-e``/``--editable`` on a line as written (before expansion)."""
    try:
        tokens = split_words(_split_args_options(raw)[1])
    except ValueError:
        return None
    values = [value for name, value in _parse_options(tokens)[0] if name == _EDITABLE]
    return values[0] if len(values) == 1 else None


#: What ``shlex.split`` takes apart on: without quotes or backslashes, nothing else.
_SHELL_SPACE = re.compile(r"[ \t\r\n]+")
_SHELL_SPECIAL = re.compile(r"['\"\\]")


def split_words(text: str) -> list[str]:
    """``shlex.split(text)``; text without quotes or backslashes (a lock's ``--hash``
    options) is split on its whitespace directly, which is the same and many times
    faster (shlex reads one character at a time)."""
    if _SHELL_SPECIAL.search(text) is None:
        return [word for word in _SHELL_SPACE.split(text) if word]
    return shlex.split(text)


def _split_args_options(line: str) -> tuple[str, str]:
    # pip's rule: words before the first one that starts with "-" form the
    # requirement (which may contain spaces: "name @ url ; marker").
    words = line.split(" ")
    for index, word in enumerate(words):
        if word.startswith("-"):
            return " ".join(words[:index]).strip(), " ".join(words[index:])
    return line.strip(), ""


def _resolve_long(name: str) -> str | None:
    if name in _ALL_LONG:
        return name
    # optparse accepts any unambiguous prefix of a long option, and so does pip.
    matches = [option for option in _ALL_LONG if option.startswith(name)]
    return matches[0] if len(matches) == 1 else None


def _parse_options(tokens: list[str]) -> tuple[list[tuple[str, str]], list[str]]:
    options: list[tuple[str, str]] = []
    reasons: list[str] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        inline: str | None = None
        if token.startswith("--"):
            written, sep, value = token.partition("=")
            inline = value if sep else None
            name = _resolve_long(written)
        elif token.startswith("-") and len(token) > 1:
            written = token[:2]
            name = _SHORT.get(written)
            inline = token[2:] or None
        else:
            reasons.append(f"unexpected argument {token!r} after the options")
            continue
        if name is None:
            # Whether it would take a value is unknown: stop rather than
            # report the next word as a second, misleading problem.
            reasons.append(f"unknown option {written}")
            break
        if not _ALL_LONG[name]:
            if inline is not None:
                reasons.append(f"option {name} takes no value")
            options.append((name, ""))
            continue
        if inline is None:
            if index >= len(tokens):
                reasons.append(f"option {written} needs a value")
                continue
            inline = tokens[index]
            index += 1
        options.append((name, inline))
    return options, reasons


def _check_combination(
    requirement: str | None, editable: bool, options: list[tuple[str, str]]
) -> list[str]:
    reasons: list[str] = []
    names = [name for name, _ in options]
    if requirement is None:
        reasons.extend(
            f"option {name} must follow a requirement on the same line"
            for name in dict.fromkeys(names)
            if name in REQUIREMENT_OPTIONS
        )
    else:
        reasons.extend(
            f"option {name} cannot share a line with a requirement"
            for name in dict.fromkeys(names)
            if name in GLOBAL_OPTIONS
        )
        if editable and "--hash" in names:
            reasons.append("editable requirements cannot have hashes")
    reasons.extend(
        f"invalid --hash value {value!r}: expected <algorithm>:<hexdigest>"
        for name, value in options
        if name == "--hash" and not _HASH_RE.match(value)
    )
    return reasons
