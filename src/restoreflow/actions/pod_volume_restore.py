"""`velero.io/pod-volume-restore`: the `restore-wait` init container for pods with file-system backups.

The container holds the pod until its PodVolumeRestores are done. Its image, command, resources and
security context come from Velero's plugin ConfigMap (label `velero.io/pod-volume-restore:
RestoreItemAction`) when the plan honours Velero's ConfigMaps; the image otherwise defaults to the
target's Velero server image (Deployment `velero`), else `velero/velero:<Velero version>`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from restoreflow.actions.base import ActionInput, ActionResult, AppliesTo, RestoreView
from restoreflow.actions.plugin_config import read_plugin_config

WAIT_INIT_CONTAINER = "restore-wait"
LEGACY_WAIT_INIT_CONTAINER = "restic-wait"
VELERO_VERSION = "v1.18.1"
DEFAULT_IMAGE = f"velero/velero:{VELERO_VERSION}"
DEFAULT_COMMAND = "/velero-restore-helper"
DEFAULT_CPU = "100m"
DEFAULT_MEMORY = "128Mi"
RESTORE_HELPER_UID = 1000

SNAPSHOT_ANNOTATION_PREFIX = "snapshot.velero.io/"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VolumeBackup:
    """What a restore needs of one pod volume backup."""

    volume: str
    snapshot_id: str
    size: int = 0
    uploader_type: str = "kopia"


def _non_restorable(volume: str, pod_volumes: Iterable[Mapping[str, Any]]) -> bool:
    spec = next((v for v in pod_volumes if v.get("name") == volume), {})
    return "projected" in spec or "downwardAPI" in spec


def volumes_to_restore(
    pod_volume_backups: Iterable[Mapping[str, Any]], pod: Mapping[str, Any], source_namespace: str
) -> dict[str, VolumeBackup]:
    """Velero's getVolumeBackupInfoForPod: the pod's backed-up volumes by name.

    Matches PVBs by pod name and SOURCE namespace, with a snapshot ID, skipping projected and
    downward-API volumes; falls back to the legacy `snapshot.velero.io/<volume>` pod annotations.
    """
    name = (pod.get("metadata") or {}).get("name")
    pod_volumes = (pod.get("spec") or {}).get("volumes") or []
    found: dict[str, VolumeBackup] = {}
    for pvb in pod_volume_backups:
        spec, status = pvb.get("spec") or {}, pvb.get("status") or {}
        target = spec.get("pod") or {}
        if target.get("name") != name or target.get("namespace") != source_namespace:
            continue
        if not status.get("snapshotID") or _non_restorable(spec.get("volume", ""), pod_volumes):
            continue
        found[spec["volume"]] = VolumeBackup(
            volume=spec["volume"],
            snapshot_id=status["snapshotID"],
            size=int((status.get("progress") or {}).get("totalBytes") or 0),
            uploader_type=spec.get("uploaderType") or "kopia",
        )
    if found:
        return found
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    return {
        key[len(SNAPSHOT_ANNOTATION_PREFIX) :]: VolumeBackup(key[len(SNAPSHOT_ANNOTATION_PREFIX) :], value)
        for key, value in annotations.items()
        if key.startswith(SNAPSHOT_ANNOTATION_PREFIX)
    }


def uploader_settings(write_sparse_files: bool | None, parallel_files_download: int | None) -> dict[str, str]:
    """Velero's StoreRestoreConfig."""
    settings = {"WriteSparseFiles": "true" if write_sparse_files else "false"}
    if parallel_files_download and parallel_files_download > 0:
        settings["ParallelFilesDownload"] = str(parallel_files_download)
    return settings


def default_security_context() -> dict[str, Any]:
    """The "restricted" Pod Security Standard context Velero gives the helper."""
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
        "runAsUser": RESTORE_HELPER_UID,
        "runAsNonRoot": True,
    }


def image_from_config(config: Mapping[str, str], default: str) -> str:
    """A configured image needs a registry part; an untagged one gets Velero's version tag."""
    image = config.get("image", "")
    if not image or "/" not in image:
        return default
    return image if ":" in image.rsplit("/", 1)[-1] else f"{image}:{VELERO_VERSION}"


