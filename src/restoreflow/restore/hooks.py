"""Post-restore exec hooks: noted when a pod is created, run in the hooks phase (Velero's rules).

Per pod, the hooks wait for their container to be running (or ready, when a hook asks), then run
one after another through the exec API, each bounded by its execTimeout. `onError: Fail` stops the
pod's remaining hooks. Unlike Velero, no wait is unbounded: a hook without waitTimeout waits
`timeouts.hookWait` (10 minutes by default), measured from the start of the hooks phase. Pods are
served concurrently. Failures are restore errors keyed by the pod's namespace, so the restore ends
PartiallyFailed; `hookStatus` counts hooks attempted and failed. Output is logged, truncated.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from restoreflow.plan.hooks import PodExecHook, exec_hooks_for_pod
from restoreflow.restore.hook_exec import ExecFailed, exec_command

if TYPE_CHECKING:
    from restoreflow.restore.context import RestoreContext

POLL_INTERVAL = 0.5
OUTPUT_LIMIT = 512
DEADLINE_EXCEEDED = "context deadline exceeded"
CANCELED = "context canceled"


@dataclass
class PodHooks:
    """The exec hooks of one restored pod, by container, in execution order."""

    namespace: str
    name: str
    containers: tuple[str, ...]
    hooks: list[PodExecHook]
    done: bool = False


@dataclass
class HookRegistry:
    lock: threading.Lock = field(default_factory=threading.Lock)
    pods: dict[tuple[str, str], PodHooks] = field(default_factory=dict)


def _registry(ctx: RestoreContext) -> HookRegistry:
    with ctx.lock:
        if ctx.work.exec_hooks is None:
            ctx.work.exec_hooks = HookRegistry()
        return ctx.work.exec_hooks


def register_exec_hooks(ctx: RestoreContext, created_pod: dict[str, Any], backup_pod: dict[str, Any]) -> None:
    """Note the exec hooks that apply to a restored pod (run in the hooks phase)."""
    hooks = exec_hooks_for_pod(ctx.plan.spec.hooks, created_pod, ctx.log)
    if not hooks:
        return
    metadata = created_pod["metadata"]
    containers = tuple(c.get("name", "") for c in (created_pod.get("spec") or {}).get("containers") or [])
    registry = _registry(ctx)
    with registry.lock:
        key = (metadata.get("namespace", ""), metadata["name"])
        registry.pods.setdefault(key, PodHooks(key[0], key[1], containers, hooks))


def run_exec_hooks(ctx: RestoreContext) -> None:
    """Run the registered exec hooks, waiting for their containers, bounded by the plan's timeouts."""
    registry = _registry(ctx)
    with registry.lock:
        pods = [p for p in registry.pods.values() if not p.done]
    if not pods:
        return
    workers = max(1, min(len(pods), ctx.plan.spec.concurrency.workers))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="restoreflow-hooks") as pool:
        list(pool.map(lambda pod: PodHookRun(ctx, pod).run(), pods))


