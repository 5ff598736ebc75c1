"""Reading a Velero backup archive (`<B>.tar.gz`, format 1.1.0) in one streaming pass.

Layout (Velero's `pkg/archive`):

    metadata/version                                        "1.1.0"
    resources/<resource.group>/cluster/<name>.json          classic path, cluster-scoped
    resources/<resource.group>/namespaces/<ns>/<name>.json  classic path, namespaced
    resources/<resource.group>/<v>-preferredversion/...     the same items in the preferred version
    resources/<resource.group>/<v>/...                      other versions (EnableAPIGroupVersions)

The archive is read once, front to back. Every regular file under `resources/` and `metadata/`
(but the `-preferredversion` copies of classic-path items, only noted) is appended to one private
spill file; an index keeps where each one sits, so reading an item
later is a single positioned read. Nothing named by the archive is ever created on disk: entry
names only become keys of that index, after they are checked. Memory grows with the number of
entries (their names), never with their size.

The inventory, like Velero's, comes from the classic paths only; version folders serve
`group_versions()` and versioned reads.

Limits, so a hostile archive costs little: an item over `max_item_bytes` fails alone; more than
MAX_ENTRIES entries, a tar stream over MAX_TAR_BYTES, or one inflating past the gzip ratio of
`files.check_inflation` refuses the archive as a bomb, as does a path that appears twice, a format
version other than 1.x, or any link, device or path leaving the archive. Memory is bounded by the
entry count (the index) and one item at a time.
"""

from __future__ import annotations

import contextlib
import gzip
import logging
import os
import posixpath
import re
import shutil
import tempfile
import weakref
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from restoreflow import codec
from restoreflow.kube.gvr import version_priority

from .errors import BackupError, ItemError
from .files import SUPPORTED_FORMAT, check_inflation, json_kind
from .tarstream import TarEntry, TarFormatError, TarReader

log = logging.getLogger(__name__)

RESOURCES_DIR = "resources"
METADATA_DIR = "metadata"
CLUSTER_SCOPED_DIR = "cluster"
NAMESPACE_SCOPED_DIR = "namespaces"
PREFERRED_VERSION_SUFFIX = "-preferredversion"
MAX_ENTRIES = 1_000_000  # entries in one archive: Velero writes two per item
MAX_TAR_BYTES = 64 * 1024**3  # the unpacked tar stream
_CHUNK = 1 << 20
_SIZE_BITS = 40  # an entry's (offset, size) packed into one int: sizes below 1 TiB

# (resource dir, version dir or None for the classic path, namespace) -> item name -> packed location
_Index = dict[tuple[str, str | None, str], dict[str, int]]


@dataclass(frozen=True)
class ResourceVersions:
    """The API versions a backup holds for one resource, from its version folders."""

    preferred: str | None  # the source cluster's preferred version (`<v>-preferredversion`)
    versions: tuple[str, ...]  # every version present, in Kubernetes version priority order


def item_path(resource_dir: str, namespace: str, name: str, version_dir: str | None = None) -> str:
    """The archive-relative path of an item, as used in messages."""
    parts = [RESOURCES_DIR, resource_dir]
    if version_dir:
        parts.append(version_dir)
    parts += [NAMESPACE_SCOPED_DIR, namespace] if namespace else [CLUSTER_SCOPED_DIR]
    return "/".join([*parts, f"{name}.json"])


