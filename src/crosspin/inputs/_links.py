"""Turn one requirement as written into a PEP 508 requirement and, for direct ones, a link.

pip accepts more than PEP 508 on a requirements line: bare URLs
(``https://host/foo-1.0.tar.gz``), VCS URLs with ``#egg=name``, and local
paths (``./pkgs/foo-1.0-py3-none-any.whl``, ``../libs/bar[extra]``). Each
becomes ``name[extras] @ absolute-url ; marker`` so later stages see one
shape. Relative paths are relative to the folder of the file they are
written in, as pip has them.
"""

from __future__ import annotations

import configparser
import re
import sys
import urllib.parse
from pathlib import Path

import attrs
from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name

from crosspin.distributions import parse_filename

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on old Pythons only
    import tomli as tomllib

__all__ = ["Direct", "interpret", "invalid", "static_project_name"]

# A URL scheme of two letters or more, so "C:\\path" is not taken for a URL.
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")
_VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")
_ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tbz", ".tar.xz", ".tar")
_EXTRAS_RE = re.compile(r"^(?P<path>.*?)(?P<extras>\[[^\]]*\])$")


@attrs.frozen(kw_only=True)
class Direct:
    """A requirement as PEP 508, its link (``None`` for index requirements), and files read."""

    requirement: Requirement
    link: str | None = None
    files: tuple[Path, ...] = ()
    #: The link is a local path the user wrote relative (kept relative in locks).
    relative: bool = False


def interpret(text: str, *, folder: Path, editable: bool = False) -> Direct | str:
    """Interpret a requirement written in a file in ``folder``.

    Returns a :class:`Direct` or, for bad input, the reason as a string (the
    caller knows the location). Editables must be local directories or VCS
    URLs, as pip requires.
    """
    if _SCHEME_RE.match(text):
        url, marker = _split_marker(text, "; ")
        return _from_url(url, _Spec(None, "", marker, folder, editable))
    if editable and (folder / _EXTRAS_RE.sub(r"\g<path>", text.split(";")[0].strip())).is_dir():
        # pip: "-e name" is a folder when one of that name exists.
        return _from_path_text(text, folder=folder, editable=editable)
    try:
        requirement = Requirement(text)
    except InvalidRequirement as exc:
        if _looks_like_path(text):
            return _from_path_text(text, folder=folder, editable=editable)
        return invalid(text, exc)
    if requirement.url is None:
        if text.endswith(_ARCHIVE_SUFFIXES) and (folder / text).is_file():
            return _from_path_text(text, folder=folder, editable=editable)
        if editable:
            return f"an editable requirement must be a local directory or a VCS URL, not {text!r}"
        return Direct(requirement=requirement)
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    marker = str(requirement.marker) if requirement.marker else None
    return _from_url(requirement.url, _Spec(requirement.name, extras, marker, folder, editable))


def invalid(text: str, exc: Exception, *, what: str = "requirement") -> str:
    """One-line reason for an invalid requirement: the text and packaging's message.

    packaging's messages span three lines (message, text, caret); a problem
    must stay on one line, and quoting the text says the same.
    """
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"invalid {what} {text!r}: {message}"


def static_project_name(folder: Path) -> tuple[NormalizedName | None, tuple[Path, ...]]:
    """The project name a local project states without building, and the files read.

    ``[project] name`` of ``pyproject.toml`` first, then ``[metadata] name``
    of ``setup.cfg``; ``None`` when neither states one.
    """
    read: list[Path] = []
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file():
        read.append(pyproject)
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            data = {}
        project = data.get("project")
        if isinstance(project, dict) and isinstance(project.get("name"), str):
            return canonicalize_name(project["name"]), tuple(read)
    setup_cfg = folder / "setup.cfg"
    if setup_cfg.is_file():
        read.append(setup_cfg)
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string(setup_cfg.read_text(encoding="utf-8"))
            name = parser.get("metadata", "name", fallback=None)
        except (OSError, UnicodeDecodeError, configparser.Error):
            name = None
        if name and not name.startswith("attr:"):
            return canonicalize_name(name.strip()), tuple(read)
    return None, tuple(read)


def _split_marker(text: str, separator: str) -> tuple[str, str | None]:
    # pip's rule: a URL's marker needs "; " since ";" may be part of a URL.
    if separator in text:
        head, _, tail = text.partition(separator)
        return head.strip(), tail.strip() or None
    return text.strip(), None


def _looks_like_path(text: str) -> bool:
    return "/" in text or "\\" in text or text.startswith(".") or text.endswith(_ARCHIVE_SUFFIXES)


