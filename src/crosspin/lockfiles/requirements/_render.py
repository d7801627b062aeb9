"""``requirements.txt`` in pip-compile's layout, for a whole matrix, and its reader.

The output is what pip-compile (pip-tools 7.x) writes, byte for byte where
the two overlap: the same option lines, ``# via`` annotations in the
``split`` and ``line`` styles, ``--hash`` continuation lines and trailing
section for pip/setuptools. What differs is what crosspin adds: the header
names the matrix instead of the host's Python (so the output does not depend
on the host), records it on a ``# crosspin-matrix:`` line that :func:`read`
uses, and a name may be pinned several times under disjoint markers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Literal

import attrs

from crosspin.environments import Matrix
from crosspin.index import lock_url
from crosspin.lock import UNSAFE_PACKAGES, Lock, LockedPackage, Sources
from crosspin.lockfiles.requirements._read import COMMAND_PREFIX, INPUTS_PREFIX, MATRIX_PREFIX

__all__ = ["RenderOptions", "render"]

#: pip's default index; pip-compile leaves it out of ``--index-url`` lines.
DEFAULT_INDEX_URL = "https://pypi.org/simple"

#: The comment line that starts the trailing section (pip-tools' wording).
UNSAFE_MESSAGE = (
    "# The following packages are considered to be unsafe in a requirements file:"
)
#: The same section's heading when hashes make the unpinned packages a problem.
UNSAFE_UNPINNED_MESSAGE = (
    "# WARNING: The following packages were not pinned, but pip requires them to be\n"
    "# pinned when the requirements file includes hashes and the requirement is not\n"
    "# satisfied by a package already installed. Consider using the --allow-unsafe flag."
)
#: Written before a pin that has no hash in a file where others have them.
UNHASHED_MESSAGE = (
    "# WARNING: pip install will require the following package to be hashed.\n"
    "# Consider using a hashable URL like "
    "https://github.com/jazzband/pip-tools/archive/SOMECOMMIT.zip"
)


@attrs.frozen(kw_only=True)
class RenderOptions:
    """What to put in the file; the defaults are pip-compile's.

    ``command`` is the normalised command line shown in the header;
    ``custom_command`` (pip-tools' ``CUSTOM_COMPILE_COMMAND``) is shown
    instead, and ``command`` then goes on a ``# crosspin-command:`` line so
    ``check`` and a bare rerun still know it. ``allow_unsafe`` pins the
    ``unsafe_packages`` (pip, setuptools, distribute unless given) in the
    trailing section instead of naming them in comments. ``strip_extras``
    writes ``name==version`` without ``[extras]`` (the extras' dependencies
    are pins of their own), so the file also works as a ``-c`` constraints
    file. ``emit_options`` off drops every option line; ``only_binary`` and
    ``no_binary`` are written as pip-compile writes them.
    """

    header: bool = True
    annotate: bool = True
    annotation_style: Literal["split", "line"] = "split"
    generate_hashes: bool = False
    emit_options: bool = True
    emit_index_url: bool = True
    emit_find_links: bool = True
    emit_trusted_host: bool = True
    allow_unsafe: bool = False
    unsafe_packages: frozenset[str] = UNSAFE_PACKAGES
    strip_extras: bool = False
    only_binary: frozenset[str] = frozenset()
    no_binary: frozenset[str] = frozenset()
    command: str = "crosspin compile"
    custom_command: str = ""


def render(lock: Lock, options: RenderOptions) -> str:
    """The ``requirements.txt`` text of ``lock``; ends with exactly one newline."""
    lines: list[str] = []
    if options.header:
        lines.extend(_header(lock.matrix, options, lock.meta.get("input_digest")))
    flags = list(_flag_lines(lock.sources, options)) if options.emit_options else []
    if flags:
        lines.extend([*flags, ""])
    ordered = sorted(lock.packages, key=lambda p: p.sort_key)
    safe = [p for p in ordered if p.name not in options.unsafe_packages]
    unsafe = [p for p in ordered if p.name in options.unsafe_packages]
    hashed = [*safe, *(unsafe if options.allow_unsafe else [])]
    has_hashes = options.generate_hashes and any(p.hashes() for p in hashed)
    for package in safe:
        if has_hashes and not package.hashes():
            lines.append(UNHASHED_MESSAGE)
        lines.append(_format_package(package, options))
    if unsafe:
        lines.append("")
        if has_hashes and not options.allow_unsafe:
            lines.append(UNSAFE_UNPINNED_MESSAGE)
        else:
            lines.append(UNSAFE_MESSAGE)
        if options.allow_unsafe:
            lines.extend(_format_package(p, options) for p in unsafe)
        else:
            lines.extend(f"# {name}" for name in dict.fromkeys(p.name for p in unsafe))
    if not lines:
        lines.append("")  # pip-compile writes an empty line rather than an empty file
    return "\n".join(lines) + "\n"


def _header(matrix: Matrix, options: RenderOptions, digest: str | None = None) -> list[str]:
    # The input digest (``Lock.meta["input_digest"]``) lets ``crosspin check``
    # tell a stale lock from a current one without resolving again.
    inputs = [f"# {INPUTS_PREFIX} sha256:{digest}"] if digest else []
    real = [f"# {COMMAND_PREFIX} {options.command}"] if options.custom_command else []
    return [
        "#",
        f"# This file is autogenerated by crosspin for {matrix.describe()}",
        "# by the following command:",
        "#",
        f"#    {options.custom_command or options.command}",
        "#",
        f"# {MATRIX_PREFIX} {matrix.to_spec()}",
        *inputs,
        *real,
        "#",
    ]


def _flag_lines(sources: Sources, options: RenderOptions) -> Iterator[str]:
    """Option lines in pip-compile's order: indexes, find-links, trusted hosts."""
    if options.emit_index_url and sources.no_index:
        # No index was used (only find-links): pip needs to be told too.
        yield "--no-index"
    elif options.emit_index_url:
        urls = _dedup([sources.index_url or DEFAULT_INDEX_URL, *sources.extra_index_urls])
        for position, url in enumerate(urls):
            if position == 0 and url.rstrip("/") == DEFAULT_INDEX_URL:
                continue
            flag = "--index-url" if position == 0 else "--extra-index-url"
            yield f"{flag} {url}"
    if options.emit_find_links:
        for link in _dedup(sources.find_links):
            yield f"--find-links {link}"
    if options.emit_trusted_host:
        for host in _dedup(sources.trusted_hosts):
            yield f"--trusted-host {host}"
    # pip-compile copies these from the inputs, so pip install -r makes the
    # same wheel-or-sdist choices the lock was resolved with.
    for flag, names in (("--no-binary", options.no_binary), ("--only-binary", options.only_binary)):
        if names:
            yield f"{flag} {','.join(sorted(names))}"


def _dedup(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _is_local_path(url: str) -> bool:
    """A path written relative to the lock (``./libs/x``, ``../x.whl``), not a URL."""
    return url.startswith(("./", "../"))


def _format_package(package: LockedPackage, options: RenderOptions) -> str:
    """One pin: requirement, ``; marker``, hash lines, then its ``# via`` comment."""
    extras = ""
    if package.extras and not options.strip_extras:
        extras = f"[{','.join(sorted(package.extras))}]"
    # A lock never holds a literal credential (a ${VAR} the user wrote is kept).
    url = lock_url(package.url) if package.url else None
    if package.editable and url:
        # pip reads no marker on an "-e" line (and crosspin's reader, like
        # pip's, refuses one), so an editable is written for every environment.
        line = f"-e {url}"
    else:
        if url and _is_local_path(url):
            # pip reads "name @ ./path" as a file name; a bare path is what it takes.
            line = f"{url}{extras}"
        elif url:
            line = f"{package.name}{extras} @ {url}"
        else:
            line = f"{package.name}{extras}=={package.version}"
        if package.marker is not None:
            line = f"{line} ; {package.marker}"
    hashes = package.hashes() if options.generate_hashes else []
    for digest in hashes:
        line += f" \\\n    --hash={digest}"
    via = sorted(set(package.via))
    if not options.annotate or not via:
        return line
    if options.annotation_style == "split":
        if len(via) == 1:
            annotation = f"# via {via[0]}"
        else:
            annotation = "\n".join(["# via", *(f"    #   {v}" for v in via)])
        separator = "\n    "
    else:
        annotation = f"# via {', '.join(via)}"
        separator = "\n    " if hashes else "  "
    # pip-compile pads the requirement to 24 columns, then strips trailing blanks.
    text = f"{line:24}{separator}{annotation}"
    return "\n".join(part.rstrip() for part in text.splitlines())
