"""What a wheel says about itself, parsed strictly: member names, WHEEL, RECORD, entry points.

Everything here is pure (text in, values or :class:`WheelProblem` out), so
each rule is tested on its own; :mod:`crosspin.sync._wheel` applies them
to an archive. A problem's message is a reason a user can act on; the
caller adds the wheel's name.
"""

from __future__ import annotations

import base64
import binascii
import configparser
import csv
import email.parser
import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Literal

import attrs

__all__ = [
    "SCHEMES",
    "EntryScript",
    "RecordRow",
    "WheelProblem",
    "duplicates",
    "file_hash",
    "is_plain_member",
    "member_problem",
    "parse_entry_points",
    "parse_headers",
    "parse_record",
    "parse_wheel_file",
    "record_hash",
    "requires_dist",
    "reserved_name",
    "script_problem",
    "top_level",
]

#: The ``.data/<key>/`` folders a wheel may use (the keys of an install scheme).
SCHEMES: frozenset[str] = frozenset({"purelib", "platlib", "headers", "scripts", "data"})

#: Script names that would replace the environment's interpreter or its
#: activation scripts: ``python``, ``python3``, ``python3.12``, ``pythonw``,
#: ``python3.13t``, ``pypy3``, with or without ``.exe``; ``activate``,
#: ``activate.fish``, ``Activate.ps1``, ``activate_this.py``, ``deactivate.bat``
#: (argcomplete's ``activate-global-python-argcomplete`` is an honest name).
_RESERVED = re.compile(
    r"^(?:(?:python|pypy)(?:\d+(?:\.\d+)?)?t?w?(?:\.exe)?"
    r"|(?:de)?activate(?:\.[a-z0-9]+|_this\.py)?)$", re.IGNORECASE)

#: ``module:attr [extras]`` as importlib.metadata reads an entry point.
_ENTRY_POINT = re.compile(r"^(?P<module>[\w.]+)\s*:\s*(?P<attr>[\w.]+)\s*(?:\[[^\]]*\]\s*)?$")

#: Hashes RECORD may use: the strong ones hashlib always has.
_RECORD_HASHES = frozenset({"sha256", "sha384", "sha512", "sha3_256", "sha3_384", "sha3_512",
                            "blake2b", "blake2s"})


class WheelProblem(ValueError):
    """Why a wheel is refused (the caller names the wheel)."""


@attrs.frozen(kw_only=True)
class RecordRow:
    """One RECORD row: ``algo=urlsafe-b64`` hash (``""`` for RECORD itself) and size."""

    path: str
    hash: str
    size: int | None

    @property
    def algorithm(self) -> str:
        """The hash algorithm (``sha256``)."""
        return self.hash.partition("=")[0]

    def matches(self, digest: bytes) -> bool:
        """Whether ``digest`` (raw bytes of :attr:`algorithm`) is the recorded one.

        The spec's form is urlsafe base64; some wheels (gmsh) write hex, which
        pip accepts, so that is accepted too.
        """
        value = self.hash.partition("=")[2]
        return value in (_b64(digest), digest.hex())


@attrs.frozen(kw_only=True)
class EntryScript:
    """A console or GUI script an entry point asks for: ``name = module:attr``."""

    name: str
    module: str
    attr: str
    section: Literal["console", "gui"]


