"""The three patch types of Kubernetes, over plain JSON-like data.

- JSON Patch (RFC 6902) through the `jsonpatch` library: add, remove, replace, move, copy, test;
  atomic (all or nothing), errors worded as Go's json-patch words them.
- JSON merge patch (RFC 7386): null deletes, objects merge, everything else replaces; and the
  patch that turns one object into another.
- Strategic merge patch, hand-written because no Python library implements it, and without a
  server schema: lists of objects merge by the Kubernetes merge key of their field (see
  `MERGE_KEYS`: containers, initContainers, ephemeralContainers, volumes, env, imagePullSecrets,
  resourceClaims, secrets and conditions by `name`/`type`; volumeMounts by `mountPath`;
  volumeDevices by `devicePath`; container `ports` by `containerPort` and Service `ports` by
  `port`; hostAliases by `ip`; topologySpreadConstraints by `topologyKey`; ownerReferences by
  `uid`), `finalizers` merge as a set, other lists are replaced. Directives: `$patch: delete` (in a
  list element or a map), `$patch: replace`, `$deleteFromPrimitiveList/<field>`;
  `$setElementOrder/<field>` and `$retainKeys` are accepted and ignored.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import jsonpatch
import jsonpointer


class PatchError(ValueError):
    """A patch that cannot be applied; the message says where."""


class PatchTestFailed(PatchError):
    """A JSON Patch `test` operation did not hold."""


class PatchPathMissing(PatchError):
    """A JSON Patch operation addressed a location that does not exist."""


# --- JSON Patch (RFC 6902) ------------------------------------------------------------------------

_OPERATIONS = frozenset({"add", "remove", "replace", "move", "copy", "test"})


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality: booleans are not numbers, 1 equals 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def apply_json_patch(doc: Any, operations: Sequence[dict[str, Any]]) -> Any:
    """A new document with every operation applied, or PatchError (the input is untouched)."""
    doc = copy.deepcopy(doc)
    for op in operations:
        kind, path = op.get("op"), op.get("path", "")
        if kind not in _OPERATIONS:
            raise PatchError(f"Unexpected kind: {kind}")
        for pointer in (path, op.get("from", "")):
            if not isinstance(pointer, str) or pointer[:1] not in ("", "/"):
                raise PatchError(f"invalid JSON pointer {pointer!r}: must start with '/'")
        if kind == "test":
            _test(doc, path, op.get("value"))
            continue
        try:
            # a copy of the operation: the library puts its value into the document as it is
            doc = jsonpatch.JsonPatch([copy.deepcopy(op)]).apply(doc, in_place=True)
        except (jsonpatch.JsonPatchConflict, jsonpointer.JsonPointerException):
            if kind == "remove":
                raise PatchPathMissing(
                    f"remove operation does not apply: doc is missing path: {path}: missing value"
                ) from None
            raise PatchPathMissing(f"{kind} operation does not apply: doc is missing path: {path}") from None
        except jsonpatch.JsonPatchException as error:
            raise PatchError(f"{kind} operation does not apply: {error}") from None
    return doc


def _test(doc: Any, path: str, value: Any) -> None:
    try:
        actual = jsonpointer.resolve_pointer(doc, path)
    except jsonpointer.JsonPointerException:
        raise PatchTestFailed(f"testing value {path} failed: test failed") from None
    if not json_equal(actual, value):
        raise PatchTestFailed(f"testing value {path} failed: test failed")


# --- JSON merge patch (RFC 7386) ------------------------------------------------------------------


def apply_merge_patch(target: Any, patch: Any) -> Any:
    """A new document: `patch` merged into `target`."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = apply_merge_patch(result.get(key), value)
    return result


def create_merge_patch(original: Any, desired: Any) -> Any:
    """The RFC 7386 patch turning `original` into `desired`; fields only in `original` become null."""
    if not isinstance(original, dict) or not isinstance(desired, dict):
        return desired
    patch: dict[str, Any] = {}
    for key in original.keys() - desired.keys():
        patch[key] = None
    for key, value in desired.items():
        if key not in original:
            patch[key] = value
        elif original[key] != value:
            if isinstance(original[key], dict) and isinstance(value, dict):
                patch[key] = create_merge_patch(original[key], value)
            else:
                patch[key] = value
    return patch


