"""Structural pruning of custom resources: fields their CRD's schema does not declare are dropped on
write, unless the schema says `x-kubernetes-preserve-unknown-fields: true`, as the API server does."""

from __future__ import annotations

import json
import re
from typing import Any

from restoreflow.sandbox.validation import FieldError

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


def _json_type(value: Any) -> str:
    """The OpenAPI type name of a JSON value, as the schema validator reports it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _type_ok(wanted: str, actual: str, schema: dict[str, Any]) -> bool:
    if schema.get("x-kubernetes-int-or-string") is True:
        return actual in ("integer", "string")
    if actual == "null":
        return schema.get("nullable") is True
    return wanted == actual or (wanted == "number" and actual == "integer")


def validate(value: Any, schema: dict[str, Any] | None, path: str = "") -> list[FieldError]:
    """openAPIV3Schema checks (type, required, enum, bounds, pattern) with the API server's messages."""
    if not isinstance(schema, dict):
        return []
    wanted, actual = schema.get("type"), _json_type(value)
    if (wanted or schema.get("x-kubernetes-int-or-string")) and not _type_ok(wanted or "", actual, schema):
        detail = f'{path} in body must be of type {wanted or "integer-or-string"}: "{actual}"'
        return [FieldError("FieldValueTypeInvalid", path, actual, detail)]
    errors: list[FieldError] = []
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(json.dumps(v) for v in schema["enum"])
        errors.append(FieldError("FieldValueNotSupported", path, value, f"supported values: {allowed}"))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            detail = f"{path} in body should be greater than or equal to {schema['minimum']}"
            errors.append(FieldError("FieldValueInvalid", path, value, detail))
        if "maximum" in schema and value > schema["maximum"]:
            detail = f"{path} in body should be less than or equal to {schema['maximum']}"
            errors.append(FieldError("FieldValueInvalid", path, value, detail))
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        detail = f"{path} in body should match '{schema['pattern']}'"
        errors.append(FieldError("FieldValueInvalid", path, value, detail))
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        for name in schema.get("required") or []:
            if name not in value:
                errors.append(FieldError("FieldValueRequired", _child(path, name)))
        for key, item in value.items():
            sub = properties.get(key)
            if sub is None and isinstance(schema.get("additionalProperties"), dict):
                sub = schema["additionalProperties"]
            errors += validate(item, sub, _child(path, key))
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            errors += validate(item, schema["items"], f"{path}[{i}]")
    return errors


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def validate_object(obj: dict[str, Any], schema: dict[str, Any] | None) -> list[FieldError]:
    """Validate a custom resource's fields (metadata is checked by the API server's own rules)."""
    if not isinstance(schema, dict):
        return []
    body = {k: v for k, v in obj.items() if k not in KEPT_AT_ROOT}
    root = {
        **schema,
        "properties": {k: v for k, v in (schema.get("properties") or {}).items() if k not in KEPT_AT_ROOT},
    }
    root["required"] = [r for r in schema.get("required") or [] if r not in KEPT_AT_ROOT]
    return validate(body, root)
