"""A corpus of broken and malicious backups, kept as generators: each writes one backup into a BSL.

Every case names what a user must be told: the phase the restore ends in (`Failed` when the backup
as a whole is refused, `PartiallyFailed` when only the hostile item is) and the words of the error,
which name the file and what is wrong with it (the backup is named by the message or the record).
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from restoreflow.backup import BackupBuilder, BackupStorage
from restoreflow.backup.archive import MAX_ENTRIES
from tests.backup.tarballs import Entry, entry, json_entry, put_file, tar_gz
from tests.reliability.figures import size

BACKUP = "hostile"
VERSION = entry("metadata/version", "1.1.0\n")
NS = entry(
    "resources/namespaces/cluster/shop.json",
    json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
)


def configmap(name: str = "good", namespace: str = "shop", **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": {"k": "v"},
        **extra,
    }


GOOD = json_entry("resources/configmaps/namespaces/shop/good.json", configmap())


@dataclass
class Hostile:
    name: str
    write: Callable[[BackupStorage], None]
    phase: str  # Failed(Validation): the backup is refused; PartiallyFailed: only the hostile item fails
    words: tuple[str, ...]  # all of them in one error message
    absent: tuple[tuple[str, str, str], ...] = field(default=())  # (resource, namespace, name) never made
    max_entries: int | None = None  # read the archive alone with this entry limit (small in `make test`)


def archive(*entries: Entry, raw: bytes | None = None) -> Callable[[BackupStorage], None]:
    """A complete backup record whose archive holds exactly these entries (or these raw bytes)."""

    def write(storage: BackupStorage) -> None:
        BackupBuilder(BACKUP).write(storage)
        put_file(storage, storage.archive_path(BACKUP), raw if raw is not None else tar_gz(*entries))

    return write


def with_document(
    change: Callable[[dict[str, Any]], Any] | None, raw: bytes | None = None
) -> Callable[[BackupStorage], None]:
    """A valid backup whose `velero-backup.json` is changed (or replaced by raw bytes)."""

    def write(storage: BackupStorage) -> None:
        builder = BackupBuilder(BACKUP)
        builder.add(configmap())
        builder.write(storage)
        path = storage.backup_path(BACKUP, "velero-backup.json")
        if raw is not None:
            put_file(storage, path, raw)
            return
        doc = json.loads(storage.fs.cat_file(path))
        assert change is not None
        change(doc)
        put_file(storage, path, json.dumps(doc).encode())

    return write


def without(file: str) -> Callable[[BackupStorage], None]:
    def write(storage: BackupStorage) -> None:
        builder = BackupBuilder(BACKUP)
        builder.add(configmap())
        builder.write(storage)
        storage.fs.rm_file(storage.backup_path(BACKUP, file.format(b=BACKUP)))

    return write


def side_file(suffix: str, data: bytes) -> Callable[[BackupStorage], None]:
    def write(storage: BackupStorage) -> None:
        builder = BackupBuilder(BACKUP)
        builder.add(configmap())
        builder.write(storage)
        put_file(storage, storage.backup_path(BACKUP, f"{BACKUP}-{suffix}"), data)

    return write


def gzip_bomb(size: int, name: str = "resources/configmaps/namespaces/shop/bomb.json") -> bytes:
    """A tar.gz whose one entry unpacks to `size` zero bytes, compressed about 1000:1, made in a stream."""
    header = tarfile.TarInfo(name)
    header.size = size
    out = io.BytesIO()
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    out.write(compressor.compress(VERSION.info.tobuf() + b"1.1.0\n".ljust(512, b"\0")))
    out.write(compressor.compress(header.tobuf()))
    block = bytes(1 << 20)
    for _ in range(size >> 20):
        out.write(compressor.compress(block))
    out.write(compressor.compress(bytes(size & ((1 << 20) - 1)) + bytes(-size % 512) + bytes(1024)))
    out.write(compressor.flush())
    return out.getvalue()


def many_entries(count: int) -> bytes:
    """A tar.gz of `count` empty directory entries: tiny compressed, one header each."""
    raw = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1) as packed,
        tarfile.open(fileobj=packed, mode="w", format=tarfile.GNU_FORMAT) as tar,
    ):
        tar.addfile(VERSION.info, io.BytesIO(VERSION.data))
        for i in range(count):
            info = tarfile.TarInfo(f"resources/d{i}")
            info.type = tarfile.DIRTYPE
            tar.addfile(info)
    return raw.getvalue()


def nested(depth: int) -> str:
    return '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep","namespace":"shop"},"data":' + (
        '{"a":' * depth + "1" + "}" * depth + "}"
    )


def truncated(cut: int) -> Callable[[BackupStorage], None]:
    def write(storage: BackupStorage) -> None:
        whole = tar_gz(
            VERSION,
            NS,
            GOOD,
            *(
                json_entry(f"resources/configmaps/namespaces/shop/c{i}.json", configmap(f"c{i}"))
                for i in range(50)
            ),
        )
        archive(raw=whole[:cut])(storage)

    return write


ITEM = "resources/configmaps/namespaces/shop/"
CASES = [
    # the archive's paths and entry types
    Hostile(
        "path traversal",
        archive(VERSION, entry("../../evil.json", "{}")),
        "Failed",
        ('"../../evil.json"', "escapes target directory"),
    ),
    Hostile(
        "traversal inside resources",
        archive(VERSION, entry("resources/../../../evil.json", "{}")),
        "Failed",
        ("resources/../../../evil.json", "escapes target directory"),
    ),
    Hostile(
        "parent reference",
        archive(VERSION, entry("resources/a/../../b/evil.json", "{}")),
        "Failed",
        ("resources/a/../../b/evil.json", "parent directory"),
    ),
    Hostile(
        "absolute path",
        archive(VERSION, entry("/tmp/evil.json", "{}")),
        "Failed",
        ('"/tmp/evil.json"', "absolute paths are not allowed"),
    ),
    Hostile(
        "windows drive path",
        archive(VERSION, entry("C:\\evil.json", "{}")),
        "Failed",
        ("evil.json", "absolute paths are not allowed"),
    ),
    Hostile(
        "symlink out",
        archive(VERSION, entry(ITEM + "link.json", kind=tarfile.SYMTYPE, link="/etc/passwd")),
        "Failed",
        (ITEM + "link.json", "symbolic links are not allowed"),
    ),
    Hostile(
        "hardlink out",
        archive(VERSION, entry(ITEM + "hard.json", kind=tarfile.LNKTYPE, link="/etc/passwd")),
        "Failed",
        (ITEM + "hard.json", "hard links are not allowed"),
    ),
    Hostile(
        "character device",
        archive(VERSION, entry("resources/zero", kind=tarfile.CHRTYPE)),
        "Failed",
        ("resources/zero", "device files are not allowed"),
    ),
    Hostile(
        "block device",
        archive(VERSION, entry("resources/sda", kind=tarfile.BLKTYPE)),
        "Failed",
        ("resources/sda", "device files are not allowed"),
    ),
    Hostile(
        "named pipe",
        archive(VERSION, entry("resources/fifo", kind=tarfile.FIFOTYPE)),
        "Failed",
        ("resources/fifo", "named pipes are not allowed"),
    ),
    # bombs and damage
    Hostile("gzip bomb", archive(raw=gzip_bomb(1 << 30)), "Failed", ("unpacks to more than", "compressed")),
    Hostile(
        "tar bomb (entry count)",
        archive(raw=many_entries(size(2_000, MAX_ENTRIES + 1))),
        "Failed",
        ("more than", "entries, the limit"),
        max_entries=size(1_000, 0) or None,
    ),
    Hostile(
        "duplicate entries",
        archive(VERSION, NS, GOOD, json_entry(ITEM + "good.json", configmap(data={"k": "evil"}))),
        "Failed",
        (ITEM + "good.json", "appears twice"),
    ),
    Hostile("truncated archive", truncated(-300), "Failed", ("hostile.tar.gz", "truncated")),
    Hostile("truncated in the gzip header", truncated(5), "Failed", ("hostile.tar.gz",)),
    Hostile("empty archive file", archive(raw=b""), "Failed", ("hostile.tar.gz",)),
    Hostile(
        "not gzip", archive(raw=b"PK\x03\x04 a zip file"), "Failed", ("hostile.tar.gz", "not a gzip file")
    ),
    Hostile(
        "gzip of garbage", archive(raw=gzip.compress(b"\x01" * 4096)), "Failed", ("hostile.tar.gz", "corrupt")
    ),
    Hostile("missing archive", without("{b}.tar.gz"), "Failed", ("hostile.tar.gz", "does not exist")),
    # items
    Hostile(
        "invalid JSON item",
        archive(VERSION, NS, GOOD, entry(ITEM + "bad.json", "{not json")),
        "PartiallyFailed",
        (ITEM + "bad.json", "error decoding"),
    ),
    Hostile(
        "invalid UTF-8 item",
        archive(VERSION, NS, GOOD, entry(ITEM + "bad.json", b'{"a": "\xff\xfe"}')),
        "PartiallyFailed",
        (ITEM + "bad.json", "error decoding"),
    ),
    Hostile(
        "JSON nested 10k deep",
        archive(VERSION, NS, GOOD, entry(ITEM + "deep.json", nested(10_000))),
        "PartiallyFailed",
        (ITEM + "deep.json", "error decoding"),
    ),
    Hostile(
        "huge single object",
        archive(
            VERSION,
            NS,
            GOOD,
            entry(ITEM + "huge.json", json.dumps(configmap("huge", data={"k": "x" * (33 << 20)}))),
        ),
        "PartiallyFailed",
        (ITEM + "huge.json", "over the", "limit for one item"),
    ),
    Hostile(
        "item that is not an object",
        archive(VERSION, NS, GOOD, entry(ITEM + "list.json", "[1, 2]")),
        "PartiallyFailed",
        (ITEM + "list.json", "expected a JSON object"),
    ),
    Hostile(
        "item without metadata",
        archive(VERSION, NS, GOOD, json_entry(ITEM + "bare.json", {"apiVersion": "v1", "kind": "ConfigMap"})),
        "PartiallyFailed",
        ("bare", "metadata"),
    ),
    Hostile(
        "name differs from its file",
        archive(VERSION, NS, GOOD, json_entry(ITEM + "x.json", configmap("hijacked", "kube-system"))),
        "PartiallyFailed",
        (ITEM + "x.json", '"hijacked"', "file name"),
        (("configmaps", "kube-system", "hijacked"), ("configmaps", "shop", "x")),
    ),
    Hostile(
        "namespace differs from its folder",
        archive(VERSION, NS, GOOD, json_entry(ITEM + "y.json", configmap("y", "kube-system"))),
        "PartiallyFailed",
        (ITEM + "y.json", '"kube-system"', "folder"),
        (("configmaps", "kube-system", "y"),),
    ),
    Hostile(
        "kind disagrees with its folder",
        archive(
            VERSION,
            NS,
            GOOD,
            json_entry(
                ITEM + "s.json",
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {"name": "s", "namespace": "shop"},
                    "data": {"k": "dg=="},
                },
            ),
        ),
        "PartiallyFailed",
        ("configmaps/shop/s", '"Secret"', '"ConfigMap"'),
        (("secrets", "shop", "s"), ("configmaps", "shop", "s")),
    ),
    Hostile(
        "API group disagrees with its folder",
        archive(
            VERSION,
            NS,
            GOOD,
            json_entry(ITEM + "g.json", {**configmap("g"), "apiVersion": "rbac.authorization.k8s.io/v1"}),
        ),
        "PartiallyFailed",
        (ITEM + "g.json", "rbac.authorization.k8s.io", "configmaps"),
    ),
    Hostile(
        "unknown API group",
        archive(
            VERSION,
            NS,
            GOOD,
            json_entry(
                "resources/widgets.unknown.example.com/namespaces/shop/w.json",
                {
                    "apiVersion": "unknown.example.com/v1",
                    "kind": "Widget",
                    "metadata": {"name": "w", "namespace": "shop"},
                },
            ),
        ),
        "PartiallyFailed",
        ("widgets.unknown.example.com", "w"),
    ),
    # the backup's metadata
    Hostile(
        "wrong format version in the archive",
        archive(entry("metadata/version", "2.0.0\n"), NS, GOOD),
        "Failed",
        ("hostile.tar.gz", '"2.0.0"', "format"),
    ),
    Hostile(
        "wrong format version in the record",
        with_document(lambda d: d["status"].update(formatVersion="9.0")),
        "FailedValidation",
        ("velero-backup.json", '"9.0"', "format"),
    ),
    Hostile(
        "missing backup record", without("velero-backup.json"), "FailedValidation", ('"hostile"', "not found")
    ),
    Hostile(
        "invalid JSON record",
        with_document(None, raw=b'{"kind": "Backup", '),
        "FailedValidation",
        ("velero-backup.json", "invalid JSON"),
    ),
    Hostile(
        "record nested 10k deep",
        with_document(None, raw=nested(10_000).encode()),
        "FailedValidation",
        ("velero-backup.json", "invalid JSON"),
    ),
    Hostile(
        "record of another backup",
        with_document(lambda d: d["metadata"].update(name="other")),
        "FailedValidation",
        ("velero-backup.json", '"other"', '"hostile"'),
    ),
    Hostile(
        "record that is a list",
        with_document(None, raw=b"[]"),
        "FailedValidation",
        ("velero-backup.json", "expected a JSON object"),
    ),
    Hostile(
        "side file that is not gzip",
        side_file("volumeinfo.json.gz", b"plain"),
        "Failed",
        ("hostile-volumeinfo.json.gz", "not a valid gzip file"),
    ),
    Hostile(
        "side file gzip bomb",
        side_file("podvolumebackups.json.gz", gzip.compress(bytes(300 << 20), 9)),
        "Failed",
        ("hostile-podvolumebackups.json.gz", "unpacks to more than"),
    ),
    Hostile(
        "side file nested 10k deep",
        side_file("volumesnapshots.json.gz", gzip.compress(b"[" * 10_000 + b"]" * 10_000)),
        "Failed",
        ("hostile-volumesnapshots.json.gz", "invalid JSON"),
    ),
]
