"""The engine on the real control plane (kube-apiserver + etcd), beside the sandbox, in one run.

The same 10,000 ConfigMaps in 20 namespaces as `bench_engine`, restored into a fresh control plane
on loopback, bare and with a 5 ms round trip added by a delaying proxy (as across a network). Each
contender writes into namespaces of its own (restoreflow through a namespace mapping), so nothing is
reset between them. Prints items/s, the ratios to the bare create loop (ceiling) and to a Velero-style
loop (one item at a time, create + managedFields patch), the restore's wall time and peak memory, and
where the time went: CPU seconds of this process (the client), kube-apiserver and etcd. The sandbox's
figures for the same restore come last, for comparison.
"""

from __future__ import annotations

import copy
import itertools
import resource
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.bench_engine import (
    BASELINE_ITEMS,
    ITEMS,
    NAMESPACES,
    WORKERS,
    objects,
    prepared,
    threaded,
    write_backup,
)
from restoreflow.cluster import Cluster, make_api_client
from restoreflow.controlplane import ControlPlane, PlaneState
from restoreflow.plan.model import Concurrency, RestorePlan, RestoreSpec, Source, Target
from restoreflow.restore import run_restore
from restoreflow.sandbox import start_sandbox
from restoreflow.sandbox.proxy import start_proxy

LATENCY = 0.005
_runs = itertools.count()


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0  # clock ticks; USER_HZ is 100 on Linux


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def renamed(items: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    """The objects moved to this run's namespaces (`<prefix>-NN`)."""
    moved = copy.deepcopy(items)
    for obj in moved:
        obj["metadata"]["namespace"] = obj["metadata"]["namespace"].replace("bench", prefix, 1)
    return moved


def namespaces(cluster: Cluster, prefix: str) -> None:
    for n in range(NAMESPACES):
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"{prefix}-{n:02}"}}
        cluster.create("namespaces", body)


def ceiling(kubeconfig: str, items: list[dict[str, Any]]) -> float:
    prefix = f"top{next(_runs)}"
    cluster = Cluster(make_api_client(Target(kubeconfig=kubeconfig), WORKERS + 8), qps=0)
    namespaces(cluster, prefix)
    work = renamed(items, prefix)
    seconds = threaded(work, WORKERS, lambda obj: cluster.create("configmaps", obj))
    cluster.close()
    return len(work) / seconds


def velero_style(kubeconfig: str, items: list[dict[str, Any]]) -> float:
    prefix = f"velero{next(_runs)}"
    cluster = Cluster(make_api_client(Target(kubeconfig=kubeconfig), 4), qps=0)
    namespaces(cluster, prefix)
    work = renamed(items, prefix)
    started = time.perf_counter()
    for obj in work:
        fields = obj["metadata"].pop("managedFields")
        created = cluster.create("configmaps", obj)
        meta = created["metadata"]
        cluster.patch("configmaps", meta["name"], {"metadata": {"managedFields": fields}}, meta["namespace"])
    seconds = time.perf_counter() - started
    cluster.close()
    return len(work) / seconds


def restoreflow_run(kubeconfig: str, location: str, pids: dict[str, int]) -> dict[str, float]:
    prefix = f"rf{next(_runs)}"
    mapping = {f"bench-{n:02}": f"{prefix}-{n:02}" for n in range(NAMESPACES)}
    plan = RestorePlan(
        name="bench",
        spec=RestoreSpec(
            source=Source(storage_location=location, backup_name="bench"),
            target=Target(kubeconfig=kubeconfig),
            namespace_mapping=mapping,
            concurrency=Concurrency(workers=WORKERS, qps=0, burst=100),
        ),
    )
    before = {name: cpu_seconds(pid) for name, pid in pids.items()} | {"client": own_cpu()}
    started = time.perf_counter()
    result = run_restore(plan, restore_name=f"bench-{prefix}")
    wall = time.perf_counter() - started
    after = {name: cpu_seconds(pid) for name, pid in pids.items()} | {"client": own_cpu()}
    if result.phase != "Completed":
        raise SystemExit(f"the restore ended {result.phase}: {result.results}")
    created = result.counts["created"]
    return {"rate": created / wall, "wall": wall, "created": created} | {
        f"cpu:{name}": after[name] - before[name] for name in after
    }


@contextmanager
def delayed(kubeconfig: str, server: str, latency: float, folder: Path) -> Iterator[str]:
    """A kubeconfig reaching the server through a proxy that adds `latency` to each round trip."""
    if not latency:
        yield kubeconfig
        return
    with start_proxy(server, latency=latency) as proxy:
        yield proxy.rewrite_kubeconfig(kubeconfig, folder / f"kubeconfig-{latency}")


def report(title: str, run: dict[str, float], top: float, velero: float) -> None:
    print(f"  -- {title}: {ITEMS:,} configmaps in {NAMESPACES} namespaces, {WORKERS} workers")
    rate, wall, created = run["rate"], run["wall"], run["created"]
    print(f"  restoreflow (whole restore) {rate:8.0f} items/s  {wall:.1f} s for {created:,.0f} items")
    print(f"  ceiling (bare create loop)  {top:8.0f} items/s")
    print(f"  velero-style                {velero:8.0f} items/s  one at a time, create + managedFields patch")
    print(f"  restoreflow / ceiling    {run['rate'] / top:6.2f}")
    print(f"  restoreflow / velero     {run['rate'] / velero:6.1f}x")
    cpu = ", ".join(f"{k.removeprefix('cpu:')} {v:.1f} s" for k, v in run.items() if k.startswith("cpu:"))
    print(f"  CPU during the restore: {cpu}")


def real(folder: Path, location: str, items: list[dict[str, Any]]) -> None:
    plane = ControlPlane(folder / "plane")
    state: PlaneState = plane.start()
    try:
        pids = {name: state.pids[name] for name in ("kube-apiserver", "etcd")}
        for latency in (0.0, LATENCY):
            with delayed(state.kubeconfig, state.server, latency, folder) as kubeconfig:
                top = ceiling(kubeconfig, items)
                run = restoreflow_run(kubeconfig, location, pids)
                velero = velero_style(kubeconfig, items[:BASELINE_ITEMS])
            title = f"kube-apiserver {state.version} + etcd" + (
                f", {latency * 1000:.0f} ms round trip" if latency else ", loopback"
            )
            report(title, run, top, velero)
        print(
            f"  peak RSS of this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB"
        )
    finally:
        plane.stop()


def sandbox(location: str, items: list[dict[str, Any]]) -> None:
    with start_sandbox(process=True) as sb:
        kubeconfig = str(sb.kubeconfig)
        top = ceiling(kubeconfig, items)
        run = restoreflow_run(kubeconfig, location, {})
        velero = velero_style(kubeconfig, items[:BASELINE_ITEMS])
        report("the sandbox (for comparison), loopback", run, top, velero)


def main() -> None:
    source = objects()
    items = prepared(source)
    with tempfile.TemporaryDirectory() as tmp:
        location = write_backup(Path(tmp), source)
        real(Path(tmp), location, items)
        sandbox(location, items)
