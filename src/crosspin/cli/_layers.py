"""Options not given on the command line: from ``[tool.pip-tools]`` and the lock rewritten.

pip-tools fills options from its configuration table the way click fills
defaults; crosspin does the same, and a bare ``crosspin compile`` also
takes the options the existing lock was made with (its recorded command),
so rerunning it keeps the matrix, the hashes, the cut-off date... Per
parameter, highest first: the command line, ``[tool.crosspin]`` (applied
later, by :mod:`crosspin.settings`, so the values here give way to it),
``[tool.pip-tools]``, the lock's recorded command, the defaults.

The header records the command line and the remembered options (so a
chain of bare reruns keeps them), never the configuration's values (those
are read again on every run).
"""

from __future__ import annotations

import difflib
import shlex
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
import click

from crosspin.errors import InputError, Problem
from crosspin.index import redact
from crosspin.settings import ToolConfig

__all__ = [
    "Layered",
    "config_values",
    "crosspin_keys",
    "format_command",
    "format_options",
    "given_params",
    "layer",
    "recorded_params",
]

_GIVEN = (click.core.ParameterSource.COMMANDLINE, click.core.ParameterSource.ENVIRONMENT)

#: ``[tool.crosspin]`` field -> the parameters it settles (so neither
#: pip-tools' table nor the lock's record overrides it).
_CROSSPIN_FIELDS = {
    "python": ("python",), "platforms": ("platforms",), "index_url": ("index_url",),
    "extra_index_urls": ("extra_index_urls",), "find_links": ("find_links",),
    "generate_hashes": ("generate_hashes",), "allow_unsafe": ("allow_unsafe",),
    "annotation_style": ("annotation_style",),
    "exclude_newer": ("exclude_newer", "uploaded_prior_to"),
}


@attrs.frozen(kw_only=True)
class Layered:
    """The parameters a run uses, and which of them its header records.

    ``values`` hold only parameters that something set (the command line,
    a configuration table, the lock), so the settings layer can still tell
    "not given" from a value; ``recorded`` are those the header writes;
    ``remembered`` names the parameters taken from the lock.
    """

    values: dict[str, Any]
    recorded: dict[str, Any]
    remembered: tuple[str, ...] = ()


def given_params(ctx: click.Context) -> dict[str, Any]:
    """The parameters given on the command line (or through their environment variable)."""
    return {name: value for name, value in ctx.params.items()
            if ctx.get_parameter_source(name) in _GIVEN}


def crosspin_keys(tool: ToolConfig) -> frozenset[str]:
    """The parameters ``[tool.crosspin]`` sets."""
    out: set[str] = set()
    for field, params in _CROSSPIN_FIELDS.items():
        value = getattr(tool, field)
        if value is not None and value != ():
            out.update(params)
    return frozenset(out)


def layer(
    given: Mapping[str, Any],
    *,
    config: Mapping[str, Any],
    recorded: Mapping[str, Any],
    settled: frozenset[str],
) -> Layered:
    """Lay the command line over ``config`` and the lock's ``recorded`` parameters.

    ``settled`` are parameters ``[tool.crosspin]`` sets: they are taken
    from neither of the lower two.
    """
    values = dict(given)
    header = dict(given)
    for name, value in config.items():
        if name not in values and name not in settled:
            values[name] = value
    remembered = []
    for name, value in recorded.items():
        if name not in values and name not in settled:
            values[name] = header[name] = value
            remembered.append(name)
    return Layered(values=values, recorded=header, remembered=tuple(remembered))


def recorded_params(
    command: click.Command, recorded: str, remembered: Iterable[str]
) -> dict[str, Any]:
    """The ``remembered`` parameters (and the sources) a recorded command line gave.

    ``recorded`` is the whole line (``crosspin compile --python=3.12 ...``);
    ``{}`` when it does not parse.
    """
    try:
        words = shlex.split(recorded)
        ctx = command.make_context(command.name, words[2:], resilient_parsing=True)
    except (ValueError, click.ClickException):
        return {}
    keep = set(remembered) | {"src_files", "output_file"}
    return {name: value for name, value in given_params(ctx).items() if name in keep}


