"""Reuse the last lock when nothing it was computed from has changed.

pip-compile users run ``compile`` again and again on unchanged inputs:
pre-commit hooks, ``make`` targets, CI checks. A lock is a function of the
inputs and options, the existing output (its pins are preferences), the
code that computes it, and what the index said. The first three are hashed
into a key; what the index said is the digest of every page and local
listing the run read (pages name their files' hashes, and metadata is
cached by those hashes, so a page that reads the same means the same
metadata). A later run with the same key re-reads those pages exactly as a
resolution would (revalidating them, or from the cache offline) and, if
every digest still matches, keeps the lock without resolving.

The entry holds a digest of the lock, never its text: a lock is reused
only when the output file still holds exactly the text that was computed
(and the key includes that file's digest), so editing the cache can make
crosspin resolve again, never write a different lock.

Never reused, so always resolved afresh: inputs with direct references (a
local tree or a VCS checkout can change under the same name), ``--refresh``,
and any run with ``CROSSPIN_MEMO=0``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

import attrs
import packaging

from crosspin.index import atomic_write
from crosspin.resolver import RESOLVELIB_VERSION
from crosspin.settings import Tuning

__all__ = ["Memo", "canonical", "code_fingerprint", "memo_for"]

_FORMAT = 2

#: Entries not used for this long (seconds) are removed when a neighbour is stored.
MAX_AGE = 30 * 24 * 3600


class Sources(Protocol):
    """What the memo needs of an index client."""

    def source_digests(self) -> dict[str, str]:
        """Digests of every page and listing read so far."""

    def current_digest(self, key: str) -> str | None:
        """The digest a source has now, read as a resolution would read it."""


def code_fingerprint() -> str:
    """Which code computes locks: crosspin's own files and the libraries that decide."""
    root = Path(__file__).resolve().parent.parent  # the crosspin package
    parts: list[str] = [sys.version, packaging.__version__, RESOLVELIB_VERSION]
    for path in sorted(root.rglob("*.py")):
        try:
            st = path.stat()
        except OSError:
            continue
        parts.append(f"{path.relative_to(root).as_posix()}:{st.st_size}:{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def canonical(value: object) -> str:
    """Host- and process-independent JSON text of a value (sets sorted, attrs by field)."""
    return json.dumps(_plain(value), sort_keys=True, separators=(",", ":"))


def _plain(value: object) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if attrs.has(type(value)):
        fields = attrs.fields(type(value))  # type: ignore[arg-type]
        return [type(value).__name__, {f.name: _plain(getattr(value, f.name)) for f in fields}]
    if isinstance(value, (set, frozenset)):
        # Set order follows string hashing, which differs between processes.
        return sorted((_plain(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return [type(value).__name__, str(value)]  # Requirement, Marker, Version, Path, datetime


@attrs.frozen(kw_only=True)
class Memo:
    """One run's entry: where it is stored and what it was computed from."""

    path: Path

    def lookup(self, sources: Sources, output: Path) -> tuple[str, str] | None:
        """``(text, summary)`` of the stored run if ``output`` still holds its lock and
        every source still reads the same, else ``None``."""
        try:
            data = json.loads(self.path.read_bytes())
            if data.get("format") != _FORMAT:
                return None
            digests, lock, summary = data["sources"], data["lock"], str(data["summary"])
            raw = output.read_bytes()
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        if hashlib.sha256(raw).hexdigest() != lock:
            return None  # the output is not the lock this entry computed
        if not isinstance(digests, dict) or not digests:
            return None
        for key, digest in digests.items():
            if sources.current_digest(str(key)) != digest:
                return None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
        with contextlib.suppress(OSError):
            os.utime(self.path)  # in use: not pruned
        return text, summary

    def store(self, sources: Sources, text: str, summary: str) -> None:
        """Remember a run's result (the digest of its lock) with the digests of what it read
        (best effort)."""
        digests = sources.source_digests()
        if not digests:
            return
        lock = hashlib.sha256(text.encode("utf-8")).hexdigest()
        data = {"format": _FORMAT, "sources": digests, "lock": lock, "summary": summary}
        with contextlib.suppress(OSError):  # a read-only or full cache only costs the reuse
            atomic_write(self.path, json.dumps(data, sort_keys=True).encode(), private=True)
            self._prune()

    def _prune(self) -> None:
        """Drop entries of this entry's folder unused for :data:`MAX_AGE` seconds.

        Each store looks at one of 256 folders, so the store stays bounded
        without a scan of the whole cache.
        """
        cutoff = time.time() - MAX_AGE
        for entry in self.path.parent.glob("*.json"):
            with contextlib.suppress(OSError):
                if entry.stat().st_mtime < cutoff:
                    entry.unlink()


def memo_for(
    folder: Path | None, material: Iterable[str], *, tuning: Tuning
) -> Memo | None:
    """The memo entry for a run described by ``material`` (``None``: reuse is off).

    Reuse is off without a disk cache and with ``CROSSPIN_MEMO=0``; the
    other ``CROSSPIN_*`` variables are part of the key.
    """
    if folder is None or not tuning.memo:
        return None
    digest = hashlib.sha256()
    digest.update(f"format {_FORMAT}\n{code_fingerprint()}\n".encode())
    for name, value in tuning.variables:
        digest.update(f"env {name}={value}\n".encode())
    for part in material:
        digest.update(part.encode("utf-8", "surrogateescape"))
        digest.update(b"\x00")
    key = digest.hexdigest()
    return Memo(path=folder / key[:2] / f"{key}.json")
