"""Structural pruning of custom resources: fields their CRD's schema does not declare are dropped on
write, unless the schema says `x-kubernetes-preserve-unknown-fields: true`, as the API server does."""

from __future__ import annotations

from typing import Any

KEPT_AT_ROOT = ("apiVersion", "kind", "metadata")


def version_schema(crd: dict[str, Any] | None, version: str) -> dict[str, Any] | None:
    """The openAPIV3Schema of one version of a CRD (None: nothing to prune by)."""
    spec = (crd or {}).get("spec") or {}
    for entry in spec.get("versions") or []:
        if entry.get("name") == version:
            return (entry.get("schema") or spec.get("validation") or {}).get("openAPIV3Schema")
    return None


def prune_object(obj: dict[str, Any], schema: dict[str, Any] | None) -> dict[str, Any]:
    if not isinstance(schema, dict):
        return obj
    body = {k: v for k, v in obj.items() if k not in KEPT_AT_ROOT}
    pruned = prune(body, schema)
    return {**{k: obj[k] for k in KEPT_AT_ROOT if k in obj}, **(pruned if isinstance(pruned, dict) else {})}


def prune(value: Any, schema: dict[str, Any]) -> Any:
    if isinstance(value, list):
        items = schema.get("items")
        return [prune(v, items) for v in value] if isinstance(items, dict) else value
    if not isinstance(value, dict):
        return value
    preserve = schema.get("x-kubernetes-preserve-unknown-fields") is True
    embedded = schema.get("x-kubernetes-embedded-resource") is True
    properties = schema.get("properties") or {}
    additional = schema.get("additionalProperties")
    result: dict[str, Any] = {}
    for key, item in value.items():
        if key in properties:
            result[key] = prune(item, properties[key])
        elif isinstance(additional, dict):
            result[key] = prune(item, additional)
        elif preserve or additional is True or (embedded and key in KEPT_AT_ROOT):
            result[key] = item
    return result
