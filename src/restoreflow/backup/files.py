"""Small, format-faithful file helpers over fsspec: gzip JSON as Go writes it, atomic writes."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import uuid
import zlib
from typing import Any

from fsspec import AbstractFileSystem
from fsspec.implementations.local import LocalFileSystem

from .errors import BackupError

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
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as err:
        raise BackupError(f"{where}: not a valid gzip file: {err}") from None


def parse_json(data: bytes, where: str) -> Any:
    try:
        return json.loads(data)
    except (UnicodeDecodeError, ValueError) as err:
        raise BackupError(f"{where}: invalid JSON: {err}") from None


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
    """The file's bytes, or None when it does not exist."""
    try:
        return fs.cat_file(path)
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise BackupError(f"{where}: is a directory, not a file") from None
    except Exception as err:
        raise BackupError(f"{where}: cannot be read: {err}") from None


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
