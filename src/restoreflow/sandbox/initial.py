"""The state a fresh sandbox starts in: what `kubeadm`-style clusters hold before anyone writes."""

from __future__ import annotations

from typing import Any

from restoreflow.sandbox.crds import snapshot_crds, velero_crds
from restoreflow.sandbox.options import SandboxOptions

SYSTEM_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")


def initial_objects(options: SandboxOptions) -> list[dict[str, Any]]:
    """Objects loaded, in order, into every new or reset sandbox."""
    objects: list[dict[str, Any]] = []
    if options.velero_crds:
        objects += velero_crds()
    if options.snapshot_crds:
        objects += snapshot_crds()
    namespaces = [*SYSTEM_NAMESPACES, *(["velero"] if options.velero_crds else [])]
    objects += [_namespace(name) for name in namespaces]
    objects += [node_object(name) for name in options.nodes]
    classes = options.storage_classes if options.storage_classes is not None else [default_storage_class()]
    objects += [{"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", **sc} for sc in classes]
    objects += [
        _priority_class("system-cluster-critical", 2000000000),
        _priority_class("system-node-critical", 2000001000),
    ]
    objects += [_kubernetes_service(), _kubernetes_endpoints()]
    objects += options.state
    return objects


def default_storage_class() -> dict[str, Any]:
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": "standard",
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": "rancher.io/local-path",
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate",
    }


def _namespace(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


def node_object(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "node-role.kubernetes.io/control-plane": "",
            },
        },
        "spec": {"podCIDR": "10.244.0.0/24", "podCIDRs": ["10.244.0.0/24"]},
        "status": {
            "capacity": {"cpu": "2", "memory": "24Gi", "pods": "110", "ephemeral-storage": "100Gi"},
            "allocatable": {"cpu": "2", "memory": "24Gi", "pods": "110", "ephemeral-storage": "100Gi"},
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "message": "kubelet is posting ready status",
                }
            ],
            "addresses": [
                {"type": "InternalIP", "address": "172.18.0.2"},
                {"type": "Hostname", "address": name},
            ],
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": "4b8f3c2a-0d1e-4f5a-9b6c-7d8e9f0a1b2c",
                "containerRuntimeVersion": "containerd://2.0.0",
                "kernelVersion": "6.8.0",
                "kubeProxyVersion": "",
                "kubeletVersion": "v1.33.0",
                "machineID": "5f2d0c6e9a8b4c3d2e1f0a9b8c7d6e5f",
                "operatingSystem": "linux",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "systemUUID": "5f2d0c6e-9a8b-4c3d-2e1f-0a9b8c7d6e5f",
            },
        },
    }


def _priority_class(name: str, value: int) -> dict[str, Any]:
    return {
        "apiVersion": "scheduling.k8s.io/v1",
        "kind": "PriorityClass",
        "metadata": {"name": name},
        "value": value,
        "preemptionPolicy": "PreemptLowerPriority",
        "description": "Used for system critical pods that must not be moved from their current node.",
    }


def _kubernetes_service() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "kubernetes",
            "namespace": "default",
            "labels": {"component": "apiserver", "provider": "kubernetes"},
        },
        "spec": {
            "type": "ClusterIP",
            "clusterIP": "10.96.0.1",
            "clusterIPs": ["10.96.0.1"],
            "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
            "sessionAffinity": "None",
            "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            "internalTrafficPolicy": "Cluster",
        },
        "status": {"loadBalancer": {}},
    }


def _kubernetes_endpoints() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {
            "name": "kubernetes",
            "namespace": "default",
            "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"},
        },
        "subsets": [
            {
                "addresses": [{"ip": "172.18.0.2"}],
                "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}],
            }
        ],
    }
