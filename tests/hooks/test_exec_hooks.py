"""Exec hooks run in sandbox pods through the real exec API: success, failures, timeouts, missing ones."""

from __future__ import annotations

import time
from types import MappingProxyType
from typing import Any

import pytest

from restoreflow.cluster import Cluster
from restoreflow.plan.model import (
    ExecHook,
    PostHook,
    ResourceHookSpec,
    RestorePlan,
    RestoreSpec,
    Source,
    Timeouts,
)
from restoreflow.restore import hooks
from restoreflow.restore.context import RestoreContext


def restore_context(
    sandbox: Any, *specs: ResourceHookSpec, timeouts: Timeouts | None = None
) -> RestoreContext:
    plan = RestorePlan(
        name="p",
        spec=RestoreSpec(
            source=Source(storage_location="file:///b", backup_name="b"),
            hooks=specs,
            timeouts=timeouts or Timeouts(),
        ),
    )
    ctx = RestoreContext(plan, name="r")
    ctx.cluster = Cluster(sandbox.api_client())
    return ctx


def create_pod(ctx: RestoreContext, name: str = "web", annotations: dict[str, str] | None = None) -> dict:
    ctx.cluster.create("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "shop",
            "labels": {"app": "web"},
            "annotations": annotations or {},
        },
        "spec": {"containers": [{"name": "app", "image": "nginx"}, {"name": "side", "image": "busybox"}]},
    }
    return ctx.cluster.create("pods", pod)


def spec(*execs: ExecHook, name: str = "h") -> ResourceHookSpec:
    return ResourceHookSpec(
        name=name,
        label_selector=MappingProxyType({"matchLabels": {"app": "web"}}),
        post_hooks=tuple(PostHook(exec=e) for e in execs),
    )


def run(ctx: RestoreContext, pod: dict) -> None:
    hooks.register_exec_hooks(ctx, pod, pod)
    hooks.run_exec_hooks(ctx)


def errors(ctx: RestoreContext) -> list[str]:
    return ctx.results.errors.namespaces.get("shop", [])


def test_annotation_hook_runs_in_the_first_container_and_its_output_is_logged(sandbox: Any) -> None:
    ctx = restore_context(sandbox, spec(ExecHook(command=("false",))))
    pod = create_pod(ctx, annotations={"post.hook.restore.velero.io/command": '["echo", "restored"]'})
    run(ctx, pod)
    assert (ctx.hook_status.attempted, ctx.hook_status.failed) == (1, 0)
    assert not errors(ctx)
    assert "stdout: restored" in ctx.logs()
    [request] = [r for r in sandbox.requests() if r.get("subresource") == "exec"]
    assert "command=echo&command=restored&container=app" in request["path"]


def test_failing_hook_with_continue_runs_the_next_one(sandbox: Any) -> None:
    ctx = restore_context(
        sandbox,
        spec(
            ExecHook(command=("false",)),
            ExecHook(command=("sh", "-c", "exit 3"), container="side"),
            ExecHook(command=("true",)),
        ),
    )
    run(ctx, create_pod(ctx))
    assert (ctx.hook_status.attempted, ctx.hook_status.failed) == (3, 2)
    assert errors(ctx) == [
        "hook h in container app failed to execute, err: command terminated with exit code 1",
        "hook h in container side failed to execute, err: command terminated with exit code 3",
    ]


def test_failing_hook_with_fail_stops_the_pods_remaining_hooks(sandbox: Any) -> None:
    ctx = restore_context(
        sandbox, spec(ExecHook(command=("false",), on_error="Fail"), ExecHook(command=("true",)))
    )
    run(ctx, create_pod(ctx))
    assert (ctx.hook_status.attempted, ctx.hook_status.failed) == (2, 2)
    assert errors(ctx) == [
        "hook h in container app failed to execute, err: command terminated with exit code 1",
        "hook h in container app in pod shop/web not executed: context canceled",
    ]