def config_values(
    command: click.Command, table: Mapping[str, Any], label: str, *,
    other: Sequence[click.Command] = (),
) -> dict[str, Any]:
    """``[tool.pip-tools]`` keys as ``command``'s parameters (pip-tools' key rules).

    A key is an option's long name or its parameter's name, lowercased,
    without leading dashes, ``_`` and ``-`` alike; a negative flag's name
    (``no-header``) sets the flag off. Keys of the ``other`` commands'
    options are valid and ignored here; any other key, and any bad value,
    is a problem located at ``label: tool.pip-tools.KEY``, all raised
    together as one :class:`InputError`.
    """
    ctx = click.Context(command)
    own = _keys(command)
    others = {k for c in other for k in _keys(c)}
    problems: list[Problem] = []
    out: dict[str, Any] = {}
    for key, value in table.items():
        norm = key.lower().lstrip("-").replace("_", "-")
        where = f"{label}: tool.pip-tools.{key}"
        found = own.get(norm)
        if found is None:
            if norm not in others:
                close = difflib.get_close_matches(norm, sorted(set(own) | others), n=3)
                hint = f" (did you mean {', '.join(close)}?)" if close else ""
                problems.append(Problem(location=where,
                                        reason=f"no pip-compile or pip-sync option {norm!r}"
                                               f"{hint}"))
            continue
        param, negative = found
        try:
            if param.multiple or param.nargs == -1:
                value = [value] if isinstance(value, (str, int, float, bool)) else value
            converted = param.type_cast_value(ctx, value)
        except click.BadParameter as exc:
            problems.append(Problem(location=where, reason=f"bad value {value!r}: "
                                                           f"{exc.format_message()}"))
            continue
        out[str(param.name)] = (not converted) if negative else converted
    if problems:
        raise InputError(problems, hint="fix or remove the key(s) named above")
    return out


def _keys(command: click.Command) -> dict[str, tuple[click.Parameter, bool]]:
    """Config key -> (parameter, whether the key is the negative spelling)."""
    keys: dict[str, tuple[click.Parameter, bool]] = {}
    for param in command.params:
        if param.name is None:
            continue
        keys[param.name.replace("_", "-")] = (param, False)
        for opt in param.opts:
            keys[opt.lstrip("-")] = (param, False)
        for opt in getattr(param, "secondary_opts", ()):
            keys[opt.lstrip("-")] = (param, True)
    return {k: v for k, v in keys.items() if len(k) > 1}


def format_command(
    command: click.Command, recorded: Mapping[str, Any], *, output: str,
    sources: Sequence[str], exclude: Iterable[str],
) -> str:
    """The normalised command line the header records (pip-compile's rules).

    The options as :func:`format_options` writes them, then
    ``--output-file`` and the sources.
    """
    opts = format_options(command, recorded, exclude=exclude)
    tail = [f"--output-file={output}", *sources]
    return " ".join(["crosspin", str(command.name), *opts, *(_quote(p) for p in tail)])


def format_options(
    command: click.Command, recorded: Mapping[str, Any], *, exclude: Iterable[str]
) -> list[str]:
    """Options as the header writes them: long names, ``--opt=value``, sorted, shell-quoted.

    Flags are ``--flag``/``--no-flag``; URLs lose their credentials.
    """
    skip = set(exclude)
    opts: list[str] = []
    for param in command.params:
        name = param.name or ""
        if not isinstance(param, click.Option) or name in skip or name not in recorded:
            continue
        value = recorded[name]
        flag = max(param.opts, key=len)
        if param.is_flag and not param.count:
            if param.secondary_opts and not value:
                opts.append(max(param.secondary_opts, key=len))
            elif value:
                opts.append(flag)
        elif isinstance(value, (tuple, list)):
            opts.extend(f"{flag}={redact(str(v))}" for v in value)
        elif value is not None:
            opts.append(f"{flag}={redact(str(value))}")
    return [_quote(o) for o in sorted(opts)]


def _quote(part: str) -> str:
    return shlex.quote(part) if any(c in part for c in " <>;'\"|&*") else part
