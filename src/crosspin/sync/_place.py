"""Where each file of a verified wheel goes in the target, checked before anything is written.

:func:`layout` maps an :class:`~crosspin.sync._wheel.Unpacked` wheel onto the
target's install scheme: package files below purelib/platlib, ``.data``
members below their scheme's folder, launchers for its entry points in the
scripts folder, crosspin's INSTALLER and PEP 610 ``direct_url.json`` in
its dist-info. :func:`check_placements` then looks at the target, without
changing it, and refuses a placement that would

- go through a linked folder that leads out of its scheme's folder,
- put a file where a folder is (or a folder where a file is),
- replace the interpreter or an activation script (``bin/python3``,
  ``bin/activate``), whatever scheme the file comes from,
- replace a file that no installed package owns, except inside the
  wheel's own top-level folders and dist-info, a file with the very bytes
  it would write, or anything the wheel writes when a RECORD-less
  dist-info of the same project (a killed install of it) is being repaired.

Writing is :mod:`crosspin.sync._write`'s.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Collection, Iterable
from pathlib import Path

import attrs
from installer.scripts import InvalidScript, Script

from crosspin.errors import WheelError
from crosspin.sync._checks import file_hash, reserved_name
from crosspin.sync._target import Target
from crosspin.sync._wheel import Unpacked, UnpackedFile

__all__ = ["Origin", "Placement", "check_placements", "layout"]


@attrs.frozen(kw_only=True)
class Origin:
    """Where a wheel installed from a URL or a local folder came from (PEP 610).

    ``archive_hash`` (``algo:hex``) is recorded for an archive; ``editable``
    is ``None`` for an archive, else the ``dir_info`` of a local folder
    (built into this wheel, editable or not).
    """

    url: str
    archive_hash: str | None = None
    editable: bool | None = None

    def direct_url_json(self) -> bytes:
        """The PEP 610 ``direct_url.json`` for this origin."""
        info: dict[str, object] = {"url": self.url, "archive_info": {}}
        if self.editable is not None:
            info = {"url": self.url, "dir_info": {"editable": True} if self.editable else {}}
        elif self.archive_hash:
            algo, digest = self.archive_hash.split(":", 1)
            info["archive_info"] = {"hash": f"{algo}={digest}", "hashes": {algo: digest}}
        return json.dumps(info, sort_keys=True).encode()


@attrs.frozen(kw_only=True)
class Placement:
    """Every file one wheel puts into the target, with absolute destinations.

    ``files`` are linked or copied from the unpacked wheel; ``rewrite``
    (``.data/scripts`` members) are copied with their ``#!python`` line
    replaced; ``generated`` (launchers, INSTALLER, direct_url.json) are
    written from bytes. ``root`` is the scheme folder RECORD paths are
    relative to. ``skip`` are destinations another wheel of the same sync
    also writes (the last one writes them).
    """

    unpacked: Unpacked
    root: str
    files: tuple[tuple[UnpackedFile, str], ...]
    rewrite: tuple[tuple[UnpackedFile, str], ...]
    generated: tuple[tuple[str, bytes, bool], ...]
    record: str
    interpreter: str
    skip: frozenset[str] = frozenset()
    #: The folder of every destination, each once, parents before children.
    folders: tuple[str, ...] = ()

    def destinations(self) -> Iterable[str]:
        """Every path this placement writes (RECORD included)."""
        yield from (dest for _, dest in self.files)
        yield from (dest for _, dest in self.rewrite)
        yield from (dest for dest, _, _ in self.generated)
        yield self.record


def layout(unpacked: Unpacked, target: Target, origin: Origin | None) -> Placement:
    """Map ``unpacked`` onto ``target``'s scheme (nothing is looked at or written)."""
    scheme = target.scheme
    root = scheme["purelib" if unpacked.purelib else "platlib"]
    data = unpacked.data_dir + "/"
    files: list[tuple[UnpackedFile, str]] = []
    rewrite: list[tuple[UnpackedFile, str]] = []
    inside: set[str] = set()  # the folders of files below root, relative to it
    elsewhere: set[str] = set()
    join = os.path.join
    for f in unpacked.files:
        path = f.path
        if path.startswith(data):
            key, _, rest = path[len(data):].partition("/")
            dest = join(scheme[key], rest)
            (rewrite if key == "scripts" else files).append((f, dest))
            elsewhere.add(os.path.dirname(dest))
        else:
            files.append((f, join(root, path)))
            inside.add(path.rpartition("/")[0])
    generated: list[tuple[str, bytes, bool]] = []
    for entry in unpacked.scripts:
        script = Script(entry.name, entry.module, entry.attr, entry.section)
        try:
            name, content = script.generate(target.executable, target.script_kind)  # type: ignore[arg-type]
        except InvalidScript as exc:
            raise WheelError(unpacked.filename, f"cannot make the script {entry.name}: {exc}"
                             ) from None
        generated.append((os.path.join(scheme["scripts"], name), content, True))
    info = os.path.join(root, unpacked.dist_info)
    generated.append((os.path.join(info, "INSTALLER"), b"crosspin\n", False))
    if origin is not None:
        generated.append((os.path.join(info, "direct_url.json"), origin.direct_url_json(),
                          False))
    elsewhere.update(os.path.dirname(dest) for dest, _, _ in generated)
    elsewhere.update(join(root, folder) if folder else os.path.dirname(join(root, "x"))
                     for folder in inside)
    return Placement(unpacked=unpacked, root=root, files=tuple(files), rewrite=tuple(rewrite),
                     generated=tuple(generated), record=os.path.join(info, "RECORD"),
                     interpreter=target.executable, folders=tuple(sorted(elsewhere)))


