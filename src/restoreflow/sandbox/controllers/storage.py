"""The PersistentVolume controller: binding of pre-bound pairs, dynamic provisioning (immediately or
for the first consumer), phases Available/Bound/Released, reclaim, and the protection finalizers."""

from __future__ import annotations

import copy
from typing import Any

from restoreflow.sandbox.admission import PV_PROTECTION, PVC_PROTECTION
from restoreflow.sandbox.catalog import Target
from restoreflow.sandbox.controllers.base import Controller, deletion_started, new_object
from restoreflow.sandbox.store import Event

PVCS = "persistentvolumeclaims"
PVS = "persistentvolumes"


class StorageController(Controller):
    def on_event(self, event: Event) -> None:
        if event.rtype.resource == PVCS:
            self._claim_event(event)
        else:
            self._volume_event(event)

    def _claim_event(self, event: Event) -> None:
        meta = event.obj["metadata"]
        key = (meta["namespace"], meta["name"])
        if event.type == "ADDED":
            self.later(self.opts.pvc_bind_delay, lambda: self.bind_claim(*key))
        elif event.type == "DELETED":
            self.later(self.opts.pvc_bind_delay, lambda: self._claim_gone(event.obj))
        elif deletion_started(event):
            self.later(
                self.opts.finalizer_delay, lambda: self.remove_finalizer(PVCS, event.obj, PVC_PROTECTION)
            )
        if event.type != "DELETED" and _phase(event.obj) == "Bound":
            self.cluster.controllers.pods.recheck()

    def _volume_event(self, event: Event) -> None:
        name = event.obj["metadata"]["name"]
        if event.type == "ADDED":
            self.later(self.opts.pvc_bind_delay, lambda: self.settle_volume(name))
        elif deletion_started(event):
            self.later(
                self.opts.finalizer_delay, lambda: self.remove_finalizer(PVS, event.obj, PV_PROTECTION)
            )

    def settle_volume(self, name: str) -> None:
        """A new PV: Available, Bound to its pre-bound claim, or Released if that claim is gone."""
        pv = self.current(PVS, "", name)
        if pv is None or _phase(pv) not in (None, "Pending"):
            return
        ref = (pv.get("spec") or {}).get("claimRef") or {}
        pvc = self.current(PVCS, ref.get("namespace", ""), ref.get("name", "")) if ref else None
        if (
            pvc is not None
            and _phase(pvc) == "Pending"
            and ref.get("uid") in (None, "", pvc["metadata"]["uid"])
        ):
            self._bind(pv, pvc, by_controller_pv=False, by_controller_pvc=not pvc["spec"].get("volumeName"))
            return
        phase = "Released" if ref.get("uid") and pvc is None else "Available"
        self.write(PVS, {**copy.deepcopy(pv), "status": {"phase": phase}})
        if phase == "Available":
            for claim in self.cluster.store.items(self.rtype(PVCS)):
                if (claim.get("spec") or {}).get("volumeName") == name and _phase(claim) == "Pending":
                    self.bind_claim(claim["metadata"]["namespace"], claim["metadata"]["name"])

    def bind_claim(self, namespace: str, name: str, node: str | None = None) -> None:
        """Bind a pending claim: to its named volume, or to a new one from its StorageClass (a
        WaitForFirstConsumer class waits for a pod, which passes its node)."""
        pvc = self.current(PVCS, namespace, name)
        if pvc is None or _phase(pvc) != "Pending" or pvc["metadata"].get("deletionTimestamp"):
            return
        spec = pvc.get("spec") or {}
        if spec.get("volumeName"):
            pv = self.current(PVS, "", spec["volumeName"])
            if pv is not None and _claim_fits(pv, pvc):
                self._bind(pv, pvc, by_controller_pv=not pv["spec"].get("claimRef"), by_controller_pvc=False)
            return
        if _has_selector(spec):  # as in Kubernetes: never provisioned (a data mover's claim waits)
            return
        sc = self.current("storageclasses.storage.k8s.io", "", spec.get("storageClassName") or "")
        if sc is None or sc.get("provisioner") in (None, "", "kubernetes.io/no-provisioner"):
            return
        if sc.get("volumeBindingMode") == "WaitForFirstConsumer" and node is None:
            return
        self._provision(pvc, sc, node)

    def _provision(self, pvc: dict[str, Any], sc: dict[str, Any], node: str | None) -> None:
        provisioner = sc["provisioner"]
        claim = copy.deepcopy(pvc)
        annotations = claim["metadata"].setdefault("annotations", {})
        annotations["volume.beta.kubernetes.io/storage-provisioner"] = provisioner
        annotations["volume.kubernetes.io/storage-provisioner"] = provisioner
        if node:
            annotations["volume.kubernetes.io/selected-node"] = node
        claim = self.write(PVCS, claim)
        pv = volume_for_claim(f"pvc-{claim['metadata']['uid']}", claim, sc)
        self._bind(self.write(PVS, pv), claim, by_controller_pv=True, by_controller_pvc=True)

    def _bind(
        self, pv: dict[str, Any], pvc: dict[str, Any], by_controller_pv: bool, by_controller_pvc: bool
    ) -> None:
        """Both halves of a binding, annotated as the PV controller does."""
        volume = copy.deepcopy(pv)
        claim = copy.deepcopy(pvc)
        volume["spec"]["claimRef"] = {
            "kind": "PersistentVolumeClaim",
            "namespace": claim["metadata"]["namespace"],
            "name": claim["metadata"]["name"],
            "uid": claim["metadata"]["uid"],
            "apiVersion": "v1",
            "resourceVersion": claim["metadata"]["resourceVersion"],
        }
        if by_controller_pv:
            volume["metadata"].setdefault("annotations", {})["pv.kubernetes.io/bound-by-controller"] = "yes"
        volume["status"] = {"phase": "Bound"}
        volume = self.write(PVS, volume)
        claim["spec"]["volumeName"] = volume["metadata"]["name"]
        annotations = claim["metadata"].setdefault("annotations", {})
        annotations["pv.kubernetes.io/bind-completed"] = "yes"
        if by_controller_pvc:
            annotations["pv.kubernetes.io/bound-by-controller"] = "yes"
        claim["status"] = {
            "phase": "Bound",
            "accessModes": volume["spec"].get("accessModes", []),
            "capacity": volume["spec"].get("capacity", {}),
        }
        self.write(PVCS, claim)

    def _claim_gone(self, pvc: dict[str, Any]) -> None:
        """Reclaim the volume of a deleted claim: deleted (policy Delete) or Released."""
        name = (pvc.get("spec") or {}).get("volumeName")
        pv = self.current(PVS, "", name) if name else None
        if pv is None or (pv["spec"].get("claimRef") or {}).get("uid") != pvc["metadata"]["uid"]:
            return
        if pv["spec"].get("persistentVolumeReclaimPolicy") == "Delete":
            self.cluster.delete(Target(self.rtype(PVS), "v1", "", name), {})
        else:
            self.write(PVS, {**copy.deepcopy(pv), "status": {"phase": "Released"}})


