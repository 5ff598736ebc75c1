"""CustomResourceDefinitions: NamesAccepted and Established after a delay, then their resources are
served; a deleted CRD takes its objects with it."""

from __future__ import annotations

import copy
from typing import Any

from restoreflow.kube.gvr import version_priority
from restoreflow.sandbox.catalog import ResourceType
from restoreflow.sandbox.controllers.base import Controller, condition, deletion_started
from restoreflow.sandbox.store import Event, now

CRDS = "customresourcedefinitions.apiextensions.k8s.io"
CRD_CLEANUP = "customresourcecleanup.apiextensions.k8s.io"


class DefinitionController(Controller):
    def on_event(self, event: Event) -> None:
        name = event.obj["metadata"]["name"]
        if event.type == "ADDED":
            self.later(self.opts.crd_establish_delay, lambda: self.establish(name))
        elif deletion_started(event):
            self.later(self.opts.finalizer_delay, lambda: self._remove(name))
        elif (
            event.type == "MODIFIED" and serving(event.obj) and event.obj.get("spec") != event.old.get("spec")
        ):
            self.cluster.catalog.add(resource_type(event.obj))

    def establish(self, name: str) -> None:
        crd = self.current(CRDS, "", name)
        if crd is None or crd["metadata"].get("deletionTimestamp"):
            return
        self.cluster.catalog.add(resource_type(crd))
        if serving(crd):
            return
        ready = copy.deepcopy(crd)
        spec = ready["spec"]
        stamp = now()
        ready["status"] = {
            "acceptedNames": copy.deepcopy(spec["names"]),
            "conditions": [
                condition("NamesAccepted", "NoConflicts", "no conflicts found", stamp),
                condition(
                    "Established", "InitialNamesAccepted", "the initial names have been accepted", stamp
                ),
            ],
            "storedVersions": [v["name"] for v in spec.get("versions") or [] if v.get("storage")],
        }
        ready["status"]["acceptedNames"].setdefault("singular", spec["names"]["kind"].lower())
        finalizers = ready["metadata"].setdefault("finalizers", [])
        if CRD_CLEANUP not in finalizers:
            finalizers.append(CRD_CLEANUP)
        self.write(CRDS, ready)

    def _remove(self, name: str) -> None:
        crd = self.current(CRDS, "", name)
        if crd is None:
            return
        spec = crd["spec"]
        rtype = self.cluster.catalog.types.get((spec.get("group", ""), spec["names"]["plural"]))
        if rtype is not None and rtype.custom:
            self.cluster.store.drop_resource(rtype)
            self.cluster.catalog.remove(rtype.group, rtype.resource)
        self.remove_finalizer(CRDS, crd, CRD_CLEANUP)


def serving(crd: dict[str, Any]) -> bool:
    conditions = (crd.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)


def resource_type(crd: dict[str, Any]) -> ResourceType:
    """The served type a CRD defines: every served version (preferred first), scope and names."""
    spec = crd["spec"]
    names = spec["names"]
    served = [v for v in spec.get("versions") or [] if v.get("served", True)]
    subresources = [
        key for key in ("status", "scale") if any(key in (v.get("subresources") or {}) for v in served)
    ]
    return ResourceType(
        group=spec["group"],
        versions=tuple(sorted((v["name"] for v in served), key=version_priority)),
        resource=names["plural"],
        kind=names["kind"],
        namespaced=spec.get("scope") == "Namespaced",
        short_names=tuple(names.get("shortNames") or ()),
        subresources=tuple(subresources),
        categories=tuple(names.get("categories") or ()),
        custom=True,
        singular_name=names.get("singular") or names["kind"].lower(),
    )
