"""Service IP and nodePort allocation; PVC binding, dynamic provisioning and PV phases."""

from __future__ import annotations

import pytest
from kubernetes import client

from restoreflow.sandbox import Sandbox
from tests.sandbox.helpers import api_error, eventually, status_of


def service(
    name: str, kind: str = "ClusterIP", node_port: int | None = None, cluster_ip: str | None = None
) -> dict:
    port: dict = {"name": "http", "port": 80}
    if node_port:
        port["nodePort"] = node_port
    spec: dict = {"type": kind, "selector": {"app": name}, "ports": [port]}
    if cluster_ip:
        spec["clusterIP"] = cluster_ip
    return {"metadata": {"name": name}, "spec": spec}


def test_cluster_ip_allocation_and_defaults(core: client.CoreV1Api) -> None:
    first = core.create_namespaced_service("default", service("a"))
    second = core.create_namespaced_service("default", service("b"))
    assert first.spec.cluster_ip != second.spec.cluster_ip
    assert first.spec.cluster_ip.startswith("10.96.") and first.spec.cluster_ips == [first.spec.cluster_ip]
    assert (first.spec.session_affinity, first.spec.type, first.spec.ip_families) == (
        "None",
        "ClusterIP",
        ["IPv4"],
    )
    assert (first.spec.ports[0].protocol, first.spec.ports[0].target_port) == ("TCP", 80)
    assert first.spec.ports[0].node_port is None


def test_headless_service_keeps_none(core: client.CoreV1Api) -> None:
    headless = core.create_namespaced_service("default", service("db", cluster_ip="None"))
    assert headless.spec.cluster_ip == "None" and headless.spec.cluster_ips == ["None"]


def test_node_ports_are_allocated_from_the_range(core: client.CoreV1Api) -> None:
    node_port = core.create_namespaced_service("default", service("np", "NodePort"))
    balancer = core.create_namespaced_service("default", service("lb", "LoadBalancer"))
    ports = [node_port.spec.ports[0].node_port, balancer.spec.ports[0].node_port]
    assert all(30000 <= p <= 32767 for p in ports) and ports[0] != ports[1]
    assert node_port.spec.external_traffic_policy == "Cluster"
    assert balancer.spec.allocate_load_balancer_node_ports is True


def test_node_port_already_allocated(core: client.CoreV1Api) -> None:
    core.create_namespaced_service("default", service("first", "NodePort", node_port=30080))
    error = api_error(
        lambda: core.create_namespaced_service("default", service("second", "NodePort", node_port=30080))
    )
    status = status_of(error)
    assert (error.status, status["reason"]) == (422, "Invalid")
    assert status["message"] == (
        'Service "second" is invalid: '
        "spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated"
    )
    assert status["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "message": "Invalid value: 30080: provided port is already allocated",
            "field": "spec.ports[0].nodePort",
        }
    ]


def test_recreating_a_service_with_its_own_node_port_is_invalid_not_already_exists(
    core: client.CoreV1Api,
) -> None:
    """Ports are allocated before the object is stored, as on a real API server (Velero #2308)."""
    core.create_namespaced_service("default", service("web", "NodePort", node_port=30081))
    error = api_error(
        lambda: core.create_namespaced_service("default", service("web", "NodePort", node_port=30081))
    )
    assert (error.status, status_of(error)["reason"]) == (422, "Invalid")
    assert status_of(error)["message"] == (
        'Service "web" is invalid: '
        "spec.ports[0].nodePort: Invalid value: 30081: provided port is already allocated"
    )
    again = api_error(lambda: core.create_namespaced_service("default", service("web", "NodePort")))
    assert (again.status, status_of(again)["reason"]) == (409, "AlreadyExists")


def test_node_port_out_of_range(core: client.CoreV1Api) -> None:
    error = api_error(
        lambda: core.create_namespaced_service("default", service("far", "NodePort", node_port=40000))
    )
    assert status_of(error)["message"] == (
        'Service "far" is invalid: spec.ports[0].nodePort: Invalid value: 40000: '
        "provided port is not in the valid "
        "range. The range of valid ports is 30000-32767"
    )


