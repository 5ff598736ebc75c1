"""Native snapshots: a PV restored from a cloud snapshot through a volume snapshotter plugin.

Velero's handlePVHasNativeSnapshot: wait for a Released or deleting PV of the same name to go away,
remap the claim's namespace, create the volume from the snapshot, and rename the PV
`velero-clone-<uuid>` (keeping `velero.io/original-pv-name`) when a PV of that name exists and its
claim's namespace is remapped. Also the binding helpers the other PV paths share.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

from restoreflow.plan.model import RestoreSpec
from restoreflow.restore.context import RestoreContext, fetched
from restoreflow.restore.snapshotters import SnapshotterError, load_volume_snapshotter

BINDING_ANNOTATIONS = ("pv.kubernetes.io/bind-completed", "pv.kubernetes.io/bound-by-controller")
ORIGINAL_PV_NAME = "velero.io/original-pv-name"
PV_POLL_INTERVAL = 1.0


class VolumeError(Exception):
    """A PV or PVC cannot be restored; the message is Velero's."""


def claim_ref(pv: Mapping[str, Any]) -> Mapping[str, Any]:
    return (pv.get("spec") or {}).get("claimRef") or {}


def reset_volume_binding_info(obj: dict[str, Any]) -> dict[str, Any]:
    """Velero's resetVolumeBindingInfo: drop the claimRef's uid/resourceVersion and binding annotations."""
    claim = (obj.get("spec") or {}).get("claimRef")
    if claim:
        claim.pop("uid", None)
        claim.pop("resourceVersion", None)
    annotations = (obj.get("metadata") or {}).get("annotations")
    if annotations:
        for key in BINDING_ANNOTATIONS:
            annotations.pop(key, None)
    return obj


def remap_claim_ref_namespace(pv: dict[str, Any], spec: RestoreSpec) -> None:
    claim = (pv.get("spec") or {}).get("claimRef")
    if claim and claim.get("namespace"):
        claim["namespace"] = spec.target_namespace(claim["namespace"])


def new_pv_name() -> str:
    """Velero's pvRenamer."""
    return f"velero-clone-{uuid.uuid4()}"


def restore_native_snapshot(ctx: RestoreContext, pv: dict[str, Any]) -> dict[str, Any]:
    """Velero's handlePVHasNativeSnapshot."""
    old_name = pv["metadata"]["name"]
    rename = _should_rename(ctx, pv)
    remap_claim_ref_namespace(pv, ctx.plan.spec)
    restore_snapshot = rename or _should_restore(ctx, old_name)
    if restore_snapshot:
        reset_volume_binding_info(pv)
        try:
            pv = _volume_from_snapshot(ctx, pv)
        except Exception as err:
            raise VolumeError(f"error executing PVAction for persistentvolumes/{old_name}: {err}") from err
        rename = rename or pv["metadata"]["name"] != old_name
    if rename:
        new_name = pv["metadata"]["name"] if pv["metadata"]["name"] != old_name else new_pv_name()
        ctx.renamed_pvs[old_name] = new_name
        pv["metadata"]["name"] = new_name
        _rename_tracked_volume(ctx, old_name, new_name)
        pv["metadata"].setdefault("annotations", {})[ORIGINAL_PV_NAME] = old_name
    return pv


def _should_rename(ctx: RestoreContext, pv: Mapping[str, Any]) -> bool:
    """Rename only when the claim's namespace is remapped and a PV of this name already exists."""
    claim = claim_ref(pv)
    if not claim or not ctx.plan.spec.remaps(claim.get("namespace", "")):
        return False
    return ctx.cluster.get("persistentvolumes", pv["metadata"]["name"]) is not None


def _should_restore(ctx: RestoreContext, name: str) -> bool:
    """Velero's shouldRestore: wait for a Released/deleting PV (or its claim, or namespace) to go away."""
    deadline = time.monotonic() + ctx.plan.spec.timeouts.terminating_resource
    while True:
        decision = _in_cluster_pv_state(ctx, name)
        if decision is not None:
            return decision
        if time.monotonic() >= deadline:
            ctx.log.warning("timeout reached waiting for persistent volume %s to delete", name)
            raise VolumeError(
                f"error waiting on in-cluster persistentvolume {name}: context deadline exceeded"
            )
        if ctx.cancel.wait(min(PV_POLL_INTERVAL, max(0.0, deadline - time.monotonic()))):
            raise VolumeError(f"error waiting on in-cluster persistentvolume {name}: context canceled")


