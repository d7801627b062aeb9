"""Glue for ``crosspin compile``: settings precedence, inputs, matrix, render.

Precedence, highest first: command line, options inside requirement files,
``[tool.crosspin]``, pip's own configuration (unless ``--isolated``), defaults.
"""

from __future__ import annotations

import datetime
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Optional, Protocol

from attrs import evolve
from packaging.requirements import Requirement

from crosspin.environments import Environment, Matrix
from crosspin.index import DEFAULT_INDEX_URL, IndexClient, IndexSettings, strip_credentials
from crosspin.inputs import InputSet, input_digest, read_inputs
from crosspin.lock import Lock, Sources
from crosspin.lockfiles import LockFormat, read_existing
from crosspin.lockfiles.pylock import PylockOptions
from crosspin.lockfiles.pylock import render as render_pylock
from crosspin.lockfiles.requirements import RenderOptions, render
from crosspin.pipeline._compile import CompileRequest, compile_lock
from crosspin.pipeline._memo import canonical, memo_for
from crosspin.resolver import ResolveOptions, Root
from crosspin.settings import PipConfig, load_pip_config, load_tool_config, parse_exclude_newer

__all__ = ["ClientPool", "Reporter", "run_compile"]


class Reporter(Protocol):
    """Where a compile reports its progress (the CLI's live display is one)."""

    def start(self, description: str, total: int) -> None:
        """Begin a task of ``total`` steps."""

    def advance(self, item: str = "", *, detail: str = "") -> None:
        """One step done: ``item`` is what finished."""


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
    *,
    sources: Sequence[str],
    output: str,
    command: str,
    python: Optional[str],
    platforms: Sequence[str],
    upgrade: bool,
    upgrade_packages: tuple[Requirement, ...],
    generate_hashes: bool,
    annotate: Optional[bool],
    annotation_style: Optional[str],
    header: bool,
    emit_index_url: bool,
    emit_find_links: bool,
    allow_unsafe: Optional[bool],
    index_url: Optional[str],
    extra_index_urls: Sequence[str],
    find_links: Sequence[str],
    index_strategy: str,
    pre: bool,
    resolution: str,
    only_binary: frozenset[str],
    no_binary: frozenset[str],
    constraints: Sequence[str],
    overrides: Sequence[str],
    extras: Sequence[str],
    all_extras: bool,
    groups: Sequence[str],
    all_groups: bool,
    cache_dir: Optional[str],
    no_cache: bool,
    offline: bool,
    refresh: bool,
    exclude_newer: Optional[datetime.datetime],
    isolated: bool,
    verbose: int,
    output_format: LockFormat = "requirements",
    reporter: Optional[Reporter] = None,
    clients: Optional[ClientPool] = None,
) -> tuple[str, str]:
    """Compile and render; return the lock text and a one-line summary.

    ``clients`` shares index sessions (and their in-memory caches) between
    the compiles of one command run.
    """
    inputs = read_inputs(
        [Path(s) for s in sources],
        constraints=[Path(c) for c in constraints],
        overrides=[Path(o) for o in overrides],
        extras=extras,
        all_extras=all_extras,
        groups=groups,
        all_groups=all_groups,
    )
    pyproject = _pyproject_for(sources)
    tool = load_tool_config(pyproject) if pyproject is not None else load_tool_config(
        Path("pyproject.toml")
    )
    pip = PipConfig(index_url=None, extra_index_urls=(), find_links=(), trusted_hosts=(),
                    cert=None, timeout=None) if isolated else load_pip_config(os.environ)

    opts = inputs.options
    chosen_index = index_url or opts.index_url or tool.index_url or pip.index_url
    extra = _unique([*extra_index_urls, *opts.extra_index_urls, *tool.extra_index_urls,
                     *pip.extra_index_urls])
    links = _unique([*find_links, *opts.find_links, *tool.find_links, *pip.find_links])
    if opts.no_index:
        # "--no-index" in an input file: only find-links (and direct references).
        chosen_index, extra = "", []
    settings = IndexSettings(
        index_url=DEFAULT_INDEX_URL if chosen_index is None else chosen_index,
        extra_index_urls=tuple(extra),
        find_links=tuple(links),
        index_strategy=index_strategy,  # type: ignore[arg-type]
        offline=offline,
        refresh=refresh,
        exclude_newer=exclude_newer or _tool_exclude_newer(tool.exclude_newer),
        cache_dir=Path(cache_dir) if cache_dir else None,
        no_cache=no_cache,
        cert=pip.cert,
        timeout=pip.timeout or 30.0,
        trusted_hosts=tuple(_unique([*opts.trusted_hosts, *pip.trusted_hosts])),
    )
    matrix = Matrix.from_options(
        python=python or tool.python,
        platforms=platforms or tool.platforms,
        requires_python=inputs.requires_python,
    )
    existing = None if upgrade else read_existing(output, output_format)
    no_build = only_binary | opts.only_binary
    request = CompileRequest(
        roots=tuple(
            Root(requirement=r.requirement, origin=r.origin, link=r.link, editable=r.editable)
            for r in inputs.requirements
        ),
        matrix=matrix,
        options=ResolveOptions(
            pre=pre or opts.pre,
            resolution=resolution,  # type: ignore[arg-type]
            no_build=frozenset(no_build),
            no_binary=frozenset(no_binary | opts.no_binary),
        ),
        constraints=tuple(
            Root(requirement=r.requirement, origin=r.origin, link=r.link)
            for r in inputs.constraints
        ),
        overrides=tuple(
            Root(requirement=r.requirement, origin=r.origin) for r in inputs.overrides
        ),
        existing=tuple(existing.packages) if existing is not None else (),
        upgrade=upgrade,
        upgrade_packages=upgrade_packages,
        # Credentials authenticate this run but never go into the lock: sync
        # and pip get them again from pip.conf, netrc or a keyring.
        sources=Sources(
            index_url=strip_credentials(chosen_index) if chosen_index else chosen_index,
            extra_index_urls=tuple(strip_credentials(u) for u in extra),
            find_links=tuple(strip_credentials(u) for u in links),
            trusted_hosts=settings.trusted_hosts,
            no_index=opts.no_index,
        ),
        link_text=_link_text(inputs, output),
        meta={"command": command, "input_digest": input_digest(inputs)},
    )
    resolutions = 0
    if reporter is not None:
        reporter.start("Resolving", len(matrix))

    def on_fork(env: Environment, reused: bool) -> None:
        nonlocal resolutions
        if not reused:
            resolutions += 1
        if reporter is not None:
            reporter.advance(env.name, detail="same answers as an earlier one" if reused
                             else "resolved")

    render_options = RenderOptions(
        header=header,
        annotate=annotate if annotate is not None else True,
        annotation_style=(annotation_style or tool.annotation_style or "split"),  # type: ignore[arg-type]
        generate_hashes=generate_hashes or bool(tool.generate_hashes),
        emit_index_url=emit_index_url,
        emit_find_links=emit_find_links,
        allow_unsafe=bool(allow_unsafe if allow_unsafe is not None else tool.allow_unsafe),
        command=command,
    )
    reusable = not refresh and not any(r.link for r in (*request.roots, *request.constraints))

    def run(client: IndexClient) -> tuple[str, str]:
        memo = None
        if reusable:
            memo = memo_for(client.state_folder("memo"), [
                canonical(evolve(request, existing=())),
                _file_digest(output) if existing is not None else "no existing pins",
                canonical(render_options), output_format, output, canonical(tuple(groups)),
                canonical([settings.index_url, settings.extra_index_urls, settings.find_links,
                           settings.index_strategy, settings.exclude_newer,
                           settings.trusted_hosts]),
            ])
        if memo is not None:
            hit = memo.lookup(client)
            if hit is not None:
                text, summary = hit
                head = summary.partition(" (")[0]
                return text, f"{head} (inputs and index unchanged: reused the last resolution)"
        lock = compile_lock(request, client=client, on_fork=on_fork,
                            lookahead=not settings.offline)
        if output_format == "pylock":
            text = _render_pylock(lock, inputs, groups, render_options.allow_unsafe, output)
        else:
            text = render(lock, render_options)
        names = {p.name for p in lock.packages}
        summary = (
            f"Locked {len(names)} package{'s' if len(names) != 1 else ''} for {len(matrix)} "
            f"environment{'s' if len(matrix) != 1 else ''} ({resolutions} resolution"
            f"{'s' if resolutions != 1 else ''})"
        )
        if memo is not None:
            memo.store(client, text, summary)
        return text, summary

    if clients is not None:
        return run(clients.get(settings))
    with IndexClient(settings) as client:
        return run(client)


