"""A restore seen from another terminal while `restore create --wait` runs it, or after Ctrl-C."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from restoreflow.backup import BackupStorage
from restoreflow.cli import build_parser
from restoreflow.cli.create_flags import CreateOptions
from restoreflow.cli.create_request import CreateRequest
from restoreflow.cli.interrupt import mark_interrupted
from restoreflow.sandbox import Sandbox
from tests.cli.conftest import restore_status

RESTOREFLOW = str(Path(sys.executable).with_name("restoreflow"))
BAR = re.compile(r"^\w+(?: \(\w+\))?: ([\d,]+)/([\d,]+) items", re.MULTILINE)


@pytest.mark.usefixtures("prefect_server")
@pytest.mark.sandbox(velero_crds=True, pvr_progress_delay=1.5)
def test_labels_select_a_running_restore_and_its_progress_total_never_moves(
    cli, bsl: BackupStorage, sandbox: Sandbox, tmp_path: Path
) -> None:
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    argv = [RESTOREFLOW, "restore", "create", "running", "--from-backup", "demo-backup"]
    argv += ["--labels", "team=shop,drill=nightly", "--wait"]
    argv += ["--storage-location", bsl.url, "--kubeconfig", sandbox.kubeconfig]
    output = tmp_path / "output.txt"
    listed = unmatched = None
    with output.open("w") as out:
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            run = cli("restore", "get", "-l", "team=shop", "--show-labels", "--storage-location", bsl.url)
            if "InProgress" in run.out:
                listed = run.out
                unmatched = cli("restore", "get", "-l", "team=web", "--storage-location", bsl.url).out
                break
            time.sleep(0.1)
        assert process.wait(timeout=120) == 0, output.read_text()

    assert listed is not None, output.read_text()
    row = listed.splitlines()[1]
    assert row.split()[:3] == ["running", "demo-backup", "InProgress"]
    assert row.endswith("drill=nightly,team=shop")
    assert "running" not in unmatched
    bars = [
        (int(done.replace(",", "")), int(total.replace(",", "")))
        for done, total in BAR.findall(output.read_text())
    ]
    running, final = [bar for bar in bars if bar[1]][:-1], bars[-1]
    assert running and {total for _, total in running} == {19}, bars  # the total never moves while it runs
    done = [done for done, _ in running]
    assert done == sorted(done)
    assert final == (18, 18), bars  # at the end, as in Velero: the items restored (the completed job is not)


def test_ctrl_c_that_the_flow_could_not_handle_still_leaves_a_readable_failed_record(
    cli, bsl: BackupStorage, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C may land where the flow cannot finish the record (between Prefect's own steps): the
    CLI then marks it Failed itself, keeping what it has and adding the interruption."""
    unfinished = restore_status("cut", "InProgress", completionTimestamp=None, counts={"created": 1})
    before = (
        'time="2026-11-25T10:00:01Z" level=info msg="prepared 3 items in 3 resource groups" restore=cut\n'
    )
    bsl.restores.write(
        "cut",
        status=unfinished,
        results={},
        resource_list={"v1/ConfigMap": ["shop-copy/web-config(created)"]},
        logs=before,
        item_operations=[],
        volume_info=[],
    )
    argv = ["restore", "create", "cut", "--from-backup", "demo-backup", "--storage-location", bsl.url]
    mark_interrupted(CreateRequest(CreateOptions.from_args(build_parser().parse_args(argv))))
    assert 'Restore "cut" interrupted; marked Failed.' in capsys.readouterr().err

    status = bsl.restores.get("cut")["status"]
    assert status["phase"] == "Failed" and status["completionTimestamp"] and status["errors"] == 1
    logs = cli("restore", "logs", "cut", "--storage-location", bsl.url).out
    assert logs.startswith(before)
    assert 'msg="Velero restore error: interrupted: the restoreflow process' in logs
    describe = cli("restore", "describe", "cut", "--details", "--storage-location", bsl.url).out
    assert (
        "Errors:\n  Velero:   interrupted: the restoreflow process running the restore was stopped\n"
        in describe
    )
    assert "shop-copy/web-config(created)" in describe
