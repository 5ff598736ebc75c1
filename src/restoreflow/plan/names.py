"""Kubernetes name and label-selector rules, with the API server's own messages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN = rf"{DNS1123_LABEL}(\.{DNS1123_LABEL})*"
DNS1035_LABEL = r"[a-z]([-a-z0-9]*[a-z0-9])?"
QUALIFIED_NAME_PART = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
LABEL_VALUE = r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?"
SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def dns1123_label_errors(value: str) -> list[str]:
    errors = []
    if len(value) > 63:
        errors.append("must be no more than 63 characters")
    if not re.fullmatch(DNS1123_LABEL, value):
        errors.append(
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
            "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
            f"used for validation is '{DNS1123_LABEL}')"
        )
    return errors


def dns1035_label_errors(value: str) -> list[str]:
    """API version names (`v1`, `v2beta1`) are DNS-1035 labels, as CRD versions must be."""
    errors = []
    if len(value) > 63:
        errors.append("must be no more than 63 characters")
    if not re.fullmatch(DNS1035_LABEL, value):
        errors.append(
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
            "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
            f"'abc-123', regex used for validation is '{DNS1035_LABEL}')"
        )
    return errors


def dns1123_subdomain_errors(value: str) -> list[str]:
    errors = []
    if len(value) > 253:
        errors.append("must be no more than 253 characters")
    if not re.fullmatch(DNS1123_SUBDOMAIN, value):
        errors.append(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
            "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
            f"for validation is '{DNS1123_SUBDOMAIN}')"
        )
    return errors


def qualified_name_errors(value: str) -> list[str]:
    """Label keys: an optional DNS subdomain prefix and '/', then a name of at most 63 characters."""
    parts = value.split("/")
    if len(parts) > 2:
        return [
            "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start "
            "and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
            f"used for validation is '{QUALIFIED_NAME_PART}') with an optional DNS subdomain prefix and "
            "'/' (e.g. 'example.com/MyName')"
        ]
    name, errors = parts[-1], []
    if len(parts) == 2:
        if not parts[0]:
            errors.append("prefix part must be non-empty")
        else:
            errors += [f"prefix part {e}" for e in dns1123_subdomain_errors(parts[0])]
    if not name:
        errors.append("name part must be non-empty")
    elif len(name) > 63:
        errors.append("name part must be no more than 63 characters")
    if name and not re.fullmatch(QUALIFIED_NAME_PART, name):
        errors.append(
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
            "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
            f"validation is '{QUALIFIED_NAME_PART}')"
        )
    return errors


def label_value_errors(value: str) -> list[str]:
    errors = []
    if len(value) > 63:
        errors.append("must be no more than 63 characters")
    if not re.fullmatch(LABEL_VALUE, value):
        errors.append(
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
            "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  "
            f"or '12345', regex used for validation is '{LABEL_VALUE}')"
        )
    return errors


def invalid_value(value: str, errors: list[str]) -> str:
    """The API server's `Invalid value: "x": reason; reason` wording."""
    return f'Invalid value: "{value}": ' + "; ".join(errors)


def label_selector_problems(selector: Any) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """What `metav1.LabelSelectorAsSelector` rejects, beyond the schema: (relative path, message).

    Key and value syntax are the schema's job; this checks operators against their values.
    """
    if not isinstance(selector, dict):
        return
    expressions = selector.get("matchExpressions")
    for index, expression in enumerate(expressions if isinstance(expressions, list) else []):
        if not isinstance(expression, dict):
            continue
        operator, values = expression.get("operator"), expression.get("values")
        where: tuple[str | int, ...] = ("matchExpressions", index, "values")
        if "values" not in expression:
            where = where[:-1]
        if operator in ("In", "NotIn") and not values:
            yield where, "for 'in', 'notin' operators, values set can't be empty"
        elif operator in ("Exists", "DoesNotExist") and values:
            yield where, "values set must be empty for exists and does not exist"