@pytest.mark.sandbox(node_port_range="31000-31001")
def test_node_port_range_is_configurable_and_ports_are_released(core: client.CoreV1Api) -> None:
    core.create_namespaced_service("default", service("a", "NodePort", node_port=31000))
    b = core.create_namespaced_service("default", service("b", "NodePort"))
    assert b.spec.ports[0].node_port == 31001
    core.delete_namespaced_service("a", "default")
    assert (
        core.create_namespaced_service("default", service("c", "NodePort", node_port=31000))
        .spec.ports[0]
        .node_port
        == 31000
    )


def test_cluster_ip_in_use(core: client.CoreV1Api) -> None:
    taken = core.create_namespaced_service("default", service("a")).spec.cluster_ip
    error = api_error(lambda: core.create_namespaced_service("default", service("b", cluster_ip=taken)))
    assert status_of(error)["message"] == (
        f'Service "b" is invalid: spec.clusterIPs: Invalid value: ["{taken}"]: '
        f"failed to allocate IP {taken}: provided IP is already allocated"
    )


def claim(name: str, storage_class: str | None = None, volume: str | None = None) -> dict:
    spec: dict = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    if storage_class is not None:
        spec["storageClassName"] = storage_class
    if volume:
        spec["volumeName"] = volume
    return {"metadata": {"name": name}, "spec": spec}


def volume(name: str, claim_ref: dict | None = None, reclaim: str = "Retain") -> dict:
    spec: dict = {
        "capacity": {"storage": "1Gi"},
        "accessModes": ["ReadWriteOnce"],
        "persistentVolumeReclaimPolicy": reclaim,
        "storageClassName": "",
        "hostPath": {"path": f"/data/{name}"},
    }
    if claim_ref:
        spec["claimRef"] = claim_ref
    return {"metadata": {"name": name}, "spec": spec}


