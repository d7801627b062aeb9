"""Reading a ``requirements.txt`` lock back: pins, options, ``# via`` and the matrix.

Logical lines (continuations, comments, options) come from the shared
tokenizer :mod:`crosspin.reqfile`; comments, which it drops, are read here
from the physical lines: the ``# crosspin-matrix:`` header, ``# via``
annotations in both styles, and the names pip-compile comments out in its
trailing section.
"""

from __future__ import annotations

import posixpath
import re
import urllib.parse
from collections.abc import Sequence
from typing import NoReturn

import attrs
from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from crosspin import reqfile
from crosspin.distributions import parse_filename
from crosspin.environments import Matrix
from crosspin.errors import CrosspinError, LockFileError
from crosspin.lock import LockedPackage, Sources
from crosspin.markers import environments_of

__all__ = ["COMMAND_PREFIX", "INPUTS_PREFIX", "MATRIX_PREFIX", "RequirementsFile", "read"]

#: The header comment that records the matrix: ``# crosspin-matrix: <spec>``.
MATRIX_PREFIX = "crosspin-matrix:"
#: The header comment that records the inputs' digest: ``# crosspin-inputs: sha256:<hex>``.
INPUTS_PREFIX = "crosspin-inputs:"
#: The header comment that keeps the real command when CUSTOM_COMPILE_COMMAND
#: replaced the one shown: ``# crosspin-command: crosspin compile ...``.
COMMAND_PREFIX = "crosspin-command:"

#: First lines of the trailing section's heading, current and older pip-tools.
_UNSAFE_HEADINGS = (
    "# The following packages are considered to be unsafe",
    "# WARNING: The following packages were not pinned",
    "# The following packages are commented out because",
)

#: Options that do not change what a lock pins; read and ignored.
_IGNORED_OPTIONS = frozenset({
    "--no-binary", "--only-binary", "--pre", "--prefer-binary",
    "--require-hashes", "--use-feature",
})

_INLINE_COMMENT_RE = re.compile(r"\s#(.*)$")
_UNPINNED_RE = re.compile(r"#\s+([A-Za-z0-9][A-Za-z0-9._-]*)(?:==\S+)?(?:\s+#.*)?")
_NAME_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
_UNKNOWN_VERSION = Version("0")


@attrs.frozen(kw_only=True)
class RequirementsFile:
    """What a ``requirements.txt`` (crosspin's or pip-compile's) says.

    ``matrix`` comes from crosspin's ``# crosspin-matrix:`` header and is
    ``None`` for a plain pip-compile file. ``packages`` are in file order;
    each carries its marker, extras, URL (direct references and
    editables), the hashes written for it (``recorded_hashes``) and its
    ``# via`` entries. The version of a direct reference or editable is read
    from the URL's file name when it has one and is ``0`` otherwise.
    ``unpinned_unsafe`` are the packages only named in comments in the
    trailing section (written without ``--allow-unsafe``).
    """

    matrix: Matrix | None
    packages: tuple[LockedPackage, ...]
    sources: Sources
    unpinned_unsafe: tuple[NormalizedName, ...] = ()
    #: The ``# crosspin-inputs: sha256:...`` header's hex digest, if any.
    input_digest: str | None = None


def _fail(path: str, lineno: int, reason: str) -> NoReturn:
    raise LockFileError(path, reason, key=f"line {lineno}")


