"""Actions that read the target cluster, against the sandbox through the real client:
secret, change-storage-class, pvc (selected node), change-image-name and Velero's ConfigMaps."""

from __future__ import annotations

from typing import Any

import pytest

from restoreflow.actions.base import ActionError, ResourceIdentifier
from restoreflow.actions.change_image_name import ChangeImageNameAction
from restoreflow.actions.change_storage_class import ChangeStorageClassAction
from restoreflow.actions.pvc import SELECTED_NODE, PVCAction
from restoreflow.actions.secret import SecretAction
from restoreflow.cluster import Cluster
from restoreflow.restore.resource_modifiers import ResourceModifierError, ResourceModifiers
from tests.actions.views import View, make_plan, run


def namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def plugin_config_map(name: str, plugin: str, data: dict[str, str]) -> dict[str, Any]:
    labels = {"velero.io/plugin-config": "", plugin: "RestoreItemAction"}
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "velero", "labels": labels},
        "data": data,
    }


def view(cluster: Cluster, transforms: dict[str, Any] | None = None, **spec: Any) -> View:
    return View(make_plan(transforms, **spec), cluster=cluster)


# --- velero.io/secret ---------------------------------------------------------------------------


def token_secret(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/service-account-token",
        "metadata": {
            "name": name,
            "namespace": "shop",
            "annotations": {
                "kubernetes.io/service-account.name": "app",
                "kubernetes.io/service-account.uid": "u1",
            },
        },
        "data": {"token": "dG9rZW4=", "ca.crt": "Y2E=", "namespace": "c2hvcA=="},
    }


def test_auto_created_token_secret_is_skipped_when_its_account_exists(sandbox: Any, cluster: Cluster) -> None:
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "app", "namespace": "shop"}}
    sandbox.load([namespace("shop"), account])
    assert run(SecretAction(), token_secret("app-token-x7k2p"), view=view(cluster)).skip_restore is True


def test_other_token_secrets_lose_the_old_token(sandbox: Any, cluster: Cluster) -> None:
    sandbox.load([namespace("shop")])
    result = run(SecretAction(), token_secret("app-long-lived"), view=view(cluster))
    assert result.skip_restore is False
    assert result.item["metadata"]["annotations"] == {"kubernetes.io/service-account.name": "app"}
    assert result.item["data"] == {"namespace": "c2hvcA=="}


def test_ordinary_secrets_are_untouched(cluster: Cluster) -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": "s"},
        "data": {"k": "dg=="},
    }
    assert run(SecretAction(), secret, view=view(cluster)).item == secret


# --- velero.io/change-storage-class -------------------------------------------------------------


def claim(storage_class: str | None = "gp2", **extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    if storage_class is not None:
        spec["storageClassName"] = storage_class
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": "shop", **extra},
        "spec": spec,
    }


def test_mapped_storage_class_is_changed(cluster: Cluster) -> None:
    item = run(
        ChangeStorageClassAction(),
        claim(),
        view=view(cluster, {"storage_class_mapping": {"gp2": "standard"}}),
    )
    assert item.item["spec"]["storageClassName"] == "standard"


def test_mapping_to_a_missing_storage_class_fails_with_velero_error(cluster: Cluster) -> None:
    with pytest.raises(ActionError) as error:
        run(
            ChangeStorageClassAction(),
            claim(),
            view=view(cluster, {"storage_class_mapping": {"gp2": "fast"}}),
        )
    assert str(error.value) == (
        'error getting storage class fast from API: storageclasses.storage.k8s.io "fast" not found'
    )


@pytest.mark.parametrize("storage_class", [None, "", "other"])
def test_unmapped_or_empty_storage_class_is_unchanged(cluster: Cluster, storage_class: str | None) -> None:
    item = claim(storage_class)
    result = run(
        ChangeStorageClassAction(), item, view=view(cluster, {"storage_class_mapping": {"gp2": "standard"}})
    )
    assert result.item == item


