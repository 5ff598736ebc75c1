"""A streaming tar reader for backup archives: every header checked, a few microseconds per entry.

Velero's archives hold two entries per item (the classic path and the preferred-version folder), so
at 10,000 items the archive pass is 20,000 entries. Python's `tarfile` spends about 17 us on each in
stream mode (a TarInfo, field decodes, seeks through a stream wrapper); this reader reads the same
formats (v7, ustar with its name prefix, GNU long names, pax extended headers, base-256 sizes),
verifies each header's checksum as `tarfile` does, and slices entries out of large buffered reads,
in about a fifth of the time. It only reads: extraction rules stay with the caller.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

BLOCK = 512
_CHUNK = 1 << 20
_ZERO_BLOCK = bytes(BLOCK)
_POSIX_MAGIC = b"ustar\x0000"
_SIGNED = struct.Struct("148b8x356b")

KINDS = {
    b"0": "file",
    b"\0": "file",
    b"7": "file",  # contiguous file: a regular file everywhere that matters
    b"5": "directory",
    b"1": "hard link",
    b"2": "symbolic link",
    b"3": "device",
    b"4": "device",
    b"6": "named pipe",
}
_PAX, _PAX_GLOBAL, _GNU_LONG_NAME, _GNU_LONG_LINK = b"x", b"g", b"L", b"K"


class TarFormatError(Exception):
    """The stream is not a well-formed tar archive (a bad header or a bad extended header)."""


@dataclass(slots=True)
class TarEntry:
    name: str
    kind: str  # file, directory, hard link, symbolic link, device, named pipe, special
    size: int


class TarReader:
    """Iterate over a tar stream's entries; `read(entry)` returns the current entry's data.

    Data an iteration step does not read is skipped. A stream that ends early raises EOFError.
    """

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._buffer = b""
        self._pos = 0
        self._consumed = 0  # bytes of the tar stream consumed so far
        self._data_end = 0  # where the current entry's data and padding end

    def __iter__(self) -> Iterator[TarEntry]:
        overrides: dict[str, str] = {}
        while True:
            self._skip(self._data_end - self._consumed)
            offset = self._consumed
            header = self._next_header()
            if header is None or header == _ZERO_BLOCK:
                return
            name, typeflag, size = _parse_header(header, offset)
            if "size" in overrides:
                size = _pax_size(overrides["size"], offset)
            kind = KINDS.get(typeflag, "special")
            if kind == "file" and typeflag == b"\0" and name.endswith("/"):
                kind = "directory"  # a v7 directory
            carries_data = kind in ("file", "special")  # links, directories and devices have none
            self._data_end = self._consumed + (_padded(size) if carries_data else 0)
            if typeflag in (_PAX, _PAX_GLOBAL, _GNU_LONG_NAME, _GNU_LONG_LINK):
                data = self._take(size, f"the extended header at offset {offset}")
                if typeflag == _PAX:
                    overrides.update(_pax_records(data, offset))
                elif typeflag == _GNU_LONG_NAME:
                    overrides["path"] = _text(data)
                continue  # global pax headers and GNU long link names change nothing read here
            name = overrides.get("path", name)
            overrides = {}
            yield TarEntry(name, kind, size)

    @property
    def consumed(self) -> int:
        """Bytes of the tar stream read so far."""
        return self._consumed

    def read(self, entry: TarEntry) -> bytes:
        """The current entry's data (once, before the next iteration step)."""
        return self._take(entry.size, f'the data of "{entry.name}"')

    def _next_header(self) -> bytes | None:
        """The next header block; None at a clean end of the stream (Go's reader accepts one)."""
        if self._pos == len(self._buffer):
            self._buffer, self._pos = self._stream.read(_CHUNK), 0
            if not self._buffer:
                return None
        return self._take(BLOCK, "a header")

    def _take(self, size: int, what: str) -> bytes:
        end = self._pos + size
        if end > len(self._buffer):
            self._fill(size, what)
            end = self._pos + size
        data = self._buffer[self._pos : end]
        self._pos = end
        self._consumed += size
        return data

    def _fill(self, size: int, what: str) -> None:
        """Make `size` bytes available from the current position (one read of 1 MiB, usually)."""
        parts, have = [self._buffer[self._pos :]], len(self._buffer) - self._pos
        while have < size:
            chunk = self._stream.read(max(_CHUNK, size - have))
            if not chunk:
                raise EOFError(f"the archive ends inside {what}")
            parts.append(chunk)
            have += len(chunk)
        self._buffer, self._pos = b"".join(parts), 0

    def _skip(self, size: int) -> None:
        """Consume `size` bytes without keeping more than one chunk of them."""
        while size > 0:
            step = min(size, _CHUNK)
            self._take(step, "an entry's data")
            size -= step


def _parse_header(header: bytes, offset: int) -> tuple[str, bytes, int]:
    """(name, typeflag, size) of a header block; TarFormatError when its checksum is wrong."""
    stored = _number(header[148:156], offset, "checksum")
    unsigned = 256 + sum(header) - sum(header[148:156])
    if stored != unsigned and stored != 256 + sum(_SIGNED.unpack(header)):
        raise TarFormatError(f"bad checksum in the tar header at offset {offset}")
    name = _text(header[0:100])
    if header[257:265] == _POSIX_MAGIC and header[345]:
        name = _text(header[345:500]) + "/" + name  # a ustar name split into prefix and name
    size = _number(header[124:136], offset, "size")
    if size < 0:
        raise TarFormatError(f"invalid size field in the tar header at offset {offset}")
    return name, header[156:157], size


def _number(field: bytes, offset: int, what: str) -> int:
    """An octal header field, or a GNU base-256 one (first byte 0x80 or 0xff)."""
    if field[0] in (0x80, 0xFF):
        value = int.from_bytes(field[1:], "big")
        return value - (1 << (8 * (len(field) - 1))) if field[0] == 0xFF else value
    digits = field.split(b"\0", 1)[0].strip()
    try:
        return int(digits or b"0", 8)
    except ValueError:
        raise TarFormatError(f"invalid {what} field in the tar header at offset {offset}") from None


def _text(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _padded(size: int) -> int:
    return -(-size // BLOCK) * BLOCK


def _pax_records(data: bytes, offset: int) -> dict[str, str]:
    """The records of a pax extended header: `<length> <key>=<value>\\n`, each counting itself."""
    records, pos = {}, 0
    while pos < len(data) and data[pos] != 0:
        space = data.find(b" ", pos)
        try:
            length = int(data[pos:space])
        except ValueError:
            raise TarFormatError(f"invalid pax record in the extended header at offset {offset}") from None
        record = data[space + 1 : pos + length]
        if length <= 0 or pos + length > len(data) or not record.endswith(b"\n") or b"=" not in record:
            raise TarFormatError(f"invalid pax record in the extended header at offset {offset}")
        key, _, value = record[:-1].partition(b"=")
        records[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return records


def _pax_size(value: str, offset: int) -> int:
    try:
        size = int(value)
    except ValueError:
        size = -1
    if size < 0:
        raise TarFormatError(f"invalid size in the pax header at offset {offset}")
    return size