def check_placements(
    placements: list[Placement],
    target: Target,
    *,
    removed: Collection[str],
    repairing: Collection[str],
    owned: Callable[[], Collection[str]],
) -> list[Placement]:
    """Refuse (``WheelError``) any placement the module docstring rules out; nothing changes.

    ``removed`` are the files the sync's removals delete first and
    ``owned()`` the files installed packages list in RECORD (both with
    their folders' links resolved; ``owned`` is asked only when a wheel
    would replace an existing file nothing else explains). ``repairing``
    are the projects whose RECORD-less dist-info is being repaired.
    Returns the placements with ``skip`` set for files several wheels
    write (the last one writes them).
    """
    checker = _Checker(target)
    last: dict[str, int] = {}
    total = 0
    for number, placement in enumerate(placements):
        dests = list(placement.destinations())
        total += len(dests)
        last.update(dict.fromkeys(dests, number))
    overlap = total != len(last)  # some destination is written by two wheels
    owners: Collection[str] | None = None
    checked = []
    for number, placement in enumerate(placements):
        name = placement.unpacked.filename
        # Only a folder that exists can hold something in the way, and only the
        # scripts folder has names of its own to refuse: the rest needs no look per file.
        look = set()
        for folder in placement.folders:
            problem, scripts = checker.folder(folder)
            if problem:
                raise WheelError(name, problem)
            if scripts or not checker.missing(folder):
                look.add(folder)
        for dest in placement.destinations() if look else ():
            if os.path.dirname(dest) not in look:
                continue
            problem = checker.problem(dest)
            if problem:
                raise WheelError(name, problem)
            if not checker.exists(dest):
                continue
            canonical = _canonical(dest)
            if canonical in removed or _replaceable(placement, dest, repairing):
                continue
            if owners is None:
                owners = owned()
            if canonical not in owners:
                raise WheelError(name, f"it would replace {dest}, which no installed "
                                 "package owns")
        skip = frozenset(d for d in placement.destinations() if last[d] != number) \
            if overlap else frozenset()
        checked.append(attrs.evolve(placement, skip=skip))
    return checked


