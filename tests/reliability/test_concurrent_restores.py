"""Concurrent restores: ten at once into one namespace are serialized by its target hold, without a
deadlock; five into five other namespaces run meanwhile (they finish while that namespace is still
held); every record ends complete.

Each restore runs the engine inside `hold_target` (the hold the Prefect flow takes around its
restore phase), on the session's Prefect server.
"""

from __future__ import annotations

import itertools
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from restoreflow.backup import BackupStorage
from restoreflow.orchestration.locking import PREFIX, hold_target
from restoreflow.restore import RestoreResult, run_restore
from restoreflow.sandbox import Sandbox
from tests.engine.helpers import configmap, make_plan, namespace, write_backup
from tests.flow.harness import prefect_server, unique  # noqa: F401 (the session's Prefect server)

pytestmark = [pytest.mark.usefixtures("prefect_server")]


def test_same_target_serialized_other_targets_in_parallel(sandbox: Sandbox, tmp_path: Path) -> None:
    location, _ = write_backup(
        tmp_path, [namespace("shop"), *(configmap(f"c{i}", "shop") for i in range(30))]
    )
    shared = unique("shared")
    same = [(f"same-{i}", shared) for i in range(10)]
    other = [(f"other-{i}", unique(f"ns{i}")) for i in range(5)]
    spans: dict[str, tuple[float, float]] = {}
    limits = {target: f"{PREFIX}{unique('cluster')}-{target}" for _, target in same + other}

    def run(job: tuple[str, str]) -> RestoreResult:
        name, target = job
        plan = make_plan(sandbox, location, namespace_mapping={"shop": target})
        with hold_target([limits[target]]):
            started = time.monotonic()
            result = run_restore(plan, restore_name=name)
            spans[name] = (started, time.monotonic())
        return result

    with ThreadPoolExecutor(len(same) + len(other)) as pool:
        with hold_target([limits[shared]]):  # the shared target is busy: the others must not care
            queued = [pool.submit(run, job) for job in same]
            elsewhere = [f.result(timeout=120) for f in [pool.submit(run, job) for job in other]]
            assert not spans.keys() & {name for name, _ in same}, "a restore ignored the hold"
        results = elsewhere + [f.result(timeout=240) for f in queued]

    assert all(r.phase == "Completed" for r in results), [(r.name, r.phase) for r in results]
    serial = sorted(spans[name] for name, _ in same)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(serial)), "two restores overlapped"
    records = BackupStorage.open(location).restores
    for name, target in same + other:
        status = records.get(name)["status"]
        progress = status["progress"]
        assert status["phase"] == "Completed" and progress["itemsRestored"] == progress["totalItems"] >= 30
        assert sandbox.get("configmaps", "c29", target) is not None
