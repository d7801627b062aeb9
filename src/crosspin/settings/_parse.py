"""Turning option text into values: dates, binary-package sets, upgrade requirements.

The command line and ``[tool.crosspin]`` spell some options as text; these
parsers are shared by both so a value means the same wherever it is given.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from crosspin.errors import UsageError

__all__ = ["binary_set", "parse_exclude_newer", "parse_upgrade_packages", "parse_uploaded_prior_to"]


def parse_upgrade_packages(values: Sequence[str]) -> tuple[Requirement, ...]:
    """``-P NAME`` / ``-P NAME<SPEC`` values as requirements; a bad one is a ``UsageError``."""
    out = []
    for value in values:
        try:
            out.append(Requirement(value))
        except InvalidRequirement as exc:
            raise UsageError(f"--upgrade-package {value!r}: {exc}") from None
    return tuple(out)


def parse_exclude_newer(
    value: str | None, *, option: str = "--exclude-newer"
) -> datetime.datetime | None:
    """The first upload instant ``--exclude-newer`` leaves out, aware UTC (``None`` when unset).

    Files uploaded at or after it are ignored (a strict ``<``, as uv and
    pip). A bare date means "as the index was at the end of that day"
    (UTC), so the cut-off is the start of the next day; ``none`` (or an
    empty value) means no cut-off, so a remembered one can be dropped.
    """
    if not value or value.strip().lower() == "none":
        return None
    parsed = _instant(value, option)
    if isinstance(parsed, datetime.date) and not isinstance(parsed, datetime.datetime):
        start = datetime.datetime(parsed.year, parsed.month, parsed.day,
                                  tzinfo=datetime.timezone.utc)
        return start + datetime.timedelta(days=1)
    return parsed


def parse_uploaded_prior_to(
    value: str | None, *, now: datetime.datetime | None = None
) -> datetime.datetime | None:
    """pip's ``--uploaded-prior-to``: files uploaded strictly before the instant returned.

    A bare date means the start of that day, ``P<n>D`` n days before
    ``now``; a time without an offset is UTC (pip: local time; crosspin
    says UTC so the lock does not depend on the host's zone).
    """
    if not value or value.strip().lower() == "none":
        return None
    text = value.strip()
    match = _DAYS.fullmatch(text)
    if match:
        now = now or datetime.datetime.now(datetime.timezone.utc)
        return now - datetime.timedelta(days=int(match.group(1)))
    parsed = _instant(text, "--uploaded-prior-to")
    if isinstance(parsed, datetime.date) and not isinstance(parsed, datetime.datetime):
        return datetime.datetime(parsed.year, parsed.month, parsed.day,
                                 tzinfo=datetime.timezone.utc)
    return parsed


_DAYS = re.compile(r"P(\d+)D", re.IGNORECASE)


def _instant(value: str, option: str) -> datetime.date:
    """A date, or an aware datetime (UTC when no offset is given)."""
    text = value.strip()
    try:
        if len(text) == 10:
            return datetime.date.fromisoformat(text)
        # Python 3.9's fromisoformat knows no "Z".
        parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{option} {value!r} is not a date or timestamp",
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
