"""The no-op ``crosspin sync``, answered from a stamp before anything heavy is imported.

A sync that finds nothing to do records a *stamp*: one line in crosspin's
cache folder (``sync-stamps/``, one file per environment and command line,
mode 0600, replaced in one step) holding a sha256 of everything that answer depended
on: the command line, the working folder, the ``CROSSPIN_*``/``PIP_*``
variables and the few others sync reads, the bytes of every lock and of
every configuration file sync would read, crosspin itself (version and the
stat of its modules and of ``sys.path``), the target interpreter (path, real
path, stat, ``pyvenv.cfg``), the host's ``uname`` and the target's installed
set: the stat of every site-packages folder and, in it, of every
``.dist-info``/``.egg-info`` folder and of the METADATA (PKG-INFO) and
direct_url.json files the plan reads (docs/sync.md says what that covers).

The next ``crosspin sync`` with the same command line computes the same
digest (stdlib only, a few milliseconds) and, when the stamp holds it,
prints what that sync printed and exits 0 without importing click, attrs,
packaging or the lock reader. Any doubt -- an option this module does not
know, a file it cannot read, a missing, corrupt or foreign stamp -- falls
through to the full sync. The stamp is only ever compared, never parsed
into anything: its name comes from the target's own path.
``CROSSPIN_NO_STAMP=1`` turns stamps off (neither read nor written).
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
import time

import crosspin

# Not typing.TYPE_CHECKING: typing and collections cost more to import than this module's
# whole answer (mypy treats the name the same).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = ["OFF_VARIABLE", "UP_TO_DATE", "answer", "forget", "record"]

#: Set to anything but ``0`` (or empty): no stamp is read or written.
OFF_VARIABLE = "CROSSPIN_NO_STAMP"

#: What ``crosspin sync`` prints (to stderr) when nothing needs to change.
UP_TO_DATE = "Everything up to date"

_STAMPS = "sync-stamps"
_HEADER = "crosspin sync stamp 1 "
#: Locks and configuration files larger than this fall through (sync reads at most 16 MiB).
_MAX_FILE = 16 * 1024 * 1024
#: A file changed within this long before its stat was taken may change again without a
#: new mtime (the kernel stamps files from a clock that ticks every few milliseconds; FAT
#: and HFS+ keep whole seconds): a stamp resting on such a stat is not written.
_RACY_NS = 50_000_000
_RACY_COARSE_NS = 2_000_000_000

#: Options of ``crosspin sync`` that cannot change what a no-op does or prints beyond
#: what the digest covers (they are part of it, as written).
_FLAGS = frozenset({
    "-n", "--dry-run", "-a", "--ask", "--no-build", "--force", "--compile-bytecode",
    "--break-system-packages", "--color", "--no-color", "--no-index", "--isolated",
    "--offline",
})
_VALUED = frozenset({
    "--keep", "--extras", "--group", "--link-mode", "-i", "--index-url",
    "--extra-index-url", "-f", "--find-links", "--trusted-host", "--cert", "--client-cert",
})
#: Options this module reads itself.
_OWN = frozenset({"--python", "--python-executable", "--venv", "--cache-dir"})
#: Environment variables sync reads besides ``CROSSPIN_*`` and ``PIP_*``.
_VARIABLES = ("VIRTUAL_ENV", "HOME", "XDG_CACHE_HOME", "USERPROFILE", "LOCALAPPDATA")


class _Unsure(Exception):
    """Something this module cannot answer exactly: the full sync decides."""


class _Invocation:
    """A plain ``crosspin sync`` command line, as far as the fast path needs it."""

    def __init__(self, argv: Sequence[str], locks: Sequence[str], values: dict[str, str],
                 *, quiet: bool, config: bool) -> None:
        self.argv = tuple(argv)
        self.locks = tuple(locks) or ("requirements.txt",)
        self.quiet = quiet
        self.config = config
        #: ``--cache-dir`` as given (``None``: the default folder).
        self.cache_dir = values.get("--cache-dir")
        self.prefix, self.interpreter = _target(values.get("--venv"), values.get("--python"))
        self.site_dirs = _site_dirs(self.prefix)


class _Pending:
    """This run's digest, kept for :func:`record` when the full sync finds nothing to do."""

    def __init__(self, invocation: _Invocation, key: str, racy: bool, stamp: str) -> None:
        self.invocation = invocation
        self.key = key
        self.racy = racy
        self.stamp = stamp


_pending: _Pending | None = None


