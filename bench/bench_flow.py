"""Prefect's cost: the engine benchmark's 10,000-object restore through the engine alone, then through
the `restore` flow, in the same run against the same sandbox (its own process, reset between runs).

Prints the flow's fixed overhead (seconds, from a one-namespace restore run both ways) and its cost
per 1,000 items, against the targets (< 5 s fixed, < 5% of the restore's time). Also measures how
soon the Prefect API shows a phase's state changes when the phase is a task and when it is a
subflow (the reason phases are tasks).
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.bench_engine import NAMESPACES, objects
from restoreflow.backup import BackupBuilder
from restoreflow.plan import plan_from_document
from restoreflow.restore import run_restore
from restoreflow.sandbox import start_sandbox


def plan_document(location: str, kubeconfig: str, namespaces: list[str] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "source": {"storageLocation": location, "backupName": "bench"},
        "target": {"kubeconfig": kubeconfig},
        "concurrency": {"workers": 32, "qps": 100000, "burst": 1000},  # as the engine benchmark: no QPS cap
    }
    if namespaces:
        spec["includedNamespaces"] = namespaces
    return {
        "apiVersion": "restoreflow.dev/v1alpha1",
        "kind": "RestorePlan",
        "metadata": {"name": "bench"},
        "spec": spec,
    }


def yaml_text(document: dict[str, Any]) -> str:
    import io

    from ruamel.yaml import YAML

    buffer = io.StringIO()
    YAML(typ="safe").dump(document, buffer)
    return buffer.getvalue()


def engine_seconds(sandbox: Any, document: dict[str, Any], name: str) -> tuple[float, str]:
    sandbox.reset()
    started = time.perf_counter()
    result = run_restore(plan_from_document(document), restore_name=name)
    return time.perf_counter() - started, result.phase


def flow_seconds(sandbox: Any, document: dict[str, Any], name: str) -> tuple[float, str]:
    from restoreflow.orchestration import restore

    sandbox.reset()
    started = time.perf_counter()
    state = restore(plan=yaml_text(document), restore_name=name, return_state=True)
    return time.perf_counter() - started, str(state.name)


def state_visibility() -> dict[str, tuple[float, float]]:
    """Median seconds between a phase changing state in the run and the API showing it, and the
    orchestration time between consecutive phases, for tasks and for subflows."""
    from prefect import flow, get_client, task

    happened: dict[str, float] = {}

    def work(key: str) -> None:
        happened[f"{key}:RUNNING"] = time.time()
        time.sleep(0.3)
        happened[f"{key}:COMPLETED"] = time.time()

    as_task = task(work)
    as_subflow = flow(work)

    @flow
    def phases(kind: str) -> None:
        for i in range(5):
            unit = as_task if kind == "task" else as_subflow
            unit.with_options(name=f"{kind}{i}")(f"{kind}{i}")

    results = {}
    for kind in ("task", "subflow"):
        seen: dict[str, float] = {}
        stop = threading.Event()

        def watch(stop: threading.Event = stop, seen: dict[str, float] = seen, kind: str = kind) -> None:
            with get_client(sync_client=True) as client:
                while not stop.is_set():
                    runs = client.read_task_runs() if kind == "task" else client.read_flow_runs()
                    now = time.time()
                    for run in runs:
                        unit = run.name.split("-")[0] if kind == "task" else run.parameters.get("key")
                        if run.state and unit:
                            seen.setdefault(f"{unit}:{run.state.type.value}", now)
                    time.sleep(0.02)

        watcher = threading.Thread(target=watch)
        watcher.start()
        phases(kind)
        time.sleep(2)
        stop.set()
        watcher.join()
        lags = [seen[k] - happened[k] for k in happened if k in seen and k.startswith(kind)]
        starts = sorted(v for k, v in happened.items() if k.endswith("RUNNING"))
        ends = sorted(v for k, v in happened.items() if k.endswith("COMPLETED"))
        gaps = [start - end for start, end in zip(starts[1:], ends[:-1], strict=False)]
        results[kind] = (statistics.median(lags) if lags else float("nan"), statistics.median(gaps))
        happened.clear()
    return results


def main() -> None:
    import os

    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # no network here
    from prefect.testing.utilities import prefect_test_harness

    items = objects()
    with (
        tempfile.TemporaryDirectory() as tmp,
        start_sandbox(process=True) as sandbox,
        prefect_test_harness(server_startup_timeout=120),
    ):
        location = str(Path(tmp) / "bsl")
        Path(location).mkdir()
        builder = BackupBuilder("bench")
        for obj in items:
            builder.add(obj)
        builder.write(location)
        full = plan_document(location, sandbox.kubeconfig)
        small = plan_document(location, sandbox.kubeconfig, namespaces=["bench-00"])
        per_namespace = (len(items) - NAMESPACES) // NAMESPACES
        flow_seconds(sandbox, small, "warm-up")  # the first flow run pays for imports and caches
        engine_small, _ = engine_seconds(sandbox, small, "engine-small")
        flow_small, _ = flow_seconds(sandbox, small, "flow-small")
        engine_full, engine_phase = engine_seconds(sandbox, full, "engine-full")
        flow_full, flow_phase = flow_seconds(sandbox, full, "flow-full")
        visibility = state_visibility()

    fixed = flow_small - engine_small
    overhead = flow_full - engine_full
    per_thousand = (overhead - fixed) / (len(items) / 1000)
    at_default_qps = len(items) / 100  # the plan's default 100 QPS: one create per item
    print(f"restore of {len(items):,} objects in {NAMESPACES} namespaces ({engine_phase} / {flow_phase}):")
    print(
        f"  engine alone        {engine_full:7.2f} s  ({len(items) / engine_full:,.0f} items/s, no QPS cap)"
    )
    print(f"  through the flow    {flow_full:7.2f} s  ({len(items) / flow_full:,.0f} items/s)")
    print(f"  Prefect's overhead  {overhead:7.2f} s  = {overhead / engine_full:.1%} of this restore,")
    print(f"{'':30}{overhead / at_default_qps:.1%} of one at the default 100 QPS (target < 5%)")
    print(f"one namespace ({per_namespace:,} objects): engine {engine_small:.2f} s, flow {flow_small:.2f} s")
    print(f"  fixed overhead      {fixed:7.2f} s  (target < 5 s)")
    print(f"  per 1,000 items     {per_thousand * 1000:+7.0f} ms  (beyond the fixed part; ~0 is noise)")
    for kind, (lag, gap) in visibility.items():
        visible = f"state visible in the API after {lag * 1000:4.0f} ms (median)"
        print(f"phase as a {kind:8} {visible}, {gap * 1000:4.0f} ms between phases")
