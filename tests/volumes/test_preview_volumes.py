"""The preview of persistent volumes: a clone of an existing PV, a volume left to provisioning."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from restoreflow.backup import BackupBuilder
from restoreflow.plan.model import RestorePlan, Target
from restoreflow.restore.preview import Preview, preview

from .e2e import namespace, with_velero
from .helpers import make_plan, pv, pvc
from .test_volume_restores import LOCATION, disks, existing_pv, native_backup  # noqa: F401


def look(sandbox: Any, tmp_path: Path, backup: BackupBuilder, plan: RestorePlan) -> Preview:
    location = tmp_path / "bsl"
    backup.write(str(location))
    spec = replace(
        plan.spec,
        source=replace(plan.spec.source, storage_location=str(location), backup_name=backup.name),
        target=Target(kubeconfig=str(sandbox.kubeconfig)),
    )
    return preview(replace(plan, spec=spec), restore_name="r1")


def decisions(result: Preview) -> dict[str, tuple[str, str]]:
    return {item.path: (item.decision, item.reason) for item in result.items}


@pytest.mark.usefixtures("disks")
def test_an_existing_pv_with_a_remapped_claim_would_be_cloned(sandbox: Any, tmp_path: Path) -> None:
    with_velero(sandbox, LOCATION)
    sandbox.load([namespace("shop"), existing_pv()])

    result = look(sandbox, tmp_path, native_backup(), make_plan(mapping={"shop": "shop-drill"}))

    [clone] = [item for item in result.items if item.resource == "persistentvolumes"]
    assert (clone.decision, clone.reason) == ("rename", "a PV named pv-1 exists: restored as a clone")
    assert clone.name.startswith("velero-clone-")
    assert clone.desired["metadata"]["annotations"]["velero.io/original-pv-name"] == "pv-1"
    claim = decisions(result)["persistentvolumeclaims/shop-drill/data"]
    assert claim[0] == "create"
    assert [p["metadata"]["name"] for p in sandbox.objects("persistentvolumes")] == ["pv-1"]


def test_a_pv_backed_up_by_its_pod_is_left_to_provisioning(sandbox: Any, tmp_path: Path) -> None:
    backup = BackupBuilder("nightly")
    backup.add_all([namespace("shop"), pv(policy="Delete"), pvc()])
    backup.add_volume_info(
        {"pvName": "pv-1", "pvcName": "data", "pvcNamespace": "shop", "backupMethod": "PodVolumeBackup"}
    )
    sandbox.load([namespace("shop")])

    result = look(sandbox, tmp_path, backup, make_plan())

    found = decisions(result)
    assert found["persistentvolumes/pv-1"] == ("provision", "dynamically provisioned for its claim")
    assert found["persistentvolumeclaims/shop/data"] == ("create", "")
    [claim] = [item for item in result.items if item.resource == "persistentvolumeclaims"]
    assert "volumeName" not in claim.desired["spec"]
    assert [t.step for t in claim.transforms] == ["action velero.io/pvc", "persistent volume claim"]
    assert claim.transforms[1].changed == ["spec.volumeName"]
    assert sandbox.objects("persistentvolumes") == []
