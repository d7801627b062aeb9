"""PEP 751 ``pylock.toml``: one file for every environment, extra and group.

:func:`render` turns a :class:`~crosspin.lock.Lock` into a ``pylock.toml``
whose ``environments`` name the matrix, whose packages carry the marker of
the environments that select them ``and`` the extras / dependency groups
that reach them (``'test' in extras``), so one file serves the base install
and every extra and group. The text is validated with
:mod:`packaging.pylock` before it is returned; nothing invalid is written.
:func:`read` parses one back (validated the same way) into pins that
``compile`` keeps. The matrix, the inputs' digest and the compile command
are recorded in ``[tool.crosspin]``.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from crosspin.errors import LockFileError
from crosspin.lock import Lock
from crosspin.lockfiles.pylock._reach import reach_markers, root_labels
from crosspin.lockfiles.pylock._tables import environment_markers, package_table, requires_python

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

__all__ = ["PylockOptions", "render"]


@attrs.frozen(kw_only=True)
class PylockOptions:
    """How to render a ``pylock.toml``.

    ``default_groups`` are the groups an installer installs when asked for
    none (PEP 751 ``default-groups``): crosspin uses the groups named with
    ``--group``. ``root_requirements`` maps each origin to the root
    requirements read from it, so a root's own marker limits where its
    extra or group reaches. ``path`` names the file in error messages.
    setuptools and pip are always listed when the graph needs them: an
    installer of a pylock installs everything it lists (``--allow-unsafe``
    only concerns requirements.txt).
    """

    default_groups: tuple[str, ...] = ()
    root_requirements: Mapping[str, Sequence[Requirement]] = attrs.field(factory=dict)
    path: str = "pylock.toml"


def render(lock: Lock, options: PylockOptions) -> str:
    """The ``pylock.toml`` text of ``lock``: deterministic, validated.

    Raises :class:`~crosspin.errors.LockFileError` with the key path of the
    problem when the result would not be a valid PEP 751 file.
    """
    # lazy: tomli_w is only needed when a pylock is written.
    import tomli_w

    markers = reach_markers(lock, options.root_requirements)
    extras, groups = root_labels(lock)
    entries = []
    for package, marker in zip(lock.packages, markers):
        table = package_table(package, None if marker is None else str(marker), options.path)
        entries.append(table)
    entries.sort(key=lambda t: (t["name"], t.get("version", ""), t.get("marker", "")))
    default_groups = sorted({canonicalize_name(g) for g in options.default_groups})
    doc: dict[str, Any] = {
        "lock-version": "1.0",
        "environments": environment_markers(lock.matrix),
        "requires-python": requires_python(lock.matrix),
        "extras": extras,
        "dependency-groups": groups,
        "default-groups": [g for g in default_groups if g in groups],
        "created-by": "crosspin",
        "packages": entries,
        "tool": {"crosspin": _tool_table(lock)},
    }
    text = tomli_w.dumps(doc)
    _validate(text, options.path)
    return text


def _tool_table(lock: Lock) -> dict[str, str]:
    """``[tool.crosspin]``: the matrix, and what ``crosspin check`` needs to spot staleness.

    ``inputs`` is the inputs' digest (``sha256:<hex>``, as the
    requirements.txt header writes it) and ``command`` the normalised
    compile command, whose sources and options are read again to compute
    the digest of the inputs on disk.
    """
    table = {"matrix": lock.matrix.to_spec()}
    digest = lock.meta.get("input_digest")
    if digest:
        table["inputs"] = f"sha256:{digest}"
    command = lock.meta.get("command")
    if command:
        table["command"] = command
    return table


def _validate(text: str, path: str) -> None:
    # lazy: packaging.pylock is only needed when a pylock is written.
    from packaging.pylock import Pylock, PylockValidationError

    try:
        Pylock.from_dict(tomllib.loads(text))
    except PylockValidationError as exc:
        raise LockFileError(
            path,
            f"would not be a valid pylock file: {exc.message}",
            key=exc.context,
            hint="this is a bug in crosspin or in the index data; please report it",
        ) from None
