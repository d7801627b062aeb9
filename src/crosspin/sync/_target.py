"""The interpreter sync installs into: asked once, in a subprocess.

The target may be any CPython 3.8+ without ``packaging``, so the probe is a
stdlib-only script; wheel tags are computed here, on crosspin's side, with
:mod:`packaging.tags` from the facts the probe reports.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
from pathlib import Path

import attrs
from packaging import tags as _tags

from crosspin.environments import PLATFORMS, Platform
from crosspin.errors import SyncError

__all__ = ["Inspection", "Target", "inspect_target", "start_inspection"]

# Runs inside the target: stdlib only, Python 3.8 syntax, prints one JSON object.
_PROBE = r"""
import json, os, platform, struct, sys, sysconfig
impl = sys.implementation
v = impl.version
impl_version = "%d.%d.%d" % (v.major, v.minor, v.micro)
if v.releaselevel != "final":
    impl_version += v.releaselevel[0] + str(v.serial)
full = platform.python_version()
markers = {
    "implementation_name": impl.name,
    "implementation_version": impl_version,
    "os_name": os.name,
    "platform_machine": platform.machine(),
    "platform_python_implementation": platform.python_implementation(),
    "platform_release": platform.release(),
    "platform_system": platform.system(),
    "platform_version": platform.version(),
    "python_full_version": full,
    "python_version": ".".join(full.split(".")[:2]),
    "sys_platform": sys.platform,
}
glibc = None
try:
    glibc = os.confstr("CS_GNU_LIBC_VERSION")
except (AttributeError, ValueError, OSError):
    pass
paths = sysconfig.get_paths()
short = "%d.%d" % sys.version_info[:2]
managed = os.path.join(paths["stdlib"], "EXTERNALLY-MANAGED")
if sys.prefix != sys.base_prefix or not os.path.isfile(managed):
    managed = None
print(json.dumps({
    "executable": sys.executable,
    "prefix": sys.prefix,
    "version_info": list(sys.version_info[:3]),
    "markers": markers,
    "soabi": sysconfig.get_config_var("SOABI"),
    "ext_suffix": sysconfig.get_config_var("EXT_SUFFIX"),
    "gil_disabled": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
    "platform": sysconfig.get_platform(),
    "pointer_bits": struct.calcsize("P") * 8,
    "glibc": glibc,
    "mac_ver": platform.mac_ver()[0],
    "externally_managed": managed,
    "scheme": {
        "purelib": paths["purelib"],
        "platlib": paths["platlib"],
        "scripts": paths["scripts"],
        "data": paths["data"],
        "headers": os.path.join(sys.prefix, "include", "site", "python" + short),
    },
}))
"""


@attrs.frozen(kw_only=True)
class Target:
    """What sync needs to know about one interpreter.

    ``markers`` is its PEP 508 marker environment; ``tags`` the wheel tags it
    installs, most preferred first; ``scheme`` the install paths
    (purelib, platlib, scripts, data, headers) that ``installer`` writes to.
    """

    executable: str
    prefix: str
    version_info: tuple[int, int, int]
    markers: dict[str, str]
    tags: tuple[_tags.Tag, ...]
    scheme: dict[str, str]
    #: The PEP 668 ``EXTERNALLY-MANAGED`` file of a system interpreter (never
    #: set inside a virtual environment): its packages belong to the OS.
    externally_managed: str | None = None

    @property
    def python(self) -> tuple[int, int]:
        """``(major, minor)``."""
        return (self.version_info[0], self.version_info[1])

    @property
    def site_dirs(self) -> tuple[Path, ...]:
        """purelib and platlib (one folder when they are the same)."""
        dirs = [Path(self.scheme["purelib"]), Path(self.scheme["platlib"])]
        return tuple(dict.fromkeys(dirs))

    @property
    def description(self) -> str:
        """``3.12.1 on linux x86_64`` for messages."""
        m = self.markers
        return f"python {m['python_full_version']} on {m['sys_platform']} {m['platform_machine']}"

    @property
    def script_kind(self) -> str:
        """The launcher kind ``installer`` writes console scripts for."""
        if self.markers["os_name"] != "nt":
            return "posix"
        machine = self.markers["platform_machine"].lower()
        return {"amd64": "win-amd64", "arm64": "win-arm64"}.get(machine, "win-ia32")

    @classmethod
    def from_probe(cls, data: dict[str, object]) -> Target:
        """Build from what the probe script printed (tags computed here)."""
        markers = {str(k): str(v) for k, v in dict(data["markers"]).items()}  # type: ignore[call-overload]
        version = tuple(int(x) for x in data["version_info"])  # type: ignore[attr-defined]
        scheme = {str(k): str(v) for k, v in dict(data["scheme"]).items()}  # type: ignore[call-overload]
        return cls(
            executable=str(data["executable"]),
            prefix=str(data["prefix"]),
            version_info=(version[0], version[1], version[2]),
            markers=markers,
            tags=_compute_tags(data, markers, (version[0], version[1])),
            scheme=scheme,
            externally_managed=(str(data["externally_managed"])
                                if data.get("externally_managed") else None),
        )


def inspect_target(python: Path) -> Target:
    """Run ``python`` once to learn its markers, tags and install scheme."""
    return start_inspection(python).result()


def start_inspection(python: Path) -> Inspection:
    """Start :func:`inspect_target`'s probe; the caller reads the lock meanwhile."""
    return Inspection(python)


