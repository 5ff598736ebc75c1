"""A Prefect worker killed under a deployment run, with its flow run's process (a lost node), then again.

prefect.yaml's recipe on a real Prefect server: the `local` process pool, `prefect deploy --all`,
`prefect worker start`, `restoreflow restore create --deployment restore/restore --wait`. Midway
through the restore, `kill -9` of the worker's process group and of the flow run's (the worker starts
it in a session of its own). The waiting command sees the restoring process gone: it ends the record
Failed with the reason, the flow run Crashed (not Running forever), and says so. A new worker and
the same plan under a new name, or the crashed run retried as the UI's Retry does, converge: every
item once, nothing created twice. The worker killed alone takes its run down with it, Crashed.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from prefect import get_client
from prefect.client.schemas.objects import StateType
from prefect.events import emit_event
from prefect.events.schemas.automations import AutomationCore
from prefect.settings import PREFECT_API_URL
from prefect.settings.models.flows import FlowsSettings
from prefect.states import AwaitingRetry, Crashed, Failed, Running, State

from restoreflow.backup import BackupStorage
from restoreflow.cli import main
from restoreflow.orchestration.cancel import HEARTBEAT_SECONDS
from restoreflow.orchestration.crashes import install_automation, zombie_automation
from restoreflow.orchestration.flow import restore
from restoreflow.sandbox import Sandbox
from restoreflow.sandbox.proxy import start_proxy
from tests.engine.helpers import BACKUP, configmap, namespace, write_backup
from tests.flow.harness import (  # noqa: F401 (prefect_server: the session's Prefect server)
    PREFECT,
    REPO,
    deploy_all,
    prefect_env,
    prefect_server,
    write_plan,
)
from tests.reliability.figures import report

pytestmark = [pytest.mark.usefixtures("prefect_server")]
RESTOREFLOW = str(Path(sys.executable).with_name("restoreflow"))
NS = "lost-node"
COUNT = 300
WINDOW = 10  # seconds without a heartbeat, in the automation's test copy
GENERATED = ("gen-7kx2q", "gen-p9w4d")  # objects the source cluster named from metadata.generateName


@pytest.fixture(scope="module")
def deployed(prefect_server: None) -> None:  # noqa: F811 (the fixture, first)
    """prefect.yaml's deployments on the session's server, once for these tests."""
    deploy_all()


def backup_objects() -> list[dict[str, Any]]:
    objects = [namespace(NS)] + [configmap(f"c{i:04}", NS) for i in range(COUNT)]
    for name in GENERATED:
        generated = configmap(name, NS)
        generated["metadata"]["generateName"] = "gen-"
        objects.append(generated)
    return objects


def stored(sandbox: Sandbox) -> int:
    """ConfigMaps the API server stored in the namespace, over every run."""
    return sum(
        1
        for r in sandbox.requests()
        if (r["verb"], r["code"], r["namespace"], r["resource"]) == ("create", 201, NS, "configmaps")
    )


def start_worker() -> subprocess.Popen[bytes]:
    """`prefect worker start --pool local` in a session of its own (its process group), polling often."""
    env = prefect_env() | {"PREFECT_WORKER_QUERY_SECONDS": "1"}
    argv = [PREFECT, "worker", "start", "--pool", "local"]
    return subprocess.Popen(
        argv, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )


def wait_for(reached: Callable[[], Any], what: str, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := reached():
            return value
        time.sleep(0.05)
    raise AssertionError(f"not reached in {timeout:.0f} s: {what}")


def restoring_pid(storage: BackupStorage, name: str, items: int) -> int | None:
    """The pid of the process writing the restore's record, once the record counts `items` restored."""
    if not storage.restores.exists(name):
        return None
    status = storage.restores.get(name)["status"]
    if status["phase"] != "InProgress" or status["progress"]["itemsRestored"] < items:
        return None
    return int(status["process"]["pid"])


def kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(os.getpgid(pid), signal.SIGKILL)


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    """The worker's process group and its flow runs' (each in a session of its own), whatever happened."""
    if worker.poll() is None:
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                if int(stat.read_bytes().rsplit(b")", 1)[1].split()[1]) == worker.pid:
                    kill_group(int(stat.parent.name))
        kill_group(worker.pid)
    worker.wait(30)


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.timeout(300)
@pytest.mark.usefixtures("deployed")
def test_a_worker_killed_alone_takes_its_run_down_crashed(sandbox: Sandbox, tmp_path: Path) -> None:
    """`kill -9` of the worker only (its process group): Prefect ends the flow run it started (in a
    session of its own) at once, Crashed; restoreflow's stop writes the record Failed with the log,
    results and resource list so far; the waiting command says so."""
    location, _ = write_backup(tmp_path, backup_objects())
    storage = BackupStorage.open(location)
    with start_proxy(sandbox.url, latency=0.03) as proxy:
        plan = plan_document(location, proxy.rewrite_kubeconfig(sandbox.kubeconfig, tmp_path / "kc"))
        worker = start_worker()
        alone = start_create(create_command(write_plan(tmp_path / "plan.yaml", plan)), "alone", tmp_path)
        try:
            wait_for(lambda: restoring_pid(storage, "alone", COUNT // 5), "a fifth restored")
            kill_group(worker.pid)
            worker.wait(10)
            output, _ = alone.communicate(timeout=120)
        finally:
            stop_worker(worker)
            if alone.poll() is None:
                alone.kill()
            alone.wait()
    assert alone.returncode == 1 and "Restore completed with status: Failed." in output, output
    reason = "Failure reason: interrupted: the process running the restore was made to exit ("
    assert reason in output and "Traceback" not in output, output
    record = storage.restores.get("alone")["status"]
    assert record["phase"] == "Failed" and storage.restores.logs("alone")  # its log written
    with get_client(sync_client=True) as client:
        assert client.read_flow_run(record["flowRunId"]).state.type == StateType.CRASHED


def retry_the_run(flow_run_id: Any) -> State:
    """The UI's Retry on the Crashed run: AwaitingRetry, for a worker to run it again; its final state."""
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(flow_run_id, AwaitingRetry(message="Retry from the UI"), force=True)

        def ended() -> State | None:
            state = client.read_flow_run(flow_run_id).state
            return state if state is not None and state.is_final() else None

        final: State = wait_for(ended, "the retried run ends", timeout=180)
    return final


def plan_document(location: str, kubeconfig: str) -> dict[str, Any]:
    return {
        "apiVersion": "restoreflow.dev/v1alpha1",
        "kind": "RestorePlan",
        "metadata": {"name": "lost-node"},
        "spec": {
            "source": {"storageLocation": location, "backupName": BACKUP},
            "target": {"kubeconfig": kubeconfig},
            "concurrency": {"workers": 1},
        },
    }


def create_command(plan: Path) -> list[str]:
    """`restoreflow restore create --plan PLAN --deployment restore/restore` (a name goes after create)."""
    return [RESTOREFLOW, "restore", "create", "--plan", str(plan), "--deployment", "restore/restore"]


def start_create(create: list[str], name: str, tmp_path: Path) -> subprocess.Popen[str]:
    """`restore create NAME ... --wait` in a process of its own, as a user's terminal runs it."""
    env = prefect_env() | {"RESTOREFLOW_HOME": str(tmp_path / "home")}
    argv = [*create[:3], name, *create[3:], "--wait"]
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.timeout(300)  # a busy machine: worker start-ups and the flow run processes' imports
@pytest.mark.usefixtures("deployed")
@pytest.mark.parametrize("retry", ["the plan under a new name", "the crashed run, from the UI"])
def test_a_worker_killed_under_a_deployment_run_then_a_retry_converges(
    retry: str, sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    location, _ = write_backup(tmp_path, backup_objects())
    storage = BackupStorage.open(location)
    with start_proxy(sandbox.url, latency=0.03) as proxy:  # slow enough to be killed midway
        kubeconfig = proxy.rewrite_kubeconfig(sandbox.kubeconfig, tmp_path / "kc")
        create = create_command(write_plan(tmp_path / "plan.yaml", plan_document(location, kubeconfig)))
        worker = start_worker()
        first = start_create(create, "first", tmp_path)
        try:
            # the record is written every few seconds: killed once it counts a fifth of the items
            flow_run_pid = wait_for(lambda: restoring_pid(storage, "first", COUNT // 5), "a fifth restored")
            assert stored(sandbox) < COUNT, "the restore ended before the kill"
            kill_group(worker.pid)  # the node is lost: the worker and the flow run it started
            kill_group(flow_run_pid)
            worker.wait(10)
            output, _ = first.communicate(timeout=60)  # the waiting command does not wait forever
        finally:
            stop_worker(worker)
            if first.poll() is None:
                first.kill()
            first.wait()
        killed_at = stored(sandbox)

        assert first.returncode == 1, output
        assert "Restore completed with status: Failed." in output and "Traceback" not in output, output
        assert f"Failure reason: the restoring process (pid {flow_run_pid} on " in output, output
        record = storage.restores.get("first")
        assert record["status"]["phase"] == "Failed"
        assert COUNT // 5 <= record["status"]["progress"]["itemsRestored"] <= killed_at  # how far it got
        assert "ended without finishing" in record["status"]["failureReason"]
        with get_client(sync_client=True) as client:
            flow_run = client.read_flow_run(record["status"]["flowRunId"])
        assert flow_run.state.type == StateType.CRASHED, flow_run.state
        assert flow_run.state.message == record["status"]["failureReason"]

        code, shown = cli(capsys, "restore", "get", "first", "--storage-location", location, "-o", "json")
        assert code == 0 and json.loads(shown)["status"]["phase"] == "Failed", shown
        code, described = cli(capsys, "restore", "describe", "first", "--storage-location", location)
        assert code == 0 and re.search(r"Phase:\s+Failed", described), described
        assert f"Failure reason:  the restoring process (pid {flow_run_pid} on " in described, described
        code, logs = cli(capsys, "restore", "logs", "first", "--storage-location", location)
        assert code == 1 and 'Restore "first" has no log: the restoring process (pid ' in logs, logs

        worker = start_worker()  # the node is back (or another one)
        try:
            if retry == "the plan under a new name":
                name = "second"
                code, output = cli(capsys, *create[1:3], name, *create[3:], "--wait")
                assert code == 0 and "Restore completed with status: Completed." in output, output
            else:
                name = "first"
                assert retry_the_run(flow_run.id).type == StateType.COMPLETED
        finally:
            stop_worker(worker)

    names = {o["metadata"]["name"] for o in sandbox.objects("configmaps", NS)} - {"kube-root-ca.crt"}
    assert names == {f"c{i:04}" for i in range(COUNT)} | set(GENERATED)  # nothing generated anew
    assert stored(sandbox) == COUNT + len(GENERATED)  # every item stored once across both runs
    status = storage.restores.get(name)["status"]
    assert status["phase"] == "Completed" and "failureReason" not in status
    counts = status["counts"]
    assert counts["created"] + counts["skipped"] == status["progress"]["totalItems"]  # each item once
    assert counts["created"] >= COUNT + len(GENERATED) - killed_at  # what the killed run had not stored
    assert counts["skipped"] == killed_at  # the killed run's, found there
    duplicated = stored(sandbox) - COUNT - len(GENERATED)
    report("worker crash", retry=retry, crash_points=1, lost=0, duplicated=duplicated)


def test_the_zombie_automation_crashes_a_silent_run_and_leaves_a_finished_one_alone() -> None:
    """zombie-flow-runs.json on a real server, with a window of seconds instead of 10 minutes: a run
    whose heartbeats stop ends Crashed; one that ended PartiallyFailed after its heartbeat stays so."""
    api_url = str(PREFECT_API_URL.value())
    name = zombie_automation()["name"]
    quick = zombie_automation() | {"name": f"{name} (test)"}
    quick["trigger"]["within"] = WINDOW
    with get_client(sync_client=True) as client:
        assert install_automation(api_url) and install_automation(api_url)  # as the local server's start
        installed = client.read_automations_by_name(name)
        quick_id = client.create_automation(AutomationCore.model_validate(quick))
        try:
            # three heartbeats missed, from restoreflow's cancel watch and Prefect's engine, before a crash
            beat = max(HEARTBEAT_SECONDS, FlowsSettings.model_fields["heartbeat_frequency"].default)
            assert len(installed) == 1 and installed[0].trigger.within.total_seconds() >= 3 * beat
            time.sleep(2)  # the server's triggers take the new automation in
            silent, finished = (client.create_flow_run(restore, parameters={"plan": "p"}) for _ in "ab")
            for run in (silent, finished):
                client.set_flow_run_state(run.id, Running(), force=True)
                emit_event(
                    "prefect.flow-run.heartbeat", {"prefect.resource.id": f"prefect.flow-run.{run.id}"}
                )
            client.set_flow_run_state(finished.id, Failed(name="PartiallyFailed"), force=True)

            def crashed() -> bool:
                return client.read_flow_run(silent.id).state.type == StateType.CRASHED

            wait_for(crashed, "the silent run Crashed", timeout=WINDOW + 60)
            assert client.read_flow_run(silent.id).state.message == quick["actions"][0]["message"]
            time.sleep(WINDOW)  # past the finished run's window too
            assert client.read_flow_run(finished.id).state.name == "PartiallyFailed"
        finally:
            client.delete_automation(quick_id)
            for automation in client.read_automations_by_name(name):
                client.delete_automation(automation.id)  # the session's server: no 10-minute surprise


def elsewhere(where: str) -> dict[str, Any]:
    """The process identity a record written there carries (`status.process`)."""
    if where == "another machine":  # a Kubernetes work pool's pod
        return {"host": "pool-worker-7f9c", "pid": 1, "started": 1, "pidns": "pid:[4026531836]"}
    ended = subprocess.Popen(["true"])  # a pid that is free here: the other container's is not seen
    ended.wait()
    return {"host": socket.gethostname(), "pid": ended.pid, "started": 1, "pidns": "pid:[4026532999]"}


@pytest.mark.parametrize("where", ["another machine", "another container with this host name"])
def test_a_record_from_elsewhere_ends_failed_once_its_flow_run_ended(
    where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The process that writes the record cannot be looked for from here, but its flow run can. While
    the run goes on the record stays InProgress; once the run is Crashed (by the zombie automation,
    for a pod gone with its node), the next reader marks the record Failed."""
    storage = BackupStorage.open(tmp_path / "bsl", create=True)
    with get_client(sync_client=True) as client:
        run = client.create_flow_run(restore, parameters={"plan": "plans/nightly-dr-drill.yaml"})
        client.set_flow_run_state(run.id, Running(), force=True)
        status = {"phase": "InProgress", "flowRunId": str(run.id), "process": elsewhere(where)}
        storage.restores.write_status(
            "remote", {"kind": "Restore", "metadata": {"name": "remote"}, "status": status}
        )

        code, shown = cli(capsys, "restore", "get", "remote", "--storage-location", storage.url, "-o", "json")
        assert code == 0 and json.loads(shown)["status"]["phase"] == "InProgress", shown

        message = zombie_automation()["actions"][0]["message"]
        client.set_flow_run_state(run.id, Crashed(message=message), force=True)
    code, shown = cli(capsys, "restore", "get", "remote", "--storage-location", storage.url, "-o", "json")
    ended = json.loads(shown)["status"]
    assert code == 0 and ended["phase"] == "Failed", shown
    assert ended["failureReason"].startswith(
        f"its flow run {run.id} ended Crashed ({message}) without finishing"
    )
    assert storage.restores.get("remote")["status"]["phase"] == "Failed"  # written back
