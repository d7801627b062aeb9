"""Resolve a parsed compile request: direct references, forks over the matrix, merge.

Direct references (wheel and sdist URLs, local trees, git checkouts) become
candidates here; the resolver resolves every environment of the matrix and
:func:`crosspin.lock.merge_forks` merges the forks into one lock.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

import attrs
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from crosspin.distributions import DistFile
from crosspin.environments import Environment, Matrix, describe_environments
from crosspin.errors import UsageError
from crosspin.index import lock_url
from crosspin.inputs import checkout, is_vcs
from crosspin.lock import Lock, LockedPackage, Sources, merge_forks
from crosspin.metadata import (
    BuildSettings,
    DistMetadata,
    MetadataProvider,
    MetadataSource,
    Release,
    project_metadata,
)
from crosspin.resolver import (
    Candidate,
    Finder,
    HeldBack,
    Metadata,
    ResolveOptions,
    ResolveRequest,
    Root,
    resolve_matrix,
)

__all__ = ["Client", "CompileRequest", "compile_lock", "fallback_warnings", "held_back_lines"]


@attrs.frozen(kw_only=True)
class CompileRequest:
    """Everything one compile needs, already parsed and validated."""

    roots: tuple[Root, ...]
    matrix: Matrix
    options: ResolveOptions = ResolveOptions()
    constraints: tuple[Root, ...] = ()
    overrides: tuple[Root, ...] = ()
    #: Pins of the existing output file (kept unless upgraded).
    existing: tuple[LockedPackage, ...] = ()
    #: The matrix the existing output records: its patch splits are kept.
    existing_matrix: Matrix | None = None
    upgrade: bool = False
    #: ``-P name[spec]``: names to upgrade, with optional upper bounds.
    upgrade_packages: tuple[Requirement, ...] = ()
    sources: Sources = Sources()
    meta: Mapping[str, str] = attrs.field(factory=dict)
    #: How to write a link in the lock (a relative local path as written,
    #: relative to the output); links not listed are written as resolved.
    link_text: Mapping[str, str] = attrs.field(factory=dict)
    #: Links as the user wrote them, where they held ``${VAR}``: the lock keeps
    #: the variables (pip expands them), never their values.
    written_links: Mapping[str, str] = attrs.field(factory=dict)


class Client(Finder, MetadataSource, Protocol):
    """What compile needs of an index client (crosspin.index.IndexClient is one)."""


def compile_lock(
    request: CompileRequest,
    *,
    client: Client,
    on_fork: Callable[[Environment, bool], None] | None = None,
    on_note: Callable[[str], None] | None = None,
    lookahead: bool = False,
    fast_path: bool = True,
    build: BuildSettings = BuildSettings(),
    on_held_back: Callable[[Sequence[HeldBack]], None] | None = None,
) -> Lock:
    """Resolve every environment of the matrix and merge the forks.

    ``lookahead``: prefetch likely picks in the background (for a client
    that goes to the network); ``fast_path``: replay preferences where that
    equals resolvelib's answer (see :class:`crosspin.resolver.ResolveRequest`).
    ``on_note`` hears what ``-v`` shows: each release passed over for its
    metadata, once; where an sdist's metadata came from; a build's output.
    ``build`` says how sdists and local trees are built for their metadata.
    ``on_held_back`` hears of every pin below its newest release, per
    environment, with the reasons (``-v`` shows them through ``on_note`` too).
    """
    metadata = MetadataProvider(client, build=build, log=on_note)
    upgrade_names = {canonicalize_name(r.name) for r in request.upgrade_packages}
    constraints = list(request.constraints)
    for req in request.upgrade_packages:
        if req.specifier:
            constraints.append(Root(requirement=req, origin="--upgrade-package"))
    existing: Sequence[LockedPackage] = () if request.upgrade else [
        p for p in request.existing if p.name not in upgrade_names and not p.url
    ]

    def existing_for(env: Environment) -> Mapping[str, Version]:
        return {p.name: p.version for p in existing if p.applies_to(env)}

    # A constraint's or an override's URL is the file for that name wherever it is
    # needed (read_inputs allows one URL per name); roots last, so their editable wins.
    links, link_meta, pinned = _link_candidates(
        (*request.constraints, *request.overrides, *request.roots),
        lambda tree, name: project_metadata(
            tree, build=build, log=on_note, release=Release(name=name)))
    forks = resolve_matrix(
        ResolveRequest(
            matrix=request.matrix,
            roots=request.roots,
            options=request.options,
            constraints=tuple(constraints),
            overrides=request.overrides,
            existing=existing_for if existing else None,
            patch_cuts=(request.existing_matrix.patch_cuts()
                        if request.existing_matrix is not None and not request.upgrade else {}),
            links=links,
            fast_path=fast_path,
            lookahead=lookahead,
            explain=on_note is not None or on_held_back is not None,
        ),
        finder=client,
        metadata=_LinkMetadata(metadata, link_meta),
        on_fork=on_fork,
    )
    # The request's matrix, with any environment split at a patch boundary
    # replaced by its parts: the lock records (and its markers select) those.
    matrix = Matrix(environments=tuple(sorted(
        (e for fork in forks for e in fork.environments), key=lambda e: e.sort_key)))
    if on_note is not None:
        for text in dict.fromkeys(str(r) for fork in forks for r in fork.skipped):
            on_note(f"skipped {text}")
        for line in held_back_lines([h for fork in forks for h in fork.held_back], matrix):
            on_note(line)
    if on_held_back is not None:
        on_held_back([h for fork in forks for h in fork.held_back])
    lock = merge_forks(forks, matrix, sources=request.sources, meta=request.meta)

    def as_locked(url: str) -> str:
        """A link as the lock writes it: as written, pinned, never with a credential."""
        if url in request.link_text:
            return request.link_text[url]
        return lock_url(pinned.get(url, url), request.written_links.get(url))

    return attrs.evolve(lock, packages=tuple(
        attrs.evolve(p, url=as_locked(p.url)) if p.url else p for p in lock.packages
    ))


class _LinkMetadata:
    """Metadata of direct references (read from their trees) before the index's."""

    def __init__(self, inner: Metadata, known: Mapping[str, DistMetadata]) -> None:
        self._inner = inner
        self._known = known

    def get(self, name: str, version: Version, files: Sequence[DistFile]) -> DistMetadata:
        """The tree's metadata for a direct reference without files, else the index's."""
        meta = self._known.get(canonicalize_name(name))
        if meta is not None and not files and meta.version == version:
            return meta
        return self._inner.get(name, version, files)