def _in_cluster_pv_state(ctx: RestoreContext, name: str) -> bool | None:
    """True: restore the snapshot; False: leave the existing PV alone; None: keep waiting."""
    existing = ctx.cluster.get("persistentvolumes", name)
    if existing is None:
        return True
    if (existing.get("status") or {}).get("phase") == "Released" or _deleting(existing):
        return None
    claim = claim_ref(existing)
    if not claim:
        return False
    pvc = ctx.cluster.get("persistentvolumeclaims", claim.get("name", ""), claim.get("namespace"))
    if pvc is None or _deleting(pvc):
        return None
    namespace = ctx.cluster.get("namespaces", claim.get("namespace", ""))
    if (
        namespace is None
        or _deleting(namespace)
        or (namespace.get("status") or {}).get("phase") == "Terminating"
    ):
        return None
    return False


def _deleting(obj: Mapping[str, Any]) -> bool:
    return bool((obj.get("metadata") or {}).get("deletionTimestamp"))


def _volume_from_snapshot(ctx: RestoreContext, pv: dict[str, Any]) -> dict[str, Any]:
    """Velero's pvRestorer.executePVAction: create the volume through the provider's plugin."""
    if not ctx.plan.spec.restore_pvs:
        return pv
    name = pv["metadata"]["name"]
    snapshot = next(
        (
            s
            for s in fetched(ctx).volume_snapshots
            if (s.get("spec") or {}).get("persistentVolumeName") == name
        ),
        None,
    )
    if snapshot is None:
        ctx.log.info("No snapshot found for persistent volume %s", name)
        return pv
    spec, status = snapshot.get("spec") or {}, snapshot.get("status") or {}
    location = _snapshot_location(ctx, spec.get("location", ""))
    snapshotter = load_volume_snapshotter((location.get("spec") or {}).get("provider", ""))
    if ctx.dry_run:  # a preview makes no volume: it says which snapshot would be used
        snapshot_id = status.get("providerSnapshotID")
        ctx.log.info("would restore persistent volume %s from snapshot %s", name, snapshot_id)
        return pv
    snapshotter.init(dict((location.get("spec") or {}).get("config") or {}))
    volume_id = snapshotter.create_volume_from_snapshot(
        status.get("providerSnapshotID", ""),
        spec.get("volumeType", ""),
        spec.get("volumeAZ", ""),
        spec.get("volumeIOPS"),
    )
    ctx.log.info("successfully restored persistent volume %s from snapshot", name)
    updated = snapshotter.set_volume_id(pv, volume_id)
    _track_native_snapshot(ctx, updated, status.get("providerSnapshotID", ""), spec)
    return updated


def _snapshot_location(ctx: RestoreContext, name: str) -> dict[str, Any]:
    namespace = ctx.plan.spec.transforms.velero_namespace
    location = ctx.cluster.get("volumesnapshotlocations.velero.io", name, namespace)
    if location is None:
        raise SnapshotterError(f'volumesnapshotlocations.velero.io "{name}" not found')
    return location


def _track_native_snapshot(
    ctx: RestoreContext, pv: Mapping[str, Any], snapshot_id: str, spec: Mapping[str, Any]
) -> None:
    with ctx.lock:
        ctx.restore_volume_info.append(
            {
                "pvName": pv["metadata"]["name"],
                "restoreMethod": "NativeSnapshot",
                "snapshotDataMoved": False,
                "nativeSnapshotInfo": {
                    "snapshotHandle": snapshot_id,
                    "volumeType": spec.get("volumeType", ""),
                    "volumeAZ": spec.get("volumeAZ", ""),
                    "iops": int(spec.get("volumeIOPS") or 0),
                },
            }
        )


def _rename_tracked_volume(ctx: RestoreContext, old_name: str, new_name: str) -> None:
    with ctx.lock:
        for info in ctx.restore_volume_info:
            if info.get("pvName") == old_name and info.get("restoreMethod") == "NativeSnapshot":
                info["pvName"] = new_name
