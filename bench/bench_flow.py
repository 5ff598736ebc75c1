"""Prefect's cost: the engine benchmark's 10,000-object restore through the engine alone, then through
the `restore` flow, in the same run against the same sandbox (its own process, reset between runs).

Prints the overhead against the uncapped restore (target < 5%) and against the same restore at the
plan's default 100 QPS, as `restore create` runs the flow (restoreflow's runner turns Prefect's
heartbeat thread off: it adds a random 0-1 s to every sync flow run) and with that thread, as a
worker runs a deployment's flow; the fixed overhead (a one-namespace restore run both ways,
target < 5 s) split into Prefect's floor (a flow run of as many tasks doing nothing) and what
restoreflow adds; the cost per 1,000 items; and how often Prefect's client stalled 2 s on its SQLite
server's "database is locked". Medians of interleaved rounds: the machine's load moves every figure.
Also measures how soon the Prefect API shows a phase's state changes when the phase is a task and
when it is a subflow (the reason phases are tasks).
"""

from __future__ import annotations

import logging
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.bench_engine import NAMESPACES, objects, write_backup
from restoreflow.plan import plan_from_document
from restoreflow.restore import run_restore
from restoreflow.sandbox import start_sandbox

SMALL_ROUNDS = 5  # one-namespace restores and bare flows: the fixed overhead is a median of these
FULL_ROUNDS = 3
DEFAULT_QPS = 100


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


def flow_seconds(
    sandbox: Any, document: dict[str, Any], name: str, heartbeats: bool = True
) -> tuple[float, str]:
    from restoreflow.orchestration import restore

    sandbox.reset()
    with no_heartbeats(not heartbeats):
        started = time.perf_counter()
        state = restore(plan=yaml_text(document), restore_name=name, return_state=True)
        return time.perf_counter() - started, str(state.name)


@contextmanager
def no_heartbeats(active: bool = True) -> Iterator[None]:
    """Flow runs without Prefect's heartbeats (on by default, every 180 s): the sync engine joins its
    heartbeat thread at the end of a run, and that thread sleeps in 1 s steps."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None} if active else {}):
        yield


class Stalls(logging.Handler):
    """Counts the Prefect client's retries after a 503, which it makes after 2 s: the answer of
    Prefect's SQLite server when its database is locked by its own writes."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += "retryable status code 503" in record.getMessage()

    @contextmanager
    def counting(self) -> Iterator[None]:
        logger = logging.getLogger("prefect.client")
        level = logger.level
        logger.setLevel(logging.DEBUG)
        logger.addHandler(self)
        try:
            yield
        finally:
            logger.removeHandler(self)
            logger.setLevel(level)


def task_count(restore_name: str) -> int:
    """How many task runs the restore's flow run had (phases and resource groups)."""
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName

    with get_client(sync_client=True) as client:
        runs = FlowRunFilter(name=FlowRunFilterName(any_=[restore_name]))
        return len(client.read_task_runs(flow_run_filter=runs))


def floor_seconds(tasks: int) -> float:
    """Prefect's floor: a flow run (without heartbeats) of `tasks` tasks that do nothing."""
    from prefect import flow, task

    @task(persist_result=False)
    def nothing() -> None:
        return None

    @flow(persist_result=False)
    def bare(count: int) -> None:
        for _ in range(count):
            nothing()

    with no_heartbeats():
        started = time.perf_counter()
        bare(tasks)
        return time.perf_counter() - started


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


def rounds(count: int, *runs: Any) -> list[list[float]]:
    """Each run `count` times, interleaved (so that load on the machine hits them alike)."""
    samples: list[list[float]] = [[] for _ in runs]
    for i in range(count):
        for run, out in zip(runs, samples, strict=True):
            out.append(run(i))
    return samples


def seconds_list(values: list[float]) -> str:
    return " ".join(f"{v:.2f}" for v in values)


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
        location = write_backup(Path(tmp), items)
        full = plan_document(location, sandbox.kubeconfig)
        small = plan_document(location, sandbox.kubeconfig, namespaces=["bench-00"])
        flow_seconds(sandbox, small, "warm-up")  # the first flow run pays for imports and caches
        tasks = task_count("warm-up")
        stalls = Stalls()
        with stalls.counting():
            engine_small, flow_small, flow_quiet, floor = rounds(
                SMALL_ROUNDS,
                lambda i: engine_seconds(sandbox, small, f"engine-small-{i}")[0],
                lambda i: flow_seconds(sandbox, small, f"flow-small-{i}")[0],
                lambda i: flow_seconds(sandbox, small, f"flow-quiet-{i}", heartbeats=False)[0],
                lambda _: floor_seconds(tasks),
            )
        phases: dict[str, str] = {}

        def engine_full(i: int) -> float:
            elapsed, phases["engine"] = engine_seconds(sandbox, full, f"engine-full-{i}")
            return elapsed

        def flow_full(i: int) -> float:
            elapsed, phases["flow"] = flow_seconds(sandbox, full, f"flow-full-{i}")
            return elapsed

        def flow_full_quiet(i: int) -> float:
            return flow_seconds(sandbox, full, f"flow-full-quiet-{i}", heartbeats=False)[0]

        with stalls.counting():
            engine_fulls, flow_fulls, flow_fulls_quiet = rounds(
                FULL_ROUNDS, engine_full, flow_full, flow_full_quiet
            )
        visibility = state_visibility()

    report(
        Measured(
            items=len(items),
            tasks=tasks,
            phases=f"{phases['engine']} / {phases['flow']}",
            engine_full=engine_fulls,
            flow_full=flow_fulls,
            flow_full_quiet=flow_fulls_quiet,
            engine_small=engine_small,
            flow_small=flow_small,
            flow_quiet=flow_quiet,
            floor=floor,
            stalls=stalls.count,
        )
    )
    for kind, (lag, gap) in visibility.items():
        visible = f"state visible in the API after {lag * 1000:4.0f} ms (median)"
        print(f"phase as a {kind:8} {visible}, {gap * 1000:4.0f} ms between phases")


