"""Restores through the real client into both targets: the sandbox and the real kube-apiserver.

Every test runs twice (`kube_target` is `sandbox` or `real`); names are unique per test so that tests
share one real control plane without restarts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from restoreflow.backup import BackupStorage
from restoreflow.cluster.client import wait_until
from restoreflow.controlplane.pytest_plugin import KubeTarget
from restoreflow.plan.model import IncludesExcludes, Transforms
from restoreflow.restore import run_restore
from tests.engine.helpers import (
    BACKUP,
    configmap,
    deployment,
    kube_object,
    make_plan,
    namespace,
    secret,
    write_backup,
)

DIFFERENT = (
    'could not restore, ConfigMap "settings" already exists. '
    "Warning: the in-cluster version is different than the backed-up version"
)


def service(name: str, ns: str, node_port: int | None = None, **kw: Any) -> dict[str, Any]:
    port: dict[str, Any] = {"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}
    spec: dict[str, Any] = {"type": "ClusterIP", "selector": {"app": name}, "clusterIP": "10.96.200.10",
                            "clusterIPs": ["10.96.200.10"], "ports": [port]}  # fmt: skip
    if node_port is not None:
        spec["type"] = "NodePort"
        port["nodePort"] = node_port
    return kube_object("v1", "Service", name, ns, spec=spec, **kw)


def claim(name: str, ns: str, storage_class: str, volume: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "1Gi"}},
        "storageClassName": storage_class,
        "volumeMode": "Filesystem",
    }
    if volume:
        spec["volumeName"] = volume
    return kube_object("v1", "PersistentVolumeClaim", name, ns, spec=spec, status={"phase": "Bound"})


def restore(target: KubeTarget, tmp_path: Path, objects: list[dict[str, Any]], name: str, **spec: Any):
    tmp_path.mkdir(parents=True, exist_ok=True)
    location, _ = write_backup(tmp_path, objects)
    return location, run_restore(make_plan(target, location, **spec), restore_name=name)


def test_a_restore_creates_every_item_with_velero_labels(kube_target: KubeTarget, tmp_path: Path) -> None:
    ns = kube_target.name("shop")
    objects = [
        namespace(ns, labels={"team": "web"}),
        configmap("settings", ns, labels={"app": "shop"}),
        secret("db", ns),
        deployment("web", ns),
    ]
    location, result = restore(kube_target, tmp_path, objects, "r1")

    assert result.phase == "Completed", result.results
    assert result.counts == {"created": 4, "updated": 0, "skipped": 0, "failed": 0}
    cm = kube_target.get("configmaps", "settings", ns)
    assert cm["metadata"]["labels"] == {
        "app": "shop",
        "velero.io/backup-name": BACKUP,
        "velero.io/restore-name": "r1",
    }
    assert cm["metadata"]["creationTimestamp"] != "2026-11-20T10:00:00Z"
    assert kube_target.get("namespaces", ns)["metadata"]["labels"]["team"] == "web"
    assert kube_target.get("secrets", "db", ns)["data"] == {"password": "czNjcjN0"}
    record = BackupStorage.open(location).restores.get("r1")
    assert record["status"]["phase"] == "Completed"


def test_the_restored_deployment_becomes_available(kube_target: KubeTarget, tmp_path: Path) -> None:
    """Controllers and the scheduler (or their sandbox stand-ins) bring restored workloads up."""
    ns = kube_target.name("web")
    _, result = restore(kube_target, tmp_path, [namespace(ns), deployment("web", ns)], "rollout")
    assert result.phase == "Completed", result.results

    def available() -> bool:
        status = (kube_target.get("deployments.apps", "web", ns) or {}).get("status") or {}
        return status.get("availableReplicas") == 1

    assert wait_until(available, 60, 0.2)


def test_identical_objects_are_skipped_and_different_ones_warn(
    kube_target: KubeTarget, tmp_path: Path
) -> None:
    ns = kube_target.name("shop")
    objects = [namespace(ns), configmap("settings", ns, data={"mode": "prod"})]
    location, first = restore(kube_target, tmp_path, objects, "first")
    assert first.counts["created"] == 2

    again = run_restore(make_plan(kube_target, location), restore_name="again")
    assert again.results == {"warnings": {}, "errors": {}}
    assert again.resource_list["v1/ConfigMap"] == [f"{ns}/settings(skipped)"]

    kube_target.cluster.patch("configmaps", "settings", {"data": {"mode": "dev"}}, ns)
    third = run_restore(make_plan(kube_target, location), restore_name="third")
    assert third.results["warnings"] == {"namespaces": {ns: [DIFFERENT]}}
    assert kube_target.get("configmaps", "settings", ns)["data"] == {"mode": "dev"}


def test_update_policy_patches_the_live_object(kube_target: KubeTarget, tmp_path: Path) -> None:
    ns = kube_target.name("shop")
    objects = [namespace(ns), configmap("settings", ns, data={"mode": "prod"})]
    location, _ = restore(kube_target, tmp_path, objects, "first")
    kube_target.cluster.patch("configmaps", "settings", {"data": {"mode": "dev", "extra": "x"}}, ns)

    result = run_restore(
        make_plan(kube_target, location, existing_resource_policy="update"), restore_name="upd"
    )
    assert result.phase == "Completed", result.results
    assert result.resource_list["v1/ConfigMap"] == [f"{ns}/settings(updated)"]
    cm = kube_target.get("configmaps", "settings", ns)
    assert cm["data"] == {"mode": "prod"}
    assert cm["metadata"]["labels"]["velero.io/restore-name"] == "upd"


def test_namespace_mapping_moves_items(kube_target: KubeTarget, tmp_path: Path) -> None:
    source, mapped = kube_target.name("prod"), kube_target.name("drill")
    objects = [namespace(source), configmap("settings", source), secret("db", source)]
    _, result = restore(kube_target, tmp_path, objects, "mapped", namespace_mapping={source: mapped})

    assert result.phase == "Completed", result.results
    assert kube_target.get("configmaps", "settings", mapped) is not None
    assert kube_target.get("namespaces", source) is None


def test_a_crd_and_its_custom_resources_in_one_restore(kube_target: KubeTarget, tmp_path: Path) -> None:
    """The CRD is created first, the restore waits until it is Established and served, then its objects."""
    group = f"{kube_target.name('g')}.example.com"
    ns = kube_target.name("crs")
    schema = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
    crd = kube_object(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        f"widgets.{group}",
        spec={
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
            "versions": [{"name": "v1", "served": True, "storage": True, "schema": schema}],
        },
        status={"conditions": [{"type": "Established", "status": "True"}]},
    )
    widgets = [kube_object(f"{group}/v1", "Widget", f"w{i}", ns, spec={"size": i}) for i in range(3)]
    _, result = restore(kube_target, tmp_path, [crd, namespace(ns), *widgets], "crds")

    assert result.phase == "Completed", result.results
    assert result.counts["created"] == 5
    assert kube_target.get(f"widgets.{group}", "w2", ns)["spec"] == {"size": 2}


def status_crd(group: str, plural: str, kind: str) -> dict[str, Any]:
    """A namespaced CRD whose v1 has a status subresource (a create then drops the status)."""
    schema = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
    version = {
        "name": "v1",
        "served": True,
        "storage": True,
        "schema": schema,
        "subresources": {"status": {}},
    }
    names = {"plural": plural, "singular": kind.lower(), "kind": kind, "listKind": f"{kind}List"}
    return kube_object(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        f"{plural}.{group}",
        spec={"group": group, "scope": "Namespaced", "names": names, "versions": [version]},
        status={"conditions": [{"type": "Established", "status": "True"}]},
    )


def test_status_is_restored_for_the_resources_restore_status_names(
    kube_target: KubeTarget, tmp_path: Path
) -> None:
    """Velero's restoreStatus: the status of the resources it names is written back after the create
    (which drops it); the status of the others is left to the cluster."""
    group, ns = f"{kube_target.name('s')}.example.com", kube_target.name("status")
    status = {"ready": True, "seen": 3}
    objects = [
        status_crd(group, "gadgets", "Gadget"),
        status_crd(group, "gizmos", "Gizmo"),
        namespace(ns),
        kube_object(f"{group}/v1", "Gadget", "g1", ns, spec={"size": 1}, status=status),
        kube_object(f"{group}/v1", "Gizmo", "z1", ns, spec={"size": 1}, status=status),
    ]
    included = IncludesExcludes(included_resources=(f"gadgets.{group}",))
    _, result = restore(kube_target, tmp_path, objects, "status", restore_status=included)

    assert result.phase == "Completed", result.results
    assert kube_target.get(f"gadgets.{group}", "g1", ns)["status"] == status
    assert "status" not in kube_target.get(f"gizmos.{group}", "z1", ns)


def test_a_retained_volume_and_its_claim_bind_again_in_the_mapped_namespace(
    kube_target: KubeTarget, tmp_path: Path
) -> None:
    """A Retain PV without a snapshot is restored as it was, its claimRef remapped and its binding
    info reset (Velero's resetVolumeBindingInfo), so that the cluster's binder binds it to the
    restored claim: on kube-apiserver, kube-controller-manager's binder decides."""
    ns, volume = kube_target.name("static"), kube_target.name("pv")
    bound = {"pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes"}
    pv = kube_object("v1", "PersistentVolume", volume, annotations=bound, status={"phase": "Bound"}, spec={
        "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "manual",
        "persistentVolumeReclaimPolicy": "Retain", "hostPath": {"path": f"/tmp/{volume}"},
        "claimRef": {"kind": "PersistentVolumeClaim", "namespace": "shop", "name": "data",
                     "uid": "0f1e2d3c-0000-4000-8000-000000000001", "resourceVersion": "7"},
    })  # fmt: skip
    claim_spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
                  "storageClassName": "manual", "volumeName": volume, "volumeMode": "Filesystem"}  # fmt: skip
    claim = kube_object("v1", "PersistentVolumeClaim", "data", "shop", annotations=bound, spec=claim_spec,
                        status={"phase": "Bound"})  # fmt: skip
    _, result = restore(
        kube_target, tmp_path, [namespace("shop"), pv, claim], "static", namespace_mapping={"shop": ns}
    )

    assert result.phase == "Completed", result.results

    def bound_again() -> bool:
        live = kube_target.get("persistentvolumeclaims", "data", ns) or {}
        return (live.get("status") or {}).get("phase") == "Bound"

    assert wait_until(bound_again, 60, 0.2)
    live_pv = kube_target.get("persistentvolumes", volume)
    live_claim = kube_target.get("persistentvolumeclaims", "data", ns)
    assert live_pv["spec"]["claimRef"]["namespace"] == ns
    assert live_pv["spec"]["claimRef"]["uid"] == live_claim["metadata"]["uid"]
    assert live_claim["spec"]["volumeName"] == volume