def _phase(obj: dict[str, Any]) -> str | None:
    return (obj.get("status") or {}).get("phase")


def _has_selector(spec: dict[str, Any]) -> bool:
    selector = spec.get("selector") or {}
    return bool(selector.get("matchLabels") or selector.get("matchExpressions"))


def _claim_fits(pv: dict[str, Any], pvc: dict[str, Any]) -> bool:
    ref = pv["spec"].get("claimRef") or {}
    meta = pvc["metadata"]
    if ref and (ref.get("namespace"), ref.get("name")) != (meta["namespace"], meta["name"]):
        return False
    if ref.get("uid") and ref["uid"] != meta["uid"]:
        return False
    wanted_class = pvc["spec"].get("storageClassName")
    return wanted_class in (None, pv["spec"].get("storageClassName", ""))


def volume_for_claim(name: str, claim: dict[str, Any], sc: dict[str, Any]) -> dict[str, Any]:
    """A new Pending hostPath PV shaped by the claim (size, access and volume modes) and its class,
    as the local-path provisioner makes one."""
    spec = claim.get("spec") or {}
    pv = new_object("v1", "PersistentVolume", name, None)
    if sc.get("provisioner"):
        pv["metadata"]["annotations"] = {"pv.kubernetes.io/provisioned-by": sc["provisioner"]}
    pv["metadata"]["finalizers"] = [PV_PROTECTION]
    pv["spec"] = {
        "capacity": {"storage": ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")},
        "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
        "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy", "Delete"),
        "storageClassName": spec.get("storageClassName") or (sc.get("metadata") or {}).get("name", ""),
        "volumeMode": spec.get("volumeMode", "Filesystem"),
        "hostPath": {"path": f"/var/local-path-provisioner/{name}", "type": "DirectoryOrCreate"},
    }
    pv["status"] = {"phase": "Pending"}
    return pv
