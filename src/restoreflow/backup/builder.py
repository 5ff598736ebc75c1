"""Writing Velero-format backups (format 1.1.0) from plain Kubernetes objects.

Tests build exactly the backup they need with it, and the demo its sample backup. The result is
what Velero writes: `velero-backup.json`, `<B>.tar.gz` with classic and `<v>-preferredversion`
paths and `metadata/version`, and the gzip JSON side files.
"""

from __future__ import annotations

import io
import json
import tarfile
import tempfile
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from restoreflow.kube.durations import format_duration
from restoreflow.kube.gvr import split_api_version

from .archive import PREFERRED_VERSION_SUFFIX, item_path
from .files import go_json, gzip_bytes, upload_atomic, write_atomic
from .storage import SCHEDULE_LABEL, BackupRecord, BackupStorage

FORMAT_VERSION = "1.1.0"

# (API group, kind) -> resource (plural), for the kinds a backup usually holds. Custom resources
# resolve through CustomResourceDefinitions added to the same backup, or an explicit `resource=`.
KNOWN_RESOURCES: dict[tuple[str, str], str] = {
    ("", "Binding"): "bindings",
    ("", "ConfigMap"): "configmaps",
    ("", "Endpoints"): "endpoints",
    ("", "Event"): "events",
    ("", "LimitRange"): "limitranges",
    ("", "Namespace"): "namespaces",
    ("", "Node"): "nodes",
    ("", "PersistentVolume"): "persistentvolumes",
    ("", "PersistentVolumeClaim"): "persistentvolumeclaims",
    ("", "Pod"): "pods",
    ("", "PodTemplate"): "podtemplates",
    ("", "ReplicationController"): "replicationcontrollers",
    ("", "ResourceQuota"): "resourcequotas",
    ("", "Secret"): "secrets",
    ("", "Service"): "services",
    ("", "ServiceAccount"): "serviceaccounts",
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"): "mutatingwebhookconfigurations",
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"): "validatingwebhookconfigurations",
    ("apiextensions.k8s.io", "CustomResourceDefinition"): "customresourcedefinitions",
    ("apiregistration.k8s.io", "APIService"): "apiservices",
    ("apps", "ControllerRevision"): "controllerrevisions",
    ("apps", "DaemonSet"): "daemonsets",
    ("apps", "Deployment"): "deployments",
    ("apps", "ReplicaSet"): "replicasets",
    ("apps", "StatefulSet"): "statefulsets",
    ("autoscaling", "HorizontalPodAutoscaler"): "horizontalpodautoscalers",
    ("batch", "CronJob"): "cronjobs",
    ("batch", "Job"): "jobs",
    ("coordination.k8s.io", "Lease"): "leases",
    ("discovery.k8s.io", "EndpointSlice"): "endpointslices",
    ("events.k8s.io", "Event"): "events",
    ("networking.k8s.io", "Ingress"): "ingresses",
    ("networking.k8s.io", "IngressClass"): "ingressclasses",
    ("networking.k8s.io", "NetworkPolicy"): "networkpolicies",
    ("policy", "PodDisruptionBudget"): "poddisruptionbudgets",
    ("rbac.authorization.k8s.io", "ClusterRole"): "clusterroles",
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): "clusterrolebindings",
    ("rbac.authorization.k8s.io", "Role"): "roles",
    ("rbac.authorization.k8s.io", "RoleBinding"): "rolebindings",
    ("scheduling.k8s.io", "PriorityClass"): "priorityclasses",
    ("snapshot.storage.k8s.io", "VolumeSnapshot"): "volumesnapshots",
    ("snapshot.storage.k8s.io", "VolumeSnapshotClass"): "volumesnapshotclasses",
    ("snapshot.storage.k8s.io", "VolumeSnapshotContent"): "volumesnapshotcontents",
    ("storage.k8s.io", "CSIDriver"): "csidrivers",
    ("storage.k8s.io", "CSINode"): "csinodes",
    ("storage.k8s.io", "StorageClass"): "storageclasses",
    ("storage.k8s.io", "VolumeAttachment"): "volumeattachments",
    ("velero.io", "DataUpload"): "datauploads",
    ("velero.io", "PodVolumeBackup"): "podvolumebackups",
    ("velero.io", "PodVolumeRestore"): "podvolumerestores",
}