@dataclass
class Measured:
    items: int
    tasks: int
    phases: str
    engine_full: list[float]
    flow_full: list[float]
    flow_full_quiet: list[float]
    engine_small: list[float]
    flow_small: list[float]
    flow_quiet: list[float]
    floor: list[float]
    stalls: int


def row(label: str, seconds: float, note: str) -> None:
    print(f"{label:<22}{seconds:7.2f} s  {note}")


def report(m: Measured) -> None:
    """Medians; overheads as restoreflow's runner runs the flow (without Prefect's heartbeat thread),
    then with it, as a worker runs a deployment's flow. The sync engine ends a flow run by joining its
    heartbeat thread, which sleeps in 1 s steps: a run ends on the next whole second after its start, a
    random 0-1 s (0.5 s on average) that would swamp the per-item part."""
    median = statistics.median
    engine, through_flow, quiet_flow = median(m.engine_full), median(m.flow_full), median(m.flow_full_quiet)
    overhead, quiet_overhead = through_flow - engine, quiet_flow - engine
    fixeds = [f - e for f, e in zip(m.flow_small, m.engine_small, strict=True)]
    quiets = [f - e for f, e in zip(m.flow_quiet, m.engine_small, strict=True)]
    fixed, quiet, floor = median(fixeds), median(quiets), median(m.floor)
    per_thousand = (quiet_overhead - quiet) / (m.items / 1000)
    capped = m.items / DEFAULT_QPS  # one create per item
    per_namespace = (m.items - NAMESPACES) // NAMESPACES
    print(
        f"restore of {m.items:,} objects in {NAMESPACES} namespaces, no QPS cap ({m.phases}), "
        f"median of {len(m.engine_full)}:"
    )
    row("  engine alone", engine, f"({m.items / engine:,.0f} items/s) runs: {seconds_list(m.engine_full)}")
    row(
        "  through the flow",
        quiet_flow,
        f"({m.items / quiet_flow:,.0f} items/s) as `restore create` runs it, runs: "
        f"{seconds_list(m.flow_full_quiet)}",
    )
    row(
        "  Prefect's overhead",
        quiet_overhead,
        f"= {quiet_overhead / engine:5.1%} of this restore (target < 5%)",
    )
    print(f"{'':34}= {quiet_overhead / capped:5.1%} of it at the default {DEFAULT_QPS} QPS ({capped:.0f} s)")
    row(
        "  with heartbeat thread",
        overhead,
        f"= {overhead / engine:5.1%} (a worker's run: Prefect's default), runs: {seconds_list(m.flow_full)}",
    )
    print(
        f"one namespace ({per_namespace:,} objects, {m.tasks} tasks), median of {len(fixeds)}: "
        f"engine {median(m.engine_small):.2f} s, flow {median(m.flow_small):.2f} s"
    )
    row("  fixed overhead", fixed, f"(target < 5 s) runs: {seconds_list(fixeds)}")
    row("    without heartbeats", quiet, f"runs: {seconds_list(quiets)}")
    row(
        "      Prefect's floor",
        floor,
        f"a flow of {m.tasks} tasks doing nothing, runs: {seconds_list(m.floor)}",
    )
    row("      restoreflow's own", quiet - floor, "target lock, artifacts, events, run name, cancel watch")
    print(
        f"  per 1,000 items     {per_thousand * 1000:+7.0f} ms  (without heartbeats, beyond the fixed part)"
    )
    print(
        "heartbeats: a sync flow run ends by joining Prefect's heartbeat thread, on a whole second after "
        "its start; restoreflow's runner turns it off (the flow's cancel watch sends the heartbeats)"
    )
    runs = len(m.flow_small) + len(m.flow_quiet) + len(m.floor) + len(m.flow_full) + len(m.flow_full_quiet)
    print(
        f"Prefect's client waited 2 s after a 503 (its SQLite database locked) {m.stalls} times "
        f"in {runs} flow runs"
    )
