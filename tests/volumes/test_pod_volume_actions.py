"""The `restore-wait` init container, the PodVolumeRestore body, and the CSI actions without cluster reads."""

from __future__ import annotations

import hashlib

import pytest

from restoreflow.actions.base import ActionError, ActionInput, ResourceIdentifier
from restoreflow.actions.csi.volumesnapshot import CsiVolumeSnapshotRestorerAction
from restoreflow.actions.csi.volumesnapshotclass import CsiVolumeSnapshotClassRestorerAction
from restoreflow.actions.pod_volume_restore import (
    PodVolumeRestoreAction,
    VolumeBackup,
    image_from_config,
    restore_wait_container,
    uploader_settings,
    volumes_to_restore,
)
from restoreflow.restore import volume_pod_restores as pvr

from .helpers import app_pod, make_context, make_plan, pvb


def test_volumes_to_restore_match_pod_and_source_namespace_and_skip_downward_api() -> None:
    backups = [
        pvb("web", "data"),
        pvb("web", "info"),
        pvb("web", "other", namespace="elsewhere"),
        pvb("db", "data"),
    ]
    unfinished = pvb("web", "cache")
    unfinished["status"].pop("snapshotID")
    found = volumes_to_restore([*backups, unfinished], app_pod(namespace="shop-drill"), "shop")
    assert found == {"data": VolumeBackup("data", "snap-1", 2048, "kopia")}


def test_legacy_snapshot_annotations_are_used_when_no_pvb_matches() -> None:
    pod = app_pod(annotations={"snapshot.velero.io/data": "abc"})
    assert volumes_to_restore([], pod, "shop") == {"data": VolumeBackup("data", "abc")}


def test_pod_volume_restore_is_shaped_like_veleros() -> None:
    pod = app_pod(namespace="shop-drill")
    body = pvr.new_pod_volume_restore(
        restore_name="r",
        restore_uid="ruid",
        velero_namespace="velero",
        pod=pod,
        backup=VolumeBackup("data", "snap-1", 2048),
        backup_location="default",
        source_namespace="shop",
        pvc_uid="uid-data",
        settings=uploader_settings(True, 4),
    )
    assert body["metadata"] == {
        "namespace": "velero",
        "generateName": "r-",
        "labels": {
            "velero.io/restore-name": "r",
            "velero.io/restore-uid": "ruid",
            "velero.io/pod-uid": "uid-web",
            "velero.io/pvc-uid": "uid-data",
        },
    }
    assert body["spec"] == {
        "pod": {"kind": "Pod", "namespace": "shop-drill", "name": "web", "uid": "uid-web"},
        "volume": "data",
        "snapshotID": "snap-1",
        "backupStorageLocation": "default",
        "repoIdentifier": "",
        "uploaderType": "kopia",
        "sourceNamespace": "shop",
        "snapshotSize": 2048,
        "uploaderSettings": {"WriteSparseFiles": "true", "ParallelFilesDownload": "4"},
    }


def test_long_restore_names_get_veleros_label_value() -> None:
    long = "the-really-long-kube-service-name-that-is-much-greater-than-63-characters"
    body = pvr.new_pod_volume_restore(
        restore_name=long,
        restore_uid="ruid",
        velero_namespace="velero",
        pod=app_pod(),
        backup=VolumeBackup("data", "snap-1"),
        backup_location="default",
        source_namespace="shop",
    )
    labels = body["metadata"]["labels"]
    assert (
        labels["velero.io/restore-name"] == "the-really-long-kube-service-name-that-is-much-greater-th8a11b3"
    )
    assert "velero.io/pvc-uid" not in labels and "snapshotSize" not in body["spec"]
    assert uploader_settings(None, None) == {"WriteSparseFiles": "false"}


def run(action, item: dict, plan=None, backup_item: dict | None = None, **contents):
    ctx = make_context(plan, **contents)
    return ctx, action.execute(
        ActionInput(item=item, item_from_backup=backup_item or dict(item), restore=ctx)
    )


def test_restore_wait_is_prepended_exactly_as_velero_builds_it() -> None:
    pod = app_pod()
    pod["spec"]["initContainers"] = [
        {"name": "restic-wait", "image": "old"},
        {"name": "own", "image": "busybox"},
    ]
    ctx, result = run(
        PodVolumeRestoreAction(), pod, pod_volume_backups=[pvb("web", "data"), pvb("web", "cache")]
    )
    wait, own = result.item["spec"]["initContainers"]
    assert own["name"] == "own"
    assert wait == {
        "name": "restore-wait",
        "image": "velero/velero:v1.18.1",
        "command": ["/velero-restore-helper"],
        "args": [ctx.uid],
        "env": [
            {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        ],
        "resources": {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "100m", "memory": "128Mi"},
        },
        "volumeMounts": [
            {"name": "cache", "mountPath": "/restores/cache"},
            {"name": "data", "mountPath": "/restores/data"},
        ],
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
            "runAsUser": 1000,
            "runAsNonRoot": True,
        },
    }


