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


def semantically_equal(live: dict[str, Json], desired: dict[str, Json]) -> bool:
    """The live object is the backed-up one: the same labels, and it contains everything else.

    Controllers add annotations (a bound claim's `pv.kubernetes.io/bind-completed`) and the API
    server fills in defaults; neither makes a restored object different from its backup.
    """
    live_labels = (live.get("metadata") or {}).get("labels") or {}
    desired_labels = (desired.get("metadata") or {}).get("labels") or {}
    return live_labels == desired_labels and contains(live, desired)