def _is_archive(link: str) -> bool:
    return urllib.parse.urlsplit(link).path.endswith(_ARCHIVE_SUFFIXES)


@attrs.frozen
class _Spec:
    """What is known besides the location: given name, extras, marker, folder, editable."""

    name: str | None
    extras: str
    marker: str | None
    folder: Path
    editable: bool


def _from_path_text(text: str, *, folder: Path, editable: bool) -> Direct | str:
    path_text, marker = _split_marker(text, ";")
    extras = ""
    match = _EXTRAS_RE.match(path_text)
    if match and not (folder / path_text).exists():
        path_text, extras = match.group("path"), match.group("extras")
        try:
            Requirement(f"x{extras}")
        except InvalidRequirement:
            return f"invalid extras {extras!r}"
    return _from_path(Path(path_text), path_text, _Spec(None, extras, marker, folder, editable))


def _from_path(path: Path, written: str, spec: _Spec) -> Direct | str:
    full = path if path.is_absolute() else spec.folder / path
    if not full.exists():
        return f"no such file or directory: {written}"
    full = full.resolve()
    link = full.as_uri()
    if full.is_dir():
        found, files = static_project_name(full)
        name = spec.name or found
        if name is None:
            return f"cannot determine the name of {written}; write it as 'name @ {written}'"
        return _relative(_direct(name, spec, link, files), path)
    if spec.editable:
        return f"an editable requirement must be a local directory or a VCS URL, not {written!r}"
    parsed = parse_filename(full.name)
    if parsed is None:
        return f"{written} is neither a wheel nor an sdist"
    return _relative(_direct(parsed[0], spec, link, ()), path)


def _relative(result: Direct | str, path: Path) -> Direct | str:
    if isinstance(result, Direct) and not path.is_absolute():
        return attrs.evolve(result, relative=True)
    return result


def _from_url(url: str, spec: _Spec) -> Direct | str:
    split = urllib.parse.urlsplit(url)
    if not _SCHEME_RE.match(url):
        # "name @ ./path" is not PEP 508, but pip-style files have it: a relative path.
        return _from_path(Path(url), url, spec)
    if split.scheme == "file":
        if split.netloc not in ("", "localhost"):
            return f"file URLs on other hosts are not supported: {url}"
        # lazy: urllib.request pulls in http.client, email and ssl; few inputs are file URLs.
        from urllib.request import url2pathname

        # "file:../x" (no slashes) is not a valid URL; people mean a relative path.
        return _from_path(Path(url2pathname(split.path)), url, spec)
    egg = _egg_name(split.fragment)
    if isinstance(egg, str):
        return egg
    is_vcs = split.scheme.startswith(_VCS_PREFIXES)
    if spec.editable and not is_vcs:
        return f"an editable requirement must be a local directory or a VCS URL, not {url!r}"
    if not (split.netloc or split.path):
        return f"invalid URL {url!r}"
    if spec.name is not None:
        return _direct(spec.name, spec, url, ())
    if egg is not None:
        name, egg_extras = egg
        return _direct(name, attrs.evolve(spec, extras=spec.extras or egg_extras), url, ())
    if not is_vcs:
        filename = urllib.parse.unquote(split.path.rsplit("/", 1)[-1])
        parsed = parse_filename(filename)
        if parsed is not None:
            return _direct(parsed[0], spec, url, ())
    return f"cannot determine the name of {url}; write it as 'name @ {url}'"


def _egg_name(fragment: str) -> tuple[str, str] | str | None:
    for part in fragment.split("&"):
        key, _, value = part.partition("=")
        if key == "egg" and value:
            try:
                requirement = Requirement(value)
            except InvalidRequirement:
                return f"invalid #egg= name {value!r}"
            extras = requirement.extras
            return requirement.name, f"[{','.join(sorted(extras))}]" if extras else ""
    return None


def _direct(name: str, spec: _Spec, link: str, files: tuple[Path, ...]) -> Direct | str:
    if spec.name is not None and _is_archive(link):
        found = parse_filename(
            urllib.parse.unquote(urllib.parse.urlsplit(link).path).rsplit("/", 1)[-1]
        )
        if found is not None and found[0] != canonicalize_name(spec.name):
            return f"the name {spec.name!r} does not match the file, which is for {found[0]!r}"
    text = f"{name}{spec.extras} @ {link}"
    if spec.marker:
        try:
            Marker(spec.marker)
        except InvalidMarker as exc:
            return invalid(spec.marker, exc, what="marker")
        text += f" ; {spec.marker}"
    try:
        requirement = Requirement(text)
    except InvalidRequirement as exc:
        return invalid(text, exc)
    return Direct(requirement=requirement, link=link, files=files)
