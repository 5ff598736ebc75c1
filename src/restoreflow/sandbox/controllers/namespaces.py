"""Namespaces: the ServiceAccount and root-CA publisher controllers, and namespace termination."""

from __future__ import annotations

from restoreflow.sandbox.catalog import Target
from restoreflow.sandbox.controllers.base import Controller, new_object
from restoreflow.sandbox.store import Event

ROOT_CA = "-----BEGIN CERTIFICATE-----\nc2FuZGJveCByb290IENB\n-----END CERTIFICATE-----\n"
ROOT_CA_DESCRIPTION = (
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints "
    "such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across "
    "distributions of Kubernetes clusters."
)


class NamespaceController(Controller):
    def on_event(self, event: Event) -> None:
        if event.type == "ADDED":
            name = event.obj["metadata"]["name"]
            self.later(self.opts.namespace_setup_delay, lambda: self.set_up(name))

    def set_up(self, name: str) -> None:
        """`default` ServiceAccount and `kube-root-ca.crt`; an object already there is left alone."""
        ns = self.current("namespaces", "", name)
        if ns is None or ns["metadata"].get("deletionTimestamp"):
            return
        if self.current("serviceaccounts", name, "default") is None:
            self.write("serviceaccounts", new_object("v1", "ServiceAccount", "default", name))
        if self.current("configmaps", name, "kube-root-ca.crt") is None:
            cm = new_object("v1", "ConfigMap", "kube-root-ca.crt", name)
            cm["metadata"]["annotations"] = {"kubernetes.io/description": ROOT_CA_DESCRIPTION}
            cm["data"] = {"ca.crt": ROOT_CA}
            self.write("configmaps", cm)

    def terminate(self, name: str) -> None:
        """After the delay, delete the contents; the namespace goes once nothing holds it."""
        self.later(self.opts.namespace_termination_delay, lambda: self._empty(name))

    def _empty(self, name: str) -> None:
        for (group, resource), obj in list(self.cluster.store.all_in_namespace(name)):
            rtype = self.cluster.catalog.types.get((group, resource))
            if rtype is None or obj["metadata"].get("deletionTimestamp"):
                continue
            self.cluster.delete(Target(rtype, rtype.version, name, obj["metadata"]["name"]), {})
        self._finish(name)

    def _finish(self, name: str) -> None:
        ns = self.current("namespaces", "", name)
        if ns is None:
            return
        if any(True for _ in self.cluster.store.all_in_namespace(name)) or ns["metadata"].get("finalizers"):
            self.later(0.05, lambda: self._finish(name))
            return
        self.cluster.store.remove(self.rtype("namespaces"), "", name)
