"""PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch.

Strategic merge knows the merge keys of the lists a restore touches (containers, ports, env, volumes,
finalizers, ownerReferences, conditions...); other lists are replaced, as Kubernetes does for lists
without a patch strategy.
"""

from __future__ import annotations

import copy
from typing import Any

from restoreflow.actions.patches import apply_merge_patch as merge_patch
from restoreflow.sandbox.status import ApiError, bad_request, unsupported_media_type

MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"

# list field name -> merge key ("" = a set of primitives merged as a union)
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "secrets": "name",
    "conditions": "type",
    "ownerReferences": "uid",
    "finalizers": "",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
}


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
        return merge_patch(obj, patch)
    return strategic_merge(obj, patch, "")


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
    return merge_patch(obj, applied) if custom else strategic_merge(obj, applied, "")


def strategic_merge(target: Any, patch: Any, field: str) -> Any:
    if isinstance(patch, dict):
        if patch.get("$patch") == "replace":
            return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
        if patch.get("$patch") == "delete":
            return None
        result = dict(target) if isinstance(target, dict) else {}
        for key, value in patch.items():
            if key.startswith("$setElementOrder/") or key in ("$retainKeys", "$patch"):
                continue
            if key.startswith("$deleteFromPrimitiveList/"):
                name = key.split("/", 1)[1]
                result[name] = [v for v in result.get(name) or [] if v not in value]
                continue
            if value is None:
                result.pop(key, None)
            elif isinstance(value, list) and (merge_key := _merge_key(key, value)) is not None:
                result[key] = _merge_list(result.get(key) or [], value, merge_key, key)
            else:
                merged = strategic_merge(result.get(key), value, key)
                if merged is None and isinstance(value, dict) and value.get("$patch") == "delete":
                    result.pop(key, None)
                else:
                    result[key] = merged
        return result
    return copy.deepcopy(patch)


def _merge_key(field: str, items: list[Any]) -> str | None:
    """The list's merge key; `ports` merge on containerPort in containers and on port in Services."""
    if field == "ports":
        return "containerPort" if any(isinstance(i, dict) and "containerPort" in i for i in items) else "port"
    return MERGE_KEYS.get(field)


def _merge_list(current: list[Any], patch: list[Any], key: str, field: str) -> list[Any]:
    if not key:
        return current + [v for v in patch if v not in current]
    result = [copy.deepcopy(item) for item in current]
    for item in patch:
        if not isinstance(item, dict):
            raise bad_request(f"unable to find api field in struct for the field {field}")
        if item.get("$patch") == "replace":
            return [i for i in patch if i.get("$patch") != "replace"]
        index = next((i for i, cur in enumerate(result) if cur.get(key) == item.get(key)), None)
        if item.get("$patch") == "delete":
            if index is not None:
                result.pop(index)
        elif index is None:
            result.append(strategic_merge({}, item, field))
        else:
            result[index] = strategic_merge(result[index], item, field)
    return result


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise bad_request(
            f'the server rejected our request due to an error in our request: invalid path "{path}"'
        )
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: Any, parts: list[str], path: str) -> Any:
    node = doc
    for part in parts[:-1]:
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError, TypeError):
            raise _missing(path) from None
    return node


def _missing(path: str) -> ApiError:
    return _patch_failed(f'doc is missing path: "{path}": missing value')


def _patch_failed(detail: str) -> ApiError:
    """A JSON patch that does not apply: 422 with the patch library's message as the cause."""
    message = "the server rejected our request due to an error in our request"
    return ApiError(
        422, "Invalid", message, {"causes": [{"reason": "UnexpectedServerResponse", "message": detail}]}
    )


def json_patch(obj: dict[str, Any], ops: list[dict[str, Any]]) -> dict[str, Any]:
    doc: Any = copy.deepcopy(obj)
    for op in ops:
        name, path = op.get("op"), op.get("path", "")
        if name in ("add", "replace", "test"):
            doc = _set(doc, path, op.get("value"), name)
        elif name == "remove":
            doc = _remove(doc, path)[0]
        elif name in ("move", "copy"):
            doc, value = (
                _remove(doc, op.get("from", "")) if name == "move" else (doc, _get(doc, op.get("from", "")))
            )
            doc = _set(doc, path, value, "add")
        else:
            raise bad_request(f"Unexpected kind: {name}")
    return doc


def _get(doc: Any, path: str) -> Any:
    node = doc
    for part in _pointer(path):
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError, TypeError):
            raise _missing(path) from None
    return copy.deepcopy(node)


def _set(doc: Any, path: str, value: Any, op: str) -> Any:
    parts = _pointer(path)
    if not parts:
        return copy.deepcopy(value)
    parent, last = _parent(doc, parts, path), parts[-1]
    if op == "test":
        if _get(doc, path) != value:
            raise _patch_failed(f"testing value {path} failed: test failed")
        return doc
    if isinstance(parent, list):
        index = len(parent) if last == "-" else _index(last, path)
        if op == "add" and 0 <= index <= len(parent):
            parent.insert(index, copy.deepcopy(value))
        elif op == "replace" and 0 <= index < len(parent):
            parent[index] = copy.deepcopy(value)
        else:
            raise _missing(path)
    elif isinstance(parent, dict):
        if op == "replace" and last not in parent:
            raise _patch_failed(
                f"replace operation does not apply: doc is missing key: {path}: missing value"
            )
        parent[last] = copy.deepcopy(value)
    else:
        raise _missing(path)
    return doc


def _remove(doc: Any, path: str) -> tuple[Any, Any]:
    parts = _pointer(path)
    parent, last = _parent(doc, parts, path), parts[-1] if parts else ""
    try:
        value = parent.pop(_index(last, path)) if isinstance(parent, list) else parent.pop(last)
    except (KeyError, IndexError, AttributeError):
        raise _patch_failed(f'remove operation does not apply: doc is missing path: "{path}"') from None
    return doc, value


def _index(text: str, path: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise _missing(path) from None
