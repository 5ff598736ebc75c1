"""Kubernetes name rules with the API server's own messages (apimachinery's validation package).

Each function returns the list of problems, empty when the value is valid, worded as
`k8s.io/apimachinery/pkg/util/validation` words them.
"""

from __future__ import annotations

import hashlib
import re

DNS1123_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN = DNS1123_LABEL + r"(\." + DNS1123_LABEL + ")*"
DNS1035_LABEL = "[a-z]([-a-z0-9]*[a-z0-9])?"
QUALIFIED_NAME_PART = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
LABEL_VALUE = "(" + QUALIFIED_NAME_PART + ")?"
CONFIG_KEY = "[-._a-zA-Z0-9]+"

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
_CONFIG_KEY_MSG = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    shown = "".join(f"{' or ' if i else ''}'{e}', " for i, e in enumerate(examples))
    return f"{msg} (e.g. {shown}regex used for validation is '{fmt}')"


def _max_len(n: int) -> str:
    return f"must be no more than {n} characters"


def dns1123_subdomain_errors(value: str) -> list[str]:
    """Most object names: lower-case DNS labels joined by dots, at most 253 characters."""
    errs = [_max_len(253)] if len(value) > 253 else []
    if not re.fullmatch(DNS1123_SUBDOMAIN, value):
        errs.append(_regex_error(_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN, "example.com"))
    return errs


def dns1123_label_errors(value: str) -> list[str]:
    """Namespace names and the like: one lower-case DNS label, at most 63 characters."""
    errs = [_max_len(63)] if len(value) > 63 else []
    if not re.fullmatch(DNS1123_LABEL, value):
        errs.append(_regex_error(_LABEL_MSG, DNS1123_LABEL, "my-name", "123-abc"))
    return errs


def dns1035_label_errors(value: str) -> list[str]:
    """Service names and API version names (`v1`, `v2beta1`): a label that starts with a letter."""
    errs = [_max_len(63)] if len(value) > 63 else []
    if not re.fullmatch(DNS1035_LABEL, value):
        errs.append(_regex_error(_DNS1035_MSG, DNS1035_LABEL, "my-name", "abc-123"))
    return errs


def path_segment_name_errors(value: str) -> list[str]:
    """Names that only have to be usable as one URL path segment."""
    if value in (".", ".."):
        return [f"may not be '{value}'"]
    return [f"may not contain '{c}'" for c in "/%" if c in value]


def qualified_name_errors(value: str) -> list[str]:
    """IsQualifiedName: label keys, annotation keys, finalizer names (an optional DNS prefix and '/')."""
    parts = value.split("/")
    if len(parts) > 2:
        return [
            "a qualified name "
            + _regex_error(_QNAME_MSG, QUALIFIED_NAME_PART, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    errs: list[str] = []
    name = parts[-1]
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs += ["prefix part " + m for m in dns1123_subdomain_errors(prefix)]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part " + _max_len(63))
    if not re.fullmatch(QUALIFIED_NAME_PART, name):
        errs.append(
            "name part " + _regex_error(_QNAME_MSG, QUALIFIED_NAME_PART, "MyName", "my.name", "123-abc")
        )
    return errs


def label_value_errors(value: str) -> list[str]:
    errs = [_max_len(63)] if len(value) > 63 else []
    if not re.fullmatch(LABEL_VALUE, value):
        errs.append(_regex_error(_LABEL_VALUE_MSG, LABEL_VALUE, "MyValue", "my_value", "12345"))
    return errs


def config_key_errors(value: str) -> list[str]:
    """IsConfigMapKey: keys of ConfigMap and Secret data."""
    errs = [_max_len(253)] if len(value) > 253 else []
    if not re.fullmatch(CONFIG_KEY, value):
        errs.append(_regex_error(_CONFIG_KEY_MSG, CONFIG_KEY, "key.name", "KEY_NAME", "key-name"))
    if value in (".", ".."):
        errs.append(f"must not be '{value}'")
    elif value.startswith(".."):
        errs.append("must not start with '..'")
    return errs


def invalid_value(value: str, errors: list[str]) -> str:
    """The API server's `Invalid value: "x": reason; reason` wording."""
    return f'Invalid value: "{value}": ' + "; ".join(errors)


def get_valid_name(name: str) -> str:
    """Velero's label.GetValidName: names over 63 characters become 57 characters + 6 hex of sha256."""
    if len(name) <= 63:
        return name
    return name[:57] + hashlib.sha256(name.encode()).hexdigest()[:6]
