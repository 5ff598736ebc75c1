"""velero.io/service: the cases of Velero's service_action_test.go."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from restoreflow.actions.base import ActionError
from restoreflow.actions.service import LAST_APPLIED, ServiceAction
from tests.actions.views import View, make_plan, run


def service(
    ports: list[dict[str, Any]] | None = None,
    *,
    annotation: Any = None,
    managed: list[dict[str, Any]] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "svc-1", "namespace": "ns-1"}
    if annotation is not None:
        text = annotation if isinstance(annotation, str) else json.dumps(annotation)
        metadata["annotations"] = {LAST_APPLIED: text}
    if managed is not None:
        metadata["managedFields"] = [{"manager": "kubectl", "fieldsV1": f} for f in managed]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata,
        "spec": {"ports": ports or [], **spec},
    }


def applied(*ports: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "spec": {"ports": list(ports), **spec}}


def restored(item: dict[str, Any], preserve: bool = False) -> dict[str, Any]:
    return run(ServiceAction(), item, view=View(make_plan(preserve_node_ports=preserve))).item


def node_ports(item: dict[str, Any]) -> list[int | None]:
    return [p.get("nodePort") for p in item["spec"]["ports"]]


def test_cluster_ip_and_cluster_ips_are_removed() -> None:
    spec = restored(service(clusterIP="10.0.0.7", clusterIPs=["10.0.0.7"]))["spec"]
    assert "clusterIP" not in spec and "clusterIPs" not in spec


def test_headless_cluster_ip_is_kept() -> None:
    assert restored(service(clusterIP="None"))["spec"]["clusterIP"] == "None"


def test_without_annotation_or_managed_fields_every_node_port_is_removed() -> None:
    item = service([{"port": 80, "nodePort": 30001}, {"name": "b", "port": 81, "nodePort": 30002}])
    assert node_ports(restored(item)) == [None, None]


@pytest.mark.parametrize(
    ("annotation", "ports", "expected"),
    [
        pytest.param(applied(), [{"port": 80, "nodePort": 8080}], [None], id="annotation-without-ports"),
        pytest.param(
            applied({"port": 80, "nodePort": 8080}),
            [{"port": 80, "nodePort": 8080}, {"port": 81, "nodePort": 9090}],
            [8080, None],
            id="unnamed-explicit-kept-other-removed",
        ),
        pytest.param(
            applied({"name": "http", "nodePort": 8080}),
            [{"port": 80, "nodePort": 8080}],
            [None],
            id="named-in-annotation-unnamed-in-service",
        ),
        pytest.param(
            applied({"name": "http", "nodePort": "8080"}),
            [{"port": 80, "nodePort": 8080}],
            [None],
            id="string-node-port",
        ),
        pytest.param(
            applied({"name": "http", "nodePort": 8080}),
            [{"name": "http", "port": 80, "nodePort": 8080}, {"name": "admin", "port": 81, "nodePort": 9090}],
            [8080, None],
            id="named-explicit-kept-other-removed",
        ),
        pytest.param(
            applied({"name": "http", "nodePort": 0}),
            [{"name": "http", "port": 80, "nodePort": 31000}],
            [None],
            id="zero-node-port-is-not-explicit",
        ),
    ],
)
def test_last_applied_annotation_decides(annotation: Any, ports: list[dict], expected: list) -> None:
    assert node_ports(restored(service(ports, annotation=annotation, type="NodePort"))) == expected


def test_annotation_wins_over_managed_fields() -> None:
    managed = [{"f:spec": {"f:ports": {'k:{"port":80,"protocol":"TCP"}': {"f:nodePort": {}}}}}]
    item = service(
        [{"port": 80, "protocol": "TCP", "nodePort": 30000}], annotation=applied(), managed=managed
    )
    assert node_ports(restored(item)) == [None]


def test_unparsable_annotation_fails_the_item() -> None:
    with pytest.raises(ActionError, match="last-applied-configuration"):
        restored(service([{"port": 80, "nodePort": 30000}], annotation="{not json"))


def test_non_numeric_string_node_port_fails_the_item() -> None:
    with pytest.raises(ActionError, match=re.escape('strconv.Atoi: parsing "abc": invalid syntax')):
        restored(service([{"port": 80, "nodePort": 30000}], annotation=applied({"nodePort": "abc"})))


def test_preserve_node_ports_keeps_every_node_port() -> None:
    item = service([{"port": 80, "nodePort": 30000}, {"port": 81, "nodePort": 30001}])
    assert node_ports(restored(item, preserve=True)) == [30000, 30001]


def test_managed_fields_without_node_port_remove_it() -> None:
    managed = [{"f:spec": {"f:ports": {'k:{"port":80,"protocol":"TCP"}': {"f:port": {}}}}}]
    item = service([{"port": 80, "protocol": "TCP", "nodePort": 30000}], managed=managed)
    assert node_ports(restored(item)) == [None]


def test_managed_fields_with_node_port_keep_it() -> None:
    owned = {"f:nodePort": {}, "f:port": {}}
    managed = [
        {"f:spec": {"f:ports": {'k:{"port":80,"protocol":"TCP"}': owned}}},
        {"f:spec": {"f:ports": {'k:{"port":443,"protocol":"TCP"}': owned}}},
    ]
    ports = [
        {"port": 80, "protocol": "TCP", "nodePort": 30000},
        {"port": 8080, "protocol": "TCP", "nodePort": 30001},
        {"port": 443, "protocol": "TCP", "nodePort": 30002},
    ]
    assert node_ports(restored(service(ports, managed=managed))) == [30000, None, 30002]


def test_external_name_service_is_left_alone() -> None:
    item = service([{"port": 80, "nodePort": 30000}], type="ExternalName", externalName="example.com")
    assert node_ports(restored(item)) == [30000]


def health_check_service(**kw: Any) -> dict[str, Any]:
    spec = {"type": "LoadBalancer", "externalTrafficPolicy": "Local", "healthCheckNodePort": 8080}
    return service([{"port": 80}], **{**spec, **kw})


@pytest.mark.parametrize(
    ("item", "preserve", "kept"),
    [
        pytest.param(health_check_service(), True, True, id="preserve-node-ports"),
        pytest.param(health_check_service(externalTrafficPolicy="Cluster"), False, True, id="policy-cluster"),
        pytest.param(
            health_check_service(annotation=applied(healthCheckNodePort=8080)),
            False,
            True,
            id="in-annotation",
        ),
        pytest.param(
            health_check_service(managed=[{"f:spec": {"f:healthCheckNodePort": {}}}]),
            False,
            True,
            id="in-managed-fields",
        ),
        pytest.param(
            health_check_service(annotation=applied(healthCheckNodePort=None)),
            False,
            False,
            id="null-in-annotation",
        ),
        pytest.param(health_check_service(), False, False, id="auto-assigned"),
    ],
)
def test_health_check_node_port(item: dict[str, Any], preserve: bool, kept: bool) -> None:
    assert ("healthCheckNodePort" in restored(item, preserve)["spec"]) is kept
