"""Field validation with the API server's messages (apimachinery's validation package, word for word)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from restoreflow.sandbox.status import ApiError

_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN = _LABEL + r"(\." + _LABEL + ")*"
_DNS1035 = "[a-z]([-a-z0-9]*[a-z0-9])?"
_QNAME = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_VALUE = "(" + _QNAME + ")?"
_CONFIG_KEY = "[-._a-zA-Z0-9]+"

_CONFIG_KEY_MSG = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"
_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character"
)
_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)
_DNS1035_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
    "start with an alphabetic character, and end with an alphanumeric character"
)
_QNAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character"
)
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)


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
    """Go's %#v of a map[string]string: keys sorted."""
    return (
        "map[string]string{"
        + ", ".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in sorted(values.items()))
        + "}"
    )


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
        return "[]string{" + ", ".join(json.dumps(v) for v in value) + "}"
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


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    shown = "".join(f"{' or ' if i else ''}'{e}', " for i, e in enumerate(examples))
    return f"{msg} (e.g. {shown}regex used for validation is '{fmt}')"


def _max_len(n: int) -> str:
    return f"must be no more than {n} characters"


def dns1123_subdomain(value: str) -> list[str]:
    errs = [_max_len(253)] if len(value) > 253 else []
    if not re.fullmatch(_SUBDOMAIN, value):
        errs.append(_regex_error(_SUBDOMAIN_MSG, _SUBDOMAIN, "example.com"))
    return errs


def dns1123_label(value: str) -> list[str]:
    errs = [_max_len(63)] if len(value) > 63 else []
    if not re.fullmatch(_LABEL, value):
        errs.append(_regex_error(_LABEL_MSG, _LABEL, "my-name", "123-abc"))
    return errs


def dns1035_label(value: str) -> list[str]:
    errs = [_max_len(63)] if len(value) > 63 else []
    if not re.fullmatch(_DNS1035, value):
        errs.append(_regex_error(_DNS1035_MSG, _DNS1035, "my-name", "abc-123"))
    return errs


def path_segment_name(value: str) -> list[str]:
    if value in (".", ".."):
        return [f"may not be '{value}'"]
    return [f"may not contain '{c}'" for c in "/%" if c in value]


NAME_RULES = {
    "subdomain": dns1123_subdomain,
    "label": dns1123_label,
    "dns1035": dns1035_label,
    "path": path_segment_name,
    "crd": dns1123_subdomain,
}


def qualified_name(value: str) -> list[str]:
    """IsQualifiedName: label keys, annotation keys, finalizer names."""
    parts = value.split("/")
    errs: list[str] = []
    if len(parts) > 2:
        return [
            "a qualified name "
            + _regex_error(_QNAME_MSG, _QNAME, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    name = parts[-1]
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs += ["prefix part " + m for m in dns1123_subdomain(prefix)]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part " + _max_len(63))
    if not re.fullmatch(_QNAME, name):
        errs.append("name part " + _regex_error(_QNAME_MSG, _QNAME, "MyName", "my.name", "123-abc"))
    return errs


def config_key(value: str) -> list[str]:
    """IsConfigMapKey: keys of ConfigMap and Secret data."""
    errs = [_max_len(253)] if len(value) > 253 else []
    if not re.fullmatch(_CONFIG_KEY, value):
        errs.append(_regex_error(_CONFIG_KEY_MSG, _CONFIG_KEY, "key.name", "KEY_NAME", "key-name"))
    if value in (".", ".."):
        errs.append(f"must not be '{value}'")
    elif value.startswith(".."):
        errs.append("must not start with '..'")
    return errs


def label_value(value: str) -> list[str]:
    errs = [_max_len(63)] if len(value) > 63 else []
    if not re.fullmatch(_LABEL_VALUE, value):
        errs.append(_regex_error(_LABEL_VALUE_MSG, _LABEL_VALUE, "MyValue", "my_value", "12345"))
    return errs


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
        errors += [FieldError("FieldValueInvalid", "metadata.labels", key, m) for m in qualified_name(key)]
        text = value if isinstance(value, str) else str(value)
        errors += [FieldError("FieldValueInvalid", "metadata.labels", text, m) for m in label_value(text)]
    for key in meta.get("annotations") or {}:
        lower = key.lower()
        errors += [
            FieldError("FieldValueInvalid", "metadata.annotations", lower, m) for m in qualified_name(lower)
        ]
    return errors
