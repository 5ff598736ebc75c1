"""JSON merge patches (RFC 7386) between two objects, and the equality Velero uses to compare them."""

from __future__ import annotations

from typing import Any

Json = Any


def merge_patch(original: Json, desired: Json) -> Json:
    """The RFC 7386 patch turning `original` into `desired`; fields only in `original` become null."""
    if not isinstance(original, dict) or not isinstance(desired, dict):
        return desired
    patch: dict[str, Json] = {}
    for key in original.keys() - desired.keys():
        patch[key] = None
    for key, value in desired.items():
        if key not in original:
            patch[key] = value
        elif original[key] != value:
            if isinstance(original[key], dict) and isinstance(value, dict):
                patch[key] = merge_patch(original[key], value)
            else:
                patch[key] = value
    return patch


def apply_merge_patch(target: Json, patch: Json) -> Json:
    """RFC 7386: `patch` applied to a copy of `target` (null removes a field)."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = apply_merge_patch(result.get(key), value)
    return result


def generate_patch(original: Json, desired: Json) -> dict[str, Json] | None:
    """Velero's generatePatch: None when the two are equal."""
    if original == desired:
        return None
    return merge_patch(original, desired)


def contains(live: Json, desired: Json) -> bool:
    """Whether `live` holds everything `desired` says; extra fields in `live` are allowed.

    Used for "is the object in the cluster the backed-up one": fields the API server fills in
    (defaults, allocated IPs and ports) do not make two objects different. Lists compare element
    by element with the same rule.
    """
    if isinstance(desired, dict):
        return isinstance(live, dict) and all(k in live and contains(live[k], v) for k, v in desired.items())
    if isinstance(desired, list):
        return (
            isinstance(live, list)
            and len(live) == len(desired)
            and all(contains(a, b) for a, b in zip(live, desired, strict=True))
        )
    return (bool(live == desired) and type(live) is type(desired)) or _same_number(live, desired)


def _same_number(a: Json, b: Json) -> bool:
    numbers = (int, float)
    return (
        isinstance(a, numbers)
        and isinstance(b, numbers)
        and not isinstance(a, bool)
        and not isinstance(b, bool)
        and a == b
    )


# Content no server or controller fills in: any extra key in the live object is a real difference.
CONTENT_FIELDS = ("data", "binaryData", "stringData")


def semantically_equal(live: dict[str, Json], desired: dict[str, Json]) -> bool:
    """The live object is the backed-up one: the same labels and content, and it contains the rest.

    Controllers add annotations (a bound claim's `pv.kubernetes.io/bind-completed`) and the API
    server fills in defaults; neither makes a restored object different from its backup. Labels,
    other annotations and ConfigMap/Secret content are compared exactly, as Velero does.
    """
    live_meta, desired_meta = live.get("metadata") or {}, desired.get("metadata") or {}
    if (live_meta.get("labels") or {}) != (desired_meta.get("labels") or {}):
        return False
    live_notes = live_meta.get("annotations") or {}
    if any(
        not _system_annotation(k) for k in live_notes.keys() - (desired_meta.get("annotations") or {}).keys()
    ):
        return False
    if any((live.get(key) or {}) != (desired.get(key) or {}) for key in CONTENT_FIELDS):
        return False
    return contains(live, desired)


def _system_annotation(key: str) -> bool:
    """Annotations Kubernetes itself adds (`pv.kubernetes.io/...`, `deployment.kubernetes.io/...`)."""
    prefix = key.partition("/")[0] if "/" in key else ""
    return prefix.endswith(("kubernetes.io", "k8s.io"))
