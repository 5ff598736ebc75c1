"""`restoreflow restore create` running the flow in this process (Prefect's test server, the sandbox)."""

from __future__ import annotations

from pathlib import Path

import pytest

from restoreflow.backup import BackupBuilder, BackupStorage
from restoreflow.sandbox import Sandbox
from tests.flow.harness import plan_document, unique, write_plan
from tests.volumes.e2e import namespace
from tests.volumes.helpers import app_pod, pv, pvb, pvc

pytestmark = [pytest.mark.usefixtures("prefect_server"), pytest.mark.sandbox(velero_crds=True)]


def test_create_from_a_plan_waits_and_reports(
    cli, bsl: BackupStorage, sandbox: Sandbox, tmp_path: Path
) -> None:
    plan = write_plan(tmp_path / "plan.yaml", plan_document(bsl.url, sandbox.kubeconfig))
    name = unique("cli")
    run = cli("restore", "create", name, "--plan", str(plan), "--wait", "--labels", "team=shop")
    assert run.code == 0, run.out + run.err
    lines = run.out.splitlines()
    assert lines[0] == f'Restore request "{name}" submitted successfully.'
    assert lines[1] == "Waiting for restore to complete."
    assert any(line.startswith("InProgress (restore): ") and " items" in line for line in lines)
    assert (
        f"Restore completed with status: Completed. You may check for more information using the commands "
        f"`restoreflow restore describe {name}` and `restoreflow restore logs {name}`."
    ) in lines
    assert "Items: 17 created, 0 updated, 1 skipped, 0 failed; warnings: 0, errors: 0" in lines
    record = bsl.restores.get(name)
    assert record["status"]["phase"] == "Completed"
    assert record["spec"]["planFile"] == str(plan)
    assert record["metadata"]["labels"] == {"team": "shop"}
    listed = cli("restore", "get", name, "--show-labels", "--storage-location", bsl.url)
    assert listed.out.splitlines()[1].split()[2] == "Completed" and "team=shop" in listed.out


def test_create_from_flags_alone(cli, bsl: BackupStorage, sandbox: Sandbox) -> None:
    name = unique("flags")
    run = cli(
        "restore", "create", name,
        "--from-backup", "demo-backup",
        "--storage-location", bsl.url,
        "--kubeconfig", sandbox.kubeconfig,
        "--include-namespaces", "shop",
        "--include-resources", "configmaps,secrets,namespaces",
        "--namespace-mappings", "shop:shop-flags",
        "--wait",
    )  # fmt: skip
    assert run.code == 0, run.out + run.err
    assert "Restore completed with status: Completed." in run.out
    assert sandbox.get("configmaps", "web-config", namespace="shop-flags") is not None
    assert sandbox.get("deployments.apps", "web", namespace="shop-flags") is None
    spec = bsl.restores.get(name)["spec"]
    assert spec["namespaceMapping"] == {"shop": "shop-flags"}
    assert spec["includedResources"] == ["configmaps", "secrets", "namespaces"]


def test_partially_failed_exits_1(cli, bsl: BackupStorage, sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.add_fault("verb=create,resource=secrets,code=500")
    document = plan_document(bsl.url, sandbox.kubeconfig, retries={"api": {"attempts": 1}})
    plan = write_plan(tmp_path / "plan.yaml", document)
    name = unique("partial")
    run = cli("restore", "create", name, "--plan", str(plan), "--wait")
    assert run.code == 1
    assert "Restore completed with status: PartiallyFailed." in run.out
    assert "1 failed" in run.out
    describe = cli("restore", "describe", name, "--storage-location", bsl.url)
    assert "Phase:" in describe.out and "PartiallyFailed" in describe.out and "Errors:" in describe.out


def test_unknown_deployment(cli, bsl: BackupStorage, sandbox: Sandbox, tmp_path: Path) -> None:
    plan = write_plan(tmp_path / "plan.yaml", plan_document(bsl.url, sandbox.kubeconfig))
    run = cli("restore", "create", unique("dep"), "--plan", str(plan), "--deployment", "no-such-deployment")
    assert run.code == 1
    assert 'error: deployment "restore/no-such-deployment" not found on the Prefect API' in run.err
    assert "submitted" not in run.out


def test_a_plan_without_a_storage_location_takes_the_flag(
    cli, bsl: BackupStorage, sandbox: Sandbox, tmp_path: Path
) -> None:
    document = plan_document(bsl.url, sandbox.kubeconfig, includedResources=["configmaps", "namespaces"])
    del document["spec"]["source"]["storageLocation"]
    plan = write_plan(tmp_path / "portable.yaml", document)

    refused = cli("restore", "create", unique("nowhere"), "--plan", str(plan))
    assert refused.code == 1
    assert "spec.source.storageLocation" in refused.err

    name = unique("portable")
    run = cli("restore", "create", name, "--plan", str(plan), "--storage-location", bsl.url, "--wait")
    assert run.code == 0, run.out + run.err
    assert bsl.restores.get(name)["spec"]["storageLocation"] == bsl.url
    assert sandbox.get("configmaps", "web-config", namespace="shop") is not None


def test_wait_shows_volumes_and_their_bytes(
    cli, bsl: BackupStorage, sandbox: Sandbox, tmp_path: Path
) -> None:
    """A file-system backup restore whose node agent reports half of each volume, then never ends."""
    backup = BackupBuilder(unique("fs"))
    pod = app_pod(annotations={"sandbox.restoreflow.dev/pod-volume-restore": "hang"})
    backup.add_all([namespace("shop"), pv(policy="Delete"), pvc(), pod])
    backup.add_pod_volume_backup(pvb("web", "data", pvc_name="data"))
    backup.add_pod_volume_backup(pvb("web", "cache", snapshot="snap-2"))
    backup.write(bsl.url)
    if sandbox.get("namespaces", "velero") is None:
        sandbox.load([namespace("velero")])
    document = plan_document(
        bsl.url,
        sandbox.kubeconfig,
        source={"storageLocation": bsl.url, "backupName": backup.name},
        namespaceMapping={"shop": unique("shop-fs")},
        timeouts={"fsBackupRestore": "7s"},  # past the status document's 5 s: one shows the bytes for 2 s
    )
    run = cli(
        "restore",
        "create",
        unique("bytes"),
        "--plan",
        str(write_plan(tmp_path / "p.yaml", document)),
        "--wait",
    )
    assert run.code == 1, run.out + run.err  # PartiallyFailed: the volumes timed out
    shown = [line for line in run.out.splitlines() if "volumes" in line]
    assert any("0/2 volumes, 10.0 MiB of 20.0 MiB  [" in line for line in shown), shown
    assert shown[-1].startswith("PartiallyFailed: ") and "0/2 volumes, 10.0 MiB of 20.0 MiB" in shown[-1]
