"""Every exception crosspin raises on purpose.

All of them derive from :class:`CrosspinError`, so the CLI can turn any of
them into one ``error:`` line, an optional ``hint:`` line and an exit code,
without a traceback. Subclasses carry structured fields (file, line,
package, environments, url) and build their message in one place.

Exception tree::

    CrosspinError
    ├── UsageError                 bad command-line options (exit 2)
    ├── InputError                 bad requirement/config lines, collected (exit 2)
    ├── LockFileError              an unreadable or invalid lockfile (exit 2)
    ├── StaleLockError             the lock's inputs changed since it was compiled
    ├── InconsistentLockError      some environment of a lock is not closed/installable
    ├── IndexFetchError            an index or file could not be fetched (exit 1)
    │   └── OfflineCacheMiss       --offline and the cache lacks an answer
    ├── MetadataError              a distribution's metadata is unusable
    ├── BuildError                 an sdist or local project failed to build
    ├── ResolutionError            no set of versions satisfies the inputs
    │   ├── ProjectNotFoundError   a requirement names a project no index has
    │   ├── NoMatchingVersionError a requirement matches none of the versions
    │   ├── UploadCutoffError      --exclude-newer hides every matching release
    │   └── NotInstallableError    a needed package has no installable file
    │       ├── PythonFloorError   ... because of its Requires-Python
    │       └── PlatformOnlyError  ... because it has no file for some platforms
    ├── MatrixError                an environment outside the lock's matrix
    ├── HashMismatchError          a downloaded file has the wrong hash
    ├── OutputError                an output file (``-o``) cannot be written
    └── SyncError                  installing or uninstalling failed
        └── WheelError             a wheel is malformed: refused before anything changes
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs

__all__ = [
    "BuildError",
    "CrosspinError",
    "HashMismatchError",
    "InconsistentLockError",
    "IndexFetchError",
    "InputError",
    "LockFileError",
    "MatrixError",
    "MetadataError",
    "NoMatchingVersionError",
    "NotInstallableError",
    "OfflineCacheMiss",
    "OutputError",
    "PlatformOnlyError",
    "Problem",
    "ProjectNotFoundError",
    "PythonFloorError",
    "ResolutionError",
    "StaleLockError",
    "SyncError",
    "UploadCutoffError",
    "UsageError",
    "WheelError",
]


class CrosspinError(Exception):
    """Root of all errors raised from crosspin's own code.

    ``message`` is one line for the user; ``hint`` says what to do about it.
    """

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(CrosspinError):
    """The command line asks for something contradictory or malformed."""

    exit_code = 2


@attrs.frozen(kw_only=True)
class Problem:
    """One problem in an input file, with where it is.

    ``location`` is ``file:line`` for line-based files or ``file: key.path``
    for TOML, so the user can jump straight to it.
    """

    location: str
    reason: str

    def __str__(self) -> str:
        return f"{self.location}: {self.reason}"


class InputError(CrosspinError):
    """One or more input lines are invalid; all are reported together."""

    exit_code = 2

    def __init__(self, problems: Iterable[Problem], *, hint: str | None = None) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        if len(self.problems) == 1:
            message = str(self.problems[0])
        else:
            lines = "\n".join(f"  {p}" for p in self.problems)
            message = f"{len(self.problems)} problems in the input:\n{lines}"
        super().__init__(message, hint=hint or "fix the line(s) named above and run again")


class LockFileError(CrosspinError):
    """A lockfile (requirements.txt or pylock.toml) cannot be used."""

    exit_code = 2

    def __init__(
        self, path: str, reason: str, *, key: str | None = None, hint: str | None = None
    ) -> None:
        self.path = path
        self.key = key
        self.reason = reason
        where = f"{path}: {key}" if key else path
        super().__init__(
            f"{where}: {reason}",
            hint=hint or "regenerate the lock with 'crosspin compile' or fix it by hand",
        )


class StaleLockError(CrosspinError):
    """A lock's recorded input digest no longer matches its inputs (exit 1).

    ``command`` is the one that made the lock (its ``CUSTOM_COMPILE_COMMAND``
    when it has one): the hint says to run exactly that.

    Its own class, not a :class:`LockFileError`: the lock is valid, just
    out of date, and ``check`` exits 1 for it like for any failed check.
    """

    def __init__(
        self, path: str, inputs: str, *, reason: str = "", command: str | None = None
    ) -> None:
        self.path = path
        self.inputs = inputs
        self.command = command
        why = reason or f"{inputs} changed since it was compiled"
        super().__init__(
            f"{path} is stale: {why}",
            hint=f"run '{command or 'crosspin compile'}' to update {path}, then commit both",
        )


class InconsistentLockError(CrosspinError):
    """Some environment of a lock is not closed or has no installable file (exit 1)."""

    #: Problems listed in the message; the rest are counted.
    shown = 12

    def __init__(self, path: str, problems: Sequence[str]) -> None:
        self.path = path
        self.problems = tuple(problems)
        lines = [f"  {p}" for p in self.problems[: self.shown]]
        if len(self.problems) > self.shown:
            lines.append(f"  ... and {len(self.problems) - self.shown} more")
        count = len(self.problems)
        super().__init__(
            f"{path} is inconsistent ({count} problem{'s' if count != 1 else ''}):\n"
            + "\n".join(lines),
            hint=f"was it edited by hand? run 'crosspin compile' to regenerate {path}",
        )


class IndexFetchError(CrosspinError):
    """An index page, metadata file or distribution could not be fetched."""

    def __init__(
        self,
        url: str,
        reason: str,
        *,
        status: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.url = url
        self.status = status
        self.reason = reason
        status_text = f"HTTP {status}: " if status is not None else ""
        super().__init__(
            f"cannot fetch {url}: {status_text}{reason}",
            hint=hint or "check the index URL, your network and credentials",
        )


class OfflineCacheMiss(IndexFetchError):
    """``--offline`` was given and the cache has no answer for a URL."""

    def __init__(self, url: str) -> None:
        super().__init__(
            url,
            "not in the cache and --offline forbids the network",
            hint="run once without --offline to fill the cache",
        )


class _ReleaseError(CrosspinError):
    """An error about one release: ``<head> name 1.0 (name-1.0.tar.gz): <reason>``.

    ``package`` is the project's name, ``version`` its version and ``file``
    the file concerned, where known (never a temporary path); ``reason`` is
    short (the resolver quotes it when it skips the version); ``detail``
    follows the message on lines of its own.
    """

    def __init__(
        self,
        head: str,
        package: str,
        reason: str,
        *,
        version: str | None,
        file: str | None,
        url: str | None = None,
        detail: Sequence[str] = (),
        hint: str,
    ) -> None:
        self.package = package
        self.version = version
        self.file = file
        self.url = url
        self.reason = reason
        message = f"{head} {_release(package, version, file, url)}: {reason}"
        super().__init__("\n".join([message, *(f"    {line}" for line in detail)]), hint=hint)


class MetadataError(_ReleaseError):
    """A distribution's metadata is missing or cannot be parsed."""

    def __init__(self, package: str, reason: str, *, version: str | None = None,
                 file: str | None = None, url: str | None = None) -> None:
        super().__init__(
            "bad metadata for", package, reason, version=version, file=file, url=url,
            hint="the package's metadata is broken; exclude this version with a constraint",
        )