def test_a_running_job_is_restored_with_a_selector_the_server_generates(
    kube_target: KubeTarget, tmp_path: Path
) -> None:
    """A Job as kube-apiserver returns it names its old uid in its selector and pod labels; Velero's
    job action drops them, or the server would refuse the Job (the uid is not the new one)."""
    ns, old_uid = kube_target.name("jobs"), "9a8b7c6d-0000-4000-8000-000000000002"
    uid_labels = {"batch.kubernetes.io/controller-uid": old_uid, "controller-uid": old_uid}
    name_labels = {"batch.kubernetes.io/job-name": "migrate", "job-name": "migrate"}
    container = {"name": "migrate", "image": "busybox:1.36", "command": ["sleep", "3600"]}
    job = kube_object("batch/v1", "Job", "migrate", ns, labels={**uid_labels, **name_labels}, spec={
        "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": old_uid}},
        "template": {"metadata": {"labels": {**uid_labels, **name_labels}},
                     "spec": {"containers": [container], "restartPolicy": "Never"}},
        "backoffLimit": 1,
    }, status={"active": 1, "startTime": "2026-11-20T10:00:00Z"})  # fmt: skip
    _, result = restore(kube_target, tmp_path, [namespace(ns), job], "job")

    assert result.phase == "Completed", result.results
    live = kube_target.get("jobs.batch", "migrate", ns)
    new_uid = live["metadata"]["uid"]
    assert new_uid != old_uid
    assert live["spec"]["selector"]["matchLabels"] == {"batch.kubernetes.io/controller-uid": new_uid}
    assert live["spec"]["template"]["metadata"]["labels"]["controller-uid"] == new_uid


