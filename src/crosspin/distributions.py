"""Distribution files as an index lists them: the unit crosspin locks and installs.

A :class:`DistFile` is what one link on a simple-API page (PEP 503/691)
says about one wheel or sdist: where it is, its hashes, its Requires-Python,
whether it is yanked, when it was uploaded and whether its core metadata is
published beside it (PEP 658/714). It is shared by ``index`` (which makes
them), ``resolver`` (which picks among them), ``lock`` and the writers.
"""

from __future__ import annotations

import datetime
import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Literal

import attrs
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag, parse_tag
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

__all__ = [
    "DistFile",
    "FileKind",
    "checked_hash",
    "checked_hashes",
    "is_basename",
    "parse_filename",
    "requires_python_spec",
]

FileKind = Literal["wheel", "sdist"]


#: Hex digest length per algorithm, filled on first use (``None``: not usable).
_DIGEST_LENGTHS: dict[str, int | None] = {}
_HEX = re.compile(r"[0-9a-f]+")


def _digest_length(algorithm: str) -> int | None:
    length = _DIGEST_LENGTHS.get(algorithm, -1)
    if length == -1:
        length = None
        # Only algorithms every Python has: a hash this one cannot check is no hash.
        if algorithm in hashlib.algorithms_guaranteed and not algorithm.startswith("shake_"):
            length = hashlib.new(algorithm).digest_size * 2
        _DIGEST_LENGTHS[algorithm] = length
    return length


def checked_hash(algorithm: str, digest: str) -> tuple[str, str] | None:
    """``(algorithm, digest)`` lower-cased, or ``None`` unless the digest is one this can be.

    Hashes come from indexes and lock files: untrusted text that is used to
    name cache entries and to verify downloads. A hash is kept only when the
    algorithm is one ``hashlib`` always has and the digest is hexadecimal of
    exactly that algorithm's length; upper-case hex is accepted (and
    lower-cased), anything else (``../x``, a truncated or padded digest) is
    treated as absent.
    """
    algorithm, digest = algorithm.lower(), digest.lower()
    length = _digest_length(algorithm)
    if length is None or len(digest) != length or not _HEX.fullmatch(digest):
        return None
    return algorithm, digest