def answer(argv: Sequence[str]) -> bool:
    """Whether ``argv`` is a sync that a stamp shows to be a no-op (its line printed).

    ``False`` means "run the full sync": not a plain sync, stamps off, no
    stamp or another one. Never raises.
    """
    global _pending
    _pending = None
    if _off():
        return False
    try:
        invocation = _parse(argv)
        if invocation is None:
            return False
        key, racy = _digest(invocation)
        stamp = _stamp_path(invocation.cache_dir, invocation.prefix, invocation.argv)
    # An unforeseen failure here must not stop crosspin: the full sync decides.
    except Exception:
        return False
    _pending = _Pending(invocation, key, racy, stamp)
    if _read_small(stamp) != (_HEADER + key + "\n").encode("ascii"):
        return False
    if not invocation.quiet:
        sys.stderr.write(UP_TO_DATE + "\n")
        sys.stderr.flush()
    return True


def record(*, prefix: str, site_dirs: Iterable[str], quiet: bool, cache_dir: str | None,
           no_cache: bool) -> bool:
    """After a full sync found nothing to do and printed only :data:`UP_TO_DATE` (or nothing
    with ``quiet``): write the stamp that lets the next identical sync skip the work.

    The arguments are what the full sync used (``cache_dir``: ``--cache-dir``
    or the configuration's, ``None`` for the default). Nothing is written
    unless :func:`answer` was asked about this process's command line
    (``sys.argv``) and found what the full sync used on its own, the digest is
    unchanged since :func:`answer` took it (nothing changed while the sync
    planned) and no stat in it is too recent to trust. Returns whether a
    stamp was written; a failure to write is no error.
    """
    global _pending
    pending, _pending = _pending, None
    if pending is None or pending.racy or no_cache or _off():
        return False
    invocation = pending.invocation
    if invocation.argv != tuple(sys.argv[1:]):  # not this process's command line
        return False
    try:
        same = (quiet == invocation.quiet and cache_dir == invocation.cache_dir
                and _real(prefix) == _real(invocation.prefix)
                and sorted({_real(d) for d in site_dirs})
                == sorted({_real(d) for d in invocation.site_dirs}))
        if not same or (cache_dir is None and not _default_is_platformdirs()):
            return False
        if _digest(invocation) != (pending.key, False):
            return False
        _write_private(pending.stamp, _HEADER + pending.key + "\n")
    except (OSError, _Unsure, ValueError):
        return False
    return True


def forget(*, prefix: str, cache_dir: str | None, no_cache: bool) -> None:
    """Remove every stamp of the environment at ``prefix``: a sync is about to change it."""
    if no_cache:
        return
    try:
        folder = _stamp_folder(cache_dir, verified=True)
        start = _environment_name(prefix)
        names = [n for n in os.listdir(folder) if n.startswith(start)]
    except (OSError, _Unsure, ValueError):
        return
    for name in names:
        _unlink(os.path.join(folder, name))


# -- the command line --------------------------------------------------------


def _off() -> bool:
    return os.environ.get(OFF_VARIABLE, "").strip() not in ("", "0")


def _parse(argv: Sequence[str]) -> _Invocation | None:
    """``sync`` with known options only (else ``None``); click's spellings, nothing clever."""
    if not argv or argv[0] != "sync":
        return None
    locks: list[str] = []
    values: dict[str, str] = {}
    quiet = False
    config = True
    args = list(argv[1:])
    while args:
        arg = args.pop(0)
        name, equals, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if not arg.startswith("-"):
            locks.append(arg)
        elif name in ("-q", "--quiet") and not equals:
            quiet = True
        elif name == "--no-config" and not equals:
            config = False
        elif (name in _FLAGS or _is_verbose(name)) and not equals:
            continue
        elif name in _VALUED or name in _OWN:
            if not equals:
                if not args:
                    return None
                value = args.pop(0)
            if name in _OWN:
                if not value:  # click reads an empty --venv as none given
                    return None
                own = "--python" if name == "--python-executable" else name
                if own in values:
                    return None
                values[own] = value
        else:  # -h, --version, --user, --config, --no-cache, --pip-args, "-", "--", ...
            return None
    if any(lock.endswith(".in") for lock in locks):
        return None
    try:
        return _Invocation(argv, locks, values, quiet=quiet, config=config)
    except (_Unsure, OSError):
        return None


def _is_verbose(arg: str) -> bool:
    """``--verbose``, ``-v``, ``-vv``..."""
    return arg == "--verbose" or (len(arg) > 1 and arg == "-" + "v" * (len(arg) - 1))


def _venv_python(prefix: str) -> str:
    if sys.platform == "win32":
        return os.path.join(prefix, "Scripts", "python.exe")
    return os.path.join(prefix, "bin", "python")


