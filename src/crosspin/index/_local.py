"""Local sources: ``file://`` simple indexes and find-links folders.

A ``file://`` index is read like a remote one: ``<root>/<name>/index.html``
when it exists (links resolve against it), else the files of the folder;
a missing folder means the index does not know the project. A find-links
folder lists its distribution files; their hashes are *not* computed here
(``/opt/wheels``-style folders hold multi-hundred-megabyte wheels and most
files are never chosen) -- callers hash the files they lock.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from packaging.utils import canonicalize_name

from crosspin.index._html import parse_html
from crosspin.index._page import Link
from crosspin.index._urls import file_url_to_path, is_file_url

__all__ = ["find_links_listing", "local_path", "local_project_page"]


def local_path(location: str) -> Path:
    """The local path of a ``file:`` URL or a plain path."""
    return file_url_to_path(location) if is_file_url(location) else Path(location)


def _html_file(path: Path, clean: Callable[[str], str]) -> list[Link]:
    text = path.read_bytes().decode("utf-8", errors="replace")
    return parse_html(text, path.absolute().as_uri(), clean)


def _folder(path: Path) -> list[Link]:
    links: list[Link] = []
    for entry in sorted(path.iterdir()):
        if entry.is_file() and not entry.name.startswith("."):
            links.append(Link(filename=entry.name, url=entry.absolute().as_uri()))
    return links


def local_project_page(
    index_url: str, project: str, clean: Callable[[str], str]
) -> list[Link] | None:
    """Links of a project in a ``file://`` index; ``None`` when it has no such project."""
    root = local_path(index_url)
    folder = root / project
    try:
        if not folder.exists() and root.is_dir():
            # Hand-made indexes may not normalise folder names ("Foo_Bar/").
            for entry in root.iterdir():
                if canonicalize_name(entry.name) == project and entry.is_dir():
                    folder = entry
                    break
        page = folder / "index.html"
        if page.is_file():
            return _html_file(page, clean)
        if folder.is_dir():
            return _folder(folder)
    except OSError:
        return None
    return None


def find_links_listing(location: str, clean: Callable[[str], str]) -> list[Link]:
    """Links of a local find-links location: a folder, or an HTML file of links.

    A location that does not exist lists nothing (pip warns and goes on).
    """
    path = local_path(location)
    try:
        if path.is_dir():
            return _folder(path)
        if path.is_file():
            return _html_file(path, clean)
    except OSError:
        return []
    return []
