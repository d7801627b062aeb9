"""atheris harness: crosspin's parsers must raise nothing but CrosspinError.

Usage (kept out of the default test run)::

    .venv/bin/python fuzz/fuzz_parsers.py TARGET [libFuzzer options, e.g. -runs=100000]

TARGET is one of ``reqfile``, ``inputs``, ``requirements-lock``, ``pylock``.
A crash prints the input and writes it to ``crash-*`` in the current folder.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from pathlib import Path
from typing import Callable

import atheris

with atheris.instrument_imports():
    from crosspin.reqfile import parse_text
    from crosspin.errors import CrosspinError
    from crosspin.inputs import read_inputs
    from crosspin.lockfiles import pylock, requirements

_WORK = Path(tempfile.mkdtemp(prefix="crosspin-fuzz-"))


def _reqfile(text: str) -> None:
    parse_text(text, "requirements.in", environ={})


def _inputs(text: str) -> None:
    path = _WORK / "requirements.in"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    read_inputs([path])


def _requirements_lock(text: str) -> None:
    requirements.read(text)


def _pylock(text: str) -> None:
    pylock.read(text)


TARGETS: dict[str, Callable[[str], None]] = {
    "reqfile": _reqfile,
    "inputs": _inputs,
    "requirements-lock": _requirements_lock,
    "pylock": _pylock,
}


def main() -> None:
    """Run one target under libFuzzer."""
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(TARGETS)}}} [libFuzzer options]")
    target = TARGETS[sys.argv.pop(1)]

    def one(data: bytes) -> None:
        text = atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(len(data))
        # A CrosspinError is a user error the CLI reports in one line: expected.
        with contextlib.suppress(CrosspinError):
            target(text)

    atheris.Setup(sys.argv, one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