class Inspection:
    """A running probe of one interpreter: :meth:`result` waits for it, :meth:`close`
    stops it when it is no longer wanted (a lock that failed to read)."""

    def __init__(self, python: Path) -> None:
        self._python = python
        self._proc: subprocess.Popen[str] | None = None
        self._error: OSError | None = None
        try:
            self._proc = subprocess.Popen(
                [str(python), "-I", "-c", _PROBE], stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        except OSError as exc:  # reported by result(), after the lock's own errors
            self._error = exc

    def result(self) -> Target:
        """The target, or ``SyncError`` when the interpreter cannot be run or asked."""
        python = self._python
        if self._proc is None:
            exc = self._error
            raise SyncError(
                f"cannot run {python}: {(exc.strerror if exc else None) or exc}",
                hint="pass --python PATH or --venv DIR of an existing environment",
            ) from None
        try:
            stdout, stderr = self._proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.close()
            raise SyncError(f"{python} did not answer within 60s") from None
        if self._proc.returncode != 0:
            last = (stderr.strip().splitlines() or ["no output"])[-1]
            raise SyncError(f"cannot inspect {python}: {last}")
        try:
            data = json.loads(stdout)
        except ValueError:
            raise SyncError(f"cannot inspect {python}: unexpected output") from None
        return Target.from_probe(data)

    def close(self) -> None:
        """Stop the probe if it still runs (it changes nothing: killing it is safe)."""
        proc = self._proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(OSError):
                proc.kill()
            with contextlib.suppress(OSError, subprocess.SubprocessError, ValueError):
                proc.communicate(timeout=5)


def _abi(data: dict[str, object], python: tuple[int, int]) -> str:
    soabi = data.get("soabi")
    if isinstance(soabi, str) and soabi.startswith("cpython-"):
        return "cp" + soabi.split("-")[1]
    suffix = data.get("ext_suffix")
    if isinstance(suffix, str) and suffix.startswith(".cp"):
        return suffix.split(".")[1].split("-")[0]
    return f"cp{python[0]}{python[1]}" + ("t" if data.get("gil_disabled") else "")


def _platform_tags(data: dict[str, object], markers: dict[str, str]) -> tuple[str, ...]:
    machine = markers["platform_machine"]
    system = markers["sys_platform"]
    if system == "linux":
        arch = machine if int(str(data.get("pointer_bits", 64))) == 64 else "i686"
        glibc = _glibc(data.get("glibc"))
        if glibc is None:  # musl or unknown libc: only plain linux wheels
            return (f"linux_{arch}",)
        base: Platform = PLATFORMS["linux-x86_64"]
        return attrs.evolve(base, name=f"linux-{arch}", arch=arch, glibc=glibc).platform_tags
    if system == "darwin":
        mac = str(data.get("mac_ver") or "")
        parts = [int(p) for p in mac.split(".")[:2] if p.isdigit()] or [11, 0]
        release = (parts[0], parts[1] if len(parts) > 1 else 0)
        arch = "arm64" if machine == "arm64" else "x86_64"
        return tuple(_tags.mac_platforms(release, arch))
    plat = str(data.get("platform") or "")
    return (plat.replace("-", "_").replace(".", "_"),)


def _glibc(value: object) -> tuple[int, int] | None:
    if not isinstance(value, str) or not value.startswith("glibc "):
        return None
    parts = value.split()[1].split(".")
    try:
        return (int(parts[0]), int(parts[1]))
    except (IndexError, ValueError):
        return None


def _compute_tags(
    data: dict[str, object], markers: dict[str, str], python: tuple[int, int]
) -> tuple[_tags.Tag, ...]:
    platforms = _platform_tags(data, markers)
    if markers["implementation_name"] == "cpython":
        abi = _abi(data, python)
        interpreter = f"cp{python[0]}{python[1]}"
        return (
            *_tags.cpython_tags(python, abis=[abi], platforms=platforms),
            *_tags.compatible_tags(python, interpreter, platforms),
        )
    return tuple(_tags.compatible_tags(python, None, platforms))
