"""Reading a ``pylock.toml`` back into pins that ``compile`` keeps.

Validation is :mod:`packaging.pylock`'s; its key paths
(``packages[3].wheels[0].hashes``) become :class:`LockFileError` keys. A
package marker may say which extras or groups reach it; for keeping pins
only the environments matter, so each pin is taken to apply wherever its
marker holds for *some* selection of extras and groups.
"""

from __future__ import annotations

import posixpath
import sys
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
from packaging.markers import Marker
from packaging.version import Version

from crosspin.distributions import DistFile, checked_hash
from crosspin.environments import Matrix
from crosspin.errors import LockFileError
from crosspin.lock import LockedPackage, Sources
from crosspin.markers import marker_for

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

__all__ = ["PylockFile", "read"]


@attrs.frozen(kw_only=True)
class PylockFile:
    """What a ``pylock.toml`` says: its matrix (when recorded) and its pins.

    ``packages`` carry ``recorded_hashes`` (the file has URLs, not
    :class:`~crosspin.distributions.DistFile` records) and, when the matrix
    is known, the ``environments`` where their marker can hold.
    """

    matrix: Matrix | None
    packages: tuple[LockedPackage, ...]
    sources: Sources = Sources()
    extras: tuple[str, ...] = ()
    dependency_groups: tuple[str, ...] = ()
    default_groups: tuple[str, ...] = ()
    #: Parallel to ``packages``: the PEP 751 marker as written (it may ask
    #: ``'x' in extras`` / ``'g' in dependency_groups``), for installers.
    lock_markers: tuple[Marker | None, ...] = ()
    #: Parallel to ``packages``: the wheels and sdist the file lists (URLs
    #: and hashes), so an installer needs no index.
    lock_files: tuple[tuple[DistFile, ...], ...] = ()
    #: ``[tool.crosspin] inputs``: the hex digest of the inputs it was compiled
    #: from (without the ``sha256:`` prefix, like ``RequirementsFile``'s).
    input_digest: str | None = None
    #: ``[tool.crosspin] command``: the normalised compile command.
    command: str | None = None