class BuildError(_ReleaseError):
    """Building an sdist or a local project (or its metadata) failed.

    ``output`` holds the last lines the backend printed, shown indented
    under the message.
    """

    def __init__(self, package: str, reason: str, *, version: str | None = None,
                 file: str | None = None, output: Sequence[str] = (),
                 hint: str | None = None) -> None:
        self.output = tuple(output)
        super().__init__(
            "cannot build", package, reason, version=version, file=file, detail=self.output,
            hint=hint or "pin a version that has wheels, or install the build requirements",
        )


class ResolutionError(CrosspinError):
    """No set of versions satisfies the inputs in some environments.

    ``chains`` are the conflicting requirement chains from the roots, one
    per line, e.g. ``-r requirements.in -> a==1.0 -> b<2``.
    """

    def __init__(
        self,
        reason: str,
        *,
        environments: Sequence[str] = (),
        chains: Sequence[str] = (),
        hint: str | None = None,
    ) -> None:
        self.environments = tuple(environments)
        self.chains = tuple(chains)
        self.reason = reason
        where = f" for {_summarise(self.environments)}" if self.environments else ""
        message = f"no solution{where}: {reason}"
        if self.chains:
            message += "\n" + "\n".join(f"  {c}" for c in self.chains)
        super().__init__(
            message,
            hint=hint or "relax the conflicting requirements, or narrow the matrix",
        )