class _Comments:
    """State machine over comment lines: via lists, the header, the unsafe section."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.matrix: Matrix | None = None
        self.input_digest: str | None = None
        self.via: dict[int, list[str]] = {}
        self.unpinned: list[NormalizedName] = []
        self.current: int | None = None  # line of the pin that via comments attach to
        self.in_list = False
        self.in_unsafe = False

    def requirement(self, lineno: int, raws: Sequence[str]) -> None:
        self.current = lineno
        self.in_list = False
        for raw in raws:
            match = _INLINE_COMMENT_RE.search(raw)
            if match and not raw.lstrip().startswith("#"):
                self.comment(match.group(1).strip(), indented=True, lineno=lineno,
                             inline=True)

    def other(self) -> None:
        self.current = None
        self.in_list = False

    def line(self, raw: str, lineno: int) -> None:
        stripped = raw.strip()
        if not stripped:
            self.other()
        elif stripped.startswith("#"):
            body = stripped[1:].strip()
            self.comment(body, indented=raw[:1].isspace(), lineno=lineno, inline=False)
        else:
            self.other()

    def comment(self, body: str, *, indented: bool, lineno: int, inline: bool) -> None:
        owner = self.current if indented else None
        if body == "via" and owner is not None:
            self.in_list = True
        elif body.startswith("via ") and owner is not None:
            self.via.setdefault(owner, []).extend(
                v.strip() for v in body[4:].split(", ") if v.strip()
            )
            self.in_list = False
        elif self.in_list and owner is not None and body:
            self.via.setdefault(owner, []).append(body)
        elif inline:
            return
        elif body.startswith(MATRIX_PREFIX) and self.matrix is None:
            self._matrix(body[len(MATRIX_PREFIX):].strip(), lineno)
        elif body.startswith(INPUTS_PREFIX) and self.input_digest is None:
            value = body[len(INPUTS_PREFIX):].strip()
            self.input_digest = value.split(":", 1)[1] if ":" in value else value
        elif f"# {body}".startswith(_UNSAFE_HEADINGS):
            self.in_unsafe = True
            self.other()
        else:
            match = _UNPINNED_RE.fullmatch(f"# {body}")
            if self.in_unsafe and not indented and match:
                self.unpinned.append(canonicalize_name(match.group(1)))
            self.in_list = False
            if not indented:
                self.current = None

    def _matrix(self, spec: str, lineno: int) -> None:
        try:
            self.matrix = Matrix.from_spec(spec)
        except (ValueError, CrosspinError) as exc:
            _fail(self.path, lineno, f"bad {MATRIX_PREFIX} header {spec!r}: {exc}")


def read(text: str, path: str = "requirements.txt") -> RequirementsFile:
    """Parse a ``requirements.txt`` lock; ``LockFileError`` names the bad line.

    Every requirement must be pinned (``name==version``, ``name @ url`` or
    ``-e url``); ``-r``/``-c`` includes are refused since a lock stands
    alone. Options that do not change what is pinned (``--pre``,
    ``--no-binary``, ...) are accepted and ignored. ``${VAR}`` references are
    kept as written (reading does not look at the process environment).
    """
    lines, problems = reqfile.parse_text(text, path, environ={})
    if problems:
        problem = problems[0]
        lineno = int(problem.location.rsplit(":", 1)[1])
        _fail(path, lineno, problem.reason)
    by_line = {line.lineno: line for line in lines}
    physical = text.splitlines()
    comments = _Comments(path)
    for first, last in reqfile.spans(physical):
        req_line = by_line.get(first)
        if req_line is not None and req_line.requirement is not None:
            comments.requirement(first, physical[first - 1:last])
        elif req_line is not None:
            comments.other()
        else:
            for number in range(first, last + 1):
                comments.line(physical[number - 1], number)

    index_url: str | None = None
    extra: list[str] = []
    find_links: list[str] = []
    hosts: list[str] = []
    no_index = False
    packages: list[tuple[int, LockedPackage]] = []
    for line in lines:
        if line.requirement is None:
            for name, value in line.options:
                if name == "--index-url":
                    index_url = value
                elif name == "--extra-index-url":
                    extra.append(value)
                elif name == "--find-links":
                    find_links.append(value)
                elif name == "--trusted-host":
                    hosts.append(value)
                elif name == "--no-index":
                    no_index = True
                elif name in ("--requirement", "--constraint"):
                    _fail(path, line.lineno, f"a lock cannot include other files ({name})")
                elif name not in _IGNORED_OPTIONS:
                    _fail(path, line.lineno, f"option {name} is not supported in a lock")
            continue
        via = tuple(comments.via.get(line.lineno, ()))
        packages.append((line.lineno, _package(line, via, path)))
    _check_disjoint(packages, comments.matrix, path)
    return RequirementsFile(
        matrix=comments.matrix,
        packages=tuple(p for _, p in packages),
        sources=Sources(
            index_url=index_url,
            extra_index_urls=tuple(extra),
            find_links=tuple(find_links),
            trusted_hosts=tuple(hosts),
            no_index=no_index,
        ),
        unpinned_unsafe=tuple(dict.fromkeys(comments.unpinned)),
        input_digest=comments.input_digest,
    )


def _package(line: reqfile.ReqLine, via: tuple[str, ...], path: str) -> LockedPackage:
    assert line.requirement is not None
    for name, _ in line.options:
        if name != "--hash":
            _fail(path, line.lineno, f"option {name} is not supported in a lock")
    hashes = tuple(sorted(set(line.values("--hash"))))
    if line.editable:
        return _editable(line.requirement, line.lineno, path, via)
    if line.requirement.startswith(("./", "../")):
        return _local_path(line.requirement, line.lineno, path, via)
    try:
        req = Requirement(line.requirement)
    except InvalidRequirement as exc:
        _fail(path, line.lineno, f"invalid requirement {line.requirement!r}: {exc}")
    if req.url:
        version = _version_from_url(req.url)
    else:
        pins = list(req.specifier)
        if len(pins) != 1 or pins[0].operator not in ("==", "===") or "*" in pins[0].version:
            _fail(path, line.lineno,
                  f"{line.requirement!r} is not pinned to one version (name==version)")
        try:
            version = Version(pins[0].version)
        except InvalidVersion:
            _fail(path, line.lineno, f"invalid version in {line.requirement!r}")
    return LockedPackage(
        name=canonicalize_name(req.name),
        version=version,
        marker=req.marker,
        extras=tuple(sorted(req.extras)),
        via=via,
        url=req.url,
        recorded_hashes=hashes,
    )


def _editable(url: str, lineno: int, path: str, via: tuple[str, ...]) -> LockedPackage:
    name = _editable_name(url)
    if name is None:
        _fail(path, lineno, f"cannot tell the project name of editable {url!r}; "
                            "add #egg=<name> to the URL")
    return LockedPackage(
        name=canonicalize_name(name),
        version=_version_from_url(url),
        via=via,
        url=url,
        editable=True,
    )


def _local_path(text: str, lineno: int, path: str, via: tuple[str, ...]) -> LockedPackage:
    """A bare relative path (crosspin writes local projects so): ``./libs/x[e] ; marker``."""
    body, _, marker_text = text.partition(";")
    body = body.strip()
    extras = ""
    if body.endswith("]") and "[" in body:
        body, _, extras = body.partition("[")
    try:
        marker = Marker(marker_text.strip()) if marker_text.strip() else None
    except InvalidMarker as exc:
        _fail(path, lineno, f"invalid marker in {text!r}: {exc}")
    parsed = parse_filename(posixpath.basename(body))
    name = parsed[0] if parsed is not None else _editable_name(body)
    if name is None:
        _fail(path, lineno, f"cannot tell the project name of {body!r}")
    return LockedPackage(
        name=canonicalize_name(name),
        version=_version_from_url(body),
        marker=marker,
        extras=tuple(sorted(e.strip() for e in extras.rstrip("]").split(",") if e.strip())),
        via=via,
        url=body,
    )


def _editable_name(url: str) -> str | None:
    """The project name in ``#egg=name``, else the last path segment."""
    parts = urllib.parse.urlsplit(url)
    egg = urllib.parse.parse_qs(parts.fragment).get("egg")
    if egg:
        candidate = egg[0].split("[", 1)[0]
    else:
        tail = posixpath.basename(parts.path.replace("\\", "/").rstrip("/"))
        candidate = tail.split("@", 1)[0]
        if candidate.endswith(".git"):
            candidate = candidate[: -len(".git")]
    return candidate if _NAME_RE.match(candidate) else None


