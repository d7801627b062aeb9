"""``crosspin compile`` as one function: :class:`~crosspin.settings.CompileOptions` in, text out.

Reads the inputs and ``[tool.crosspin]``, lays the command line over them
(:func:`crosspin.settings.compile_settings`), builds the matrix and the
request, reuses the last lock when nothing it was computed from changed
(``_memo``) or resolves (``_compile``), and renders the chosen format.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

import attrs
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from crosspin.distributions import DistFile
from crosspin.environments import Environment, Matrix, describe_environments
from crosspin.errors import CrosspinError, ResolutionError
from crosspin.index import IndexClient, IndexSettings
from crosspin.inputs import InputSet, input_digest
from crosspin.lock import Lock
from crosspin.lockfiles import read_existing
from crosspin.lockfiles.pylock import PylockOptions
from crosspin.lockfiles.pylock import render as render_pylock
from crosspin.lockfiles.requirements import render
from crosspin.pipeline._compile import CompileRequest, compile_lock, fallback_warnings
from crosspin.pipeline._diagnose import Diagnosis, diagnose, source_build_warnings
from crosspin.pipeline._memo import Memo, canonical, memo_for
from crosspin.resolver import HeldBack, ResolveOptions, Root
from crosspin.settings import (
    CompileOptions,
    CompileSettings,
    ConfigFiles,
    compile_settings,
    load_config,
)

__all__ = [
    "ClientPool", "CompileResult", "Reporter", "file_sha256s", "lock_digest", "run_compile",
]


class Reporter(Protocol):
    """Where a compile reports its progress (the CLI's live display is one)."""

    def start(self, description: str, total: int) -> None:
        """Begin a task of ``total`` steps."""

    def advance(self, item: str = "", *, detail: str = "") -> None:
        """One step done: ``item`` is what finished."""

    def note(self, message: str) -> None:
        """A line for ``-v``: a detail of how the lock came about (where metadata came
        from, a build's output, a release passed over, what an index gave that was ignored)."""


@attrs.frozen(kw_only=True)
class CompileResult:
    """A compile's lock text, its one-line summary (``Locked 3 packages for ...``), warnings.

    ``warnings`` are ``(message, hint)`` pairs: pins that pip builds from
    source in some environments of their marker.
    """

    text: str
    summary: str
    warnings: tuple[tuple[str, str], ...] = ()


class ClientPool:
    """Index clients by settings, shared by the compiles of one command run."""

    def __init__(self) -> None:
        self._clients: dict[IndexSettings, IndexClient] = {}

    def get(self, settings: IndexSettings) -> IndexClient:
        """The client for these settings, made on first use."""
        client = self._clients.get(settings)
        if client is None:
            client = self._clients[settings] = IndexClient(settings)
        return client

    def close(self) -> None:
        """Close every client."""
        for client in self._clients.values():
            client.close()
        self._clients.clear()


def run_compile(
    options: CompileOptions,
    *,
    reporter: Reporter | None = None,
    clients: ClientPool | None = None,
) -> CompileResult:
    """Compile and render one lock as ``options`` say; nothing is written.

    ``clients`` shares index sessions (and their in-memory caches) between
    the compiles of one command run.
    """
    config = load_config(options.sources, options.config, "compile")
    inputs = options.selection.read(
        options.sources,
        build=lambda files: compile_settings(options, files, config.crosspin).build,
        log=reporter.note if reporter is not None else None,
    )
    settings = compile_settings(options, inputs.options, config.crosspin)
    matrix = Matrix.from_options(
        python=settings.python, platforms=settings.platforms,
        requires_python=inputs.requires_python,
    )
    # The existing lock is read only when it is needed: its pins are preferences
    # for a resolution, and the memo keys it by its bytes (see _Run._on).
    has_existing = not options.upgrade and _is_file(options.output)
    request = CompileRequest(
        roots=tuple(
            Root(requirement=r.requirement, origin=r.origin, link=r.link, editable=r.editable)
            for r in inputs.requirements
        ),
        matrix=matrix,
        options=settings.resolve,
        constraints=tuple(
            Root(requirement=r.requirement, origin=r.origin, link=r.link)
            for r in inputs.constraints
        ),
        overrides=tuple(
            Root(requirement=r.requirement, origin=r.origin, link=r.link)
            for r in inputs.overrides
        ),
        upgrade=options.upgrade,
        upgrade_packages=options.upgrade_packages,
        sources=settings.sources,
        link_text=_link_text(inputs, options.output),
        written_links={r.link: r.written_link
                       for r in (*inputs.requirements, *inputs.constraints, *inputs.overrides)
                       if r.link and r.written_link},
        meta={"command": options.command, "input_digest": lock_digest(inputs, config)},
    )
    tool_cutoff = config.crosspin.exclude_newer
    run = _Run(options=options, settings=settings, inputs=inputs, request=request,
               has_existing=has_existing, reporter=reporter,
               cutoff=options.cutoff or (f"--exclude-newer {tool_cutoff}" if tool_cutoff else ""))
    if clients is not None:
        return run.on(clients.get(settings.index))
    with IndexClient(settings.index) as client:
        return run.on(client)


def _is_file(output: str) -> bool:
    """Whether an output names an existing file (``-`` is stdout)."""
    return output != "-" and Path(output).is_file()


@attrs.define(kw_only=True)
class _Run:
    """One compile once its request is known: reuse the last lock, or resolve and render."""

    options: CompileOptions
    settings: CompileSettings
    inputs: InputSet
    request: CompileRequest
    has_existing: bool
    reporter: Reporter | None
    #: The upload cut-off as given (``--exclude-newer 2024-01-01``), for messages.
    cutoff: str = ""
    resolutions: int = 0

    def on(self, client: IndexClient) -> CompileResult:
        """The result, read through ``client`` (its notes go to the reporter, even on failure)."""
        try:
            return self._on(client)
        finally:
            if self.reporter is not None:
                for note in client.take_notes():
                    self.reporter.note(note)

    def _on(self, client: IndexClient) -> CompileResult:
        options, request = self.options, self.request
        memo = None
        reusable = not options.access.refresh and not any(
            r.link for r in (*request.roots, *request.constraints, *request.overrides)
        )
        index = self.settings.index

        def memo_with(existing_digest: str) -> Memo | None:
            return memo_for(client.state_folder("memo"), [
                # The existing lock is in the key as its file digest (pins and matrix).
                canonical(attrs.evolve(request, existing=(), existing_matrix=None)),
                existing_digest,
                canonical(self.settings.render), options.output_format, options.output,
                canonical(tuple(options.selection.groups)),
                canonical([index.index_url, index.extra_index_urls, index.find_links,
                           index.index_strategy, index.exclude_newer, index.trusted_hosts]),
            ], tuning=options.tuning)

        if reusable:
            memo = memo_with(_file_digest(options.output) if self.has_existing
                             else "no existing pins")
        if self.reporter is not None:
            self.reporter.start("Resolving", len(request.matrix))
        if memo is not None and options.output != "-":
            hit = memo.lookup(client, Path(options.output))
            if hit is not None:
                text, summary = hit
                head = summary.partition(" (")[0]
                return CompileResult(
                    text=text,
                    summary=f"{head} (inputs and index unchanged: reused the last resolution)",
                )
        if self.has_existing:
            # Read (and refused when it is no lock) before any request of a resolution.
            existing = read_existing(options.output, options.output_format)
            if existing is not None:
                request = self.request = attrs.evolve(
                    request, existing=tuple(existing.packages), existing_matrix=existing.matrix)
        held: list[HeldBack] = []
        try:
            lock = compile_lock(request, client=client, on_fork=self._on_fork,
                                on_note=self.reporter.note if self.reporter is not None else None,
                                lookahead=not self.settings.index.offline,
                                fast_path=options.tuning.replay, build=self.settings.build,
                                on_held_back=held.extend)
        except ResolutionError as exc:
            raise self._diagnosed(exc, client) from None
        lock = without_forbidden_wheels(lock, self.settings.resolve)
        warnings = tuple((w.message(), w.hint())
                         for w in source_build_warnings(lock, self.inputs))
        warnings += tuple(fallback_warnings(held, request.roots, lock.matrix))
        if self.reporter is not None and self.settings.index.exclude_newer is not None:
            for line in self._cut_off(lock, client):
                self.reporter.note(line)
        if self.settings.render.generate_hashes or options.output_format == "pylock":
            lock = with_hashes(lock, client)
        if options.output_format == "pylock":
            text = _render_pylock(lock, self.inputs, options.selection.groups, options.output)
        else:
            text = render(lock, self.settings.render)
        names = {p.name for p in lock.packages}
        count, resolutions = len(lock.matrix), self.resolutions
        summary = (
            f"Locked {len(names)} package{'s' if len(names) != 1 else ''} for {count} "
            f"environment{'s' if count != 1 else ''} ({resolutions} resolution"
            f"{'s' if resolutions != 1 else ''})"
        )
        if memo is not None:
            memo.store(client, text, summary)
            if not options.upgrade:
                # The next run reads this lock as its existing pins, and a rerun on
                # unchanged inputs gives the same lock (idempotence): one entry for it too.
                after = memo_with(hashlib.sha256(text.encode("utf-8")).hexdigest())
                if after is not None and after.path != memo.path:
                    after.store(client, text, summary)
        return CompileResult(text=text, summary=summary, warnings=warnings)

    def _diagnosed(self, error: ResolutionError, client: IndexClient) -> CrosspinError:
        """``error`` in the user's terms, when the index can say why (``_diagnose``)."""
        index = self.settings.index
        sources = self.settings.sources
        no_build = self.settings.resolve.no_build
        known = tuple(dict.fromkeys(
            [canonicalize_name(r.requirement.name) for r in self.inputs.requirements]
            + [p.name for p in self.request.existing]))
        using = Diagnosis(
            files=client.project_files, prefetch=client.prefetch_projects,
            index=index.index_url if not sources.no_index else "the --find-links locations",
            others=len(index.extra_index_urls) + (0 if sources.no_index
                                                  else len(index.find_links)),
            known=known, cutoff=self.cutoff,
            allow_build=lambda name: not ({":all:", name} & no_build),
        )
        if index.exclude_newer is None:
            return diagnose(error, self.inputs, self.request.matrix, using)
        with IndexClient(attrs.evolve(index, exclude_newer=None)) as uncut:
            return diagnose(error, self.inputs, self.request.matrix,
                            attrs.evolve(using, all_files=uncut.project_files))

    def _cut_off(self, lock: Lock, client: IndexClient) -> list[str]:
        """Held-back lines for pins at the newest release the upload cut-off lets through.

        The resolver never sees releases after ``--exclude-newer``; the same
        index without the cut-off (its pages come from the cache) does.
        """
        lines = []
        with IndexClient(attrs.evolve(self.settings.index, exclude_newer=None)) as uncut:
            for package in lock.packages:
                if package.url:
                    continue
                seen = _newest_final(client.project_releases(package.name))
                newest = _newest_final(uncut.project_releases(package.name))
                if newest is None or newest <= package.version or (
                        seen is not None and seen > package.version):
                    continue  # at the newest, or the held-back report says why
                where = describe_environments(sorted(package.environments), lock.matrix,
                                              grouped=len(package.environments) > 1)
                lines.append(f"held back: {package.name} {package.version} (newest {newest}) "
                             f"on {'; '.join(where)}: {newest} is excluded by "
                             f"{self.cutoff or 'the upload cut-off'}")
        return lines

    def _on_fork(self, env: Environment, reused: bool) -> None:
        if not reused:
            self.resolutions += 1
        if self.reporter is not None:
            self.reporter.advance(env.name, detail="same answers as an earlier one" if reused
                                  else "resolved")


class Hasher(Protocol):
    """What :func:`with_hashes` needs of an index client."""

    def file_sha256(self, file: DistFile) -> str:
        """A file's sha256 (downloaded and hashed when the index gave none)."""


def file_sha256s(files: Iterable[DistFile], client: Hasher) -> dict[str, str]:
    """URL -> sha256 of each file the index gave no sha256 for, downloaded and hashed.

    The one way compile and export fill a missing hash: files are streamed
    to disk within the download caps, several at once; a file that cannot
    be fetched raises, naming it (a pin is never left without its hash).
    """
    missing = {f.url: f for f in files if not f.sha256}
    if not missing:
        return {}
    workers = min(8, len(missing))
    with concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="crosspin-hash") as pool:
        return dict(zip(missing, pool.map(client.file_sha256, missing.values())))


