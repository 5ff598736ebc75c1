"""A valid plan document with every default filled in, and the typed plan built from it."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from restoreflow.kube.durations import format_duration, parse_duration, parse_duration_ns
from restoreflow.plan import model
from restoreflow.plan.priorities import parse_priorities
from restoreflow.plan.schema import shared_schema


def normalize(document: Mapping[str, Any]) -> dict[str, Any]:
    """The normalized document: defaults filled, durations in Go's canonical form, priorities split.

    Like Velero's controller, Velero's non-restorable resources are added to excludedResources,
    an empty existingResourcePolicy means none and a zero itemOperationTimeout the default.
    """
    doc = copy.deepcopy(dict(document))
    spec = doc.setdefault("spec", {})
    if isinstance(spec.get("priorities"), str):
        high, low = parse_priorities(spec["priorities"])
        spec["priorities"] = {"high": high, "low": low}
    if spec.get("existingResourcePolicy") == "":
        del spec["existingResourcePolicy"]  # Velero reads "" as none
    if parse_duration_ns(spec.get("itemOperationTimeout") or "0") == 0:
        spec.pop("itemOperationTimeout", None)
    _patch_data_as_text(spec)
    schema = shared_schema()
    timeouts = _fill(dict(spec.get("timeouts", {})), schema["$defs"]["timeouts"], schema)
    _default_hook_timeouts(spec, timeouts)
    _fill(doc, schema, schema)
    excluded = spec["excludedResources"]
    excluded += [r for r in model.NON_RESTORABLE_RESOURCES if r not in excluded]
    return doc


def resolve_ref(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """The schema with its local `$ref`s followed (siblings of `$ref` win, as they describe it)."""
    while "$ref" in schema:
        target = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _fill(value: Any, schema: dict[str, Any], root: dict[str, Any]) -> Any:
    """Fill defaults from the schema and canonicalize durations, in place; returns the value."""
    schema = resolve_ref(schema, root)
    if isinstance(value, dict) and "properties" in schema:
        for name, prop in schema["properties"].items():
            prop = resolve_ref(prop, root)
            if name not in value and "default" in prop:
                value[name] = copy.deepcopy(prop["default"])
            if name in value:
                value[name] = _fill(value[name], prop, root)
        ordered = {name: value[name] for name in schema["properties"] if name in value}
        rest = {key: item for key, item in value.items() if key not in ordered}
        value.clear()
        value.update(ordered | rest)  # the schema's order first, as `plan show` prints it
    elif isinstance(value, list) and "items" in schema:
        return [_fill(item, schema["items"], root) for item in value]
    elif isinstance(value, str) and schema.get("format") == "duration":
        return format_duration(parse_duration(value))
    return value


def _patch_data_as_text(spec: dict[str, Any]) -> None:
    """Inline patches become Velero's form, text (JSON is YAML), so consumers see one shape."""
    modifiers = spec.get("transforms", {}).get("resourceModifiers") or {}
    for rule in modifiers.get("resourceModifierRules", []):
        for patch in rule.get("mergePatches", []) + rule.get("strategicPatches", []):
            if isinstance(patch["patchData"], dict):
                patch["patchData"] = json.dumps(patch["patchData"])


def _default_hook_timeouts(spec: dict[str, Any], timeouts: dict[str, str]) -> None:
    """Exec hooks without (or with zero) execTimeout/waitTimeout take the plan's timeouts."""
    for hook in spec.get("hooks", {}).get("resources", []):
        for post in hook.get("postHooks", []):
            exec_hook = post.get("exec")
            if exec_hook is None:
                continue
            for field, default in (("execTimeout", "execHook"), ("waitTimeout", "hookWait")):
                if parse_duration_ns(exec_hook.get(field) or "0") == 0:
                    exec_hook[field] = timeouts[default]