def _b64(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def record_hash(algorithm: str, digest: bytes) -> str:
    """``algo=urlsafe-b64`` as RECORD writes a hash."""
    return f"{algorithm}={_b64(digest)}"


def file_hash(path: str, algorithm: str = "sha256") -> str:
    """The RECORD-style hash of a file's bytes."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return record_hash(algorithm, digest.digest())


def reserved_name(name: str) -> bool:
    """Whether a file named ``name`` in the scripts folder would replace the interpreter
    (``python3``, ``python3.12``, ``pythonw.exe``) or an activation script."""
    return _RESERVED.match(name) is not None


#: A plain relative file path: ``/``-separated parts, none empty, ``.`` or ``..``, no
#: backslash or NUL, no drive letter (what :func:`member_problem` lets through, less
#: a trailing ``/``).
_PLAIN_MEMBER = re.compile(r"(?s)(?!.:)(?:(?!\.\.?/)[^/\\\x00]+/)*(?!\.\.?\Z)[^/\\\x00]+")


def is_plain_member(name: str) -> bool:
    """Whether ``name`` is a plain relative file path (:func:`member_problem` finds nothing
    wrong and it does not end in ``/``); one regular expression, for many names."""
    return _PLAIN_MEMBER.fullmatch(name) is not None


def member_problem(name: str) -> str | None:
    """Why a zip member (or RECORD path) name cannot be installed, else ``None``.

    Absolute paths, drive letters, backslashes, ``..`` and empty or ``.``
    components all could place a file somewhere the wheel does not own.
    """
    if not name or "\x00" in name or "\\" in name:
        return f"the member name {name!r} is not a plain relative path"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return f"the member {name} names a path outside the environment"
    parts = name.rstrip("/").split("/")
    if ".." in parts:
        return f"the member {name} names a path outside the environment"
    if any(p in ("", ".") for p in parts):
        return f"the member name {name!r} is not a plain relative path"
    return None


def script_problem(name: str, *, where: str) -> str | None:
    """Why a script name is refused (``where`` says which declaration named it), else ``None``.

    A script is one file in the scripts folder: a name with a separator
    would leave it, and ``python3``/``activate`` would replace the
    interpreter or the environment's own tools.
    """
    if not name or "/" in name or "\\" in name or "\x00" in name or name in (".", ".."):
        return f"{where} names the script {name!r}, which is not a plain file name"
    if reserved_name(name):
        what = "activation script" if "activate" in name.lower() else "interpreter"
        return f"{where} names the script {name!r}, which would replace the environment's {what}"
    return None


def parse_headers(text: str) -> dict[str, list[str]]:
    """An email-style header block (WHEEL, METADATA) as ``{field: [values]}``, body dropped."""
    message = email.parser.Parser().parsestr(text, headersonly=True)
    found: dict[str, list[str]] = {}
    for key, value in message.items():
        found.setdefault(key.lower(), []).append(str(value).strip())
    return found


def parse_wheel_file(text: str) -> bool:
    """Check ``WHEEL``: ``Wheel-Version: 1.x``; returns ``Root-Is-Purelib``.

    Anything but ``Root-Is-Purelib: true`` means platlib, as pip and
    installer read it.
    """
    fields = parse_headers(text)
    version = (fields.get("wheel-version") or [""])[0]
    if not re.fullmatch(r"1\.\d+", version):
        raise WheelProblem(f"its WHEEL file says Wheel-Version {version or 'nothing'}, "
                           "and only 1.x wheels can be installed")
    return (fields.get("root-is-purelib") or [""])[0].lower() == "true"


def parse_record(text: str, record_path: str) -> dict[str, RecordRow]:
    """RECORD rows by path: three fields, a strong ``algo=digest`` hash, a whole size.

    Every file but RECORD (and its signatures) must carry a hash; a path
    listed twice or one :func:`member_problem` refuses is an error.
    """
    rows: dict[str, RecordRow] = {}
    for number, fields in enumerate(csv.reader(text.splitlines()), start=1):
        if not fields:
            continue
        if len(fields) != 3:
            raise WheelProblem(f"RECORD line {number} has {len(fields)} fields, not 3")
        path, digest, size_text = fields
        problem = member_problem(path)
        if problem:
            raise WheelProblem(f"RECORD line {number}: {problem}")
        unsigned = path in (record_path, f"{record_path}.jws", f"{record_path}.p7s")
        if digest or not unsigned:
            _check_hash(digest, number)
        if size_text and not size_text.isdigit():
            raise WheelProblem(f"RECORD line {number} gives the size {size_text!r}, "
                               "not a whole number")
        if path in rows:
            raise WheelProblem(f"RECORD lists {path} twice")
        rows[path] = RecordRow(path=path, hash=digest, size=int(size_text) if size_text else None)
    return rows


def _check_hash(digest: str, number: int) -> None:
    algorithm, _, value = digest.partition("=")
    if algorithm not in _RECORD_HASHES:
        raise WheelProblem(f"RECORD line {number} has the hash {digest!r}, "
                           "not algo=digest with a strong algorithm")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    size = hashlib.new(algorithm).digest_size
    hexadecimal = len(value) == 2 * size and all(c in "0123456789abcdef" for c in value.lower())
    if not hexadecimal and (len(raw) != size or _b64(raw) != value):
        raise WheelProblem(f"RECORD line {number} has a malformed {algorithm} digest")


def parse_entry_points(text: str) -> tuple[EntryScript, ...]:
    """The console and GUI scripts of ``entry_points.txt``, checked.

    The file must parse strictly (sections first, no section or key twice);
    every script must be ``name = module:attr [extras]`` with a plain,
    unreserved name (:func:`script_problem`).
    """
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        raise WheelProblem(f"its entry points cannot be read: {_config_problem(exc)}") from None
    scripts: list[EntryScript] = []
    for section, kind in (("console_scripts", "console"), ("gui_scripts", "gui")):
        if not parser.has_section(section):
            continue
        for name, value in parser.items(section):
            match = _ENTRY_POINT.match(value.strip())
            if match is None:
                raise WheelProblem(f"the entry point {name} = {value} is not module:attr")
            problem = script_problem(name, where=f"the entry point {name} = {value}")
            if problem:
                raise WheelProblem(problem)
            scripts.append(EntryScript(name=name, module=match["module"], attr=match["attr"],
                                       section=kind))  # type: ignore[arg-type]
    return tuple(scripts)


def _config_problem(exc: configparser.Error) -> str:
    """configparser's complaint in a few words (its own names a ``<string>`` source)."""
    if isinstance(exc, configparser.DuplicateSectionError):
        return f"the section [{exc.section}] appears twice"
    if isinstance(exc, configparser.DuplicateOptionError):
        return f"{exc.option} appears twice in [{exc.section}]"
    if isinstance(exc, configparser.MissingSectionHeaderError):
        return f"line {exc.lineno} comes before any [section]"
    if isinstance(exc, configparser.ParsingError):
        return "a line is neither a [section] nor name = value"
    return type(exc).__name__


def duplicates(names: Iterable[str]) -> str | None:
    """A name that occurs twice, also when case is ignored (one file on macOS/Windows)."""
    seen: dict[str, str] = {}
    for name in names:
        key = name.casefold()
        if key in seen:
            return name
        seen[key] = name
    return None


def top_level(names: Iterable[str], suffix: str) -> list[str]:
    """The distinct first path components of ``names`` that end with ``suffix``."""
    return sorted({n.split("/", 1)[0] for n in names if n.split("/", 1)[0].endswith(suffix)})


def requires_dist(fields: Mapping[str, list[str]]) -> tuple[str, ...]:
    """The Requires-Dist values of parsed METADATA headers."""
    return tuple(fields.get("requires-dist", ()))
