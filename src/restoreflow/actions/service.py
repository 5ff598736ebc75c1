"""`velero.io/service`: cluster IPs and auto-assigned node ports are left to the target cluster.

- `clusterIP`/`clusterIPs` are removed unless the Service is headless (`None`).
- With `preserveNodePorts` every nodePort and healthCheckNodePort is kept.
- Otherwise a nodePort is kept only if it was explicitly specified: through the
  `kubectl.kubernetes.io/last-applied-configuration` annotation when it exists (named ports by
  name, unnamed ports by value), else through managedFields (`f:nodePort` under
  `k:{"port":P,"protocol":"PROTO"}`). healthCheckNodePort (LoadBalancer + Local policy only) is kept
  when the annotation sets it non-zero or a managedFields entry owns it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from restoreflow.actions.base import ActionError, ActionInput, ActionResult, AppliesTo
from restoreflow.kube.fields import nested, nested_dict, nested_list, object_annotations

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


class ServiceAction:
    name = "velero.io/service"

    def applies_to(self) -> AppliesTo:
        return AppliesTo(included_resources=("services",))

    def execute(self, action_input: ActionInput) -> ActionResult:
        service = action_input.item
        spec = nested_dict(service, "spec")
        if spec.get("clusterIP") != "None":
            spec.pop("clusterIP", None)
            spec.pop("clusterIPs", None)
        if not action_input.restore.plan.spec.preserve_node_ports:
            applied = _last_applied(service)
            _delete_node_ports(service, spec, applied)
            _delete_health_check_node_port(service, spec, applied)
        return ActionResult(item=service)


def _last_applied(service: Mapping[str, Any]) -> dict[str, Any] | None:
    """The parsed annotation, None when absent; an unparsable one fails the item (as in Velero)."""
    text = object_annotations(service).get(LAST_APPLIED)
    if text is None:
        return None
    try:
        applied = json.loads(text)
    except ValueError as error:
        raise ActionError(f"invalid {LAST_APPLIED} annotation: {error}") from None
    return applied if isinstance(applied, dict) else {}


def _node_port_number(value: Any) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            raise ActionError(f'strconv.Atoi: parsing "{value}": invalid syntax') from None
    return 0


def _delete_node_ports(
    service: Mapping[str, Any], spec: dict[str, Any], applied: dict[str, Any] | None
) -> None:
    if spec.get("type") == "ExternalName":
        return
    ports = [p for p in nested_list(spec, "ports") if isinstance(p, dict)]
    if applied is not None:
        named, unnamed = set(), set()
        for port in nested_list(applied, "spec", "ports"):
            if isinstance(port, dict) and "nodePort" in port and _node_port_number(port["nodePort"]) > 0:
                if "name" in port:
                    named.add(port["name"])
                else:
                    unnamed.add(_node_port_number(port["nodePort"]))
        for port in ports:
            keep = port["name"] in named if port.get("name") else port.get("nodePort", 0) in unnamed
            if not keep:
                port.pop("nodePort", None)
        return
    owned = set()
    for fields in _managed_fields(service):
        for key, value in nested_dict(fields, "f:spec", "f:ports").items():
            if isinstance(value, dict) and "f:nodePort" in value:
                owned.add(key)
    for port in ports:
        key = f'k:{{"port":{port.get("port", 0)},"protocol":"{port.get("protocol", "")}"}}'
        if key not in owned:
            port.pop("nodePort", None)


def _delete_health_check_node_port(
    service: Mapping[str, Any], spec: dict[str, Any], applied: dict[str, Any] | None
) -> None:
    if spec.get("type") != "LoadBalancer" or spec.get("externalTrafficPolicy") != "Local":
        return
    if not spec.get("healthCheckNodePort"):
        return
    if applied is not None and nested(applied, "spec", "healthCheckNodePort"):
        return
    if any(isinstance(nested(f, "f:spec", "f:healthCheckNodePort"), dict) for f in _managed_fields(service)):
        return
    del spec["healthCheckNodePort"]


def _managed_fields(service: Mapping[str, Any]) -> list[dict[str, Any]]:
    entries = nested_list(service, "metadata", "managedFields")
    return [e["fieldsV1"] for e in entries if isinstance(e, dict) and isinstance(e.get("fieldsV1"), dict)]
