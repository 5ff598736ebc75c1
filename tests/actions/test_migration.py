"""plans/migration.yaml restored end to end into the sandbox, asserted object by object."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from restoreflow.backup import BackupBuilder
from restoreflow.plan import load_plan
from restoreflow.plan.model import Source, Target
from restoreflow.restore import run_restore

PLAN = Path(__file__).resolve().parents[2] / "plans" / "migration.yaml"


def meta(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": "shop",
        "uid": f"{name}-uid",
        "resourceVersion": "812",
        "creationTimestamp": "2026-11-24T01:00:00Z",
        **extra,
    }


def pod_template(*images: str) -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": "shop"}},
        "spec": {
            "initContainers": [{"name": "migrate", "image": images[1]}],
            "containers": [{"name": "main", "image": images[0]}],
        },
    }


BACKUP = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"team": "shop"}}},
    {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta("web", labels={"app": "shop"}),
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "shop"}},
            "template": pod_template(
                "registry.prod.example/shop/web:1.4", "registry.prod.example/shop/migrate:1.4"
            ),
        },
        "status": {"replicas": 3},
    },
    {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": meta("db"),
        "spec": {
            "replicas": 1,
            "serviceName": "db",
            "selector": {"matchLabels": {"app": "shop"}},
            "template": pod_template("registry.prod.example/postgres:16", "busybox:1.36"),
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "pgdata"},
                    "spec": {
                        "storageClassName": "gp2",
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "10Gi"}},
                    },
                }
            ],
        },
    },
    {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": meta("shop-config"),
        "data": {"ENVIRONMENT": "prod", "LOG_LEVEL": "info"},
    },
    {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": meta("feature-flags"),
        "data": {"ENVIRONMENT": "prod"},
    },
    {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta("web", labels={"app": "shop"}),
        "spec": {
            "type": "NodePort",
            "clusterIP": "10.96.3.7",
            "clusterIPs": ["10.96.3.7"],
            "selector": {"app": "shop"},
            "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080, "nodePort": 30111}],
        },
    },
    {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": meta(
            "uploads",
            annotations={
                "volume.kubernetes.io/selected-node": "node-1",
                "volume.kubernetes.io/storage-provisioner": "ebs.csi.aws.com",
            },
        ),
        "spec": {
            "storageClassName": "gp2",
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "5Gi"}},
        },
        "status": {"phase": "Pending"},
    },
    {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": meta("web-view"),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "ServiceAccount", "name": "web", "namespace": "shop"}],
    },
]


def test_migration_plan(sandbox: Any, tmp_path: Path) -> None:
    storage = str(tmp_path / "bsl")
    BackupBuilder("shop-20261124010000", included_namespaces=["shop"]).add_all(BACKUP).write(storage)
    sandbox.load([{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-a"}}])
    sandbox.configure(pvc_bind_delay=3600)  # claims stay as restored: no controller annotations yet
    plan = load_plan(PLAN)
    spec = dataclasses.replace(
        plan.spec,
        source=Source(storage_location=storage, backup_name="shop-20261124010000"),
        target=Target(kubeconfig=sandbox.kubeconfig),
    )
    result = run_restore(dataclasses.replace(plan, spec=spec), restore_name="shop-migration-1")
    assert result.phase == "Completed", result.results

    assert sandbox.get("namespaces", "shop-v2")["metadata"]["labels"]["team"] == "shop"
    assert sandbox.objects(namespace="shop") == []

    web = sandbox.get("deployments.apps", "web", "shop-v2")
    assert web["spec"]["replicas"] == 2  # resource modifier (JSON Patch, value "2" read as a number)
    assert web["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.new.example/shop/web:1.4"
    assert (
        web["spec"]["template"]["spec"]["initContainers"][0]["image"]
        == "registry.new.example/shop/migrate:1.4"
    )
    assert web["metadata"]["labels"]["velero.io/restore-name"] == "shop-migration-1"

    db = sandbox.get("statefulsets.apps", "db", "shop-v2")
    assert db["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] == "standard"
    assert db["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.new.example/postgres:16"
    assert db["spec"]["template"]["spec"]["initContainers"][0]["image"] == "busybox:1.36"
    assert db["spec"]["replicas"] == 1  # the replicas rule is for deployments only

    assert sandbox.get("configmaps", "shop-config", "shop-v2")["data"] == {
        "ENVIRONMENT": "migrated",
        "LOG_LEVEL": "info",
    }
    assert sandbox.get("configmaps", "feature-flags", "shop-v2")["data"] == {"ENVIRONMENT": "prod"}

    service = sandbox.get("services", "web", "shop-v2")
    assert service["metadata"]["annotations"]["migration.example/source"] == "prod"  # strategic merge patch
    assert service["spec"]["ports"][0]["nodePort"] == 30111  # preserveNodePorts
    assert service["spec"]["clusterIP"] != "10.96.3.7"

    uploads = sandbox.get("persistentvolumeclaims", "uploads", "shop-v2")
    assert uploads["spec"]["storageClassName"] == "standard"
    assert uploads["metadata"]["annotations"]["volume.kubernetes.io/selected-node"] == "node-a"
    assert "volume.kubernetes.io/storage-provisioner" not in uploads["metadata"]["annotations"]

    binding = sandbox.get("rolebindings.rbac.authorization.k8s.io", "web-view", "shop-v2")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "web", "namespace": "shop-v2"}]