class NotInstallableError(ResolutionError):
    """A needed package has no version installable in some environments.

    ``kind`` says why, for messages and hints: ``requires-python`` (then
    ``requires_python`` is the Requires-Python that sets the floor and
    ``lowest_python`` the lowest ``--python`` some version installs on, when
    known), ``no-wheel``, ``no-build``, ``invalid-metadata`` or
    ``build-failed``; ``None`` when not known.
    """

    def __init__(
        self,
        package: str,
        environments: Sequence[str],
        *,
        reason: str = "",
        kind: str | None = None,
        requires_python: str | None = None,
        lowest_python: str | None = None,
    ) -> None:
        self.package = package
        self.detail = reason
        self.kind = kind
        self.requires_python = requires_python
        self.lowest_python = lowest_python
        detail = f" ({reason})" if reason else ""
        super().__init__(
            f"no version of {package} can be installed{detail}",
            environments=environments,
            hint=_not_installable_hint(kind, lowest_python),
        )


def _not_installable_hint(kind: str | None, lowest_python: str | None) -> str:
    if kind == "requires-python":
        where = f" (e.g. --python '>={lowest_python}')" if lowest_python else ""
        return f"narrow --python to versions the package supports{where}"
    if kind == "no-build":
        return "allow source builds for it, or narrow the matrix (--python/--platform)"
    if kind == "build-failed":
        return ("the backend's error is above: install what the build needs, or pin a "
                "version that has wheels for these environments")
    if kind == "invalid-metadata":
        return "its releases' metadata is broken: pin a version whose metadata is valid"
    return "narrow the matrix (--python/--platform or [tool.crosspin])"


def _quoted_names(names: Sequence[str]) -> str:
    quoted = [f"'{n}'" for n in names]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


class ProjectNotFoundError(ResolutionError):
    """A requirement names a project that no index (nor find-links location) knows.

    ``location`` is where the requirement is written; ``index`` the first
    index asked and ``others`` how many more indexes and find-links locations
    were; ``close`` are existing names close to it (a typo's likely fix).
    """

    def __init__(
        self, package: str, *, location: str, index: str, others: int = 0,
        close: Sequence[str] = (),
    ) -> None:
        self.package = package
        self.location = location
        self.close = tuple(close)
        more = f" (nor on {others} other indexes and find-links)" if others else ""
        hint = (f"did you mean {_quoted_names(self.close)}?" if self.close else
                "check the spelling, or add the index that serves it with --extra-index-url")
        super().__init__(package, hint=hint)
        self.message = f"{location}: no project named '{package}' on {index}{more}"


class NoMatchingVersionError(ResolutionError):
    """A requirement's specifier matches none of the versions its project has.

    ``newest`` is the project's newest version, ``nearest`` the versions
    closest to what was asked (newest first).
    """

    def __init__(
        self, requirement: str, *, package: str, location: str, newest: str,
        nearest: Sequence[str] = (),
    ) -> None:
        self.package = package
        self.location = location
        self.nearest = tuple(nearest)
        hint = (f"the nearest versions are {', '.join(self.nearest)}" if len(self.nearest) > 1
                else f"the only version is {newest}")
        super().__init__(requirement, hint=hint)
        self.message = (f"{location}: {requirement} matches none of {package}'s versions on "
                        f"the index (newest: {newest})")


class UploadCutoffError(ResolutionError):
    """``--exclude-newer`` (or ``--uploaded-prior-to``) hides every release a requirement needs.

    ``cutoff`` is the option as given (``--exclude-newer 2023-06-01``);
    ``first`` the oldest hidden release that would match and ``uploaded``
    its upload day; ``move_to`` the day the option must reach to let it in.
    ``everything`` says the project has no release before the cut-off at all.
    """

    def __init__(
        self, requirement: str, *, package: str, location: str, cutoff: str, first: str,
        uploaded: str, move_to: str, everything: bool,
    ) -> None:
        self.package = package
        self.cutoff = cutoff
        option = cutoff.split(" ", 1)[0]
        super().__init__(requirement, hint=f"move {option} to {move_to} or later, or drop it")
        if everything:
            self.message = (f"every release of {package} was uploaded after {cutoff} "
                            f"(the first, {package} {first}, on {uploaded})")
        else:
            self.message = (f"{location}: {requirement} has no release uploaded before {cutoff} "
                            f"({package} {first}: {uploaded})")


class PythonFloorError(NotInstallableError):
    """No version of a package supports some Pythons of the matrix: its Requires-Python.

    ``pythons`` are the Python versions left out, ``lowest`` the lowest one
    some version supports; ``requirement`` the direct requirement on it, if
    there is one (a pin the user can limit with a marker).
    """

    def __init__(
        self, package: str, environments: Sequence[str], *, pythons: Sequence[str],
        requires_python: str, lowest: str | None, requirement: str | None = None,
    ) -> None:
        super().__init__(package, environments, kind="requires-python",
                         requires_python=requires_python, lowest_python=lowest)
        self.pythons = tuple(pythons)
        self.message = (f"no version of {package} supports Python {', '.join(self.pythons)}: "
                        f"{'its versions need' if requirement is None else 'every version needs'}"
                        f" Python {requires_python}")
        if lowest is None:
            self.hint = "drop those Pythons from the matrix (--python)"
        elif requirement is not None:
            self.hint = (f"lock for Python {lowest} and newer with --python '>={lowest}', or "
                         f"limit the pin: {requirement} ; python_version >= \"{lowest}\"")
        else:
            self.hint = (f"lock for Python {lowest} and newer: --python '>={lowest}' (or "
                         f"requires-python = \">={lowest}\" in pyproject.toml)")