def _version_from_url(url: str) -> Version:
    """The version in a wheel or sdist file name at the end of ``url``, else ``0``."""
    tail = posixpath.basename(urllib.parse.urlsplit(url).path)
    parsed = parse_filename(urllib.parse.unquote(tail))
    return parsed[1] if parsed is not None else _UNKNOWN_VERSION


def _check_disjoint(
    packages: Sequence[tuple[int, LockedPackage]], matrix: Matrix | None, path: str
) -> None:
    """A name pinned twice must be pinned for different environments."""
    seen: dict[str, list[tuple[frozenset[str], str]]] = {}
    by_text: dict[str, frozenset[str]] = {}  # markers repeat across pins: evaluate each once
    for lineno, package in packages:
        marker_text = str(package.marker) if package.marker is not None else ""
        if matrix is not None:
            known = by_text.get(marker_text)
            if known is None:
                try:
                    known = environments_of(package.marker, matrix)
                except Exception as exc:  # UndefinedComparison / UndefinedEnvironmentName
                    _fail(path, lineno, f"cannot evaluate the marker of {package.name}: {exc}")
                by_text[marker_text] = known
            envs = known
        else:
            envs = frozenset()
        for other_envs, other_text in seen.get(package.name, []):
            clash = envs & other_envs if matrix is not None else (
                frozenset({"every environment"}) if other_text == marker_text else frozenset()
            )
            if clash:
                where = ", ".join(sorted(clash)[:3]) + (" ..." if len(clash) > 3 else "")
                _fail(path, lineno, f"{package.name} is pinned twice for {where}")
        seen.setdefault(package.name, []).append((envs, marker_text))
