"""Installing verified wheels into the target with ``installer``.

Only this module (with ``_uninstall``) writes into the target environment.
Each wheel is checked for paths escaping the install scheme before a byte
of it is written.
"""

from __future__ import annotations

import json
import posixpath
import zipfile
from pathlib import Path

import attrs

from crosspin.errors import SyncError
from crosspin.sync._target import Target

__all__ = ["Origin", "check_wheel_paths", "install_wheel", "make_parent_dirs"]


def _unsafe(path: str) -> bool:
    norm = path.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":"):
        return True
    return ".." in norm.split("/") or posixpath.normpath(norm).startswith("..")


def check_wheel_paths(wheel: Path) -> None:
    """Refuse a wheel whose zip members or RECORD name absolute or ``..`` paths."""
    try:
        with zipfile.ZipFile(wheel) as zf:
            names = zf.namelist()
            bad = next((n for n in names if _unsafe(n)), None)
            if bad is None:
                records = [n for n in names if n.count("/") == 1
                           and n.split("/")[0].endswith(".dist-info")
                           and n.endswith("/RECORD")]
                for record in records:
                    text = zf.read(record).decode("utf-8", "replace")
                    for line in text.splitlines():
                        entry = line.split(",", 1)[0].strip().strip('"')
                        if entry and _unsafe(entry):
                            bad = entry
                            break
    except (zipfile.BadZipFile, OSError) as exc:
        raise SyncError(f"{wheel.name} is not a valid wheel: {exc}") from None
    if bad is not None:
        raise SyncError(f"refusing {wheel.name}: it names a path outside the environment ({bad})",
                        hint="the wheel is malformed or malicious; nothing was installed from it")


def make_parent_dirs(wheel: Path, scheme: dict[str, str]) -> None:
    """Create every folder the wheel's files go to, before parallel installs.

    ``installer`` creates a missing parent without ``exist_ok``: two wheels
    sharing a folder (``share/jupyter``, a namespace package) would race.
    Paths were checked by :func:`check_wheel_paths`.
    """
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        wheel_file = next((n for n in names if n.count("/") == 1
                           and n.split("/")[0].endswith(".dist-info")
                           and n.endswith("/WHEEL")), None)
        text = zf.read(wheel_file).decode("utf-8", "replace") if wheel_file else ""
    purelib = "root-is-purelib: true" in text.lower().replace("\r", "")
    root = scheme["purelib" if purelib else "platlib"]
    folders: set[str] = set()
    for name in names:
        if name.endswith("/"):
            continue
        head, _, rest = name.partition("/")
        if head.endswith(".data") and rest:
            key, _, inner = rest.partition("/")
            if key in scheme and key != "scripts":
                folders.add(posixpath.join(scheme[key], posixpath.dirname(inner)))
            continue
        folders.add(posixpath.join(root, posixpath.dirname(name)))
    for folder in sorted(folders):
        Path(folder).mkdir(parents=True, exist_ok=True)


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


def install_wheel(
    wheel: Path, target: Target, *, origin: Origin | None = None, checked: bool = False
) -> None:
    """Install one wheel into ``target``; an ``origin`` writes PEP 610 ``direct_url.json``.

    ``checked`` skips :func:`check_wheel_paths` when the caller already ran it.
    """
    # lazy: only an install needs installer (plans, dry runs and export do not).
    import installer
    from installer.destinations import SchemeDictionaryDestination
    from installer.exceptions import InstallerError
    from installer.sources import WheelFile

    if not checked:
        check_wheel_paths(wheel)
    metadata = {"INSTALLER": b"crosspin\n"}
    if origin is not None:
        info: dict[str, object] = {"url": origin.url, "archive_info": {}}
        if origin.editable is not None:
            info = {"url": origin.url, "dir_info": {"editable": True} if origin.editable else {}}
        elif origin.archive_hash:
            algo, digest = origin.archive_hash.split(":", 1)
            info["archive_info"] = {"hash": f"{algo}={digest}", "hashes": {algo: digest}}
        metadata["direct_url.json"] = json.dumps(info, sort_keys=True).encode()
    destination = SchemeDictionaryDestination(
        dict(target.scheme), interpreter=target.executable,
        script_kind=target.script_kind,  # type: ignore[arg-type]
        bytecode_optimization_levels=(),  # the target compiles its own bytecode
        # Like pip: a file left behind by an install that was killed half way
        # (no dist-info owns it) is replaced, so a rerun converges.
        overwrite_existing=True,
    )
    try:
        with WheelFile.open(wheel) as source:
            installer.install(source, destination, metadata)
    except (InstallerError, ValueError, OSError, KeyError) as exc:
        raise SyncError(f"cannot install {wheel.name}: {exc}",
                        hint="run sync again: it resumes from what is installed") from None
