"""PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch,
applied by `restoreflow.kube.patches` and answered with the API server's status codes."""

from __future__ import annotations

from typing import Any

from restoreflow.kube.patches import (
    PatchError,
    PatchPathMissing,
    PatchTestFailed,
    apply_json_patch,
    apply_merge_patch,
    apply_strategic_merge_patch,
)
from restoreflow.sandbox.status import ApiError, bad_request, unsupported_media_type

MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"


def accepted_types(custom: bool) -> list[str]:
    """The patch media types in the order the API server's 415 lists them."""
    return [JSON_PATCH, MERGE, APPLY] if custom else [JSON_PATCH, MERGE, STRATEGIC, APPLY]


def media_type(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


def apply_patch(obj: dict[str, Any], patch: Any, content_type: str, custom: bool) -> dict[str, Any]:
    """Return the patched copy of obj, or raise the API server's error for the patch."""
    media = media_type(content_type)
    if media not in accepted_types(custom) or media == APPLY:
        raise unsupported_media_type(accepted_types(custom))
    if media == JSON_PATCH:
        if not isinstance(patch, list):
            raise bad_request("json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp")
        return json_patch(obj, patch)
    if not isinstance(patch, dict):
        raise bad_request("json: cannot unmarshal array into Go value of type map[string]interface {}")
    if media == MERGE:
        return apply_merge_patch(obj, patch)
    return _by_merge_keys(obj, patch)


def forget_unapplied(live: Any, before: Any, now: Any) -> Any:
    """Drop from the live object the fields a manager applied before and no longer applies, as
    server-side apply removes fields their only owner stops setting (identity fields stay)."""
    if not isinstance(live, dict) or not isinstance(before, dict):
        return live
    now = now if isinstance(now, dict) else {}
    result = dict(live)
    for key, value in before.items():
        if key in ("apiVersion", "kind", "name", "namespace") or key not in result:
            continue
        if key not in now:
            result.pop(key)
        elif isinstance(value, dict):
            result[key] = forget_unapplied(result[key], value, now[key])
    return result


def apply_configuration(obj: dict[str, Any], applied: dict[str, Any], custom: bool) -> dict[str, Any]:
    """Server-side apply without field ownership: the applied configuration merged into the live
    object (by merge keys for built-in types, as a merge patch for custom resources)."""
    return apply_merge_patch(obj, applied) if custom else _by_merge_keys(obj, applied)


def _by_merge_keys(obj: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    try:
        return apply_strategic_merge_patch(obj, patch)
    except PatchError as error:
        raise bad_request(str(error)) from None


def json_patch(obj: dict[str, Any], ops: list[dict[str, Any]]) -> dict[str, Any]:
    """A JSON patch that does not apply is a 422 with the patch library's message as the cause."""
    try:
        return apply_json_patch(obj, ops)
    except (PatchPathMissing, PatchTestFailed) as error:
        message = "the server rejected our request due to an error in our request"
        cause = {"reason": "UnexpectedServerResponse", "message": str(error)}
        raise ApiError(422, "Invalid", message, {"causes": [cause]}) from None
    except PatchError as error:
        raise bad_request(str(error)) from None
