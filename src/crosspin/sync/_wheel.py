"""Verifying a wheel completely and unpacking it, in one pass, before the target changes.

:func:`unpack_wheel` refuses a wheel unless every rule holds: its file name
is a wheel's and names the locked project and version; it has exactly one
``.dist-info`` whose name and version match, a ``WHEEL`` saying
``Wheel-Version: 1.x``, METADATA naming the same project and version, a
RECORD whose rows parse and which lists every member with a strong hash
that matches; every member is a regular file with a plain relative name
(no link, no ``..``), its CRC-32 is right, its ``.data`` scheme is known,
and every script name is a plain file name that replaces nothing of the
environment's own (``python3``, ``activate``). Small files are read under
a size cap and the declared unpacked size is capped too, so a zip bomb is
refused by its numbers before it is inflated.

The members are written below a fresh folder as they are checked; what
comes back, :class:`Unpacked`, describes them (path, RECORD hash, size,
executable bit) so an install never opens the archive again.
"""

from __future__ import annotations

import hashlib
import os
import stat
import zipfile
import zlib
from pathlib import Path

import attrs
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from crosspin.distributions import parse_filename
from crosspin.errors import SyncError, WheelError
from crosspin.sync._checks import (
    SCHEMES,
    EntryScript,
    RecordRow,
    WheelProblem,
    duplicates,
    member_problem,
    parse_entry_points,
    parse_headers,
    parse_record,
    parse_wheel_file,
    requires_dist,
    script_problem,
    top_level,
)

__all__ = ["Expected", "Unpacked", "UnpackedFile", "unpack_wheel"]

_MIB = 1 << 20
#: The most a wheel's metadata files may hold (declared, then read).
_SMALL_CAPS = {"WHEEL": 1 * _MIB, "METADATA": 16 * _MIB, "RECORD": 16 * _MIB,
               "entry_points.txt": 1 * _MIB}
#: The most all members of one wheel may declare (a zip bomb is refused by
#: its numbers before anything is inflated).
MAX_UNPACKED = 16 << 30
_CHUNK = 1 << 20
#: Written by crosspin at install time: a wheel's own copies are dropped.
_INSTALL_TIME = frozenset({"INSTALLER", "REQUESTED", "direct_url.json", "RECORD"})


@attrs.frozen(kw_only=True)
class Expected:
    """What the lock says the wheel is: its project and version, where the lock knows them.

    A URL pin names its project but its version is the file's; a local
    folder pin may even be named after its path (``-e ./src/pkg``).
    """

    name: NormalizedName | None = None
    version: Version | None = None


@attrs.frozen(kw_only=True)
class UnpackedFile:
    """One verified member: its path in the wheel, RECORD hash (``algo=digest``) and size.

    ``mtime_ns`` is the unpacked file's modification time: a cached entry
    whose file no longer has it was changed after unpacking.
    """

    path: str
    hash: str
    size: int
    executable: bool = False
    mtime_ns: int = 0


@attrs.frozen(kw_only=True)
class Unpacked:
    """A verified wheel, unpacked below ``root`` exactly as its members are named.

    ``files`` omit the install-time files (RECORD, INSTALLER, REQUESTED,
    ``direct_url.json``), which an install writes itself. ``requires`` are
    METADATA's Requires-Dist lines, for the check against the lock.
    """

    filename: str
    name: NormalizedName
    version: Version
    dist_info: str
    purelib: bool
    root: Path
    files: tuple[UnpackedFile, ...]
    scripts: tuple[EntryScript, ...] = ()
    requires: tuple[str, ...] = ()

    @property
    def data_dir(self) -> str:
        """``name-1.0.data``: members below it go to other scheme folders."""
        return self.dist_info[: -len(".dist-info")] + ".data"


