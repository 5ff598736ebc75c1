"""Velero's PodVolumeRestores, standing in for its node agent: New -> InProgress (with progress) ->
Completed, or Failed / stuck when the restored pod carries `sandbox.restoreflow.dev/pod-volume-restore:
fail|hang`."""

from __future__ import annotations

import copy
from typing import Any

from restoreflow.sandbox.controllers.base import Controller
from restoreflow.sandbox.store import Event, now

PVRS = "podvolumerestores.velero.io"
PVR_ANNOTATION = "sandbox.restoreflow.dev/pod-volume-restore"
PVR_TOTAL_BYTES = 10 * 1024 * 1024


class PodVolumeRestoreController(Controller):
    def on_event(self, event: Event) -> None:
        meta = event.obj["metadata"]
        key = (meta["namespace"], meta["name"])
        if event.type == "ADDED":
            self.later(self.opts.pvr_progress_delay, lambda: self.advance(*key))
        elif event.type == "MODIFIED" and (event.obj.get("status") or {}).get("phase") in (
            "Completed",
            "Failed",
        ):
            self.cluster.controllers.pods.recheck()

    def advance(self, namespace: str, name: str) -> None:
        """One step; InProgress waits for the pod to be scheduled, as the node agent does."""
        pvr = self.current(PVRS, namespace, name)
        if pvr is None:
            return
        ref = (pvr.get("spec") or {}).get("pod") or {}
        pod = self.current("pods", ref.get("namespace", ""), ref.get("name", ""))
        state = next_status(pvr.get("status") or {}, pod)
        if state is None:
            return
        if state != pvr.get("status"):
            self.write(PVRS, {**copy.deepcopy(pvr), "status": state})
        if state["phase"] in ("New", "InProgress"):
            self.later(self.opts.pvr_progress_delay, lambda: self.advance(namespace, name))


def next_status(status: dict[str, Any], pod: dict[str, Any] | None) -> dict[str, Any] | None:
    """The status after one step (None: finished or stuck, nothing more will happen)."""
    state = copy.deepcopy(status)
    phase = state.get("phase") or ""
    wish = ((pod or {}).get("metadata", {}).get("annotations") or {}).get(PVR_ANNOTATION, "")
    if phase == "":
        return state | {"phase": "New"}
    if phase == "New":
        node = ((pod or {}).get("spec") or {}).get("nodeName")
        if not node:
            return state
        progress = {"totalBytes": PVR_TOTAL_BYTES, "bytesDone": PVR_TOTAL_BYTES // 2}
        return state | {"phase": "InProgress", "startTimestamp": now(), "node": node, "progress": progress}
    if phase != "InProgress" or wish == "hang":
        return None
    state["completionTimestamp"] = now()
    if wish == "fail":
        message = "error restoring volume: pod volume restore failed as requested by the annotation"
        message = f"{message} {PVR_ANNOTATION}"
        return state | {"phase": "Failed", "message": message}
    return state | {
        "phase": "Completed",
        "progress": {"totalBytes": PVR_TOTAL_BYTES, "bytesDone": PVR_TOTAL_BYTES},
    }
