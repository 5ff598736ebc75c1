"""The controllers a restore depends on, each acting after its configurable delay.

Namespaces (default ServiceAccount and kube-root-ca.crt, termination), CRDs (Established), storage
(PVC binding, dynamic provisioning, PV phases, protection finalizers), pods (scheduling, Running, the
`restore-wait` init container), workloads (ready replicas) and Velero's PodVolumeRestores.
"""

from __future__ import annotations

import copy
import hashlib
from typing import TYPE_CHECKING, Any

from restoreflow.sandbox.admission import PV_PROTECTION, PVC_PROTECTION
from restoreflow.sandbox.catalog import ResourceType
from restoreflow.sandbox.store import Event, new_uid, now

if TYPE_CHECKING:
    from restoreflow.sandbox.cluster import Cluster

CRD_CLEANUP = "customresourcecleanup.apiextensions.k8s.io"
PVR_ANNOTATION = "sandbox.restoreflow.dev/pod-volume-restore"
PVR_TOTAL_BYTES = 10 * 1024 * 1024
ROOT_CA = "-----BEGIN CERTIFICATE-----\nc2FuZGJveCByb290IENB\n-----END CERTIFICATE-----\n"
WORKLOADS = (
    "deployments.apps",
    "statefulsets.apps",
    "replicasets.apps",
    "daemonsets.apps",
    "replicationcontrollers",
)


