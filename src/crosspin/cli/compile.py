"""``crosspin compile``: options in, lockfile out.

The command line, ``[tool.pip-tools]`` and the options the existing lock
was made with are laid over each other here (:mod:`crosspin.cli._layers`)
and become one :class:`~crosspin.settings.CompileOptions`;
:func:`crosspin.pipeline.run_compile` does the rest and returns the text
this module writes (atomically, with the asked line endings) and the
summary it prints.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import click

from crosspin import __version__
from crosspin.cli._compile_options import NOT_IN_HEADER, REMEMBERED, with_compile_options
from crosspin.cli._help import SectionedCommand
from crosspin.cli._layers import (
    config_values,
    crosspin_keys,
    format_command,
    format_options,
    given_params,
    layer,
    recorded_params,
)
from crosspin.cli._output import echo, report_ok, set_color, write_output
from crosspin.cli._piptools import check_refused, no_effect_notes, translate_pip_args
from crosspin.cli._progress import reporter
from crosspin.errors import UsageError
from crosspin.lockfiles import format_of, recorded_command
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
    ConfigChoice,
    IndexOptions,
    InputSelection,
    LockOutput,
    PipConfig,
    Tuning,
    binary_set,
    load_config,
    load_pip_config,
    parse_exclude_newer,
    parse_upgrade_packages,
    parse_uploaded_prior_to,
)

__all__ = ["compile_command", "compile_options"]

_EXAMPLES = (
    ("crosspin compile", "requirements.in -> requirements.txt for every default environment"),
    ("crosspin compile --python 3.12 --platform linux-x86_64",
     "one environment, like pip-compile on that machine"),
    ("crosspin compile -P requests", "upgrade one package; the lock's pins and options stay"),
    ("crosspin compile pyproject.toml --extra test -o requirements-test.txt", ""),
    ("crosspin compile pyproject.toml --all-groups -o pylock.toml", "a PEP 751 lock"),
    ("crosspin compile --check", "exit 1 if requirements.txt is stale (CI, pre-commit)"),
)

_NOTE = ("pip-tools options accepted without effect: --max-rounds, --reuse-hashes, "
         "--resolver backtracking; --pip-args is translated to the options above; "
         "--build-deps-for, --all-build-deps and --only-build-deps are refused (list build "
         "requirements in a dependency group and pass --group). "
         "Run again on an existing lock, compile keeps its pins and the options it was "
         "made with, unless given anew (--no-remember starts over).")


@click.command("compile", cls=SectionedCommand, examples=_EXAMPLES, note=_NOTE)
@click.argument("src_files", nargs=-1, type=click.Path())
@with_compile_options
@click.version_option(__version__, "--version", prog_name="crosspin",
                      help="Show the version and exit.")
@click.pass_context
def compile_command(ctx: click.Context, /, **kw: Any) -> None:
    """Resolve requirements for every environment of the matrix into one lock.

    SRC_FILES are requirements.in, pyproject.toml, setup.cfg or setup.py
    files ('-' reads stdin); default: requirements.in, else pyproject.toml.
    """
    given = given_params(ctx)
    set_color(given.get("color"))
    if "pip_args" in given:
        for name, value in translate_pip_args(given["pip_args"], compile_command).items():
            given.setdefault(name, value)
    check_refused(given)
    if kw["verbose"] and not kw["quiet"]:
        for note in no_effect_notes(given):
            echo(f"note: {note}")
    for option in ("build_deps_for", "all_build_deps", "only_build_deps"):
        if given.get(option):
            flag = "--" + option.replace("_", "-")
            raise UsageError(f"{flag}: crosspin does not lock build requirements",
                             hint="list them in a [dependency-groups] group and pass "
                                  "--group NAME")
    sources = list(given.get("src_files") or ())
    if len(sources) > 1 and "output_file" not in given and all(s.endswith(".in")
                                                              for s in sources):
        # Several .in files without -o: each compiles to its sibling .txt, in
        # dependency order (a file with '-c main.txt' after main.in), sharing
        # one index session. With -o they merge into one lock, as pip-compile.
        pool = ClientPool()
        try:
            for source in compile_order(sources):
                _compile_one(ctx, {**given, "src_files": (source,)}, pool)
        finally:
            pool.close()
        return
    _compile_one(ctx, given, None)


def compile_options(
    kw: Mapping[str, Any], sources: Sequence[str], output: str, *, command: str = "",
    environ: Mapping[str, str] | None = None,
) -> CompileOptions:
    """The :class:`CompileOptions` of the ``compile`` parameters in ``kw``.

    ``kw`` holds only the parameters something set (absent ones keep their
    defaults, or give way to ``[tool.crosspin]``). With ``environ``, pip's
    configuration (unless ``--isolated``) and the ``CROSSPIN_*`` variables
    are read from it; without, neither is.
    """
    no_build = frozenset({":all:"}) if kw.get("no_build") else frozenset()
    pip = PipConfig()
    if environ is not None and not kw.get("isolated"):
        pip = load_pip_config(environ)
    if kw.get("exclude_newer") and kw.get("uploaded_prior_to"):
        raise UsageError("--exclude-newer and --uploaded-prior-to say the same thing twice",
                         hint="give one of them")
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
            trusted_hosts=tuple(kw.get("trusted_hosts") or ()),
        ),
        index_strategy=kw.get("index_strategy") or "first-index",
        access=Access(cache_dir=kw.get("cache_dir"), no_cache=bool(kw.get("no_cache")),
                      offline=bool(kw.get("offline")),
                      refresh=bool(kw.get("refresh") or kw.get("rebuild")),
                      cert=kw.get("cert"), client_cert=kw.get("client_cert")),
        exclude_newer=(parse_exclude_newer(kw.get("exclude_newer"))
                       or parse_uploaded_prior_to(kw.get("uploaded_prior_to"))),
        cutoff=_cutoff_label(kw),
        no_index=bool(kw.get("no_index")),
        build_isolation=kw.get("build_isolation", True),
        lock_output=LockOutput(
            header=kw.get("header", True),
            annotate=kw.get("annotate"),
            annotation_style=kw.get("annotation_style"),
            generate_hashes=kw.get("generate_hashes"),
            strip_extras=kw.get("strip_extras", True),
            emit_options=kw.get("emit_options", True),
            emit_index_url=kw.get("emit_index_url", True),
            emit_find_links=kw.get("emit_find_links", True),
            emit_trusted_host=kw.get("emit_trusted_host", True),
            allow_unsafe=kw.get("allow_unsafe"),
            unsafe_packages=tuple(kw.get("unsafe_packages") or ()),
            custom_command=(environ or {}).get("CUSTOM_COMPILE_COMMAND", "").strip(),
        ),
        config=ConfigChoice(path=kw.get("config"), enabled=not kw.get("no_config")),
        pip=pip,
        tuning=Tuning.from_environ(environ) if environ is not None else Tuning(),
    )


def _cutoff_label(kw: Mapping[str, Any]) -> str:
    """The upload cut-off as the user gave it, for messages."""
    for name in ("exclude_newer", "uploaded_prior_to"):
        value = kw.get(name)
        if value and str(value).strip().lower() != "none":
            return f"--{name.replace('_', '-')} {value}"
    return ""


@attrs.frozen(kw_only=True)
class _Plan:
    """One compile's sources, output and laid-over parameters."""

    sources: tuple[str, ...]
    output: str
    values: dict[str, Any]
    command: str
    remembered: tuple[str, ...]
    warnings: tuple[str, ...]


