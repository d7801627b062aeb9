"""PEP 517 metadata builds: an isolated environment, quiet hooks, a deadline, the run's indexes.

When neither an sdist's ``PKG-INFO`` nor its ``pyproject.toml`` can say
its dependencies (``_sdist``), and for local projects with dynamic
dependencies, the backend is asked: a fresh virtual environment gets the
build requirements (``[build-system] requires``, then what
``get_requires_for_build_wheel`` adds), installed by pip from exactly the
run's indexes (:class:`BuildSettings`, passed through pip's environment
and never on a command line, where credentials would show in ``ps``;
pip's own configuration files and ``PIP_*`` variables are ignored, crosspin
has already read them). Then ``prepare_metadata_for_build_wheel`` (or a
wheel build) writes a ``.dist-info`` whose ``METADATA`` *bytes* are read
as they are -- never re-serialised.

Every child runs through :func:`~crosspin.metadata._process.run_child`:
output captured (shown with ``-v``), the last lines in the error, a
deadline per step (``CROSSPIN_BUILD_TIMEOUT``), killed with its process
group on timeout or interrupt. A backend's Python warnings (setuptools'
deprecation banners) are re-issued by ``pyproject_hooks`` in this process
as ``BuildBackendWarning``; they are dropped, never printed.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path

import attrs

from crosspin.errors import BuildError
from crosspin.metadata._archives import SdistLimits
from crosspin.metadata._process import (
    ChildFailed,
    ChildStopped,
    ChildTimedOut,
    run_child,
)

__all__ = ["BuildSettings", "Release", "prepare_metadata", "summary"]

#: The largest METADATA file a backend may write that crosspin reads.
_METADATA_CAP = 16 << 20


@attrs.frozen(kw_only=True)
class BuildSettings:
    """How sdists and local projects are unpacked and built to learn their metadata.

    ``pip_variables`` are the ``PIP_*`` variables that make the child pip
    look exactly where the run looks (``crosspin.settings`` derives them
    from the run's index settings); ``None`` leaves pip to this process's
    own configuration (for callers without index settings). ``timeout``
    (seconds) bounds each step: making the build environment, installing
    its requirements, each backend hook. ``limits`` caps the sdist. Frozen
    and hashable: part of a compile's settings.
    """

    pip_variables: tuple[tuple[str, str], ...] | None = None
    timeout: float = 3600.0
    limits: SdistLimits = SdistLimits()

    def pip_environment(self, base: Mapping[str, str]) -> dict[str, str]:
        """The environment of the pip that installs build requirements.

        ``base`` without its ``PIP_*`` variables, plus :attr:`pip_variables`:
        pip reads index URLs (and their credentials) from its environment,
        so they stay out of every command line.
        """
        if self.pip_variables is None:
            return dict(base)
        env = {k: v for k, v in base.items() if not k.upper().startswith("PIP_")}
        env.update(self.pip_variables)
        return env


@attrs.frozen(kw_only=True)
class Release:
    """What is being built, for messages: ``name 1.0 (name-1.0.tar.gz)``."""

    name: str
    version: str | None = None
    file: str | None = None

    def error(self, reason: str, output: Sequence[str] = (), hint: str | None = None
              ) -> BuildError:
        """A :class:`BuildError` about this release."""
        return BuildError(self.name, reason, version=self.version, file=self.file,
                          output=output, hint=hint)


def prepare_metadata(
    tree: Path,
    release: Release,
    *,
    settings: BuildSettings,
    log: Callable[[str], None] | None = None,
) -> bytes:
    """The ``METADATA`` bytes the backend of the project in ``tree`` prepares.

    Raises :class:`BuildError` naming ``release`` (never a temporary path)
    with the backend's last lines when anything fails or the deadline passes.
    """
    # lazy: build is slow to import, and most runs build nothing.
    import build
    import pyproject_hooks

    # pyproject_hooks re-issues every UserWarning of the backend here, where
    # Python would print it (with its temporary path) on stderr.
    warnings.filterwarnings("ignore", category=pyproject_hooks.BuildBackendWarning)
    with tempfile.TemporaryDirectory(prefix="crosspin-build-") as work:
        hooks = _Hooks(settings=settings, release=release, log=log, env_dir=Path(work) / "env",
                       hidden=_hidden_paths(tree, Path(work), release))
        try:
            builder = build.ProjectBuilder(tree, runner=hooks.run)
            hooks.install(builder.build_system_requires)
            builder = build.ProjectBuilder(tree, python_executable=hooks.python,
                                           runner=hooks.run)
            hooks.install(builder.get_requires_for_build("wheel"))
            dist_info = Path(builder.metadata_path(Path(work) / "metadata"))
        except build.BuildBackendException as exc:
            raise hooks.failure(exc.exception, str(exc)) from None
        except build.BuildException as exc:
            raise release.error(_first_line(str(exc)) or "invalid build configuration") from None
        except (ChildFailed, ChildTimedOut, ChildStopped) as exc:
            raise hooks.failure(exc, "") from None
        return _read_metadata(dist_info, Path(work) / "metadata", release)


@attrs.define(kw_only=True)
class _Hooks:
    """One build's children: the isolated environment and the hook runner."""

    settings: BuildSettings
    release: Release
    log: Callable[[str], None] | None
    env_dir: Path
    #: Temporary paths and what to show instead (output must never name them).
    hidden: tuple[tuple[str, str], ...] = ()
    python: str = sys.executable
    #: What is running now, for messages ("installing build requirements (...)").
    step: str = "the build backend failed"
    created: bool = False
    #: The last lines of the latest child, for failures the hook reports itself.
    output: tuple[str, ...] = ()

    def run(self, cmd: Sequence[str], cwd: str | None = None,
            extra_environ: Mapping[str, str] | None = None) -> None:
        """A ``pyproject_hooks`` runner: the hook in its own group, quiet, under the deadline."""
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith("PIP_")}
        env.update(extra_environ or {})
        if self.created:
            scripts = str(Path(self.python).parent)
            env["PATH"] = os.pathsep.join(p for p in (scripts, env.get("PATH", "")) if p)
            env.pop("PYTHONHOME", None)
        self.step = "the build backend failed"
        self._child(cmd, cwd=cwd, env=env)

    def install(self, requirements: Collection[str]) -> None:
        """Install ``requirements`` into the isolated environment (made on first use)."""
        if not self.created:
            self._create()
        wanted = sorted(set(requirements))
        if not wanted:
            return
        self.step = f"cannot install the build requirements ({', '.join(wanted)})"
        listing = self.env_dir.parent / "build-requirements.txt"
        listing.write_text("\n".join(wanted) + "\n", encoding="utf-8")
        pip = self._pip()
        self._child([*pip, "install", "--no-warn-script-location", "--no-compile",
                     "--use-pep517", "-r", str(listing)],
                    cwd=None, env=self.settings.pip_environment(
                        {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}))

    def failure(self, exc: BaseException, message: str) -> BuildError:
        """The :class:`BuildError` for a failed step."""
        if isinstance(exc, ChildTimedOut):
            return self.release.error(
                f"timed out after {exc.seconds:g} s", self._shown(exc.output),
                hint="raise CROSSPIN_BUILD_TIMEOUT (seconds) if the build needs longer")
        if isinstance(exc, ChildStopped):
            return self.release.error("interrupted")
        if isinstance(exc, ChildFailed):
            output = self._shown(exc.output)
            key = summary(output)
            # The key line is in the message: output that is only that line says nothing more.
            shown = () if [line.strip() for line in output if line.strip()] == [key] else output
            return self.release.error(
                f"{self.step}: {key or f'exit status {exc.returncode}'}", shown)
        detail = self._redact(_first_line(str(exc)) or _first_line(message)
                              or type(exc).__name__)
        return self.release.error(f"{self.step}: {detail}", self._shown(self.output))

    def _child(self, cmd: Sequence[str], *, cwd: str | None, env: Mapping[str, str]) -> None:
        self.output = ()
        timeout = self.settings.timeout
        self.output = run_child(cmd, cwd=cwd, env=env, deadline=time.monotonic() + timeout,
                                timeout=timeout, log=self._echo if self.log else None)

    def _echo(self, line: str) -> None:
        """One line of a child's output for ``-v``: indented, temporary paths hidden."""
        if self.log is not None:
            self.log(f"    {self._redact(line)}")

    def _redact(self, line: str) -> str:
        for path, shown in self.hidden:
            line = line.replace(path, shown)
        return line

    def _shown(self, lines: Sequence[str]) -> tuple[str, ...]:
        return tuple(self._redact(line) for line in lines)

    def _create(self) -> None:
        # lazy: only a build needs an environment.
        import venv

        self.step = "cannot make an isolated build environment"
        try:
            venv.EnvBuilder(symlinks=os.name != "nt", with_pip=not _outer_pip()
                            ).create(self.env_dir)
        except (OSError, ValueError, RuntimeError) as exc:  # incl. ensurepip's CalledProcessError
            raise self.release.error(f"{self.step}: {exc}") from None
        scripts = "Scripts" if os.name == "nt" else "bin"
        suffix = ".exe" if os.name == "nt" else ""
        self.python = str(self.env_dir / scripts / f"python{suffix}")
        self.created = True

    def _pip(self) -> list[str]:
        if _outer_pip():
            return [sys.executable, "-m", "pip", "--python", self.python]
        return [self.python, "-Im", "pip"]