class PlatformOnlyError(NotInstallableError):
    """No version of a package installs on some environments: no file for them.

    ``missing`` and ``installs_on`` describe where no version installs and
    where one does; ``marker`` selects the latter, to write beside the
    direct ``requirement`` on it (``None`` when there is no such line);
    ``only_sdist`` says the environments have an sdist that builds are not
    allowed for.
    """

    def __init__(
        self, package: str, environments: Sequence[str], *, missing: Sequence[str],
        installs_on: Sequence[str], marker: str | None = None, requirement: str | None = None,
        only_sdist: bool = False,
    ) -> None:
        super().__init__(package, environments, kind="no-build" if only_sdist else "no-wheel")
        self.missing = tuple(missing)
        self.installs_on = tuple(installs_on)
        self.marker = marker
        why = ("only an sdist, and building is not allowed (--no-build/--only-binary)"
               if only_sdist else "no wheel for them and no sdist")
        whole = all(m.endswith("(every Python)") for m in self.missing)
        if whole and not only_sdist and self.installs_on:
            self.message = (f"{package} has wheels only for {_platform_names(installs_on)}; "
                            f"no file installs on {_platform_names(missing)}")
        else:
            self.message = f"no version of {package} installs on {'; '.join(missing)}: {why}"
        if marker is not None and requirement is not None:
            self.hint = f"if you need it only where it installs, write it as: {requirement} ; " \
                        f"{marker}"
        elif not installs_on:
            self.hint = ("it installs on no environment of the matrix: lock for a platform it "
                         "has files for (--platform), or drop it")
        else:
            self.hint = "drop those environments from the matrix (--python/--platform)"


def _platform_names(described: Sequence[str]) -> str:
    """``linux-x86_64, macos-arm64 (every Python)`` groups as plain platform names."""
    return ", ".join(d.removesuffix(" (every Python)") for d in described)


class MatrixError(CrosspinError):
    """The target environment is not one that the lock covers."""

    def __init__(self, environment: str, matrix: str) -> None:
        self.environment = environment
        self.matrix = matrix
        super().__init__(
            f"this environment ({environment}) is outside the lock's matrix ({matrix})",
            hint="add it to the matrix and compile again, or use a matching interpreter",
        )


class HashMismatchError(CrosspinError):
    """A downloaded file's hash differs from the one the lock records."""

    def __init__(self, url: str, expected: str, actual: str) -> None:
        self.url = url
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"hash mismatch for {url}: expected {expected}, got {actual}",
            hint="the file changed on the index or in transit; nothing was installed",
        )


class OutputError(CrosspinError):
    """An output file cannot be written; the previous one is left as it was."""

    def __init__(self, path: str, reason: str, *, hint: str | None = None) -> None:
        self.path = path
        self.reason = reason
        super().__init__(
            f"cannot write {path}: {reason}",
            hint=hint or f"nothing was changed: {path} is as it was (check the disk and the "
                         "folder's permissions)",
        )


class SyncError(CrosspinError):
    """Installing into or uninstalling from the target environment failed."""


class WheelError(SyncError):
    """A wheel breaks a rule of the format (or disagrees with the lock): it is refused.

    Raised before the target changes; ``wheel`` is its file name and
    ``reason`` says which rule it breaks.
    """

    def __init__(self, wheel: str, reason: str) -> None:
        self.wheel = wheel
        self.reason = reason
        super().__init__(f"refusing {wheel}: {reason}",
                         hint="the wheel is malformed or not the one the lock names; "
                              "nothing was changed")


def _release(package: str, version: str | None, *where: str | None) -> str:
    """``name 1.0 (name-1.0.tar.gz)``: what a metadata or build error is about."""
    text = f"{package} {version}" if version else package
    places = [w for w in where if w and w != package]
    return f"{text} ({', '.join(places)})" if places else text


def _summarise(environments: Sequence[str]) -> str:
    if len(environments) <= 4 or any(")" in e for e in environments):
        return ", ".join(environments)
    return f"{', '.join(environments[:3])} and {len(environments) - 3} more environments"
