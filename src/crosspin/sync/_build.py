"""Building an sdist into a wheel for the target interpreter.

The backend runs under the *target* Python (``pyproject_hooks``), so the
wheel fits it. Only sdists whose build requirements are empty are built:
installing build requirements into an isolated environment of the target
is not supported yet.
"""

from __future__ import annotations

import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

from crosspin.errors import BuildError

__all__ = ["build_wheel"]


def build_wheel(sdist: Path, python: str, out_dir: Path, *, name: str) -> Path:
    """Build ``sdist`` with ``python``; return the wheel's path in ``out_dir``."""
    import build

    work = Path(tempfile.mkdtemp(prefix="crosspin-build-", dir=out_dir))
    source = _unpack(sdist, work / "src", name)
    try:
        builder = build.ProjectBuilder(source, python_executable=python)
        requires = set(builder.build_system_requires)
        if requires:
            raise BuildError(name, "building with build requirements ("
                             f"{', '.join(sorted(requires))}) is not supported by sync yet")
        extra = builder.get_requires_for_build("wheel")
        if extra:
            raise BuildError(name, f"the backend needs {', '.join(sorted(extra))} to build")
        return Path(builder.build("wheel", str(out_dir)))
    except build.BuildException as exc:
        raise BuildError(name, str(exc).splitlines()[0] if str(exc) else "backend failed") from None
    except build.BuildBackendException as exc:
        raise BuildError(name, f"the backend failed: {exc.exception!r}") from None


def _unpack(sdist: Path, dest: Path, name: str) -> Path:
    dest.mkdir(parents=True)
    if sdist.name.endswith(".zip"):
        with zipfile.ZipFile(sdist) as zf:
            for entry in zf.namelist():
                _check_member(entry, name)
            zf.extractall(dest)
    else:
        with tarfile.open(sdist) as tf:
            for member in tf.getmembers():
                _check_member(member.name, name)
                if not (member.isfile() or member.isdir()):
                    raise BuildError(name, f"sdist member {member.name!r} is not a plain file")
            if sys.version_info >= (3, 12):
                tf.extractall(dest, filter="data")
            else:
                tf.extractall(dest)
    entries = [p for p in dest.iterdir()]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return dest


def _check_member(member: str, name: str) -> None:
    parts = member.replace("\\", "/").split("/")
    if member.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
        raise BuildError(name, f"sdist member {member!r} points outside the archive")
