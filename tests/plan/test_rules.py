"""Velero's validation rules, table-driven: what passes, what fails, and with which message."""

from __future__ import annotations

from typing import Any

import pytest

from restoreflow.plan import PlanError, plan_from_document
from restoreflow.plan.priorities import format_priorities, parse_priorities
from restoreflow.plan.rules import includes_excludes_errors


def plan_with(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "restoreflow.dev/v1alpha1",
        "kind": "RestorePlan",
        "metadata": {"name": "table"},
        "spec": {"source": {"storageLocation": "/backups", "backupName": "b"}, **spec},
    }


def problems(**spec: Any) -> list[str]:
    try:
        plan_from_document(plan_with(**spec), source="t")
    except PlanError as err:
        return [str(p).removeprefix("t: ") for p in err.problems]
    return []


# Velero's TestValidateIncludesExcludes.
@pytest.mark.parametrize(
    ("includes", "excludes", "expected"),
    [
        ([], [], []),
        (["*"], [], []),
        (["*", "foo"], [], ["includes list must either contain '*' only, or a non-empty list of items"]),
        (["foo"], ["*"], ["excludes list cannot contain '*'"]),
        (["foo", "bar"], ["bar"], ["excludes list cannot contain an item in the includes list: bar"]),
    ],
)
def test_includes_excludes_like_velero(includes: list[str], excludes: list[str], expected: list[str]) -> None:
    assert [message for message, _, _ in includes_excludes_errors(includes, excludes)] == expected


# Velero's priority flag tests (pkg/types/priority_test.go).
@pytest.mark.parametrize(
    ("text", "high", "low"),
    [
        ("", [], []),
        ("p0", ["p0"], []),
        ("-,p9", [], ["p9"]),
        ("-", [], []),
        ("p0,p1,p2,-,p9", ["p0", "p1", "p2"], ["p9"]),
        ("p0,-", ["p0"], []),
    ],
)
def test_priority_flag_form(text: str, high: list[str], low: list[str]) -> None:
    assert parse_priorities(text) == (high, low)
    assert parse_priorities(format_priorities(high, low)) == (high, low)


def test_two_priority_separators_are_refused() -> None:
    with pytest.raises(ValueError, match='multiple priority separator "-" found'):
        parse_priorities("a,-,b,-,c")


def test_priorities_in_flag_form_replace_the_defaults() -> None:
    spec = plan_from_document(plan_with(priorities="-,widgets.example.com")).spec
    assert (spec.priorities.high, spec.priorities.low) == ((), ("widgets.example.com",))


@pytest.mark.parametrize(
    "namespaces",
    [["shop"], ["*"], ["shop-*"], ["web-[ab]", "?pi"], ["[^t]*"], ["a-very-long-but-valid-namespace-name"]],
)
def test_namespace_names_and_globs_pass(namespaces: list[str]) -> None:
    assert problems(includedNamespaces=namespaces, excludedNamespaces=["kube-*"]) == []


@pytest.mark.parametrize(
    "resources", [["pods"], ["*"], ["deployments.apps", "po"], ["*.example.com", "Pods"]]
)
def test_resource_names_and_globs_pass(resources: list[str]) -> None:
    assert problems(includedResources=resources) == []


@pytest.mark.parametrize("resource", ["nodes", "events", "events.events.k8s.io", "backups.velero.io",
                                      "restores.velero.io", "resticrepositories.velero.io",
                                      "csinodes.storage.k8s.io", "volumeattachments.storage.k8s.io",
                                      "backuprepositories.velero.io"])  # fmt: skip
def test_every_non_restorable_resource_is_refused(resource: str) -> None:
    assert problems(includedResources=["pods", resource]) == [
        f"spec.includedResources[1]: {resource} are non-restorable resources",
        "spec.includedResources[1]: Invalid included/excluded resource lists: "
        f"excludes list cannot contain an item in the includes list: {resource}",
    ]


def test_excluding_a_non_restorable_resource_again_is_fine() -> None:
    spec = plan_from_document(plan_with(excludedResources=["nodes", "secrets"])).spec
    assert spec.excluded_resources.count("nodes") == 1 and "secrets" in spec.excluded_resources