def _target(venv: str | None, python: str | None) -> tuple[str, str]:
    """The virtual environment's folder and interpreter, chosen as ``crosspin sync`` does.

    Only an existing virtual environment qualifies; ``--python NAME`` (a
    ``PATH`` lookup) does not.
    """
    if python is not None:
        if venv is not None or not (os.sep in python or (os.altsep and os.altsep in python)):
            raise _Unsure
        interpreter = python
        prefix = os.path.dirname(os.path.dirname(os.path.abspath(python)))
    else:
        folder = venv if venv is not None else os.environ.get("VIRTUAL_ENV") or ".venv"
        prefix = os.path.abspath(folder)
        interpreter = _venv_python(folder)
    if not os.path.isfile(os.path.join(prefix, "pyvenv.cfg")):
        raise _Unsure
    return prefix, interpreter


def _site_dirs(prefix: str) -> tuple[str, ...]:
    """The one site-packages folder of a virtual environment (the probe confirms it)."""
    if sys.platform == "win32":
        return (os.path.join(prefix, "Lib", "site-packages"),)
    lib = os.path.join(prefix, "lib")
    with os.scandir(lib) as entries:
        found = [os.path.join(lib, e.name, "site-packages") for e in entries
                 if e.name.startswith("python")]
    found = [d for d in found if os.path.isdir(d)]
    if len(found) != 1:
        raise _Unsure
    return (found[0],)


# -- the digest ----------------------------------------------------------------


class _Facts:
    """What the digest covers, in order, and whether any stat is too recent to trust."""

    def __init__(self) -> None:
        self.parts: list[object] = []
        self.now = time.time_ns()
        self.racy = False

    def add(self, *values: object) -> None:
        self.parts.append(values)

    def stat(self, path: str, *, follow: bool = True) -> tuple[int, ...] | None:
        """``(mode, inode, device, size, mtime)`` of ``path`` (``None``: absent)."""
        try:
            st = os.stat(path, follow_symlinks=follow)
        except (FileNotFoundError, NotADirectoryError):
            return None
        mtime = st.st_mtime_ns
        window = _RACY_COARSE_NS if mtime % 1_000_000_000 == 0 else _RACY_NS
        if mtime > self.now - window:
            self.racy = True
        return (st.st_mode, st.st_ino, st.st_dev, st.st_size, mtime)

    def file(self, path: str, *, required: bool) -> str | None:
        """sha256 of a regular file's bytes (``None``: absent and not ``required``)."""
        try:
            data = _read_regular(path, _MAX_FILE)
        except (FileNotFoundError, NotADirectoryError):
            if required:
                raise _Unsure from None
            return None
        return hashlib.sha256(data).hexdigest()


def _read_regular(path: str, limit: int) -> bytes:
    """The bytes of the regular file at ``path``: anything else, or more than ``limit``
    bytes, is :class:`_Unsure`. Opened without blocking (a FIFO nobody writes to would
    hang here, as in crosspin.reqfile); ``OSError`` as ``os.open`` raises it."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode) or status.st_size > limit:
            raise _Unsure
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, 1 << 20):
            size += len(chunk)
            if size > limit:
                raise _Unsure
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _digest(invocation: _Invocation) -> tuple[str, bool]:
    """The sha256 of every fact the no-op answer rests on, and whether it is racy."""
    facts = _Facts()
    facts.add("crosspin", crosspin.__version__, invocation.argv)
    _own_code(facts)
    cwd = os.getcwd()
    facts.add("cwd", cwd, os.path.realpath(cwd))
    facts.add("environ", sorted((k, v) for k, v in os.environ.items()
                                if k.startswith(("CROSSPIN_", "PIP_")) or k in _VARIABLES))
    facts.add("host", sys.platform, _uname(), getattr(os, "getuid", lambda: -1)())
    for lock in invocation.locks:
        facts.add("lock", lock, os.path.realpath(lock), facts.file(lock, required=True))
    if invocation.config:
        for path in _config_files(invocation.locks):
            facts.add("config", path, facts.file(path, required=False))
    prefix, interpreter = invocation.prefix, invocation.interpreter
    real = os.path.realpath(interpreter)
    facts.add("target", prefix, os.path.realpath(prefix),
              facts.file(os.path.join(prefix, "pyvenv.cfg"), required=True),
              interpreter, facts.stat(interpreter, follow=False), real, facts.stat(real),
              facts.stat(os.path.dirname(os.path.abspath(interpreter))))
    for site in invocation.site_dirs:
        _installed(facts, site)
    return _sha256(repr(facts.parts)), facts.racy


def _own_code(facts: _Facts) -> None:
    """crosspin's modules and the folders it imports from: an upgrade or an edit shows."""
    root = os.path.dirname(os.path.abspath(crosspin.__file__))
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                facts.add(name, facts.stat(os.path.join(folder, name)))
    facts.add("python", sys.version, sys.executable, sys.prefix,
              [(p, facts.stat(p)) for p in sys.path if p])


