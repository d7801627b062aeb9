"""Reading and unpacking sdists safely: one place decides what an archive may contain.

Used to read an sdist's ``PKG-INFO``/``pyproject.toml`` (:func:`read_sdist_files`,
without unpacking), to unpack it for a metadata build (``metadata``) and
to build it (``sync``). An sdist is untrusted: only plain files and folders
inside the destination are written (no absolute paths, no ``..``, no drive
letters; links and devices are skipped), the member count and the unpacked
size are capped (:class:`SdistLimits`) and checked *while* the archive is
read, before anything is extracted, and a file that is also a folder, or a
file that is not an archive at all, is one :class:`~crosspin.errors.BuildError`.
"""

from __future__ import annotations

import functools
import posixpath
import tarfile
import zipfile
from collections.abc import Callable, Collection, Iterator
from pathlib import Path

import attrs

from crosspin.errors import BuildError

__all__ = ["SdistLimits", "read_sdist_files", "unpack_sdist"]

_MIB = 1 << 20

#: Reads one member's bytes (handed out with the member while walking).
_ReadFn = Callable[[], bytes]


@attrs.frozen(kw_only=True)
class SdistLimits:
    """Caps on what an sdist may hold (``CROSSPIN_MAX_SDIST_SIZE``/``_MEMBERS``).

    ``size`` bounds the sum of the members' unpacked sizes, ``members``
    their count, ``file`` the bytes read of one metadata file.
    """

    size: int = 2048 * _MIB
    members: int = 200_000
    file: int = 16 * _MIB


@attrs.frozen(kw_only=True)
class _Member:
    """One archive member as both formats describe it."""

    path: str
    size: int
    kind: str  # "file", "dir" or "other" (links, devices: never written)


def read_sdist_files(
    archive: Path,
    names: Collection[str],
    *,
    name: str,
    version: str | None = None,
    limits: SdistLimits = SdistLimits(),
) -> dict[str, bytes]:
    """The top-level project files ``names`` (``PKG-INFO``...) of an sdist, without unpacking.

    A file counts when it sits directly in a top folder of the archive
    (``name-1.0/PKG-INFO``; the first one found). Reading stops once every
    name is found; the caps hold for what was read until then. A file
    larger than ``limits.file`` is left out. ``name`` and ``version`` name
    the sdist in a :class:`BuildError`. (Which file to trust is the
    caller's business: the sdist's author also writes its build.)
    """
    found: dict[str, bytes] = {}
    with _Reader(archive, _Whom(name, version, archive.name), limits) as reader:
        for member, read in reader.members():
            parts = member.path.split("/")
            if len(parts) != 2 or parts[1] not in names or member.kind != "file":
                continue
            if parts[1] not in found and member.size <= limits.file:
                found[parts[1]] = read()
            if len(found) == len(names):
                break
    return found


def unpack_sdist(
    archive: Path,
    dest: Path,
    name: str,
    *,
    version: str | None = None,
    limits: SdistLimits = SdistLimits(),
) -> Path:
    """Unpack ``archive`` into ``dest``; return the project folder inside it.

    ``name`` (and ``version``) name the sdist in the :class:`BuildError`
    raised for a broken or unsafe archive, before anything is written.
    """
    dest.mkdir(parents=True, exist_ok=True)
    files: set[str] = set()
    folders: set[str] = set()
    with _Reader(archive, _Whom(name, version, archive.name), limits) as reader:
        for member, _read in reader.members():
            if member.kind == "other":
                continue
            (files if member.kind == "file" else folders).add(member.path)
            folders.update(_parents(member.path))
        clash = sorted(files & folders)
        if clash:
            raise reader.error(f"sdist member {clash[0]!r} is both a file and a folder")
        reader.extract(dest)
    entries = list(dest.iterdir())
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return dest


@attrs.frozen
class _Whom:
    """Which sdist an error is about."""

    name: str
    version: str | None
    file: str


_BROKEN_HINT = "the file on the index is broken or not an sdist; pin another version"