class _Checker:
    """Looks at the target's folders once each (``lstat``), never following a final link."""

    def __init__(self, target: Target) -> None:
        self._roots = sorted({os.path.abspath(p) for p in target.scheme.values()},
                             key=len, reverse=True)
        self._real = {r: os.path.realpath(r) for r in self._roots}
        self._scripts = os.path.realpath(target.scheme["scripts"])
        # folder -> (why nothing may be written there, whether it is the scripts folder)
        self._folders: dict[str, tuple[str | None, bool]] = {}
        self._missing: set[str] = set()

    def folder(self, folder: str) -> tuple[str | None, bool]:
        """Why nothing may be written into ``folder`` (or ``None``), and whether it is the
        scripts folder."""
        known = self._folders.get(folder, _UNSEEN)
        if known is _UNSEEN:
            if os.path.dirname(folder) in self._missing:  # inside a root, none of it there
                self._missing.add(folder)
                known = (None, folder == self._scripts)
            else:
                known = (self._folder_problem(folder), self._realdir(folder) == self._scripts)
            self._folders[folder] = known
        return known

    def missing(self, folder: str) -> bool:
        """Whether ``folder`` (looked at by :meth:`folder`) does not exist yet."""
        return folder in self._missing

    def problem(self, dest: str) -> str | None:
        """Why ``dest`` cannot be written (its folder, or its name in the scripts folder)."""
        problem, scripts = self.folder(os.path.dirname(dest))
        if problem is None and scripts and reserved_name(os.path.basename(dest)):
            problem = (f"it would write {dest}, which is the environment's own "
                       "interpreter or activation script")
        return problem

    def exists(self, dest: str) -> bool:
        """Whether something (a file, a link, a folder) is at ``dest`` now."""
        if os.path.dirname(dest) in self._missing:
            return False
        return os.path.lexists(dest)

    def _realdir(self, folder: str) -> str:
        return os.path.realpath(folder) if folder not in self._missing else folder

    def _root_of(self, path: str) -> str | None:
        return next((r for r in self._roots if path == r or path.startswith(r + os.sep)), None)

    def _folder_problem(self, folder: str) -> str | None:
        root = self._root_of(folder)
        if root is None:
            return f"it would write into {folder}, outside the environment's install folders"
        current = root
        for part in Path(os.path.relpath(folder, root)).parts if folder != root else ():
            current = os.path.join(current, part)
            if current in self._missing:
                self._mark_missing(current, folder)  # so exists() needs no lstat below it
                break
            try:
                mode = os.lstat(current).st_mode
            except FileNotFoundError:
                self._mark_missing(current, folder)
                break
            if stat.S_ISLNK(mode):
                real = os.path.realpath(current)
                if not (real == self._real[root] or real.startswith(self._real[root] + os.sep)):
                    return (f"{current} is a link to {real}, outside the environment's "
                            f"folder {root}")
                mode = os.stat(current).st_mode
            if not stat.S_ISDIR(mode):
                return f"{current} is a file where it needs a folder"
        return None

    def _mark_missing(self, first: str, folder: str) -> None:
        current = folder
        while len(current) >= len(first):
            self._missing.add(current)
            current = os.path.dirname(current)


_UNSEEN: tuple[str | None, bool] = (None, False)


def _canonical(path: str) -> str:
    """``path`` with its folder's links resolved (how RECORD paths are compared)."""
    return os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))


def _replaceable(placement: Placement, dest: str, repairing: Collection[str]) -> bool:
    """Whether an existing unowned ``dest`` may be replaced by this placement."""
    if os.path.isdir(dest) and not os.path.islink(dest):
        return False
    unpacked = placement.unpacked
    if unpacked.name in repairing:
        return True
    own = {f.path.split("/", 1)[0] for f, d in placement.files
           if "/" in f.path and d.startswith(placement.root)}
    rel = os.path.relpath(dest, placement.root)
    if not rel.startswith(".." + os.sep) and rel.split(os.sep, 1)[0] in own:
        return True
    return _same_bytes(placement, dest)


def _same_bytes(placement: Placement, dest: str) -> bool:
    """Whether the regular file at ``dest`` already holds what this placement writes there."""
    try:
        if not stat.S_ISREG(os.lstat(dest).st_mode):
            return False
        for f, d in placement.files:
            if d == dest:
                return file_hash(dest, f.hash.partition("=")[0]) == f.hash
        for d, content, _ in placement.generated:
            if d == dest:
                return Path(dest).read_bytes() == content
    except OSError:
        return False
    return False

