"""How each PV comes back (Velero's decision) and what happens to its claim."""

from __future__ import annotations

import pytest

from restoreflow.restore import volumes
from restoreflow.restore.volume_native import new_pv_name
from restoreflow.restore.volumes import handle_persistent_volume, handle_persistent_volume_claim

from .helpers import make_context, make_plan, pv, pvb, pvc


@pytest.mark.parametrize(
    ("method", "policy", "expected"),
    [
        ("NativeSnapshot", "Delete", volumes.NATIVE),
        ("PodVolumeBackup", "Retain", volumes.PROVISION),
        ("CSISnapshot", "Retain", volumes.PROVISION),
        ("", "Delete", volumes.PROVISION),
        ("", "Retain", volumes.RETAIN),
    ],
)
def test_decision_from_volume_info(method: str, policy: str, expected: str) -> None:
    assert (
        volumes.method_from_volume_info({"pvName": "pv-1", "backupMethod": method}, pv(policy=policy))
        == expected
    )


@pytest.mark.parametrize(
    ("records", "policy", "expected"),
    [
        ({"volume_snapshots": [{"spec": {"persistentVolumeName": "pv-1"}}]}, "Delete", volumes.NATIVE),
        ({"pod_volume_backups": [pvb("web", "data", pvc_name="data")]}, "Retain", volumes.PROVISION),
        (
            {"pod_volume_backups": [pvb("web", "data", namespace="other", pvc_name="data")]},
            "Retain",
            volumes.RETAIN,
        ),
        (
            {
                "csi_volume_snapshots": [
                    {
                        "metadata": {"namespace": "shop"},
                        "spec": {"source": {"persistentVolumeClaimName": "data"}},
                    }
                ]
            },
            "Retain",
            volumes.PROVISION,
        ),
        ({}, "Delete", volumes.PROVISION),
        ({}, "Retain", volumes.RETAIN),
    ],
)
def test_decision_for_backups_without_volume_info(records: dict, policy: str, expected: str) -> None:
    ctx = make_context(**records)
    assert volumes.method_from_legacy_records(pv(policy=policy), ctx.contents) == expected


@pytest.mark.parametrize("method", ["PodVolumeBackup", "CSISnapshot"])
def test_provisioned_pv_is_not_created_and_its_claim_is_unbound(method: str) -> None:
    ctx = make_context(volume_info=[{"pvName": "pv-1", "backupMethod": method}])
    assert handle_persistent_volume(ctx, pv()) is None
    claim = handle_persistent_volume_claim(ctx, pvc())
    assert "volumeName" not in claim["spec"]
    assert "pv.kubernetes.io/bind-completed" not in claim["metadata"]["annotations"]


def test_skipped_pv_with_delete_policy_is_provisioned() -> None:
    ctx = make_context(volume_info=[{"pvName": "pv-1", "skipped": True}])
    assert handle_persistent_volume(ctx, pv(policy="Delete")) is None
    assert ctx.pvs_to_provision == {"pv-1"}


def test_skipped_pv_with_retain_policy_is_created_as_is_with_claim_remapped() -> None:
    ctx = make_context(
        make_plan(mapping={"shop": "shop-drill"}), volume_info=[{"pvName": "pv-1", "skipped": True}]
    )
    original = pv()
    restored = handle_persistent_volume(ctx, original)
    assert restored is not None and restored["metadata"]["name"] == "pv-1"
    assert restored["spec"]["claimRef"] == {"namespace": "shop-drill", "name": "data"}
    assert restored["metadata"]["annotations"] == {"pv.kubernetes.io/provisioned-by": "csi.example.com"}
    assert original["spec"]["claimRef"]["namespace"] == "shop"  # the backup's copy is untouched
    claim = handle_persistent_volume_claim(ctx, pvc())
    assert claim["spec"]["volumeName"] == "pv-1"


def test_claim_follows_a_renamed_pv() -> None:
    ctx = make_context()
    ctx.renamed_pvs["pv-1"] = "velero-clone-1234"
    assert handle_persistent_volume_claim(ctx, pvc())["spec"]["volumeName"] == "velero-clone-1234"


def test_claim_without_volume_is_unchanged() -> None:
    ctx = make_context()
    claim = pvc()
    del claim["spec"]["volumeName"]
    assert handle_persistent_volume_claim(ctx, claim)["metadata"]["annotations"] == {
        "pv.kubernetes.io/bind-completed": "yes"
    }


def test_new_pv_names_are_velero_clones() -> None:
    name = new_pv_name()
    assert name.startswith("velero-clone-") and len(name) == len("velero-clone-") + 36
