"""Init and exec hooks through a whole restore: what a user sees in the cluster and in the result."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import Any

from restoreflow.backup import BackupBuilder
from restoreflow.plan.model import ExecHook, InitHook, PostHook, ResourceHookSpec
from tests.volumes.e2e import namespace, namespace_errors, restore, with_velero
from tests.volumes.helpers import app_pod, make_plan, pvb


def hook_backup(annotations: dict[str, str] | None = None, with_volume: bool = False) -> BackupBuilder:
    backup = BackupBuilder("nightly")
    pod = app_pod(
        labels={"app": "web"}, annotations=annotations or {}, volumes=[{"name": "cache", "emptyDir": {}}]
    )
    pod["spec"]["initContainers"] = [{"name": "own", "image": "busybox", "command": ["true"]}]
    backup.add_all([namespace("shop"), pod])
    if with_volume:
        backup.add_pod_volume_backup(pvb("web", "cache"))
    return backup


def hooks_plan(*post: PostHook, **spec: Any):
    resource = ResourceHookSpec(
        name="warm-cache",
        included_namespaces=("shop-drill",),
        label_selector=MappingProxyType({"matchLabels": {"app": "web"}}),
        post_hooks=post,
    )
    return make_plan(mapping={"shop": "shop-drill"}, hooks=(resource,), **spec)


def hook_status(result: Any) -> dict[str, int]:
    return result.status["status"]["hookStatus"]


def test_init_hooks_follow_restore_wait_and_exec_hooks_run_after_the_pod_starts(
    sandbox: Any, tmp_path: Path
) -> None:
    with_velero(sandbox)
    init = {"name": "prepare", "image": "busybox", "command": ["echo", "prepare"]}
    plan = hooks_plan(PostHook(init=InitHook((init,))), PostHook(exec=ExecHook(command=("echo", "warm"))))
    result = restore(sandbox, tmp_path, hook_backup(with_volume=True), plan)
    assert result.phase == "Completed", result.results
    pod = sandbox.get("pods", "web", "shop-drill")
    assert [c["name"] for c in pod["spec"]["initContainers"]] == ["restore-wait", "prepare", "own"]
    assert hook_status(result) == {"hooksAttempted": 1, "hooksFailed": 0}


def test_annotation_exec_hook_wins_over_the_plan(sandbox: Any, tmp_path: Path) -> None:
    annotations = {"post.hook.restore.velero.io/command": '["sh", "-c", "exit 2"]'}
    plan = hooks_plan(PostHook(exec=ExecHook(command=("true",))), PostHook(exec=ExecHook(command=("true",))))
    result = restore(sandbox, tmp_path, hook_backup(annotations), plan)
    assert result.phase == "PartiallyFailed"
    assert namespace_errors(result, "shop-drill") == [
        "hook <from-annotation> in container app failed to execute, err: command terminated with exit code 2"
    ]
    assert hook_status(result) == {"hooksAttempted": 1, "hooksFailed": 1}


def test_fail_hook_makes_the_restore_partially_failed_and_skips_the_rest(
    sandbox: Any, tmp_path: Path
) -> None:
    plan = hooks_plan(
        PostHook(exec=ExecHook(command=("false",), on_error="Fail")),
        PostHook(exec=ExecHook(command=("true",))),
    )
    result = restore(sandbox, tmp_path, hook_backup(), plan)
    assert result.phase == "PartiallyFailed"
    assert namespace_errors(result, "shop-drill") == [
        "hook warm-cache in container app failed to execute, err: command terminated with exit code 1",
        "hook warm-cache in container app in pod shop-drill/web not executed: context canceled",
    ]
    assert hook_status(result) == {"hooksAttempted": 2, "hooksFailed": 2}


def test_exec_timeout_in_a_restore(sandbox: Any, tmp_path: Path) -> None:
    plan = hooks_plan(PostHook(exec=ExecHook(command=("sleep", "20"), exec_timeout=0.3)))
    result = restore(sandbox, tmp_path, hook_backup(), plan)
    assert namespace_errors(result, "shop-drill") == [
        "hook warm-cache in container app failed to execute, err: timed out after 300ms"
    ]


def test_missing_container_is_a_warning_not_a_failure(sandbox: Any, tmp_path: Path) -> None:
    plan = hooks_plan(PostHook(exec=ExecHook(command=("true",), container="sidecar")))
    result = restore(sandbox, tmp_path, hook_backup(), plan)
    assert result.phase == "Completed"
    assert result.results["warnings"]["namespaces"]["shop-drill"] == [
        "Pod shop-drill/web does not have container sidecar: discarding post-restore exec hooks"
    ]
