"""``CROSSPIN_*`` environment variables: read once, at the edge, into one frozen value.

They tune how crosspin works, never what a lock says: reuse of the last
lock (``CROSSPIN_MEMO``), the replay fast path (``CROSSPIN_REPLAY``), how
long a cached page without validators is trusted (``CROSSPIN_PAGE_MAX_AGE``)
retries (``CROSSPIN_RETRIES``, ``CROSSPIN_RETRY_BACKOFF``,
``CROSSPIN_MAX_RETRY_AFTER``), how long a build step may run
(``CROSSPIN_BUILD_TIMEOUT``), the caps on an sdist (``CROSSPIN_MAX_SDIST_SIZE``,
bytes; ``CROSSPIN_MAX_SDIST_MEMBERS``), how long a sync waits for another sync of
the same environment (``CROSSPIN_SYNC_LOCK_TIMEOUT``), the whole-request
deadline (``CROSSPIN_DEADLINE``) and the caps on what an index may send
(``CROSSPIN_MAX_PAGE_SIZE``, ``CROSSPIN_MAX_METADATA_SIZE``,
``CROSSPIN_MAX_DOWNLOAD_SIZE``, in bytes). docs/configuration.md lists them. The CLI
reads them from the process environment with :meth:`Tuning.from_environ`
and passes the value down; nothing below reads the environment itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Callable, TypeVar

import attrs

from crosspin.index import DEFAULT_PAGE_MAX_AGE

__all__ = ["Tuning"]

_OFF = ("0", "false", "no", "off")

_N = TypeVar("_N", int, float)

#: Seconds a build step (making the build environment, one backend hook) may take.
DEFAULT_BUILD_TIMEOUT = 3600.0
#: Seconds a sync waits for another sync of the same environment to finish.
DEFAULT_SYNC_LOCK_TIMEOUT = 300.0


@attrs.frozen(kw_only=True)
class Tuning:
    """What the ``CROSSPIN_*`` variables ask for; the defaults when none is set.

    ``retries``, ``retry_backoff``, ``max_retry_after``, ``deadline``, the
    ``max_*_size`` caps and ``max_sdist_members`` are ``None`` when not set
    (or not a usable number): the index and build settings keep their own.
    ``variables`` are every ``CROSSPIN_*`` variable but ``CROSSPIN_MEMO``,
    sorted: the reuse key includes them, so a lock computed under other
    tuning is not reused.
    """

    memo: bool = True
    replay: bool = True
    page_max_age: float = DEFAULT_PAGE_MAX_AGE
    retries: int | None = None
    retry_backoff: float | None = None
    max_retry_after: float | None = None
    build_timeout: float = DEFAULT_BUILD_TIMEOUT
    sync_lock_timeout: float = DEFAULT_SYNC_LOCK_TIMEOUT
    deadline: float | None = None
    max_page_size: int | None = None
    max_metadata_size: int | None = None
    max_download_size: int | None = None
    max_sdist_size: int | None = None
    max_sdist_members: int | None = None
    variables: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Tuning:
        """Read the variables from ``environ`` (unusable values count as unset)."""
        return cls(
            memo=environ.get("CROSSPIN_MEMO", "1").strip().lower() not in _OFF,
            replay=environ.get("CROSSPIN_REPLAY", "1") != "0",
            page_max_age=_page_max_age(environ.get("CROSSPIN_PAGE_MAX_AGE", "")),
            retries=_number(environ.get("CROSSPIN_RETRIES", ""), int),
            retry_backoff=_number(environ.get("CROSSPIN_RETRY_BACKOFF", ""), float),
            max_retry_after=_number(environ.get("CROSSPIN_MAX_RETRY_AFTER", ""), float),
            build_timeout=_positive(environ.get("CROSSPIN_BUILD_TIMEOUT", ""),
                                    DEFAULT_BUILD_TIMEOUT),
            sync_lock_timeout=_positive(environ.get("CROSSPIN_SYNC_LOCK_TIMEOUT", ""),
                                        DEFAULT_SYNC_LOCK_TIMEOUT),
            deadline=_above_zero(_number(environ.get("CROSSPIN_DEADLINE", ""), float)),
            max_page_size=_above_zero(_number(environ.get("CROSSPIN_MAX_PAGE_SIZE", ""), int)),
            max_metadata_size=_above_zero(
                _number(environ.get("CROSSPIN_MAX_METADATA_SIZE", ""), int)),
            max_download_size=_above_zero(
                _number(environ.get("CROSSPIN_MAX_DOWNLOAD_SIZE", ""), int)),
            max_sdist_size=_above_zero(_number(environ.get("CROSSPIN_MAX_SDIST_SIZE", ""), int)),
            max_sdist_members=_above_zero(
                _number(environ.get("CROSSPIN_MAX_SDIST_MEMBERS", ""), int)),
            variables=tuple(sorted(
                (name, value) for name, value in environ.items()
                if name.startswith("CROSSPIN_") and name != "CROSSPIN_MEMO"
            )),
        )


def _page_max_age(raw: str) -> float:
    """Seconds, never negative; :data:`DEFAULT_PAGE_MAX_AGE` when unset or not a number."""
    try:
        return max(0.0, float(raw.strip())) if raw.strip() else DEFAULT_PAGE_MAX_AGE
    except ValueError:
        return DEFAULT_PAGE_MAX_AGE


def _positive(raw: str, default: float) -> float:
    """A number of seconds above zero, else ``default``."""
    value = _number(raw, float)
    return value if value else default


def _above_zero(value: _N | None) -> _N | None:
    """A deadline or a cap of zero would refuse everything: it counts as unset."""
    return value if value else None


def _number(raw: str, kind: Callable[[str], _N]) -> _N | None:
    """A non-negative number, or ``None`` when unset, unparsable or negative."""
    if not raw.strip():
        return None
    try:
        value = kind(raw.strip())
    except ValueError:
        return None
    return value if value >= 0 else None
