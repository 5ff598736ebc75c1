"""File-system backup restores: Velero PodVolumeRestore objects for restored pods, and the wait for them.

The pod volume backups come from the backup's `<B>-podvolumebackups.json.gz` side file, so the target
cluster needs Velero's node agent (which does the copying) but not the PodVolumeBackup objects.
One PodVolumeRestore per backed-up volume is created in the Velero namespace, shaped exactly as
Velero creates it, and `restore-wait` in the pod holds the application until they are done.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from restoreflow.actions.pod_volume_restore import VolumeBackup
from restoreflow.kube.names import get_valid_name

FINISHED_PHASES = ("Completed", "Failed", "Canceled")
POLL_INTERVAL = 0.5
TIMED_OUT = "timed out waiting for all PodVolumeRestores to complete"


def new_pod_volume_restore(
    *,
    restore_name: str,
    restore_uid: str,
    velero_namespace: str,
    pod: Mapping[str, Any],
    backup: VolumeBackup,
    backup_location: str,
    source_namespace: str,
    pvc_uid: str | None = None,
    settings: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A velero.io/v1 PodVolumeRestore as Velero's newPodVolumeRestore builds it."""
    metadata = pod.get("metadata") or {}
    labels = {
        "velero.io/restore-name": get_valid_name(restore_name),
        "velero.io/restore-uid": restore_uid,
        "velero.io/pod-uid": metadata.get("uid", ""),
    }
    if pvc_uid:
        labels["velero.io/pvc-uid"] = pvc_uid
    spec: dict[str, Any] = {
        "pod": {
            "kind": "Pod",
            "namespace": metadata.get("namespace", ""),
            "name": metadata.get("name", ""),
            "uid": metadata.get("uid", ""),
        },
        "volume": backup.volume,
        "snapshotID": backup.snapshot_id,
        "backupStorageLocation": backup_location,
        "repoIdentifier": "",
        "uploaderType": backup.uploader_type,
        "sourceNamespace": source_namespace,
    }
    if backup.size:
        spec["snapshotSize"] = backup.size
    if settings:
        spec["uploaderSettings"] = dict(settings)
    # Unlike Velero's, no ownerReference: the target holds no Restore object, and the garbage
    # collector deletes objects whose owners are all missing.
    return {
        "apiVersion": "velero.io/v1",
        "kind": "PodVolumeRestore",
        "metadata": {
            "namespace": velero_namespace,
            "generateName": f"{restore_name}-",
            "labels": labels,
        },
        "spec": spec,
    }


@dataclass
class PodVolumes:
    """The PodVolumeRestores started for one restored pod."""

    namespace: str  # the pod's target namespace (errors are keyed by it)
    name: str
    restores: dict[str, str] = field(default_factory=dict)  # PodVolumeRestore name -> volume
    finished: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> final object


@dataclass
class VolumeProgress:
    """What the volumes phase reports while it waits."""

    total: int = 0
    done: int = 0
    failed: int = 0
    bytes_done: int = 0
    bytes_total: int = 0


class PodVolumeTracker:
    """The PodVolumeRestores of one restore, across pods; safe to use from the engine's workers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.pods: dict[tuple[str, str], PodVolumes] = {}
        self.progress = VolumeProgress()

    def add(self, namespace: str, name: str, pvr_name: str, volume: str) -> None:
        with self._lock:
            pod = self.pods.setdefault((namespace, name), PodVolumes(namespace, name))
            pod.restores[pvr_name] = volume
            self.progress.total = sum(len(p.restores) for p in self.pods.values())

    def registrations(self) -> list[list[str]]:
        """Every [namespace, pod, PodVolumeRestore, volume] added, in order (a group's outcome)."""
        with self._lock:
            return [[p.namespace, p.name, r, v] for p in self.pods.values() for r, v in p.restores.items()]

    def pending(self) -> list[PodVolumes]:
        with self._lock:
            return [p for p in self.pods.values() if len(p.finished) < len(p.restores)]

    def observe(self, pvrs: Iterable[Mapping[str, Any]]) -> list[tuple[PodVolumes, dict[str, Any]]]:
        """Record the PodVolumeRestores seen in the cluster; returns the ones that just finished."""
        by_name = {p["metadata"]["name"]: p for p in pvrs}
        newly: list[tuple[PodVolumes, dict[str, Any]]] = []
        done_bytes = total_bytes = 0
        with self._lock:
            for pod in self.pods.values():
                for pvr_name in pod.restores:
                    pvr = by_name.get(pvr_name) or pod.finished.get(pvr_name)
                    if pvr is None:
                        continue
                    progress = (pvr.get("status") or {}).get("progress") or {}
                    done_bytes += int(progress.get("bytesDone") or 0)
                    total_bytes += int(progress.get("totalBytes") or 0)
                    if (
                        pvr_name not in pod.finished
                        and (pvr.get("status") or {}).get("phase") in FINISHED_PHASES
                    ):
                        pod.finished[pvr_name] = dict(pvr)
                        newly.append((pod, dict(pvr)))
            finished = [f for p in self.pods.values() for f in p.finished.values()]
            self.progress.done = len(finished)
            self.progress.failed = sum(1 for f in finished if f["status"]["phase"] != "Completed")
            self.progress.bytes_done = done_bytes
            self.progress.bytes_total = total_bytes
        return newly


def failure_message(pvr: Mapping[str, Any]) -> str | None:
    """Velero's error for a finished PodVolumeRestore, or None when it completed."""
    status = pvr.get("status") or {}
    if status.get("phase") == "Failed":
        return f"pod volume restore failed: {status.get('message', '')}"
    if status.get("phase") == "Canceled":
        return f"pod volume restore canceled: {status.get('message', '')}"
    return None


def deadline_after(seconds: float) -> float:
    return time.monotonic() + seconds
