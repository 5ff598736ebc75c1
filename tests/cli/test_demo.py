"""`restoreflow demo`: sandbox, demo backup, the demo plan through the real flow, the describe output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL

from restoreflow.backup import BackupStorage


@pytest.mark.usefixtures("prefect_server")
def test_demo_restores_the_shop_and_says_where_to_look(tmp_path: Path) -> None:
    entry = "import sys; from restoreflow.cli import main; sys.exit(main(sys.argv[1:]))"
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    demo = subprocess.run(
        [sys.executable, "-c", entry, "demo", "--name", "demo-test"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    out = demo.stdout
    assert "Wrote backup demo-backup to .demo/backups" in out
    assert "Name:         demo-test\n" in out and "Completed" in out
    assert "HooksAttempted:   1\nHooksFailed:      0\n" in out
    assert "CSI Snapshot Restores: <none included>\n" in out  # the sample backs up its volume by file system
    assert "restoreflow restore describe demo-test --details --storage-location .demo/backups" in out
    record = BackupStorage.open(tmp_path / ".demo" / "backups").restores.get("demo-test")
    run_url = f"{PREFECT_API_URL.value().removesuffix('/api')}/runs/flow-run/{record['status']['flowRunId']}"
    assert f"The flow run, its phases and artifacts in the Prefect UI: {run_url}\n" in out
    assert "Traceback" not in demo.stderr and "| INFO" not in demo.stderr  # Prefect's log lines: in the run
    assert (tmp_path / ".demo" / "kubeconfig").is_file()
    assert record["status"]["phase"] == "Completed"
    assert record["status"]["counts"]["created"] > 10