def test_persistent_volume_and_statefulset_templates(cluster: Cluster) -> None:
    mapping = view(cluster, {"storage_class_mapping": {"gp2": "standard"}})
    pv = {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": "pv-1"},
        "spec": {"storageClassName": "gp2", "capacity": {"storage": "1Gi"}},
    }
    assert run(ChangeStorageClassAction(), pv, view=mapping).item["spec"]["storageClassName"] == "standard"
    templates = [
        {"metadata": {"name": "a"}, "spec": {"storageClassName": "gp2"}},
        {"metadata": {"name": "b"}, "spec": {"storageClassName": "other"}},
        {"metadata": {"name": "c"}},
    ]
    sts = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db"},
        "spec": {"volumeClaimTemplates": templates},
    }
    result = run(ChangeStorageClassAction(), sts, view=mapping).item["spec"]["volumeClaimTemplates"]
    assert [t.get("spec", {}).get("storageClassName") for t in result] == ["standard", "other", None]


def test_velero_config_map_is_honoured_only_with_the_switch(sandbox: Any, cluster: Cluster) -> None:
    cm = plugin_config_map("sc", "velero.io/change-storage-class", {"gp2": "standard", "io1": "standard"})
    sandbox.load([namespace("velero"), cm])
    assert (
        run(ChangeStorageClassAction(), claim("io1"), view=view(cluster)).item["spec"]["storageClassName"]
        == "io1"
    )
    honoured = view(cluster, {"honor_velero_config_maps": True})
    assert (
        run(ChangeStorageClassAction(), claim("io1"), view=honoured).item["spec"]["storageClassName"]
        == "standard"
    )


def test_plan_wins_over_the_config_map(sandbox: Any, cluster: Cluster) -> None:
    storage_class = {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": "premium"},
        "provisioner": "example.com/csi",
    }
    cm = plugin_config_map("sc", "velero.io/change-storage-class", {"gp2": "standard"})
    sandbox.load([namespace("velero"), cm, storage_class])
    both = view(cluster, {"honor_velero_config_maps": True, "storage_class_mapping": {"gp2": "premium"}})
    assert run(ChangeStorageClassAction(), claim(), view=both).item["spec"]["storageClassName"] == "premium"


def test_more_than_one_config_map_is_velero_error(sandbox: Any, cluster: Cluster) -> None:
    plugin = "velero.io/change-storage-class"
    sandbox.load(
        [namespace("velero"), plugin_config_map("a", plugin, {}), plugin_config_map("b", plugin, {})]
    )
    with pytest.raises(ActionError) as error:
        run(ChangeStorageClassAction(), claim(), view=view(cluster, {"honor_velero_config_maps": True}))
    assert str(error.value) == (
        "found more than one ConfigMap matching label selector "
        '"velero.io/plugin-config,velero.io/change-storage-class=RestoreItemAction": [a b]'
    )


# --- velero.io/pvc ------------------------------------------------------------------------------

BINDING_ANNOTATIONS = {
    "pv.kubernetes.io/bind-completed": "yes",
    "pv.kubernetes.io/bound-by-controller": "yes",
    "volume.kubernetes.io/storage-provisioner": "x",
    "volume.beta.kubernetes.io/storage-provisioner": "x",
    "velero.io/volume-snapshot-name": "snap",
    "velero.io/data-upload-name": "up",
}


def bound_claim(node: str | None = "old-node") -> dict[str, Any]:
    annotations = {**BINDING_ANNOTATIONS, "keep": "me"} | ({SELECTED_NODE: node} if node else {})
    item = claim("standard", annotations=annotations)
    item["spec"]["volumeName"] = "pvc-123"
    item["status"] = {"phase": "Bound"}
    return item


def test_pvc_binding_annotations_are_removed_and_the_pv_comes_first(cluster: Cluster) -> None:
    backup = bound_claim()
    result = run(
        PVCAction(), {k: v for k, v in backup.items() if k != "status"}, backup=backup, view=view(cluster)
    )
    assert result.item["metadata"]["annotations"] == {"keep": "me"}
    assert result.additional_items == [ResourceIdentifier("persistentvolumes", "", "pvc-123")]