def _file_digest(path: str) -> str:
    """sha256 of a file's bytes (``"missing"`` when it cannot be read)."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return "missing"


def _render_pylock(
    lock: Lock, inputs: InputSet, groups: Sequence[str], allow_unsafe: bool, output: str
) -> str:
    """The lock as PEP 751 ``pylock.toml``; groups named with --group install by default."""
    roots: dict[str, list[Requirement]] = {}
    for r in inputs.requirements:
        roots.setdefault(r.origin, []).append(r.requirement)
    return render_pylock(lock, PylockOptions(
        default_groups=tuple(groups),
        allow_unsafe=allow_unsafe,
        root_requirements=roots,
        path=output,
    ))


def _link_text(inputs: InputSet, output: str) -> dict[str, str]:
    """Local paths the user wrote relative, as paths relative to the output's folder.

    Written with ``/`` and a leading ``./`` or ``../`` so pip reads them as
    paths and the lock is the same on every host.
    """
    # lazy: urllib.request pulls in much of the email package; few inputs are local links.
    from urllib.parse import unquote, urlsplit
    from urllib.request import url2pathname

    folder = (Path.cwd() if output == "-" else Path(output).absolute().parent)
    out: dict[str, str] = {}
    for r in inputs.requirements:
        if not (r.relative and r.link and r.link.startswith("file:")):
            continue
        target = Path(url2pathname(unquote(urlsplit(r.link).path)))
        text = Path(os.path.relpath(target, folder)).as_posix()
        out[r.link] = text if text.startswith("../") else f"./{text}"
    return out


def _unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


def _pyproject_for(sources: Sequence[str]) -> Optional[Path]:
    for s in sources:
        p = Path(s)
        if p.name == "pyproject.toml":
            return p
    return None


def _tool_exclude_newer(value: Optional[str]) -> Optional[datetime.datetime]:
    if not value:
        return None
    return parse_exclude_newer(value)