def _load(text: str, path: str) -> Mapping[str, Any]:
    try:
        data: Mapping[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LockFileError(path, f"not valid TOML: {exc}") from None
    return data


def read(text: str, path: str = "pylock.toml", *, environments: bool = True) -> PylockFile:
    """Parse and validate a ``pylock.toml``: pins, matrix, extras and groups.

    Raises :class:`~crosspin.errors.LockFileError` naming the key path of
    the first problem (``packages[3].wheels[0].hashes``). Without
    ``environments`` (an installer, which evaluates ``lock_markers`` on its
    target) no pin's environments are worked out: each keeps the marker
    as written and an empty ``environments``; everything is validated
    alike.
    """
    # lazy: packaging.pylock is only needed when a pylock is read.
    from packaging.pylock import Pylock, PylockValidationError

    data = _load(text, path)
    try:
        lock = Pylock.from_dict(data)
    except PylockValidationError as exc:
        raise LockFileError(path, exc.message, key=exc.context) from None
    matrix = _matrix(lock.tool, path)
    # Without a recorded matrix, evaluate over the default one: pins whose
    # marker names extras or groups still need an environment set.
    over = matrix if matrix is not None else Matrix.from_options()
    extras = frozenset(lock.extras or ())
    groups = frozenset(lock.dependency_groups or ())
    packages = []
    memo: dict[tuple[str, tuple[str, ...]], bool] = {}
    raw: list[tuple[Marker | None, tuple[DistFile, ...]]] = []
    indexes: list[str] = []
    for i, p in enumerate(lock.packages):
        if p.version is None and not p.is_direct:
            raise LockFileError(path, "a package from an index needs a version",
                                key=f"packages[{i}].version")
        _check_hashes(p, i, path)
        hashes: list[str] = []
        for w in p.wheels or ():
            hashes.extend(f"{a}:{d}" for a, d in w.hashes.items())
        if p.sdist is not None:
            hashes.extend(f"{a}:{d}" for a, d in p.sdist.hashes.items())
        if p.archive is not None:
            hashes.extend(f"{a}:{d}" for a, d in p.archive.hashes.items())
        envs: frozenset[str] = frozenset()
        if p.marker is not None and environments:
            envs = _where(p.marker, over, extras, groups, memo)
        if p.index and p.index not in indexes:
            indexes.append(p.index)
        packages.append(
            LockedPackage(
                name=p.name,
                version=p.version if p.version is not None else _no_version(),
                marker=_env_marker(envs, over, p.marker),
                environments=envs,
                requires_python=p.requires_python,
                index=p.index,
                url=_direct_url(p),
                editable=bool(p.directory and p.directory.editable),
                recorded_hashes=tuple(sorted(set(hashes))),
            )
        )
        raw.append((p.marker, _files(p, path)))
    order = sorted(range(len(packages)), key=lambda k: packages[k].sort_key)
    return PylockFile(
        matrix=matrix,
        packages=tuple(packages[k] for k in order),
        lock_markers=tuple(raw[k][0] for k in order),
        lock_files=tuple(raw[k][1] for k in order),
        sources=Sources(index_url=indexes[0] if indexes else None,
                        extra_index_urls=tuple(indexes[1:])),
        extras=tuple(sorted(extras)),
        dependency_groups=tuple(sorted(groups)),
        default_groups=tuple(lock.default_groups or ()),
        input_digest=_tool_string(lock.tool, "inputs", path, strip="sha256:"),
        command=_tool_string(lock.tool, "command", path),
    )


#: Algorithms strong enough to verify a file on their own (sha256 and stronger).
STRONG_ALGORITHMS = frozenset({
    "sha256", "sha384", "sha512", "sha3_256", "sha3_384", "sha3_512", "blake2b", "blake2s",
})


def _check_hashes(p: Any, i: int, path: str) -> None:
    """Every file's hashes are well formed and one is sha256 or stronger (not md5 alone)."""
    entries = [(f"packages[{i}].wheels[{j}].hashes", w.hashes)
               for j, w in enumerate(p.wheels or ())]
    if p.sdist is not None:
        entries.append((f"packages[{i}].sdist.hashes", p.sdist.hashes))
    if p.archive is not None:
        entries.append((f"packages[{i}].archive.hashes", p.archive.hashes))
    for key, hashes in entries:
        for algorithm, digest in (hashes or {}).items():
            if checked_hash(str(algorithm), str(digest)) is None:
                raise LockFileError(path, f"{algorithm!r} is not a well-formed hash "
                                    f"(hexadecimal digits of the algorithm's length)", key=key)
        if hashes and not STRONG_ALGORITHMS & {str(a).lower() for a in hashes}:
            weak = ", ".join(sorted(hashes))
            raise LockFileError(path, f"only {weak}, weaker than sha256: every file needs a "
                                "sha256 (or stronger) hash", key=key)


def _files(p: Any, path: str) -> tuple[DistFile, ...]:
    """The listed wheels and sdist as :class:`DistFile` records (URL or absolute path)."""
    out: list[DistFile] = []
    entries = list(p.wheels or ()) + ([p.sdist] if p.sdist is not None else [])
    for entry in entries:
        location = entry.url or entry.path
        if location is None:
            continue
        filename = entry.name or posixpath.basename(
            urllib.parse.unquote(urllib.parse.urlsplit(str(location)).path))
        if entry.url is None:
            # PEP 751: a relative path is relative to the lock file's folder.
            location = (Path(path).parent / str(entry.path)).resolve().as_uri()
        file = DistFile.from_link(filename=filename, url=str(location), hashes=entry.hashes,
                                  size=entry.size, upload_time=entry.upload_time,
                                  index=p.index or "")
        if file is not None:
            out.append(file)
    return tuple(out)


def _no_version() -> Any:
    return Version("0")


def _where(
    marker: Marker, matrix: Matrix, extras: frozenset[str], groups: frozenset[str],
    memo: dict[tuple[str, tuple[str, ...]], bool],
) -> frozenset[str]:
    """The environments of ``matrix`` where ``marker`` holds.

    A marker is evaluated once per distinct value of the variables it names
    (``sys_platform == "win32"``: once per platform, not once per
    environment); ``memo`` keeps the answers for the whole lock.
    """
    text = str(marker)
    out = []
    used: list[str] | None = None
    for e in matrix.environments:
        env = e.marker_environment
        if used is None:  # a variable a marker uses is named in its text
            used = [k for k in env if k in text]
        key = (text, tuple(env[k] for k in used))
        hit = memo.get(key)
        if hit is None:
            hit = memo[key] = _holds(marker, env, extras, groups)
        if hit:
            out.append(e.name)
    return frozenset(out)


def _holds(
    marker: Marker, env: Mapping[str, str], extras: frozenset[str], groups: frozenset[str]
) -> bool:
    # Markers only ever ask whether a name is *in* extras/groups, so the
    # largest selection finds every environment where the pin can apply.
    values: dict[str, Any] = dict(env, extras=extras, dependency_groups=groups)
    return bool(marker.evaluate(values, context="lock_file"))


def _env_marker(
    envs: frozenset[str], matrix: Matrix, marker: Marker | None
) -> Marker | None:
    if not envs or marker is None:
        return marker
    try:
        return marker_for(envs, matrix)
    except ValueError:
        return marker


def _direct_url(p: Any) -> str | None:
    if p.vcs is not None:
        return f"{p.vcs.type}+{p.vcs.url}@{p.vcs.commit_id}"
    if p.directory is not None:
        return str(p.directory.path)
    if p.archive is not None:
        return str(p.archive.url or p.archive.path)
    return None


def _tool_string(
    tool: Mapping[str, Any] | None, key: str, path: str, *, strip: str = ""
) -> str | None:
    """A string of ``[tool.crosspin]`` (``None`` when absent), a prefix stripped."""
    section = (tool or {}).get("crosspin")
    if not isinstance(section, Mapping) or key not in section:
        return None
    value = section[key]
    if not isinstance(value, str):
        raise LockFileError(path, "must be a string", key=f"tool.crosspin.{key}")
    return value[len(strip):] if strip and value.startswith(strip) else value


def _matrix(tool: Mapping[str, Any] | None, path: str) -> Matrix | None:
    section = (tool or {}).get("crosspin")
    if not isinstance(section, Mapping) or "matrix" not in section:
        return None
    spec = section["matrix"]
    if not isinstance(spec, str):
        raise LockFileError(path, "must be a string", key="tool.crosspin.matrix")
    try:
        return Matrix.from_spec(spec)
    except (ValueError, LockFileError) as exc:
        raise LockFileError(path, f"bad matrix {spec!r}: {exc}", key="tool.crosspin.matrix") \
            from None
    except Exception as exc:  # UsageError for an unknown platform name
        raise LockFileError(path, f"bad matrix {spec!r}: {exc}", key="tool.crosspin.matrix") \
            from None