def test_services_get_new_cluster_ips_and_keep_node_ports_when_asked(
    kube_target: KubeTarget, tmp_path: Path
) -> None:
    ns = kube_target.name("svc")
    port = 30000 + int(ns[-4:], 16) % 2700
    objects = [namespace(ns), service("web", ns, node_port=port), service("api", ns)]
    _, result = restore(kube_target, tmp_path, objects, "svcs", preserve_node_ports=True)

    assert result.phase == "Completed", result.results
    web, api = kube_target.get("services", "web", ns), kube_target.get("services", "api", ns)
    assert web["spec"]["ports"][0]["nodePort"] == port
    assert api["spec"]["clusterIP"] != "10.96.200.10"  # reset: the server allocated a new one


def test_a_taken_node_port_is_an_item_error_with_the_servers_message(
    kube_target: KubeTarget, tmp_path: Path
) -> None:
    ns, other = kube_target.name("svc"), kube_target.name("other")
    port = 30000 + int(ns[-4:], 16) % 2700
    holder = [namespace(other), service("holder", other, node_port=port)]
    restore(kube_target, tmp_path / "a", holder, "holder", preserve_node_ports=True)
    taken = [namespace(ns), service("web", ns, node_port=port)]
    _, result = restore(kube_target, tmp_path / "b", taken, "taken", preserve_node_ports=True)

    assert result.phase == "PartiallyFailed"
    [error] = result.results["errors"]["namespaces"][ns]
    assert "provided port is already allocated" in error
    assert result.resource_list["v1/Service"] == [f"{ns}/web(failed)"]


