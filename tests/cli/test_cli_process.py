"""The installed `restoreflow` command as a user runs it: environment variables, its own Prefect server."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from restoreflow.backup import BackupStorage
from restoreflow.orchestration.crashes import zombie_automation
from restoreflow.sandbox import Sandbox

RESTOREFLOW = str(Path(sys.executable).with_name("restoreflow"))
INTERRUPTED = "interrupted: the restoreflow process running the restore was stopped"


def _user_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a user with no Prefect configuration, and restoreflow's home of this test."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    return env | {"RESTOREFLOW_HOME": str(home), "PREFECT_HOME": str(home / "client"), **extra}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """restoreflow's home for these tests (never the user's): its local server is stopped at the end."""
    home = tmp_path_factory.mktemp("restoreflow-home")
    yield home
    subprocess.run([RESTOREFLOW, "server", "stop"], env=_user_env(home), capture_output=True, timeout=60)


def _heartbeats(api_url: str, flow_run_id: str) -> list[dict]:
    query = {
        "filter": {
            "event": {"name": ["prefect.flow-run.heartbeat"]},
            "resource": {"id": [f"prefect.flow-run.{flow_run_id}"]},
        }
    }
    deadline = time.monotonic() + 15  # events are written asynchronously
    while True:
        request = urllib.request.Request(
            f"{api_url}/events/filter",
            data=json.dumps(query).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            events = json.load(answer)["events"]
        if events or time.monotonic() > deadline:
            return list(events)
        time.sleep(0.5)


def _automation_names(api_url: str) -> list[str]:
    request = urllib.request.Request(
        f"{api_url}/automations/filter", data=b"{}", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return [automation["name"] for automation in json.load(answer)]


def _flow_run_state(api_url: str, flow_run_id: str) -> str:
    with urllib.request.urlopen(f"{api_url}/flow_runs/{flow_run_id}", timeout=10) as answer:
        return str(json.load(answer)["state"]["name"])


@pytest.mark.sandbox(velero_crds=True)
def test_create_starts_one_local_server_whose_runs_stay_visible(
    bsl: BackupStorage, sandbox: Sandbox, home: Path
) -> None:
    """No PREFECT_API_URL: the first restore starts restoreflow's local server, quietly (no Prefect
    log lines, no traceback), and the flow run stays on it after the command ended."""
    env = _user_env(home, RESTOREFLOW_STORAGE_LOCATION=bsl.url, KUBECONFIG=sandbox.kubeconfig)
    argv = [RESTOREFLOW, "restore", "create", "env-restore", "--from-backup", "demo-backup"]
    argv += ["--namespace-mappings", "shop:shop-env", "--wait"]
    run = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Restore completed with status: Completed." in run.stdout
    assert "Traceback" not in run.stderr and "| INFO" not in run.stderr, run.stderr
    assert "Finished in state" not in run.stdout + run.stderr
    assert sandbox.get("configmaps", "web-config", namespace="shop-env") is not None
    record = bsl.restores.get("env-restore")
    assert record["status"]["phase"] == "Completed"

    status = subprocess.run([RESTOREFLOW, "server", "status"], env=env, capture_output=True, text=True)
    assert status.returncode == 0 and "Local Prefect server: running at http://127.0.0.1:" in status.stdout
    (url,) = re.findall(r"Prefect flow run: (http://\S+)/runs/flow-run/", run.stdout)
    assert f"running at {url} " in status.stdout
    assert _flow_run_state(f"{url}/api", record["status"]["flowRunId"]) == "Completed"
    # a run whose process dies will end Crashed, not Running (orchestration/crashes.py)
    assert _automation_names(f"{url}/api") == [zombie_automation()["name"]]
    assert _heartbeats(
        f"{url}/api", record["status"]["flowRunId"]
    )  # sent by restoreflow, not Prefect's thread
    link = urllib.request.Request(
        f"{url}/runs/flow-run/{record['status']['flowRunId']}", headers={"Accept": "text/html"}
    )
    with urllib.request.urlopen(link, timeout=10) as page:  # the link printed opens the run in the UI
        assert page.status == 200 and "<html" in page.read().decode()


@pytest.mark.sandbox(velero_crds=True)
def test_create_without_wait_returns_and_the_restore_goes_on(
    cli, bsl: BackupStorage, sandbox: Sandbox, home: Path
) -> None:
    env = _user_env(home, RESTOREFLOW_STORAGE_LOCATION=bsl.url, KUBECONFIG=sandbox.kubeconfig)
    argv = [RESTOREFLOW, "restore", "create", "background", "--from-backup", "demo-backup"]
    argv += ["--namespace-mappings", "shop:shop-bg"]
    run = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines()[0] == 'Restore request "background" submitted successfully.'
    assert "Restore completed" not in run.stdout and run.stderr == "", run.stderr
    deadline = time.monotonic() + 120
    while (phase := _phase(bsl, "background")) not in ("Completed", "PartiallyFailed", "Failed"):
        assert time.monotonic() < deadline, phase
        time.sleep(0.2)
    assert phase == "Completed"
    assert sandbox.get("configmaps", "web-config", namespace="shop-bg") is not None
    listed = cli("restore", "get", "background", "--storage-location", bsl.url)
    assert listed.out.splitlines()[1].split()[2] == "Completed"


def _phase(storage: BackupStorage, name: str) -> str | None:
    from restoreflow.backup import BackupError

    try:
        return storage.restores.get(name)["status"].get("phase")
    except BackupError:
        return None


def test_server_start_reports_a_home_it_cannot_use(tmp_path: Path) -> None:
    (tmp_path / "prefect").write_text("not a folder")
    run = subprocess.run(
        [RESTOREFLOW, "server", "start"], env=_user_env(tmp_path), capture_output=True, text=True
    )
    assert run.returncode == 1
    assert run.stderr.startswith(f"error: cannot create restoreflow's Prefect home {tmp_path / 'prefect'}")
    assert "Traceback" not in run.stderr


@pytest.mark.usefixtures("prefect_server")
@pytest.mark.sandbox(velero_crds=True, pvr_progress_delay=30)
def test_ctrl_c_marks_the_restore_failed_with_its_log_and_errors(
    cli, bsl: BackupStorage, sandbox: Sandbox, tmp_path: Path
) -> None:
    """The restore runs in this process: stopping it leaves a final record with the log and results
    written so far, as Velero uploads whatever log and results a restore has."""
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    argv = [RESTOREFLOW, "restore", "create", "stopped", "--from-backup", "demo-backup"]
    argv += ["--storage-location", bsl.url, "--kubeconfig", sandbox.kubeconfig, "--wait"]
    output = tmp_path / "output.txt"
    with output.open("w") as out:
        process = subprocess.Popen(
            argv, env=env, stdout=out, stderr=subprocess.STDOUT, preexec_fn=_default_sigint
        )
        deadline = time.monotonic() + 120
        while "InProgress (volumes)" not in output.read_text():  # the live display's plain lines
            assert process.poll() is None and time.monotonic() < deadline, output.read_text()
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 130
    text = output.read_text()
    assert 'Restore "stopped" interrupted; marked Failed.' in text
    assert "Traceback" not in text and "Logging error" not in text, text
    status = bsl.restores.get("stopped")["status"]
    assert status["phase"] == "Failed" and status["completionTimestamp"]
    assert status["failureReason"] == INTERRUPTED

    logs = cli("restore", "logs", "stopped", "--storage-location", bsl.url)
    assert logs.code == 0, logs.err
    for line in (
        'msg="restore stopped of backup demo-backup validated"',
        "restored pods: 2 created",
        'msg="Waiting for all pod volume restores to complete"',
        f'msg="Velero restore error: {INTERRUPTED}"',
        'msg="restore stopped finished: Failed"',
    ):
        assert line in logs.out, logs.out
    describe = cli("restore", "describe", "stopped", "--details", "--storage-location", bsl.url)
    assert "Failed (run 'restoreflow restore logs stopped' for more information)" in describe.out
    assert f"Errors:\n  Velero:   {INTERRUPTED}\n" in describe.out, describe.out
    assert "shop/toolbox(created)" in describe.out  # the resource list of what was restored


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
