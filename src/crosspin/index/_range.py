"""Read one member of a remote wheel with HTTP range requests.

A wheel is a zip: its end-of-central-directory record sits in the last
bytes, the central directory says where each member starts, so the core
metadata (``<name>-<version>.dist-info/METADATA``) costs two or three small
requests instead of a whole download -- usually one, since the dist-info
files and the central directory sit together at the end of the file.

The zip arithmetic here is pure: it reads through two callables, so it is
tested on local bytes and used over HTTP by the client. Anything unexpected
raises :class:`RangeError` and the caller falls back to a full download.
"""

from __future__ import annotations

import re
import struct
import zlib
from typing import Callable

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

__all__ = ["TAIL_SIZE", "MemberTooLarge", "RangeError", "find_metadata_name", "read_member"]

#: Bytes asked for first: enough for the central directory of most wheels.
TAIL_SIZE = 64 * 1024

_EOCD = struct.Struct("<4sHHHHIIH")
_ZIP64_LOCATOR = struct.Struct("<4sIQI")
_ZIP64_EOCD = struct.Struct("<4sQHHIIQQQQ")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_METADATA_RE = re.compile(r"([^/]+)\.dist-info/METADATA")


class RangeError(Exception):
    """The file cannot be read by ranges (not a zip, odd layout, server quirk)."""


class MemberTooLarge(Exception):
    """The member is larger than the caller's limit (declared or once inflated)."""


class _Reader:
    """Bytes of a remote file, from a buffer of what is already known or by range."""

    def __init__(self, data: bytes, size: int, fetch: Callable[[int, int], bytes]) -> None:
        self.start = size - len(data)
        self.data = data
        self.size = size
        self.fetch = fetch

    def read(self, offset: int, length: int) -> bytes:
        end = min(offset + length, self.size)
        if offset < 0 or offset > end:
            raise RangeError("offset outside the file")
        if offset >= self.start:
            return self.data[offset - self.start : end - self.start]
        chunk = self.fetch(offset, end - 1)
        if len(chunk) != end - offset:
            raise RangeError("short range response")
        if end >= self.start:  # contiguous with the buffer: grow it
            self.data = chunk[: self.start - offset] + self.data
            self.start = offset
        return chunk


def find_metadata_name(names: list[str], project: str, version: str) -> str:
    """The METADATA member of a wheel: the ``.dist-info`` folder matching name and version."""
    candidates = [n for n in names if _METADATA_RE.fullmatch(n)]
    if len(candidates) == 1:
        return candidates[0]
    want = (canonicalize_name(project), _version(version))
    for name in candidates:
        folder = name.split("/", 1)[0][: -len(".dist-info")]
        dist, _, ver = folder.rpartition("-")
        if (canonicalize_name(dist), _version(ver)) == want:
            return name
    raise RangeError(f"{len(candidates)} .dist-info/METADATA members, none matching")


def _version(text: str) -> object:
    try:
        return Version(text)
    except InvalidVersion:
        return text


def read_member(
    tail: Callable[[int], tuple[bytes, int]],
    fetch: Callable[[int, int], bytes],
    choose: Callable[[list[str]], str],
    *,
    limit: int,
) -> bytes:
    """Read the zip member ``choose`` picks from the member names.

    ``tail(n)`` returns the last ``n`` bytes (or the whole file) and the
    file size; ``fetch(a, b)`` returns bytes ``a..b`` inclusive. A member
    whose declared size, compressed size or inflated content passes
    ``limit`` bytes raises :class:`MemberTooLarge` before more is read or
    inflated (a zip bomb never reaches memory).
    """
    data, size = tail(TAIL_SIZE)
    reader = _Reader(data, size, fetch)
    cd_offset, cd_size = _central_directory(reader)
    directory = reader.read(cd_offset, cd_size)
    members = _members(directory)
    name = choose(list(members))
    method, comp_size, crc, offset, size = members[name]
    if size > limit or comp_size > limit:
        raise MemberTooLarge(name)
    # Read header, name and data in one go; a local "extra" field longer than
    # the slack costs one more request.
    head = reader.read(offset, _LOCAL.size + len(name.encode()) + comp_size + 1024)
    if len(head) < _LOCAL.size:
        raise RangeError("truncated local header")
    fields = _LOCAL.unpack_from(head)
    if fields[0] != b"PK\x03\x04":
        raise RangeError("bad local header signature")
    start = _LOCAL.size + fields[9] + fields[10]
    if len(head) < start + comp_size:
        head = reader.read(offset, start + comp_size)
    raw = head[start : start + comp_size]
    if method == 0:
        content = raw
    elif method == 8:
        try:
            inflater = zlib.decompressobj(-15)
            # The declared size may lie: never inflate past the limit.
            content = inflater.decompress(raw, limit + 1)
            if len(content) > limit or inflater.unconsumed_tail:
                raise MemberTooLarge(name)
            content += inflater.flush()  # input all read: nothing big is left
        except zlib.error as exc:
            raise RangeError(f"cannot inflate: {exc}") from None
        if len(content) > limit:
            raise MemberTooLarge(name)
    else:
        raise RangeError(f"unsupported compression method {method}")
    if zlib.crc32(content) != crc:
        raise RangeError("CRC mismatch")
    return content