@pytest.mark.parametrize(
    "selector",
    [
        {},
        {"matchLabels": {"app": "shop", "app.kubernetes.io/part-of": "shop", "empty": ""}},
        {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]},
        {"matchExpressions": [{"key": "example.com/canary", "operator": "DoesNotExist"}]},
        {"matchExpressions": [{"key": "tier", "operator": "Exists", "values": []}]},
    ],
)
def test_valid_label_selectors_pass(selector: dict[str, Any]) -> None:
    assert problems(labelSelector=selector) == []
    assert problems(orLabelSelectors=[selector, {"matchLabels": {"b": "c"}}]) == []
    hook = {"name": "h", "labelSelector": selector, "postHooks": [{"exec": {"command": ["true"]}}]}
    assert problems(hooks={"resources": [hook]}) == []


def test_null_selectors_do_not_count_as_given() -> None:
    assert problems(labelSelector=None, orLabelSelectors=[{"matchLabels": {"a": "b"}}]) == []


def test_resource_modifier_rule_selectors_are_checked_too() -> None:
    rule = {
        "conditions": {
            "groupResource": "pods",
            "labelSelector": {"matchExpressions": [{"key": "a", "operator": "In"}]},
        },
        "patches": [{"operation": "test", "path": "/metadata/name", "value": "x"}],
    }
    modifiers = {"version": "v1", "resourceModifierRules": [rule]}
    assert problems(transforms={"resourceModifiers": modifiers}) == [
        "spec.transforms.resourceModifiers.resourceModifierRules[0].conditions.labelSelector"
        ".matchExpressions[0]: for 'in', 'notin' operators, values set can't be empty"
    ]


@pytest.mark.parametrize("kind", ["ConfigMap", "configmap", "CONFIGMAP"])
def test_resource_modifier_configmap_kind_is_case_insensitive_like_velero(kind: str) -> None:
    assert problems(resourceModifier={"kind": kind, "name": "rules"}) == []


@pytest.mark.parametrize(
    "location",
    ["/srv/backups", "relative/backups", "file:///srv/backups", "s3://bucket/prefix", "memory://x"],
)
def test_storage_locations_without_credentials_pass(location: str) -> None:
    document = plan_with()
    document["spec"]["source"]["storageLocation"] = location
    assert plan_from_document(document).spec.source.storage_location == location


@pytest.mark.parametrize("token", ["anon", "google_default", "cloud"])
def test_gcs_token_modes_are_not_secrets(token: str) -> None:
    document = plan_with()
    document["spec"]["source"]["options"] = {"token": token, "project": "dr"}
    assert dict(plan_from_document(document).spec.source.options) == {"token": token, "project": "dr"}


def test_a_gcs_token_that_is_a_secret_is_refused_without_echoing_it() -> None:
    document = plan_with()
    document["spec"]["source"]["options"] = {"token": "ya29.secret-value"}
    with pytest.raises(PlanError) as caught:
        plan_from_document(document)
    assert "spec.source.options.token: credentials must not be kept in the plan" in str(caught.value)
    assert "ya29" not in str(caught.value)


def test_init_containers_with_name_image_and_command_pass() -> None:
    container = {"name": "seed", "image": "busybox", "command": ["sh", "-c", "echo"], "env": [{"name": "A"}]}
    hook = {"name": "h", "postHooks": [{"init": {"initContainers": [container], "timeout": "1m"}}]}
    spec = plan_from_document(plan_with(hooks={"resources": [hook]})).spec
    init = spec.hooks[0].post_hooks[0].init
    assert init is not None and init.init_containers == (container,)


def test_an_empty_existing_resource_policy_means_none_like_velero() -> None:
    assert plan_from_document(plan_with(existingResourcePolicy="")).spec.existing_resource_policy == "none"


def test_a_storage_location_that_is_not_a_url_is_reported() -> None:
    document = plan_with()
    document["spec"]["source"]["storageLocation"] = "s3://[bucket/prefix"
    with pytest.raises(PlanError) as caught:
        plan_from_document(document, source="t")
    assert str(caught.value) == "t: spec.source.storageLocation: not a valid URL"