def test_pods_without_volume_backups_only_lose_stale_wait_containers() -> None:
    pod = app_pod()
    pod["spec"]["initContainers"] = [{"name": "restore-wait", "image": "old"}]
    _, result = run(PodVolumeRestoreAction(), pod)
    assert "initContainers" not in result.item["spec"]


def test_wait_container_copies_the_first_containers_security_context_and_config() -> None:
    pod = app_pod()
    pod["spec"]["containers"][0]["securityContext"] = {"runAsUser": 7}
    config = {
        "cpuLimit": "1",
        "memRequest": "64Mi",
        "command": "/helper",
        "secCtxRunAsUser": "5",
        "secCtx": "runAsNonRoot: true",
    }
    wait = restore_wait_container(image="i", restore_uid="u", volumes=["data"], config=config, pod=pod)
    assert wait["resources"] == {
        "requests": {"cpu": "100m", "memory": "64Mi"},
        "limits": {"cpu": "1", "memory": "128Mi"},
    }
    assert wait["command"] == ["/helper"] and wait["securityContext"] == {
        "runAsUser": 5,
        "runAsNonRoot": True,
    }
    plain = restore_wait_container(image="i", restore_uid="u", volumes=["data"], config={}, pod=pod)
    assert plain["securityContext"] == {"runAsUser": 7}


@pytest.mark.parametrize(
    ("configured", "image"),
    [
        ("", "velero/velero:v1.9"),
        ("no-registry:1", "velero/velero:v1.9"),
        ("my.registry/velero-helper", "my.registry/velero-helper:v1.18.1"),
        ("my.registry:5000/helper:2", "my.registry:5000/helper:2"),
    ],
)
def test_configured_image_rules(configured: str, image: str) -> None:
    assert image_from_config({"image": configured}, "velero/velero:v1.9") == image


VS = {
    "apiVersion": "snapshot.storage.k8s.io/v1",
    "kind": "VolumeSnapshot",
    "metadata": {"name": "vs-1", "namespace": "shop"},
    "spec": {"source": {"persistentVolumeClaimName": "data"}, "volumeSnapshotClassName": "csi-class"},
    "status": {"boundVolumeSnapshotContentName": "snapcontent-1", "readyToUse": True},
}


def test_volume_snapshot_is_renamed_and_bound_to_its_restored_content() -> None:
    item = {k: (dict(v) if isinstance(v, dict) else v) for k, v in VS.items()}
    item["spec"] = {"source": {"persistentVolumeClaimName": "data"}, "volumeSnapshotClassName": "csi-class"}
    ctx, result = run(CsiVolumeSnapshotRestorerAction(), item, backup_item=VS)
    name = hashlib.sha256(f"{ctx.uid}/vs-1".encode()).hexdigest()
    assert result.item["metadata"] == {
        "name": name,
        "namespace": "shop",
        "annotations": {"velero.io/csi-vsc-deletion-policy": "Retain"},
    }
    assert result.item["spec"] == {"source": {"volumeSnapshotContentName": name}}
    assert result.additional_items == [
        ResourceIdentifier("volumesnapshotcontents.snapshot.storage.k8s.io", "", "snapcontent-1")
    ]


def test_volume_snapshot_without_bound_content_fails() -> None:
    unbound = {**VS, "status": {}}
    with pytest.raises(ActionError, match=r"^VS vs-1 doesn't have bound VSC$"):
        run(CsiVolumeSnapshotRestorerAction(), dict(unbound), backup_item=unbound)


@pytest.mark.parametrize(
    "action", [CsiVolumeSnapshotRestorerAction(), CsiVolumeSnapshotClassRestorerAction()]
)
def test_csi_objects_are_skipped_when_pvs_are_not_restored(action) -> None:
    _, result = run(action, dict(VS), plan=make_plan(restore_pvs=False), backup_item=VS)
    assert result.skip_restore


def test_snapshot_class_brings_its_lister_secret() -> None:
    cls = {
        "metadata": {
            "name": "csi-class",
            "annotations": {
                "csi.storage.k8s.io/snapshotter-list-secret-name": "lister",
                "csi.storage.k8s.io/snapshotter-list-secret-namespace": "kube-system",
            },
        },
        "driver": "csi.example.com",
    }
    _, result = run(CsiVolumeSnapshotClassRestorerAction(), cls)
    assert result.additional_items == [ResourceIdentifier("secrets", "kube-system", "lister")]
    assert not result.skip_restore
