"""``crosspin compile``: options in, lockfile out.

Parsing options and turning them into a :class:`~crosspin.pipeline.CompileRequest`
happens here; resolving happens in :mod:`crosspin.pipeline`.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

import click

from crosspin.cli._output import report_ok, write_atomically
from crosspin.cli._progress import reporter
from crosspin.errors import UsageError
from crosspin.index import redact
from crosspin.lockfiles import format_of
from crosspin.pipeline import (
    ClientPool,
    check_compile_inputs,
    compile_order,
    default_output,
    run_compile,
)
from crosspin.settings import binary_set, parse_exclude_newer, parse_upgrade_packages

__all__ = ["compile_command"]

_RESOLUTIONS = ("highest", "lowest", "lowest-direct")

#: Options that never appear in the header's command line (pip-compile too).
_NOT_IN_HEADER = {
    "upgrade", "upgrade_packages", "dry_run", "cache_dir", "offline", "refresh",
    "verbose", "quiet", "output_file", "src_files", "no_cache", "isolated", "check_only",
}


def _normalised_command(ctx: click.Context, output: str, sources: Sequence[str]) -> str:
    parts = ["crosspin", "compile"]
    opts: list[str] = []
    for param in ctx.command.params:
        if not isinstance(param, click.Option) or param.name in _NOT_IN_HEADER:
            continue
        value = ctx.params.get(param.name or "")
        source = ctx.get_parameter_source(param.name or "")
        if source is not click.core.ParameterSource.COMMANDLINE:
            continue
        flag = max(param.opts, key=len)
        if param.is_flag:
            if param.secondary_opts and not value:
                flag = max(param.secondary_opts, key=len)
            opts.append(flag)
        elif isinstance(value, (tuple, list)):
            opts.extend(f"{flag}={redact(str(v))}" for v in value)
        elif value is not None:
            opts.append(f"{flag}={redact(str(value))}")
    parts.extend(sorted(opts))
    parts.append(f"--output-file={output}")
    parts.extend(sources)
    return " ".join(_quote(p) for p in parts)


def _quote(part: str) -> str:
    return shlex.quote(part) if any(c in part for c in " <>;'\"|&*") else part


def _default_sources() -> list[str]:
    for candidate in ("requirements.in", "pyproject.toml", "setup.cfg", "setup.py"):
        if Path(candidate).exists():
            return [candidate]
    raise UsageError(
        "no input given and no requirements.in or pyproject.toml here",
        hint="run 'crosspin compile requirements.in' or create one",
    )


@click.command("compile")
@click.argument("src_files", nargs=-1, type=click.Path())
@click.option("-o", "--output-file", help="Where to write the lock ('-' for stdout).")
@click.option("--format", "output_format", type=click.Choice(["requirements", "pylock"]),
              default=None, help="Lock format; default: pylock for pylock[.NAME].toml outputs.")
@click.option("--python", "python", help="Python versions: 3.12, 3.10,3.12 or '>=3.9,<3.15'.")
@click.option("--platform", "platforms", multiple=True,
              help="Target platform (repeatable): linux-x86_64, linux-aarch64, macos-arm64, "
                   "macos-x86_64, windows-x86_64, windows-arm64.")
@click.option("-U", "--upgrade", is_flag=True, help="Ignore existing pins: take the newest.")
@click.option("-P", "--upgrade-package", "upgrade_packages", multiple=True,
              help="Upgrade one package (NAME or NAME<SPEC); repeatable.")
@click.option("--generate-hashes", is_flag=True, help="Add --hash lines for every locked file.")
@click.option("--annotate/--no-annotate", default=None, help="Add '# via' comments.")
@click.option("--annotation-style", type=click.Choice(["split", "line"]), default=None)
@click.option("--header/--no-header", default=True, help="Write the header comment.")
@click.option("--emit-index-url/--no-emit-index-url", default=True)
@click.option("--emit-find-links/--no-emit-find-links", default=True)
@click.option("--allow-unsafe", is_flag=True, default=None,
              help="Pin pip, setuptools and distribute too.")
@click.option("--dry-run", is_flag=True, help="Print the lock; write nothing.")
@click.option("--check", "check_only", is_flag=True,
              help="Resolve nothing, write nothing: exit 1 if the lock is stale (its inputs "
                   "changed) or inconsistent (see 'crosspin check').")
@click.option("-i", "--index-url", help="Base URL of the package index.")
@click.option("--extra-index-url", "extra_index_urls", multiple=True)
@click.option("-f", "--find-links", "find_links", multiple=True)
@click.option("--index-strategy", type=click.Choice(["first-index", "unsafe-best-match"]),
              default="first-index", help="Whether later indexes may serve names found earlier.")
@click.option("--pre", is_flag=True, help="Allow prereleases.")
@click.option("--resolution", type=click.Choice(_RESOLUTIONS), default="highest")
@click.option("--only-binary", "only_binary", multiple=True,
              help="Never use sdists of these (':all:' for all).")
@click.option("--no-binary", "no_binary", multiple=True,
              help="Never use wheels of these (':all:' for all).")
@click.option("--no-build", is_flag=True, help="Never build sdists (same as --only-binary :all:).")
@click.option("-c", "--constraint", "constraints", multiple=True, type=click.Path(dir_okay=False))
@click.option("--override", "overrides", multiple=True, type=click.Path(dir_okay=False))
@click.option("--extra", "extras", multiple=True, help="Include an optional-dependencies extra.")
@click.option("--all-extras", is_flag=True)
@click.option("--group", "groups", multiple=True, help="Include a [dependency-groups] group.")
@click.option("--all-groups", is_flag=True)
@click.option("--cache-dir", type=click.Path(file_okay=False), help="Cache location.")
@click.option("--no-cache", is_flag=True, help="Do not read or write the disk cache.")
@click.option("--offline", is_flag=True, help="Use only the cache; never the network.")
@click.option("--refresh", is_flag=True, help="Revalidate nothing from the cache: fetch anew.")
@click.option("--exclude-newer", help="Ignore files uploaded after this date/time (UTC).")
@click.option("--isolated", is_flag=True,
              help="Ignore pip's configuration files and PIP_* variables.")
@click.option("-v", "--verbose", count=True)
@click.option("-q", "--quiet", is_flag=True)
@click.pass_context
def compile_command(ctx: click.Context, /, **kw: Any) -> None:
    """Resolve requirements for every environment of the matrix into one lock."""
    sources = list(kw["src_files"]) or _default_sources()
    if len(sources) > 1 and not kw["output_file"] and all(s.endswith(".in") for s in sources):
        # Several .in files without -o: each compiles to its sibling .txt, in
        # dependency order (a file with '-c main.txt' after main.in), sharing
        # one index session. With -o they merge into one lock, as pip-compile.
        pool = ClientPool()
        try:
            for source in compile_order(sources):
                _compile_one(ctx, [source], None, kw, pool)
        finally:
            pool.close()
        return
    _compile_one(ctx, sources, kw["output_file"], kw, None)


def _compile_one(
    ctx: click.Context, sources: list[str], output_file: Optional[str], kw: dict[str, Any],
    pool: Any,
) -> None:
    output = output_file or (
        "pylock.toml" if kw["output_format"] == "pylock" else default_output(sources)
    )
    if kw["check_only"]:
        loaded = check_compile_inputs(output, sources, kw)
        report_ok(loaded, None, bool(kw.get("quiet")))
        return
    command = _normalised_command(ctx, output, sources)
    started = time.perf_counter()
    with reporter(quiet=kw["quiet"], verbose=kw["verbose"]) as progress:
        text, summary = _run(run_compile, progress, sources, output, command, kw, pool)
    if output == "-" or kw["dry_run"]:
        click.echo(text, nl=False)
    else:
        write_atomically(Path(output), text)
    if not kw["quiet"]:
        elapsed = time.perf_counter() - started
        # "Locked 152 packages for 30 environments in 0.41 s (12 resolutions)"
        head, _, tail = summary.partition(" (")
        if pool is not None:
            head = f"{output}: {head}"
        click.echo(f"{head} in {elapsed:.2f} s" + (f" ({tail}" if tail else ""), err=True)
        if kw["dry_run"]:
            click.echo("Dry-run, so nothing updated.", err=True)


def _run(run_compile: Any, progress: Any, sources: list[str], output: str, command: str,
         kw: dict[str, Any], pool: Any = None) -> tuple[str, str]:
    output_format = kw["output_format"] or format_of(output)
    return run_compile(  # type: ignore[no-any-return]
        reporter=progress,
        clients=pool,
        sources=sources,
        output=output,
        command=command,
        python=kw["python"],
        platforms=kw["platforms"],
        upgrade=kw["upgrade"],
        upgrade_packages=parse_upgrade_packages(kw["upgrade_packages"]),
        generate_hashes=kw["generate_hashes"],
        annotate=kw["annotate"],
        annotation_style=kw["annotation_style"],
        header=kw["header"],
        emit_index_url=kw["emit_index_url"],
        emit_find_links=kw["emit_find_links"],
        allow_unsafe=kw["allow_unsafe"],
        index_url=kw["index_url"],
        extra_index_urls=kw["extra_index_urls"],
        find_links=kw["find_links"],
        index_strategy=kw["index_strategy"],
        pre=kw["pre"],
        resolution=kw["resolution"],
        only_binary=binary_set(kw["only_binary"]) | (frozenset({":all:"}) if kw["no_build"]
                                                      else frozenset()),
        no_binary=binary_set(kw["no_binary"]),
        constraints=kw["constraints"],
        overrides=kw["overrides"],
        extras=kw["extras"],
        all_extras=kw["all_extras"],
        groups=kw["groups"],
        all_groups=kw["all_groups"],
        cache_dir=kw["cache_dir"],
        no_cache=kw["no_cache"],
        offline=kw["offline"],
        refresh=kw["refresh"],
        exclude_newer=parse_exclude_newer(kw["exclude_newer"]),
        isolated=kw["isolated"],
        verbose=kw["verbose"],
        output_format=output_format,
    )
