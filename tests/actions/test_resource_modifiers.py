"""Resource modifiers: Velero's rule format, conditions and the three patch kinds."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from restoreflow.restore.resource_modifiers import (
    ModifierRule,
    ResourceModifierError,
    ResourceModifiers,
    patch_value,
)
from tests.actions.views import View, make_plan


def pvc(name: str = "mysql-data", namespace: str = "foo", **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": namespace, "labels": {"foo": "bar", "test": "x", **labels}},
        "spec": {"storageClassName": "standard", "resources": {"requests": {"storage": "1Gi"}}},
    }


def modifiers(*rules: dict[str, Any]) -> ResourceModifiers:
    return ResourceModifiers.from_document({"version": "v1", "resourceModifierRules": list(rules)})


DOCS_RULE = {
    "conditions": {
        "groupResource": "persistentvolumeclaims",
        "resourceNameRegex": "^mysql.*$",
        "namespaces": ["bar", "foo"],
        "labelSelector": {"matchLabels": {"foo": "bar"}},
    },
    "patches": [
        {"operation": "replace", "path": "/spec/storageClassName", "value": "premium"},
        {"operation": "remove", "path": "/metadata/labels/test"},
    ],
}


def test_velero_docs_example() -> None:
    item = pvc()
    assert modifiers(DOCS_RULE).apply(item, "persistentvolumeclaims", "foo") == []
    assert item["spec"]["storageClassName"] == "premium"
    assert item["metadata"]["labels"] == {"foo": "bar"}


@pytest.mark.parametrize(
    ("item", "group_resource", "namespace"),
    [
        pytest.param(pvc(name="postgres"), "persistentvolumeclaims", "foo", id="name-regex"),
        pytest.param(pvc(namespace="baz"), "persistentvolumeclaims", "baz", id="namespace"),
        pytest.param(pvc(), "persistentvolumes", "", id="group-resource"),
        pytest.param(
            {**pvc(), "metadata": {"name": "mysql", "namespace": "foo", "labels": {"foo": "no"}}},
            "persistentvolumeclaims",
            "foo",
            id="label-selector",
        ),
    ],
)
def test_conditions_that_do_not_match_leave_the_item(
    item: dict[str, Any], group_resource: str, namespace: str
) -> None:
    before = copy.deepcopy(item)
    assert modifiers(DOCS_RULE).apply(item, group_resource, namespace) == []
    assert item == before


def test_namespace_condition_uses_the_original_namespace() -> None:
    rule = {
        "conditions": {"groupResource": "*", "namespaces": ["foo"]},
        "mergePatches": [{"patchData": "x: 1"}],
    }
    item = pvc(namespace="foo")
    modifiers(rule).apply(item, "persistentvolumeclaims", "foo")
    assert item["x"] == 1


def test_namespaces_do_not_restrict_cluster_scoped_items() -> None:
    rule = {
        "conditions": {"groupResource": "persistentvolumes", "namespaces": ["foo"]},
        "mergePatches": [{"patchData": "metadata: {labels: {restored: 'yes'}}"}],
    }
    pv = {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv-1"}}
    modifiers(rule).apply(pv, "persistentvolumes", "")
    assert pv["metadata"]["labels"] == {"restored": "yes"}


@pytest.mark.parametrize(
    ("pattern", "group_resource", "matches"),
    [
        ("*.apps", "deployments.apps", True),
        ("*", "deployments.apps", False),
        ("deployments.*", "deployments.apps", True),
    ],
)
def test_group_resource_glob_stops_at_dots(pattern: str, group_resource: str, matches: bool) -> None:
    rule = {"conditions": {"groupResource": pattern}, "mergePatches": [{"patchData": "hit: true"}]}
    item: dict[str, Any] = {"metadata": {"name": "x"}}
    modifiers(rule).apply(item, group_resource, "ns")
    assert ("hit" in item) is matches


@pytest.mark.parametrize(
    ("value", "matches"),
    [("standard", True), ("premium", False), ('"standard"', True)],
)
def test_matches_are_json_patch_tests(value: str, matches: bool) -> None:
    rule = {
        "conditions": {
            "groupResource": "persistentvolumeclaims",
            "matches": [{"path": "/spec/storageClassName", "value": value}],
        },
        "mergePatches": [{"patchData": "hit: true"}],
    }
    item = pvc()
    modifiers(rule).apply(item, "persistentvolumeclaims", "foo")
    assert ("hit" in item) is matches


def test_conditions_see_the_object_before_any_rule_ran() -> None:
    first = {
        "conditions": {"groupResource": "persistentvolumeclaims"},
        "patches": [{"operation": "replace", "path": "/metadata/labels/foo", "value": "changed"}],
    }
    second = {
        "conditions": {
            "groupResource": "persistentvolumeclaims",
            "labelSelector": {"matchLabels": {"foo": "bar"}},
        },
        "mergePatches": [{"patchData": "second: ran"}],
    }
    item = pvc()
    modifiers(first, second).apply(item, "persistentvolumeclaims", "foo")
    assert item["metadata"]["labels"]["foo"] == "changed"
    assert item["second"] == "ran"


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("3", 3),
        ("1.5", 1.5),
        ("true", True),
        ("null", None),
        ('"3"', "3"),
        ("", ""),
        ("premium", "premium"),
        ('{"a": 1}', {"a": 1}),
        ("[1]", [1]),
    ],
)
def test_json_patch_values(raw: str, value: Any) -> None:
    assert patch_value(raw) == value


def test_failing_test_inside_patches_leaves_the_object_unchanged() -> None:
    rule = {
        "conditions": {"groupResource": "persistentvolumeclaims"},
        "patches": [
            {"operation": "replace", "path": "/spec/storageClassName", "value": "premium"},
            {"operation": "test", "path": "/metadata/name", "value": "other"},
        ],
    }
    item = pvc()
    assert modifiers(rule).apply(item, "persistentvolumeclaims", "foo") == []
    assert item["spec"]["storageClassName"] == "standard"


def test_patch_errors_are_reported_and_the_other_rules_still_apply() -> None:
    broken = {
        "conditions": {"groupResource": "persistentvolumeclaims"},
        "patches": [{"operation": "remove", "path": "/spec/missing"}],
    }
    regex = {
        "conditions": {"groupResource": "persistentvolumeclaims", "resourceNameRegex": "(["},
        "mergePatches": [{"patchData": "x: 1"}],
    }
    fine = {
        "conditions": {"groupResource": "persistentvolumeclaims"},
        "mergePatches": [{"patchData": "ok: 1"}],
    }
    item = pvc()
    errors = modifiers(broken, regex, fine).apply(item, "persistentvolumeclaims", "foo")
    assert errors[0].startswith("error in applying patch error in applying JSON Patch ")
    assert errors[1].startswith("error in matching regex ")
    assert len(errors) == 2 and item["ok"] == 1


def test_strategic_patch_merges_containers_by_name() -> None:
    rule = {
        "conditions": {"groupResource": "deployments.apps"},
        "strategicPatches": [
            {
                "patchData": "spec:\n  template:\n    spec:\n      containers:\n"
                "      - name: web\n        image: web:2\n"
            }
        ],
    }
    item = {
        "kind": "Deployment",
        "metadata": {"name": "d"},
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "web", "image": "web:1", "ports": [{"containerPort": 80}]},
                        {"name": "proxy", "image": "p:1"},
                    ]
                }
            }
        },
    }
    modifiers(rule).apply(item, "deployments.apps", "shop")
    assert item["spec"]["template"]["spec"]["containers"] == [
        {"name": "web", "image": "web:2", "ports": [{"containerPort": 80}]},
        {"name": "proxy", "image": "p:1"},
    ]


def test_only_one_patch_kind_with_velero_precedence() -> None:
    rule = ModifierRule(
        {"groupResource": "*"},
        patches=({"operation": "add", "path": "/a", "value": "1"},),
        merge_patches=({"patchData": "b: 1"},),
    )
    item: dict[str, Any] = {"metadata": {"name": "x"}}
    ResourceModifiers([rule]).apply(item, "pods", "ns")
    assert item == {"metadata": {"name": "x"}, "a": 1}


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"version": "v2", "resourceModifierRules": [DOCS_RULE]}, "unsupported resource modifier version v2"),
        ({"version": "v1", "resourceModifierRules": []}, "resource modifier rules cannot be empty"),
        ({"version": "v1", "resourceModifierRules": [{"conditions": {}}]}, "groupkResource cannot be empty"),
        (
            {
                "version": "v1",
                "resourceModifierRules": [{**DOCS_RULE, "mergePatches": [{"patchData": "a: 1"}]}],
            },
            "only one of patches, mergePatches, strategicPatches can be specified",
        ),
        (
            {
                "version": "v1",
                "resourceModifierRules": [
                    {"conditions": {"groupResource": "x"}, "patches": [{"path": "/a"}]}
                ],
            },
            "operation cannot be empty",
        ),
        (
            {
                "version": "v1",
                "resourceModifierRules": [
                    {"conditions": {"groupResource": "x"}, "patches": [{"operation": "merge", "path": "/a"}]}
                ],
            },
            "unsupported operation merge",
        ),
        (
            {
                "version": "v1",
                "resourceModifierRules": [
                    {"conditions": {"groupResource": "x"}, "patches": [{"operation": "add"}]}
                ],
            },
            "path cannot be empty",
        ),
        ({"version": "v1", "rules": []}, 'unknown field "rules"'),
    ],
)
def test_validation_messages(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(ResourceModifierError, match=message):
        ResourceModifiers.from_document(doc)


def test_plan_inline_rules() -> None:
    doc = {"version": "v1", "resourceModifierRules": [DOCS_RULE]}
    mods = ResourceModifiers.from_plan(View(make_plan({"resource_modifiers": doc})))
    item = pvc()
    mods.apply(item, "persistentvolumeclaims", "foo")
    assert item["spec"]["storageClassName"] == "premium"
    assert not ResourceModifiers.from_plan(View(make_plan()))


def test_config_map_with_several_keys_is_rejected() -> None:
    cm = {"metadata": {"name": "mods", "namespace": "velero"}, "data": {"a": "x", "b": "y"}}
    with pytest.raises(ResourceModifierError) as error:
        ResourceModifiers.from_config_map(cm)
    assert str(error.value) == (
        "Error in parsing resource modifiers provided in configmap velero/mods: "
        "illegal resource modifiers velero/mods configmap"
    )