def test_exec_timeout_stops_waiting_for_the_command(sandbox: Any) -> None:
    ctx = restore_context(sandbox, spec(ExecHook(command=("sleep", "30"), exec_timeout=0.5)))
    pod = create_pod(ctx)
    started = time.monotonic()
    run(ctx, pod)
    assert time.monotonic() - started < 10
    assert errors(ctx) == ["hook h in container app failed to execute, err: timed out after 500ms"]
    assert ctx.hook_status.failed == 1


def test_hooks_for_a_missing_container_are_discarded_with_a_warning(sandbox: Any) -> None:
    ctx = restore_context(
        sandbox, spec(ExecHook(command=("true",), container="nope"), ExecHook(command=("true",)))
    )
    run(ctx, create_pod(ctx))
    assert ctx.results.warnings.namespaces["shop"] == [
        "Pod shop/web does not have container nope: discarding post-restore exec hooks"
    ]
    assert not errors(ctx)
    assert (ctx.hook_status.attempted, ctx.hook_status.failed) == (2, 0)


def test_unknown_command_fails_like_a_container_runtime(sandbox: Any) -> None:
    ctx = restore_context(sandbox, spec(ExecHook(command=("no-such-tool",))))
    run(ctx, create_pod(ctx))
    [message] = errors(ctx)
    assert message.startswith("hook h in container app failed to execute, err: ")


def test_container_that_never_starts_times_out_the_wait(sandbox: Any) -> None:
    sandbox.configure(pod_running_delay=30)
    ctx = restore_context(sandbox, spec(ExecHook(command=("true",), wait_timeout=0.5)))
    started = time.monotonic()
    run(ctx, create_pod(ctx))
    assert time.monotonic() - started < 10
    assert errors(ctx) == ["hook h in container app in pod shop/web not executed: context deadline exceeded"]


def test_hook_whose_own_wait_expired_is_not_run_but_the_others_are(sandbox: Any) -> None:
    sandbox.configure(pod_running_delay=1.0)
    hurried = ExecHook(command=("echo", "late"), wait_timeout=0.2)
    ctx = restore_context(sandbox, spec(hurried, ExecHook(command=("echo", "patient"), wait_timeout=10)))
    run(ctx, create_pod(ctx))
    assert errors(ctx) == ["hook h in container app expired before executing"]
    assert (ctx.hook_status.attempted, ctx.hook_status.failed) == (2, 1)
    assert "stdout: patient" in ctx.logs() and "stdout: late" not in ctx.logs()


def test_pod_that_already_finished_does_not_run_hooks(sandbox: Any) -> None:
    ctx = restore_context(sandbox, spec(ExecHook(command=("true",))))
    pod = create_pod(ctx)
    sandbox.load([{**pod, "status": {"phase": "Succeeded"}}])
    run(ctx, pod)
    assert errors(ctx) == ["hook h in container app in pod shop/web not executed: context canceled"]


def test_unset_wait_timeout_takes_the_plans_finite_default(sandbox: Any) -> None:
    sandbox.configure(pod_running_delay=30)
    ctx = restore_context(sandbox, spec(ExecHook(command=("true",))), timeouts=Timeouts(hook_wait=0.5))
    run(ctx, create_pod(ctx))
    assert errors(ctx) == ["hook h in container app in pod shop/web not executed: context deadline exceeded"]


def test_hooks_run_once_even_if_the_phase_runs_again(sandbox: Any) -> None:
    ctx = restore_context(sandbox, spec(ExecHook(command=("true",))))
    pod = create_pod(ctx)
    run(ctx, pod)
    run(ctx, pod)
    assert ctx.hook_status.attempted == 1


@pytest.mark.parametrize("on_error", ["Continue", "Fail"])
def test_deleted_pod_ends_its_hooks(sandbox: Any, on_error: str) -> None:
    sandbox.configure(pod_running_delay=30)
    ctx = restore_context(sandbox, spec(ExecHook(command=("true",), on_error=on_error, wait_timeout=5)))
    pod = create_pod(ctx)
    hooks.register_exec_hooks(ctx, pod, pod)
    ctx.cluster.delete("pods", "web", "shop")
    hooks.run_exec_hooks(ctx)
    assert errors(ctx) == ["hook h in container app in pod shop/web not executed: context canceled"]
