"""Each built-in action's effect on what the sandbox stores, through a whole restore."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from restoreflow.backup import BackupBuilder
from restoreflow.plan import plan_from_document
from restoreflow.restore import run_restore

UID = "5a1f3c2e-0b8d-4c47-9d61-2f0e6a7b9c10"


def meta(name: str, namespace: str | None = "shop", **extra: Any) -> dict[str, Any]:
    found = {
        "name": name,
        "uid": f"{name}-uid",
        "resourceVersion": "4711",
        "creationTimestamp": "2026-11-20T10:00:00Z",
    }
    return found | ({"namespace": namespace} if namespace else {}) | extra


def backup_objects() -> list[dict[str, Any]]:
    token = {"name": "app-token-x7k2p", "secret": {"secretName": "app-token-x7k2p"}}
    last_applied = {
        "apiVersion": "v1",
        "kind": "Service",
        "spec": {"type": "NodePort", "ports": [{"name": "http", "port": 80, "nodePort": 30080}]},
    }
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": meta("shop", None)},
        {
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": meta("shop-critical", None),
            "value": 100000,
        },
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": meta("app"),
            "secrets": [{"name": "app-token-x7k2p"}],
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/service-account-token",
            "metadata": meta("app-token-x7k2p", annotations={"kubernetes.io/service-account.name": "app"}),
            "data": {"token": "dG9rZW4="},
        },
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": meta(
                "data",
                annotations={
                    "pv.kubernetes.io/bind-completed": "yes",
                    "volume.kubernetes.io/selected-node": "node-old",
                },
            ),
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "gp2",
                "resources": {"requests": {"storage": "1Gi"}},
            },
            "status": {"phase": "Pending"},
        },
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": meta("web-0", labels={"app": "web"}),
            "spec": {
                "nodeName": "node-old",
                "priority": 100000,
                "priorityClassName": "shop-critical",
                "serviceAccountName": "app",
                "volumes": [token, {"name": "data", "persistentVolumeClaim": {"claimName": "data"}}],
                "containers": [
                    {
                        "name": "web",
                        "image": "registry.prod.example/shop/web:1.0",
                        "volumeMounts": [
                            {"name": "app-token-x7k2p", "mountPath": "/var/run/secrets"},
                            {"name": "data", "mountPath": "/data"},
                        ],
                    }
                ],
            },
            "status": {"phase": "Running"},
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": meta(
                "explicit",
                annotations={"kubectl.kubernetes.io/last-applied-configuration": json.dumps(last_applied)},
            ),
            "spec": {
                "type": "NodePort",
                "clusterIP": "10.96.0.50",
                "clusterIPs": ["10.96.0.50"],
                "ports": [{"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080}],
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": meta("auto"),
            "spec": {
                "type": "NodePort",
                "clusterIP": "10.96.0.51",
                "clusterIPs": ["10.96.0.51"],
                "ports": [{"name": "http", "port": 80, "protocol": "TCP", "nodePort": 31999}],
            },
        },
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": meta("migrate"),
            "spec": {
                "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": UID}},
                "template": {
                    "metadata": {
                        "labels": {
                            "batch.kubernetes.io/controller-uid": UID,
                            "controller-uid": UID,
                            "job-name": "migrate",
                        }
                    },
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [{"name": "m", "image": "registry.prod.example/m:1"}],
                    },
                },
            },
            "status": {"active": 1},
        },
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": meta("gadgets.example.com", None),
            "spec": {
                "group": "example.com",
                "scope": "Namespaced",
                "preserveUnknownFields": True,
                "names": {
                    "plural": "gadgets",
                    "singular": "gadget",
                    "kind": "Gadget",
                    "listKind": "GadgetList",
                },
                "versions": [
                    {
                        "name": "v1",
                        "served": True,
                        "storage": True,
                        "schema": {"openAPIV3Schema": {"type": "object"}},
                    }
                ],
            },
        },
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingWebhookConfiguration",
            "metadata": meta("policy", None),
            "webhooks": [
                {
                    "name": "check.example.com",
                    "sideEffects": "Unknown",
                    "admissionReviewVersions": ["v1"],
                    "clientConfig": {"url": "https://example.com/check"},
                }
            ],
        },
        {
            "apiVersion": "apiregistration.k8s.io/v1",
            "kind": "APIService",
            "metadata": meta(
                "v1.apps", None, labels={"kube-aggregator.kubernetes.io/automanaged": "onstart"}
            ),
            "spec": {"group": "apps", "version": "v1", "groupPriorityMinimum": 17800, "versionPriority": 15},
        },
        {
            "apiVersion": "apiregistration.k8s.io/v1",
            "kind": "APIService",
            "metadata": meta("v1beta1.metrics.k8s.io", None),
            "spec": {
                "group": "metrics.k8s.io",
                "version": "v1beta1",
                "groupPriorityMinimum": 100,
                "versionPriority": 100,
                "service": {"name": "metrics-server", "namespace": "kube-system"},
            },
        },
    ]


def restore(sandbox: Any, tmp_path: Path, objects: list[dict[str, Any]], **spec: Any) -> Any:
    storage = str(tmp_path / "backups")
    BackupBuilder("backup-1").add_all(objects).write(storage)
    plan = plan_from_document(
        {
            "apiVersion": "restoreflow.dev/v1alpha1",
            "kind": "RestorePlan",
            "metadata": {"name": "actions-e2e"},
            "spec": {
                "source": {"storageLocation": storage, "backupName": "backup-1"},
                "target": {"kubeconfig": sandbox.kubeconfig},
                **spec,
            },
        }
    )
    return run_restore(plan, restore_name="actions-e2e")


@pytest.fixture
def restored(sandbox: Any, tmp_path: Path) -> Any:
    return restore(
        sandbox,
        tmp_path,
        backup_objects(),
        transforms={
            "storageClassMapping": {"gp2": "standard"},
            "imageNameMapping": ["registry.prod.example/,registry.dr.example/"],
            "nodeMapping": {"node-old": "node-1"},
        },
    )


def test_pod_is_rescheduled_without_the_old_token_and_with_its_priority_class(
    sandbox: Any, restored: Any
) -> None:
    pod = sandbox.get("pods", "web-0", "shop")
    assert pod["spec"].get("nodeName") != "node-old"
    assert [v["name"] for v in pod["spec"]["volumes"] if v["name"].startswith("app-token-")] == []
    assert [m["mountPath"] for m in pod["spec"]["containers"][0]["volumeMounts"]] == ["/data"]
    assert pod["spec"]["containers"][0]["image"] == "registry.dr.example/shop/web:1.0"
    assert sandbox.get("priorityclasses.scheduling.k8s.io", "shop-critical") is not None


def test_claim_is_cleaned_mapped_and_restored(sandbox: Any, tmp_path: Path) -> None:
    claim = next(o for o in backup_objects() if o["kind"] == "PersistentVolumeClaim")
    sandbox.load([{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-b"}}])
    sandbox.configure(pvc_bind_delay=3600)  # no pod uses it: the claim stays as restored
    mapping = {"storageClassMapping": {"gp2": "standard"}, "nodeMapping": {"node-old": "node-b"}}
    assert restore(sandbox, tmp_path, [claim], transforms=mapping).phase == "Completed"
    restored = sandbox.get("persistentvolumeclaims", "data", "shop")
    assert restored["metadata"]["annotations"] == {"volume.kubernetes.io/selected-node": "node-b"}
    assert restored["spec"]["storageClassName"] == "standard"


def test_services_keep_only_explicit_node_ports(sandbox: Any, restored: Any) -> None:
    explicit, auto = sandbox.get("services", "explicit", "shop"), sandbox.get("services", "auto", "shop")
    assert explicit["spec"]["ports"][0]["nodePort"] == 30080
    assert auto["spec"]["ports"][0]["nodePort"] != 31999
    assert explicit["spec"]["clusterIP"] != "10.96.0.50"


def test_service_account_and_its_auto_token(sandbox: Any, restored: Any) -> None:
    account = sandbox.get("serviceaccounts", "app", "shop")
    assert "app-token-x7k2p" not in [s["name"] for s in account.get("secrets", [])]
    assert sandbox.get("secrets", "app-token-x7k2p", "shop") is None
    assert "secrets/shop/app-token-x7k2p" not in json.dumps(restored.results)


def test_job_loses_the_old_controller_uid(sandbox: Any, restored: Any) -> None:
    job = sandbox.get("jobs.batch", "migrate", "shop")
    assert UID not in json.dumps(job["spec"])
    assert job["spec"]["template"]["metadata"]["labels"]["job-name"] == "migrate"
    assert job["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.dr.example/m:1"


def test_cluster_scoped_fixes(sandbox: Any, restored: Any) -> None:
    crd = sandbox.get("customresourcedefinitions.apiextensions.k8s.io", "gadgets.example.com")
    assert crd["spec"].get("preserveUnknownFields", False) is False
    assert (
        crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["x-kubernetes-preserve-unknown-fields"]
        is True
    )
    webhook = sandbox.get("validatingwebhookconfigurations.admissionregistration.k8s.io", "policy")
    assert webhook["webhooks"][0]["sideEffects"] == "None"
    assert sandbox.get("apiservices.apiregistration.k8s.io", "v1.apps") is None
    assert sandbox.get("apiservices.apiregistration.k8s.io", "v1beta1.metrics.k8s.io") is not None


def test_additional_items_come_first_even_when_not_selected(sandbox: Any, tmp_path: Path) -> None:
    objects = [
        o
        for o in backup_objects()
        if o["kind"] in ("Namespace", "PersistentVolumeClaim", "Pod", "PriorityClass", "ServiceAccount")
    ]
    result = restore(
        sandbox,
        tmp_path,
        objects,
        labelSelector={"matchLabels": {"app": "web"}},
        includeClusterResources=False,
    )
    assert sandbox.get("pods", "web-0", "shop") is not None
    assert sandbox.get("persistentvolumeclaims", "data", "shop") is not None  # add-pvc-from-pod
    assert sandbox.get("serviceaccounts", "app", "shop") is None  # not selected, not needed
    assert (
        sandbox.get("priorityclasses.scheduling.k8s.io", "shop-critical") is None
    )  # includeClusterResources: false blocks it
    creates = [
        r["resource"] for r in sandbox.requests() if r["verb"] == "create" and r["resource"] != "namespaces"
    ]
    assert creates.index("persistentvolumeclaims") < creates.index("pods")
    assert result.phase == "Completed", result.results


def test_bindings_follow_the_namespace_mapping(sandbox: Any, tmp_path: Path) -> None:
    subjects = [
        {"kind": "ServiceAccount", "name": "app", "namespace": "shop"},
        {"kind": "ServiceAccount", "name": "ext", "namespace": "other"},
    ]
    role_ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"}
    objects = [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": meta("app-view"),
            "roleRef": role_ref,
            "subjects": subjects,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": meta("shop-view", None),
            "roleRef": role_ref,
            "subjects": subjects,
        },
    ]
    result = restore(sandbox, tmp_path, objects, namespaceMapping={"shop": "shop-dr"})
    binding = sandbox.get("rolebindings.rbac.authorization.k8s.io", "app-view", "shop-dr")
    cluster_binding = sandbox.get("clusterrolebindings.rbac.authorization.k8s.io", "shop-view")
    assert [s["namespace"] for s in binding["subjects"]] == ["shop-dr", "other"]
    assert [s["namespace"] for s in cluster_binding["subjects"]] == ["shop-dr", "other"]
    assert result.phase == "Completed", result.results


def test_missing_storage_class_fails_the_item_with_velero_error(sandbox: Any, tmp_path: Path) -> None:
    claim = next(o for o in backup_objects() if o["kind"] == "PersistentVolumeClaim")
    result = restore(sandbox, tmp_path, [claim], transforms={"storageClassMapping": {"gp2": "fast"}})
    assert result.phase == "PartiallyFailed"
    assert result.results["errors"]["namespaces"]["shop"] == [
        "error preparing persistentvolumeclaims/shop/data: error getting storage class fast from API: "
        'storageclasses.storage.k8s.io "fast" not found'
    ]
    assert sandbox.get("persistentvolumeclaims", "data", "shop") is None
