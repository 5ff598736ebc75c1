"""Plans, contexts and objects for the volume tests."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from restoreflow.plan.model import RestorePlan, RestoreSpec, Source, Timeouts, Transforms, UploaderConfig
from restoreflow.restore.context import BackupContents, RestoreContext


def make_plan(
    mapping: dict[str, str] | None = None,
    restore_pvs: bool = True,
    storage: str = "file:///backups",
    timeouts: Timeouts | None = None,
    uploader: UploaderConfig | None = None,
    **spec: Any,
) -> RestorePlan:
    return RestorePlan(
        name="p",
        spec=RestoreSpec(
            source=Source(storage_location=storage, backup_name="nightly"),
            namespace_mapping=MappingProxyType(mapping or {}),
            restore_pvs=restore_pvs,
            timeouts=timeouts or Timeouts(),
            uploader_config=uploader or UploaderConfig(),
            transforms=Transforms(),
            **spec,
        ),
    )


def make_context(plan: RestorePlan | None = None, **contents: Any) -> RestoreContext:
    ctx = RestoreContext(plan or make_plan(), name="r")
    ctx.contents = BackupContents(archive=None, **contents)
    ctx.backup = {"spec": {"storageLocation": "default"}}
    return ctx


def pv(name: str = "pv-1", policy: str = "Retain", claim: tuple[str, str] | None = ("shop", "data")) -> dict:
    spec: dict[str, Any] = {"persistentVolumeReclaimPolicy": policy, "capacity": {"storage": "1Gi"}}
    if claim:
        spec["claimRef"] = {"namespace": claim[0], "name": claim[1], "uid": "u-1", "resourceVersion": "7"}
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": name,
            "annotations": {
                "pv.kubernetes.io/bind-completed": "yes",
                "pv.kubernetes.io/bound-by-controller": "yes",
                "pv.kubernetes.io/provisioned-by": "csi.example.com",
            },
        },
        "spec": spec,
    }


def pvc(
    name: str = "data", namespace: str = "shop", volume: str = "pv-1", annotations: dict | None = None
) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"uid-{name}",
            "annotations": {"pv.kubernetes.io/bind-completed": "yes", **(annotations or {})},
        },
        "spec": {
            "volumeName": volume,
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}},
        },
        "status": {"phase": "Bound"},
    }


def pvb(
    pod: str, volume: str, namespace: str = "shop", snapshot: str = "snap-1", pvc_name: str | None = None
) -> dict:
    annotations = {"velero.io/pvc-name": pvc_name} if pvc_name else {}
    return {
        "apiVersion": "velero.io/v1",
        "kind": "PodVolumeBackup",
        "metadata": {"name": f"{pod}-{volume}", "namespace": "velero", "annotations": annotations},
        "spec": {
            "pod": {"kind": "Pod", "name": pod, "namespace": namespace},
            "volume": volume,
            "uploaderType": "kopia",
        },
        "status": {
            "phase": "Completed",
            "snapshotID": snapshot,
            "progress": {"totalBytes": 2048, "bytesDone": 2048},
        },
    }


def app_pod(
    name: str = "web", namespace: str = "shop", volumes: list[dict] | None = None, **extra: Any
) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}", **extra},
        "spec": {
            "containers": [{"name": "app", "image": "nginx"}],
            "volumes": volumes
            if volumes is not None
            else [
                {"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
                {"name": "cache", "emptyDir": {}},
                {"name": "info", "downwardAPI": {"items": []}},
            ],
        },
    }