class _Reader:
    """Walks a tar or zip sdist member by member, checking every name and the caps."""

    def __init__(self, archive: Path, whom: _Whom, limits: SdistLimits) -> None:
        self._archive = archive
        self._whom = whom
        self._limits = limits
        self._tar: tarfile.TarFile | None = None
        self._zip: zipfile.ZipFile | None = None
        self._seen: list[tarfile.TarInfo] = []

    def __enter__(self) -> _Reader:
        try:
            if self._archive.name.lower().endswith(".zip"):
                self._zip = zipfile.ZipFile(self._archive)
            else:
                self._tar = tarfile.open(self._archive)
        except (tarfile.TarError, zipfile.BadZipFile, EOFError, ValueError):
            raise self.error("the sdist is not a tar or zip archive", hint=_BROKEN_HINT) from None
        except OSError as exc:
            raise self._broken(exc) from None
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._tar is not None:
            self._tar.close()
        if self._zip is not None:
            self._zip.close()

    def error(self, reason: str, *, hint: str | None = None) -> BuildError:
        """A :class:`BuildError` about this sdist."""
        whom = self._whom
        return BuildError(whom.name, reason, version=whom.version, file=whom.file, hint=hint)

    def _broken(self, exc: BaseException) -> BuildError:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return self.error(f"the sdist archive is corrupt ({detail})", hint=_BROKEN_HINT)

    def members(self) -> Iterator[tuple[_Member, _ReadFn]]:
        """Each member with a function reading its bytes; stops with a BuildError at a cap."""
        count = 0
        total = 0
        try:
            for member, read in self._walk():
                count += 1
                total += member.size
                if count > self._limits.members:
                    raise self.error(
                        f"the sdist has more than {self._limits.members} members",
                        hint="raise CROSSPIN_MAX_SDIST_MEMBERS if you trust this sdist")
                if total > self._limits.size:
                    raise self.error(
                        f"the sdist unpacks to more than {_size(self._limits.size)}",
                        hint="raise CROSSPIN_MAX_SDIST_SIZE (bytes) if you trust this sdist")
                yield member, read
        except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise self._broken(exc) from None

    def _walk(self) -> Iterator[tuple[_Member, _ReadFn]]:
        if self._zip is not None:
            yield from self._walk_zip(self._zip)
        elif self._tar is not None:
            yield from self._walk_tar(self._tar)

    def _walk_zip(self, archive: zipfile.ZipFile) -> Iterator[tuple[_Member, _ReadFn]]:
        for info in archive.infolist():
            path = self._checked(info.filename)
            kind = "other" if _zip_link(info) else "dir" if info.is_dir() else "file"
            yield _Member(path=path, size=info.file_size, kind=kind), \
                functools.partial(archive.read, info)

    def _walk_tar(self, archive: tarfile.TarFile) -> Iterator[tuple[_Member, _ReadFn]]:
        while True:
            info = archive.next()
            if info is None:
                return
            path = self._checked(info.name)
            if info.isdir():
                kind = "dir"
            elif info.isfile() and not info.issparse():
                kind = "file"
                self._seen.append(info)
            else:
                kind = "other"
            yield _Member(path=path, size=info.size if kind == "file" else 0, kind=kind), \
                functools.partial(_read_tar, archive, info)

    def _checked(self, raw: str) -> str:
        """The member's path, normalised; a BuildError when it points outside the archive."""
        name = raw.replace("\\", "/")
        parts = [p for p in name.split("/") if p not in ("", ".")]
        if name.startswith("/") or ".." in parts or (parts and ":" in parts[0]) or "\0" in name:
            raise self.error(f"sdist member {raw!r} points outside the archive",
                             hint=_BROKEN_HINT)
        return "/".join(parts)

    def extract(self, dest: Path) -> None:
        """Write every plain file and folder (already walked and checked) under ``dest``."""
        try:
            if self._zip is not None:
                for info in self._zip.infolist():
                    if not _zip_link(info):
                        self._zip.extract(info, dest)
            elif self._tar is not None:
                folders = [m for m in self._tar.getmembers() if m.isdir()]
                members = folders + self._seen
                if hasattr(tarfile, "data_filter"):  # 3.12, and late patches of 3.9-3.11
                    self._tar.extractall(dest, members=members, filter="data")
                else:  # pragma: no cover - names and kinds are checked above
                    self._tar.extractall(dest, members=members)
        except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise self._broken(exc) from None


def _zip_link(info: zipfile.ZipInfo) -> bool:
    """Whether a zip member is a symbolic link (a Unix mode stored in its attributes)."""
    return (info.external_attr >> 16) & 0o170000 == 0o120000


def _read_tar(tar: tarfile.TarFile, info: tarfile.TarInfo) -> bytes:
    handle = tar.extractfile(info)
    return b"" if handle is None else handle.read(info.size)


def _parents(path: str) -> Iterator[str]:
    parent = posixpath.dirname(path)
    while parent:
        yield parent
        parent = posixpath.dirname(parent)


def _size(count: int) -> str:
    return f"{count / _MIB:g} MiB" if count >= _MIB else f"{count} bytes"