def test_default_storage_class_provisions_and_binds(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_persistent_volume_claim("default", claim("data"))
    assert created.spec.storage_class_name == "standard" and created.status.phase == "Pending"
    assert created.metadata.finalizers == ["kubernetes.io/pvc-protection"]
    bound = eventually(
        lambda: (
            (c := core.read_namespaced_persistent_volume_claim("data", "default")).status.phase == "Bound"
            and c
        )
    )
    pv = core.read_persistent_volume(bound.spec.volume_name)
    assert bound.spec.volume_name == f"pvc-{created.metadata.uid}"
    assert bound.metadata.annotations["pv.kubernetes.io/bind-completed"] == "yes"
    assert bound.metadata.annotations["pv.kubernetes.io/bound-by-controller"] == "yes"
    assert bound.metadata.annotations["volume.kubernetes.io/storage-provisioner"] == "rancher.io/local-path"
    assert bound.status.capacity == {"storage": "1Gi"} and bound.status.access_modes == ["ReadWriteOnce"]
    assert pv.status.phase == "Bound" and pv.spec.claim_ref.uid == created.metadata.uid
    assert pv.metadata.annotations["pv.kubernetes.io/provisioned-by"] == "rancher.io/local-path"
    assert pv.spec.persistent_volume_reclaim_policy == "Delete"


def test_claim_with_volume_name_binds_to_that_volume(core: client.CoreV1Api) -> None:
    core.create_persistent_volume(volume("pv-1"))
    eventually(lambda: core.read_persistent_volume("pv-1").status.phase == "Available")
    core.create_namespaced_persistent_volume_claim("default", claim("data", storage_class="", volume="pv-1"))
    eventually(
        lambda: core.read_namespaced_persistent_volume_claim("data", "default").status.phase == "Bound"
    )
    pv = core.read_persistent_volume("pv-1")
    assert pv.status.phase == "Bound" and pv.spec.claim_ref.name == "data"
    assert pv.metadata.annotations["pv.kubernetes.io/bound-by-controller"] == "yes"


def test_claim_of_a_missing_volume_waits_then_binds(core: client.CoreV1Api) -> None:
    core.create_namespaced_persistent_volume_claim("default", claim("data", storage_class="", volume="later"))
    core.create_persistent_volume(volume("later", claim_ref={"namespace": "default", "name": "data"}))
    bound = eventually(
        lambda: (
            (c := core.read_namespaced_persistent_volume_claim("data", "default")).status.phase == "Bound"
            and c
        )
    )
    assert bound.spec.volume_name == "later"


def test_volume_whose_claim_is_gone_is_released(core: client.CoreV1Api) -> None:
    ref = {"namespace": "default", "name": "gone", "uid": "0e6f7a48-0000-4000-8000-000000000000"}
    core.create_persistent_volume(volume("orphan", claim_ref=ref))
    assert eventually(lambda: core.read_persistent_volume("orphan").status.phase) in ("Released", "Pending")
    eventually(lambda: core.read_persistent_volume("orphan").status.phase == "Released")


def test_deleting_a_bound_claim_releases_or_deletes_its_volume(
    sandbox: Sandbox, core: client.CoreV1Api
) -> None:
    core.create_persistent_volume(volume("kept"))
    core.create_namespaced_persistent_volume_claim("default", claim("a", storage_class="", volume="kept"))
    core.create_namespaced_persistent_volume_claim("default", claim("b"))
    eventually(lambda: core.read_namespaced_persistent_volume_claim("a", "default").status.phase == "Bound")
    dynamic_pv = eventually(
        lambda: core.read_namespaced_persistent_volume_claim("b", "default").spec.volume_name
    )
    core.delete_namespaced_persistent_volume_claim("a", "default")
    core.delete_namespaced_persistent_volume_claim("b", "default")
    eventually(lambda: sandbox.get("persistentvolumeclaims", "a", "default") is None)
    eventually(lambda: core.read_persistent_volume("kept").status.phase == "Released")
    eventually(lambda: sandbox.get("persistentvolumes", dynamic_pv) is None)


def test_claim_without_a_class_stays_pending(core: client.CoreV1Api) -> None:
    core.create_namespaced_persistent_volume_claim("default", claim("manual", storage_class="manual"))
    core.create_namespaced_persistent_volume_claim("default", claim("other", storage_class="standard"))
    eventually(
        lambda: core.read_namespaced_persistent_volume_claim("other", "default").status.phase == "Bound"
    )
    assert core.read_namespaced_persistent_volume_claim("manual", "default").status.phase == "Pending"


def test_claim_spec_is_immutable_except_requests(core: client.CoreV1Api) -> None:
    core.create_namespaced_persistent_volume_claim("default", claim("data"))
    bigger = {"spec": {"resources": {"requests": {"storage": "2Gi"}}}}
    assert core.patch_namespaced_persistent_volume_claim(
        "data", "default", bigger
    ).spec.resources.requests == {"storage": "2Gi"}
    error = api_error(
        lambda: core.patch_namespaced_persistent_volume_claim(
            "data", "default", {"spec": {"storageClassName": "x"}}
        )
    )
    assert status_of(error)["message"] == (
        'PersistentVolumeClaim "data" is invalid: spec: Forbidden: spec is immutable after creation except '
        "resources.requests and volumeAttributesClassName for bound claims"
    )


def test_strategic_merge_of_service_ports_by_port(core: client.CoreV1Api) -> None:
    body = service("web")
    body["spec"]["ports"].append({"name": "https", "port": 443})
    core.create_namespaced_service("default", body)
    patched = core.patch_namespaced_service(
        "web", "default", {"spec": {"ports": [{"port": 443, "targetPort": 8443}]}}
    )
    assert [(p.port, p.target_port) for p in patched.spec.ports] == [(80, 80), (443, 8443)]