def security_context_from_config(config: Mapping[str, str]) -> dict[str, Any] | None:
    """Velero's ParseSecurityContext from the ConfigMap keys; None when unset or invalid."""
    keys = ("secCtxRunAsUser", "secCtxRunAsGroup", "secCtxAllowPrivilegeEscalation", "secCtx")
    if not any(config.get(k) for k in keys):
        return None
    context: dict[str, Any] = {}
    try:
        if config.get("secCtxRunAsUser"):
            context["runAsUser"] = int(config["secCtxRunAsUser"])
        if config.get("secCtxRunAsGroup"):
            context["runAsGroup"] = int(config["secCtxRunAsGroup"])
        if config.get("secCtxAllowPrivilegeEscalation"):
            context["allowPrivilegeEscalation"] = _go_bool(config["secCtxAllowPrivilegeEscalation"])
        if config.get("secCtx"):
            parsed = YAML(typ="safe").load(config["secCtx"])
            if not isinstance(parsed, dict):
                raise ValueError("secCtx is not a mapping")
            context.update(parsed)
    except (ValueError, YAMLError) as err:
        log.error(
            "Using default securityContext values, couldn't parse securityContext requirements: %s.", err
        )
        return None
    return context


def _go_bool(text: str) -> bool:
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise ValueError(f'Security context allowPrivilegeEscalation "{text}" is not a boolean')


def restore_wait_container(
    *, image: str, restore_uid: str, volumes: list[str], config: Mapping[str, str], pod: Mapping[str, Any]
) -> dict[str, Any]:
    """The `restore-wait` init container exactly as Velero builds it."""
    cpu_request = config.get("cpuRequest") or DEFAULT_CPU
    mem_request = config.get("memRequest") or DEFAULT_MEMORY
    cpu_limit = config.get("cpuLimit") or DEFAULT_CPU
    mem_limit = config.get("memLimit") or DEFAULT_MEMORY
    containers = (pod.get("spec") or {}).get("containers") or []
    security = security_context_from_config(config)
    if security is None and containers and containers[0].get("securityContext") is not None:
        security = dict(containers[0]["securityContext"])
    return {
        "name": WAIT_INIT_CONTAINER,
        "image": image,
        "command": [config.get("command") or DEFAULT_COMMAND],
        "args": [restore_uid],
        "env": [
            {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        ],
        "resources": {
            "requests": {"cpu": cpu_request, "memory": mem_request},
            "limits": {"cpu": cpu_limit, "memory": mem_limit},
        },
        "volumeMounts": [{"name": v, "mountPath": f"/restores/{v}"} for v in sorted(volumes)],
        "securityContext": security if security is not None else default_security_context(),
    }


def _set_init_containers(spec: dict[str, Any], containers: list[dict[str, Any]]) -> None:
    """Set the list, or drop the key when it is empty (Velero's typed round trip omits it)."""
    if containers:
        spec["initContainers"] = containers
    else:
        spec.pop("initContainers", None)


class PodVolumeRestoreAction:
    name = "velero.io/pod-volume-restore"

    def applies_to(self) -> AppliesTo:
        return AppliesTo(included_resources=("pods",))

    def execute(self, action_input: ActionInput) -> ActionResult:
        pod = action_input.item
        spec = pod.setdefault("spec", {})
        kept = [
            c
            for c in spec.get("initContainers") or []
            if c.get("name") not in (WAIT_INIT_CONTAINER, LEGACY_WAIT_INIT_CONTAINER)
        ]
        source_namespace = (action_input.item_from_backup.get("metadata") or {}).get("namespace", "")
        pvbs = getattr(action_input.restore.backup_contents, "pod_volume_backups", None) or []
        volumes = volumes_to_restore(pvbs, pod, source_namespace)
        if not volumes:
            _set_init_containers(spec, kept)
            return ActionResult(item=pod)
        restore = action_input.restore
        transforms = restore.plan.spec.transforms
        config = read_plugin_config(restore, self.name)
        image = image_from_config(config, self._server_image(restore, transforms.velero_namespace))
        wait = restore_wait_container(
            image=image, restore_uid=restore.uid, volumes=list(volumes), config=config, pod=pod
        )
        spec["initContainers"] = [wait, *kept]
        return ActionResult(item=pod)

    @staticmethod
    def _server_image(restore: RestoreView, namespace: str) -> str:
        """The image of the target's Velero server, as Velero reads it, else Velero's release image."""
        try:
            deployment = restore.cluster.get("deployments.apps", "velero", namespace)
        except Exception as err:  # an unreadable Deployment only changes the default image
            log.debug("cannot read the Velero Deployment: %s", err)
            deployment = None
        containers = (
            (((deployment or {}).get("spec") or {}).get("template") or {}).get("spec", {}).get("containers")
        )
        return containers[0].get("image", DEFAULT_IMAGE) if containers else DEFAULT_IMAGE
