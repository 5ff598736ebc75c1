"""The plan's JSON Schema (shipped in the package) and its errors as readable problems."""

from __future__ import annotations

import copy
import difflib
import json
import re
from collections.abc import Callable, Iterator
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, ValidationError

from restoreflow.kube import names
from restoreflow.kube.durations import parse_duration_ns
from restoreflow.plan.priorities import parse_priorities
from restoreflow.plan.source import JsonPath

SCHEMA_RESOURCE = "schemas/restore-plan.schema.json"

# A finding: (path, message, anchor); anchor "key" points at the key, "value" at the value.
Finding = tuple[JsonPath, str, str]

# Velero's (or Kubernetes') wording for some schema violations, by path (list indexes as []).
_OVERRIDES: dict[tuple[str, str], str] = {
    ("spec.existingResourcePolicy", "enum"): "Invalid ExistingResourcePolicy: {value}",
    (".matchExpressions[].operator", "enum"): '"{value}" is not a valid label selector operator',
    ("spec.transforms.resourceModifiers.version", "enum"): "unsupported resource modifier version {value}",
    ("spec.transforms.resourceModifiers.resourceModifierRules", "minItems"): (
        "resource modifier rules cannot be empty"
    ),
    (".patches[].operation", "enum"): "unsupported operation {value}",
    (".patches[].path", "minLength"): "path cannot be empty",
    (".conditions.groupResource", "minLength"): "groupResource cannot be empty",
    (".matches[].path", "minLength"): "path is required for match rule",
}
DURATION_HINT = 'durations look like "30s", "1m30s" or "4h"'
_YAML11_BOOLEANS = {"yes", "no", "on", "off", "y", "n"}
_YAML11_BOOLEAN_HINT = " (YAML 1.2 reads it as a string: write true or false)"
_JSON_TYPES = {
    dict: "object",
    list: "array",
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    type(None): "null",
}


def schema_text() -> str:
    """The canonical schema file, as shipped inside the package."""
    return resources.files("restoreflow").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")


@cache
def shared_schema() -> dict[str, Any]:
    """The schema, parsed once; read it, never change it."""
    schema: dict[str, Any] = json.loads(schema_text())
    return schema


def plan_schema() -> dict[str, Any]:
    """The schema as a fresh dict (yours to change)."""
    return copy.deepcopy(shared_schema())


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())

    def register(name: str) -> Callable[[Callable[[object], bool]], Callable[[object], bool]]:
        decorator: Callable[[Callable[[object], bool]], Callable[[object], bool]] = checker.checks(
            name, raises=ValueError
        )
        return decorator

    @register("duration")
    def _duration(value: object) -> bool:
        if not isinstance(value, str):
            return True
        try:
            negative = parse_duration_ns(value) < 0
        except ValueError as err:
            raise ValueError(f"{err} ({DURATION_HINT})") from None
        if negative:
            raise ValueError(f'Invalid value: "{value}": must not be negative')
        return True

    for format_name, errors_of in {
        "dns1123-label": names.dns1123_label_errors,
        "dns1123-subdomain": names.dns1123_subdomain_errors,
        "dns1123-subdomain-or-empty": lambda value: names.dns1123_subdomain_errors(value) if value else [],
        "label-key": names.qualified_name_errors,
        "label-value": names.label_value_errors,
        "namespace-pattern": _namespace_pattern_errors,
        "resource-pattern": _resource_pattern_errors,
        "resource-name": _resource_name_errors,
        "image-mapping": _image_mapping_errors,
        "group-resource": _group_resource_errors,
        "api-version-name": names.dns1035_label_errors,
    }.items():
        register(format_name)(_checker_from(errors_of))

    @register("priority-list")
    def _priority_list(value: object) -> bool:
        if isinstance(value, str):
            parse_priorities(value)
        return True

    return checker


def _checker_from(errors_of: Any) -> Any:
    def check(value: object) -> bool:
        errors = errors_of(value) if isinstance(value, str) else []
        if errors:
            raise ValueError(names.invalid_value(value, errors))  # type: ignore[arg-type]
        return True

    return check


def _namespace_pattern_errors(value: str) -> list[str]:
    """A namespace name, or a glob pattern checked the way Velero checks namespace wildcards."""
    if not any(c in value for c in "*?[]|(){}!,"):
        return names.dns1123_label_errors(value)
    if any(c in value for c in "|()!{},"):
        return ["wildcard pattern contains unsupported characters: |, (, ), !, {, }, ,"]
    if "**" in value:
        return ["wildcard pattern contains consecutive asterisks (only single * allowed)"]
    bracket = _bracket_error(value)
    if bracket:
        return [bracket]
    if not re.fullmatch(r"[-a-z0-9*?\[\]^]+", value):
        return ["a wildcard pattern may hold lower case alphanumerics, '-', '*', '?' and [...] classes"]
    return []


