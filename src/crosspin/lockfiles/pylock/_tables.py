"""The TOML tables of a ``pylock.toml``: environments, requires-python, packages.

Pure functions from a :class:`~crosspin.lock.Lock` to plain dicts in a fixed
key order, so ``tomli_w`` gives the same bytes on every run and host.
"""

from __future__ import annotations

import datetime
import posixpath
import re
import urllib.parse
from collections.abc import Sequence
from typing import Any

from crosspin.distributions import DistFile, checked_hashes, parse_filename
from crosspin.environments import DEFAULT_PYTHONS, Environment, Matrix
from crosspin.errors import LockFileError
from crosspin.index import strip_credentials
from crosspin.lock import LockedPackage

__all__ = ["environment_markers", "package_table", "requires_python"]

_VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")

# A Python coverage interval: [lo, hi) of (major, minor, patch); hi None = open.
_Version3 = tuple[int, int, int]


def _interval(env: Environment) -> tuple[_Version3, _Version3]:
    major, minor = env.python
    lo = (major, minor, env.patch_floor)
    hi = (major, minor + 1, 0) if env.patch_ceiling is None else (major, minor, env.patch_ceiling)
    return lo, hi


def _merge(intervals: Sequence[tuple[_Version3, _Version3]]) -> list[tuple[_Version3, _Version3]]:
    out: list[tuple[_Version3, _Version3]] = []
    for lo, hi in sorted(set(intervals)):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _bound(op: str, v: _Version3) -> str:
    if v[2] == 0:
        return f'python_version {op} "{v[0]}.{v[1]}"'
    return f'python_full_version {op} "{v[0]}.{v[1]}.{v[2]}"'


def _range_marker(lo: _Version3, hi: _Version3) -> str:
    if lo[2] == 0 and hi == (lo[0], lo[1] + 1, 0):
        return f'python_version == "{lo[0]}.{lo[1]}"'
    return f"{_bound('>=', lo)} and {_bound('<', hi)}"


def environment_markers(matrix: Matrix) -> list[str]:
    """One marker per platform x contiguous Python range of the matrix.

    ``sys_platform == "linux" and platform_machine == "x86_64" and
    python_version >= "3.9" and python_version < "3.15"``: an installer
    refuses an environment outside the matrix (DESIGN.md contract 6).
    """
    by_platform: dict[str, list[tuple[_Version3, _Version3]]] = {}
    for env in matrix.environments:
        p = env.platform
        key = f'sys_platform == "{p.sys_platform}" and platform_machine == "{p.platform_machine}"'
        by_platform.setdefault(key, []).append(_interval(env))
    out = []
    for key in sorted(by_platform):
        for lo, hi in _merge(by_platform[key]):
            out.append(f"{key} and {_range_marker(lo, hi)}")
    return list(dict.fromkeys(out))


def requires_python(matrix: Matrix) -> str:
    """``>=`` the matrix's lowest Python, ``<`` its top when below the newest known."""
    intervals = _merge([_interval(e) for e in matrix.environments])
    lo, hi = intervals[0][0], intervals[-1][1]
    low = f">={lo[0]}.{lo[1]}" if lo[2] == 0 else f">={lo[0]}.{lo[1]}.{lo[2]}"
    newest = DEFAULT_PYTHONS[-1]
    if hi[2] == 0 and (hi[0], hi[1]) > newest:
        return low
    high = f"<{hi[0]}.{hi[1]}" if hi[2] == 0 else f"<{hi[0]}.{hi[1]}.{hi[2]}"
    return f"{low},{high}"


def _upload_time(f: DistFile) -> datetime.datetime | None:
    t = f.upload_time
    if t is None:
        return None
    if t.tzinfo is None:
        return t.replace(tzinfo=datetime.timezone.utc)
    return t.astimezone(datetime.timezone.utc)


