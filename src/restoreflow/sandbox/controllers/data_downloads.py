"""Velero's DataDownloads, standing in for its data mover (the node agent): Accepted -> Prepared
(once the target claim exists) -> InProgress (with progress bytes) -> Completed, after creating the
restored volume and binding the target claim to it as Velero's RebindVolume does.

`spec.cancel` ends one Canceled (through Canceling when it was InProgress). A target claim annotated
`sandbox.restoreflow.dev/data-download: fail|hang` makes its download fail or never finish.
"""

from __future__ import annotations

import copy
from typing import Any

from restoreflow.sandbox.controllers.base import Controller
from restoreflow.sandbox.controllers.storage import volume_for_claim
from restoreflow.sandbox.store import Event, new_uid, now

DDS = "datadownloads.velero.io"
DD_ANNOTATION = "sandbox.restoreflow.dev/data-download"
DD_TOTAL_BYTES = 10 * 1024 * 1024  # when the DataDownload names no snapshotSize
FINAL = ("Completed", "Failed", "Canceled")
FAILED_AS_REQUESTED = (
    "data path restore failed: Failed to run kopia restore: "
    f"restore failed as requested by the annotation {DD_ANNOTATION}"
)


class DataDownloadController(Controller):
    def on_event(self, event: Event) -> None:
        meta = event.obj["metadata"]
        key = (meta["namespace"], meta["name"])
        if event.type == "ADDED":
            self.later(self.opts.data_download_delay, lambda: self.advance(*key))
        elif event.type == "MODIFIED" and _cancel_requested(event):
            self.later(self.opts.data_download_delay, lambda: self.cancel(*key))

    def advance(self, namespace: str, name: str) -> None:
        """One step of the data mover; the next one is scheduled until the download is final."""
        dd = self.current(DDS, namespace, name)
        if dd is None or _phase(dd) in FINAL or (dd.get("spec") or {}).get("cancel"):
            return
        target = (dd.get("spec") or {}).get("targetVolume") or {}
        pvc = self.current("persistentvolumeclaims", target.get("namespace", ""), target.get("pvc", ""))
        state = self._next_status(dd, pvc)
        if state is None:
            return
        if state != dd.get("status"):
            self.write(DDS, {**copy.deepcopy(dd), "status": state})
        if state["phase"] not in FINAL:
            self.later(self.opts.data_download_delay, lambda: self.advance(namespace, name))

    def cancel(self, namespace: str, name: str) -> None:
        """Velero's cancel: an InProgress data path stops first (Canceling), the others at once."""
        dd = self.current(DDS, namespace, name)
        if dd is None or _phase(dd) in FINAL:
            return
        status = copy.deepcopy(dd.get("status") or {})
        if _phase(dd) == "InProgress":
            self.write(DDS, {**copy.deepcopy(dd), "status": status | {"phase": "Canceling"}})
            self.later(self.opts.data_download_delay, lambda: self.cancel(namespace, name))
            return
        status.setdefault("startTimestamp", now())
        status |= {"phase": "Canceled", "completionTimestamp": now()}
        self.write(DDS, {**copy.deepcopy(dd), "status": status})

    def _next_status(self, dd: dict[str, Any], pvc: dict[str, Any] | None) -> dict[str, Any] | None:
        """The status after one step (None: stuck as asked, nothing more happens until a cancel)."""
        state = copy.deepcopy(dd.get("status") or {})
        phase, node = _phase(dd) or "New", self.opts.nodes[0] if self.opts.nodes else "node-1"
        if phase == "New":
            return state | {"phase": "Accepted", "acceptedByNode": node, "acceptedTimestamp": now()}
        if phase == "Accepted":
            return (state | {"phase": "Prepared", "node": node}) if pvc is not None else state
        total = int((dd.get("spec") or {}).get("snapshotSize") or DD_TOTAL_BYTES)
        if phase == "Prepared":
            progress = {"totalBytes": total, "bytesDone": total // 2}
            return state | {"phase": "InProgress", "startTimestamp": now(), "progress": progress}
        wish = (((pvc or {}).get("metadata") or {}).get("annotations") or {}).get(DD_ANNOTATION, "")
        if phase != "InProgress" or wish == "hang":
            return None
        if wish == "fail" or pvc is None:
            message = FAILED_AS_REQUESTED if pvc is not None else "error to get target PVC: not found"
            return state | {"phase": "Failed", "message": message, "completionTimestamp": now()}
        if not (pvc.get("spec") or {}).get("volumeName"):
            self._rebind(pvc)
            return state
        if (pvc.get("status") or {}).get("phase") != "Bound":
            return state
        progress = {"totalBytes": total, "bytesDone": total}
        return state | {"phase": "Completed", "progress": progress, "completionTimestamp": now()}

    def _rebind(self, pvc: dict[str, Any]) -> None:
        """The restored volume for the target claim: the claim names it, and it carries the claim's
        selector labels and a claimRef without uid, so the storage controller binds the two."""
        meta, spec = pvc["metadata"], pvc.get("spec") or {}
        sc = self.current("storageclasses.storage.k8s.io", "", spec.get("storageClassName") or "") or {}
        name = f"pvc-{new_uid()}"
        pv = volume_for_claim(name, pvc, sc)
        pv["metadata"]["labels"] = dict((spec.get("selector") or {}).get("matchLabels") or {})
        claim_ref = {"kind": "PersistentVolumeClaim", "namespace": meta["namespace"], "name": meta["name"]}
        pv["spec"]["claimRef"] = claim_ref
        claim = copy.deepcopy(pvc)
        claim["spec"]["volumeName"] = name
        self.write("persistentvolumeclaims", claim)
        self.write("persistentvolumes", pv)


def _phase(dd: dict[str, Any]) -> str:
    return (dd.get("status") or {}).get("phase") or ""


def _cancel_requested(event: Event) -> bool:
    """The update that set `spec.cancel`."""
    wanted = (event.obj.get("spec") or {}).get("cancel")
    before = ((event.old or {}).get("spec") or {}).get("cancel")
    return bool(wanted) and not before
