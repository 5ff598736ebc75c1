"""Persistent volumes, claims and file-system (pod volume) restores, called by the per-item pipeline.

How a PV comes back (Velero's decision, from the backup's volume info, or for backups older than
Velero 1.13 from its snapshot, pod volume backup and CSI records):
- native snapshot: a volume snapshotter plugin creates the volume and the PV is created statically,
  renamed `velero-clone-<uuid>` when the PV exists and its claim's namespace is remapped;
- file-system backup, CSI snapshot, or no data with reclaim policy Delete: the PV is NOT created,
  its claim loses its binding so Kubernetes provisions a fresh volume;
- no data and reclaim policy Retain: the PV is created as it was (binding info reset).
Errors raise `VolumeError` with Velero's message; the engine records it for the item.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from typing import Any

from restoreflow.actions import dataupload
from restoreflow.actions.pod_volume_restore import uploader_settings, volumes_to_restore
from restoreflow.kube.names import get_valid_name
from restoreflow.plan.matching import IncludesExcludes
from restoreflow.restore import volume_pod_restores as pvr
from restoreflow.restore.context import RestoreContext, fetched
from restoreflow.restore.volume_native import (
    VolumeError,
    claim_ref,
    remap_claim_ref_namespace,
    reset_volume_binding_info,
    restore_native_snapshot,
)

NATIVE, PROVISION, RETAIN = "native", "provision", "retain"
PVC_NAME_ANNOTATION = "velero.io/pvc-name"
PROGRESS_LOG_INTERVAL = 5.0


# -- the decision (pure) -----------------------------------------------------------------------
def has_delete_reclaim_policy(pv: Mapping[str, Any]) -> bool:
    return (pv.get("spec") or {}).get("persistentVolumeReclaimPolicy") == "Delete"


def method_from_volume_info(info: Mapping[str, Any], pv: Mapping[str, Any]) -> str:
    """Velero's switch on `backupMethod` of the PV's BackupVolumeInfo."""
    method = info.get("backupMethod", "")
    if method == "NativeSnapshot":
        return NATIVE
    if method in ("PodVolumeBackup", "CSISnapshot"):
        return PROVISION
    return PROVISION if has_delete_reclaim_policy(pv) else RETAIN


def method_from_legacy_records(pv: Mapping[str, Any], contents: Any, has_data_upload: bool = False) -> str:
    """The pre-volume-info decision, checked in Velero's order."""
    name = pv["metadata"]["name"]
    claim = claim_ref(pv)
    if any((s.get("spec") or {}).get("persistentVolumeName") == name for s in contents.volume_snapshots):
        return NATIVE
    if claim and any(_pvb_matches_claim(p, claim) for p in contents.pod_volume_backups):
        return PROVISION
    if claim and any(_snapshot_matches_claim(s, claim) for s in contents.csi_volume_snapshots):
        return PROVISION
    if has_data_upload or has_delete_reclaim_policy(pv):
        return PROVISION
    return RETAIN


def _pvb_matches_claim(pvb: Mapping[str, Any], claim: Mapping[str, Any]) -> bool:
    pod = (pvb.get("spec") or {}).get("pod") or {}
    annotations = (pvb.get("metadata") or {}).get("annotations") or {}
    return pod.get("namespace") == claim.get("namespace") and annotations.get(
        PVC_NAME_ANNOTATION
    ) == claim.get("name")


def _snapshot_matches_claim(vs: Mapping[str, Any], claim: Mapping[str, Any]) -> bool:
    source = (vs.get("spec") or {}).get("source") or {}
    namespace = (vs.get("metadata") or {}).get("namespace")
    return source.get("persistentVolumeClaimName") == claim.get("name") and namespace == claim.get(
        "namespace"
    )


# -- persistent volumes ------------------------------------------------------------------------
def handle_persistent_volume(ctx: RestoreContext, pv: dict[str, Any]) -> dict[str, Any] | None:
    """The PV to create (possibly renamed), or None when it is left to dynamic provisioning."""
    name = pv["metadata"]["name"]
    method = restore_method(ctx, pv)
    if method == PROVISION:
        ctx.log.info("Dynamically re-provisioning persistent volume %s.", name)
        ctx.pvs_to_provision.add(name)
        return None
    obj = copy.deepcopy(pv)
    if method == RETAIN:
        ctx.log.info("Restoring persistent volume %s as-is (no snapshot, reclaim policy not Delete).", name)
        remap_claim_ref_namespace(obj, ctx.plan.spec)
        return reset_volume_binding_info(obj)
    return restore_native_snapshot(ctx, obj)


