"""Deployments, StatefulSets, ReplicaSets, DaemonSets and ReplicationControllers report ready replicas
after a delay (no pods are created: a restore brings its own)."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from restoreflow.sandbox.controllers.base import Controller
from restoreflow.sandbox.store import Event, now

WORKLOADS = (
    "deployments.apps",
    "statefulsets.apps",
    "replicasets.apps",
    "daemonsets.apps",
    "replicationcontrollers",
)


class WorkloadController(Controller):
    def on_event(self, event: Event) -> None:
        if event.type == "DELETED":
            return
        generation = event.obj["metadata"].get("generation", 1)
        observed = (event.obj.get("status") or {}).get("observedGeneration")
        spec_changed = event.old is not None and event.old.get("spec") != event.obj.get("spec")
        if event.type == "ADDED" or (observed != generation and spec_changed):
            meta = event.obj["metadata"]
            gr = event.rtype.group_resource
            self.later(
                self.opts.workload_ready_delay, lambda: self.ready(gr, meta["namespace"], meta["name"])
            )

    def ready(self, group_resource: str, namespace: str, name: str) -> None:
        obj = self.current(group_resource, namespace, name)
        if obj is None or obj["metadata"].get("deletionTimestamp"):
            return
        state = ready_status(obj, len(self.opts.nodes or []))
        if obj.get("status") != state:
            self.write(group_resource, {**copy.deepcopy(obj), "status": state})


def ready_status(obj: dict[str, Any], nodes: int) -> dict[str, Any]:
    """The status of a workload whose replicas are all ready, per kind."""
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
        if n:
            state["updatedReplicas"] = n
        state["conditions"] = _deployment_conditions(obj["metadata"]["name"])
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


def _deployment_conditions(name: str) -> list[dict[str, Any]]:
    stamp = now()
    times = {"lastUpdateTime": stamp, "lastTransitionTime": stamp}
    return [
        {"type": "Available", "status": "True", **times, "reason": "MinimumReplicasAvailable",
         "message": "Deployment has minimum availability."},
        {"type": "Progressing", "status": "True", **times, "reason": "NewReplicaSetAvailable",
         "message": f'ReplicaSet "{name}" has successfully progressed.'},
    ]  # fmt: skip
