"""A preview against the restore it previews: 10,000 ConfigMaps in 20 namespaces, on the sandbox (in its
own process) and on the real control plane (kube-apiserver + etcd on loopback).

The target namespaces exist already, so the API server judges every item of the preview (a dry-run
create each, as the restore's one create each). Prints both durations, from validate to the last
decision (preview) or to the record written (restore), best of ROUNDS interleaved runs, and their
ratio (target: the preview takes no longer than the restore). On the real control plane each round
restores into namespaces of its own (a namespace mapping), as nothing is reset there.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from bench.bench_engine import NAMESPACES, WORKERS, create_namespaces, objects, write_backup
from restoreflow.cluster import Cluster, make_api_client
from restoreflow.controlplane import ControlPlane
from restoreflow.plan.model import Concurrency, RestorePlan, RestoreSpec, Source, Target
from restoreflow.restore import run_restore
from restoreflow.restore.preview import preview
from restoreflow.sandbox import start_sandbox

ROUNDS = 3


def plan_for(kubeconfig: str, location: str, mapping: dict[str, str] | None = None) -> RestorePlan:
    return RestorePlan(
        name="bench",
        spec=RestoreSpec(
            source=Source(storage_location=location, backup_name="bench"),
            target=Target(kubeconfig=kubeconfig),
            namespace_mapping=mapping or {},
            concurrency=Concurrency(workers=WORKERS, qps=0, burst=100),
        ),
    )


def fresh(sandbox: Any, latency: float) -> None:
    """The initial cluster plus the bench namespaces; `latency` delays every request."""
    sandbox.reset()
    cluster = Cluster(make_api_client(Target(kubeconfig=str(sandbox.kubeconfig)), 4), qps=0)
    create_namespaces(cluster)
    cluster.close()
    if latency:
        sandbox.add_fault(f"latency={latency}")


def timed(work: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    value = work()
    return time.perf_counter() - started, value


def report(title: str, previews: list[float], restores: list[float], result: Any, done: Any) -> None:
    items, look, restore = len(result.items), min(previews), min(restores)
    checked = sum(1 for item in result.items if item.checked)
    created = done.counts["created"]
    print(f"  -- {title}: {items:,} items in {NAMESPACES} namespaces, {WORKERS} workers")
    print(f"  preview   {look:7.2f} s  {items / look:7.0f} items/s  ({checked:,} judged by the API server)")
    print(
        f"  restore   {restore:7.2f} s  {items / restore:7.0f} items/s  ({done.phase}, {created:,} created)"
    )
    print(f"  preview / restore  {look / restore:5.2f}   (target <= 1.00)")


def on_sandbox(location: str, latency: float) -> None:
    with start_sandbox(process=True) as sandbox:
        plan = plan_for(str(sandbox.kubeconfig), location)
        previews, restores = [], []
        for n in range(ROUNDS):
            fresh(sandbox, latency)
            seconds, result = timed(lambda name=f"look-{n}": preview(plan, restore_name=name))
            previews.append(seconds)
            fresh(sandbox, latency)
            seconds, done = timed(lambda name=f"bench-{n}": run_restore(plan, restore_name=name))
            restores.append(seconds)
    title = f"sandbox, {latency * 1000:.0f} ms added per request" if latency else "sandbox answering at once"
    report(title, previews, restores, result, done)


def on_real(folder: Path, location: str) -> None:
    plane = ControlPlane(folder / "plane")
    state = plane.start()
    try:
        cluster = Cluster(make_api_client(Target(kubeconfig=state.kubeconfig), 4), qps=0)
        previews, restores = [], []
        for n in range(ROUNDS):
            mapping = {f"bench-{i:02}": f"r{n}-bench-{i:02}" for i in range(NAMESPACES)}
            for target in mapping.values():
                cluster.create(
                    "namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": target}}
                )
            plan = plan_for(state.kubeconfig, location, mapping)
            seconds, result = timed(lambda p=plan, name=f"look-{n}": preview(p, restore_name=name))
            previews.append(seconds)
            seconds, done = timed(lambda p=plan, name=f"bench-{n}": run_restore(p, restore_name=name))
            restores.append(seconds)
        cluster.close()
        report(f"kube-apiserver {state.version} + etcd, loopback", previews, restores, result, done)
    finally:
        plane.stop()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        location = write_backup(Path(tmp), objects())
        on_sandbox(location, latency=0.0)
        on_sandbox(location, latency=0.005)
        on_real(Path(tmp), location)