def unpack_wheel(wheel: Path, dest: Path, expected: Expected) -> Unpacked:
    """Verify ``wheel`` against every rule (module docstring) and unpack it into ``dest``.

    ``dest`` must not exist; on a refusal it may hold part of the wheel
    and the caller removes it. Raises :class:`~crosspin.errors.WheelError`
    naming the wheel and the reason.
    """
    try:
        return _unpack(wheel, dest, expected)
    except WheelProblem as exc:
        raise WheelError(wheel.name, str(exc)) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise WheelError(wheel.name, f"the archive is damaged ({_first_line(exc)})") from None
    except UnicodeDecodeError:
        raise WheelError(wheel.name, "a member name or metadata file is not UTF-8") from None
    except OSError as exc:
        raise SyncError(f"cannot unpack {wheel.name} into {dest}: {exc.strerror or exc}",
                        hint="check the free space and permissions of the cache folder"
                        ) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    if text.startswith("Bad CRC-32"):
        text = "bad CRC-32" + text[len("Bad CRC-32"):]
    return text.splitlines()[0] if text else type(exc).__name__


def _unpack(wheel: Path, dest: Path, expected: Expected) -> Unpacked:
    parsed = parse_filename(wheel.name)
    if parsed is None or parsed[2] != "wheel":
        raise WheelProblem("its file name is not a valid wheel file name")
    name, version = parsed[0], parsed[1]
    if (expected.name is not None and name != expected.name) or (
            expected.version is not None and version != expected.version):
        pinned = f"{expected.name or name}" + (f"=={expected.version}" if expected.version
                                                  else "")
        raise WheelProblem(f"its file name says {name}=={version}, the lock pins {pinned}")
    with zipfile.ZipFile(wheel) as archive:
        members = _members(archive)
        dist_info = _dist_info(members, name, version)
        stem = dist_info[: -len(".dist-info")]
        purelib = parse_wheel_file(_small(archive, members, f"{dist_info}/WHEEL", required=True))
        metadata = parse_headers(_small(archive, members, f"{dist_info}/METADATA", required=True))
        _check_metadata(metadata, name, version)
        record_path = f"{dist_info}/RECORD"
        record = parse_record(_small(archive, members, record_path, required=True), record_path)
        scripts = parse_entry_points(_small(archive, members, f"{dist_info}/entry_points.txt"))
        files = [i for i in members.values() if not i.is_dir() and not _is_pycache(i.filename)]
        _check_layout(files, record, stem)
        dest.mkdir(parents=True)
        written = [_extract(archive, info, record[info.filename], dest) for info in files
                   if not _install_time(info.filename, dist_info)]
    return Unpacked(filename=wheel.name, name=name, version=version, dist_info=dist_info,
                    purelib=purelib, root=dest, files=tuple(written), scripts=scripts,
                    requires=requires_dist(metadata))


def _members(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """Every member by name, each one a plain relative path to a regular file or folder."""
    infos = archive.infolist()
    total = 0
    for info in infos:
        problem = member_problem(info.filename)
        if problem:
            raise WheelProblem(problem)
        mode = info.external_attr >> 16
        if info.create_system == 3 and stat.S_IFMT(mode):
            if stat.S_ISLNK(mode):
                raise WheelProblem(f"the member {info.filename} is a symbolic link")
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise WheelProblem(f"the member {info.filename} is not a regular file")
        total += info.file_size
    twice = duplicates(i.filename.rstrip("/") for i in infos)
    if twice is not None:
        raise WheelProblem(f"the archive holds {twice} twice")
    if total > MAX_UNPACKED:
        raise WheelProblem(f"it would unpack to {total >> 20} MiB, more than the "
                           f"{MAX_UNPACKED >> 20} MiB allowed")
    return {i.filename: i for i in infos}


def _dist_info(members: dict[str, zipfile.ZipInfo], name: str, version: Version) -> str:
    """The one ``.dist-info`` folder, named for the same project and version as the file."""
    found = top_level(members, ".dist-info")
    if len(found) != 1:
        shown = ", ".join(found) if found else "none"
        raise WheelProblem(f"it must hold exactly one .dist-info folder, it holds {shown}")
    info = found[0]
    info_name, _, info_version = info[: -len(".dist-info")].rpartition("-")
    try:
        same = (canonicalize_name(info_name) == name and Version(info_version) == version)
    except InvalidVersion:
        same = False
    if not same:
        raise WheelProblem(f"its dist-info folder {info} does not match its file name "
                           f"({name}=={version})")
    return info


def _small(archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], path: str,
           *, required: bool = False) -> str:
    """A metadata file's text, read under its size cap (``""`` when absent and optional)."""
    info = members.get(path)
    what = path.rsplit("/", 1)[1]
    if info is None:
        if required:
            raise WheelProblem(f"it has no {what} file")
        return ""
    cap = _SMALL_CAPS[what]
    if info.file_size > cap:
        raise WheelProblem(f"its {what} file is {info.file_size >> 20} MiB, more than the "
                           f"{cap >> 20} MiB allowed")
    with archive.open(info) as stream:
        data = stream.read(cap + 1)
    return data.decode("utf-8")