def _central_directory(reader: _Reader) -> tuple[int, int]:
    data = reader.data
    pos = data.rfind(b"PK\x05\x06")
    while pos >= 0:
        if pos + _EOCD.size <= len(data):
            fields = _EOCD.unpack_from(data, pos)
            if pos + _EOCD.size + fields[7] == len(data):
                break
        pos = data.rfind(b"PK\x05\x06", 0, pos)
    else:
        raise RangeError("no end-of-central-directory record in the tail")
    _sig, _disk, _cd_disk, _n_disk, _n, cd_size, cd_offset, _comment = fields
    if cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF:
        locator_at = reader.start + pos - _ZIP64_LOCATOR.size
        locator = _ZIP64_LOCATOR.unpack(reader.read(locator_at, _ZIP64_LOCATOR.size))
        if locator[0] != b"PK\x06\x07":
            raise RangeError("bad zip64 locator")
        record = _ZIP64_EOCD.unpack(reader.read(locator[2], _ZIP64_EOCD.size))
        if record[0] != b"PK\x06\x06":
            raise RangeError("bad zip64 end record")
        cd_size, cd_offset = record[8], record[9]
    if cd_offset + cd_size > reader.size:
        raise RangeError("central directory beyond the end of the file")
    return cd_offset, cd_size


def _members(directory: bytes) -> dict[str, tuple[int, int, int, int, int]]:
    """name -> (method, compressed size, crc32, local header offset, size)."""
    members: dict[str, tuple[int, int, int, int, int]] = {}
    pos = 0
    while pos + _CENTRAL.size <= len(directory):
        fields = _CENTRAL.unpack_from(directory, pos)
        if fields[0] != b"PK\x01\x02":
            raise RangeError("bad central directory entry")
        flags, method, crc = fields[3], fields[4], fields[7]
        comp_size, size, name_len, extra_len, comment_len = fields[8:13]
        offset = fields[16]
        name_at = pos + _CENTRAL.size
        raw_name = directory[name_at : name_at + name_len]
        name = raw_name.decode("utf-8" if flags & 0x800 else "cp437")
        extra = directory[name_at + name_len : name_at + name_len + extra_len]
        if 0xFFFFFFFF in (comp_size, size, offset):
            size, comp_size, offset = _zip64_extra(extra, size, comp_size, offset)
        members[name] = (method, comp_size, crc, offset, size)
        pos = name_at + name_len + extra_len + comment_len
    return members


def _zip64_extra(extra: bytes, size: int, comp_size: int, offset: int) -> tuple[int, int, int]:
    pos = 0
    while pos + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, pos)
        if tag == 0x0001:
            values = list(struct.unpack_from(f"<{length // 8}Q", extra, pos + 4))
            # Only the fields that overflowed are present, in this order.
            if size == 0xFFFFFFFF and values:
                size = values.pop(0)
            if comp_size == 0xFFFFFFFF and values:
                comp_size = values.pop(0)
            if offset == 0xFFFFFFFF and values:
                offset = values.pop(0)
            return size, comp_size, offset
        pos += 4 + length
    raise RangeError("zip64 sizes without a zip64 extra field")
