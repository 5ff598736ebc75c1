"""The three patch kinds of resource modifiers, over plain JSON-like data.

- JSON Patch (RFC 6902): add, remove, replace, move, copy, test; atomic (all or nothing).
- JSON merge patch (RFC 7386): null deletes, objects merge, everything else replaces.
- Strategic merge patch, without a server schema: lists of objects merge by the Kubernetes merge
  key of their field (see `MERGE_KEYS`: containers, initContainers, ephemeralContainers, volumes,
  env, imagePullSecrets, resourceClaims, secrets and conditions by `name`/`type`; volumeMounts by
  `mountPath`; volumeDevices by `devicePath`; container `ports` by `containerPort` and Service
  `ports` by `port`; hostAliases by `ip`; topologySpreadConstraints by `topologyKey`;
  ownerReferences by `uid`), `finalizers` merge as a set, other lists are replaced. Directives:
  `$patch: delete` (in a list element or a map), `$patch: replace`, `$deleteFromPrimitiveList/<field>`;
  `$setElementOrder/<field>` and `$retainKeys` are accepted and ignored.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any


class PatchError(ValueError):
    """A patch that cannot be applied; the message says where."""


class PatchTestFailed(PatchError):
    """A JSON Patch `test` operation did not hold."""


class PatchPathMissing(PatchError):
    """A JSON Patch operation addressed a location that does not exist."""


# --- JSON Patch (RFC 6902) ------------------------------------------------------------------------


def parse_pointer(pointer: str) -> list[str]:
    """RFC 6901: "" is the whole document; "/a/b~1c" is ["a", "b/c"]."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise PatchError(f"invalid JSON pointer {pointer!r}: must start with '/'")
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer[1:].split("/")]


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


def _index(container: list[Any], token: str, path: str, *, for_add: bool = False) -> int:
    if for_add and token == "-":
        return len(container)
    if not token.isdigit() or (len(token) > 1 and token.startswith("0")):
        raise PatchError(f"invalid array index {token!r} in {path}")
    index, limit = int(token), len(container) + (1 if for_add else 0)
    if index >= limit:
        raise PatchPathMissing(f"array index {index} out of bounds in {path}: missing value")
    return index


def _parent(doc: Any, path: str) -> tuple[Any, str]:
    tokens = parse_pointer(path)
    if not tokens:
        raise PatchError("the document root cannot be the target of this operation")
    node = doc
    for token in tokens[:-1]:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, path)]
        else:
            raise PatchPathMissing(f"doc is missing path: {path}: missing value")
    if not isinstance(node, dict | list):
        raise PatchPathMissing(f"doc is missing path: {path}: missing value")
    return node, tokens[-1]


def _get(doc: Any, path: str) -> Any:
    if path == "":
        return doc
    parent, token = _parent(doc, path)
    if isinstance(parent, dict):
        if token not in parent:
            raise PatchPathMissing(f"doc is missing key: {path}: missing value")
        return parent[token]
    return parent[_index(parent, token, path)]


def _add(doc: Any, path: str, value: Any) -> Any:
    if path == "":
        return value
    parent, token = _parent(doc, path)
    if isinstance(parent, dict):
        parent[token] = value
    else:
        parent.insert(_index(parent, token, path, for_add=True), value)
    return doc


def _remove(doc: Any, path: str) -> Any:
    parent, token = _parent(doc, path)
    if isinstance(parent, dict):
        if token not in parent:
            raise PatchPathMissing(
                f"remove operation does not apply: doc is missing key: {path}: missing value"
            )
        del parent[token]
    else:
        del parent[_index(parent, token, path)]
    return doc


def apply_json_patch(doc: Any, operations: Sequence[dict[str, Any]]) -> Any:
    """A new document with every operation applied, or PatchError (the input is untouched)."""
    doc = copy.deepcopy(doc)
    for op in operations:
        kind, path = op.get("op"), op.get("path", "")
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            doc = _remove(doc, path)
        elif kind == "replace":
            _get(doc, path)
            doc = _add(_remove(doc, path), path, copy.deepcopy(op.get("value"))) if path else op.get("value")
        elif kind in ("move", "copy"):
            value = copy.deepcopy(_get(doc, op.get("from", "")))
            if kind == "move":
                doc = _remove(doc, op.get("from", ""))
            doc = _add(doc, path, value)
        elif kind == "test":
            try:
                actual = _get(doc, path)
            except PatchPathMissing:
                raise PatchTestFailed(f"testing value {path} failed: test failed") from None
            if not json_equal(actual, op.get("value")):
                raise PatchTestFailed(f"testing value {path} failed: test failed")
        else:
            raise PatchError(f"Unexpected kind: {kind}")
    return doc


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
            merged = _merge_map(result.get(key) if isinstance(result.get(key), dict) else {}, value, key)
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
        return current + [copy.deepcopy(v) for v in patch if v not in current]
    key = _merge_key(field, parent_field)
    if key is None or not all(isinstance(p, dict) for p in patch):
        return [copy.deepcopy(p) for p in patch]
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
                del current[position]
        elif position is None:
            current.append(_merge_map({}, element, field))
        else:
            current[position] = _merge_map(current[position], element, field)
    return current