def _outer_pip() -> bool:
    """Whether the running interpreter has a pip that can install into another one (>= 22.3)."""
    if importlib.util.find_spec("pip") is None:
        return False
    # lazy: importlib.metadata pulls in email (~20 ms): only a build needs it.
    from importlib import metadata

    try:
        version = metadata.version("pip")
    except metadata.PackageNotFoundError:
        return False
    parts = [int(p) if p.isdigit() else 0 for p in version.split(".")[:2]]
    return ([*parts, 0])[:2] >= [22, 3]


def _read_metadata(dist_info: Path, root: Path, release: Release) -> bytes:
    """The METADATA bytes of the prepared ``dist_info`` (which must lie under ``root``)."""
    path = dist_info / "METADATA"
    try:
        if not path.resolve().is_relative_to(root.resolve()):
            raise release.error("the backend wrote its metadata outside the build folder")
        with path.open("rb") as handle:
            data = handle.read(_METADATA_CAP + 1)
    except OSError as exc:
        raise release.error(f"the backend wrote no readable METADATA ({exc.strerror})") from None
    if len(data) > _METADATA_CAP:
        raise release.error(f"the backend's METADATA is larger than {_METADATA_CAP >> 20} MiB")
    return data


#: A line that says what went wrong: ``RuntimeError: ...``, ``ERROR: ...``, ``error: ...``.
_ERROR_LINE = re.compile(
    r"^\s*(?:[\w.]*(?:Error|Exception|Exit)|error|ERROR|fatal error|FATAL)\b:?\s*(?P<rest>.*)$")


