"""One compile's settings: the command line over the input files, ``[tool.crosspin]`` and pip.

The CLI parses ``crosspin compile``'s options into a :class:`CompileOptions`
(``None``/empty where an option was not given); :func:`compile_settings`
lays it over the options written inside the input files, the
``[tool.crosspin]`` table and pip's configuration, highest first, and
returns the frozen :class:`CompileSettings` the pipeline runs on. This is
the only place that precedence is written.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

import attrs
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from crosspin.index import IndexSettings, IndexStrategy, strip_credentials
from crosspin.inputs import InputOptions, InputSet, read_inputs
from crosspin.lock import UNSAFE_PACKAGES, Sources
from crosspin.lockfiles import LockFormat
from crosspin.lockfiles.requirements import RenderOptions
from crosspin.metadata import BuildSettings
from crosspin.resolver import Resolution, ResolveOptions
from crosspin.settings._build import build_settings
from crosspin.settings._config import ConfigChoice
from crosspin.settings._index import Access, IndexOptions, first_index_url, index_settings
from crosspin.settings._parse import parse_exclude_newer
from crosspin.settings._pip import PipConfig
from crosspin.settings._tool import ToolConfig
from crosspin.settings._tuning import Tuning

__all__ = ["CompileOptions", "CompileSettings", "InputSelection", "LockOutput", "compile_settings"]


@attrs.frozen(kw_only=True)
class InputSelection:
    """Which inputs beyond the sources: constraints, overrides, extras and groups."""

    constraints: tuple[str, ...] = ()
    overrides: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()
    all_extras: bool = False
    groups: tuple[str, ...] = ()
    all_groups: bool = False

    def read(
        self,
        sources: Sequence[str],
        *,
        build: Callable[[InputOptions], BuildSettings] | None = None,
        log: Callable[[str], None] | None = None,
    ) -> InputSet:
        """Read ``sources`` with this selection (see :func:`crosspin.inputs.read_inputs`).

        ``build`` gives the settings a dynamic project is built with, ``log``
        the lines ``-v`` shows.
        """
        return read_inputs(
            [Path(s) for s in sources],
            constraints=[Path(c) for c in self.constraints],
            overrides=[Path(o) for o in self.overrides],
            extras=self.extras,
            all_extras=self.all_extras,
            groups=self.groups,
            all_groups=self.all_groups,
            build=build,
            log=log,
        )


@attrs.frozen(kw_only=True)
class LockOutput:
    """How the requirements.txt is written, as the command line says (``None``: not given).

    ``unsafe_packages`` empty means pip-compile's set (distribute, pip,
    setuptools); ``custom_command`` is ``CUSTOM_COMPILE_COMMAND``.
    """

    header: bool = True
    annotate: bool | None = None
    annotation_style: Literal["split", "line"] | None = None
    generate_hashes: bool | None = None
    strip_extras: bool = True
    emit_options: bool = True
    emit_index_url: bool = True
    emit_find_links: bool = True
    emit_trusted_host: bool = True
    allow_unsafe: bool | None = None
    unsafe_packages: tuple[str, ...] = ()
    custom_command: str = ""


@attrs.frozen(kw_only=True)
class CompileOptions:
    """One ``crosspin compile`` as its command line asks for it.

    ``command`` is the normalised command line the header records;
    ``pip`` is pip's configuration (empty with ``--isolated``) and
    ``tuning`` the ``CROSSPIN_*`` variables, both read by the caller.
    ``config`` says which configuration file to read; ``no_index`` uses find-links only;
    ``build_isolation`` off reads metadata in crosspin's own environment.
    ``cutoff`` is ``exclude_newer`` as given (``--exclude-newer 2024-01-01``).
    """

    sources: tuple[str, ...]
    output: str
    output_format: LockFormat = "requirements"
    command: str = "crosspin compile"
    selection: InputSelection = InputSelection()
    python: str | None = None
    platforms: tuple[str, ...] = ()
    upgrade: bool = False
    upgrade_packages: tuple[Requirement, ...] = ()
    pre: bool = False
    resolution: Resolution = "highest"
    only_binary: frozenset[str] = frozenset()
    no_binary: frozenset[str] = frozenset()
    index: IndexOptions = IndexOptions()
    index_strategy: IndexStrategy = "first-index"
    access: Access = Access()
    exclude_newer: datetime.datetime | None = None
    cutoff: str = ""
    no_index: bool = False
    build_isolation: bool = True
    lock_output: LockOutput = LockOutput()
    config: ConfigChoice = ConfigChoice()
    pip: PipConfig = PipConfig()
    tuning: Tuning = Tuning()


@attrs.frozen(kw_only=True)
class CompileSettings:
    """What one compile runs with, every level of configuration applied.

    ``sources`` are the index options the lock records (credentials
    stripped: sync and pip get them again from pip.conf, netrc or a
    keyring); ``index`` is how this run reaches the indexes.
    """

    index: IndexSettings
    #: How sdists and local projects are built: the same indexes, the CROSSPIN_* bounds.
    build: BuildSettings
    sources: Sources
    python: str | None
    platforms: tuple[str, ...]
    resolve: ResolveOptions
    render: RenderOptions


def compile_settings(
    options: CompileOptions, files: InputOptions, tool: ToolConfig
) -> CompileSettings:
    """Lay the command line over the input files' options, ``[tool.crosspin]`` and pip.

    Precedence, highest first: command line, options inside requirement
    files, ``[tool.crosspin]``, pip's configuration, defaults. (The CLI
    fills options not given from ``[tool.pip-tools]`` and from the options
    the existing lock records, below ``[tool.crosspin]``.) ``--no-index``
    on the command line or in an input file leaves only find-links (and
    direct references); so does pip's ``no-index`` unless the command line
    names an ``--index-url``.
    """
    no_index = options.no_index or files.no_index or (
        options.pip.no_index and not options.index.index_url)
    levels = [
        options.index,
        IndexOptions(index_url=files.index_url, extra_index_urls=files.extra_index_urls,
                     find_links=files.find_links, trusted_hosts=files.trusted_hosts),
        IndexOptions(index_url=tool.index_url, extra_index_urls=tool.extra_index_urls,
                     find_links=tool.find_links),
    ]
    index = index_settings(
        levels,
        no_index=no_index,
        pip=options.pip,
        access=options.access,
        tuning=options.tuning,
        strategy=options.index_strategy,
        exclude_newer=options.exclude_newer or parse_exclude_newer(tool.exclude_newer),
    )
    every = [*levels, IndexOptions.from_pip(options.pip)]
    chosen = "" if no_index else first_index_url(every)
    output = options.lock_output
    return CompileSettings(
        index=index,
        build=build_settings(index, options.tuning),
        sources=Sources(
            index_url=strip_credentials(chosen) if chosen else chosen,
            extra_index_urls=tuple(strip_credentials(u) for u in index.extra_index_urls),
            find_links=tuple(strip_credentials(u) for u in index.find_links),
            trusted_hosts=index.trusted_hosts,
            no_index=no_index,
        ),
        python=options.python or tool.python,
        platforms=options.platforms or tool.platforms,
        resolve=ResolveOptions(
            pre=options.pre or files.pre,
            resolution=options.resolution,
            no_build=frozenset(options.only_binary | files.only_binary),
            no_binary=frozenset(options.no_binary | files.no_binary),
        ),
        render=RenderOptions(
            header=output.header,
            annotate=output.annotate if output.annotate is not None else True,
            annotation_style=output.annotation_style or tool.annotation_style or "split",
            generate_hashes=bool(
                output.generate_hashes if output.generate_hashes is not None
                else tool.generate_hashes
            ),
            strip_extras=output.strip_extras,
            emit_options=output.emit_options,
            emit_index_url=output.emit_index_url,
            emit_find_links=output.emit_find_links,
            emit_trusted_host=output.emit_trusted_host,
            allow_unsafe=bool(
                output.allow_unsafe if output.allow_unsafe is not None else tool.allow_unsafe
            ),
            unsafe_packages=(frozenset(canonicalize_name(n) for n in output.unsafe_packages)
                             or UNSAFE_PACKAGES),
            only_binary=frozenset(options.only_binary | files.only_binary),
            no_binary=frozenset(options.no_binary | files.no_binary),
            command=options.command,
            custom_command=output.custom_command,
        ),
    )
