"""One environment's subset of a lock as a flat requirements file.

For Docker images and other single-target installs: no markers, and hashes
only for the files that environment can install, so ``pip install
--require-hashes -r`` accepts it and never sees a hash it cannot use.
"""

from __future__ import annotations

from crosspin.environments import Environment
from crosspin.lock import LockedPackage
from crosspin.lockfiles import LockData
from crosspin.sync._fetch import FileSource, file_hashes

__all__ = ["export_requirements"]


def export_requirements(
    lock: LockData,
    environment: Environment,
    source: FileSource | None,
    *,
    generate_hashes: bool = False,
    header: str = "",
) -> str:
    """The flat requirements text of ``environment``'s pins.

    Hashes are written when the lock has them or ``generate_hashes`` asks:
    the index (``source``) says which hash is which file, and only files
    whose tags fit ``environment`` (and the sdist) are kept -- and, when the
    lock records hashes, only those it records.
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
    for package in sorted(selected, key=lambda p: p.name):
        line = (f"{package.name}{_extras(package)} @ {package.url}" if package.url
                else f"{package.name}{_extras(package)}=={package.version}")
        if want_hashes:
            for digest in _hashes(package, environment, source):
                line += f" \\\n    --hash={digest}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def _extras(package: LockedPackage) -> str:
    return f"[{','.join(package.extras)}]" if package.extras else ""


def _hashes(
    package: LockedPackage, environment: Environment, source: FileSource | None
) -> list[str]:
    recorded = set(package.recorded_hashes)
    if package.url or source is None:
        return sorted(recorded)
    out: set[str] = set()
    for f in source.project_files(package.name):
        if f.version != package.version:
            continue
        if f.is_wheel and not environment.supports_wheel(f.tags):
            continue
        known = file_hashes(f)
        if recorded:
            out |= known & recorded
        elif f.sha256:
            out.add(f"sha256:{f.sha256}")
    return sorted(out)