def test_a_claim_is_provisioned_and_bound_in_the_mapped_storage_class(
    kube_target: KubeTarget, tmp_path: Path
) -> None:
    ns = kube_target.name("data")
    objects = [namespace(ns), claim("data", ns, "gp2")]
    mapping = Transforms(storage_class_mapping={"gp2": "standard"})
    _, result = restore(kube_target, tmp_path, objects, "claims", transforms=mapping)
    assert result.phase == "Completed", result.results

    def bound() -> bool:
        pvc = kube_target.get("persistentvolumeclaims", "data", ns) or {}
        return (pvc.get("status") or {}).get("phase") == "Bound"

    assert wait_until(bound, 60, 0.2)
    pvc = kube_target.get("persistentvolumeclaims", "data", ns)
    assert pvc["spec"]["storageClassName"] == "standard"
    volume = kube_target.get("persistentvolumes", pvc["spec"]["volumeName"])
    assert volume["spec"]["claimRef"]["name"] == "data"


def test_the_default_service_account_is_merged_into_the_one_the_cluster_made(
    kube_target: KubeTarget, tmp_path: Path
) -> None:
    """A new namespace gets its `default` ServiceAccount from a controller (kube-controller-manager, or
    the sandbox's stand-in) while the restore runs; the backed-up one is merged into it, not failed."""
    ns = kube_target.name("shop")
    backed_up = kube_object("v1", "ServiceAccount", "default", ns, imagePullSecrets=[{"name": "pull"}])
    _, result = restore(kube_target, tmp_path, [namespace(ns), backed_up, configmap("settings", ns)], "sa")

    assert result.phase == "Completed", result.results
    assert result.results["warnings"] == {}
    assert result.resource_list["v1/ServiceAccount"] in (
        [f"{ns}/default(updated)"],
        [f"{ns}/default(created)"],
    )
    assert kube_target.get("serviceaccounts", "default", ns)["imagePullSecrets"] == [{"name": "pull"}]


def test_role_binding_subjects_follow_the_namespace_mapping(kube_target: KubeTarget, tmp_path: Path) -> None:
    source, mapped = kube_target.name("prod"), kube_target.name("drill")
    binding = kube_object(
        "rbac.authorization.k8s.io/v1",
        "RoleBinding",
        "readers",
        source,
        roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        subjects=[{"kind": "ServiceAccount", "name": "reader", "namespace": source}],
    )
    _, result = restore(
        kube_target, tmp_path, [namespace(source), binding], "rb", namespace_mapping={source: mapped}
    )

    assert result.phase == "Completed", result.results
    live = kube_target.get("rolebindings.rbac.authorization.k8s.io", "readers", mapped)
    assert live["subjects"] == [{"kind": "ServiceAccount", "name": "reader", "namespace": mapped}]
