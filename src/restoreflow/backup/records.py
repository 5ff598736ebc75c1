"""Restore records: what a restore leaves in the BSL, under `restores/<R>/`.

Velero's files, in Velero's formats (gzip, JSON as Go encodes it):

    restore-<R>-logs.gz                   the restore log (text)
    restore-<R>-results.gz                {"warnings": Result, "errors": Result}; Result is
                                          {"velero": [...], "cluster": [...], "namespaces": {ns: [...]}}
    restore-<R>-resource-list.json.gz     {"<apiVersion>/<Kind>": ["ns/name(created)", "name(skipped)"]}
    restore-<R>-itemoperations.json.gz    [RestoreOperation, ...]
    <R>-volumeinfo.json.gz                [RestoreVolumeInfo, ...] (no "restore-" prefix, as in Velero)

and restoreflow's status document, `restoreflow-restore.json` (plain JSON), shaped like a Velero
Restore object and rewritten while the restore runs:

    {"apiVersion": "restoreflow.dev/v1alpha1", "kind": "Restore",
     "metadata": {"name": R},
     "spec": {"backupName", "scheduleName", "plan", "planFile", "storageLocation",
              "target": {"kubeconfig", "context"}, ...Velero's Restore spec fields...},
     "status": {"phase", "startTimestamp", "completionTimestamp",
                "progress": {"totalItems", "itemsRestored"}, "warnings", "errors",
                "failureReason", "validationErrors", "hookStatus": {"hooksAttempted", "hooksFailed"},
                "counts": {"created", "updated", "skipped", "failed"},
                "podVolumeRestores": {"attempted", "completed", "failed"}, "flowRunId"}}

Every file is written whole or not at all. Deleting a record removes its files and nothing else.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Protocol

from fsspec import AbstractFileSystem

from .errors import BackupError, RestoreNotFound
from .files import check_name, go_json, gunzip, gzip_bytes, json_kind, parse_json, read_optional, write_atomic
from .liveness import FlowRuns, abandoned, mark_failed

log = logging.getLogger(__name__)

STATUS_FILE = "restoreflow-restore.json"


def velero_file_names(name: str) -> dict[str, str]:
    """Velero's file name for each part of a restore record."""
    return {
        "logs": f"restore-{name}-logs.gz",
        "results": f"restore-{name}-results.gz",
        "resource_list": f"restore-{name}-resource-list.json.gz",
        "item_operations": f"restore-{name}-itemoperations.json.gz",
        "volume_info": f"{name}-volumeinfo.json.gz",
    }


class Location(Protocol):
    """What records need of a storage location (a `BackupStorage`): its filesystem and paths."""

    url: str
    fs: AbstractFileSystem

    def path(self, *parts: str) -> str: ...
    def display(self, path: str) -> str: ...
    def refresh(self, path: str) -> None: ...
    def child_names(self, path: str) -> list[str]: ...


