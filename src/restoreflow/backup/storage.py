"""A Velero backup storage location (BSL) read over fsspec.

Layout (Velero's `pkg/persistence/object_store_layout.go`), under the BSL root (bucket + prefix):

    backups/<B>/velero-backup.json                the Backup object (plain JSON)
    backups/<B>/<B>.tar.gz                        the archive (see `archive.py`)
    backups/<B>/<B>-<side file>                   gzip JSON side files (`SIDE_FILES`)
    restores/<R>/...                              restore records (see `records.py`)

Any fsspec URL works: a local folder or `file://`, `s3://` (s3fs), `gs://` (gcsfs), `az://` (adlfs).
Credentials come from each filesystem's usual environment; `options` carry the non-secret rest.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import fsspec
from fsspec import AbstractFileSystem

from .errors import BackupError, BackupNotFound, ScheduleHasNoBackup
from .files import SUPPORTED_FORMAT, check_name, gunzip, is_local, json_kind, parse_json, read_optional

if TYPE_CHECKING:
    from .archive import BackupArchive
    from .liveness import FlowRuns
    from .records import RestoreRecords

log = logging.getLogger(__name__)

SCHEDULE_LABEL = "velero.io/schedule-name"
DEFAULT_MAX_ITEM_BYTES = 32 * 1024 * 1024

# Side file suffix (after "<B>-") and the JSON type it holds: Velero writes each as gzip JSON.
SIDE_FILES: dict[str, tuple[str, type]] = {
    "volume_snapshots": ("volumesnapshots.json.gz", list),
    "pod_volume_backups": ("podvolumebackups.json.gz", list),
    "csi_volume_snapshots": ("csi-volumesnapshots.json.gz", list),
    "csi_volume_snapshot_contents": ("csi-volumesnapshotcontents.json.gz", list),
    "csi_volume_snapshot_classes": ("csi-volumesnapshotclasses.json.gz", list),
    "volume_info": ("volumeinfo.json.gz", list),
    "item_operations": ("itemoperations.json.gz", list),
    "resource_list": ("resource-list.json.gz", dict),
    "backup_results": ("results.gz", dict),
}


def parse_time(value: Any) -> datetime | None:
    """A Kubernetes RFC 3339 timestamp (`2026-11-24T01:00:00Z`) as an aware datetime."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass(frozen=True)
class BackupRecord:
    """What `velero-backup.json` says about one backup (the full document is in `raw`)."""

    name: str
    phase: str
    schedule_name: str | None
    start_timestamp: datetime | None
    completion_timestamp: datetime | None
    format_version: str
    included_namespaces: tuple[str, ...]
    excluded_namespaces: tuple[str, ...]
    included_resources: tuple[str, ...]
    excluded_resources: tuple[str, ...]
    storage_location: str
    expiration: datetime | None
    raw: Mapping[str, Any]

    @classmethod
    def from_document(cls, doc: Any, where: str, name: str | None = None) -> BackupRecord:
        if not isinstance(doc, dict):
            raise BackupError(f"{where}: expected a JSON object, got {json_kind(doc)}")
        metadata, spec, status = (_section(doc, key, where) for key in ("metadata", "spec", "status"))
        labels = metadata.get("labels") or {}
        _check_identity(metadata, status, where, name)
        return cls(
            name=name or str(metadata.get("name") or ""),
            phase=str(status.get("phase") or ""),
            schedule_name=labels.get(SCHEDULE_LABEL) or None,
            start_timestamp=parse_time(status.get("startTimestamp")),
            completion_timestamp=parse_time(status.get("completionTimestamp")),
            format_version=str(status.get("formatVersion") or ""),
            included_namespaces=tuple(spec.get("includedNamespaces") or ()),
            excluded_namespaces=tuple(spec.get("excludedNamespaces") or ()),
            included_resources=tuple(spec.get("includedResources") or ()),
            excluded_resources=tuple(spec.get("excludedResources") or ()),
            storage_location=str(spec.get("storageLocation") or ""),
            expiration=parse_time(status.get("expiration")),
            raw=doc,
        )


def _check_identity(metadata: dict[str, Any], status: dict[str, Any], where: str, name: str | None) -> None:
    """A record speaks for its own folder's backup, in a format this reader knows."""
    stated = metadata.get("name")
    if name and stated and stated != name:
        raise BackupError(f'{where}: describes backup "{stated}", not "{name}" whose folder holds it')
    version = str(status.get("formatVersion") or "")
    if version and version.split(".")[0] != SUPPORTED_FORMAT:
        supported = f"restoreflow reads format {SUPPORTED_FORMAT}.x"
        raise BackupError(f'{where}: unsupported backup format version "{version}" ({supported})')


