"""The installed `restoreflow` command as a user runs it: environment variables, no Prefect server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from restoreflow.backup import BackupStorage
from restoreflow.sandbox import Sandbox

RESTOREFLOW = str(Path(sys.executable).with_name("restoreflow"))
INTERRUPTED = "interrupted: the restoreflow process running the restore was stopped"


@pytest.mark.sandbox(velero_crds=True)
def test_create_with_velero_flags_on_the_embedded_server_is_clean(
    bsl: BackupStorage, sandbox: Sandbox, tmp_path: Path
) -> None:
    """Storage and cluster from the environment; Prefect's own temporary server logs no errors."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    env |= {
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "RESTOREFLOW_STORAGE_LOCATION": bsl.url,
        "KUBECONFIG": sandbox.kubeconfig,
    }
    argv = [RESTOREFLOW, "restore", "create", "env-restore", "--from-backup", "demo-backup"]
    argv += ["--namespace-mappings", "shop:shop-env", "--wait"]
    run = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Restore completed with status: Completed." in run.stdout
    assert "Traceback" not in run.stderr and "| ERROR" not in run.stderr, run.stderr
    assert sandbox.get("configmaps", "web-config", namespace="shop-env") is not None
    assert bsl.restores.get("env-restore")["status"]["phase"] == "Completed"


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
        while "Waiting for all pod volume restores" not in output.read_text():
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
