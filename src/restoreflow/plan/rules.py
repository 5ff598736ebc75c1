"""What the schema cannot express: Velero's validation of a Restore, with Velero's messages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from restoreflow.kube.durations import parse_duration_ns
from restoreflow.kube.selectors import BOTH_SELECTORS, label_selector_problems
from restoreflow.plan.model import NON_RESTORABLE_RESOURCES
from restoreflow.plan.priorities import parse_priorities
from restoreflow.plan.source import JsonPath

Rule = tuple[JsonPath, str]

SPEC: JsonPath = ("spec",)
# fsspec options that carry credentials: they belong in the environment, never in a plan.
SECRET_OPTIONS = frozenset(
    {
        "key",
        "secret",
        "token",
        "password",
        "passwd",
        "secret_key",
        "access_key",
        "account_key",
        "sas_token",
        "client_secret",
        "connection_string",
        "credential",
        "credentials",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
    }
)
NON_SECRET_TOKENS = frozenset({"anon", "google_default", "cache", "cloud", "browser"})  # gcsfs modes


def semantic_findings(document: Any) -> list[Rule]:
    """Every semantic problem of a (possibly schema-invalid) plan document."""
    spec = _mapping(_mapping(document).get("spec"))
    checks = (
        _resource_lists,
        _namespace_lists,
        _selectors,
        _source,
        _hooks,
        _priorities,
        _resource_modifier_ref,
        _resource_modifiers,
        _timeouts,
    )
    return [finding for check in checks for finding in check(spec)]


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _strings(value: Any) -> list[str]:
    return [v if isinstance(v, str) else "" for v in value] if isinstance(value, list) else []


def includes_excludes_errors(includes: list[str], excludes: list[str]) -> Iterator[tuple[str, str, int]]:
    """Velero's ValidateIncludesExcludes: (message, "included"|"excluded", index of the culprit)."""
    if len(set(includes)) > 1 and "*" in includes:
        star = includes.index("*")
        yield "includes list must either contain '*' only, or a non-empty list of items", "included", star
    if "*" in excludes:
        yield "excludes list cannot contain '*'", "excluded", excludes.index("*")
    for item in sorted(set(excludes)):
        if item in includes:
            message = f"excludes list cannot contain an item in the includes list: {item}"
            yield message, "excluded", excludes.index(item)


def _resource_lists(spec: dict[str, Any]) -> Iterator[Rule]:
    includes, user_excludes = _strings(spec.get("includedResources")), _strings(spec.get("excludedResources"))
    for index, name in enumerate(includes):
        if name in NON_RESTORABLE_RESOURCES:
            yield (*SPEC, "includedResources", index), f"{name} are non-restorable resources"
    excludes = user_excludes + [r for r in NON_RESTORABLE_RESOURCES if r not in user_excludes]
    for message, side, index in includes_excludes_errors(includes, excludes):
        if side == "excluded" and index >= len(user_excludes):  # a non-restorable resource, also included
            side, index = "included", includes.index(excludes[index])
        yield (*SPEC, f"{side}Resources", index), f"Invalid included/excluded resource lists: {message}"


def _namespace_lists(spec: dict[str, Any]) -> Iterator[Rule]:
    includes, excludes = _strings(spec.get("includedNamespaces")), _strings(spec.get("excludedNamespaces"))
    for message, side, index in includes_excludes_errors(includes, excludes):
        yield (*SPEC, f"{side}Namespaces", index), f"Invalid included/excluded namespace lists: {message}"


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _selectors(spec: dict[str, Any]) -> Iterator[Rule]:
    if spec.get("labelSelector") is not None and spec.get("orLabelSelectors") is not None:
        yield (*SPEC, "orLabelSelectors"), BOTH_SELECTORS
    yield from _selector((*SPEC, "labelSelector"), spec.get("labelSelector"))
    for index, selector in enumerate(_list(spec.get("orLabelSelectors"))):
        yield from _selector((*SPEC, "orLabelSelectors", index), selector)


def _selector(path: JsonPath, selector: Any) -> Iterator[Rule]:
    for relative, message in label_selector_problems(selector):
        yield (*path, *relative), message


def _source(spec: dict[str, Any]) -> Iterator[Rule]:
    if "source" not in spec:
        return  # the schema reports it missing
    source = _mapping(spec.get("source"))
    given = [key for key in ("backupName", "scheduleName") if source.get(key)]
    if len(given) != 1:
        where = (*SPEC, "source", given[-1]) if given else (*SPEC, "source")
        yield where, "Either a backup or schedule must be specified as a source for the restore, but not both"
    yield from _storage_location(source.get("storageLocation"))
    yield from _secret_options((*SPEC, "source", "options"), source.get("options"))