class RestoreRecords:
    """The restore records of one BSL."""

    def __init__(self, storage: Location, runs: FlowRuns | None = None) -> None:
        self.storage = storage
        self.runs = runs  # restores' flow runs, to judge and end the abandoned ones (see liveness)

    # writing ---------------------------------------------------------------------------------

    def write(
        self,
        name: str,
        *,
        status: dict[str, Any],
        results: dict[str, Any],
        resource_list: dict[str, list[str]],
        logs: str | bytes,
        item_operations: list[dict[str, Any]],
        volume_info: list[dict[str, Any]],
    ) -> None:
        """Write every file of a finished restore; the status document goes last."""
        files = velero_file_names(name)
        raw_logs = logs.encode() if isinstance(logs, str) else logs
        sorted_list = {key: sorted(items) for key, items in resource_list.items()}
        self._put(name, files["logs"], gzip_bytes(raw_logs))
        self._put(name, files["results"], gzip_bytes(go_json(results, sort_keys=True)))
        self._put(name, files["resource_list"], gzip_bytes(go_json(sorted_list, sort_keys=True)))
        self._put(name, files["item_operations"], gzip_bytes(go_json(item_operations)))
        self._put(name, files["volume_info"], gzip_bytes(go_json(volume_info)))
        self.write_status(name, status)

    def write_status(self, name: str, status: dict[str, Any]) -> None:
        """Write (or replace) the status document; called repeatedly while a restore runs."""
        self._put(name, STATUS_FILE, json.dumps(status, indent=2, default=str).encode() + b"\n")

    def _put(self, name: str, file: str, data: bytes) -> None:
        path = self._path(name, file)
        try:
            write_atomic(self.storage.fs, path, data)
        except Exception as err:
            raise BackupError(f"{self.storage.display(path)}: cannot be written: {err}") from None

    # reading ---------------------------------------------------------------------------------

    def list(self) -> list[dict[str, Any]]:
        """Every restore's status document, newest first (by start time, then name).

        Folders without a status document (Velero's own restores, a record being deleted) are
        not listed; a damaged one is logged and skipped, so it never hides the others.
        """
        names = self.storage.child_names(self.storage.path("restores"))
        paths = [self._path(name, STATUS_FILE) for name in names]
        contents = self.storage.fs.cat(paths, on_error="return") if paths else {}
        documents = []
        for path in paths:
            data = contents.get(path)
            if data is None or isinstance(data, FileNotFoundError):
                continue
            where = self.storage.display(path)
            try:
                if isinstance(data, Exception):
                    raise BackupError(f"{where}: cannot be read: {data}")
                documents.append(self._settle(self._expect(parse_json(data, where), dict, where)))
            except BackupError as err:
                log.warning("skipping restore record: %s", err)
        return sorted(documents, key=_newest_first_key, reverse=True)

    def get(self, name: str) -> dict[str, Any]:
        path = self._path(name, STATUS_FILE)
        where = self.storage.display(path)
        data = read_optional(self.storage.fs, path, where)
        if data is None:
            raise RestoreNotFound(name, self.storage.url)
        return self._settle(self._expect(parse_json(data, where), dict, where))

    def _settle(self, document: dict[str, Any]) -> dict[str, Any]:
        """A record left running by a process that died is ended now, Failed with the reason."""
        reason = abandoned(document, self.runs)
        if reason is None:
            return document
        name = str((document.get("metadata") or {}).get("name") or "")
        ended = mark_failed(document, reason)
        log.warning("restore %s: %s; marked Failed", name, reason)
        try:
            self.write_status(check_name("restore", name), ended)
        except BackupError as err:
            log.warning("restore %s could not be marked Failed: %s", name, err)
        if self.runs is not None:
            self.runs.record_ended(ended)
        return ended

    def exists(self, name: str) -> bool:
        self.storage.refresh(self._path(name))
        return self.storage.fs.exists(self._path(name, STATUS_FILE))

    def results(self, name: str) -> dict[str, Any]:
        """`{"warnings": ..., "errors": ...}`; empty until the restore wrote them."""
        return self._gzip_json(name, "results", dict)

    def resource_list(self, name: str) -> dict[str, list[str]]:
        return self._gzip_json(name, "resource_list", dict)

    def item_operations(self, name: str) -> list[dict[str, Any]]:
        return self._gzip_json(name, "item_operations", list)

    def volume_info(self, name: str) -> list[dict[str, Any]]:
        return self._gzip_json(name, "volume_info", list)

    def logs(self, name: str) -> str:
        path = self._path(name, velero_file_names(name)["logs"])
        where = self.storage.display(path)
        data = read_optional(self.storage.fs, path, where)
        return "" if data is None else gunzip(data, where).decode("utf-8", "replace")

    def _gzip_json(self, name: str, part: str, expected: type) -> Any:
        path = self._path(name, velero_file_names(name)[part])
        where = self.storage.display(path)
        data = read_optional(self.storage.fs, path, where)
        if data is None:
            return expected()
        value = parse_json(gunzip(data, where), where)
        return expected() if value is None else self._expect(value, expected, where)

    @staticmethod
    def _expect(value: Any, expected: type, where: str) -> Any:
        if not isinstance(value, expected):
            want = "array" if expected is list else "object"
            raise BackupError(f"{where}: expected a JSON {want}, got {json_kind(value)}")
        return value

    # managing --------------------------------------------------------------------------------

    def delete(self, name: str) -> list[str]:
        """Remove every file of the record (never anything in a cluster); returns what was removed."""
        folder = self._path(name)
        self.storage.refresh(folder)
        try:
            files = [f for f in self.storage.fs.find(folder) if f.startswith(folder + "/")]
        except FileNotFoundError:
            files = []
        if not files:
            raise RestoreNotFound(name, self.storage.url)
        try:
            self.storage.fs.rm(files)
            if self.storage.fs.exists(folder):
                self.storage.fs.rm(folder, recursive=True)
        except FileNotFoundError:
            pass
        except Exception as err:
            raise BackupError(f"{self.storage.display(folder)}: cannot be deleted: {err}") from None
        self.storage.refresh(folder)
        return [self.storage.display(f) for f in files]

    def url(self, name: str) -> str:
        """Where the record lives, for links and messages."""
        return self.storage.display(self._path(name))

    def _path(self, name: str, *file: str) -> str:
        return self.storage.path("restores", check_name("restore", name), *file)


def _newest_first_key(document: dict[str, Any]) -> tuple[str, str]:
    status = document.get("status") or {}
    metadata = document.get("metadata") or {}
    started = status.get("startTimestamp") or metadata.get("creationTimestamp") or ""
    return str(started), str(metadata.get("name") or "")
