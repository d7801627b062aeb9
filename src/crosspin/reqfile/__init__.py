"""pip's requirement-file syntax, read in one place.

Requirement inputs (``requirements.in``, constraints, overrides), the
``requirements.txt`` lock reader and sync all read this syntax through
here, so a file pip accepts reads the same everywhere: backslash
continuations, comments, ``${VAR}`` expansion, and words split into a
requirement and its options (short options spelled long). Nothing here
reads other files: ``-r``/``-c`` come back as options for the caller;
:func:`read_text_file` is how every requirement and lock file is read
(regular files of at most 16 MiB, ``-`` for stdin).
"""

from __future__ import annotations

from crosspin.reqfile._files import MAX_FILE_SIZE, FileRefused, is_stdin, read_text_file
from crosspin.reqfile._tokens import (
    GLOBAL_OPTIONS,
    REQUIREMENT_OPTIONS,
    ReqLine,
    expand_env_vars,
    logical_lines,
    parse_text,
    spans,
)

__all__ = [
    "GLOBAL_OPTIONS",
    "MAX_FILE_SIZE",
    "REQUIREMENT_OPTIONS",
    "FileRefused",
    "ReqLine",
    "expand_env_vars",
    "is_stdin",
    "logical_lines",
    "parse_text",
    "read_text_file",
    "spans",
]