def summary(lines: Sequence[str]) -> str:
    """The line of a build's output that best says what went wrong.

    The last line that reads like an error (``ValueError: ...``,
    ``ERROR: ...``); when that line has nothing after its colon (a message on
    the lines below, as in NVIDIA's placeholders), the next line that has
    words joins it. Else the last line with a letter or a digit.
    """
    for index in range(len(lines) - 1, -1, -1):
        match = _ERROR_LINE.match(lines[index])
        if match is None:
            continue
        text = lines[index].strip()
        if not match.group("rest"):
            following = next((line.strip() for line in lines[index + 1:]
                              if re.search(r"[A-Za-z]{2}", line)), "")
            text = f"{text} {following}".strip()
        return text
    return next((line.strip() for line in reversed(lines) if re.search(r"\w", line)), "")


def _hidden_paths(tree: Path, work: Path, release: Release) -> tuple[tuple[str, str], ...]:
    """Temporary paths a build's output may name, longest first, with their stand-ins.

    An unpacked sdist (``release.file`` set) is a temporary folder too; a
    local project's own folder is the user's and stays as it is.
    """
    places = [(work, "<build>")]
    if release.file:
        places.append((tree, f"<{release.file}>"))
    pairs = {}
    for path, shown in places:
        for variant in {str(path), os.path.realpath(path)}:
            pairs[variant] = shown
    return tuple(sorted(pairs.items(), key=lambda pair: -len(pair[0])))


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else ""