def build_plan(doc: dict[str, Any], source_file: str | None) -> model.RestorePlan:
    """The typed plan from a normalized document."""
    spec = doc["spec"]
    return model.RestorePlan(
        name=doc["metadata"]["name"],
        spec=model.RestoreSpec(
            source=_source(spec["source"]),
            target=model.Target(**spec["target"]),
            included_namespaces=tuple(spec["includedNamespaces"]),
            excluded_namespaces=tuple(spec["excludedNamespaces"]),
            included_resources=tuple(spec["includedResources"]),
            excluded_resources=tuple(spec["excludedResources"]),
            include_cluster_resources=spec["includeClusterResources"],
            label_selector=spec["labelSelector"],
            or_label_selectors=_optional_tuple(spec["orLabelSelectors"]),
            namespace_mapping=model.frozen_map(spec["namespaceMapping"]),
            restore_pvs=spec["restorePVs"],
            preserve_node_ports=spec["preserveNodePorts"],
            existing_resource_policy=spec["existingResourcePolicy"],
            restore_status=_restore_status(spec["restoreStatus"]),
            resource_modifier=spec["resourceModifier"],
            hooks=tuple(_resource_hook(h) for h in spec["hooks"]["resources"]),
            item_operation_timeout=parse_duration(spec["itemOperationTimeout"]),
            uploader_config=model.UploaderConfig(
                write_sparse_files=spec["uploaderConfig"]["writeSparseFiles"],
                parallel_files_download=spec["uploaderConfig"]["parallelFilesDownload"],
            ),
            priorities=model.Priorities(
                high=tuple(spec["priorities"]["high"]), low=tuple(spec["priorities"]["low"])
            ),
            api_group_version_priorities=_version_priorities(spec["apiGroupVersionPriorities"]),
            transforms=_transforms(spec["transforms"]),
            timeouts=model.Timeouts(**{_snake(k): parse_duration(v) for k, v in spec["timeouts"].items()}),
            retries=model.Retries(
                api=model.ApiRetries(
                    attempts=spec["retries"]["api"]["attempts"],
                    initial_backoff=parse_duration(spec["retries"]["api"]["initialBackoff"]),
                    max_backoff=parse_duration(spec["retries"]["api"]["maxBackoff"]),
                    request_timeout=parse_duration(spec["retries"]["api"]["requestTimeout"]),
                ),
                phases=model.PhaseRetries(
                    attempts=spec["retries"]["phases"]["attempts"],
                    delay=parse_duration(spec["retries"]["phases"]["delay"]),
                ),
            ),
            concurrency=model.Concurrency(
                workers=spec["concurrency"]["workers"],
                qps=float(spec["concurrency"]["qps"]),
                burst=spec["concurrency"]["burst"],
            ),
            verify=_verify(spec.get("verify")),
        ),
        source_file=source_file,
        document=model.frozen_map(doc),
    )


def _verify(verify: dict[str, Any] | None) -> model.Verify | None:
    if verify is None:
        return None
    return model.Verify(workloads=verify["workloads"], timeout=parse_duration(verify["timeout"]))


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def _optional_tuple(items: list[Any] | None) -> tuple[Any, ...] | None:
    return None if items is None else tuple(items)


def _version_priorities(priorities: dict[str, list[str]]) -> Mapping[str, tuple[str, ...]]:
    return model.frozen_map({resource: tuple(versions) for resource, versions in priorities.items()})


def _source(source: dict[str, Any]) -> model.Source:
    return model.Source(
        storage_location=source["storageLocation"],
        options=model.frozen_map(source["options"]),
        backup_name=source["backupName"] or None,
        schedule_name=source["scheduleName"] or None,
    )


def _restore_status(status: dict[str, Any] | None) -> model.IncludesExcludes | None:
    if status is None:
        return None
    return model.IncludesExcludes(
        included_resources=tuple(status["includedResources"]),
        excluded_resources=tuple(status["excludedResources"]),
    )


def _resource_hook(hook: dict[str, Any]) -> model.ResourceHookSpec:
    return model.ResourceHookSpec(
        name=hook["name"],
        included_namespaces=tuple(hook["includedNamespaces"]),
        excluded_namespaces=tuple(hook["excludedNamespaces"]),
        included_resources=tuple(hook["includedResources"]),
        excluded_resources=tuple(hook["excludedResources"]),
        label_selector=hook["labelSelector"],
        post_hooks=tuple(_post_hook(p) for p in hook["postHooks"]),
    )


def _post_hook(post: dict[str, Any]) -> model.PostHook:
    exec_hook, init_hook = post.get("exec"), post.get("init")
    return model.PostHook(
        exec=None
        if exec_hook is None
        else model.ExecHook(
            command=tuple(exec_hook["command"]),
            container=exec_hook["container"],
            on_error=exec_hook["onError"],
            exec_timeout=parse_duration(exec_hook["execTimeout"]),
            wait_timeout=parse_duration(exec_hook["waitTimeout"]),
            wait_for_ready=exec_hook["waitForReady"],
        ),
        init=None
        if init_hook is None
        else model.InitHook(
            init_containers=tuple(init_hook["initContainers"]),
            timeout=None if init_hook["timeout"] is None else parse_duration(init_hook["timeout"]),
        ),
    )


def _transforms(transforms: dict[str, Any]) -> model.Transforms:
    return model.Transforms(
        storage_class_mapping=model.frozen_map(transforms["storageClassMapping"]),
        image_name_mapping=tuple(transforms["imageNameMapping"]),
        node_mapping=model.frozen_map(transforms["nodeMapping"]),
        resource_modifiers=transforms["resourceModifiers"],
        honor_velero_config_maps=transforms["honorVeleroConfigMaps"],
        velero_namespace=transforms["veleroNamespace"],
    )
