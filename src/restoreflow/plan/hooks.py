"""Which restore hooks apply to a pod: from its annotations or from the plan (Velero's rules).

Annotations win over the plan, for init hooks and exec hooks alike. Plan hooks select pods by the
pod's TARGET namespace (after namespace mapping) and its labels; `includedResources` is ignored, as
in Velero, because restore hooks only ever apply to pods.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from restoreflow.kube.durations import parse_duration
from restoreflow.kube.selectors import matches_label_selector
from restoreflow.plan.matching import IncludesExcludes
from restoreflow.plan.model import ExecHook, ResourceHookSpec

EXEC_COMMAND = "post.hook.restore.velero.io/command"
EXEC_CONTAINER = "post.hook.restore.velero.io/container"
EXEC_ON_ERROR = "post.hook.restore.velero.io/on-error"
EXEC_TIMEOUT = "post.hook.restore.velero.io/exec-timeout"
EXEC_WAIT_TIMEOUT = "post.hook.restore.velero.io/wait-timeout"
EXEC_WAIT_FOR_READY = "post.hook.restore.velero.io/wait-for-ready"
INIT_IMAGE = "init.hook.restore.velero.io/container-image"
INIT_NAME = "init.hook.restore.velero.io/container-name"
INIT_COMMAND = "init.hook.restore.velero.io/command"

ANNOTATION_HOOK_NAME = "<from-annotation>"
INVALID_INIT_CONTAINER = "invalid InitContainer in restore hook, it doesn't have Command, Name or Image field"

_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


class HookError(ValueError):
    """A hook definition Velero would refuse (the pod's item fails)."""


@dataclass(frozen=True)
class PodExecHook:
    """One exec hook bound to a restored pod's container; timeouts in seconds, 0 = plan default."""

    name: str  # the plan's hooks.resources[].name, or "<from-annotation>"
    source: str  # "annotation" or "spec"
    index: int  # position in its postHooks list, to tell same-named hooks apart
    container: str
    command: tuple[str, ...]
    on_error: str = "Continue"
    exec_timeout: float = 0.0
    wait_timeout: float = 0.0
    wait_for_ready: bool = False


def parse_command(value: str) -> tuple[str, ...]:
    """A hook command annotation: a JSON array when it starts with `[`, else one string."""
    if value.startswith("["):
        try:
            parsed = json.loads(value)
        except ValueError:
            return (value,)
        if isinstance(parsed, list) and all(isinstance(p, str) for p in parsed):
            return tuple(parsed)
    return (value,)


def _parse_bool(value: str) -> bool | None:
    return True if value in _TRUE else False if value in _FALSE else None


def applies_to_pod(spec: ResourceHookSpec, namespace: str, labels: Mapping[str, str] | None) -> bool:
    """Velero's ResourceHookSelector for pods: namespace globs and the label selector."""
    namespaces = IncludesExcludes.of(spec.included_namespaces, spec.excluded_namespaces)
    if not namespaces.should_include(namespace):
        return False
    return spec.label_selector is None or matches_label_selector(spec.label_selector, labels)


def init_container_from_annotations(annotations: Mapping[str, str]) -> dict[str, Any] | None:
    """The init container an `init.hook.restore.velero.io/*` annotation set describes, if any."""
    image = annotations.get(INIT_IMAGE, "")
    if not image:
        return None
    name = annotations.get(INIT_NAME) or f"velero-restore-init-{uuid.uuid4().hex[:8]}"
    container: dict[str, Any] = {"name": name, "image": image}
    command = annotations.get(INIT_COMMAND, "")
    if command:
        container["command"] = list(parse_command(command))
    return container


def validated_init_container(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A plan init container, checked as Velero's ValidateContainer does."""
    if not raw.get("command") or not raw.get("name") or not raw.get("image"):
        raise HookError(INVALID_INIT_CONTAINER)
    copied: dict[str, Any] = json.loads(json.dumps(dict(raw)))
    return copied


def init_hook_containers(
    hooks: tuple[ResourceHookSpec, ...], pod: Mapping[str, Any], target_namespace: str
) -> list[dict[str, Any]]:
    """The init containers to insert for a pod: from its annotations, else every matching plan hook."""
    metadata = pod.get("metadata") or {}
    from_annotation = init_container_from_annotations(metadata.get("annotations") or {})
    if from_annotation is not None:
        return [from_annotation]
    containers: list[dict[str, Any]] = []
    for spec in hooks:
        if not applies_to_pod(spec, target_namespace, metadata.get("labels")):
            continue
        for post in spec.post_hooks:
            if post.init is not None:
                containers.extend(validated_init_container(c) for c in post.init.init_containers)
    return containers


def exec_hook_from_annotations(annotations: Mapping[str, str], log: Any = None) -> PodExecHook | None:
    """Velero's getPodExecRestoreHookFromAnnotations; unparsable values are ignored with a log line."""
    command = annotations.get(EXEC_COMMAND, "")
    if not command:
        return None
    on_error = annotations.get(EXEC_ON_ERROR, "")
    return PodExecHook(
        name=ANNOTATION_HOOK_NAME,
        source="annotation",
        index=0,
        container=annotations.get(EXEC_CONTAINER, ""),
        command=parse_command(command),
        on_error=on_error if on_error in ("Continue", "Fail") else "Continue",
        exec_timeout=_annotation_duration(annotations, EXEC_TIMEOUT, "exec timeout", log),
        wait_timeout=_annotation_duration(annotations, EXEC_WAIT_TIMEOUT, "wait timeout", log),
        wait_for_ready=_annotation_bool(annotations, EXEC_WAIT_FOR_READY, log),
    )


def _annotation_duration(annotations: Mapping[str, str], key: str, what: str, log: Any) -> float:
    text = annotations.get(key, "")
    if not text:
        return 0.0
    try:
        return max(parse_duration(text), 0.0)
    except ValueError as err:
        if log is not None:
            log.warning("Unable to parse %s %s, ignoring: %s", what, text, err)
        return 0.0


def _annotation_bool(annotations: Mapping[str, str], key: str, log: Any) -> bool:
    text = annotations.get(key, "")
    parsed = _parse_bool(text) if text else False
    if parsed is None:
        if log is not None:
            log.warning(
                'Unable to parse wait for ready %s, ignoring: strconv.ParseBool: parsing "%s"', text, text
            )
        return False
    return parsed


def _from_plan(spec: ResourceHookSpec, index: int, hook: ExecHook, default_container: str) -> PodExecHook:
    return PodExecHook(
        name=spec.name,
        source="spec",
        index=index,
        container=hook.container or default_container,
        command=tuple(hook.command),
        on_error=hook.on_error,
        exec_timeout=hook.exec_timeout or 0.0,
        wait_timeout=hook.wait_timeout or 0.0,
        wait_for_ready=hook.wait_for_ready,
    )


def exec_hooks_for_pod(
    hooks: tuple[ResourceHookSpec, ...], pod: Mapping[str, Any], log: Any = None
) -> list[PodExecHook]:
    """Velero's GroupRestoreExecHooks: the annotation hook alone, else every matching plan exec hook.

    `pod` is the created pod (target namespace); the container defaults to its first container.
    """
    containers = (pod.get("spec") or {}).get("containers") or []
    if not containers:
        return []
    first = containers[0].get("name", "")
    metadata = pod.get("metadata") or {}
    annotated = exec_hook_from_annotations(metadata.get("annotations") or {}, log)
    if annotated is not None:
        return [annotated if annotated.container else replace(annotated, container=first)]
    selected: list[PodExecHook] = []
    for spec in hooks:
        if not applies_to_pod(spec, metadata.get("namespace", ""), metadata.get("labels")):
            continue
        for index, post in enumerate(spec.post_hooks):
            if post.exec is not None:
                selected.append(_from_plan(spec, index, post.exec, first))
    return selected
