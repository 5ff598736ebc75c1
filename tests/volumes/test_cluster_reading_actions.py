"""The volume actions that read the target cluster, against the sandbox through the real client."""

from __future__ import annotations

import copy
import hashlib
from dataclasses import replace
from typing import Any

import pytest

from restoreflow.actions.base import ActionError, ActionInput, ResourceIdentifier
from restoreflow.actions.csi.pvc import CsiPvcRestorerAction
from restoreflow.actions.csi.volumesnapshotcontent import CsiVolumeSnapshotContentRestorerAction
from restoreflow.actions.pod_volume_restore import PodVolumeRestoreAction
from restoreflow.cluster import Cluster
from restoreflow.plan.model import Transforms

from .e2e import namespace, with_snapshots, with_velero
from .helpers import app_pod, make_context, make_plan, pvb, pvc


def context(sandbox: Any, plan=None, **contents: Any):
    ctx = make_context(plan, **contents)
    ctx.cluster = Cluster(sandbox.api_client())
    return ctx


def execute(action: Any, ctx: Any, item: dict, backup_item: dict | None = None):
    return action.execute(ActionInput(item=item, item_from_backup=backup_item or dict(item), restore=ctx))


SNAPSHOTTED = pvc(annotations={"velero.io/volume-snapshot-name": "vs-1"})


def test_csi_claim_gets_the_restored_snapshot_as_data_source(sandbox: Any) -> None:
    ctx = context(sandbox)
    result = execute(CsiPvcRestorerAction(), ctx, pvc(), SNAPSHOTTED)
    name = hashlib.sha256(f"{ctx.uid}/vs-1".encode()).hexdigest()
    assert result.item["spec"]["dataSource"] == {
        "apiGroup": "snapshot.storage.k8s.io",
        "kind": "VolumeSnapshot",
        "name": name,
    }
    assert "volumeName" not in result.item["spec"]
    assert result.additional_items == [
        ResourceIdentifier("volumesnapshots.snapshot.storage.k8s.io", "shop", "vs-1")
    ]


def test_csi_claim_that_already_exists_in_the_target_namespace_is_untouched(sandbox: Any) -> None:
    sandbox.load([namespace("drill"), {**pvc(namespace="drill"), "status": {}}])
    ctx = context(sandbox, make_plan(mapping={"shop": "drill"}))
    result = execute(CsiPvcRestorerAction(), ctx, pvc(), SNAPSHOTTED)
    assert result.item["spec"]["volumeName"] == "pv-1" and "dataSource" not in result.item["spec"]
    assert result.additional_items == []


def test_csi_claim_without_snapshot_annotation_is_unchanged(sandbox: Any) -> None:
    result = execute(CsiPvcRestorerAction(), context(sandbox), pvc())
    assert result.item["spec"]["volumeName"] == "pv-1" and not result.additional_items


CONTENT = {
    "apiVersion": "snapshot.storage.k8s.io/v1",
    "kind": "VolumeSnapshotContent",
    "metadata": {
        "name": "snapcontent-1",
        "annotations": {
            "csi.storage.k8s.io/snapshotter-secret-name": "deleter",
            "csi.storage.k8s.io/snapshotter-secret-namespace": "kube-system",
        },
    },
    "spec": {
        "driver": "disks.example.com",
        "deletionPolicy": "Delete",
        "source": {"volumeHandle": "v-0"},
        "volumeSnapshotClassName": "old-class",
        "volumeSnapshotRef": {"name": "vs-1", "namespace": "shop", "uid": "u", "resourceVersion": "9"},
    },
    "status": {"snapshotHandle": "handle-1"},
}


def snapshot_class(name: str, driver: str) -> dict[str, Any]:
    return {
        "apiVersion": "snapshot.storage.k8s.io/v1",
        "kind": "VolumeSnapshotClass",
        "metadata": {"name": name},
        "driver": driver,
        "deletionPolicy": "Delete",
    }