def restore_method(ctx: RestoreContext, pv: Mapping[str, Any]) -> str:
    name = pv["metadata"]["name"]
    contents = fetched(ctx)
    info = next((i for i in contents.volume_info if i.get("pvName") == name), None)
    if info is not None:
        return method_from_volume_info(info, pv)
    method = method_from_legacy_records(pv, contents)
    if method == RETAIN and claim_ref(pv) and _has_data_upload_result(ctx, claim_ref(pv)):
        return PROVISION
    return method


def _has_data_upload_result(ctx: RestoreContext, claim: Mapping[str, Any]) -> bool:
    """Exactly one DataUploadResult ConfigMap for this restore and claim (Velero's legacy check)."""
    claim_key = get_valid_name(f"{claim.get('namespace', '')}.{claim.get('name', '')}")
    selector = (
        f"velero.io/restore-uid={get_valid_name(ctx.uid)},"
        f"velero.io/pvc-namespace-name={claim_key},velero.io/resource-usage=DataUpload"
    )
    namespace = ctx.plan.spec.transforms.velero_namespace
    try:
        return len(ctx.cluster.list("configmaps", namespace=namespace, label_selector=selector)) == 1
    except Exception as err:  # no Velero in the target: there is no data upload either
        ctx.log.debug("no DataUploadResult lookup possible: %s", err)
        return False


def delete_data_upload_results(ctx: RestoreContext) -> None:
    """Velero's deferred cleanup: once the items are restored, the DataUploadResult ConfigMaps that
    `velero.io/dataupload` left for the claims go (one delete-collection call); once per restore."""
    if ctx.work.data_upload_results_deleted or not ctx.connected or ctx.prepared is None:
        return
    if not any(g.resource == dataupload.DATA_UPLOADS and len(g) for g in ctx.prepared.groups):
        return
    ctx.work.data_upload_results_deleted = True
    namespace = ctx.plan.spec.transforms.velero_namespace
    selector = dataupload.data_upload_results_selector(ctx.uid)
    try:
        path = ctx.cluster.info("configmaps").path(namespace)
        ctx.cluster.request("DELETE", path, query={"labelSelector": selector})
    except Exception as err:  # as in Velero, only logged: the ConfigMaps are keyed by this restore
        ctx.log.error("Fail to batch delete DataUploadResult ConfigMaps for restore %s: %s", ctx.name, err)


# -- persistent volume claims ------------------------------------------------------------------
def handle_persistent_volume_claim(ctx: RestoreContext, pvc: dict[str, Any]) -> dict[str, Any]:
    """Velero 3.10: binding annotations dropped; volumeName removed (provisioned) or renamed."""
    spec = pvc.get("spec") or {}
    volume = spec.get("volumeName", "")
    if not volume:
        return pvc
    reset_volume_binding_info(pvc)
    if volume in ctx.pvs_to_provision:
        spec.pop("volumeName", None)
    if volume in ctx.renamed_pvs:
        spec["volumeName"] = ctx.renamed_pvs[volume]
    return pvc


# -- file-system backup restores ---------------------------------------------------------------
def track_pod_volume_restore(ctx: RestoreContext, namespace: str, pod: str, name: str, volume: str) -> None:
    """Wait for this PodVolumeRestore in the volumes phase (created now, or by an earlier attempt)."""
    _tracker(ctx).add(namespace, pod, name, volume)
    _count(ctx, "attempted")


def pod_volume_restores(ctx: RestoreContext) -> list[list[str]]:
    """[namespace, pod, PodVolumeRestore, volume] of every PodVolumeRestore tracked so far."""
    return _tracker(ctx).registrations()


def _tracker(ctx: RestoreContext) -> pvr.PodVolumeTracker:
    with ctx.lock:
        if ctx.work.pod_volume_tracker is None:
            ctx.work.pod_volume_tracker = pvr.PodVolumeTracker()
        return ctx.work.pod_volume_tracker