def _hashes(f: DistFile, path: str, package: LockedPackage) -> dict[str, str]:
    hashes = dict(f.hashes)
    if not hashes:
        hashes = _fragment_hashes(f.url)
    if not hashes:
        raise LockFileError(
            path,
            f"no hash is known for {f.filename} ({package.name}=={package.version}); "
            "PEP 751 requires one",
            key=f"packages[{package.name}]",
            hint="use an index that publishes hashes (or add #sha256=... to a direct URL)",
        )
    return dict(sorted(hashes.items()))


def _fragment_hashes(url: str) -> dict[str, str]:
    fragment = urllib.parse.urlsplit(url).fragment
    pairs = [part.partition("=")[::2] for part in fragment.split("&") if "=" in part]
    return dict(checked_hashes(pairs))


def _file_table(f: DistFile, path: str, package: LockedPackage) -> dict[str, Any]:
    table: dict[str, Any] = {"name": f.filename,
                             "url": strip_credentials(f.url.split("#", 1)[0])}
    upload = _upload_time(f)
    if upload is not None:
        table["upload-time"] = upload
    if f.size is not None:
        table["size"] = f.size
    table["hashes"] = _hashes(f, path, package)
    return table


def _direct(package: LockedPackage, path: str) -> dict[str, Any]:
    """``archive``, ``directory`` or ``vcs`` table of a direct reference.

    No credential is written: PEP 751 installers expand no ``${VAR}``, so
    any ``user:password@`` is dropped.
    """
    url = strip_credentials(package.url or "")
    if url.startswith(_VCS_PREFIXES):
        kind, _, rest = url.partition("+")
        base, _, rev = rest.split("#", 1)[0].rpartition("@")
        if not re.fullmatch(r"[0-9a-f]{40}", rev):
            raise LockFileError(
                path,
                f"{package.name}: a VCS pin needs a full commit id, not {rev or 'none'!r}",
                hint="pin the requirement to a commit hash",
            )
        return {"vcs": {"type": kind, "url": base, "requested-revision": rev, "commit-id": rev}}
    filename = url.split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    if parse_filename(filename) is not None:
        file = next((f for f in package.files if f.filename == filename), None)
        archive: dict[str, Any] = {"url": url.split("#", 1)[0]}
        if url.startswith("file:") or "://" not in url:
            archive = {"path": _local(url)}
        if file is not None and file.size is not None:
            archive["size"] = file.size
        if file is not None:
            archive["hashes"] = _hashes(file, path, package)
        else:
            archive["hashes"] = _fragment_hashes(url) or {}
        return {"archive": archive}
    directory: dict[str, Any] = {"path": _local(url)}
    if package.editable:
        directory["editable"] = True
    return {"directory": directory}


def _local(url: str) -> str:
    if url.startswith("file:"):
        return urllib.parse.unquote(urllib.parse.urlsplit(url).path)
    return posixpath.normpath(url.split("#", 1)[0].replace("\\", "/"))


def package_table(package: LockedPackage, marker: str | None, path: str) -> dict[str, Any]:
    """One ``[[packages]]`` entry, keys in a fixed order."""
    table: dict[str, Any] = {"name": package.name}
    direct = package.url is not None
    is_tree = direct and "directory" in _direct(package, path) if direct else False
    if not is_tree:
        table["version"] = str(package.version)
    if marker is not None:
        table["marker"] = marker
    if package.requires_python is not None and str(package.requires_python):
        table["requires-python"] = str(package.requires_python)
    index = package.index or next((f.index for f in package.files if f.index), None)
    if index and not direct:
        table["index"] = index
    if package.dependencies:
        table["dependencies"] = [{"name": d} for d in sorted(package.dependencies)]
    if direct:
        table.update(_direct(package, path))
        return table
    sdists = sorted((f for f in package.files if not f.is_wheel),
                    key=lambda f: (not f.filename.endswith(".tar.gz"), f.filename))
    wheels = sorted((f for f in package.files if f.is_wheel), key=lambda f: f.filename)
    if sdists:
        table["sdist"] = _file_table(sdists[0], path, package)
    if wheels:
        table["wheels"] = [_file_table(f, path, package) for f in wheels]
    return table