class BackupArchive:
    """An opened backup archive: inventory, versions and random access to items.

    Use as a context manager (or call `close()`); the spill file is deleted on close. Reads are
    safe from several threads at once.
    """

    def __init__(self, spilled: _Spiller, spill_dir: str) -> None:
        self.where = spilled.where
        self.max_item_bytes = spilled.max_item_bytes
        self.ignored = spilled.ignored  # entries Velero would skip too (worth a log line, no more)
        self.unpacked_bytes = spilled.unpacked_bytes
        self._index = spilled.index
        self._other = spilled.other
        self._oversize = spilled.oversize
        self.spill_dir = spill_dir  # private (0700), removed on close
        self._fd = os.open(spilled.spill_file, os.O_RDONLY)
        self._cleanup = weakref.finalize(self, _remove, self._fd, spill_dir)
        self.inventory = self._build_inventory()
        self.warnings: list[str] = []
        if not spilled.saw_resources:
            self.warnings.append(f'zero items to be restored: directory "{RESOURCES_DIR}": does not exist')
        self.format_version = self._read_other(f"{METADATA_DIR}/version").decode("utf-8", "replace").strip()

    @classmethod
    def read(
        cls,
        stream: IO[bytes],
        where: str,
        *,
        workdir: Path | None = None,
        max_item_bytes: int,
        max_entries: int | None = None,
    ) -> BackupArchive:
        """Stream a tar.gz into a new spill folder; BackupError naming the archive when it is unusable."""
        spill_dir = tempfile.mkdtemp(prefix="restoreflow-archive-", dir=workdir)
        try:
            spilled = _Spiller(
                where, os.path.join(spill_dir, "entries"), max_item_bytes, max_entries or MAX_ENTRIES
            )
            spilled.consume(stream)
            return cls(spilled, spill_dir)
        except BaseException:
            shutil.rmtree(spill_dir, ignore_errors=True)
            raise

    # reading ---------------------------------------------------------------------------------

    def has_item(self, resource_dir: str, namespace: str, name: str) -> bool:
        """Whether the classic path holds this item (additional items are read from there)."""
        return (
            name in self._index.get((resource_dir, None, namespace), ())
            or item_path(resource_dir, namespace, name) in self._oversize
        )

    def item_path(self, resource_dir: str, namespace: str, name: str, version_dir: str | None = None) -> str:
        return item_path(resource_dir, namespace, name, version_dir)

    def read_item(
        self, resource_dir: str, namespace: str, name: str, version_dir: str | None = None
    ) -> dict[str, Any]:
        """One item as a dict; ItemError (this item only) when it is missing, too big or not JSON."""
        path = item_path(resource_dir, namespace, name, version_dir)
        if version_dir and version_dir.endswith(PREFERRED_VERSION_SUFFIX):
            version_dir = None  # Velero writes the preferred version's items to the classic path too
        packed = self._index.get((resource_dir, version_dir or None, namespace), {}).get(name)
        if packed is None:
            if path in self._oversize:
                raise ItemError(path, self._too_big(self._oversize[path]))
            raise ItemError(path, "does not exist")
        try:
            obj = codec.loads(self._pread(packed))
        except ValueError as err:
            raise ItemError(path, str(err)) from None
        if not isinstance(obj, dict):
            raise ItemError(path, f"expected a JSON object, got {json_kind(obj)}")
        problem = _misplaced(obj, resource_dir, namespace, name)
        if problem:
            raise ItemError(path, problem)
        return obj

    def group_versions(self) -> dict[str, ResourceVersions]:
        """resource dir -> its versions, for resources that have version folders (format 1.1.0)."""
        found: dict[str, dict[str, bool]] = {}
        for resource_dir, version_dir, _ in self._index:
            if version_dir:
                version = version_dir.removesuffix(PREFERRED_VERSION_SUFFIX)
                versions = found.setdefault(resource_dir, {})
                versions[version] = versions.get(version, False) or version_dir != version
        return {
            resource_dir: ResourceVersions(
                preferred=next((v for v, preferred in versions.items() if preferred), None),
                versions=tuple(sorted(versions, key=version_priority)),
            )
            for resource_dir, versions in sorted(found.items())
        }

    def version_dirs(self, resource_dir: str) -> list[str]:
        """The version folder names under a resource dir (`v1-preferredversion`, `v1beta1`...)."""
        return sorted({v for r, v, _ in self._index if r == resource_dir and v})

    @property
    def item_count(self) -> int:
        return sum(len(names) for namespaces in self.inventory.values() for names in namespaces.values())

    # lifecycle -------------------------------------------------------------------------------

    def close(self) -> None:
        self._cleanup()

    def __enter__(self) -> BackupArchive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"BackupArchive({self.where!r}, {self.item_count} items)"

    # internals -------------------------------------------------------------------------------

    def _build_inventory(self) -> dict[str, dict[str, list[str]]]:
        inventory: dict[str, dict[str, list[str]]] = {}
        for (resource_dir, version_dir, namespace), names in sorted(
            self._index.items(), key=lambda kv: (kv[0][0], kv[0][2])
        ):
            if version_dir is None:
                inventory.setdefault(resource_dir, {})[namespace] = sorted(names)
        for path in self._oversize:
            parsed = _classic_item(path)
            if parsed:
                names = inventory.setdefault(parsed[0], {}).setdefault(parsed[1], [])
                names.append(parsed[2])
                names.sort()
        return inventory

    def _read_other(self, path: str) -> bytes:
        packed = self._other.get(path)
        return b"" if packed is None else self._pread(packed)

    def _pread(self, packed: int) -> bytes:
        offset, size = packed >> _SIZE_BITS, packed & ((1 << _SIZE_BITS) - 1)
        return os.pread(self._fd, size, offset)

    def _too_big(self, size: int) -> str:
        return f"item is {size} bytes, over the {self.max_item_bytes}-byte limit for one item"


