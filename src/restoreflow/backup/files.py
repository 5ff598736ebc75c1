"""Small, format-faithful file helpers over fsspec: gzip JSON as Go writes it, atomic writes.

Reading is bounded, whatever a storage location holds: a metadata file (`velero-backup.json`, a
gzip side file, a restore record) is read up to MAX_FILE_BYTES, a gzip one unpacks to at most
MAX_UNPACKED_FILE_BYTES, and past INFLATION_GRACE unpacked bytes any gzip stream (the archive too)
may not unpack to more than MAX_INFLATION times its compressed size: a gzip bomb is refused after
a few tens of megabytes, not after filling the memory or the disk. JSON nested deeper than the
parser's stack is an invalid-JSON error naming the file.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import uuid
import zlib
from typing import Any

from fsspec import AbstractFileSystem
from fsspec.implementations.local import LocalFileSystem

from .errors import BackupError

SUPPORTED_FORMAT = "1"  # the major backup format version read (Velero writes 1.1.0)
MAX_FILE_BYTES = 256 * 1024 * 1024  # one metadata file as stored
MAX_UNPACKED_FILE_BYTES = 512 * 1024 * 1024  # one gzip metadata file unpacked
MAX_INFLATION = 200  # unpacked bytes per compressed byte; Velero's JSON stays far below (about 10-30)
INFLATION_GRACE = 64 * 1024 * 1024  # unpacked bytes before the ratio applies (small files may be sparse)
_CHUNK = 1 << 20

_GO_HTML_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def go_json(data: Any, *, sort_keys: bool = False) -> bytes:
    """JSON as Go's `json.Encoder` writes it: compact, HTML-escaped, UTF-8, one trailing newline."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, sort_keys=sort_keys)
    for char, escaped in _GO_HTML_ESCAPES.items():
        if char in text:
            text = text.replace(char, escaped)
    return text.encode() + b"\n"


def gzip_bytes(data: bytes) -> bytes:
    """Deterministic gzip (no timestamp), so equal content gives equal files."""
    return gzip.compress(data, mtime=0)


def gunzip(data: bytes, where: str) -> bytes:
    """Unpack a gzip file held in memory, within MAX_UNPACKED_FILE_BYTES and MAX_INFLATION."""
    parts, unpacked = [], 0
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            while chunk := stream.read(_CHUNK):
                unpacked += len(chunk)
                check_inflation(unpacked, len(data), where, MAX_UNPACKED_FILE_BYTES)
                parts.append(chunk)
    except (OSError, EOFError, zlib.error) as err:
        raise BackupError(f"{where}: not a valid gzip file: {err}") from None
    return b"".join(parts)


def check_inflation(unpacked: int, packed: int, where: str, limit: int) -> None:
    """BackupError when a gzip stream unpacks past `limit` bytes or past MAX_INFLATION (a gzip bomb)."""
    if unpacked > limit:
        raise BackupError(f"{where}: unpacks to more than {limit} bytes, the limit")
    if unpacked > INFLATION_GRACE and unpacked > MAX_INFLATION * max(packed, 1):
        raise BackupError(
            f"{where}: unpacks to more than {MAX_INFLATION} times its {packed} compressed bytes "
            f"(over {unpacked} bytes so far): refused as a gzip bomb"
        )


def parse_json(data: bytes, where: str) -> Any:
    try:
        return json.loads(data)
    except (UnicodeDecodeError, ValueError) as err:
        raise BackupError(f"{where}: invalid JSON: {err}") from None
    except RecursionError:
        raise BackupError(f"{where}: invalid JSON: nested too deeply") from None


def json_kind(value: Any) -> str:
    """How JSON names a Python value's type, for messages."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    return "null" if value is None else "number"


def is_local(fs: AbstractFileSystem) -> bool:
    return isinstance(fs, LocalFileSystem)


def read_optional(fs: AbstractFileSystem, path: str, where: str) -> bytes | None:
    """The file's bytes, or None when it does not exist; BackupError past MAX_FILE_BYTES."""
    try:
        # one GET of at most the limit from an object store (whole, never a mix of two versions);
        # a local file in chunks, since a read of the limit would reserve all of it at once
        data = _read_local(path) if is_local(fs) else fs.cat_file(path, start=0, end=MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise BackupError(f"{where}: is a directory, not a file") from None
    except Exception as err:
        raise BackupError(f"{where}: cannot be read: {err}") from None
    if len(data) > MAX_FILE_BYTES:
        raise BackupError(f"{where}: is over {MAX_FILE_BYTES} bytes, the limit for a metadata file")
    return data


def _read_local(path: str) -> bytes:
    parts, size = [], 0
    with open(path, "rb") as stream:
        while size <= MAX_FILE_BYTES and (chunk := stream.read(_CHUNK)):
            size += len(chunk)
            parts.append(chunk)
    return b"".join(parts)


def write_atomic(fs: AbstractFileSystem, path: str, data: bytes) -> None:
    """Write a whole file so readers see the old content or the new one, never a part.

    Object stores publish an object only once its upload completes; a local file is written
    beside its destination and renamed over it.
    """
    if not is_local(fs):
        fs.pipe_file(path, data)
        return
    fs.makedirs(fs._parent(path), exist_ok=True)
    partial = _partial_name(path)
    try:
        with open(partial, "wb") as out:
            out.write(data)
        os.replace(partial, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)


def upload_atomic(fs: AbstractFileSystem, local_file: str, path: str) -> None:
    """Upload a local file in one piece (same guarantee as `write_atomic`)."""
    if not is_local(fs):
        fs.put_file(local_file, path)
        return
    fs.makedirs(fs._parent(path), exist_ok=True)
    partial = _partial_name(path)
    try:
        fs.cp_file(local_file, partial)
        os.replace(partial, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)


def _partial_name(path: str) -> str:
    head, _, tail = path.rpartition("/")
    return f"{head}/.{tail}.{uuid.uuid4().hex[:12]}.partial"


def check_name(kind: str, name: str) -> str:
    """Backup and restore names become path segments: refuse anything that could leave its folder."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or name != name.strip():
        raise BackupError(f"invalid {kind} name {name!r}")
    return name