def _uname() -> tuple[str, ...]:
    if hasattr(os, "uname"):
        return tuple(os.uname())
    version = sys.getwindowsversion()  # type: ignore[attr-defined,unused-ignore]
    return (str(version.major), str(version.minor), str(version.build))


def _config_files(locks: Sequence[str]) -> list[str]:
    """Every file sync's configuration lookup may read (settings.load_config's rule)."""
    paths = ["pyproject.toml"]
    folders: list[str] = []
    for lock in locks:
        folder = os.path.dirname(lock)
        if folder not in folders:
            folders.append(folder)
    for folder in folders:
        paths += [os.path.join(folder, ".pip-tools.toml"), os.path.join(folder, "pyproject.toml")]
    return paths


#: The files whose bytes sync's scan reads in a distribution's folder (sync/_installed.py:
#: name, version, URL); whether RECORD or METADATA exists shows in the folder's own stat.
_DIST_INFO = ("METADATA", "direct_url.json")
_EGG_INFO = ("PKG-INFO", "direct_url.json")


def _installed(facts: _Facts, site: str) -> None:
    """The site folder and, for every distribution in it, what sync's scan reads."""
    facts.add("site", site, os.path.realpath(site), facts.stat(site))
    with os.scandir(site) as entries:
        names = sorted(e.name for e in entries
                       if e.name.lower().endswith((".dist-info", ".egg-info")))
    for name in names:
        path = os.path.join(site, name)
        # A replaced entry changes the site folder; an added or removed file its own.
        files = _DIST_INFO if name.lower().endswith(".dist-info") else _EGG_INFO
        facts.add(name, facts.stat(path), *(facts.stat(os.path.join(path, f)) for f in files))


# -- the stamp file ------------------------------------------------------------


def _real(path: str) -> str:
    return os.path.normcase(os.path.realpath(path))


def _stamp_folder(cache_dir: str | None, *, verified: bool = False) -> str:
    folder = cache_dir if cache_dir is not None else (
        _platformdirs_cache() if verified else _default_cache_dir())
    return os.path.join(folder, _STAMPS)


def _environment_name(prefix: str) -> str:
    """The start of every stamp name of one environment: a digest of its real path."""
    return _sha256(_real(prefix))[:32] + "-"


def _stamp_path(cache_dir: str | None, prefix: str, argv: Sequence[str]) -> str:
    """The stamp of one command line (and working folder) for one environment: its name is
    made of digests, never of anything a stamp says."""
    command = _sha256(repr((tuple(argv), os.getcwd())))[:16]
    return os.path.join(_stamp_folder(cache_dir), _environment_name(prefix) + command)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "backslashreplace")).hexdigest()


def _default_cache_dir() -> str:
    """``platformdirs.user_cache_dir("crosspin")`` without importing platformdirs (which
    costs more than this whole module) where its rule is plain; :func:`record` checks
    that both agree before it writes a stamp there."""
    if sys.platform == "win32":
        return _platformdirs_cache()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    if xdg:
        return os.path.join(xdg, "crosspin")
    if not os.environ.get("HOME"):
        raise _Unsure
    base = "~/Library/Caches" if sys.platform == "darwin" else "~/.cache"
    return os.path.join(os.path.expanduser(base), "crosspin")


def _platformdirs_cache() -> str:
    """The cache folder crosspin uses when none is given (as crosspin.index finds it)."""
    # lazy: platformdirs costs ~15 ms to import; only a write or Windows needs it.
    import platformdirs

    return str(platformdirs.user_cache_dir("crosspin"))


def _default_is_platformdirs() -> bool:
    try:
        return _default_cache_dir() == _platformdirs_cache()
    except _Unsure:
        return False


def _read_small(path: str) -> bytes | None:
    """The bytes of a stamp (``None`` when it cannot be read or is not a small file)."""
    try:
        return _read_regular(path, 200)
    except (OSError, _Unsure):
        return None


def _unlink(path: str) -> None:
    """Remove ``path`` if it is there (contextlib costs a collections import)."""
    try:
        os.unlink(path)
    except OSError:
        return


def _write_private(path: str, text: str) -> None:
    """Replace ``path`` with ``text`` in one step, as a 0600 file (a link is replaced,
    never written through)."""
    folder = os.path.dirname(path)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    temporary = os.path.join(folder, f".{os.path.basename(path)}.{os.urandom(6).hex()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(temporary, flags, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        _unlink(temporary)
        raise
