"""Field validation with the API server's messages (apimachinery's validation package, word for word)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from restoreflow.kube.names import (
    dns1035_label_errors,
    dns1123_label_errors,
    dns1123_subdomain_errors,
    label_value_errors,
    path_segment_name_errors,
    qualified_name_errors,
)
from restoreflow.sandbox.status import ApiError


@dataclass(frozen=True)
class FieldError:
    """One field.Error: `field: Invalid value: "v": detail`."""

    type: str  # FieldValue{Invalid,Required,Forbidden,NotSupported,Duplicate}
    field: str
    value: Any = None
    detail: str = ""

    def body(self) -> str:
        if self.type == "FieldValueRequired":
            return "Required value" + (f": {self.detail}" if self.detail else "")
        if self.type == "FieldValueForbidden":
            return "Forbidden" + (f": {self.detail}" if self.detail else "")
        label = {
            "FieldValueInvalid": "Invalid value",
            "FieldValueTypeInvalid": "Invalid value",
            "FieldValueDuplicate": "Duplicate value",
        }.get(self.type, "Unsupported value")
        text = f"{label}: {_go_value(self.value)}"
        return f"{text}: {self.detail}" if self.detail else text

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}"


class GoText(str):
    """A field value already printed as Go prints it (shown unquoted)."""


def go_map(values: dict[str, Any]) -> str:
    """A map inside a field error, as kube-apiserver 1.37 prints it: compact JSON, keys sorted."""
    return json.dumps(dict(sorted(values.items())), separators=(",", ":"))


def _go_value(value: Any) -> str:
    """How Go's %v/%q print a field value inside an error."""
    if isinstance(value, GoText):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return go_map(value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def invalid(qualified_kind: str, group: str, name: str, errors: list[FieldError]) -> ApiError:
    """Kubernetes' NewInvalid: 422 with one cause per field error."""
    kind = qualified_kind.split(".", 1)[0]
    details: dict[str, Any] = {"name": name} if name else {}
    if group:
        details["group"] = group
    details["kind"] = kind
    details["causes"] = [{"reason": e.type, "message": e.body(), "field": e.field} for e in errors]
    texts = list(dict.fromkeys(str(e) for e in errors))
    joined = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    return ApiError(422, "Invalid", f'{qualified_kind} "{name}" is invalid: {joined}', details)


INVALID = "FieldValueInvalid"
NAME_RULES = {
    "subdomain": dns1123_subdomain_errors,
    "label": dns1123_label_errors,
    "dns1035": dns1035_label_errors,
    "path": path_segment_name_errors,
    "crd": dns1123_subdomain_errors,
}


def object_meta(meta: dict[str, Any], name_rule: str, *, creating: bool) -> list[FieldError]:
    """ValidateObjectMeta: name or generateName, labels, annotation keys."""
    errors: list[FieldError] = []
    name = meta.get("name") or ""
    check = NAME_RULES[name_rule]
    if not name:
        if not (creating and meta.get("generateName")):
            errors.append(
                FieldError("FieldValueRequired", "metadata.name", detail="name or generateName is required")
            )
    else:
        errors += [FieldError("FieldValueInvalid", "metadata.name", name, m) for m in check(name)]
    labels = meta.get("labels") or {}
    if not isinstance(labels, dict):
        return [*errors, FieldError("FieldValueInvalid", "metadata.labels", str(labels), "must be a map")]
    for key, value in labels.items():
        errors += [FieldError(INVALID, "metadata.labels", key, m) for m in qualified_name_errors(key)]
        text = value if isinstance(value, str) else str(value)
        errors += [FieldError(INVALID, "metadata.labels", text, m) for m in label_value_errors(text)]
    for key in meta.get("annotations") or {}:
        lower = key.lower()
        problems = qualified_name_errors(lower)
        errors += [FieldError(INVALID, "metadata.annotations", lower, m) for m in problems]
    return errors
