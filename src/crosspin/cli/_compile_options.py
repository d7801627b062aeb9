"""``crosspin compile``'s options: every pip-compile 7.6 option plus crosspin's own, by section.

The table is data so that the command, the header's command line, the
options a lock remembers and the ``[tool.pip-tools]`` keys all read it:
:data:`REMEMBERED` are the parameters a bare rerun takes from the lock's
recorded command; :data:`NOT_IN_HEADER` never appear in that command.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

import click

from crosspin.cli._help import option
from crosspin.cli._options import TRUST_OPTIONS

__all__ = ["NOT_IN_HEADER", "REMEMBERED", "with_compile_options"]

_F = TypeVar("_F", bound=Callable[..., Any])

_PLATFORMS = ("linux-x86_64, linux-aarch64, macos-arm64, macos-x86_64, windows-x86_64, "
              "windows-arm64")

#: Parameters a bare ``crosspin compile`` takes from the lock it rewrites
#: (the matrix, the output's form, the resolution's rules, the inputs, the
#: indexes), unless given anew. Upgrades, checks, messages, the cache and
#: this machine's paths (``--cert``) are given anew on every run.
REMEMBERED = frozenset({
    "python", "platforms", "output_format", "generate_hashes", "annotate", "annotation_style",
    "strip_extras", "header", "emit_options", "emit_index_url", "emit_find_links",
    "emit_trusted_host", "allow_unsafe", "unsafe_packages", "newline", "pre", "resolution",
    "exclude_newer", "uploaded_prior_to", "only_binary", "no_binary", "no_build",
    "build_isolation", "constraints", "overrides", "extras", "all_extras", "groups",
    "all_groups", "build_deps_for", "all_build_deps", "only_build_deps", "index_url",
    "extra_index_urls", "find_links", "no_index", "index_strategy", "trusted_hosts",
    "isolated", "config", "no_config",
})

#: Parameters never written in the header's command line (pip-compile leaves
#: out the same kind: upgrades, dry runs, the cache, verbosity).
NOT_IN_HEADER = frozenset({
    "upgrade", "upgrade_packages", "dry_run", "cache_dir", "offline", "refresh", "rebuild",
    "verbose", "quiet", "color", "output_file", "src_files", "no_cache", "check_only",
    "cert", "client_cert", "no_remember", "max_rounds", "reuse_hashes", "resolver", "pip_args",
})

_MATRIX, _INPUTS, _OUTPUT = "Matrix", "Inputs", "Output"
_UPGRADE, _RESOLUTION, _INDEXES = "Upgrading", "Resolution", "Indexes"
_CACHE, _CHECK, _CONFIG, _MESSAGES = "Cache and network", "Checking", "Configuration", "Messages"

_OPTIONS = [
    # Matrix
    option(_MATRIX, "--python", "python", metavar="VERSIONS",
           help="Python versions: 3.12, 3.10,3.12 or '>=3.9,<3.15'.",
           show_default="every CPython 3.9-3.14 the project's requires-python admits"),
    option(_MATRIX, "--platform", "platforms", multiple=True, metavar="NAME",
           help=f"Target platform (repeatable): {_PLATFORMS}.",
           show_default="the first five"),
    # Inputs
    option(_INPUTS, "--extra", "extras", multiple=True, metavar="NAME",
           help="Include an optional-dependencies extra (repeatable)."),
    option(_INPUTS, "--all-extras/--no-all-extras", default=False,
           help="Include every extra."),
    option(_INPUTS, "--group", "groups", multiple=True, metavar="NAME",
           help="Include a [dependency-groups] group (repeatable)."),
    option(_INPUTS, "--all-groups/--no-all-groups", default=False,
           help="Include every dependency group."),
    option(_INPUTS, "-c", "--constraint", "constraints", multiple=True, metavar="FILE",
           type=click.Path(dir_okay=False),
           help="Constrain versions with FILE's lines (repeatable)."),
    option(_INPUTS, "--override", "overrides", multiple=True, metavar="FILE",
           type=click.Path(dir_okay=False),
           help="Replace the requirements on a package with FILE's lines (repeatable)."),
    # pip-compile's build-requirement options: refused (hidden), see the note.
    option(_INPUTS, "--build-deps-for", "build_deps_for", multiple=True,
           type=click.Choice(["editable", "sdist", "wheel"]), hidden=True),
    option(_INPUTS, "--all-build-deps", is_flag=True, hidden=True),
    option(_INPUTS, "--only-build-deps", is_flag=True, hidden=True),
    # Output
    option(_OUTPUT, "-o", "--output-file", metavar="FILE",
           help="Where to write the lock ('-' for stdout).",
           show_default="SRC_FILE with .txt, else requirements.txt"),
    option(_OUTPUT, "--format", "output_format", type=click.Choice(["requirements", "pylock"]),
           default=None, help="Lock format.",
           show_default="pylock for pylock[.NAME].toml, else requirements"),
    option(_OUTPUT, "--generate-hashes/--no-generate-hashes", default=False, show_default=True,
           help="Add --hash lines for every file some environment can install."),
    option(_OUTPUT, "--annotate/--no-annotate", default=True, show_default=True,
           help="Add '# via' comments."),
    option(_OUTPUT, "--annotation-style", type=click.Choice(["split", "line"]),
           default="split", show_default=True,
           help="'# via' on lines of their own, or on the pin's line."),
    option(_OUTPUT, "--strip-extras/--no-strip-extras", default=True, show_default=True,
           help="Write name==version without [extras], so the lock also works as a "
                "-c constraints file."),
    option(_OUTPUT, "--header/--no-header", default=True, show_default=True,
           help="Write the header (the matrix and the command; without it check, why, envs "
                "and a bare rerun cannot read the lock)."),
    option(_OUTPUT, "--emit-options/--no-emit-options", default=True, show_default=True,
           help="Write option lines (--index-url, --only-binary, ...)."),
    option(_OUTPUT, "--emit-index-url/--no-emit-index-url", default=True, show_default=True,
           help="Write --index-url and --extra-index-url lines."),
    option(_OUTPUT, "--emit-find-links/--no-emit-find-links", default=True, show_default=True,
           help="Write --find-links lines."),
    option(_OUTPUT, "--emit-trusted-host/--no-emit-trusted-host", default=True,
           show_default=True, help="Write --trusted-host lines."),
    option(_OUTPUT, "--allow-unsafe/--no-allow-unsafe", default=False, show_default=True,
           help="Pin pip, setuptools and distribute (or the --unsafe-package names) too."),
    option(_OUTPUT, "--unsafe-package", "unsafe_packages", multiple=True, metavar="NAME",
           help="Treat NAME as unsafe instead of distribute, pip and setuptools "
                "(repeatable)."),
    option(_OUTPUT, "--newline", type=click.Choice(["lf", "crlf", "native", "preserve"]),
           default="preserve", help="Line endings of the lock.",
           show_default="preserve: the existing lock's, else the first input's, else lf"),
    # Upgrading
    option(_UPGRADE, "-U", "--upgrade/--no-upgrade", default=False, show_default=True,
           help="Ignore the existing pins: take the newest."),
    option(_UPGRADE, "-P", "--upgrade-package", "upgrade_packages", multiple=True,
           metavar="NAME[SPEC]", help="Upgrade one package, keep the other pins (repeatable)."),
    # Resolution
    option(_RESOLUTION, "-p", "--pre/--no-pre", default=False, help="Allow prereleases."),
    option(_RESOLUTION, "--resolution", type=click.Choice(["highest", "lowest", "lowest-direct"]),
           default="highest", show_default=True, help="Which version to prefer."),
    option(_RESOLUTION, "--exclude-newer", metavar="WHEN",
           help="Ignore files uploaded at or after WHEN (UTC; a date means the end of that "
                "day; 'none' drops a remembered one)."),
    option(_RESOLUTION, "--uploaded-prior-to", metavar="WHEN",
           help="pip's spelling: only files uploaded before WHEN (a date means its start, "
                "UTC), or P<n>D for n days ago."),
    option(_RESOLUTION, "--only-binary", "only_binary", multiple=True, metavar="NAME",
           help="Never use sdists of NAME (':all:' for all; repeatable)."),
    option(_RESOLUTION, "--no-binary", "no_binary", multiple=True, metavar="NAME",
           help="Never use wheels of NAME (':all:' for all; repeatable)."),
    option(_RESOLUTION, "--no-build/--build", default=False,
           help="Never build sdists (same as --only-binary :all:)."),
    option(_RESOLUTION, "--build-isolation/--no-build-isolation", default=True,
           show_default=True,
           help="Read the metadata of local projects and sdists in a fresh build "
                "environment (--no-build-isolation: in this one)."),
    # Indexes
    option(_INDEXES, "-i", "--index-url", metavar="URL", help="Base URL of the package index.",
           show_default="pip's configuration, else https://pypi.org/simple"),
    option(_INDEXES, "--extra-index-url", "extra_index_urls", multiple=True, metavar="URL",
           help="Another index (repeatable); see --index-strategy."),
    option(_INDEXES, "-f", "--find-links", "find_links", multiple=True, metavar="PATH|URL",
           help="A folder or page of links to files (repeatable)."),
    option(_INDEXES, "--no-index", is_flag=True,
           help="Use only --find-links and direct references."),
    option(_INDEXES, "--index-strategy", type=click.Choice(["first-index", "unsafe-best-match"]),
           default="first-index", show_default=True,
           help="first-index: a name found on one index is never taken from a later one; "
                "unsafe-best-match: the best version across all indexes (pip's behaviour)."),
    *TRUST_OPTIONS,
    option(_INDEXES, "--isolated", is_flag=True,
           help="Ignore pip's configuration files and PIP_* variables."),
    # Cache and network
    option(_CACHE, "--cache-dir", type=click.Path(file_okay=False), metavar="DIR",
           help="Cache folder.", show_default="the platform's user cache folder"),
    option(_CACHE, "--no-cache", is_flag=True, help="Do not read or write the disk cache."),
    option(_CACHE, "--offline", is_flag=True, help="Use only the cache; never the network."),
    option(_CACHE, "--refresh", is_flag=True, help="Revalidate every cached page."),
    option(_CACHE, "-r", "--rebuild", is_flag=True,
           help="--refresh, and never reuse the last resolution."),
    # Checking
    option(_CHECK, "--check", "check_only", is_flag=True,
           help="Resolve nothing, write nothing: exit 1 if the lock is stale (its inputs "
                "changed) or inconsistent (see 'crosspin check')."),
    option(_CHECK, "-n", "--dry-run", is_flag=True,
           help="Print the lock on stdout; write nothing."),
    # Configuration
    option(_CONFIG, "--config", type=click.Path(dir_okay=False), metavar="FILE",
           help="Read [tool.crosspin] and [tool.pip-tools] from FILE.",
           show_default="pyproject.toml or .pip-tools.toml beside the inputs"),
    option(_CONFIG, "--no-config", is_flag=True,
           help="Read no configuration file ([tool.crosspin], [tool.pip-tools])."),
    option(_CONFIG, "--no-remember", is_flag=True,
           help="Do not reuse the options the existing lock was made with."),
    # Messages
    option(_MESSAGES, "-v", "--verbose", count=True, help="More detail (repeatable)."),
    option(_MESSAGES, "-q", "--quiet", count=True, help="Only warnings and errors."),
    option(_MESSAGES, "--color/--no-color", default=None,
           help="Force colour on or off.", show_default="on a terminal, unless NO_COLOR"),
    # pip-tools options that tune its own internals: accepted, no effect (hidden).
    option(_MESSAGES, "--max-rounds", type=int, hidden=True),
    option(_MESSAGES, "--reuse-hashes/--no-reuse-hashes", default=None, hidden=True),
    option(_MESSAGES, "--resolver", type=click.Choice(["backtracking", "legacy"]),
           hidden=True),
    option(_MESSAGES, "--pip-args", hidden=True),
]


def with_compile_options(func: _F) -> _F:
    """Add every ``compile`` option to a command, in the table's order."""
    for decorator in reversed(_OPTIONS):
        func = decorator(func)
    return func
