"""Velero's selection: resources, SOURCE namespaces, cluster-scoped tri-state, label selectors, mapping."""

from __future__ import annotations

from restoreflow.restore import run_restore
from tests.engine.helpers import (
    cluster_role,
    configmap,
    deployment,
    kube_object,
    make_plan,
    namespace,
    secret,
    write_backup,
)


def mixed_backup(tmp_path):
    location, _ = write_backup(
        tmp_path,
        [
            namespace("prod-a"),
            namespace("prod-b"),
            namespace("dev"),
            configmap("a", "prod-a"),
            configmap("b", "prod-b"),
            configmap("d", "dev"),
            secret("s", "prod-a"),
            cluster_role("reader"),
            kube_object("v1", "Node", "node-9", spec={}),
            kube_object("v1", "Event", "e1", "prod-a", reason="Started"),
        ],
    )
    return location


def test_namespace_globs_match_source_namespaces(sandbox, tmp_path):
    location = mixed_backup(tmp_path)
    result = run_restore(
        make_plan(sandbox, location, included_namespaces=("prod-*",), excluded_namespaces=("prod-b",)),
        restore_name="globs",
    )
    assert result.phase == "Completed", result.results
    assert sandbox.get("namespaces", "prod-a") is not None
    assert sandbox.get("namespaces", "prod-b") is None and sandbox.get("namespaces", "dev") is None
    assert sandbox.get("configmaps", "a", "prod-a") is not None
    assert sandbox.get("secrets", "s", "prod-a") is not None
    assert sandbox.get("configmaps", "b", "prod-b") is None


def test_cluster_resources_auto_only_when_all_namespaces_are_included(sandbox, tmp_path):
    location = mixed_backup(tmp_path)
    run_restore(make_plan(sandbox, location, included_namespaces=("dev",)), restore_name="auto-filtered")
    assert sandbox.get("clusterroles.rbac.authorization.k8s.io", "reader") is None

    run_restore(make_plan(sandbox, location), restore_name="auto-all")
    assert sandbox.get("clusterroles.rbac.authorization.k8s.io", "reader") is not None


def test_include_cluster_resources_true_and_false(sandbox, tmp_path):
    location = mixed_backup(tmp_path)
    run_restore(
        make_plan(sandbox, location, included_namespaces=("dev",), include_cluster_resources=True),
        restore_name="ccr-true",
    )
    assert sandbox.get("clusterroles.rbac.authorization.k8s.io", "reader") is not None
    # every backed-up Namespace passes when cluster resources are forced on
    assert sandbox.get("namespaces", "prod-b") is not None

    sandbox.reset()
    result = run_restore(
        make_plan(sandbox, location, include_cluster_resources=False), restore_name="ccr-false"
    )
    assert sandbox.get("clusterroles.rbac.authorization.k8s.io", "reader") is None
    assert sandbox.get("configmaps", "a", "prod-a") is not None  # namespaces still created on demand
    assert "v1/Namespace" in result.resource_list


def test_non_restorable_resources_are_never_restored(sandbox, tmp_path):
    location = mixed_backup(tmp_path)
    result = run_restore(make_plan(sandbox, location), restore_name="nonrestorable")
    assert "v1/Node" not in result.resource_list and "v1/Event" not in result.resource_list
    assert sandbox.get("nodes", "node-9") is None


def test_resources_resolve_through_discovery_short_names(sandbox, tmp_path):
    location = mixed_backup(tmp_path)
    run_restore(
        make_plan(sandbox, location, included_resources=("cm", "namespace"), included_namespaces=("prod-a",)),
        restore_name="short",
    )
    assert sandbox.get("configmaps", "a", "prod-a") is not None
    assert sandbox.get("secrets", "s", "prod-a") is None


def test_excluded_resources_win(sandbox, tmp_path):
    location = mixed_backup(tmp_path)
    run_restore(make_plan(sandbox, location, excluded_resources=("secrets",)), restore_name="excluded")
    assert sandbox.get("secrets", "s", "prod-a") is None
    assert sandbox.get("configmaps", "a", "prod-a") is not None


def test_label_selector_and_or_label_selectors(sandbox, tmp_path):
    location, _ = write_backup(
        tmp_path,
        [
            configmap("frontend", "shop", labels={"tier": "web"}),
            configmap("backend", "shop", labels={"tier": "api"}),
            configmap("batch", "shop", labels={"tier": "jobs"}),
            deployment("web", "shop", labels={"tier": "web"}),
        ],
    )
    run_restore(
        make_plan(sandbox, location, label_selector={"matchLabels": {"tier": "web"}}), restore_name="selector"
    )
    assert sandbox.get("configmaps", "frontend", "shop") is not None
    assert sandbox.get("configmaps", "backend", "shop") is None

    sandbox.reset()
    run_restore(
        make_plan(
            sandbox,
            location,
            or_label_selectors=(
                {"matchLabels": {"tier": "api"}},
                {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["jobs"]}]},
            ),
        ),
        restore_name="or-selectors",
    )
    assert sandbox.get("configmaps", "backend", "shop") is not None
    assert sandbox.get("configmaps", "batch", "shop") is not None
    assert sandbox.get("configmaps", "frontend", "shop") is None
    assert sandbox.get("deployments.apps", "web", "shop") is None
    assert sandbox.get("namespaces", "shop") is not None  # created on demand, whatever the selectors


def test_namespace_mapping_restores_into_the_target_and_keys_results_by_it(sandbox, tmp_path):
    location, _ = write_backup(
        tmp_path,
        [namespace("shop", labels={"team": "web"}), configmap("c", "shop"), configmap("taken", "shop")],
    )
    sandbox.load([namespace("shop-drill"), configmap("taken", "shop-drill", data={"key": "different"})])
    result = run_restore(
        make_plan(sandbox, location, included_namespaces=("shop",), namespace_mapping={"shop": "shop-drill"}),
        restore_name="mapped",
    )
    assert sandbox.get("configmaps", "c", "shop-drill")["metadata"]["namespace"] == "shop-drill"
    assert sandbox.get("namespaces", "shop") is None
    assert result.results["warnings"]["namespaces"]["shop-drill"] == [
        'could not restore, ConfigMap "taken" already exists. '
        "Warning: the in-cluster version is different than the backed-up version"
    ]
    assert result.resource_list["v1/ConfigMap"] == ["shop-drill/c(created)", "shop-drill/taken(failed)"]
