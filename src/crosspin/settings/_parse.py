"""Turning option text into values: dates, binary-package sets, upgrade requirements.

The command line and ``[tool.crosspin]`` spell some options as text; these
parsers are shared by both so a value means the same wherever it is given.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from crosspin.errors import UsageError

__all__ = ["binary_set", "parse_exclude_newer", "parse_upgrade_packages"]


def parse_upgrade_packages(values: Sequence[str]) -> tuple[Requirement, ...]:
    """``-P NAME`` / ``-P NAME<SPEC`` values as requirements; a bad one is a ``UsageError``."""
    out = []
    for value in values:
        try:
            out.append(Requirement(value))
        except InvalidRequirement as exc:
            raise UsageError(f"--upgrade-package {value!r}: {exc}") from None
    return tuple(out)


def parse_exclude_newer(value: str | None) -> datetime.datetime | None:
    """An ``--exclude-newer`` date or timestamp as an aware UTC datetime (``None`` when unset).

    A bare date means "as the index was at the end of that day" (UTC).
    """
    if not value:
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            day = datetime.date.fromisoformat(text)
            return datetime.datetime(day.year, day.month, day.day, 23, 59, 59,
                                     tzinfo=datetime.timezone.utc)
        parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"--exclude-newer {value!r} is not a date or timestamp",
            hint="use e.g. 2024-06-01 or 2024-06-01T12:00:00Z",
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed


def binary_set(values: Sequence[str]) -> frozenset[str]:
    """``--only-binary`` / ``--no-binary`` values: canonical names, ``:all:``, ``:none:`` clears."""
    out: set[str] = set()
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if part == ":none:":
                out.clear()
            elif part == ":all:":
                out.add(":all:")
            elif part:
                out.add(canonicalize_name(part))
    return frozenset(out)
