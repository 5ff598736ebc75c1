"""What a fresh control plane gets before anyone restores into it, so that it matches the sandbox:
the simulated node, a default StorageClass, and on request Velero's CRDs and namespace."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from restoreflow.cluster.client import Cluster, wait_until
from restoreflow.cluster.errors import ApiError
from restoreflow.plan.model import Target
from restoreflow.sandbox.crds import velero_crds
from restoreflow.sandbox.initial import default_storage_class

READY_TIMEOUT = 60.0


class SetupError(Exception):
    """A piece of the initial state did not appear in time."""


def prepare_cluster(kubeconfig: Path, *, velero_crds: bool = False, logs: Path | None = None) -> None:
    """Create what is missing and wait until the node is Ready, the default ServiceAccount exists and
    (with velero_crds) Velero's types are served."""
    cluster = Cluster.for_target(Target(kubeconfig=str(kubeconfig)))
    try:
        _ensure(cluster, "storageclasses.storage.k8s.io", default_storage_class())
        if velero_crds:
            install_velero(cluster)
        _await("the node node-1 to be Ready", lambda: _node_ready(cluster), logs, "node-simulator")
        _await(
            "the default ServiceAccount",
            lambda: cluster.get("serviceaccounts", "default", "default") is not None,
            logs,
            "kube-controller-manager",
        )
    finally:
        cluster.close()


def install_velero(cluster: Cluster) -> None:
    """Velero's CRDs (the same definitions the sandbox serves) and its namespace, then wait until the
    API server serves them."""
    names = []
    for crd in velero_crds():
        _ensure(cluster, "customresourcedefinitions.apiextensions.k8s.io", crd)
        names.append(crd["metadata"]["name"])
    _ensure(cluster, "namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "velero"}})

    def established() -> bool:
        for name in names:
            crd = cluster.get("customresourcedefinitions.apiextensions.k8s.io", name) or {}
            conditions = (crd.get("status") or {}).get("conditions") or []
            if not any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions):
                return False
        return True

    _await("Velero's CRDs to be Established", established, None, "kube-apiserver")
    cluster.discovery.refresh()


def _ensure(cluster: Cluster, resource: str, obj: dict[str, Any]) -> None:
    try:
        cluster.create(resource, obj)
    except ApiError as error:
        if error.code != 409:
            raise


def _node_ready(cluster: Cluster) -> bool:
    node = cluster.get("nodes", "node-1") or {}
    conditions = (node.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _await(what: str, ready: Callable[[], bool], logs: Path | None, component: str) -> None:
    if not wait_until(ready, READY_TIMEOUT, 0.1):
        where = f" (see {logs / (component + '.log')})" if logs else ""
        raise SetupError(f"timed out after {READY_TIMEOUT:.0f} s waiting for {what}{where}")
