"""Pods: scheduled on the first node and Running with ready containers after a delay; held Pending
while their claims are unbound, and in Init while Velero's `restore-wait` helper waits."""

from __future__ import annotations

import copy
import hashlib
from typing import TYPE_CHECKING, Any

from restoreflow.sandbox.controllers.base import Controller
from restoreflow.sandbox.store import Event, now

if TYPE_CHECKING:
    from restoreflow.sandbox.cluster import Cluster


class PodController(Controller):
    def __init__(self, cluster: Cluster) -> None:
        super().__init__(cluster)
        self.waiting: set[tuple[str, str]] = set()  # pods not Running yet

    def on_event(self, event: Event) -> None:
        meta = event.obj["metadata"]
        key = (meta["namespace"], meta["name"])
        if event.type == "ADDED":
            self.waiting.add(key)
            self.later(self.opts.pod_running_delay, lambda: self.advance(*key))
        elif event.type == "DELETED":
            self.waiting.discard(key)

    def recheck(self) -> None:
        """Something a waiting pod may need changed (a claim bound, a volume restored)."""
        for key in list(self.waiting):
            self.later(0, lambda key=key: self.advance(*key))

    def advance(self, namespace: str, name: str) -> None:
        """Schedule and start a pod once its claims are bound and `restore-wait` may finish."""
        pod = self.current("pods", namespace, name)
        if (
            pod is None
            or pod["metadata"].get("deletionTimestamp")
            or (pod.get("status") or {}).get("phase")
            not in (
                "Pending",
                None,
            )
        ):
            self.waiting.discard((namespace, name))
            return
        node = (pod.get("spec") or {}).get("nodeName") or (self.opts.nodes or ["node-1"])[0]
        if self.current("nodes", "", node) is None:
            # Bound to a node that does not exist: no kubelet will ever start it.
            self.waiting.discard((namespace, name))
            return
        if self._unbound_claims(pod, node):
            if not unschedulable(pod):
                self.write("pods", pod_unschedulable(pod))
            return
        initializing = self._restore_wait_pending(pod)
        self.write("pods", pod_status(pod, node, initializing))
        if not initializing:
            self.waiting.discard((namespace, name))

    def _unbound_claims(self, pod: dict[str, Any], node: str) -> list[str]:
        """Claims of the pod not Bound yet (a WaitForFirstConsumer claim is provisioned now)."""
        namespace = pod["metadata"]["namespace"]
        claims = [
            v["persistentVolumeClaim"]["claimName"]
            for v in (pod.get("spec") or {}).get("volumes") or []
            if (v.get("persistentVolumeClaim") or {}).get("claimName")
        ]
        for claim in claims:
            self.cluster.controllers.storage.bind_claim(namespace, claim, node=node)
        return [
            c
            for c in claims
            if ((self.current("persistentvolumeclaims", namespace, c) or {}).get("status") or {}).get("phase")
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


def _container_id(pod: dict[str, Any], name: str) -> str:
    return "containerd://" + hashlib.sha256(f"{pod['metadata']['uid']}/{name}".encode()).hexdigest()


def _image_id(image: str) -> str:
    return f"{image.split('@')[0]}@sha256:{hashlib.sha256(image.encode()).hexdigest()}"


def pod_unschedulable(pod: dict[str, Any]) -> dict[str, Any]:
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


def unschedulable(pod: dict[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "PodScheduled" and c.get("reason") == "Unschedulable" for c in conditions)


def pod_status(pod: dict[str, Any], node: str, initializing: bool) -> dict[str, Any]:
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