def _plan(given: dict[str, Any]) -> _Plan:
    """Where the lock goes, what it is made from, and every option (given, configured, kept)."""
    sources = list(given.get("src_files") or ())
    output = given.get("output_file")
    if output is None and sources:
        output = "pylock.toml" if given.get("output_format") == "pylock" else (
            default_output(sources))
    candidate = output or ("pylock.toml" if given.get("output_format") == "pylock"
                           else "requirements.txt")
    recorded: dict[str, Any] = {}
    if not given.get("no_remember"):
        command = recorded_command(candidate, given.get("output_format"))
        if command is not None:
            recorded = recorded_params(compile_command, command, REMEMBERED)
    if not sources:
        sources = list(recorded.get("src_files") or ()) or _default_sources()
    if output is None:
        output = candidate if recorded else (
            "pylock.toml" if given.get("output_format") == "pylock" else default_output(sources))
    choice_from = given if ("config" in given or "no_config" in given) else recorded
    config = load_config(sources, ConfigChoice(path=choice_from.get("config"),
                                               enabled=not choice_from.get("no_config")),
                         "compile")
    from_config = config_values(compile_command, config.piptools, config.piptools_label,
                                other=_sync_command()) if config.piptools else {}
    _drop_other_cutoff(given, from_config, recorded)
    layered = layer(given, config=from_config, recorded=recorded,
                    settled=crosspin_keys(config.crosspin))
    command = format_command(compile_command, layered.recorded, output=output, sources=sources,
                             exclude=NOT_IN_HEADER)
    return _Plan(sources=tuple(sources), output=output, values=layered.values, command=command,
                 remembered=layered.remembered, warnings=config.warnings)


