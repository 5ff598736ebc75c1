"""Hand-made backup archives, including the broken and hostile ones a BSL might hold."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from dataclasses import dataclass
from typing import Any

from restoreflow.backup import BackupBuilder, BackupStorage


def item(kind: str, name: str, namespace: str | None = None, api_version: str = "v1") -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata}


@dataclass
class Entry:
    info: tarfile.TarInfo
    data: bytes


def entry(name: str, data: bytes | str = b"", *, kind: bytes = tarfile.REGTYPE, link: str = "") -> Entry:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    raw = data.encode() if isinstance(data, str) else data
    info.size = len(raw) if kind == tarfile.REGTYPE else 0
    return Entry(info, raw)


def tar_gz(*entries: Entry, tar_format: int = tarfile.PAX_FORMAT) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tar_format) as tar:
        for e in entries:
            tar.addfile(e.info, io.BytesIO(e.data) if e.info.type == tarfile.REGTYPE else None)
    return gzip.compress(raw.getvalue())


def json_entry(path: str, obj: Any) -> Entry:
    return entry(path, json.dumps(obj))


def put_backup(storage: BackupStorage, name: str, archive: bytes) -> None:
    """A complete backup record whose archive is exactly `archive`."""
    BackupBuilder(name).write(storage)
    put_file(storage, storage.archive_path(name), archive)


def put_file(storage: BackupStorage, path: str, data: bytes) -> None:
    """Place raw bytes in the BSL, bypassing restoreflow's writers."""
    storage.fs.makedirs(storage.fs._parent(path), exist_ok=True)
    storage.fs.pipe_file(path, data)