def _check_metadata(fields: dict[str, list[str]], name: str, version: Version) -> None:
    said_name = (fields.get("name") or [""])[0]
    said_version = (fields.get("version") or [""])[0]
    try:
        same = canonicalize_name(said_name) == name and Version(said_version) == version
    except InvalidVersion:
        same = False
    if not same:
        raise WheelProblem(f"its METADATA says {said_name or '(no name)'} "
                           f"{said_version or '(no version)'}, not {name}=={version}")


def _check_layout(files: list[zipfile.ZipInfo], record: dict[str, RecordRow], stem: str) -> None:
    """RECORD and the members agree; ``.data`` schemes are known; script names are plain."""
    names = {i.filename for i in files}
    for info in files:
        if info.filename not in record:
            raise WheelProblem(f"RECORD does not list the member {info.filename}")
    for path in record:
        if path not in names and not path.endswith("/") and not _is_pycache(path):
            raise WheelProblem(f"RECORD lists {path}, which the wheel does not hold")
    top = {n.split("/", 1)[0] for n in names}
    strays = sorted(t for t in top if t.endswith(".data") and t != f"{stem}.data")
    if strays:
        raise WheelProblem(f"it holds the folder {strays[0]}, which is not its own .data folder")
    prefix = f"{stem}.data/"
    for name in sorted(names):
        if not name.startswith(prefix):
            continue
        key, _, rest = name[len(prefix):].partition("/")
        if key not in SCHEMES or not rest:
            raise WheelProblem(f"its .data folder uses the scheme {key!r}, which is not one of "
                               f"{', '.join(sorted(SCHEMES))}")
        if key == "scripts":
            problem = script_problem(rest, where=f"the member {name}")
            if problem:
                raise WheelProblem(problem)


def _is_pycache(path: str) -> bool:
    # Bytecode is the target's business (installer skips it too).
    return "__pycache__" in path.split("/")[:-1]


def _install_time(path: str, dist_info: str) -> bool:
    folder, _, name = path.rpartition("/")
    return folder == dist_info and name in _INSTALL_TIME


def _extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, row: RecordRow,
             dest: Path) -> UnpackedFile:
    """Write one member below ``dest`` while hashing it; it must match its RECORD row.

    Reading to the end makes ``zipfile`` check the CRC-32.
    """
    target = dest / info.filename
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise WheelProblem(f"the member {info.filename} is inside a path that is a file"
                           ) from None
    executable = bool((info.external_attr >> 16) & 0o111)
    # Only RECORD's signature files may come without a hash (parse_record).
    digest = hashlib.new(row.algorithm if row.hash else "sha256")
    size = 0
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(target, flags, 0o777 if executable else 0o666)
    except (FileExistsError, IsADirectoryError):
        raise WheelProblem(f"the member {info.filename} clashes with a folder of the same name"
                           ) from None
    with os.fdopen(fd, "wb") as out, archive.open(info) as stream:
        for block in iter(lambda: stream.read(_CHUNK), b""):
            digest.update(block)
            size += len(block)
            out.write(block)
        out.flush()
        mtime_ns = os.fstat(out.fileno()).st_mtime_ns
    if (row.hash and not row.matches(digest.digest())) or (row.size is not None
                                                          and row.size != size):
        raise WheelProblem(f"the member {info.filename} does not match its RECORD hash")
    return UnpackedFile(path=info.filename, hash=row.hash, size=size, executable=executable,
                        mtime_ns=mtime_ns)