def _bracket_error(pattern: str) -> str | None:
    """Velero's bracket checks: no empty class, no unclosed '[', no stray ']'."""
    index = 0
    while index < len(pattern):
        if pattern[index] == "[":
            close = pattern.find("]", index + 1)
            if close < 0:
                return "wildcard pattern contains unclosed bracket '['"
            if close == index + 1:
                return "wildcard pattern contains empty bracket pattern '[]'"
            index = close
        elif pattern[index] == "]":
            return "wildcard pattern contains unmatched closing bracket ']'"
        index += 1
    return None


def _resource_pattern_errors(value: str) -> list[str]:
    if re.fullmatch(r"[-A-Za-z0-9.*?\[\]!^]+", value):
        return []
    return ['must be a resource such as "pods" or "deployments.apps", a short name such as "po", or a glob']


def _resource_name_errors(value: str) -> list[str]:
    if re.fullmatch(r"[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?", value):
        return []
    return ['must be a resource such as "pods" or "deployments.apps"']


def _group_resource_errors(value: str) -> list[str]:
    if len(value) <= 253 and re.fullmatch(names.DNS1123_SUBDOMAIN, value):
        return []
    return [
        "must be a resource and its API group in lower case, as the backup names its folder, such as "
        '"rockbands.music.example.io", "deployments.apps" or "pods"'
    ]


def _image_mapping_errors(value: str) -> list[str]:
    return [] if re.fullmatch(r"[^,]*,.+", value, re.DOTALL) else ['must have the form "old,new"']


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(shared_schema(), format_checker=_format_checker())


def schema_findings(document: Any) -> list[Finding]:
    """Every schema violation of a document, one finding per offending key or value."""
    findings: list[Finding] = []
    errors = list(_validator().iter_errors(document))
    formatted = {_where(e) for e in errors if e.validator == "format"}
    for error in errors:
        if error.validator in ("pattern", "maxLength") and _where(error) in formatted:
            continue  # the format check explains the same value better
        findings += _findings(error)
    return list(dict.fromkeys(findings))


def _where(error: ValidationError) -> JsonPath:
    path = tuple(error.absolute_path)
    return (*path, error.instance) if "propertyNames" in error.relative_schema_path else path


def _findings(error: ValidationError) -> Iterator[Finding]:
    path = tuple(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = list(error.schema.get("properties", {}))
        for key in error.instance:
            if key not in known:
                yield (*path, key), _unknown_field(key, known), "key"
        return
    if error.validator == "required" and isinstance(error.instance, dict):
        for key in error.validator_value:
            if key not in error.instance:
                yield (*path, key), "required field is missing", "key"
        return
    if "propertyNames" in error.relative_schema_path:
        yield (*path, error.instance), _message(error, (*path, error.instance)), "key"
        return
    yield path, _message(error, path), "value"


def _unknown_field(key: str, known: list[str]) -> str:
    message = f'unknown field "{key}"'
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f'{message} (did you mean "{close[0]}"?)' if close else message


def _message(error: ValidationError, path: JsonPath) -> str:
    value, expected = error.instance, error.validator_value
    override = _override(path, str(error.validator))
    if override:
        return override.format(value=value)
    if error.validator == "format" and error.cause is not None:
        return str(error.cause)
    if error.validator == "type":
        if error.schema.get("format") == "duration":
            return f"must be a duration string, got {_describe(value)} ({DURATION_HINT})"
        types = " or ".join(expected) if isinstance(expected, list) else expected
        hint = (
            _YAML11_BOOLEAN_HINT if str(value).lower() in _YAML11_BOOLEANS and "boolean" in expected else ""
        )
        return f"must be of type {types}, got {_describe(value)}{hint}"
    if error.validator == "enum":
        supported = ", ".join(json.dumps(v) for v in expected)
        return f"Unsupported value: {json.dumps(value)}: supported values: {supported}"
    simple = {
        "minItems": f"must have at least {expected} item{'s' if expected != 1 else ''}",
        "minLength": "must not be empty",
        "maxLength": f"must be no more than {expected} characters",
        "minimum": f"must be greater than or equal to {expected}",
        "maximum": f"must be less than or equal to {expected}",
        "exclusiveMinimum": f"must be greater than {expected}",
    }
    return simple.get(str(error.validator), str(error.message))


def _override(path: JsonPath, validator: str) -> str | None:
    generic = re.sub(r"\[\d+\]", "[]", _dotted(path))
    for (suffix, name), template in _OVERRIDES.items():
        if name == validator and (generic == suffix or (suffix.startswith(".") and generic.endswith(suffix))):
            return template
    return None


def _dotted(path: JsonPath) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def _describe(value: Any) -> str:
    kind = _JSON_TYPES.get(type(value), type(value).__name__)
    if isinstance(value, (dict, list)) or value is None:
        return kind
    return f"{kind} {json.dumps(value)}"
