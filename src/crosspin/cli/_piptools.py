"""pip-tools' own options, as crosspin reads them: ``--pip-args``, ``--resolver``, no-op tuning.

pip-compile and pip-sync pass words to pip (``--pip-args "--pre
--no-index"``); crosspin does not run pip to resolve, so each word that
names a pip option crosspin has becomes that option, and any other word is
refused with one line naming it. Options that only tune pip-tools'
internals (``--max-rounds``, ``--reuse-hashes``, ``--resolver
backtracking``) are accepted and do nothing (a note under ``-v``);
``--resolver legacy`` and ``sync --user`` are refused naming what to use.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

import click

from crosspin.errors import UsageError

__all__ = ["check_refused", "no_effect_notes", "translate_pip_args"]

#: pip option -> (crosspin parameter, takes a value). Only what crosspin has.
_PIP_WORDS: dict[str, tuple[str, bool]] = {
    "-i": ("index_url", True), "--index-url": ("index_url", True),
    "--extra-index-url": ("extra_index_urls", True),
    "-f": ("find_links", True), "--find-links": ("find_links", True),
    "--no-index": ("no_index", False), "--trusted-host": ("trusted_hosts", True),
    "--cert": ("cert", True), "--client-cert": ("client_cert", True),
    "--pre": ("pre", False), "--only-binary": ("only_binary", True),
    "--no-binary": ("no_binary", True), "--no-build-isolation": ("build_isolation", False),
    "--isolated": ("isolated", False), "--no-cache-dir": ("no_cache", False),
    "--cache-dir": ("cache_dir", True),
}


def translate_pip_args(
    text: str, command: click.Command, *, option: str = "--pip-args"
) -> dict[str, Any]:
    """The crosspin parameters that the words of ``--pip-args`` stand for.

    Repeatable options collect every value; ``--no-build-isolation`` turns
    build isolation off. A word crosspin has no equivalent for is a
    :class:`UsageError` naming it.
    """
    names = {p.name: p for p in command.params if isinstance(p, click.Option)}
    out: dict[str, Any] = {}
    words = shlex.split(text)
    position = 0
    while position < len(words):
        word = words[position]
        flag, eq, inline = word.partition("=")
        spec = _PIP_WORDS.get(flag)
        if spec is None and flag.startswith(("-i", "-f")) and len(flag) > 2:
            spec, inline, eq = _PIP_WORDS[flag[:2]], flag[2:], "="  # -iURL, -fPATH
        if spec is None or spec[0] not in names:
            raise UsageError(
                f"{option}: crosspin does not run pip to resolve, and {word!r} has no "
                "crosspin equivalent",
                hint=f"drop it, or use crosspin's options (crosspin {command.name} --help)",
            )
        name, takes_value = spec
        if takes_value:
            if not eq:
                position += 1
                if position >= len(words):
                    raise UsageError(f"{option}: {flag} needs a value")
                inline = words[position]
            if names[name].multiple:
                out.setdefault(name, []).append(inline)
            else:
                out[name] = inline
        else:
            out[name] = name != "build_isolation"
        position += 1
    return {k: tuple(v) if isinstance(v, list) else v for k, v in out.items()}


def check_refused(values: Mapping[str, Any]) -> None:
    """Refuse the pip-tools options crosspin cannot honour, naming its equivalent."""
    if values.get("resolver") == "legacy":
        raise UsageError("--resolver=legacy: crosspin has one resolver (backtracking, like pip's)",
                         hint="drop --resolver")
    if values.get("user"):
        raise UsageError(
            "--user: crosspin sync manages one environment, never the user site-packages",
            hint="sync a virtual environment: crosspin sync --venv .venv",
        )


def no_effect_notes(values: Mapping[str, Any]) -> list[str]:
    """One line per pip-tools tuning option given, saying it does nothing here (for ``-v``)."""
    notes = []
    if values.get("max_rounds") is not None:
        notes.append("--max-rounds has no effect: crosspin's resolver has no round budget; "
                     "it stops with a solution or a named conflict")
    if values.get("reuse_hashes") is not None:
        notes.append("--reuse-hashes has no effect: hashes always come from the index, never "
                     "from the old lock")
    if values.get("resolver") == "backtracking":
        notes.append("--resolver backtracking has no effect: it is crosspin's only resolver")
    return notes