def _section(doc: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = doc.get(key) or {}
    if not isinstance(value, dict):
        raise BackupError(f"{where}: {key}: expected a JSON object, got {json_kind(value)}")
    return value


BackupRef = BackupRecord | str


class BackupStorage:
    """One BSL root. Cheap to create; every read goes to the store (no stale listings)."""

    def __init__(self, url: str, fs: AbstractFileSystem, root: str) -> None:
        self.url = url
        self.fs = fs
        self.root = root.rstrip("/")
        # Restores' flow runs (the CLI's Prefect API): judge and end abandoned records, see liveness.
        self.runs: FlowRuns | None = None

    @classmethod
    def open(
        cls, url: str | Path, options: Mapping[str, Any] | None = None, *, create: bool = False
    ) -> BackupStorage:
        """Open a BSL root; BackupError naming the URL when it cannot be reached.

        A local folder must exist unless `create`; on object stores the bucket must exist
        (an empty prefix is just a location without backups yet).
        """
        url = str(url)
        try:
            fs, root = fsspec.url_to_fs(url, **dict(options or {}))
        except Exception as err:
            raise BackupError(f"backup storage location {url} cannot be opened: {err}") from None
        storage = cls(url, fs, root)
        storage._check_reachable(create)
        return storage

    def _check_reachable(self, create: bool) -> None:
        try:
            if is_local(self.fs):
                if create:
                    self.fs.makedirs(self.root, exist_ok=True)
                if not self.fs.isdir(self.root):
                    raise BackupError(f"backup storage location {self.url} is unreachable: no such directory")
                return
            bucket = self.root.split("/", 1)[0]
            self.fs.invalidate_cache(bucket)
            self.fs.ls(bucket, detail=False)
        except BackupError:
            raise
        except FileNotFoundError:
            raise BackupError(
                f"backup storage location {self.url} is unreachable: bucket {bucket!r} does not exist"
            ) from None
        except Exception as err:
            raise BackupError(f"backup storage location {self.url} is unreachable: {err}") from None

    # paths -----------------------------------------------------------------------------------

    def path(self, *parts: str) -> str:
        """The filesystem path of a key under the root."""
        return "/".join((self.root, *parts))

    def display(self, path: str) -> str:
        """A path as users should see it in messages: a local path or a full URL."""
        return path if is_local(self.fs) else self.fs.unstrip_protocol(path)

    def backup_path(self, backup: BackupRef, *file: str) -> str:
        name = backup.name if isinstance(backup, BackupRecord) else backup
        return self.path("backups", check_name("backup", name), *file)

    def archive_path(self, backup: BackupRef) -> str:
        name = backup.name if isinstance(backup, BackupRecord) else backup
        return self.backup_path(name, f"{name}.tar.gz")

    def refresh(self, path: str) -> None:
        """Forget cached listings so writes by others (another process, another fs instance) show."""
        self.fs.invalidate_cache(path)

    # backups ---------------------------------------------------------------------------------

    def list_backups(self) -> list[BackupRecord]:
        """Every backup with a readable `velero-backup.json`, sorted by name.

        A folder without one is not a backup (yet); an unreadable one is logged and skipped, so
        one damaged backup never hides the others.
        """
        names = self.child_names(self.path("backups"))
        paths = [self.backup_path(name, "velero-backup.json") for name in names]
        contents = self.fs.cat(paths, on_error="return") if paths else {}
        records = []
        for name, path in zip(names, paths, strict=True):
            data = contents.get(path)
            if data is None or isinstance(data, FileNotFoundError):
                continue
            try:
                if isinstance(data, Exception):
                    raise BackupError(f"{self.display(path)}: cannot be read: {data}")
                records.append(self._record(name, data, path))
            except BackupError as err:
                log.warning("skipping backup %s: %s", name, err)
        return records

    def get_backup(self, name: str) -> BackupRecord:
        path = self.backup_path(name, "velero-backup.json")
        self.refresh(self.backup_path(name))
        data = read_optional(self.fs, path, self.display(path))
        if data is None:
            raise BackupNotFound(name, self.url)
        return self._record(name, data, path)

    def latest_backup_of_schedule(self, schedule: str) -> BackupRecord:
        """The most recent Completed backup labelled with the schedule, as Velero picks it.

        Velero orders the schedule's backups by start time, newest first, and takes the first
        Completed one; its validation messages are kept word for word.
        """
        try:
            backups = [b for b in self.list_backups() if b.schedule_name == schedule]
        except BackupError as err:
            raise BackupError(f"Unable to list backups for schedule: {err}") from None
        if not backups:
            raise ScheduleHasNoBackup(schedule, "No backups found for schedule")
        newest_first = sorted(
            backups,
            key=lambda b: (b.start_timestamp.timestamp() if b.start_timestamp else float("-inf"), b.name),
            reverse=True,
        )
        for backup in newest_first:
            if backup.phase == "Completed":
                return backup
        raise ScheduleHasNoBackup(schedule, "No completed backups found for schedule")

    def _record(self, name: str, data: bytes, path: str) -> BackupRecord:
        where = self.display(path)
        return BackupRecord.from_document(parse_json(data, where), where, name)

    def child_names(self, path: str) -> list[str]:
        """The folder names directly under a path (object stores: common prefixes), sorted."""
        self.refresh(path)
        try:
            entries = self.fs.ls(path, detail=True)
        except FileNotFoundError:
            return []
        except Exception as err:
            raise BackupError(f"{self.display(path)}: cannot be listed: {err}") from None
        names = {e["name"].rstrip("/").rsplit("/", 1)[-1] for e in entries if e.get("type") == "directory"}
        return sorted(n for n in names if n not in (".", ".."))

    # side files ------------------------------------------------------------------------------

    def _side_file(self, backup: BackupRef, kind: str) -> Any:
        """A gzip JSON side file; empty when missing (Velero tolerates that), error when corrupt."""
        name = backup.name if isinstance(backup, BackupRecord) else backup
        suffix, expected = SIDE_FILES[kind]
        path = self.backup_path(name, f"{name}-{suffix}")
        where = self.display(path)
        data = read_optional(self.fs, path, where)
        if data is None:
            return expected()
        value = parse_json(gunzip(data, where), where)
        if value is None:  # Go encodes a nil slice or map as null
            return expected()
        if not isinstance(value, expected):
            want = "array" if expected is list else "object"
            raise BackupError(f"{where}: expected a JSON {want}, got {json_kind(value)}")
        return value

    def volume_snapshots(self, backup: BackupRef) -> list[dict[str, Any]]:
        return self._side_file(backup, "volume_snapshots")

    def pod_volume_backups(self, backup: BackupRef) -> list[dict[str, Any]]:
        return self._side_file(backup, "pod_volume_backups")

    def csi_volume_snapshots(self, backup: BackupRef) -> list[dict[str, Any]]:
        return self._side_file(backup, "csi_volume_snapshots")

    def csi_volume_snapshot_contents(self, backup: BackupRef) -> list[dict[str, Any]]:
        return self._side_file(backup, "csi_volume_snapshot_contents")

    def csi_volume_snapshot_classes(self, backup: BackupRef) -> list[dict[str, Any]]:
        return self._side_file(backup, "csi_volume_snapshot_classes")

    def volume_info(self, backup: BackupRef) -> list[dict[str, Any]]:
        return self._side_file(backup, "volume_info")

    def item_operations(self, backup: BackupRef) -> list[dict[str, Any]]:
        return self._side_file(backup, "item_operations")

    def resource_list(self, backup: BackupRef) -> dict[str, list[str]]:
        return self._side_file(backup, "resource_list")

    def backup_results(self, backup: BackupRef) -> dict[str, Any]:
        return self._side_file(backup, "backup_results")

    def backup_logs(self, backup: BackupRef) -> str:
        """The backup's log (`<B>-logs.gz`); empty when there is none."""
        name = backup.name if isinstance(backup, BackupRecord) else backup
        path = self.backup_path(name, f"{name}-logs.gz")
        data = read_optional(self.fs, path, self.display(path))
        return "" if data is None else gunzip(data, self.display(path)).decode("utf-8", "replace")

    # archive and restores --------------------------------------------------------------------

    def open_archive(
        self,
        backup: BackupRef,
        workdir: Path | None = None,
        max_item_bytes: int = DEFAULT_MAX_ITEM_BYTES,
        max_entries: int | None = None,
    ) -> BackupArchive:
        """Stream `<B>.tar.gz` once into a private spill file; use as a context manager."""
        from .archive import BackupArchive

        path = self.archive_path(backup)
        where = self.display(path)
        try:
            stream = self.fs.open(path, "rb")
        except FileNotFoundError:
            raise BackupError(f"backup archive {where} does not exist") from None
        except Exception as err:
            raise BackupError(f"backup archive {where} cannot be read: {err}") from None
        with stream:
            return BackupArchive.read(
                stream, where, workdir=workdir, max_item_bytes=max_item_bytes, max_entries=max_entries
            )

    @property
    def restores(self) -> RestoreRecords:
        from .records import RestoreRecords

        return RestoreRecords(self, runs=self.runs)

    def __repr__(self) -> str:
        return f"BackupStorage({self.url!r})"
