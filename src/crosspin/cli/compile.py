"""``crosspin compile``: options in, lockfile out.

The options become one :class:`~crosspin.settings.CompileOptions` here;
:func:`crosspin.pipeline.run_compile` does the rest and returns the text
this module writes (atomically) and the summary it prints.
"""

from __future__ import annotations

import os
import shlex
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import click

from crosspin.cli._output import report_ok, write_output
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
from crosspin.settings import (
    Access,
    CompileOptions,
    IndexOptions,
    InputSelection,
    LockOutput,
    PipConfig,
    Tuning,
    binary_set,
    load_pip_config,
    parse_exclude_newer,
    parse_upgrade_packages,
)

__all__ = ["compile_command", "compile_options"]

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


def compile_options(
    kw: Mapping[str, Any], sources: Sequence[str], output: str, *, command: str = "",
    environ: Mapping[str, str] | None = None,
) -> CompileOptions:
    """The :class:`CompileOptions` of parsed ``compile`` parameters.

    With ``environ``, pip's configuration (unless ``--isolated``) and the
    ``CROSSPIN_*`` variables are read from it; without, neither is.
    """
    no_build = frozenset({":all:"}) if kw.get("no_build") else frozenset()
    pip = PipConfig()
    if environ is not None and not kw.get("isolated"):
        pip = load_pip_config(environ)
    return CompileOptions(
        sources=tuple(sources),
        output=output,
        output_format=kw.get("output_format") or format_of(output),
        command=command or "crosspin compile",
        selection=InputSelection(
            constraints=tuple(kw.get("constraints") or ()),
            overrides=tuple(kw.get("overrides") or ()),
            extras=tuple(kw.get("extras") or ()),
            all_extras=bool(kw.get("all_extras")),
            groups=tuple(kw.get("groups") or ()),
            all_groups=bool(kw.get("all_groups")),
        ),
        python=kw.get("python"),
        platforms=tuple(kw.get("platforms") or ()),
        upgrade=bool(kw.get("upgrade")),
        upgrade_packages=parse_upgrade_packages(kw.get("upgrade_packages") or ()),
        pre=bool(kw.get("pre")),
        resolution=kw.get("resolution") or "highest",
        only_binary=binary_set(kw.get("only_binary") or ()) | no_build,
        no_binary=binary_set(kw.get("no_binary") or ()),
        index=IndexOptions(
            index_url=kw.get("index_url"),
            extra_index_urls=tuple(kw.get("extra_index_urls") or ()),
            find_links=tuple(kw.get("find_links") or ()),
        ),
        index_strategy=kw.get("index_strategy") or "first-index",
        access=Access(cache_dir=kw.get("cache_dir"), no_cache=bool(kw.get("no_cache")),
                      offline=bool(kw.get("offline")), refresh=bool(kw.get("refresh"))),
        exclude_newer=parse_exclude_newer(kw.get("exclude_newer")),
        lock_output=LockOutput(
            header=kw.get("header", True),
            annotate=kw.get("annotate"),
            annotation_style=kw.get("annotation_style"),
            generate_hashes=bool(kw.get("generate_hashes")),
            emit_index_url=kw.get("emit_index_url", True),
            emit_find_links=kw.get("emit_find_links", True),
            allow_unsafe=kw.get("allow_unsafe"),
        ),
        pip=pip,
        tuning=Tuning.from_environ(environ) if environ is not None else Tuning(),
    )


def _compile_one(
    ctx: click.Context, sources: list[str], output_file: str | None, kw: dict[str, Any],
    pool: ClientPool | None,
) -> None:
    output = output_file or (
        "pylock.toml" if kw["output_format"] == "pylock" else default_output(sources)
    )
    if kw["check_only"]:
        options = compile_options(kw, sources, output)
        options = attrs.evolve(options, tuning=Tuning.from_environ(os.environ))
        loaded = check_compile_inputs(options, no_build=bool(kw.get("no_build")))
        report_ok(loaded, None, bool(kw.get("quiet")))
        return
    command = _normalised_command(ctx, output, sources)
    options = compile_options(kw, sources, output, command=command, environ=os.environ)
    started = time.perf_counter()
    with reporter(quiet=kw["quiet"], verbose=kw["verbose"]) as progress:
        result = run_compile(options, reporter=progress, clients=pool)
    if output == "-" or kw["dry_run"]:
        click.echo(result.text, nl=False)
    else:
        write_output(Path(output), result.text)
    if not kw["quiet"]:
        elapsed = time.perf_counter() - started
        # "Locked 152 packages for 30 environments in 0.41 s (12 resolutions)"
        head, _, tail = result.summary.partition(" (")
        if pool is not None:
            head = f"{output}: {head}"
        click.echo(f"{head} in {elapsed:.2f} s" + (f" ({tail}" if tail else ""), err=True)
        if kw["dry_run"]:
            click.echo("Dry-run, so nothing updated.", err=True)