def _drop_other_cutoff(given: Mapping[str, Any], *lower: dict[str, Any]) -> None:
    """``--exclude-newer`` and ``--uploaded-prior-to`` are one setting: a new one replaces both."""
    for name, other in (("exclude_newer", "uploaded_prior_to"),
                        ("uploaded_prior_to", "exclude_newer")):
        if name in given:
            for values in lower:
                values.pop(other, None)


def _sync_command() -> list[click.Command]:
    # lazy: the sync command's module is only needed to tell its config keys apart.
    from crosspin.cli.sync import sync_command

    return [sync_command]


def _default_sources() -> list[str]:
    for candidate in ("requirements.in", "pyproject.toml", "setup.cfg", "setup.py"):
        if Path(candidate).exists():
            return [candidate]
    raise UsageError(
        "no input given and no requirements.in or pyproject.toml here",
        hint="create requirements.in with one requirement per line (e.g. requests), or name "
             "your input: crosspin compile pyproject.toml",
    )


def _check_stdin(sources: Sequence[str], output: str | None) -> None:
    """Reading the source ``-`` (stdin) needs an output file to write to."""
    if "-" in sources and output is None:
        raise UsageError("reading requirements from stdin needs --output-file",
                         hint="e.g. crosspin compile - -o requirements.txt")


def _compile_one(ctx: click.Context, given: dict[str, Any], pool: ClientPool | None) -> None:
    _check_stdin(given.get("src_files") or (), given.get("output_file"))
    plan = _plan(given)
    values, quiet = plan.values, bool(given.get("quiet"))
    for warning in plan.warnings:
        echo(f"warning: {warning}")
    shown = format_options(compile_command, {n: values[n] for n in plan.remembered},
                           exclude=NOT_IN_HEADER)
    if shown and not quiet and not given.get("check_only"):
        echo(f"note: using the options {plan.output} was made with: {' '.join(shown)}")
    if given.get("check_only"):
        options = compile_options(values, plan.sources, plan.output, environ=os.environ)
        loaded = check_compile_inputs(options, no_build=bool(values.get("no_build")))
        report_ok(loaded, None, quiet)
        return
    options = compile_options(values, plan.sources, plan.output, command=plan.command,
                              environ=os.environ)
    started = time.perf_counter()
    with reporter(quiet=quiet, verbose=int(given.get("verbose") or 0)) as progress:
        result = run_compile(options, reporter=progress, clients=pool)
    for message, hint in result.warnings:
        echo(f"warning: {message}")
        echo(f"hint: {hint}")
    if plan.output == "-" or given.get("dry_run"):
        click.echo(result.text, nl=False)
    else:
        newline = _newline(values.get("newline") or "preserve", plan.output, plan.sources)
        write_output(Path(plan.output), result.text, newline=newline)
    if not quiet:
        elapsed = time.perf_counter() - started
        # "Locked 152 packages for 30 environments in 0.41 s (12 resolutions)"
        head, _, tail = result.summary.partition(" (")
        if pool is not None:
            head = f"{plan.output}: {head}"
        echo(f"{head} in {elapsed:.2f} s" + (f" ({tail}" if tail else ""))
        if given.get("dry_run"):
            echo("Dry-run, so nothing updated.")


def _newline(choice: str, output: str, sources: Sequence[str]) -> str:
    """pip-tools' rule: ``preserve`` = the existing lock's line ending, else the first input's."""
    if choice == "lf":
        return "\n"
    if choice == "crlf":
        return "\r\n"
    if choice == "native":
        return os.linesep
    for path in (output, *sources[:1]):
        try:
            with open(path, "rb") as fh:
                head = fh.read(65536)
        except OSError:
            continue
        if b"\n" in head:
            return "\r\n" if head.split(b"\n", 1)[0].endswith(b"\r") else "\n"
    return "\n"