def copy_of(obj: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(obj)


def test_content_is_renamed_retained_and_uses_a_class_of_the_same_driver(sandbox: Any) -> None:
    with_snapshots(sandbox)
    sandbox.load([snapshot_class("other", "other.example.com"), snapshot_class("disks", "disks.example.com")])
    ctx = context(sandbox, make_plan(mapping={"shop": "drill"}))
    result = execute(CsiVolumeSnapshotContentRestorerAction(), ctx, copy_of(CONTENT), CONTENT)
    name = hashlib.sha256(f"{ctx.uid}/vs-1".encode()).hexdigest()
    assert result.item["metadata"]["name"] == name
    assert result.item["spec"] == {
        "driver": "disks.example.com",
        "deletionPolicy": "Retain",
        "source": {"snapshotHandle": "handle-1"},
        "volumeSnapshotClassName": "disks",
        "volumeSnapshotRef": {"name": name, "namespace": "drill"},
    }
    assert result.additional_items == [ResourceIdentifier("secrets", "kube-system", "deleter")]


def test_content_without_snapshot_handle_fails(sandbox: Any) -> None:
    with_snapshots(sandbox)
    ctx = context(sandbox)
    broken = {**copy_of(CONTENT), "status": {}}
    name = hashlib.sha256(f"{ctx.uid}/vs-1".encode()).hexdigest()
    with pytest.raises(ActionError, match=f"^fail to get snapshot handle from VSC {name} status$"):
        execute(CsiVolumeSnapshotContentRestorerAction(), ctx, copy_of(broken), broken)


def test_content_without_a_matching_class_has_none(sandbox: Any) -> None:
    ctx = context(sandbox)  # the snapshot API is not even served: Velero goes on without a class
    result = execute(CsiVolumeSnapshotContentRestorerAction(), ctx, copy_of(CONTENT), CONTENT)
    assert "volumeSnapshotClassName" not in result.item["spec"]


VELERO_DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "velero", "namespace": "velero"},
    "spec": {
        "selector": {"matchLabels": {"app": "velero"}},
        "template": {
            "metadata": {"labels": {"app": "velero"}},
            "spec": {"containers": [{"name": "velero", "image": "registry.example/velero:v1.17.0"}]},
        },
    },
}


def plugin_config_map(name: str, **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": "velero",
            "labels": {"velero.io/plugin-config": "", "velero.io/pod-volume-restore": "RestoreItemAction"},
        },
        "data": data,
    }


def honouring_plan():
    plan = make_plan()
    return replace(plan, spec=replace(plan.spec, transforms=Transforms(honor_velero_config_maps=True)))


def test_restore_wait_uses_the_targets_velero_image(sandbox: Any) -> None:
    with_velero(sandbox, VELERO_DEPLOYMENT)
    ctx = context(sandbox, pod_volume_backups=[pvb("web", "data")])
    result = execute(PodVolumeRestoreAction(), ctx, app_pod())
    assert result.item["spec"]["initContainers"][0]["image"] == "registry.example/velero:v1.17.0"


def test_restore_wait_follows_veleros_plugin_config_map_when_honoured(sandbox: Any) -> None:
    with_velero(
        sandbox, VELERO_DEPLOYMENT, plugin_config_map("pvr", image="my.registry/helper:1", cpuRequest="250m")
    )
    ctx = context(sandbox, honouring_plan(), pod_volume_backups=[pvb("web", "data")])
    wait = execute(PodVolumeRestoreAction(), ctx, app_pod()).item["spec"]["initContainers"][0]
    assert wait["image"] == "my.registry/helper:1"
    assert wait["resources"]["requests"] == {"cpu": "250m", "memory": "128Mi"}
    ignored = execute(
        PodVolumeRestoreAction(), context(sandbox, pod_volume_backups=[pvb("web", "data")]), app_pod()
    )
    assert ignored.item["spec"]["initContainers"][0]["image"] == "registry.example/velero:v1.17.0"


def test_two_plugin_config_maps_fail_the_pod_with_veleros_message(sandbox: Any) -> None:
    with_velero(sandbox, plugin_config_map("a"), plugin_config_map("b"))
    ctx = context(sandbox, honouring_plan(), pod_volume_backups=[pvb("web", "data")])
    selector = "velero.io/plugin-config,velero.io/pod-volume-restore=RestoreItemAction"
    with pytest.raises(ActionError) as caught:
        execute(PodVolumeRestoreAction(), ctx, app_pod())
    assert str(caught.value) == f'found more than one ConfigMap matching label selector "{selector}": [a b]'
