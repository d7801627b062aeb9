"""Read pip-style requirements files (``requirements.in``, constraints, overrides).

``-r`` and ``-c`` are followed relative to the including file, with cycle
detection; option lines are merged into the reader's state; every
requirement becomes a :class:`RootRequirement` whose ``origin`` is what
pip-compile prints after ``# via`` (``-r requirements.in``). As in pip, a
``-r`` inside a constraints file adds requirements, not constraints.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from packaging.utils import canonicalize_name

from crosspin.inputs._links import Direct, interpret
from crosspin.inputs._model import Kind, RootRequirement, State
from crosspin.reqfile import ReqLine, is_stdin, parse_text, read_text_file

__all__ = ["MISSING", "display_name", "read_requirements_file"]

#: The reason given for a requirement file that does not exist.
MISSING = "no such file"

_ORIGIN_PREFIX: dict[Kind, str] = {
    "requirement": "-r",
    "constraint": "-c",
    "override": "--override",
}
_URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")


def display_name(path: Path, base_dir: Path) -> str:
    """How a path the user gave is named in origins and messages: relative, with ``/``."""
    if path.is_absolute():
        try:
            path = path.relative_to(base_dir)
        except ValueError:
            return path.as_posix()
    return posixpath.normpath(path.as_posix())


def read_requirements_file(
    state: State,
    display: str,
    kind: Kind,
    *,
    included_at: str | None = None,
    stack: tuple[tuple[Path, str], ...] = (),
    seen: set[tuple[Path, Kind]] | None = None,
) -> None:
    """Read one requirements file (and what it includes) into ``state``.

    ``display`` is the file as pip would name it (relative to the base
    folder); ``included_at`` is the ``file:line`` of the ``-r``/``-c`` that
    named it, used to place a missing-file or cycle problem.
    """
    seen = set() if seen is None else seen
    stdin = is_stdin(display)
    if stdin:
        # Standard input is one file, whatever it is called; its includes are
        # relative to the base folder.
        display, actual = "-", state.base_dir / "<stdin>"
    else:
        actual = Path(display) if Path(display).is_absolute() else state.base_dir / display
    where = included_at or display
    try:
        resolved = actual if stdin else actual.resolve()
        if stdin and (resolved, kind) in seen:
            return
        # Regular files only, capped: never a FIFO, a device or a giant file.
        text = read_text_file(Path(display) if stdin else actual)
    except FileNotFoundError:
        # A file named on the command line is the location itself; an included
        # one is named at the line that includes it.
        state.problem(where, MISSING if included_at is None else f"{MISSING}: {display}")
        return
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        # ValueError: a NUL byte or similar that no file system accepts.
        state.problem(where, f"cannot read {display!r}: {exc}")
        return
    if any(resolved == path for path, _ in stack):
        chain = " -> ".join([name for _, name in stack] + [display])
        state.problem(where, f"requirement files include each other: {chain}")
        return
    if (resolved, kind) in seen:
        return
    seen.add((resolved, kind))
    if not stdin:
        state.read_file(actual)
    lines, problems = parse_text(text, display, environ=state.environ)
    # Report the tokenizer's problems in line order among the others.
    pending = sorted(problems, key=lambda p: int(p.location.rsplit(":", 1)[1]))
    inner_stack = (*stack, (resolved, display))
    for line in lines:
        while pending and int(pending[0].location.rsplit(":", 1)[1]) < line.lineno:
            state.problems.append(pending.pop(0))
        _apply_options(state, line, display, kind, inner_stack, seen)
        if line.requirement is not None:
            _add_requirement(state, line, display, kind, actual.parent)
    state.problems.extend(pending)


def _apply_options(
    state: State,
    line: ReqLine,
    display: str,
    kind: Kind,
    stack: tuple[tuple[Path, str], ...],
    seen: set[tuple[Path, Kind]],
) -> None:
    for name, value in line.options:
        if name in ("--requirement", "--constraint"):
            if _URL_RE.match(value):
                state.problem(
                    line.location, f"requirement files from URLs are not supported: {value}"
                )
                continue
            # pip: "-r" adds requirements even inside a constraints file;
            # inside an overrides file everything stays an override.
            if name == "--constraint":
                child_kind: Kind = "constraint"
            else:
                child_kind = "override" if kind == "override" else "requirement"
            read_requirements_file(
                state,
                _child_display(display, value),
                child_kind,
                included_at=line.location,
                stack=stack,
                seen=seen,
            )
        elif name == "--index-url":
            state.index_url = state.index_url or value
        elif name == "--extra-index-url":
            _append(state.extra_index_urls, value)
        elif name == "--find-links":
            _append(state.find_links, _find_links_value(state, display, value))
        elif name == "--trusted-host":
            _append(state.trusted_hosts, value)
        elif name == "--pre":
            state.pre = True
        elif name == "--no-index":
            state.no_index = True
        elif name in ("--no-binary", "--only-binary"):
            _binary_option(state, name, value)
        # --prefer-binary, --require-hashes, --use-feature, --hash,
        # --config-settings, --global-option: valid, nothing to merge here.


def _add_requirement(state: State, line: ReqLine, display: str, kind: Kind, folder: Path) -> None:
    assert line.requirement is not None
    result = interpret(line.requirement, folder=folder, editable=line.editable)
    if not isinstance(result, Direct):
        state.problem(line.location, result)
        return
    for path in result.files:
        state.read_file(path)
    written_link = None
    if result.link and line.written is not None:
        as_written = interpret(line.written, folder=folder, editable=line.editable)
        if isinstance(as_written, Direct) and as_written.link != result.link:
            written_link = as_written.link
    state.add(
        kind,
        RootRequirement(
            requirement=result.requirement,
            origin=f"{_ORIGIN_PREFIX[kind]} {display}",
            location=line.location,
            editable=line.editable,
            link=result.link,
            hashes=tuple(dict.fromkeys(line.values("--hash"))),
            relative=result.relative,
            written_link=written_link,
        ),
    )


def _child_display(parent: str, child: str) -> str:
    if posixpath.isabs(child) or Path(child).is_absolute():
        return child
    return posixpath.normpath(posixpath.join(posixpath.dirname(parent), child))


def _find_links_value(state: State, display: str, value: str) -> str:
    # pip: a relative find-links path is taken relative to the requirements
    # file when it exists there, else left alone (relative to the cwd).
    if _URL_RE.match(value) or Path(value).is_absolute():
        return value
    relative = _child_display(display, value)
    if (state.base_dir / relative).exists():
        return relative
    return value


def _append(values: list[str], value: str) -> None:
    if value not in values:
        values.append(value)


def _binary_option(state: State, name: str, value: str) -> None:
    # pip's rule: each name moves to the named set and leaves the other one;
    # ":all:" replaces the set, ":none:" empties it.
    target, other = (
        (state.no_binary, state.only_binary)
        if name == "--no-binary"
        else (state.only_binary, state.no_binary)
    )
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        if item == ":all:":
            target.clear()
            target.add(":all:")
            other.clear()
        elif item == ":none:":
            target.clear()
        else:
            canonical = canonicalize_name(item)
            target.add(canonical)
            other.discard(canonical)