def _misplaced(obj: dict[str, Any], resource_dir: str, namespace: str, name: str) -> str | None:
    """What in an item contradicts the place the archive keeps it: a file speaks for itself only."""
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        return "metadata not found"
    if metadata.get("name") != name:
        return (
            f"its metadata.name {_go_quote(str(metadata.get('name')))} differs from its file name {name}.json"
        )
    if (metadata.get("namespace") or "") != namespace:
        folder = f"namespaces/{namespace}" if namespace else CLUSTER_SCOPED_DIR
        found = _go_quote(str(metadata.get("namespace") or ""))
        return f"its metadata.namespace {found} differs from its folder {folder}"
    api_version = str(obj.get("apiVersion") or "")
    group = api_version.rpartition("/")[0] if "/" in api_version else ""
    if group != resource_dir.partition(".")[2]:
        return f"its apiVersion {_go_quote(api_version)} is not in the API group of its folder {resource_dir}"
    return None


def _remove(fd: int, spill_dir: str) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)
    shutil.rmtree(spill_dir, ignore_errors=True)


def _classic_item(path: str) -> tuple[str, str, str] | None:
    """(resource dir, namespace, name) of a classic item path, else None."""
    parts = path.split("/")
    if len(parts) == 4 and parts[2] == CLUSTER_SCOPED_DIR:
        return parts[1], "", parts[3].removesuffix(".json")
    if len(parts) == 5 and parts[2] == NAMESPACE_SCOPED_DIR:
        return parts[1], parts[3], parts[4].removesuffix(".json")
    return None


