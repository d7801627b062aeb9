"""One environment's subset of a lock as a flat requirements file.

For Docker images and other single-target installs: no markers, and hashes
only for the files that environment can install, so ``pip install
--require-hashes -r`` accepts it and never sees a hash it cannot use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from crosspin.distributions import DistFile
from crosspin.environments import Environment
from crosspin.errors import CrosspinError
from crosspin.lock import LockedPackage
from crosspin.lockfiles import LockData
from crosspin.sync._fetch import FileSource, file_hashes

__all__ = ["HashFiles", "export_requirements"]


#: URL -> sha256 of files the index gave no hash for (``crosspin.pipeline.file_sha256s``).
HashFiles = Callable[[Sequence[DistFile]], Mapping[str, str]]


def export_requirements(
    lock: LockData,
    environment: Environment,
    source: FileSource | None,
    *,
    generate_hashes: bool = False,
    header: str = "",
    hash_files: HashFiles | None = None,
) -> str:
    """The flat requirements text of ``environment``'s pins.

    Hashes are written when the lock has them or ``generate_hashes`` asks:
    the index (``source``) says which hash is which file, and only files
    whose tags fit ``environment`` (and the sdist) are kept -- and, when the
    lock records hashes, only those it records. A file the index gives no
    hash for is downloaded and hashed by ``hash_files`` (compile's way);
    an index pin left without any hash is an error, never a silent gap.
    """
    selected = lock.select(dict(environment.marker_environment))
    want_hashes = generate_hashes or any(p.recorded_hashes for p in selected)
    lines: list[str] = []
    if header:
        lines.extend(f"# {h}" if h else "#" for h in header.splitlines())
    src = lock.sources
    if src.index_url:
        lines.append(f"--index-url {src.index_url}")
    lines.extend(f"--extra-index-url {u}" for u in src.extra_index_urls)
    lines.extend(f"--find-links {f}" for f in src.find_links)
    lines.extend(f"--trusted-host {h}" for h in src.trusted_hosts)
    if len(lines) > (len(header.splitlines()) if header else 0):
        lines.append("")
    ordered = sorted(selected, key=lambda p: p.name)
    files: list[list[DistFile]] = [
        _installable(p, environment, source) if want_hashes else [] for p in ordered
    ]
    digests: Mapping[str, str] = {}
    if want_hashes and hash_files is not None:
        digests = hash_files([f for group in files for f in group if not f.sha256])
    for package, candidates in zip(ordered, files):
        line = (f"{package.name}{_extras(package)} @ {package.url}" if package.url
                else f"{package.name}{_extras(package)}=={package.version}")
        if want_hashes:
            hashes = _hashes(package, candidates, digests, source is None)
            if not hashes and not package.url:
                raise _unhashed(package, environment)
            for digest in hashes:
                line += f" \\\n    --hash={digest}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def _extras(package: LockedPackage) -> str:
    return f"[{','.join(package.extras)}]" if package.extras else ""


def _installable(
    package: LockedPackage, environment: Environment, source: FileSource | None
) -> list[DistFile]:
    """The index's files of a pin that ``environment`` can install (its wheels, the sdist)."""
    if package.url or source is None:
        return []
    return [f for f in source.project_files(package.name)
            if f.version == package.version
            and (not f.is_wheel or environment.supports_wheel(f.tags))]


def _hashes(
    package: LockedPackage, files: Sequence[DistFile], digests: Mapping[str, str],
    no_index: bool,
) -> list[str]:
    recorded = set(package.recorded_hashes)
    if package.url or no_index:
        return sorted(recorded)
    out: set[str] = set()
    for f in files:
        known = file_hashes(f)
        if f.url in digests:
            known.add(f"sha256:{digests[f.url]}")
        if recorded:
            out |= known & recorded
        else:
            out |= {h for h in known if h.startswith("sha256:")}
    return sorted(out)


def _unhashed(package: LockedPackage, environment: Environment) -> CrosspinError:
    pin = f"{package.name}=={package.version}"
    if package.recorded_hashes:
        return CrosspinError(
            f"no file the index serves for {pin} on {environment.name} matches a hash the "
            "lock records",
            hint="the index changed the file since the lock was made; compile again, or use "
                 "the index the lock was made with")
    return CrosspinError(
        f"no hash for {pin} on {environment.name}: the index gives no file it can install",
        hint="check the lock's index options, or compile again")
