"""What every controller shares: the cluster, its current options, and reads and writes that bypass
admission, as controllers' writes do not go through user validation here."""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from restoreflow.sandbox.catalog import ResourceType
from restoreflow.sandbox.options import SandboxOptions
from restoreflow.sandbox.store import Event, new_uid, now

if TYPE_CHECKING:
    from restoreflow.sandbox.cluster import Cluster


class Controller(ABC):
    """A controller: `on_event` sees every change of the resources it watches."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster

    @property
    def opts(self) -> SandboxOptions:
        """Read at each use: configure() replaces the options while the sandbox runs."""
        return self.cluster.options

    @abstractmethod
    def on_event(self, event: Event) -> None: ...

    def later(self, delay: float, fn: Any) -> None:
        self.cluster.later(delay, fn)

    def rtype(self, group_resource: str) -> ResourceType:
        return self.cluster.rtype(group_resource)

    def current(self, group_resource: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.cluster.find(group_resource, namespace, name)

    def write(self, group_resource: str, obj: dict[str, Any]) -> dict[str, Any]:
        return self.cluster.write(self.rtype(group_resource), obj)

    def remove_finalizer(self, group_resource: str, obj: dict[str, Any], finalizer: str) -> None:
        """Drop one finalizer; an object being deleted goes once none is left."""
        meta = obj["metadata"]
        latest = self.current(group_resource, meta.get("namespace", ""), meta["name"])
        if latest is None or finalizer not in (latest["metadata"].get("finalizers") or []):
            return
        changed = copy.deepcopy(latest)
        changed["metadata"]["finalizers"] = [f for f in changed["metadata"]["finalizers"] if f != finalizer]
        if not changed["metadata"]["finalizers"]:
            del changed["metadata"]["finalizers"]
        rtype = self.rtype(group_resource)
        self.cluster.store.put(rtype, changed)
        if changed["metadata"].get("deletionTimestamp") and not changed["metadata"].get("finalizers"):
            self.cluster.store.remove(rtype, meta.get("namespace", ""), meta["name"])


def new_object(api_version: str, kind: str, name: str, namespace: str | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    meta |= {"uid": new_uid(), "creationTimestamp": now()}
    return {"apiVersion": api_version, "kind": kind, "metadata": meta}


def deletion_started(event: Event) -> bool:
    """The update that set deletionTimestamp (finalizers now hold the object)."""
    if event.type != "MODIFIED" or not event.obj["metadata"].get("deletionTimestamp"):
        return False
    return not (event.old or {}).get("metadata", {}).get("deletionTimestamp")


def condition(kind: str, reason: str, message: str, stamp: str) -> dict[str, Any]:
    return {"type": kind, "status": "True", "lastTransitionTime": stamp, "reason": reason, "message": message}
