"""Which hooks apply to a pod, parsed as Velero parses them (annotations win over the plan)."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from restoreflow.actions.base import ActionError, ActionInput
from restoreflow.actions.init_restore_hook import InitRestoreHookAction
from restoreflow.plan.hooks import (
    INVALID_INIT_CONTAINER,
    exec_hooks_for_pod,
    parse_command,
)
from restoreflow.plan.model import (
    ExecHook,
    InitHook,
    PostHook,
    ResourceHookSpec,
    RestorePlan,
    RestoreSpec,
    Source,
)
from restoreflow.restore.context import RestoreContext


def plan(hooks: tuple[ResourceHookSpec, ...] = (), mapping: dict[str, str] | None = None) -> RestorePlan:
    spec = RestoreSpec(
        source=Source(storage_location="file:///backups", backup_name="b"),
        hooks=hooks,
        namespace_mapping=MappingProxyType(mapping or {}),
    )
    return RestorePlan(name="p", spec=spec)


def pod(
    namespace: str = "shop", annotations: dict | None = None, labels: dict | None = None, init=None
) -> dict:
    spec = {"containers": [{"name": "app", "image": "nginx"}, {"name": "side", "image": "busybox"}]}
    if init is not None:
        spec["initContainers"] = init
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web",
            "namespace": namespace,
            "annotations": annotations or {},
            "labels": labels or {},
        },
        "spec": spec,
    }


INIT_A = {"name": "init-a", "image": "busybox", "command": ["echo", "a"]}
INIT_B = {"name": "init-b", "image": "busybox", "command": ["echo", "b"]}


@pytest.mark.parametrize(
    ("value", "command"),
    [
        ('["sh", "-c", "echo hi"]', ("sh", "-c", "echo hi")),
        ("echo hi", ("echo hi",)),
        ("[not json", ("[not json",)),
    ],
)
def test_annotation_commands(value: str, command: tuple[str, ...]) -> None:
    assert parse_command(value) == command


def test_annotation_exec_hook_wins_over_plan_and_defaults_to_first_container() -> None:
    hooks = (ResourceHookSpec(name="h", post_hooks=(PostHook(exec=ExecHook(command=("true",))),)),)
    annotated = pod(
        annotations={
            "post.hook.restore.velero.io/command": '["echo", "hi"]',
            "post.hook.restore.velero.io/on-error": "Fail",
            "post.hook.restore.velero.io/exec-timeout": "5s",
            "post.hook.restore.velero.io/wait-timeout": "1m",
            "post.hook.restore.velero.io/wait-for-ready": "true",
        }
    )
    [hook] = exec_hooks_for_pod(hooks, annotated)
    assert (hook.name, hook.container, hook.command) == ("<from-annotation>", "app", ("echo", "hi"))
    assert (hook.on_error, hook.exec_timeout, hook.wait_timeout, hook.wait_for_ready) == (
        "Fail",
        5.0,
        60.0,
        True,
    )


def test_unparsable_annotation_values_are_ignored() -> None:
    annotated = pod(
        annotations={
            "post.hook.restore.velero.io/command": "true",
            "post.hook.restore.velero.io/container": "side",
            "post.hook.restore.velero.io/on-error": "Explode",
            "post.hook.restore.velero.io/exec-timeout": "soon",
            "post.hook.restore.velero.io/wait-for-ready": "maybe",
        }
    )
    [hook] = exec_hooks_for_pod((), annotated)
    assert (hook.container, hook.on_error, hook.exec_timeout, hook.wait_for_ready) == (
        "side",
        "Continue",
        0.0,
        False,
    )


def test_plan_exec_hooks_select_by_target_namespace_and_labels() -> None:
    hooks = (
        ResourceHookSpec(
            name="in-drill",
            included_namespaces=("shop-*",),
            label_selector=MappingProxyType({"matchLabels": {"app": "web"}}),
            post_hooks=(
                PostHook(exec=ExecHook(command=("echo", "1"))),
                PostHook(init=InitHook(init_containers=(INIT_A,))),
                PostHook(exec=ExecHook(command=("echo", "2"), container="side", on_error="Fail")),
            ),
        ),
        ResourceHookSpec(
            name="excluded",
            excluded_namespaces=("shop-drill",),
            post_hooks=(PostHook(exec=ExecHook(command=("x",))),),
        ),
    )
    selected = exec_hooks_for_pod(hooks, pod(namespace="shop-drill", labels={"app": "web"}))
    assert [(h.name, h.index, h.container, h.command, h.on_error) for h in selected] == [
        ("in-drill", 0, "app", ("echo", "1"), "Continue"),
        ("in-drill", 2, "side", ("echo", "2"), "Fail"),
    ]
    assert exec_hooks_for_pod(hooks, pod(namespace="shop-drill", labels={"app": "db"})) == []


def run_init_action(restore_plan: RestorePlan, item: dict) -> dict:
    ctx = RestoreContext(restore_plan, name="r")
    result = InitRestoreHookAction().execute(ActionInput(item=item, item_from_backup=dict(item), restore=ctx))
    return result.item


def test_init_hooks_from_plan_follow_restore_wait_and_precede_the_pods_own() -> None:
    hooks = (
        ResourceHookSpec(
            name="h", included_namespaces=("drill",), post_hooks=(PostHook(init=InitHook((INIT_A, INIT_B))),)
        ),
    )
    wait = {"name": "restore-wait", "image": "velero/velero:v1.18.1"}
    own = {"name": "own", "image": "busybox"}
    item = run_init_action(plan(hooks, {"shop": "drill"}), pod(init=[wait, own]))
    assert [c["name"] for c in item["spec"]["initContainers"]] == ["restore-wait", "init-a", "init-b", "own"]


def test_init_hook_from_annotations_replaces_plan_hooks() -> None:
    hooks = (ResourceHookSpec(name="h", post_hooks=(PostHook(init=InitHook((INIT_A,))),)),)
    annotations = {
        "init.hook.restore.velero.io/container-image": "busybox",
        "init.hook.restore.velero.io/command": '["sh", "-c", "echo ready"]',
    }
    item = run_init_action(plan(hooks), pod(annotations=annotations))
    [container] = item["spec"]["initContainers"]
    assert container["image"] == "busybox" and container["command"] == ["sh", "-c", "echo ready"]
    assert (
        container["name"].startswith("velero-restore-init-")
        and len(container["name"]) == len("velero-restore-init-") + 8
    )


def test_invalid_plan_init_container_fails_the_item_with_veleros_message() -> None:
    hooks = (
        ResourceHookSpec(
            name="h", post_hooks=(PostHook(init=InitHook(({"name": "x", "image": "busybox"},))),)
        ),
    )
    with pytest.raises(ActionError, match=INVALID_INIT_CONTAINER):
        run_init_action(plan(hooks), pod())