def with_hashes(lock: Lock, client: Hasher) -> Lock:
    """The lock with a sha256 for every file it names.

    Hashes are never silently missing: a file the index gave no hash for
    (an index without hashes, a find-links folder, a direct URL) is
    downloaded -- streamed to disk, within the download caps -- and hashed;
    when that fails the compile fails, naming the file.
    """
    digests = file_sha256s((f for p in lock.packages for f in p.files), client)
    if not digests:
        return lock

    def hashed(file: DistFile) -> DistFile:
        digest = digests.get(file.url)
        if file.sha256 or digest is None:
            return file
        return attrs.evolve(file, hashes=tuple(sorted({*file.hashes, ("sha256", digest)})))

    return attrs.evolve(lock, packages=tuple(
        attrs.evolve(p, files=tuple(hashed(f) for f in p.files)) for p in lock.packages
    ))


def _file_digest(path: str) -> str:
    """sha256 of a file's bytes (``"missing"`` when it cannot be read)."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return "missing"


def without_forbidden_wheels(lock: Lock, options: ResolveOptions) -> Lock:
    """The lock without the wheels of ``--no-binary`` names (or of every name, ``:all:``).

    The resolver reads metadata from those wheels, but neither crosspin nor
    pip installs them, so the lock neither lists nor hashes them: a pylock
    entry keeps only its sdist, a hash line only the sdist's hash.
    """
    if not options.no_binary:
        return lock
    return attrs.evolve(lock, packages=tuple(
        p if p.url or options.may_use_wheels(p.name)
        else attrs.evolve(p, files=tuple(f for f in p.files if not f.is_wheel))
        for p in lock.packages
    ))


def _render_pylock(lock: Lock, inputs: InputSet, groups: Sequence[str], output: str) -> str:
    """The lock as PEP 751 ``pylock.toml``; groups named with --group install by default."""
    roots: dict[str, list[Requirement]] = {}
    for r in inputs.requirements:
        roots.setdefault(r.origin, []).append(r.requirement)
    return render_pylock(lock, PylockOptions(
        default_groups=tuple(groups),
        root_requirements=roots,
        path=output,
    ))


def _link_text(inputs: InputSet, output: str) -> dict[str, str]:
    """Local paths the user wrote relative, as paths relative to the output's folder.

    Written with ``/`` and a leading ``./`` or ``../`` so pip reads them as
    paths and the lock is the same on every host.
    """
    folder = (Path.cwd() if output == "-" else Path(output).absolute().parent)
    out: dict[str, str] = {}
    for r in (*inputs.requirements, *inputs.constraints, *inputs.overrides):
        if not (r.relative and r.link and r.link.startswith("file:")):
            continue
        # lazy: urllib.request pulls in http.client, email and ssl; few inputs are local links.
        from urllib.parse import unquote, urlsplit
        from urllib.request import url2pathname

        target = Path(url2pathname(unquote(urlsplit(r.link).path)))
        text = Path(os.path.relpath(target, folder)).as_posix()
        out[r.link] = text if text.startswith("../") else f"./{text}"
    return out


def lock_digest(inputs: InputSet, config: ConfigFiles) -> str:
    """The digest a lock records: its inputs, and the configuration tables when there are any.

    Without configuration it is the inputs' digest alone, so locks written
    before configuration counted keep their digest.
    """
    digest = input_digest(inputs)
    if config.digest is None:
        return digest
    return hashlib.sha256(f"{digest}:{config.digest}".encode()).hexdigest()


def _newest_final(releases: Mapping[Version, tuple[DistFile, ...]]) -> Version | None:
    """The newest final release with a file that is not yanked."""
    return max((v for v, files in releases.items()
                if not v.is_prerelease and any(not f.is_yanked for f in files)), default=None)