class PodHookRun:
    """One pod's hooks: Velero's wait-exec handler, polling the pod instead of watching it."""

    def __init__(self, ctx: RestoreContext, pod: PodHooks) -> None:
        self.ctx = ctx
        self.pod = pod
        self.timeouts = ctx.plan.spec.timeouts
        self.pending: dict[str, list[PodExecHook]] = {}
        self.stop_reason = ""

    def run(self) -> None:
        """At most once per pod, even if the phase runs again: hooks need not be idempotent."""
        self.pod.done = True
        self._discard_missing_containers()
        waits = [self._wait_timeout(h) for hooks in self.pending.values() for h in hooks]
        if not waits:
            return
        start = time.monotonic()
        try:
            self._wait_and_run(start, start + max(waits))
        except Exception as err:  # a cluster fault ends this pod's hooks, not the others'
            self.stop_reason = str(err)
        self._record_unexecuted()

    def _wait_and_run(self, start: float, deadline: float) -> None:
        while self.pending and not self.stop_reason:
            live = self.ctx.cluster.get("pods", self.pod.name, self.pod.namespace)
            self._observe(live, start)
            if not self.pending or self.stop_reason:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.stop_reason = DEADLINE_EXCEEDED
            elif self.ctx.cancel.wait(min(POLL_INTERVAL, remaining)):
                self.stop_reason = CANCELED

    def _discard_missing_containers(self) -> None:
        """Hooks for a container the pod lacks would wait forever: warn once per container, drop them."""
        missing: set[str] = set()
        for hook in self.pod.hooks:
            if hook.container in self.pod.containers:
                self.pending.setdefault(hook.container, []).append(hook)
                continue
            self.ctx.hook_status.count(failed=False)
            if hook.container not in missing:
                missing.add(hook.container)
                message = (
                    f"Pod {self._id} does not have container {hook.container}: "
                    "discarding post-restore exec hooks"
                )
                self.ctx.results.add_warning(self.pod.namespace, message)

    def _wait_timeout(self, hook: PodExecHook) -> float:
        return hook.wait_timeout or self.timeouts.hook_wait

    def _observe(self, live: Mapping[str, Any] | None, start: float) -> None:
        if live is None:
            self.ctx.log.error(
                "pod %s/%s deleted before all hooks were executed", self.pod.namespace, self.pod.name
            )
            self.stop_reason = CANCELED
            return
        phase = (live.get("status") or {}).get("phase")
        if phase in ("Succeeded", "Failed"):
            self.ctx.log.warning("pod entered phase %s before some post-restore exec hooks ran", phase)
            self.stop_reason = CANCELED
            return
        for container, hooks in list(self.pending.items()):
            if not container_up(live, container, hooks):
                continue
            for index, hook in enumerate(hooks):
                if not self._run_hook(hook, start):
                    self.pending[container] = hooks[index + 1 :]
                    self.stop_reason = CANCELED
                    return
            del self.pending[container]

    def _run_hook(self, hook: PodExecHook, start: float) -> bool:
        """Run one hook and record it; False when its failure must stop the pod's other hooks."""
        where = f"hook {hook.name} in container {hook.container}"
        if time.monotonic() - start > self._wait_timeout(hook):
            return self._failed(hook, f"{where} expired before executing")
        timeout = hook.exec_timeout or self.timeouts.exec_hook
        self.ctx.log.info(
            "running exec hook %s in container %s of pod %s", hook.name, hook.container, self._id
        )
        try:
            output = exec_command(
                self.ctx.cluster.api_client.configuration,
                self.pod.namespace,
                self.pod.name,
                hook.container,
                hook.command,
                timeout,
            )
        except ExecFailed as err:
            return self._failed(hook, f"{where} failed to execute, err: {err}")
        self.ctx.log.info("%s of pod %s stdout: %s", where, self._id, _truncate(output.stdout))
        self.ctx.log.info("%s of pod %s stderr: %s", where, self._id, _truncate(output.stderr))
        self.ctx.hook_status.count(failed=False)
        return True

    def _failed(self, hook: PodExecHook, message: str) -> bool:
        self.ctx.results.add_error(self.pod.namespace, message)
        self.ctx.hook_status.count(failed=True)
        return hook.on_error != "Fail"

    def _record_unexecuted(self) -> None:
        for hooks in self.pending.values():
            for hook in hooks:
                message = (
                    f"hook {hook.name} in container {hook.container} in pod {self._id} "
                    f"not executed: {self.stop_reason or DEADLINE_EXCEEDED}"
                )
                self.ctx.results.add_error(self.pod.namespace, message)
                self.ctx.hook_status.count(failed=True)
        self.pending.clear()

    @property
    def _id(self) -> str:
        return f"{self.pod.namespace}/{self.pod.name}"


def container_up(pod: Mapping[str, Any], container: str, hooks: list[PodExecHook]) -> bool:
    """Running, or ready when any of the container's hooks waits for readiness."""
    wait_for_ready = any(h.wait_for_ready for h in hooks)
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if status.get("name") == container:
            if wait_for_ready:
                return bool(status.get("ready"))
            return "running" in (status.get("state") or {})
    return False


def _truncate(text: str) -> str:
    text = text.rstrip("\n")
    return text if len(text) <= OUTPUT_LIMIT else f"{text[:OUTPUT_LIMIT]}... ({len(text)} characters)"