def _resources_included(ctx: RestoreContext) -> bool:
    """Velero restores pod volumes only when both PVCs and PVs pass the resource filter."""
    spec = ctx.plan.spec
    resources = IncludesExcludes.of(spec.included_resources, spec.excluded_resources)
    return resources.should_include("persistentvolumeclaims") and resources.should_include(
        "persistentvolumes"
    )


def start_pod_volume_restores(
    ctx: RestoreContext, created_pod: dict[str, Any], backup_pod: dict[str, Any]
) -> None:
    """Create the PodVolumeRestores of a restored pod (waited for in the volumes phase)."""
    source_namespace = (backup_pod.get("metadata") or {}).get("namespace", "")
    volumes = volumes_to_restore(fetched(ctx).pod_volume_backups, created_pod, source_namespace)
    if not volumes or not _resources_included(ctx):
        return
    metadata = created_pod["metadata"]
    namespace, name = metadata.get("namespace", ""), metadata["name"]
    claims = _claims_by_volume(created_pod)
    spec = ctx.plan.spec
    settings = uploader_settings(
        spec.uploader_config.write_sparse_files, spec.uploader_config.parallel_files_download
    )
    for volume in sorted(volumes):
        try:
            pvc_uid = _claim_uid(ctx, namespace, claims.get(volume))
            body = pvr.new_pod_volume_restore(
                restore_name=ctx.name,
                restore_uid=ctx.uid,
                velero_namespace=spec.transforms.velero_namespace,
                pod=created_pod,
                backup=volumes[volume],
                backup_location=(ctx.backup.get("spec") or {}).get("storageLocation", ""),
                source_namespace=source_namespace,
                pvc_uid=pvc_uid,
                settings=settings if _uploader_config_set(spec) else None,
            )
            created = ctx.cluster.create("podvolumerestores.velero.io", body)
        except Exception as err:
            ctx.results.add_velero_error(f"pod {namespace}/{name} volume {volume}: {err}")
            continue
        track_pod_volume_restore(ctx, namespace, name, created["metadata"]["name"], volume)
        ctx.log.info(
            "Created PodVolumeRestore %s for volume %s of pod %s/%s",
            created["metadata"]["name"],
            volume,
            namespace,
            name,
        )
    ctx.progress.volumes_total = _tracker(ctx).progress.total


def _uploader_config_set(spec: Any) -> bool:
    config = spec.uploader_config
    return config.write_sparse_files is not None or bool(config.parallel_files_download)


def _claims_by_volume(pod: Mapping[str, Any]) -> dict[str, str]:
    return {
        v["name"]: v["persistentVolumeClaim"]["claimName"]
        for v in (pod.get("spec") or {}).get("volumes") or []
        if (v.get("persistentVolumeClaim") or {}).get("claimName")
    }


def _claim_uid(ctx: RestoreContext, namespace: str, claim: str | None) -> str | None:
    if not claim:
        return None
    pvc = ctx.cluster.get("persistentvolumeclaims", claim, namespace)
    if pvc is None:
        raise VolumeError(
            f'error getting persistent volume claim for volume: persistentvolumeclaims "{claim}" not found'
        )
    return (pvc.get("metadata") or {}).get("uid")


def wait_pod_volume_restores(ctx: RestoreContext) -> None:
    """Wait for every PodVolumeRestore of this restore, up to the plan's fsBackupRestore timeout.

    One list per poll covers every pod, so all volumes are awaited concurrently; progress (volumes
    done, bytes) is published as it moves. A failed or unfinished volume is an error for its pod.
    """
    tracker = _tracker(ctx)
    if not tracker.pending():
        return
    deadline = time.monotonic() + ctx.plan.spec.timeouts.fs_backup_restore
    ctx.log.info("Waiting for all pod volume restores to complete")
    while _poll(ctx, tracker):
        remaining = deadline - time.monotonic()
        if remaining <= 0 or ctx.cancel.wait(min(pvr.POLL_INTERVAL, remaining)):
            break
    if not ctx.cancel.is_set():
        _give_up_on_unfinished(ctx, tracker)
    _publish_progress(ctx, tracker, force=True)
    ctx.log.info("Done waiting for all pod volume restores to complete")