def _storage_location(url: Any) -> Iterator[Rule]:
    if not isinstance(url, str) or "://" not in url:
        return
    path: JsonPath = (*SPEC, "source", "storageLocation")
    try:
        password = urlsplit(url).password
    except ValueError:
        yield path, "not a valid URL"
        return
    if password is not None:
        yield path, "credentials must not be kept in the plan: give them through the environment"
    import fsspec

    protocol = url.split("://", 1)[0]
    if protocol not in fsspec.available_protocols():
        yield path, f'unknown storage protocol "{protocol}" (fsspec knows e.g. file, s3, gs, az, memory)'


def _secret_options(path: JsonPath, options: Any) -> Iterator[Rule]:
    for key, value in _mapping(options).items():
        if isinstance(value, dict):
            yield from _secret_options((*path, key), value)
        elif key.lower() in SECRET_OPTIONS and not (key == "token" and value in NON_SECRET_TOKENS):
            yield (
                (*path, key),
                "credentials must not be kept in the plan: give them through the environment "
                "(e.g. AWS_SECRET_ACCESS_KEY, GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_KEY)",
            )


def _hooks(spec: dict[str, Any]) -> Iterator[Rule]:
    for index, hook in enumerate(_list(_mapping(spec.get("hooks")).get("resources"))):
        path = (*SPEC, "hooks", "resources", index)
        hook = _mapping(hook)
        yield from _selector((*path, "labelSelector"), hook.get("labelSelector"))
        for post_index, post in enumerate(_list(hook.get("postHooks"))):
            init = _mapping(_mapping(post).get("init"))
            for container_index, container in enumerate(_list(init.get("initContainers"))):
                container = _mapping(container)
                if not (container.get("command") and container.get("name") and container.get("image")):
                    yield (
                        (*path, "postHooks", post_index, "init", "initContainers", container_index),
                        "invalid InitContainer in restore hook, it doesn't have Command, Name or Image field",
                    )


def _priorities(spec: dict[str, Any]) -> Iterator[Rule]:
    priorities = spec.get("priorities")
    if not isinstance(priorities, str):
        return
    try:
        high, low = parse_priorities(priorities)
    except ValueError:
        return  # the schema's format check reports it
    for name in high + low:
        if name != "-" and not re.fullmatch(r"[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?", name):
            yield (*SPEC, "priorities"), f'invalid resource "{name}" in priorities'


def _resource_modifier_ref(spec: dict[str, Any]) -> Iterator[Rule]:
    kind = _mapping(spec.get("resourceModifier")).get("kind")
    if isinstance(kind, str) and kind.lower() != "configmap":
        yield (*SPEC, "resourceModifier", "kind"), f'unsupported kind "{kind}": only ConfigMap is supported'


def _resource_modifiers(spec: dict[str, Any]) -> Iterator[Rule]:
    modifiers = _mapping(_mapping(spec.get("transforms")).get("resourceModifiers"))
    for index, rule in enumerate(_list(modifiers.get("resourceModifierRules"))):
        path = (*SPEC, "transforms", "resourceModifiers", "resourceModifierRules", index)
        rule = _mapping(rule)
        kinds = [k for k in ("patches", "mergePatches", "strategicPatches") if rule.get(k)]
        if len(kinds) > 1:
            yield (*path, kinds[1]), "only one of patches, mergePatches, strategicPatches can be specified"
        conditions = _mapping(rule.get("conditions"))
        regex = conditions.get("resourceNameRegex")
        if isinstance(regex, str):
            try:
                re.compile(regex)
            except re.error as err:
                yield (*path, "conditions", "resourceNameRegex"), f"error in matching regex {err}"
        yield from _selector((*path, "conditions", "labelSelector"), conditions.get("labelSelector"))
        for kind in ("mergePatches", "strategicPatches"):
            for patch_index, patch in enumerate(_list(rule.get(kind))):
                yield from _patch_data(
                    (*path, kind, patch_index, "patchData"), _mapping(patch).get("patchData")
                )


def _patch_data(path: JsonPath, data: Any) -> Iterator[Rule]:
    if not isinstance(data, str):
        return
    try:
        parsed = YAML(typ="safe", pure=True).load(data)
    except YAMLError as err:
        yield path, f"error in converting YAML to JSON: {getattr(err, 'problem', None) or err}"
        return
    if not isinstance(parsed, dict):
        yield path, "error in converting YAML to JSON: the patch must be a mapping"


def _timeouts(spec: dict[str, Any]) -> Iterator[Rule]:
    for name, value in _mapping(spec.get("timeouts")).items():
        try:
            zero = isinstance(value, str) and parse_duration_ns(value) == 0
        except ValueError:
            continue  # the schema reports it
        if zero:
            yield (*SPEC, "timeouts", name), "must be greater than 0s"
