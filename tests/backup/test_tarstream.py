"""The streaming tar reader reads what tarfile (and Go's archive/tar, Velero's writer) write."""

from __future__ import annotations

import io
import random
import tarfile

import pytest

from restoreflow.backup.tarstream import BLOCK, TarFormatError, TarReader


def tar_bytes(members: list[tuple[str, bytes, bytes]], tar_format: int) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tar_format) as tar:
        for name, kind, data in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.size = len(data) if kind == tarfile.REGTYPE else 0
            if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
                info.linkname = "x" * 120  # long link names need an extended header too
            tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    return raw.getvalue()


def read_all(data: bytes, chunked: bool = False) -> list[tuple[str, str, bytes]]:
    stream: io.RawIOBase | io.BytesIO = Trickle(data) if chunked else io.BytesIO(data)
    reader = TarReader(stream)  # type: ignore[arg-type]
    return [(e.name, e.kind, reader.read(e) if e.kind == "file" else b"") for e in reader]


class Trickle(io.RawIOBase):
    """A stream that returns a few bytes per read, as a network body may."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos, self.rng = data, 0, random.Random(7)

    def read(self, size: int = -1) -> bytes:
        step = self.rng.randint(1, 700)
        chunk = self.data[self.pos : self.pos + step]
        self.pos += len(chunk)
        return chunk


MEMBERS = [
    ("metadata/", tarfile.DIRTYPE, b""),
    ("metadata/version", tarfile.REGTYPE, b"1.1.0\n"),
    ("resources/pods/namespaces/a/short.json", tarfile.REGTYPE, b'{"kind":"Pod"}'),
    ("resources/" + "d" * 90 + "/namespaces/shop/" + "n" * 60 + ".json", tarfile.REGTYPE, b"{}" * 700),
    ("resources/pods/namespaces/a/empty.json", tarfile.REGTYPE, b""),
    ("resources/pods/namespaces/a/exact.json", tarfile.REGTYPE, b"x" * BLOCK),
    ("resources/pods/namespaces/a/ünïcode.json", tarfile.REGTYPE, b"{}"),
    ("links/soft", tarfile.SYMTYPE, b""),
    ("links/hard", tarfile.LNKTYPE, b""),
    ("devices/null", tarfile.CHRTYPE, b""),
    ("pipes/p", tarfile.FIFOTYPE, b""),
]
KIND = {
    tarfile.REGTYPE: "file",
    tarfile.DIRTYPE: "directory",
    tarfile.SYMTYPE: "symbolic link",
    tarfile.LNKTYPE: "hard link",
    tarfile.CHRTYPE: "device",
    tarfile.FIFOTYPE: "named pipe",
}


@pytest.mark.parametrize("tar_format", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
@pytest.mark.parametrize("chunked", [False, True], ids=["buffered", "trickle"])
def test_reads_every_flavour_like_tarfile(tar_format: int, chunked: bool) -> None:
    members = [m for m in MEMBERS if tar_format != tarfile.USTAR_FORMAT or "ü" not in m[0]]
    if tar_format == tarfile.USTAR_FORMAT:  # ustar cannot hold long link names
        members = [m for m in members if m[1] not in (tarfile.SYMTYPE, tarfile.LNKTYPE)]
    expected = [(name.rstrip("/"), KIND[kind], data) for name, kind, data in members]
    assert [
        (n.rstrip("/"), k, d) for n, k, d in read_all(tar_bytes(members, tar_format), chunked)
    ] == expected


def test_a_pax_size_overrides_the_header_and_base256_sizes_read() -> None:
    big = tarfile.TarInfo("resources/pods/namespaces/a/big.json")
    big.size = 9 * 1024**3  # over the 8 GiB octal limit: GNU writes base-256, pax a size record
    for tar_format in (tarfile.GNU_FORMAT, tarfile.PAX_FORMAT):
        header = big.tobuf(tar_format, "utf-8", "surrogateescape")
        reader = TarReader(io.BytesIO(header))
        entry = next(iter(reader))
        assert (entry.name, entry.size) == (big.name, big.size)


def test_v7_directory_and_clean_end_without_end_blocks() -> None:
    info = tarfile.TarInfo("resources/")
    info.type = tarfile.AREGTYPE  # v7: a directory is a "regular" entry whose name ends in /
    data = info.tobuf(tarfile.USTAR_FORMAT)
    assert read_all(data) == [("resources/", "directory", b"")]


def test_a_bad_checksum_names_the_offset() -> None:
    data = bytearray(tar_bytes(MEMBERS[:3], tarfile.USTAR_FORMAT))
    second = BLOCK  # metadata/ is a header alone; metadata/version's header follows it
    data[second + 10] ^= 0x01
    with pytest.raises(TarFormatError, match=f"^bad checksum in the tar header at offset {second}$"):
        read_all(bytes(data))


def test_garbage_is_not_a_tar() -> None:
    with pytest.raises(TarFormatError, match="in the tar header at offset 0"):
        read_all(b"x" * 2000)


@pytest.mark.parametrize(
    ("cut", "message"),
    [(BLOCK + 100, "the archive ends inside a header"), (2 * BLOCK + 3, 'the data of "metadata/version"')],
)
def test_a_truncated_stream_is_an_eof_error(cut: int, message: str) -> None:
    data = tar_bytes(MEMBERS[:2], tarfile.USTAR_FORMAT)
    with pytest.raises(EOFError, match=message):
        read_all(data[:cut])


def test_a_broken_pax_record_is_refused() -> None:
    record = b"30 path=resources/x.json\n"  # claims 30 bytes, holds 25
    pax = tarfile.TarInfo("././@PaxHeader")
    pax.type, pax.size = tarfile.XHDTYPE, len(record)
    data = pax.tobuf(tarfile.USTAR_FORMAT) + record.ljust(BLOCK, b"\0")
    with pytest.raises(TarFormatError, match="invalid pax record in the extended header at offset 0"):
        read_all(data)
