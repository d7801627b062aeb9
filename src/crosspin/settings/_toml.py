"""Reading a TOML configuration file: a missing file is ``None``, a bad one an ``InputError``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from crosspin.errors import InputError, Problem

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]

__all__ = ["read_toml"]


def read_toml(path: Path, label: str) -> dict[str, Any] | None:
    """A TOML file's tables (``None`` when it does not exist); ``InputError`` if unreadable."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError([Problem(location=label, reason=f"cannot read: {exc.strerror}")]) from None
    try:
        return dict(tomllib.loads(raw.decode("utf-8")))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError([Problem(location=label, reason=f"invalid TOML: {exc}")]) from None