def checked_hashes(pairs: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The pairs :func:`checked_hash` keeps, sorted, one per algorithm (the first given)."""
    out: dict[str, str] = {}
    for algorithm, digest in pairs:
        if not (isinstance(algorithm, str) and isinstance(digest, str)):
            continue
        checked = checked_hash(algorithm, digest)
        if checked is not None:
            out.setdefault(*checked)
    return tuple(sorted(out.items()))


def is_basename(filename: str) -> bool:
    """Whether a file name an index gave can name a file in a folder, and nothing else.

    No separators (``/``, ``\\``), no NUL and no leading dot (``..``, hidden
    files): a distribution file name never has them.
    """
    return bool(filename) and not filename.startswith(".") and not any(
        c in filename for c in "/\\\x00"
    )


def parse_filename(
    filename: str,
) -> tuple[NormalizedName, Version, FileKind, frozenset[Tag]] | None:
    """Name, version, kind and wheel tags of a distribution filename.

    Returns ``None`` for files that are neither a valid wheel nor an sdist
    (``.exe`` installers, eggs, badly named files): indexes list those and
    they are ignored, as pip ignores them. A name that is not a plain file
    name (:func:`is_basename`) is never a distribution.
    """
    if not is_basename(filename):
        return None
    try:
        if filename.endswith(".whl"):
            return _parse_wheel(filename)
        if filename.endswith((".tar.gz", ".zip")):
            name, version = parse_sdist_filename(filename)
            return name, version, "sdist", frozenset()
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return None


#: Parsed compressed tag sets: a page repeats a few dozen across thousands
#: of wheels, and expanding them is most of the cost of reading a page.
_TAGS: dict[str, frozenset[Tag]] = {}

#: Parsed ``name-version[-build]`` stems: a release has a wheel per platform,
#: all spelling the same stem; one validated (name, Version) serves them all
#: (and one shared Version object hashes once).
_STEMS: dict[str, tuple[NormalizedName, Version]] = {}


def _parse_wheel(filename: str) -> tuple[NormalizedName, Version, FileKind, frozenset[Tag]]:
    """``parse_wheel_filename``, with the tag part parsed once per distinct string.

    packaging validates name, version and build tag; the tag triple is only
    split, so it is validated on a stand-in triple and expanded from the memo.
    """
    stem, _, tag_text = filename[:-4].rpartition("-")
    stem, _, abi = stem.rpartition("-")
    stem, _, python = stem.rpartition("-")
    if not stem:
        return _parse_wheel_slowly(filename)  # raises the right InvalidWheelFilename
    known = _STEMS.get(stem)
    if known is None:
        name, version, _build, _tags = parse_wheel_filename(f"{stem}-py3-none-any.whl")
        _STEMS[stem] = (name, version)
    else:
        name, version = known
    triple = f"{python}-{abi}-{tag_text}"
    tags = _TAGS.get(triple)
    if tags is None:
        try:
            tags = parse_tag(triple)
        except ValueError:  # InvalidTag: let packaging say how the filename is wrong
            return _parse_wheel_slowly(filename)
        _TAGS[triple] = tags
    return name, version, "wheel", tags


def _parse_wheel_slowly(filename: str) -> tuple[NormalizedName, Version, FileKind, frozenset[Tag]]:
    name, version, _build, tags = parse_wheel_filename(filename)
    return name, version, "wheel", tags


#: Requires-Python strings repeat across a project's files: one object each
#: (also lets memos keyed by specifier object hit across files).
_SPECS: dict[str, SpecifierSet | None] = {}


def requires_python_spec(text: str | None) -> SpecifierSet | None:
    """A link's ``requires_python`` as a shared specifier; ``None`` when absent or unusable.

    An unparsable or blank value is treated as absent (pip does the same).
    """
    if not text:
        return None
    if text in _SPECS:
        return _SPECS[text]
    spec: SpecifierSet | None = None
    if text.strip():
        try:
            spec = SpecifierSet(text)
        except Exception:  # packaging raises InvalidSpecifier
            spec = None
    _SPECS[text] = spec
    return spec


@attrs.frozen(kw_only=True)
class DistFile:
    """One wheel or sdist on an index or in a find-links location.

    ``hashes`` are ``(algorithm, hexdigest)`` pairs, sorted; ``yanked`` is
    ``None`` when the file is not yanked, else the reason (possibly empty).
    ``metadata_hashes`` is ``None`` when no PEP 658 ``.metadata`` file is
    advertised, else the hashes advertised for it (possibly none).
    """

    filename: str
    url: str
    name: NormalizedName
    version: Version
    kind: FileKind
    tags: frozenset[Tag] = frozenset()
    hashes: tuple[tuple[str, str], ...] = ()
    requires_python: SpecifierSet | None = None
    yanked: str | None = None
    upload_time: datetime.datetime | None = None
    size: int | None = None
    metadata_hashes: tuple[tuple[str, str], ...] | None = None
    index: str = ""

    @classmethod
    def from_link(
        cls,
        *,
        filename: str,
        url: str,
        hashes: Mapping[str, str] | None = None,
        requires_python: str | None = None,
        yanked: str | None = None,
        upload_time: datetime.datetime | None = None,
        size: int | None = None,
        metadata_hashes: Mapping[str, str] | None = None,
        index: str = "",
    ) -> DistFile | None:
        """Build from what a simple-API link says; ``None`` if not a distribution.

        An unparsable ``requires_python`` is treated as absent (pip does the
        same and warns).
        """
        parsed = parse_filename(filename)
        if parsed is None:
            return None
        name, version, kind, tags = parsed
        spec = requires_python_spec(requires_python)
        return cls(
            filename=filename,
            url=url,
            name=name,
            version=version,
            kind=kind,
            tags=tags,
            hashes=checked_hashes((hashes or {}).items()),
            requires_python=spec,
            yanked=yanked,
            upload_time=upload_time,
            size=size,
            metadata_hashes=(
                None if metadata_hashes is None else checked_hashes(metadata_hashes.items())
            ),
            index=index,
        )

    @property
    def hash_dict(self) -> dict[str, str]:
        """``hashes`` as a dict."""
        return dict(self.hashes)

    @property
    def sha256(self) -> str | None:
        """The sha256 hexdigest, when the index gave one."""
        return self.hash_dict.get("sha256")

    @property
    def is_wheel(self) -> bool:
        """Whether this is a wheel (else an sdist)."""
        return self.kind == "wheel"

    @property
    def is_yanked(self) -> bool:
        """Whether the index marks this file yanked (PEP 592)."""
        return self.yanked is not None

    @property
    def canonical_name(self) -> NormalizedName:
        """The project name, normalised."""
        return canonicalize_name(self.name)
