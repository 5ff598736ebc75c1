"""Velero's per-item metadata rules: what is reset, the restore labels, completed and mirror pods."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from restoreflow import codec

BACKUP_NAME_LABEL = "velero.io/backup-name"
RESTORE_NAME_LABEL = "velero.io/restore-name"
RESTORE_STATUS_ANNOTATION = "velero.io/restore-status"
MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror"

# resetMetadataAndStatus: removed from metadata (name, namespace, labels, annotations, finalizers and
# managedFields are kept); top-level status is removed.
RESET_METADATA_FIELDS = (
    "generateName",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "ownerReferences",
)


class MetadataNotFound(ValueError):
    def __init__(self) -> None:
        super().__init__("metadata not found")


def clone(value: Any) -> Any:
    """A deep copy of JSON data (dicts, lists, scalars)."""
    return codec.copy(value)


def reset_metadata_and_status(obj: dict[str, Any]) -> dict[str, Any]:
    """Strip what the target cluster assigns; raises MetadataNotFound when there is no metadata."""
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        raise MetadataNotFound()
    for key in RESET_METADATA_FIELDS:
        metadata.pop(key, None)
    obj.pop("status", None)
    return obj


def add_restore_labels(obj: dict[str, Any], backup_label: str, restore_label: str) -> None:
    labels = obj.setdefault("metadata", {}).get("labels")
    if not isinstance(labels, dict):
        labels = obj["metadata"]["labels"] = {}
    labels[BACKUP_NAME_LABEL] = backup_label
    labels[RESTORE_NAME_LABEL] = restore_label


def is_completed(obj: Mapping[str, Any], group_resource: str) -> bool:
    """Succeeded/Failed pods and finished jobs are not restored (and not recorded)."""
    status = obj.get("status") or {}
    if group_resource == "pods":
        return status.get("phase") in ("Succeeded", "Failed")
    if group_resource == "jobs.batch":
        return bool(status.get("completionTime"))
    return False


def is_mirror_pod(obj: Mapping[str, Any], group_resource: str) -> bool:
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    return group_resource == "pods" and MIRROR_POD_ANNOTATION in annotations


def status_override(obj: Mapping[str, Any]) -> bool | None:
    """The `velero.io/restore-status` annotation: "true"/"false" (trimmed, any case) or None."""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    value = str(annotations.get(RESTORE_STATUS_ANNOTATION, "")).strip().lower()
    return {"true": True, "false": False}.get(value)


def resource_key(obj: Mapping[str, Any]) -> str:
    """ "<apiVersion>/<Kind>", the resource list's key."""
    return f"{obj.get('apiVersion', '')}/{obj.get('kind', '')}"


def labels_of(obj: Mapping[str, Any]) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("labels") or {})
