"""Check out a ``git+`` requirement at a ref and pin it to its commit id.

A lock must name exactly what it resolved: ``git+https://host/repo@main``
moves, ``git+https://host/repo@<40-hex commit>`` does not. The clone goes
into a temporary folder that the caller removes once the metadata is read.
Only git is supported; the other VCS schemes are refused with a clear line.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import urllib.parse
from pathlib import Path

import attrs

from crosspin.errors import UsageError

__all__ = ["Checkout", "checkout", "is_vcs"]

_COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")


@attrs.frozen(kw_only=True)
class Checkout:
    """A checked-out VCS requirement: where its project is and the pinned URL."""

    #: The project folder (the ``#subdirectory=`` of the clone when given).
    tree: Path
    commit: str
    #: ``git+URL@<commit>`` plus the original fragment: what the lock writes.
    pinned_url: str


def is_vcs(link: str) -> bool:
    """Whether ``link`` is a VCS URL (``git+``, ``hg+``, ``svn+``, ``bzr+``)."""
    return link.startswith(("git+", "hg+", "svn+", "bzr+"))


def checkout(link: str, dest: Path) -> Checkout:
    """Clone ``link`` into ``dest`` (which must not exist) at its ref and pin it.

    Raises :class:`UsageError` for non-git schemes and for a clone or ref
    that git cannot find, naming the URL and git's own first line.
    """
    if not link.startswith("git+"):
        raise UsageError(f"cannot lock {link}: only git VCS URLs are supported",
                         hint="use git+https://... or a wheel/sdist URL")
    split = urllib.parse.urlsplit(link[len("git+"):])
    path, ref = split.path, None
    if "@" in path:
        head, _, tail = path.rpartition("@")
        if head and tail:
            path, ref = head, tail
    repo = urllib.parse.urlunsplit((split.scheme, split.netloc, path, split.query, ""))
    _git(["clone", "--quiet", repo, str(dest)], link)
    if ref:
        _git(["-C", str(dest), "checkout", "--quiet", ref], link)
    commit = _git(["-C", str(dest), "rev-parse", "HEAD"], link).strip()
    if not _COMMIT_RE.match(commit):
        raise UsageError(f"cannot lock {link}: git gave no commit id")
    tree = dest
    fragment = urllib.parse.parse_qs(split.fragment)
    for sub in fragment.get("subdirectory", ()):
        tree = dest / sub
    pinned = f"git+{repo}@{commit}" + (f"#{split.fragment}" if split.fragment else "")
    return Checkout(tree=tree, commit=commit, pinned_url=pinned)


def _git(args: list[str], link: str) -> str:
    git = shutil.which("git")
    if git is None:
        raise UsageError(f"cannot lock {link}: git is not installed")
    done = subprocess.run([git, *args], capture_output=True, text=True, check=False,
                          env=None, timeout=600)
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or ["git failed"])[-1]
        raise UsageError(f"cannot lock {link}: {first}")
    return done.stdout
