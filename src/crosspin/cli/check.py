"""``crosspin check``: exit 1 when a lock is stale or inconsistent (:mod:`crosspin.pipeline`)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from crosspin.cli._layers import given_params
from crosspin.cli._output import report_ok
from crosspin.cli.compile import compile_command, compile_options
from crosspin.lockfiles import load_lock
from crosspin.pipeline import check_consistency, check_stale
from crosspin.settings import Access, CompileOptions, Tuning

__all__ = ["check_command"]


def _parse_compile_args(args: list[str]) -> CompileOptions:
    """A recorded ``crosspin compile`` command line, parsed as compile would parse it."""
    ctx = compile_command.make_context("compile", args, resilient_parsing=True)
    given = given_params(ctx)
    return compile_options(given, given.get("src_files") or (), given.get("output_file") or "")


@click.command("check")
@click.argument("lockfile", required=False, default="requirements.txt",
                type=click.Path(dir_okay=False))
@click.option("--offline", is_flag=True, help="Use only the cache; never the network.")
@click.option("--cache-dir", type=click.Path(file_okay=False), help="Cache location.")
@click.option("--no-build", is_flag=True, help="Count sdist-only pins as not installable.")
@click.option("--skip-inputs", is_flag=True, help="Do not compare the inputs' digest.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing when the lock is fine.")
def check_command(lockfile: str, offline: bool, cache_dir: str | None, no_build: bool,
                  skip_inputs: bool, quiet: bool) -> None:
    """Exit 1 if LOCKFILE is stale (its inputs changed) or inconsistent.

    Inconsistent means some environment of its matrix is not closed (a
    dependency is missing or at the wrong version) or has a pin with no
    installable file. Metadata comes from the index cache when it can.
    """
    loaded = load_lock(Path(lockfile))
    note = None if skip_inputs else check_stale(loaded, _parse_compile_args)
    check_consistency(loaded, access=Access(offline=offline, cache_dir=cache_dir),
                      no_build=no_build, tuning=Tuning.from_environ(os.environ))
    report_ok(loaded, note if not skip_inputs else None, quiet)
