"""prefect.yaml's recipe, as its comments write it, from nothing to a restore run by a worker.

The commands are read from the comment block at the top of prefect.yaml and run in a shell, in a
scratch copy of the repository's flows, plans and prefect.yaml (so the deployment's working copy
and `.demo/` are the test's own), with restoreflow's home (its local Prefect server) the test's too.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from restoreflow.backup import BackupStorage, sample_backup

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def prefect_yaml() -> list[str]:
    return (REPO / "prefect.yaml").read_text().splitlines()


def recipe() -> list[str]:
    """The `#   command` lines of prefect.yaml's header, comments after `#` removed."""
    lines = []
    for line in prefect_yaml():
        if not line.startswith("#"):
            break
        if line.startswith("#   "):
            lines.append(line[4:].split("  #", 1)[0].strip())
    return lines


def scratch_repo(tmp_path: Path) -> tuple[Path, BackupStorage]:
    """A copy of the repository's flows, plans and prefect.yaml, with the demo backup in `.demo/`
    (what `make demo` leaves there)."""
    work = tmp_path / "repo"
    work.mkdir()
    for part in ("flows", "plans"):
        shutil.copytree(REPO / part, work / part)
    shutil.copy(REPO / "prefect.yaml", work)
    storage = BackupStorage.open(work / ".demo" / "backups", create=True)
    sample_backup(storage, "demo-backup")
    return work, storage


def run_steps(tmp_path: Path, work: Path, steps: list[str]) -> str:
    """The steps as a person types them, in one shell; its output (asserted to have succeeded)."""
    # on exit, whatever happened: a Prefect worker finishes its shutdown on a second signal
    kill = "for i in 1 2 3; do kill $(jobs -p) 2>/dev/null; sleep 1; done"
    stop = f"set +e; {kill}; restoreflow server stop >/dev/null"
    script = ["set -e", f"trap '{stop}' EXIT"]
    for step in steps:
        script.append(step)
        if "sandbox serve" in step:  # a person typing the next command gives it this long
            script.append("until [ -s .demo/kubeconfig ]; do sleep 0.2; done")
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "RESTOREFLOW_", "KUBECONFIG"))
    }
    env |= {
        "PATH": f"{BIN}{os.pathsep}{env['PATH']}",
        "RESTOREFLOW_HOME": str(tmp_path / "home"),
        "PREFECT_HOME": str(tmp_path / "prefect-cli"),
        "PREFECT_CLI_PROMPT": "false",
        "PREFECT_WORKER_QUERY_SECONDS": "1",  # the worker looks for scheduled runs every second
        "PWD": str(work),
    }
    output = tmp_path / "output.txt"
    with output.open("w") as out:  # a file, not a pipe: the worker's children may outlive the shell
        code = subprocess.run(
            ["bash", "-c", "\n".join(script)], cwd=work, env=env, stdout=out, stderr=out
        ).returncode
    text = output.read_text()
    assert code == 0, text[-4000:]
    return text


@pytest.mark.timeout(900)  # a fresh server's migrations, deploy, a worker's subprocess: minutes when busy
def test_the_recipe_in_prefect_yaml_restores_through_a_worker(tmp_path: Path) -> None:
    work, storage = scratch_repo(tmp_path)
    steps = recipe()
    assert steps[0] == "restoreflow server start" and steps[-1].startswith("restoreflow restore create")
    text = run_steps(tmp_path, work, steps)
    assert "created from deployment restore/restore." in text
    assert "Restore completed with status: Completed." in text
    (name,) = [r["metadata"]["name"] for r in storage.restores.list()]
    assert storage.restores.get(name)["status"]["phase"] == "Completed"


@pytest.mark.timeout(900)
def test_the_event_trigger_in_prefect_yaml_restores_the_backup_the_event_names(tmp_path: Path) -> None:
    """prefect.yaml's trigger, as written: `velero.backup.completed` for a backup starts the
    `restore` deployment with the drill's plan and that backup. The drill's plan is the scratch
    copy's own (the test's storage location and sandbox instead of the production bucket)."""
    work, storage = scratch_repo(tmp_path)
    drill = {
        "apiVersion": "restoreflow.dev/v1alpha1",
        "kind": "RestorePlan",
        "metadata": {"name": "nightly-dr-drill"},
        "spec": {
            "source": {"storageLocation": str(work / ".demo" / "backups"), "scheduleName": "nightly"},
            "target": {"kubeconfig": str(work / ".demo" / "kubeconfig")},
            "includedNamespaces": ["shop"],
            "includeClusterResources": True,  # the widgets' CRD
            "namespaceMapping": {"shop": "shop-drill"},
        },
    }
    (work / "plans" / "nightly-dr-drill.yaml").write_text(json.dumps(drill))
    setup = [s for s in recipe() if not s.startswith("restoreflow restore create")]
    (emit,) = [
        line.strip("# ") for line in prefect_yaml() if line.strip("# ").startswith("prefect event emit")
    ]
    emit = emit.replace(".B", ".demo-backup").replace('"B"', '"demo-backup"')
    ended = "Completed|PartiallyFailed|Failed"
    finished = (
        f'restoreflow restore get --storage-location .demo/backups -o json | grep -Eq \'"phase": "({ended})\''
    )
    wait = f"for i in $(seq 1 600); do {finished} && break; sleep 0.5; done"
    run_steps(tmp_path, work, [*setup, emit, wait])

    (record,) = storage.restores.list()
    assert record["metadata"]["name"].startswith("nightly-dr-drill-")
    assert record["spec"]["backupName"] == "demo-backup"
    assert record["status"]["phase"] == "Completed"