def _link_candidates(
    roots: Iterable[Root], tree_metadata: Callable[[Path, str], DistMetadata]
) -> tuple[dict[str, Candidate], dict[str, DistMetadata], dict[str, str]]:
    """Candidates for direct references, their metadata, and VCS links pinned to commits.

    A wheel or sdist URL is read through the index client; a local tree or a
    git checkout through ``tree_metadata`` (static ``[project]`` or PEP 517 hooks).
    """
    out: dict[str, Candidate] = {}
    metas: dict[str, DistMetadata] = {}
    pinned: dict[str, str] = {}
    for root in roots:
        link = root.link or root.requirement.url
        if not link:
            continue
        name = canonicalize_name(root.requirement.name)
        filename = link.split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        file = None if is_vcs(link) else DistFile.from_link(filename=filename, url=link)
        if file is not None:
            files: tuple[DistFile, ...] = (file,)
            version = file.version
        elif is_vcs(link):
            with tempfile.TemporaryDirectory(prefix="crosspin-vcs-") as tmp:
                done = checkout(link, Path(tmp) / "repo")
                meta = tree_metadata(done.tree, name)
            pinned[link] = done.pinned_url
            files, version = (), meta.version
            metas[name] = meta
        else:
            path = _local_path(link)
            if path is None:
                raise UsageError(
                    f"cannot lock {link}: only wheel/sdist URLs, git URLs and local paths "
                    "are supported",
                    hint="give a wheel or sdist URL, a git+ URL, or a local directory",
                )
            meta = tree_metadata(path, name)
            files, version = (), meta.version
            metas[name] = meta
        out[name] = Candidate(name=name, version=version, files=files, link=link,
                              editable=root.editable)
    return out, metas, pinned


def _local_path(link: str) -> Path | None:
    # lazy: urllib.request pulls in much of the email package; few inputs are local.
    from urllib.parse import unquote, urlsplit
    from urllib.request import url2pathname

    if link.startswith("file:"):
        return Path(url2pathname(unquote(urlsplit(link).path)))
    if "://" not in link:
        return Path(link)
    return None


def held_back_lines(held: Sequence[HeldBack], matrix: Matrix) -> list[str]:
    """``held back: name 1.0 (newest 2.0) on <environments>: <why>``, one per reason set.

    Environments with the same pin and the same reasons share a line, named
    as the matrix describes them (``linux-x86_64 (every Python)``).
    """
    groups: dict[tuple[str, Version, Version, tuple[str, ...]], list[str]] = {}
    for h in held:
        groups.setdefault((h.name, h.version, h.newest, h.reasons), []).append(h.environment)
    return [
        f"held back: {name} {version} (newest {newest}) on "
        f"{'; '.join(describe_environments(names, matrix, grouped=len(names) > 1))}: "
        f"{'; '.join(reasons)}"
        for (name, version, newest, reasons), names in sorted(groups.items())
    ]


def fallback_warnings(
    held: Sequence[HeldBack], roots: Sequence[Root], matrix: Matrix
) -> list[tuple[str, str]]:
    """``(message, hint)`` for a direct requirement that falls back a major version somewhere.

    Only where something besides the environment's own Python or the
    existing pin holds it (``accelerate 0.0.1`` where torch has no wheels):
    a warning, not a refusal (lead's decision, issue 14).
    """
    direct = {canonicalize_name(r.requirement.name) for r in roots}
    groups: dict[tuple[str, Version, Version, tuple[str, ...]], list[str]] = {}
    for h in held:
        if h.name in direct and not h.expected and _much_older(h.version, h.newest):
            groups.setdefault((h.name, h.version, h.newest, h.reasons), []).append(h.environment)
    return [
        (f"{name} falls back to {version} (newest {newest}) on "
         f"{'; '.join(describe_environments(names, matrix, grouped=len(names) > 1))}: "
         f"{'; '.join(reasons)}",
         f"'crosspin why --not-newest {name}' explains it; if {name} is not needed there, "
         "give its requirement a marker")
        for (name, version, newest, reasons), names in sorted(groups.items())
    ]


def _much_older(version: Version, newest: Version) -> bool:
    """Another major version (for 0.x: another minor)."""
    old, new = (*version.release, 0)[:2], (*newest.release, 0)[:2]
    return old[0] < new[0] or (old[0] == new[0] == 0 and old[1] < new[1])