# --- Strategic merge patch ------------------------------------------------------------------------

CONTAINER_FIELDS = frozenset({"containers", "initContainers", "ephemeralContainers"})
MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "env": "name",
    "imagePullSecrets": "name",
    "resourceClaims": "name",
    "secrets": "name",
    "conditions": "type",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
    "ownerReferences": "uid",
    "ports": "port",  # a container's ports merge by containerPort (see _merge_key)
}
MERGED_PRIMITIVE_LISTS = frozenset({"finalizers"})


def _merge_key(field: str, parent_field: str | None) -> str | None:
    if field == "ports" and parent_field in CONTAINER_FIELDS:
        return "containerPort"
    return MERGE_KEYS.get(field)


def apply_strategic_merge_patch(target: Any, patch: Any) -> Any:
    """A new document: `patch` merged into `target` with Kubernetes' list merge keys."""
    merged = _merge_map(target if isinstance(target, dict) else {}, patch, None)
    if merged is None:
        raise PatchError("strategic merge patch: the whole object cannot be deleted")
    return merged


def _merge_map(target: dict[str, Any], patch: Any, list_field: str | None) -> Any:
    if not isinstance(patch, dict):
        raise PatchError(f"strategic merge patch: expected a map, got {type(patch).__name__}")
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if directive == "delete":
        return None
    if directive is not None:
        raise PatchError(f"strategic merge patch: unknown patch directive {directive!r}")
    result = copy.deepcopy(target)
    for key, value in patch.items():
        if key.startswith("$setElementOrder/") or key == "$retainKeys":
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            if isinstance(result.get(field), list):
                result[field] = [v for v in result[field] if v not in value]
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            current = result.get(key)
            merged = _merge_map(current if isinstance(current, dict) else {}, value, key)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list):
            result[key] = _merge_list(result.get(key), value, key, list_field)
        else:
            result[key] = copy.deepcopy(value)
    return result


def _merge_list(target: Any, patch: list[Any], field: str, parent_field: str | None) -> list[Any]:
    current = copy.deepcopy(target) if isinstance(target, list) else []
    if any(isinstance(p, dict) and p.get("$patch") == "replace" for p in patch):
        return [copy.deepcopy(p) for p in patch if not (isinstance(p, dict) and "$patch" in p)]
    if field in MERGED_PRIMITIVE_LISTS:
        known = [(current.index(v) if v in current else None, copy.deepcopy(v)) for v in patch]
        return _element_order(known, [(i, v) for i, v in enumerate(current) if v not in patch])
    key = _merge_key(field, parent_field)
    if key is None or not all(isinstance(p, dict) for p in patch):
        return [copy.deepcopy(p) for p in patch]
    patched: list[tuple[int | None, Any]] = []  # (position in the live list, merged element)
    deleted: set[int] = set()
    for element in patch:
        if key not in element:
            raise PatchError(f"strategic merge patch: an element of {field} lacks its merge key {key!r}")
        position = next(
            (
                i
                for i, c in enumerate(current)
                if isinstance(c, dict) and json_equal(c.get(key), element[key])
            ),
            None,
        )
        if element.get("$patch") == "delete":
            if position is not None:
                deleted.add(position)
        elif position is None:
            patched.append((None, _merge_map({}, element, field)))
        else:
            patched.append((position, _merge_map(current[position], element, field)))
            deleted.add(position)
    live_only = [(i, c) for i, c in enumerate(current) if i not in deleted]
    return _element_order(patched, live_only)


def _element_order(patched: list[tuple[int | None, Any]], live_only: list[tuple[int, Any]]) -> list[Any]:
    """The API server's order for a merged list (apimachinery's normalizeElementOrder): the patch's
    elements in patch order and the live-only ones in live order, interleaved by live position; an
    element new to the list goes before the live-only element it is compared with."""
    merged: list[Any] = []
    i = j = 0
    while i < len(patched) or j < len(live_only):
        if j >= len(live_only):
            take_patched = True
        elif i >= len(patched):
            take_patched = False
        else:
            position = patched[i][0]
            take_patched = position is None or position < live_only[j][0]
        if take_patched:
            merged.append(patched[i][1])
            i += 1
        else:
            merged.append(live_only[j][1])
            j += 1
    return merged
