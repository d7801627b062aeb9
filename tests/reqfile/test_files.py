"""Reading requirement and lock files (crosspin.reqfile._files): regular files, capped, or stdin."""

from __future__ import annotations

import contextlib
import io
import os
import threading
import time
from pathlib import Path

import pytest

from crosspin.reqfile import MAX_FILE_SIZE, FileRefused, is_stdin, read_text_file


def test_a_regular_file_is_read() -> None:
    """UTF-8 text comes back as written."""
    path = Path(__file__)
    assert read_text_file(path) == path.read_text(encoding="utf-8")


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    """A FIFO nobody writes to is refused at once (opening it would block)."""
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(FileRefused, match=r"not a regular file \(a FIFO\)"):
        read_text_file(fifo)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(("path", "kind"), [("/dev/null", "a character device"),
                                             (".", "a directory")])
def test_devices_and_folders_are_refused(path: str, kind: str) -> None:
    """``/dev/null`` (``/dev/zero`` would never end) and a folder are not requirement files."""
    with pytest.raises(FileRefused, match=kind):
        read_text_file(Path(path))


def test_a_file_past_the_cap_is_refused_before_it_is_read(tmp_path: Path) -> None:
    """The size is checked first: a file over the cap is never read into memory."""
    big = tmp_path / "big.txt"
    with big.open("wb") as out:
        out.truncate(MAX_FILE_SIZE + 1)  # sparse: no disk used
    with pytest.raises(FileRefused, match="larger than 16 MiB"):
        read_text_file(big)
    assert read_text_file(big, limit=MAX_FILE_SIZE + 1) == "\0" * (MAX_FILE_SIZE + 1)


def test_stdin_is_read_for_dash_and_dev_stdin() -> None:
    """``-`` and ``/dev/stdin`` read standard input, with the same cap."""
    assert is_stdin("-") and is_stdin("/dev/stdin") and not is_stdin("./-")
    assert read_text_file(Path("-"), stdin=io.BytesIO(b"six\n")) == "six\n"
    assert read_text_file(Path("/dev/stdin"), stdin=io.BytesIO(b"a\n")) == "a\n"
    with pytest.raises(FileRefused, match="standard input is larger"):
        read_text_file(Path("-"), limit=3, stdin=io.BytesIO(b"abcd"))


def test_a_fifo_with_a_writer_is_still_refused(tmp_path: Path) -> None:
    """Even a FIFO that would deliver text is not read: only regular files (and ``-``)."""
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)

    def writer() -> None:
        fd = os.open(fifo, os.O_WRONLY)
        # The reader that let open() through may be crosspin's refusing one, gone by now.
        with contextlib.suppress(BrokenPipeError):
            os.write(fd, b"a\n")
        os.close(fd)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    with pytest.raises(FileRefused):
        read_text_file(fifo)
    # Unblock the writer (it waits for a reader) so the thread ends.
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    thread.join(5)
    os.close(fd)