def rfc3339(moment: datetime) -> str:
    """Kubernetes' timestamp format: UTC, whole seconds, `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class _Entry:
    path: str
    data: bytes


class BackupBuilder:
    """Collects objects and volume records, then writes one backup into a BSL."""

    def __init__(
        self,
        name: str,
        *,
        schedule: str | None = None,
        phase: str = "Completed",
        start: datetime | None = None,
        completion: datetime | None = None,
        included_namespaces: Iterable[str] = ("*",),
        excluded_namespaces: Iterable[str] = (),
        included_resources: Iterable[str] = (),
        excluded_resources: Iterable[str] = (),
        storage_location: str = "default",
        format_version: str = FORMAT_VERSION,
        velero_namespace: str = "velero",
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, str] | None = None,
        ttl_hours: int = 720,
        snapshot_move_data: bool = False,
    ) -> None:
        self.name = name
        self.schedule = schedule
        self.phase = phase
        self.start = start or datetime.now(UTC).replace(microsecond=0)
        self.completion = completion or (self.start + timedelta(seconds=42))
        self.included_namespaces = list(included_namespaces)
        self.excluded_namespaces = list(excluded_namespaces)
        self.included_resources = list(included_resources)
        self.excluded_resources = list(excluded_resources)
        self.storage_location = storage_location
        self.format_version = format_version
        self.velero_namespace = velero_namespace
        self.labels = dict(labels or {})
        self.annotations = dict(annotations or {})
        self.ttl_hours = ttl_hours
        self.snapshot_move_data = snapshot_move_data  # CSI snapshot data moved by Velero's data mover
        self.entries: list[_Entry] = []
        self.resource_list: dict[str, set[str]] = {}
        self.side: dict[str, list[dict[str, Any]]] = {
            "podvolumebackups.json.gz": [],
            "volumesnapshots.json.gz": [],
            "itemoperations.json.gz": [],
            "csi-volumesnapshots.json.gz": [],
            "csi-volumesnapshotcontents.json.gz": [],
            "csi-volumesnapshotclasses.json.gz": [],
            "volumeinfo.json.gz": [],
        }
        self.results: dict[str, Any] = {}
        self._custom_kinds: dict[tuple[str, str], str] = {}

    # items -----------------------------------------------------------------------------------

    def add(
        self,
        obj: Mapping[str, Any],
        *,
        version_dir: str | None = None,
        preferred: bool = True,
        resource: str | None = None,
    ) -> str:
        """Add one object; returns its archive path.

        A preferred-version item is written at the classic path and under `<v>-preferredversion/`
        (only the classic path for format 1.0.0); another version only under `<v>/`.
        `version_dir` defaults to the object's own version; `resource` is the plural, needed only
        for kinds neither built in nor defined by a CRD in this backup.
        """
        group, version = split_api_version(str(obj.get("apiVersion", "")))
        kind = str(obj.get("kind", ""))
        metadata = obj.get("metadata") or {}
        name, namespace = metadata.get("name"), metadata.get("namespace") or ""
        if not kind or not version or not name:
            raise ValueError("an object needs apiVersion, kind and metadata.name")
        resource_dir = self.resource_dir(group, kind, resource)
        if (version_dir or "").endswith(PREFERRED_VERSION_SUFFIX):
            preferred = True
        version = (version_dir or version).removesuffix(PREFERRED_VERSION_SUFFIX)
        data = json.dumps(obj, separators=(",", ":")).encode()
        classic = item_path(resource_dir, namespace, name)
        if preferred:
            self.add_file(classic, data)
            if self.format_version >= FORMAT_VERSION:
                self.add_file(
                    item_path(resource_dir, namespace, name, version + PREFERRED_VERSION_SUFFIX), data
                )
            listed = self.resource_list.setdefault(f"{obj['apiVersion']}/{kind}", set())
            listed.add(f"{namespace}/{name}" if namespace else name)
            if kind == "CustomResourceDefinition":
                self._learn_crd(obj)
            return classic
        path = item_path(resource_dir, namespace, name, version)
        self.add_file(path, data)
        return path

    def add_all(self, objects: Iterable[Mapping[str, Any]]) -> BackupBuilder:
        for obj in objects:
            self.add(obj)
        return self

    def add_file(self, path: str, data: bytes | str) -> None:
        """Add any archive entry as is (e.g. a broken item for a test)."""
        self.entries.append(_Entry(path, data.encode() if isinstance(data, str) else data))

    def resource_dir(self, group: str, kind: str, resource: str | None = None) -> str:
        """The archive folder of a kind: `<resource>` for the core group, else `<resource>.<group>`."""
        plural = resource or KNOWN_RESOURCES.get((group, kind)) or self._custom_kinds.get((group, kind))
        if not plural:
            raise ValueError(f"unknown kind {kind!r} in group {group!r}: pass resource= (its plural)")
        return f"{plural}.{group}" if group else plural

    def _learn_crd(self, crd: Mapping[str, Any]) -> None:
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        if spec.get("group") and names.get("kind") and names.get("plural"):
            self._custom_kinds[(spec["group"], names["kind"])] = names["plural"]

    # volume records and side files -------------------------------------------------------------

    def add_pod_volume_backup(self, pvb: dict[str, Any]) -> None:
        self.side["podvolumebackups.json.gz"].append(pvb)

    def add_volume_snapshot(self, snapshot: dict[str, Any]) -> None:
        self.side["volumesnapshots.json.gz"].append(snapshot)

    def add_volume_info(self, info: dict[str, Any]) -> None:
        self.side["volumeinfo.json.gz"].append(info)

    def add_item_operation(self, operation: dict[str, Any]) -> None:
        self.side["itemoperations.json.gz"].append(operation)

    def add_csi_volume_snapshot(self, snapshot: dict[str, Any]) -> None:
        self.side["csi-volumesnapshots.json.gz"].append(snapshot)

    def add_csi_volume_snapshot_content(self, content: dict[str, Any]) -> None:
        self.side["csi-volumesnapshotcontents.json.gz"].append(content)

    def add_csi_volume_snapshot_class(self, snapshot_class: dict[str, Any]) -> None:
        self.side["csi-volumesnapshotclasses.json.gz"].append(snapshot_class)

    # writing ---------------------------------------------------------------------------------

    def write(
        self, storage: BackupStorage | str | Path, options: Mapping[str, Any] | None = None
    ) -> BackupRecord:
        """Write the backup into a BSL (created when it is a missing local folder).

        The archive and side files go first and `velero-backup.json` last, so a backup is listed
        only once it is complete.
        """
        if not isinstance(storage, BackupStorage):
            storage = BackupStorage.open(storage, options, create=True)
        with tempfile.NamedTemporaryFile(suffix=".tar.gz") as tarball:
            self._write_tarball(tarball)
            tarball.flush()
            upload_atomic(storage.fs, tarball.name, storage.archive_path(self.name))
        resource_list = {key: sorted(names) for key, names in self.resource_list.items()}
        files = {f"{self.name}-{suffix}": go_json(records or None) for suffix, records in self.side.items()}
        files[f"{self.name}-resource-list.json.gz"] = go_json(resource_list, sort_keys=True)
        files[f"{self.name}-results.gz"] = go_json(self.results, sort_keys=True)
        files[f"{self.name}-logs.gz"] = self._log().encode()
        for file, data in files.items():
            write_atomic(storage.fs, storage.backup_path(self.name, file), gzip_bytes(data))
        document = json.dumps(self.document(), indent=2).encode()
        write_atomic(storage.fs, storage.backup_path(self.name, "velero-backup.json"), document)
        return storage.get_backup(self.name)

    def _write_tarball(self, out: Any) -> None:
        mtime = int(self.start.timestamp())  # whole seconds: no PAX header per entry, as Go writes it
        with tarfile.open(fileobj=out, mode="w:gz") as tar:
            version = tarfile.TarInfo("metadata/version")
            payload = f"{self.format_version}\n".encode()
            version.size, version.mode, version.mtime = len(payload), 0o755, mtime
            tar.addfile(version, io.BytesIO(payload))
            for entry in self.entries:
                info = tarfile.TarInfo(entry.path)
                info.size, info.mode, info.mtime = len(entry.data), 0o755, mtime
                tar.addfile(info, io.BytesIO(entry.data))

    def document(self) -> dict[str, Any]:
        """The Backup object (`velero-backup.json`), as Velero stores it."""
        labels = {"velero.io/storage-location": self.storage_location, **self.labels}
        if self.schedule:
            labels[SCHEDULE_LABEL] = self.schedule
        items = sum(len(names) for names in self.resource_list.values())
        spec: dict[str, Any] = {
            "metadata": {},
            "includedNamespaces": self.included_namespaces or None,
            "excludedNamespaces": self.excluded_namespaces or None,
            "includedResources": self.included_resources or None,
            "excludedResources": self.excluded_resources or None,
            "ttl": format_duration(self.ttl_hours * 3600),
            "hooks": {},
            "storageLocation": self.storage_location,
            "defaultVolumesToFsBackup": False,
            "csiSnapshotTimeout": "10m0s",
            "itemOperationTimeout": "4h0m0s",
            "snapshotMoveData": True if self.snapshot_move_data else None,
        }
        status: dict[str, Any] = {
            "version": 1,
            "formatVersion": self.format_version,
            "expiration": rfc3339(self.start + timedelta(hours=self.ttl_hours)),
            "phase": self.phase,
            "startTimestamp": rfc3339(self.start),
            "progress": {"totalItems": items, "itemsBackedUp": items},
        }
        if self.phase in ("Completed", "PartiallyFailed", "Failed"):
            status["completionTimestamp"] = rfc3339(self.completion)
        return {
            "kind": "Backup",
            "apiVersion": "velero.io/v1",
            "metadata": {
                "name": self.name,
                "namespace": self.velero_namespace,
                "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"velero-backup/{self.name}")),
                "resourceVersion": "1",
                "generation": 1,
                "creationTimestamp": rfc3339(self.start),
                "labels": labels,
                "annotations": {
                    "velero.io/resource-timeout": "10m0s",
                    "velero.io/source-cluster-k8s-gitversion": "v1.31.2",
                    "velero.io/source-cluster-k8s-major-version": "1",
                    "velero.io/source-cluster-k8s-minor-version": "31",
                    **self.annotations,
                },
            },
            "spec": {key: value for key, value in spec.items() if value is not None},
            "status": status,
        }

    def _log(self) -> str:
        when = rfc3339(self.completion)
        return (
            f'time="{rfc3339(self.start)}" level=info msg="Setting up backup log" '
            f"backup={self.velero_namespace}/{self.name}\n"
            f'time="{when}" level=info msg="Backup completed" backup={self.velero_namespace}/{self.name}\n'
        )