class _Spiller:
    """One pass over the tar stream: check every entry, spill the useful ones, index them."""

    def __init__(self, where: str, spill_file: str, max_item_bytes: int, max_entries: int) -> None:
        self.where = where
        self.spill_file = spill_file
        self.max_item_bytes = max_item_bytes
        self.max_entries = max_entries
        self.entries = 0
        self.version = ""
        self.index: _Index = {}
        self.other: dict[str, int] = {}
        self.oversize: dict[str, int] = {}
        self.ignored: list[str] = []
        self.saw_resources = False
        self.unpacked_bytes = 0

    def consume(self, stream: IO[bytes]) -> None:
        with open(self.spill_file, "wb") as out:
            try:
                self._consume(stream, out)
            except BackupError:
                raise
            except EOFError as err:
                raise BackupError(f"backup archive {self.where} is truncated: {err}") from None
            except gzip.BadGzipFile as err:
                what = "is not a gzip file" if str(err).startswith("Not a gzipped file") else "is corrupt"
                raise BackupError(f"backup archive {self.where} {what}: {err}") from None
            except (TarFormatError, zlib.error) as err:
                raise BackupError(f"backup archive {self.where} is corrupt: {err}") from None
            except Exception as err:  # the store or the network failed while streaming
                raise BackupError(f"backup archive {self.where} cannot be read: {err}") from None

    def _consume(self, stream: IO[bytes], out: IO[bytes]) -> None:
        packed = _Counted(stream)
        with gzip.GzipFile(fileobj=packed, mode="rb") as gz:
            unpacked = _Inflating(gz, packed, self.where)
            reader = TarReader(unpacked)
            for entry in reader:
                self.entries += 1
                if self.entries > self.max_entries:
                    self._refuse(f"more than {self.max_entries} entries, the limit: refused as a tar bomb")
                path = self._checked_path(entry)
                if path == RESOURCES_DIR or path.startswith(RESOURCES_DIR + "/"):
                    self.saw_resources = True
                if entry.kind == "file":
                    self._take(path, entry, reader, out)
            while unpacked.read(_CHUNK):  # to the end of the gzip stream: its checksum catches truncation
                pass
        if not packed.count:
            self._refuse("the file is empty (0 bytes), not a gzip file")
        major = self.version.split(".")[0]
        if self.version and major != SUPPORTED_FORMAT:
            self._refuse(
                f'unsupported backup format version "{self.version}" in {METADATA_DIR}/version '
                f"(restoreflow reads format {SUPPORTED_FORMAT}.x)"
            )

    def _checked_path(self, entry: TarEntry) -> str:
        """The entry's normalized relative path; BackupError for anything unsafe."""
        name = entry.name
        if entry.kind == "file" and _plain(name):
            return name  # already normalized and relative: the common case, checked cheaply
        if name.startswith("/") or (name[1:2] == ":" and re.match(r"^[A-Za-z]:[\\/]", name)):
            self._refuse(f"invalid archive path {_go_quote(name)}: absolute paths are not allowed")
        normalized = posixpath.normpath(name)
        if normalized == ".." or normalized.startswith("../"):
            self._refuse(f"invalid archive path {_go_quote(name)}: escapes target directory")
        if ".." in name.replace("\\", "/").split("/"):
            self._refuse(f"invalid archive path {_go_quote(name)}: contains a parent directory reference")
        if entry.kind not in ("file", "directory"):
            self._refuse(f"invalid archive entry {_go_quote(name)}: {_UNSAFE[entry.kind]} are not allowed")
        return "" if normalized == "." else normalized

    def _refuse(self, message: str) -> None:
        raise BackupError(f"backup archive {self.where}: {message}")

    def _take(self, path: str, entry: TarEntry, reader: TarReader, out: IO[bytes]) -> None:
        top, _, rest = path.partition("/")
        if top == RESOURCES_DIR:
            key = self._index_key(path)
            if key is None:
                return
            if key[1] and key[1].endswith(PREFERRED_VERSION_SUFFIX):
                self.index.setdefault(key[:3], {})  # the same item as at the classic path: read there
                return
        elif top == METADATA_DIR and rest:
            key = None
        else:
            return
        if (
            path in self.oversize
            or (key is None and path in self.other)
            or (key is not None and key[3] in self.index.get(key[:3], ()))
        ):
            self._refuse(f"the entry {_go_quote(path)} appears twice: which one to restore is unclear")
        if entry.size > self.max_item_bytes:
            self.oversize[path] = entry.size
            return
        data = reader.read(entry)  # at most one item in memory: the size cap bounds it
        if path == f"{METADATA_DIR}/version":
            self.version = data.decode("utf-8", "replace").strip()
        try:
            out.write(data)
        except OSError as err:
            spill = self.spill_file
            raise BackupError(f"backup archive {self.where} cannot be spilled to {spill}: {err}") from None
        packed = (self.unpacked_bytes << _SIZE_BITS) | entry.size
        self.unpacked_bytes += entry.size
        if key is None:
            self.other[path] = packed
        else:
            self.index.setdefault(key[:3], {})[key[3]] = packed

    def _index_key(self, path: str) -> tuple[str, str | None, str, str] | None:
        """(resource dir, version dir, namespace, name) of an item path; None (noted) for other files."""
        parts = path.split("/")[1:]
        version_dir = None
        if len(parts) >= 2 and parts[1] not in (CLUSTER_SCOPED_DIR, NAMESPACE_SCOPED_DIR):
            version_dir = parts.pop(1)
        if len(parts) == 3 and parts[1] == CLUSTER_SCOPED_DIR:
            return parts[0], version_dir, "", parts[2].removesuffix(".json")
        if len(parts) == 4 and parts[1] == NAMESPACE_SCOPED_DIR:
            return parts[0], version_dir, parts[2], parts[3].removesuffix(".json")
        self.ignored.append(f"ignoring unexpected file {_go_quote(path)} in the backup archive")
        return None


class _Counted:
    """The compressed stream, counting the bytes read from it."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.count += len(data)
        return data


class _Inflating:
    """The unpacked stream, refusing a gzip bomb as soon as it inflates past the limits."""

    def __init__(self, gz: IO[bytes], packed: _Counted, where: str) -> None:
        self.gz, self.packed, self.where = gz, packed, f"backup archive {where}"
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self.gz.read(size)
        self.count += len(data)
        check_inflation(self.count, self.packed.count, self.where, MAX_TAR_BYTES)
        return data


def _plain(name: str) -> bool:
    """True for a name normpath leaves as it is and that holds no drive, `.` or `..` component."""
    return not (
        name.startswith((".", "/")) or "/." in name or "//" in name or "\\" in name or name[1:2] == ":"
    ) and not name.endswith("/")


_UNSAFE = {
    "symbolic link": "symbolic links",
    "hard link": "hard links",
    "device": "device files",
    "named pipe": "named pipes",
    "special": "special entries",
}


def _go_quote(text: str) -> str:
    """A string quoted the way Go's %q does for printable text."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