class Controllers:
    """Reacts to stored changes; every reaction is scheduled on the cluster's loop after a delay."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.waiting_pods: set[tuple[str, str]] = set()
        cluster.store.subscribe(self.on_event)

    @property
    def opts(self):
        return self.cluster.options

    def _type(self, group_resource: str) -> ResourceType:
        return self.cluster.rtype(group_resource)

    def on_event(self, event: Event) -> None:
        gr = event.rtype.group_resource
        handler = {
            "namespaces": self._namespace_event,
            "customresourcedefinitions.apiextensions.k8s.io": self._crd_event,
            "persistentvolumeclaims": self._pvc_event,
            "persistentvolumes": self._pv_event,
            "pods": self._pod_event,
            "podvolumerestores.velero.io": self._pvr_event,
        }.get(gr)
        if handler:
            handler(event)
        elif gr in WORKLOADS and event.type != "DELETED":
            self._workload_event(event)

    def loaded(self, rtype: ResourceType, obj: dict[str, Any]) -> None:
        """Objects loaded as pre-existing state: CRDs are served and namespaces set up at once."""
        if rtype.group_resource == "customresourcedefinitions.apiextensions.k8s.io":
            self.establish(obj["metadata"]["name"])
        elif rtype.group_resource == "namespaces":
            self.setup_namespace(obj["metadata"]["name"])

    # -- helpers ------------------------------------------------------------------------------------

    def _current(self, group_resource: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.cluster.find(group_resource, namespace, name)

    def _write(self, group_resource: str, obj: dict[str, Any]) -> dict[str, Any]:
        return self.cluster.write(self._type(group_resource), obj)

    def _remove_finalizer(self, group_resource: str, obj: dict[str, Any], finalizer: str) -> None:
        meta = obj["metadata"]
        latest = self._current(group_resource, meta.get("namespace", ""), meta["name"])
        if latest is None or finalizer not in (latest["metadata"].get("finalizers") or []):
            return
        changed = copy.deepcopy(latest)
        changed["metadata"]["finalizers"] = [f for f in changed["metadata"]["finalizers"] if f != finalizer]
        if not changed["metadata"]["finalizers"]:
            del changed["metadata"]["finalizers"]
        rtype = self._type(group_resource)
        if changed["metadata"].get("deletionTimestamp") and not changed["metadata"].get("finalizers"):
            self.cluster.store.put(rtype, changed)
            self.cluster.store.remove(rtype, meta.get("namespace", ""), meta["name"])
        else:
            self.cluster.store.put(rtype, changed)

    # -- namespaces ---------------------------------------------------------------------------------

    def _namespace_event(self, event: Event) -> None:
        if event.type == "ADDED":
            name = event.obj["metadata"]["name"]
            self.cluster.later(self.opts.namespace_setup_delay, lambda: self.setup_namespace(name))

    def setup_namespace(self, name: str) -> None:
        """The ServiceAccount and root-CA publisher controllers; an existing object is left alone."""
        ns = self._current("namespaces", "", name)
        if ns is None or ns["metadata"].get("deletionTimestamp"):
            return
        if self._current("serviceaccounts", name, "default") is None:
            self._write("serviceaccounts", _obj("v1", "ServiceAccount", "default", name))
        if self._current("configmaps", name, "kube-root-ca.crt") is None:
            cm = _obj("v1", "ConfigMap", "kube-root-ca.crt", name)
            cm["metadata"]["annotations"] = {"kubernetes.io/description": _ROOT_CA_DESCRIPTION}
            cm["data"] = {"ca.crt": ROOT_CA}
            self._write("configmaps", cm)

    def namespace_terminating(self, name: str) -> None:
        self.cluster.later(self.opts.namespace_termination_delay, lambda: self._empty_namespace(name))

    def _empty_namespace(self, name: str) -> None:
        from restoreflow.sandbox.cluster import Target

        for (group, resource), obj in list(self.cluster.store.all_in_namespace(name)):
            rtype = self.cluster.catalog.types.get((group, resource))
            if rtype is None or obj["metadata"].get("deletionTimestamp"):
                continue
            self.cluster.delete(Target(rtype, rtype.version, name, obj["metadata"]["name"]), {})
        self._finish_namespace(name)

    def _finish_namespace(self, name: str) -> None:
        ns = self._current("namespaces", "", name)
        if ns is None:
            return
        if any(True for _ in self.cluster.store.all_in_namespace(name)) or ns["metadata"].get("finalizers"):
            self.cluster.later(0.05, lambda: self._finish_namespace(name))
            return
        self.cluster.store.remove(self._type("namespaces"), "", name)

    # -- CRDs ---------------------------------------------------------------------------------------

    def _crd_event(self, event: Event) -> None:
        name = event.obj["metadata"]["name"]
        if event.type == "ADDED":
            self.cluster.later(self.opts.crd_establish_delay, lambda: self.establish(name))
        elif _deletion_started(event):
            self.cluster.later(self.opts.finalizer_delay, lambda: self._remove_crd(name))
        elif (
            event.type == "MODIFIED"
            and _crd_serving(event.obj)
            and event.obj.get("spec") != (event.old or {}).get("spec")
        ):
            self.cluster.catalog.add(crd_resource_type(event.obj))

    def establish(self, name: str) -> None:
        crd = self._current("customresourcedefinitions.apiextensions.k8s.io", "", name)
        if crd is None or crd["metadata"].get("deletionTimestamp"):
            return
        self.cluster.catalog.add(crd_resource_type(crd))
        if _crd_serving(crd):
            return
        ready = copy.deepcopy(crd)
        spec = ready["spec"]
        stamp = now()
        ready["status"] = {
            "acceptedNames": copy.deepcopy(spec["names"]),
            "conditions": [
                _condition("NamesAccepted", "NoConflicts", "no conflicts found", stamp),
                _condition(
                    "Established", "InitialNamesAccepted", "the initial names have been accepted", stamp
                ),
            ],
            "storedVersions": [v["name"] for v in spec.get("versions") or [] if v.get("storage")],
        }
        ready["status"]["acceptedNames"].setdefault("singular", spec["names"].get("plural", "").rstrip("s"))
        finalizers = ready["metadata"].setdefault("finalizers", [])
        if CRD_CLEANUP not in finalizers:
            finalizers.append(CRD_CLEANUP)
        self._write("customresourcedefinitions.apiextensions.k8s.io", ready)

    def _remove_crd(self, name: str) -> None:
        crd = self._current("customresourcedefinitions.apiextensions.k8s.io", "", name)
        if crd is None:
            return
        spec = crd["spec"]
        rtype = self.cluster.catalog.types.get((spec.get("group", ""), spec["names"]["plural"]))
        if rtype is not None and rtype.custom:
            self.cluster.store.drop_resource(rtype)
            self.cluster.catalog.remove(rtype.group, rtype.resource)
        self._remove_finalizer("customresourcedefinitions.apiextensions.k8s.io", crd, CRD_CLEANUP)

    # -- storage ------------------------------------------------------------------------------------

    def _pvc_event(self, event: Event) -> None:
        meta = event.obj["metadata"]
        key = (meta["namespace"], meta["name"])
        if event.type == "ADDED":
            self.cluster.later(self.opts.pvc_bind_delay, lambda: self.bind_claim(*key))
        elif event.type == "DELETED":
            self.cluster.later(self.opts.pvc_bind_delay, lambda: self._claim_gone(event.obj))
        elif _deletion_started(event):
            self.cluster.later(
                self.opts.finalizer_delay,
                lambda: self._remove_finalizer("persistentvolumeclaims", event.obj, PVC_PROTECTION),
            )
        if event.type != "DELETED" and (event.obj.get("status") or {}).get("phase") == "Bound":
            self._recheck_pods()

    def _pv_event(self, event: Event) -> None:
        name = event.obj["metadata"]["name"]
        if event.type == "ADDED":
            self.cluster.later(self.opts.pvc_bind_delay, lambda: self.settle_volume(name))
        elif _deletion_started(event):
            self.cluster.later(
                self.opts.finalizer_delay,
                lambda: self._remove_finalizer("persistentvolumes", event.obj, PV_PROTECTION),
            )

    def settle_volume(self, name: str) -> None:
        """A new PV: Available, Bound to its pre-bound claim, or Released if that claim is gone."""
        pv = self._current("persistentvolumes", "", name)
        if pv is None or (pv.get("status") or {}).get("phase") not in (None, "Pending"):
            return
        ref = (pv.get("spec") or {}).get("claimRef") or {}
        pvc = (
            self._current("persistentvolumeclaims", ref.get("namespace", ""), ref.get("name", ""))
            if ref
            else None
        )
        claim_pending = pvc is not None and (pvc.get("status") or {}).get("phase") == "Pending"
        if claim_pending and ref.get("uid") in (None, "", pvc["metadata"]["uid"]):
            self._bind(pv, pvc, by_controller_pv=False, by_controller_pvc=not pvc["spec"].get("volumeName"))
            return
        phase = "Released" if ref.get("uid") and pvc is None else "Available"
        self._write("persistentvolumes", {**copy.deepcopy(pv), "status": {"phase": phase}})
        if phase == "Available":
            self._bind_waiting_claims(name)

    def _bind_waiting_claims(self, pv_name: str) -> None:
        for pvc in self.cluster.store.items(self._type("persistentvolumeclaims")):
            if (pvc.get("spec") or {}).get("volumeName") == pv_name and pvc.get("status", {}).get(
                "phase"
            ) == "Pending":
                self.bind_claim(pvc["metadata"]["namespace"], pvc["metadata"]["name"])

    def bind_claim(self, namespace: str, name: str, node: str | None = None) -> None:
        pvc = self._current("persistentvolumeclaims", namespace, name)
        if (
            pvc is None
            or (pvc.get("status") or {}).get("phase") != "Pending"
            or pvc["metadata"].get("deletionTimestamp")
        ):
            return
        spec = pvc.get("spec") or {}
        if spec.get("volumeName"):
            pv = self._current("persistentvolumes", "", spec["volumeName"])
            if pv is not None and _claim_fits(pv, pvc):
                self._bind(
                    pv, pvc, by_controller_pv=not (pv["spec"].get("claimRef")), by_controller_pvc=False
                )
            return
        sc = self._current("storageclasses.storage.k8s.io", "", spec.get("storageClassName") or "")
        if sc is None or not sc.get("provisioner") or sc["provisioner"] == "kubernetes.io/no-provisioner":
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
        claim = self._write("persistentvolumeclaims", claim)
        spec = claim["spec"]
        name = f"pvc-{claim['metadata']['uid']}"
        pv = _obj("v1", "PersistentVolume", name, None)
        pv["metadata"]["annotations"] = {"pv.kubernetes.io/provisioned-by": provisioner}
        pv["metadata"]["finalizers"] = [PV_PROTECTION]
        pv["spec"] = {
            "capacity": {
                "storage": ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
            },
            "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy", "Delete"),
            "storageClassName": sc["metadata"]["name"],
            "volumeMode": spec.get("volumeMode", "Filesystem"),
            "hostPath": {"path": f"/var/local-path-provisioner/{name}", "type": "DirectoryOrCreate"},
        }
        pv["status"] = {"phase": "Pending"}
        pv = self._write("persistentvolumes", pv)
        self._bind(pv, claim, by_controller_pv=True, by_controller_pvc=True)

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
        volume = self._write("persistentvolumes", volume)
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
        self._write("persistentvolumeclaims", claim)

    def _claim_gone(self, pvc: dict[str, Any]) -> None:
        name = (pvc.get("spec") or {}).get("volumeName")
        pv = self._current("persistentvolumes", "", name) if name else None
        if pv is None or ((pv["spec"].get("claimRef") or {}).get("uid") != pvc["metadata"]["uid"]):
            return
        if pv["spec"].get("persistentVolumeReclaimPolicy") == "Delete":
            from restoreflow.sandbox.cluster import Target

            rtype = self._type("persistentvolumes")
            self.cluster.delete(Target(rtype, "v1", "", name), {})
        else:
            self._write("persistentvolumes", {**copy.deepcopy(pv), "status": {"phase": "Released"}})

    # -- pods ---------------------------------------------------------------------------------------

    def _pod_event(self, event: Event) -> None:
        meta = event.obj["metadata"]
        key = (meta["namespace"], meta["name"])
        if event.type == "ADDED":
            self.waiting_pods.add(key)
            self.cluster.later(self.opts.pod_running_delay, lambda: self.advance_pod(*key))
        elif event.type == "DELETED":
            self.waiting_pods.discard(key)

    def _recheck_pods(self) -> None:
        for key in list(self.waiting_pods):
            self.cluster.later(0, lambda key=key: self.advance_pod(*key))

    def advance_pod(self, namespace: str, name: str) -> None:
        """Schedule and start a pod once its claims are bound and `restore-wait` may finish."""
        pod = self._current("pods", namespace, name)
        if pod is None or pod["metadata"].get("deletionTimestamp"):
            self.waiting_pods.discard((namespace, name))
            return
        if (pod.get("status") or {}).get("phase") not in ("Pending", None):
            self.waiting_pods.discard((namespace, name))
            return
        node = (pod.get("spec") or {}).get("nodeName") or (self.opts.nodes or ["node-1"])[0]
        unbound = self._unbound_claims(pod, node)
        if unbound:
            if not _unschedulable(pod):
                self._write("pods", _pod_unschedulable(pod))
            return
        waiting = self._restore_wait_pending(pod)
        self._write("pods", _pod_status(pod, node, initializing=waiting))
        if not waiting:
            self.waiting_pods.discard((namespace, name))

    def _unbound_claims(self, pod: dict[str, Any], node: str) -> list[str]:
        unbound = []
        namespace = pod["metadata"]["namespace"]
        for volume in (pod.get("spec") or {}).get("volumes") or []:
            claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            if not claim:
                continue
            pvc = self._current("persistentvolumeclaims", namespace, claim)
            if pvc is None or (pvc.get("status") or {}).get("phase") != "Bound":
                unbound.append(claim)
                if pvc is not None:
                    self.bind_claim(namespace, claim, node=node)
        return [
            c
            for c in unbound
            if (self._current("persistentvolumeclaims", namespace, c) or {}).get("status", {}).get("phase")
            != "Bound"
        ]

    def _restore_wait_pending(self, pod: dict[str, Any]) -> bool:
        """Velero's restore helper waits for a finished PodVolumeRestore per volume it mounts."""
        helper = next(
            (c for c in pod["spec"].get("initContainers") or [] if c.get("name") == "restore-wait"), None
        )
        if helper is None:
            return False
        volumes = {m.get("name") for m in helper.get("volumeMounts") or []}
        rtype = self.cluster.catalog.types.get(("velero.io", "podvolumerestores"))
        if rtype is None:
            return bool(volumes)
        uid = pod["metadata"]["uid"]
        finished = {
            (pvr.get("spec") or {}).get("volume")
            for pvr in self.cluster.store.items(rtype)
            if (pvr["metadata"].get("labels") or {}).get("velero.io/pod-uid") == uid
            and (pvr.get("status") or {}).get("phase") in ("Completed", "Failed")
        }
        return not volumes <= finished

    # -- PodVolumeRestores --------------------------------------------------------------------------

    def _pvr_event(self, event: Event) -> None:
        meta = event.obj["metadata"]
        key = (meta["namespace"], meta["name"])
        phase = (event.obj.get("status") or {}).get("phase", "")
        if event.type == "ADDED":
            self.cluster.later(self.opts.pvr_progress_delay, lambda: self.advance_pvr(*key))
        elif event.type == "MODIFIED" and phase in ("Completed", "Failed"):
            self._recheck_pods()

    def advance_pvr(self, namespace: str, name: str) -> None:
        """New -> InProgress (with progress) -> Completed, or Failed / stuck as the pod asks."""
        pvr = self._current("podvolumerestores.velero.io", namespace, name)
        if pvr is None:
            return
        state = copy.deepcopy(pvr.get("status") or {})
        phase = state.get("phase") or ""
        ref = (pvr.get("spec") or {}).get("pod") or {}
        pod = self._current("pods", ref.get("namespace", ""), ref.get("name", ""))
        wish = ((pod or {}).get("metadata", {}).get("annotations") or {}).get(PVR_ANNOTATION, "")
        if phase == "":
            state["phase"] = "New"
        elif phase == "New":
            if pod is None or not pod["spec"].get("nodeName"):
                self.cluster.later(self.opts.pvr_progress_delay, lambda: self.advance_pvr(namespace, name))
                return
            state |= {"phase": "InProgress", "startTimestamp": now(), "node": pod["spec"]["nodeName"]}
            state["progress"] = {"totalBytes": PVR_TOTAL_BYTES, "bytesDone": PVR_TOTAL_BYTES // 2}
        elif phase == "InProgress":
            if wish == "hang":
                return
            state["completionTimestamp"] = now()
            if wish == "fail":
                state["phase"] = "Failed"
                state["message"] = (
                    "error restoring volume: pod volume restore failed as requested by the "
                    f"{PVR_ANNOTATION} annotation"
                )
            else:
                state["phase"] = "Completed"
                state["progress"] = {"totalBytes": PVR_TOTAL_BYTES, "bytesDone": PVR_TOTAL_BYTES}
        else:
            return
        self._write("podvolumerestores.velero.io", {**copy.deepcopy(pvr), "status": state})
        if state["phase"] in ("New", "InProgress"):
            self.cluster.later(self.opts.pvr_progress_delay, lambda: self.advance_pvr(namespace, name))

    # -- workloads ----------------------------------------------------------------------------------

    def _workload_event(self, event: Event) -> None:
        generation = event.obj["metadata"].get("generation", 1)
        observed = (event.obj.get("status") or {}).get("observedGeneration")
        if event.type == "ADDED" or (
            observed != generation and (event.old or {}).get("spec") != event.obj.get("spec")
        ):
            meta = event.obj["metadata"]
            gr = event.rtype.group_resource
            self.cluster.later(
                self.opts.workload_ready_delay,
                lambda: self.ready_workload(gr, meta["namespace"], meta["name"]),
            )

    def ready_workload(self, group_resource: str, namespace: str, name: str) -> None:
        obj = self._current(group_resource, namespace, name)
        if obj is None or obj["metadata"].get("deletionTimestamp"):
            return
        state = _workload_status(obj, len(self.opts.nodes or []))
        if obj.get("status") != state:
            self._write(group_resource, {**copy.deepcopy(obj), "status": state})


_ROOT_CA_DESCRIPTION = (
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints "
    "such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across "
    "distributions of Kubernetes clusters."
)


def _obj(api_version: str, kind: str, name: str, namespace: str | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    meta |= {"uid": new_uid(), "creationTimestamp": now()}
    return {"apiVersion": api_version, "kind": kind, "metadata": meta}


def _deletion_started(event: Event) -> bool:
    """The update that set deletionTimestamp (finalizers now hold the object)."""
    if event.type != "MODIFIED" or not event.obj["metadata"].get("deletionTimestamp"):
        return False
    return not (event.old or {}).get("metadata", {}).get("deletionTimestamp")


def _condition(kind: str, reason: str, message: str, stamp: str) -> dict[str, Any]:
    return {"type": kind, "status": "True", "lastTransitionTime": stamp, "reason": reason, "message": message}


def _crd_serving(crd: dict[str, Any]) -> bool:
    conditions = (crd.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)


def _version_priority(version: str) -> tuple[int, int, int, str]:
    """Kubernetes' version ordering: GA > beta > alpha, higher numbers first, then others by name."""
    import re

    m = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", version)
    if not m:
        return (3, 0, 0, version)
    stage = {None: 0, "beta": 1, "alpha": 2}[m.group(2)]
    return (stage, -int(m.group(1)), -int(m.group(3) or 0), version)


def crd_resource_type(crd: dict[str, Any]) -> ResourceType:
    spec = crd["spec"]
    names = spec["names"]
    served = [v for v in spec.get("versions") or [] if v.get("served", True)]
    versions = tuple(sorted((v["name"] for v in served), key=_version_priority))
    subresources: list[str] = []
    for key in ("status", "scale"):
        if any(key in (v.get("subresources") or {}) for v in served):
            subresources.append(key)
    return ResourceType(
        group=spec["group"],
        versions=versions,
        resource=names["plural"],
        kind=names["kind"],
        namespaced=spec.get("scope") == "Namespaced",
        short_names=tuple(names.get("shortNames") or ()),
        subresources=tuple(subresources),
        categories=tuple(names.get("categories") or ()),
        custom=True,
        singular_name=names.get("singular") or names["kind"].lower(),
    )


def _claim_fits(pv: dict[str, Any], pvc: dict[str, Any]) -> bool:
    ref = pv["spec"].get("claimRef") or {}
    meta = pvc["metadata"]
    if ref and (ref.get("namespace"), ref.get("name")) != (meta["namespace"], meta["name"]):
        return False
    if ref.get("uid") and ref["uid"] != meta["uid"]:
        return False
    wanted_class = pvc["spec"].get("storageClassName")
    return wanted_class in (None, pv["spec"].get("storageClassName", ""))


def _container_id(pod: dict[str, Any], name: str) -> str:
    return "containerd://" + hashlib.sha256(f"{pod['metadata']['uid']}/{name}".encode()).hexdigest()


def _image_id(image: str) -> str:
    return f"{image.split('@')[0]}@sha256:{hashlib.sha256(image.encode()).hexdigest()}"


def _pod_unschedulable(pod: dict[str, Any]) -> dict[str, Any]:
    updated = copy.deepcopy(pod)
    message = "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims."
    cond = {
        "type": "PodScheduled",
        "status": "False",
        "lastProbeTime": None,
        "lastTransitionTime": now(),
        "reason": "Unschedulable",
        "message": message,
    }
    updated["status"] = {**(pod.get("status") or {}), "phase": "Pending", "conditions": [cond]}
    return updated


def _unschedulable(pod: dict[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "PodScheduled" and c.get("reason") == "Unschedulable" for c in conditions)


def _pod_status(pod: dict[str, Any], node: str, initializing: bool) -> dict[str, Any]:
    """A scheduled pod: Running with ready containers, or Pending in Init while `restore-wait` waits."""
    updated = copy.deepcopy(pod)
    updated["spec"]["nodeName"] = node
    stamp = now()
    previous = pod.get("status") or {}
    started = previous.get("startTime") or stamp
    index = int(hashlib.sha256(pod["metadata"]["uid"].encode()).hexdigest(), 16) % 250 + 2
    inits = []
    for c in pod["spec"].get("initContainers") or []:
        base = {
            "name": c["name"],
            "image": c.get("image", ""),
            "imageID": _image_id(c.get("image", "")),
            "containerID": _container_id(pod, c["name"]),
            "restartCount": 0,
            "lastState": {},
        }
        if initializing and c["name"] == "restore-wait":
            inits.append(
                base | {"ready": False, "started": True, "state": {"running": {"startedAt": started}}}
            )
        elif initializing:
            inits.append(
                base | {"ready": False, "started": False, "state": {"waiting": {"reason": "PodInitializing"}}}
            )
        else:
            done = {
                "exitCode": 0,
                "reason": "Completed",
                "startedAt": started,
                "finishedAt": stamp,
                "containerID": base["containerID"],
            }
            inits.append(base | {"ready": True, "started": False, "state": {"terminated": done}})
    containers = []
    for c in pod["spec"].get("containers") or []:
        base = {
            "name": c["name"],
            "image": c.get("image", ""),
            "imageID": _image_id(c.get("image", "")),
            "restartCount": 0,
            "lastState": {},
        }
        if initializing:
            containers.append(
                base | {"ready": False, "started": False, "state": {"waiting": {"reason": "PodInitializing"}}}
            )
        else:
            containers.append(
                base
                | {
                    "containerID": _container_id(pod, c["name"]),
                    "ready": True,
                    "started": True,
                    "state": {"running": {"startedAt": stamp}},
                }
            )
    ready = "False" if initializing else "True"
    conditions = [
        {
            "type": "PodReadyToStartContainers",
            "status": "True",
            "lastProbeTime": None,
            "lastTransitionTime": stamp,
        },
        {"type": "Initialized", "status": ready, "lastProbeTime": None, "lastTransitionTime": stamp},
        {"type": "Ready", "status": ready, "lastProbeTime": None, "lastTransitionTime": stamp},
        {"type": "ContainersReady", "status": ready, "lastProbeTime": None, "lastTransitionTime": stamp},
        {"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": started},
    ]
    if initializing:
        for cond in conditions[1:4]:
            cond["reason"] = (
                "ContainersNotInitialized" if cond["type"] == "Initialized" else "ContainersNotReady"
            )
    updated["status"] = {
        "phase": "Pending" if initializing else "Running",
        "conditions": conditions,
        "hostIP": "172.18.0.2",
        "hostIPs": [{"ip": "172.18.0.2"}],
        "podIP": f"10.244.0.{index}",
        "podIPs": [{"ip": f"10.244.0.{index}"}],
        "startTime": started,
        "containerStatuses": containers,
        "qosClass": previous.get("qosClass", "BestEffort"),
    }
    if inits:
        updated["status"]["initContainerStatuses"] = inits
    return updated


def _workload_status(obj: dict[str, Any], nodes: int) -> dict[str, Any]:
    kind = obj["kind"]
    spec = obj.get("spec") or {}
    generation = obj["metadata"].get("generation", 1)
    n = nodes if kind == "DaemonSet" else int(spec.get("replicas", 1))
    if kind == "DaemonSet":
        return {
            "currentNumberScheduled": n,
            "desiredNumberScheduled": n,
            "numberAvailable": n,
            "numberMisscheduled": 0,
            "numberReady": n,
            "observedGeneration": generation,
            "updatedNumberScheduled": n,
        }
    state: dict[str, Any] = {"observedGeneration": generation, "replicas": n}
    if n:
        state |= {"readyReplicas": n, "availableReplicas": n}
    if kind == "Deployment":
        stamp = now()
        if n:
            state["updatedReplicas"] = n
        state["conditions"] = [
            {
                "type": "Available",
                "status": "True",
                "lastUpdateTime": stamp,
                "lastTransitionTime": stamp,
                "reason": "MinimumReplicasAvailable",
                "message": "Deployment has minimum availability.",
            },
            {
                "type": "Progressing",
                "status": "True",
                "lastUpdateTime": stamp,
                "lastTransitionTime": stamp,
                "reason": "NewReplicaSetAvailable",
                "message": f'ReplicaSet "{obj["metadata"]["name"]}" has successfully progressed.',
            },
        ]
    elif kind == "StatefulSet":
        revision = f"{obj['metadata']['name']}-{hashlib.sha256(str(spec).encode()).hexdigest()[:10]}"
        state |= {
            "currentReplicas": n,
            "updatedReplicas": n,
            "currentRevision": revision,
            "updateRevision": revision,
            "collisionCount": 0,
        }
    elif kind in ("ReplicaSet", "ReplicationController"):
        state["fullyLabeledReplicas"] = n
    return state
