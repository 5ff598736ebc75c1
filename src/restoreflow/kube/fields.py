"""Object field paths: reading and pruning fields of plain-dict Kubernetes objects.

Velero's built-in actions round-trip items through typed Go structs, so a field they zero is
omitted from the result (`omitempty`). These helpers reproduce that: zeroed means removed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def nested(obj: Any, *path: str) -> Any:
    """The value at `path`, or None when any step is missing or not a mapping."""
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def nested_dict(obj: Any, *path: str) -> dict[str, Any]:
    """The mapping at `path`, or a fresh empty dict (not attached) when absent."""
    value = nested(obj, *path)
    return value if isinstance(value, dict) else {}


def nested_list(obj: Any, *path: str) -> list[Any]:
    value = nested(obj, *path)
    return value if isinstance(value, list) else []


def remove_keys(mapping: Any, keys: Iterable[str]) -> None:
    """Delete keys from a mapping if it is one (missing keys are fine)."""
    if isinstance(mapping, dict):
        for key in keys:
            mapping.pop(key, None)


def drop_if_empty(parent: Any, key: str) -> None:
    """Omit an empty list or mapping, as Go's `omitempty` does."""
    if isinstance(parent, dict) and key in parent and parent[key] in ({}, [], None):
        del parent[key]


def object_labels(obj: Any) -> dict[str, str]:
    return nested_dict(obj, "metadata", "labels")


def object_annotations(obj: Any) -> dict[str, str]:
    return nested_dict(obj, "metadata", "annotations")


def remove_annotations(obj: dict[str, Any], keys: Iterable[str]) -> None:
    """Remove annotations; an annotations map left empty is omitted."""
    metadata = nested(obj, "metadata")
    remove_keys(nested(metadata, "annotations"), keys)
    drop_if_empty(metadata, "annotations")
