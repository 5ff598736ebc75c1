"""A null field means "unset": Kubernetes' pruning of non-nullable nulls, on plan documents.

Kubernetes drops the null value of a custom resource field whose structural schema does not make
it `nullable`, before defaulting and validation; so `hooks:` written with nothing after it is the
same as no `hooks` at all. Plans follow suit: a null is dropped wherever the schema names the
property and the property does not accept null (then its default applies). Fields that do accept
null keep it (they mean the same as their null default), and nulls in user-keyed maps
(namespaceMapping, matchLabels, ...) and lists are kept, for validation to report them.
"""

from __future__ import annotations

from typing import Any

from restoreflow.plan.normalize import resolve_ref
from restoreflow.plan.schema import shared_schema
from restoreflow.plan.source import JsonPath


def prune_nulls(document: Any) -> list[JsonPath]:
    """Drop the document's non-nullable null properties, in place; the paths dropped, in order."""
    root = shared_schema()
    pruned: list[JsonPath] = []
    _prune(document, root, root, (), pruned)
    return pruned


def _prune(
    value: Any, schema: dict[str, Any], root: dict[str, Any], path: JsonPath, pruned: list[JsonPath]
) -> None:
    schema = resolve_ref(schema, root)
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            _prune(item, schema["items"], root, (*path, index), pruned)
    if not isinstance(value, dict):
        return
    properties: dict[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties")
    for key in list(value):
        child = (*path, key)
        if key in properties and value[key] is None and not _accepts_null(properties[key], root):
            del value[key]
            pruned.append(child)
        elif key in properties:
            _prune(value[key], properties[key], root, child, pruned)
        elif isinstance(extra, dict):
            _prune(value[key], extra, root, child, pruned)  # a user's key: its own null stays


def _accepts_null(schema: dict[str, Any], root: dict[str, Any]) -> bool:
    """Whether null is a valid value by type and enum: OpenAPI's `nullable`, in JSON Schema terms."""
    schema = resolve_ref(schema, root)
    types = schema.get("type")
    if types is not None and "null" not in (types if isinstance(types, list) else [types]):
        return False
    return "enum" not in schema or None in schema["enum"]
