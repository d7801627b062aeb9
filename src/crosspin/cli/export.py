"""``crosspin export``: one environment's pins of a lock as a flat requirements file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from crosspin.cli._options import index_command_line, lock_settings, with_index_options
from crosspin.cli._output import write_output
from crosspin.environments import Environment, Platform
from crosspin.errors import MatrixError, UsageError
from crosspin.index import IndexClient
from crosspin.lockfiles import read_lock
from crosspin.pipeline import file_sha256s
from crosspin.sync import export_requirements

__all__ = ["export_command"]


@click.command("export")
@click.argument("lock", type=click.Path(dir_okay=False), default="requirements.txt")
@click.option("--python", "python", required=True,
              help="Python version, e.g. 3.12 (3.9.1 where a minor is split).")
@click.option("--platform", "platform", required=True, help="Platform, e.g. linux-x86_64.")
@click.option("-o", "--output-file", default="-", help="Where to write (default: stdout).")
@click.option("--generate-hashes", is_flag=True, help="Write hashes even if the lock has none.")
@with_index_options
def export_command(
    lock: str, python: str, platform: str, output_file: str, generate_hashes: bool,
    **index: Any,
) -> None:
    """Write one environment's pins as a flat requirements file (no markers)."""
    data = read_lock(Path(lock))
    plat = Platform.from_name(platform)
    parts = python.strip().split(".")
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
        raise UsageError(f"--python {python!r}: give a version such as 3.12 or 3.9.1")
    minor = (int(parts[0]), int(parts[1]))
    env: Environment | None
    if data.matrix is None:
        env = Environment(python=minor, platform=plat)
    else:
        # A minor split at a patch boundary (3.9.0-3.9.1, 3.9.2+): 3.9.1 names
        # its part, a bare 3.9 the newest part.
        matching = [e for e in data.matrix.environments
                    if e.python == minor and e.platform.name == plat.name
                    and (len(parts) == 2 or int(parts[2]) in e.patches)]
        env = max(matching, key=lambda e: e.patch_floor, default=None)
        if env is None:
            raise MatrixError(f"{python}-{plat.name}", data.matrix.describe())
    settings = lock_settings(data.sources, index_command_line(index))
    header = (f"This file is exported by crosspin from {lock} for {env.name}\n"
              f"by: crosspin export {lock} --python {python} --platform {platform}")
    with IndexClient(settings) as client:
        text = export_requirements(
            data, env, client, generate_hashes=generate_hashes, header=header,
            hash_files=lambda files: file_sha256s(files, client))
    if output_file == "-":
        click.echo(text, nl=False)
    else:
        write_output(Path(output_file), text)
