"""Crashes: `kill -9` of a restoring process at several points, then the same plan again.

Each killed restore's record is read back whole while the process writes it (never half a
document), and the next command that reads it marks it Failed with the reason (its process is
gone), as Velero does with restores left InProgress when its server restarts. Re-running the plan
converges on the state an uninterrupted restore leaves: every item exactly once, created once in
all, and the last record counts what it created and what it found already there.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from restoreflow.backup import BackupStorage
from restoreflow.cli import main
from restoreflow.plan import load_plan
from restoreflow.restore import run_restore
from restoreflow.sandbox import Sandbox
from restoreflow.sandbox.proxy import start_proxy
from tests.engine.helpers import BACKUP, configmap, namespace, write_backup
from tests.reliability.figures import SOAK, report, size

NS = "crash"
SOAK_POINTS = (0, 150, 330, 500, 700, 900, 1100, 1300, 1600, 1850)  # ten kill points of 2,000 items
ENGINE = "import sys; from restoreflow.plan import load_plan; from restoreflow.restore import run_restore; "
ENGINE += "run_restore(load_plan(sys.argv[1]), restore_name=sys.argv[2])"


def write_plan(path: Path, location: str, kubeconfig: str) -> Path:
    document = {
        "apiVersion": "restoreflow.dev/v1alpha1",
        "kind": "RestorePlan",
        "metadata": {"name": "crash"},
        "spec": {
            "source": {"storageLocation": location, "backupName": BACKUP},
            "target": {"kubeconfig": kubeconfig},
            "concurrency": {"workers": size(4, 8), "qps": 1000, "burst": 1000},
        },
    }
    YAML().dump(document, path)
    return path


def creates(sandbox: Sandbox) -> int:
    """ConfigMaps the API server stored in the restore's namespace so far."""
    return sum(
        1
        for r in sandbox.requests()
        if r["verb"] == "create"
        and r["code"] == 201
        and r["namespace"] == NS
        and r["resource"] == "configmaps"
    )


def kill_when(process: subprocess.Popen[bytes], reached: Any, storage: BackupStorage, name: str) -> int:
    """SIGKILL the process once `reached()`; meanwhile its record must always read whole. Records read."""
    reads, deadline = 0, time.monotonic() + 60
    while not reached() and process.poll() is None and time.monotonic() < deadline:
        if storage.restores.exists(name):
            document = storage.restores.get(name)  # BackupError on a half-written file
            assert document["status"]["phase"] in ("New", "InProgress", "Completed", "Failed")
            reads += 1
        time.sleep(0.02)
    assert process.poll() is None, "the restore ended before the kill point"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    return reads


def state(sandbox: Sandbox) -> dict[str, Any]:
    stored = sandbox.objects("configmaps", NS)
    return {
        o["metadata"]["name"]: o.get("data") for o in stored if o["metadata"]["name"] != "kube-root-ca.crt"
    }


@pytest.mark.timeout(1200)  # ten kill points of 2,000 items in `make soak`
def test_kill_9_at_several_points_then_the_plan_again_converges(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    count = size(160, 2000)
    points = SOAK_POINTS if SOAK else (0, 30, 80, 130)  # 0: before the first item is stored
    location, _ = write_backup(tmp_path, [namespace(NS)] + [configmap(f"c{i:05}", NS) for i in range(count)])
    storage = BackupStorage.open(location)
    survived = []
    with start_proxy(sandbox.url, latency=0.01) as proxy:  # slow enough to be killed midway
        plan = write_plan(
            tmp_path / "plan.yaml", location, proxy.rewrite_kubeconfig(sandbox.kubeconfig, tmp_path / "kc")
        )
        for point in points:
            name = f"killed-at-{point}"
            process = subprocess.Popen([sys.executable, "-c", ENGINE, str(plan), name])
            reads = kill_when(
                process,
                lambda point=point, name=name: (
                    creates(sandbox) >= max(point, 1) or (point == 0 and storage.restores.exists(name))
                ),
                storage,
                name,
            )
            capsys.readouterr()
            assert main(["restore", "get", name, "--storage-location", location, "-o", "json"]) == 0
            shown = json.loads(capsys.readouterr().out)
            assert shown["status"]["phase"] == "Failed", shown["status"]
            assert f"pid {process.pid} " in shown["status"]["failureReason"]
            assert "ended without finishing" in shown["status"]["failureReason"]
            assert storage.restores.get(name)["status"]["phase"] == "Failed"  # written back, not only shown
            survived.append((point, creates(sandbox), reads))
        before = creates(sandbox)
        result = run_restore(load_plan(plan), restore_name="after-the-crashes")

    assert result.phase == "Completed", result.results
    assert state(sandbox) == {f"c{i:05}": {"key": f"c{i:05}"} for i in range(count)}
    assert creates(sandbox) == count  # every item stored once in all, across every run
    assert result.counts["created"] == count - before
    assert result.counts["skipped"] >= before  # found there: the killed runs' work
    report("crashes", items=count, crash_points=len(survived), lost=0, duplicated=creates(sandbox) - count)
