"""The item-action step of the pipeline: additional items first, errors, skips, cluster-scoped tri-state."""

from __future__ import annotations

from dataclasses import dataclass

from restoreflow.actions.base import ActionInput, ActionResult, AppliesTo, ResourceIdentifier
from restoreflow.restore import fetch, finalize, prepare, restore_group, validate
from restoreflow.restore.context import prepared
from restoreflow.restore.items import ItemRestorer
from tests.engine.helpers import cluster_role, configmap, make_plan, pod, posts, write_backup


@dataclass
class NeedsRole:
    """Pods need the `reader` ClusterRole and their namespace's `settings` ConfigMap restored first."""

    name: str = "example.com/needs-role"

    def applies_to(self) -> AppliesTo:
        return AppliesTo(included_resources=("pods",))

    def execute(self, action_input: ActionInput) -> ActionResult:
        item = action_input.item
        if item["metadata"]["name"] == "broken":
            raise RuntimeError("boom")
        if item["metadata"]["name"] == "ignored":
            return ActionResult(item, skip_restore=True)
        item["metadata"].setdefault("annotations", {})["seen-by"] = self.name
        return ActionResult(
            item,
            additional_items=[
                ResourceIdentifier("clusterroles.rbac.authorization.k8s.io", "", "reader"),
                ResourceIdentifier("configmaps", "shop", "settings"),
                ResourceIdentifier("configmaps", "shop", "absent"),
            ],
        )


def restore_with(sandbox, tmp_path, **spec):
    location, _ = write_backup(
        tmp_path,
        [
            cluster_role("reader"),
            configmap("settings", "shop"),
            pod("web", "shop"),
            pod("broken", "shop"),
            pod("ignored", "shop"),
        ],
    )
    sandbox.clear_requests()
    ctx = validate(make_plan(sandbox, location, **spec), restore_name="actions")
    fetch(ctx)
    groups = prepare(ctx)
    ctx.restorer = ItemRestorer(ctx, prepared(ctx).filters, [NeedsRole()])
    for group in groups:
        restore_group(ctx, group)
    return finalize(ctx)


def test_additional_items_are_restored_before_the_item(sandbox, tmp_path):
    result = restore_with(
        sandbox,
        tmp_path,
        included_namespaces=("shop",),
        included_resources=("pods", "configmaps", "clusterroles"),
    )

    resources = [r["resource"] for r in posts(sandbox)]
    # clusterroles come before configmaps in the priorities: after them, it was an additional item of a pod
    assert resources.index("configmaps") < resources.index("clusterroles.rbac.authorization.k8s.io")
    assert resources.index("clusterroles.rbac.authorization.k8s.io") < resources.index("pods")
    # a namespace filter keeps cluster-scoped items out of the listing, but not out of additional items
    assert sandbox.get("clusterroles.rbac.authorization.k8s.io", "reader") is not None
    assert (
        sandbox.get("pods", "web", "shop")["metadata"]["annotations"]["seen-by"] == "example.com/needs-role"
    )
    assert result.resource_list["v1/ConfigMap"] == ["shop/settings(created)"]  # once, though asked twice


def test_action_errors_skips_and_missing_additional_items_are_reported(sandbox, tmp_path):
    result = restore_with(
        sandbox,
        tmp_path,
        included_namespaces=("shop",),
        included_resources=("pods", "configmaps", "clusterroles"),
    )

    assert result.phase == "PartiallyFailed"
    assert result.results["errors"]["namespaces"]["shop"] == ["error preparing pods/shop/broken: boom"]
    assert result.results["warnings"]["namespaces"]["shop"] == [
        "stat resources/configmaps/namespaces/shop/absent.json: no such file or directory"
    ]
    assert sandbox.get("pods", "broken", "shop") is None
    assert sandbox.get("pods", "ignored", "shop") is None
    assert "shop/ignored(skipped)" in result.resource_list["v1/Pod"]
    assert "shop/broken(failed)" in result.resource_list["v1/Pod"]


def test_include_cluster_resources_false_blocks_additional_cluster_items(sandbox, tmp_path):
    restore_with(sandbox, tmp_path, include_cluster_resources=False)

    assert sandbox.get("clusterroles.rbac.authorization.k8s.io", "reader") is None
    assert sandbox.get("pods", "web", "shop") is not None


def test_concurrent_items_sharing_additional_items_write_each_object_once(sandbox, tmp_path):
    location, _ = write_backup(
        tmp_path,
        [cluster_role("reader"), configmap("settings", "shop")]
        + [pod(f"p{i:02}", "shop") for i in range(40)],
    )
    sandbox.clear_requests()
    ctx = validate(make_plan(sandbox, location, included_resources=("pods",)), restore_name="shared")
    fetch(ctx)
    groups = prepare(ctx)
    ctx.restorer = ItemRestorer(ctx, prepared(ctx).filters, [NeedsRole()])
    for group in groups:
        restore_group(ctx, group)
    result = finalize(ctx)

    assert result.counts["created"] == 41  # 40 pods and the namespace; the extras are not included resources
    assert len(posts(sandbox, "pods")) == 40
    assert posts(sandbox, "configmaps") == []  # additional items still pass the resource filter


def test_shared_additional_items_are_created_once(sandbox, tmp_path):
    location, _ = write_backup(
        tmp_path,
        [cluster_role("reader"), configmap("settings", "shop")]
        + [pod(f"p{i:02}", "shop") for i in range(40)],
    )
    sandbox.clear_requests()
    plan = make_plan(sandbox, location, included_resources=("pods", "configmaps", "clusterroles"))
    ctx = validate(plan, restore_name="shared-extras")
    fetch(ctx)
    groups = [g for g in prepare(ctx) if g.resource == "pods"]  # only the pods: the extras come with them
    ctx.restorer = ItemRestorer(ctx, prepared(ctx).filters, [NeedsRole()])
    for group in groups:
        restore_group(ctx, group)
    result = finalize(ctx)

    assert len(posts(sandbox, "configmaps")) == 1
    assert len(posts(sandbox, "clusterroles.rbac.authorization.k8s.io")) == 1
    assert result.resource_list["v1/ConfigMap"] == ["shop/settings(created)"]