def test_unbound_pvc_has_no_additional_items(cluster: Cluster) -> None:
    backup = bound_claim()
    backup["status"] = {"phase": "Pending"}
    assert run(PVCAction(), backup, view=view(cluster)).additional_items == []


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [
        pytest.param({"old-node": "node-1"}, "node-1", id="mapped-to-existing-node"),
        pytest.param({"old-node": "node-9"}, None, id="mapped-to-missing-node"),
        pytest.param({}, None, id="unmapped"),
    ],
)
def test_selected_node_mapping(cluster: Cluster, mapping: dict, expected: str | None) -> None:
    result = run(PVCAction(), bound_claim(), view=view(cluster, {"node_mapping": mapping}))
    assert result.item["metadata"]["annotations"].get(SELECTED_NODE) == expected


def test_selected_node_config_map(sandbox: Any, cluster: Cluster) -> None:
    cm = plugin_config_map("nodes", "velero.io/change-pvc-node-selector", {"old-node": "node-1"})
    sandbox.load([namespace("velero"), cm])
    honoured = view(cluster, {"honor_velero_config_maps": True})
    assert (
        run(PVCAction(), bound_claim(), view=honoured).item["metadata"]["annotations"][SELECTED_NODE]
        == "node-1"
    )
    plan_wins = view(cluster, {"honor_velero_config_maps": True, "node_mapping": {"old-node": "node-9"}})
    assert (
        SELECTED_NODE not in run(PVCAction(), bound_claim(), view=plan_wins).item["metadata"]["annotations"]
    )


# --- velero.io/change-image-name with Velero's ConfigMap ----------------------------------------


def test_image_config_map_rows_follow_the_plan_rows(sandbox: Any, cluster: Cluster) -> None:
    cm = plugin_config_map(
        "images", "velero.io/change-image-name", {"b": "registry.prod/,cm-b/", "a": "web,cm-a"}
    )
    sandbox.load([namespace("velero"), cm])
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {
            "containers": [{"name": "a", "image": "registry.prod/web:1"}, {"name": "b", "image": "db:1"}]
        },
    }
    honoured = view(cluster, {"honor_velero_config_maps": True})
    containers = run(ChangeImageNameAction(), pod, view=honoured).item["spec"]["containers"]
    assert [c["image"] for c in containers] == ["registry.prod/cm-a:1", "db:1"]  # ConfigMap rows in key order
    both = view(cluster, {"honor_velero_config_maps": True, "image_name_mapping": ["registry.prod/,dr/"]})
    assert run(ChangeImageNameAction(), pod, view=both).item["spec"]["containers"][0]["image"] == "dr/web:1"


# --- resource modifiers from a ConfigMap --------------------------------------------------------

RULES_YAML = """
version: v1
resourceModifierRules:
- conditions:
    groupResource: configmaps
  mergePatches:
  - patchData: |
      data:
        source: configmap
        cm-only: "yes"
"""


def test_resource_modifier_config_map_then_plan_rules(sandbox: Any, cluster: Cluster) -> None:
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "mods", "namespace": "velero"},
        "data": {"rules.yaml": RULES_YAML},
    }
    sandbox.load([namespace("velero"), cm])
    inline = {
        "version": "v1",
        "resourceModifierRules": [
            {
                "conditions": {"groupResource": "configmaps"},
                "mergePatches": [{"patchData": "data: {source: plan}"}],
            }
        ],
    }
    restore = view(
        cluster, {"resource_modifiers": inline}, resource_modifier={"kind": "ConfigMap", "name": "mods"}
    )
    item = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "x", "namespace": "shop"},
        "data": {},
    }
    assert ResourceModifiers.from_plan(restore).apply(item, "configmaps", "shop") == []
    assert item["data"] == {"source": "plan", "cm-only": "yes"}


def test_missing_resource_modifier_config_map(cluster: Cluster) -> None:
    restore = view(cluster, resource_modifier={"kind": "ConfigMap", "name": "nope"})
    with pytest.raises(ResourceModifierError) as error:
        ResourceModifiers.from_plan(restore)
    assert str(error.value) == "failed to get resource modifiers configmap velero/nope"
