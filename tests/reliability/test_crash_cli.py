"""`kill -9` of `restoreflow restore create --wait`, as a new user would do it, then the same command.

The killed restore's record is marked Failed by the next `restore get`; `restore unlock` shows the
dead holder; the next restore into the same namespace does not wait for the lease to lapse (it sees
the holder's process gone and releases its hold); re-running converges; and an operator can break
a hold at once with `restore unlock NAMESPACE --confirm`.
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
from prefect import get_client
from prefect.settings import PREFECT_API_URL

from restoreflow.backup import BackupStorage
from restoreflow.cli import main
from restoreflow.orchestration.locking import LEASE_SECONDS
from restoreflow.sandbox import Sandbox
from restoreflow.sandbox.proxy import start_proxy
from tests.engine.helpers import BACKUP, configmap, namespace, write_backup
from tests.flow.harness import prefect_server, write_plan  # noqa: F401 (the session's Prefect server)
from tests.reliability.figures import report

pytestmark = [pytest.mark.usefixtures("prefect_server")]
RESTOREFLOW = str(Path(sys.executable).with_name("restoreflow"))
NS = "locked"


def stored(sandbox: Sandbox) -> int:
    return sum(
        1
        for r in sandbox.requests()
        if r["verb"] == "create"
        and r["code"] == 201
        and r["namespace"] == NS
        and r["resource"] == "configmaps"
    )


def create(plan: Path, name: str, env: dict[str, str]) -> subprocess.Popen[str]:
    argv = [RESTOREFLOW, "restore", "create", name, "--plan", str(plan), "--wait"]
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def kill_when(process: subprocess.Popen[str], reached: Any) -> None:
    deadline = time.monotonic() + 120
    while not reached() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, process.communicate()[0]
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)


def restoring(storage: BackupStorage, name: str) -> bool:
    if not storage.restores.exists(name):
        return False
    status = storage.restores.get(name)["status"]
    return (status.get("stepProgress") or {}).get("step") == "restore"


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_kill_9_of_create_wait_then_again(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    count = 200
    location, _ = write_backup(tmp_path, [namespace(NS)] + [configmap(f"c{i:04}", NS) for i in range(count)])
    env: dict[str, Any] = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    env["RESTOREFLOW_HOME"] = str(tmp_path / "home")
    with start_proxy(sandbox.url, latency=0.02) as proxy:
        kubeconfig = proxy.rewrite_kubeconfig(sandbox.kubeconfig, tmp_path / "kubeconfig")
        document = {
            "apiVersion": "restoreflow.dev/v1alpha1",
            "kind": "RestorePlan",
            "metadata": {"name": "locked"},
            "spec": {
                "source": {"storageLocation": location, "backupName": BACKUP},
                "target": {"kubeconfig": kubeconfig},
                "concurrency": {"workers": 2},
            },
        }
        plan = write_plan(tmp_path / "plan.yaml", document)
        first = create(plan, "first", env)
        kill_when(first, lambda: stored(sandbox) >= 40)

        code, out = cli(capsys, "restore", "get", "first", "--storage-location", location, "-o", "json")
        status = json.loads(out)["status"]
        assert (code, status["phase"]) == (0, "Failed") and f"pid {first.pid} " in status["failureReason"]
        with get_client(sync_client=True) as client:  # its flow run: Crashed, not Running forever
            state = client.read_flow_run(status["flowRunId"]).state
        assert (state.type.value, state.message) == ("CRASHED", status["failureReason"])
        code, out = cli(capsys, "restore", "unlock")
        assert code == 0 and f"-{NS}" in out and f"pid {first.pid} on " in out and "(gone)" in out, out

        before, started = stored(sandbox), time.monotonic()
        second = create(plan, "second", env)
        output, _ = second.communicate(timeout=300)
        waited = time.monotonic() - started
        assert second.returncode == 0, output
        assert "Restore completed with status: Completed." in output and "Traceback" not in output
        assert waited < LEASE_SECONDS, f"{waited:.0f} s: the dead holder's lease was waited out"

        third = create(plan, "third", env)
        storage = BackupStorage.open(location)
        kill_when(third, lambda: restoring(storage, "third"))  # while it holds the target
        code, out = cli(capsys, "restore", "unlock", NS, "--confirm")
        assert code == 0 and "Broke the hold on restoreflow-target-" in out, out
        code, out = cli(capsys, "restore", "unlock")
        assert "No restore holds a target." in out, out

    record = BackupStorage.open(location).restores.get("second")["status"]
    assert record["counts"]["created"] == count - before  # what the killed run left undone
    assert record["counts"]["skipped"] >= before  # what it had done (and the namespace)
    assert stored(sandbox) == count  # nothing twice
    assert {o["metadata"]["name"] for o in sandbox.objects("configmaps", NS)} >= {
        f"c{i:04}" for i in range(count)
    }
    report("cli crash", crash_points=2, rerun_seconds=round(waited, 1), duplicated=stored(sandbox) - count)