def _poll(ctx: RestoreContext, tracker: pvr.PodVolumeTracker) -> bool:
    """One look at this restore's PodVolumeRestores; True while some are unfinished."""
    namespace = ctx.plan.spec.transforms.velero_namespace
    selector = f"velero.io/restore-uid={ctx.uid}"
    try:
        seen = ctx.cluster.list("podvolumerestores.velero.io", namespace=namespace, label_selector=selector)
    except Exception as err:  # a transient fault: the next poll looks again
        ctx.log.warning("could not list PodVolumeRestores: %s", err)
        seen = []
    for pod, finished in tracker.observe(seen):
        _report_finished(ctx, pod, finished)
    _publish_progress(ctx, tracker)
    return bool(tracker.pending())


def _give_up_on_unfinished(ctx: RestoreContext, tracker: pvr.PodVolumeTracker) -> None:
    for pod in tracker.pending():
        for name, volume in pod.restores.items():
            if name in pod.finished:
                continue
            ctx.results.add_velero_error(f"pod {pod.namespace}/{pod.name} volume {volume}: {pvr.TIMED_OUT}")
            _count(ctx, "failed")
            pod.finished[name] = {"status": {"phase": "Unfinished"}}


def _count(ctx: RestoreContext, outcome: str) -> None:
    """The status document's podVolumeRestores counters."""
    with ctx.lock:
        ctx.pod_volume_restore_counts[outcome] += 1


def _report_finished(ctx: RestoreContext, pod: pvr.PodVolumes, finished: Mapping[str, Any]) -> None:
    volume = pod.restores[finished["metadata"]["name"]]
    message = pvr.failure_message(finished)
    if message is not None:
        ctx.results.add_velero_error(f"pod {pod.namespace}/{pod.name} volume {volume}: {message}")
    _count(ctx, "failed" if message else "completed")
    ctx.log.info(
        "pod volume restore of %s/%s volume %s: %s",
        pod.namespace,
        pod.name,
        volume,
        finished["status"]["phase"],
    )
    with ctx.lock:
        ctx.restore_volume_info.append(_restore_volume_info(pod, volume, finished))


def _restore_volume_info(pod: pvr.PodVolumes, volume: str, finished: Mapping[str, Any]) -> dict[str, Any]:
    status = finished.get("status") or {}
    spec = finished.get("spec") or {}
    return {
        "pvcName": "",
        "pvcNamespace": pod.namespace,
        "pvName": "",
        "restoreMethod": "PodVolumeRestore",
        "snapshotDataMoved": False,
        "pvrInfo": {
            "snapshotHandle": spec.get("snapshotID", ""),
            "uploaderType": spec.get("uploaderType", ""),
            "volumeName": volume,
            "podName": pod.name,
            "podNamespace": pod.namespace,
        },
        "result": "succeeded" if status.get("phase") == "Completed" else "failed",
    }


def _publish_progress(ctx: RestoreContext, tracker: pvr.PodVolumeTracker, force: bool = False) -> None:
    """Volumes done and bytes (where reported) into the restore's progress; into the log every few seconds."""
    progress = tracker.progress
    with ctx.lock:
        ctx.progress.volumes_total = progress.total
        ctx.progress.volumes_done = progress.done
        ctx.progress.pod_volume_bytes = (progress.bytes_done, progress.bytes_total)
        last = ctx.work.pod_volume_progress_logged
        due = force or last is None or time.monotonic() >= last + PROGRESS_LOG_INTERVAL
        if due:
            ctx.work.pod_volume_progress_logged = time.monotonic()
    if due:
        ctx.log.info(
            "pod volume restores: %d of %d done (%d failed), %d of %d bytes restored",
            progress.done,
            progress.total,
            progress.failed,
            progress.bytes_done,
            progress.bytes_total,
        )
    ctx.report_progress(force=force)


# -- restore volume info for CSI snapshots and data movement ------------------------------------------
VOLUME_SNAPSHOT_HANDLE = "velero.io/csi-volumesnapshot-handle"
CSI_DRIVER_NAME = "velero.io/csi-driver-name"
ASYNC_OPERATION_ID = "velero.io/async-operation-id"


def track_csi_claim(ctx: RestoreContext, claim: Mapping[str, Any]) -> None:
    """Note a restored claim whose data comes from a VolumeSnapshot (for its volume info entry)."""
    source = (claim.get("spec") or {}).get("dataSource") or {}
    if source.get("kind") == "VolumeSnapshot":
        meta = claim["metadata"]
        with ctx.lock:
            ctx.work.csi_claims.append((meta["namespace"], meta["name"], source["name"]))


