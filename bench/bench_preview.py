"""A preview against the restore it previews: 10,000 ConfigMaps in 20 namespaces, sandbox in its own process.

The namespaces exist already, so the API server judges every item of the preview (a dry-run create
each, as the restore's one create each). Prints both durations, from validate to the last decision
(preview) or the record written (restore), best of ROUNDS interleaved runs, and their ratio
(target: the preview takes no longer than the restore).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from bench.bench_engine import NAMESPACES, WORKERS, create_namespaces, objects, write_backup
from restoreflow.cluster import Cluster, make_api_client
from restoreflow.plan.model import Concurrency, RestorePlan, RestoreSpec, Source, Target
from restoreflow.restore import run_restore
from restoreflow.restore.preview import preview
from restoreflow.sandbox import start_sandbox

ROUNDS = 3


def plan_for(sandbox: Any, location: str) -> RestorePlan:
    return RestorePlan(
        name="bench",
        spec=RestoreSpec(
            source=Source(storage_location=location, backup_name="bench"),
            target=Target(kubeconfig=str(sandbox.kubeconfig)),
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


def scenario(sandbox: Any, location: str, latency: float) -> None:
    plan = plan_for(sandbox, location)
    previews, restores = [], []
    for n in range(ROUNDS):
        fresh(sandbox, latency)
        seconds, result = timed(lambda name=f"look-{n}": preview(plan, restore_name=name))
        previews.append(seconds)
        checked = sum(1 for item in result.items if item.checked)
        fresh(sandbox, latency)
        seconds, done = timed(lambda name=f"bench-{n}": run_restore(plan, restore_name=name))
        restores.append(seconds)
    items = len(result.items)
    look, restore = min(previews), min(restores)
    title = f"API round trip + {latency * 1000:.0f} ms injected" if latency else "sandbox answering at once"
    print(f"  -- {title}: {items:,} items in {NAMESPACES} namespaces, {WORKERS} workers")
    print(f"  preview   {look:7.2f} s  {items / look:7.0f} items/s  ({checked:,} judged by the API server)")
    created = done.counts["created"]
    print(
        f"  restore   {restore:7.2f} s  {items / restore:7.0f} items/s  ({done.phase}, {created:,} created)"
    )
    print(f"  preview / restore  {look / restore:5.2f}   (target <= 1.00)")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, start_sandbox(process=True) as sandbox:
        location = write_backup(Path(tmp), objects())
        scenario(sandbox, location, latency=0.0)
        scenario(sandbox, location, latency=0.005)
