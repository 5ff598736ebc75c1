"""Velero's pure rules the engine applies: names, ordering, versions, patches, results."""

from __future__ import annotations

from restoreflow.cluster.discovery import GroupVersions
from restoreflow.kube.gvr import sort_versions
from restoreflow.kube.names import get_valid_name
from restoreflow.kube.patches import create_merge_patch
from restoreflow.restore.existing import merge_service_accounts
from restoreflow.restore.metadata import reset_metadata_and_status
from restoreflow.restore.patches import generate_patch, semantically_equal
from restoreflow.restore.results import ItemKey, RestoredItems, Results
from restoreflow.restore.selection import choose_version, ordered_resources


def test_long_label_values_follow_velero_get_valid_name():
    long = "the-really-long-kube-service-name-that-is-much-greater-than-63-characters"
    assert get_valid_name(long) == "the-really-long-kube-service-name-that-is-much-greater-th8a11b3"
    assert get_valid_name("x" * 63) == "x" * 63


def test_ordering_is_high_then_backup_alphabetically_then_low():
    order = ordered_resources(
        ["prio-3", "prio-2", "prio-1"],
        ["prio-0"],
        ["prio-3", "prio-0", "backup-resource-3", "backup-resource-2", "backup-resource-1"],
    )
    assert order == [
        "prio-3",
        "prio-2",
        "prio-1",
        "backup-resource-1",
        "backup-resource-2",
        "backup-resource-3",
        "prio-0",
    ]


def test_versions_sort_by_kubernetes_priority():
    versions = [
        "v2",
        "v11alpha2",
        "foo10",
        "v10",
        "v12alpha1",
        "v3beta1",
        "foo1",
        "v1",
        "v10beta3",
        "v11beta2",
    ]
    assert sort_versions(versions) == [
        "v10",
        "v2",
        "v1",
        "v11beta2",
        "v10beta3",
        "v3beta1",
        "v12alpha1",
        "v11alpha2",
        "foo1",
        "foo10",
    ]


def test_version_choice_follows_velero_priorities():
    source = GroupVersions("v2", ("v2", "v1", "v2beta1"))
    assert choose_version(source, None) == "v2"  # target group unknown: source preferred
    assert choose_version(source, GroupVersions("v1", ("v1", "v2"))) == "v1"  # P1: target preferred
    assert choose_version(source, GroupVersions("v3", ("v3", "v2"))) == "v2"  # P2: source preferred
    assert choose_version(source, GroupVersions("v3", ("v3", "v2beta1"))) == "v2beta1"  # P3
    assert choose_version(source, GroupVersions("v3", ("v3",))) == "v2"  # nothing in common


def test_reset_keeps_identity_labels_finalizers_and_managed_fields():
    obj = {
        "metadata": {
            "name": "a",
            "namespace": "n",
            "uid": "u",
            "resourceVersion": "1",
            "generation": 3,
            "creationTimestamp": "t",
            "selfLink": "/x",
            "generateName": "a-",
            "ownerReferences": [{}],
            "deletionTimestamp": "t",
            "deletionGracePeriodSeconds": 30,
            "labels": {"a": "b"},
            "finalizers": ["f"],
            "managedFields": [{"manager": "m"}],
        },
        "status": {"phase": "Running"},
    }
    reset_metadata_and_status(obj)
    assert obj == {
        "metadata": {
            "name": "a",
            "namespace": "n",
            "labels": {"a": "b"},
            "finalizers": ["f"],
            "managedFields": [{"manager": "m"}],
        }
    }


def test_merge_patch_removes_live_only_fields():
    live = {"metadata": {"labels": {"extra": "x", "app": "a"}}, "data": {"k": "old"}}
    desired = {"metadata": {"labels": {"app": "a"}}, "data": {"k": "new"}}
    assert create_merge_patch(live, desired) == {
        "metadata": {"labels": {"extra": None}},
        "data": {"k": "new"},
    }
    assert generate_patch(desired, desired) is None


def test_server_filled_fields_do_not_make_objects_different_but_labels_do():
    desired = {"metadata": {"name": "s", "labels": {"a": "1"}}, "spec": {"ports": [{"port": 80}]}}
    live = {
        "metadata": {"name": "s", "labels": {"a": "1"}},
        "spec": {"ports": [{"port": 80, "protocol": "TCP"}]},
    }
    assert semantically_equal(live, desired)
    live["metadata"]["labels"]["b"] = "2"
    assert not semantically_equal(live, desired)


def test_service_account_merge_adds_missing_secrets_labels_and_annotations():
    live = {
        "metadata": {"name": "default", "labels": {"a": "live"}, "creationTimestamp": "t"},
        "secrets": [{"name": "token-1"}],
    }
    backup = {
        "metadata": {"name": "default", "labels": {"a": "backup", "b": "backup"}, "annotations": {"x": "y"}},
        "secrets": [{"name": "token-1"}, {"name": "registry"}],
        "imagePullSecrets": [{"name": "pull"}],
    }
    merged = merge_service_accounts(live, backup)
    assert merged["secrets"] == [{"name": "token-1"}, {"name": "registry"}]
    assert merged["imagePullSecrets"] == [{"name": "pull"}]
    assert merged["metadata"] == {
        "name": "default",
        "labels": {"a": "live", "b": "backup"},
        "annotations": {"x": "y"},
    }


def test_results_are_keyed_like_velero_and_omit_empty_fields():
    results = Results()
    assert results.to_dict() == {"warnings": {}, "errors": {}}
    results.add_warning("", "cluster warning")
    results.add_error("shop", "namespace error")
    results.add_velero_error("velero error")
    assert results.to_dict() == {
        "warnings": {"cluster": ["cluster warning"]},
        "errors": {"velero": ["velero error"], "namespaces": {"shop": ["namespace error"]}},
    }
    assert (results.warning_count, results.error_count) == (1, 2)


def test_resource_list_is_sorted_with_actions():
    restored = RestoredItems()
    restored.record(ItemKey("v1/ConfigMap", "shop", "b"), "created")
    restored.record(ItemKey("v1/ConfigMap", "shop", "a"), "skipped")
    restored.record(ItemKey("v1/Namespace", "", "shop"), "created")
    assert restored.resource_list() == {
        "v1/ConfigMap": ["shop/a(skipped)", "shop/b(created)"],
        "v1/Namespace": ["shop(created)"],
    }