def record_csi_volume_info(ctx: RestoreContext) -> None:
    """Velero's RestoreVolumeInfo entries (`restoreMethod: CSISnapshot`) for the claims restored from
    CSI snapshots and for the DataDownloads of moved snapshot data, read at the end of the restore."""
    with ctx.lock:
        claims, ctx.work.csi_claims = ctx.work.csi_claims, []
    for namespace, name, snapshot_name in claims:
        snapshot = _read(ctx, "volumesnapshots.snapshot.storage.k8s.io", snapshot_name, namespace) or {}
        annotations = (snapshot.get("metadata") or {}).get("annotations") or {}
        status, source = snapshot.get("status") or {}, (snapshot.get("spec") or {}).get("source") or {}
        info = {
            "pvcName": name,
            "pvcNamespace": namespace,
            "pvName": _bound_volume(ctx, namespace, name),
            "restoreMethod": "CSISnapshot",
            "snapshotDataMoved": False,
            "csiSnapshotInfo": {
                "snapshotHandle": annotations.get(VOLUME_SNAPSHOT_HANDLE, ""),
                "size": _quantity_bytes(status.get("restoreSize")),
                "driver": annotations.get(CSI_DRIVER_NAME, ""),
                "vscName": source.get("volumeSnapshotContentName", ""),
            },
        }
        ctx.restore_volume_info.append({k: v for k, v in info.items() if v != ""})
    if any(op["spec"]["restoreItemAction"] == "velero.io/csi-pvc-restorer" for op in ctx.item_operations):
        _record_data_downloads(ctx)


def _record_data_downloads(ctx: RestoreContext) -> None:
    selector = f"velero.io/restore-name={get_valid_name(ctx.name)}"
    namespace = ctx.plan.spec.transforms.velero_namespace
    try:
        downloads = ctx.cluster.list("datadownloads.velero.io", namespace=namespace, label_selector=selector)
    except Exception as err:
        ctx.log.warning("could not list the DataDownloads for the restore volume info: %s", err)
        return
    for download in downloads:
        target = (download.get("spec") or {}).get("targetVolume") or {}
        claim, claim_namespace = target.get("pvc", ""), target.get("namespace", "")
        info = {
            "pvcName": claim,
            "pvcNamespace": claim_namespace,
            "pvName": _bound_volume(ctx, claim_namespace, claim) or target.get("pv", ""),
            "restoreMethod": "CSISnapshot",  # Velero's word: the data mover started from the CSI action
            "snapshotDataMoved": True,
            "snapshotDataMovementInfo": {
                "dataMover": download["spec"].get("datamover") or "velero",
                "uploaderType": "kopia",
                "snapshotHandle": download["spec"].get("snapshotID", ""),
                "operationID": (download["metadata"].get("labels") or {}).get(
                    "velero.io/async-operation-id", ""
                ),
            },
        }
        ctx.restore_volume_info.append({k: v for k, v in info.items() if v != ""})


def _read(ctx: RestoreContext, resource: str, name: str, namespace: str) -> dict[str, Any] | None:
    try:
        return ctx.cluster.get(resource, name, namespace)
    except Exception as err:  # the entry is still written, with what is known
        ctx.log.warning(
            "could not read %s %s/%s for the restore volume info: %s", resource, namespace, name, err
        )
        return None


def _bound_volume(ctx: RestoreContext, namespace: str, name: str) -> str:
    claim = _read(ctx, "persistentvolumeclaims", name, namespace) or {}
    if (claim.get("status") or {}).get("phase") != "Bound":
        return ""
    return str((claim.get("spec") or {}).get("volumeName") or "")


_SUFFIXES = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_SUFFIXES |= {"k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18, "": 1}


def _quantity_bytes(quantity: Any) -> int:
    """A Kubernetes quantity ("10Gi", "500M", "1024") in bytes; 0 when absent or not a quantity."""
    text = str(quantity or "").strip()
    number = text.rstrip("KMGTPEikmgtpe")
    try:
        return int(float(number) * _SUFFIXES[text[len(number) :]])
    except (KeyError, ValueError):
        return 0
