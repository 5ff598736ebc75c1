"""The patch Velero makes from a live object to the backed-up one, and the equality it compares them by."""

from __future__ import annotations

from typing import Any

from restoreflow.kube.patches import apply_merge_patch, create_merge_patch

__all__ = ["apply_merge_patch", "contains", "generate_patch", "semantically_equal"]

Json = Any


def generate_patch(original: Json, desired: Json) -> dict[str, Json] | None:
    """Velero's generatePatch: None when the two are equal."""
    if original == desired:
        return None
    return create_merge_patch(original, desired)  # type: ignore[no-any-return]


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
