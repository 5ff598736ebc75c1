"""The garbage collector: dependents (ownerReferences) go after their owner, in the background or,
for `propagationPolicy: Foreground`, before it (the owner waits with the `foregroundDeletion`
finalizer). Orphaning is done by the delete itself, which strips the references first."""

from __future__ import annotations

import copy
from typing import Any

from restoreflow.sandbox.catalog import Target
from restoreflow.sandbox.controllers.base import Controller
from restoreflow.sandbox.store import Event

FOREGROUND = "foregroundDeletion"
ORPHAN = "orphan"
GC_DELAY = 0.01


class GarbageCollector(Controller):
    def on_event(self, event: Event) -> None:
        if event.type == "DELETED":
            uid = event.old["metadata"].get("uid", "") if event.old else ""
            if uid and self.cluster.store.dependents(uid):
                self.later(GC_DELAY, lambda: self.collect(uid, "Background"))
        elif FOREGROUND in (event.obj["metadata"].get("finalizers") or []) and event.obj["metadata"].get(
            "deletionTimestamp"
        ):
            uid = event.obj["metadata"].get("uid", "")
            self.later(GC_DELAY, lambda: self.finish_foreground(uid))

    def collect(self, owner_uid: str, policy: str) -> None:
        """Delete the dependents of a gone owner; those with another live owner only lose the reference."""
        for (group, resource), obj in self.cluster.store.dependents(owner_uid):
            rtype = self.cluster.catalog.types.get((group, resource))
            meta = obj["metadata"]
            if rtype is None or meta.get("deletionTimestamp"):
                continue
            others = [r for r in meta.get("ownerReferences") or [] if r.get("uid") != owner_uid]
            if any(self.cluster.store.by_uid(r.get("uid", "")) for r in others):
                self.cluster.write(rtype, drop_owner(obj, owner_uid))
                continue
            target = Target(rtype, rtype.version, meta.get("namespace", ""), meta["name"])
            self.cluster.delete(target, {"propagationPolicy": policy})

    def finish_foreground(self, owner_uid: str) -> None:
        """Foreground: delete the dependents, then let the owner go once none is left."""
        owner = self.cluster.store.by_uid(owner_uid)
        if owner is None:
            return
        self.collect(owner_uid, "Foreground")
        if self.cluster.store.dependents(owner_uid):
            self.later(GC_DELAY * 5, lambda: self.finish_foreground(owner_uid))
            return
        try:
            rtype = self.cluster.catalog_kind(owner["apiVersion"], owner["kind"])
        except KeyError:
            return
        self.remove_finalizer(rtype.group_resource, owner, FOREGROUND)


def drop_owner(obj: dict[str, Any], owner_uid: str) -> dict[str, Any]:
    """A copy of obj without its ownerReference to owner_uid."""
    changed = copy.deepcopy(obj)
    refs = [r for r in changed["metadata"].get("ownerReferences") or [] if r.get("uid") != owner_uid]
    if refs:
        changed["metadata"]["ownerReferences"] = refs
    else:
        changed["metadata"].pop("ownerReferences", None)
    return changed
