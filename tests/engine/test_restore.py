"""End to end: backups from the builder restored into the sandbox through the real kubernetes client."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

from restoreflow.backup import BackupStorage
from restoreflow.plan.model import IncludesExcludes, Priorities
from restoreflow.restore import fetch, prepare, run_restore, validate
from tests.engine.helpers import (
    BACKUP,
    cluster_role,
    configmap,
    deployment,
    make_plan,
    namespace,
    pod,
    posts,
    secret,
    widget,
    widget_crd,
    write_backup,
)


def shop_backup(tmp_path: Path) -> str:
    location, _ = write_backup(
        tmp_path,
        [
            namespace("shop", labels={"team": "web"}, annotations={"owner": "sre"}),
            configmap("settings", "shop", labels={"app": "shop"}),
            secret("db", "shop"),
            deployment("web", "shop", labels={"app": "shop"}),
            pod("web-1", "shop"),
        ],
    )
    return location


def test_restore_creates_every_item_with_restore_labels_and_reset_metadata(sandbox, tmp_path):
    location = shop_backup(tmp_path)
    result = run_restore(make_plan(sandbox, location), restore_name="r1")

    assert result.phase == "Completed", result.results
    assert result.counts == {"created": 5, "updated": 0, "skipped": 0, "failed": 0}
    ns = sandbox.get("namespaces", "shop")
    assert ns["metadata"]["labels"]["team"] == "web"
    assert ns["metadata"]["annotations"]["owner"] == "sre"
    assert "velero.io/restore-name" not in ns["metadata"]["labels"]  # namespaces get no restore labels
    cm = sandbox.get("configmaps", "settings", "shop")
    assert cm["metadata"]["labels"] == {
        "app": "shop",
        "velero.io/backup-name": BACKUP,
        "velero.io/restore-name": "r1",
    }
    assert cm["metadata"]["managedFields"][0]["manager"] == "kubectl-client-side-apply"
    assert cm["metadata"]["creationTimestamp"] != "2026-11-20T10:00:00Z"
    assert result.resource_list["v1/ConfigMap"] == ["shop/settings(created)"]
    assert result.resource_list["v1/Namespace"] == ["shop(created)"]
    assert sandbox.get("deployments.apps", "web", "shop") is not None


def test_one_write_per_new_object_and_namespaces_created_once(sandbox, tmp_path):
    location, _ = write_backup(tmp_path, [configmap(f"cm-{i}", f"ns-{i % 3}") for i in range(30)])
    sandbox.clear_requests()
    result = run_restore(make_plan(sandbox, location), restore_name="once")

    assert result.counts["created"] == 33
    creates = posts(sandbox)
    assert len(creates) == 33
    assert len([r for r in creates if r["resource"] == "namespaces"]) == 3
    writes = [r for r in sandbox.requests() if r["verb"] in ("update", "patch")]
    assert writes == []


def test_record_is_written_in_velero_layout(sandbox, tmp_path):
    location = shop_backup(tmp_path)
    result = run_restore(make_plan(sandbox, location), restore_name="recorded")

    records = BackupStorage.open(location).restores
    status = records.get("recorded")
    assert status["status"]["phase"] == "Completed"
    assert status["status"]["counts"]["created"] == 5
    assert status["spec"]["backupName"] == BACKUP
    assert records.resource_list("recorded") == result.resource_list
    folder = Path(location) / "restores" / "recorded"
    assert json.loads(gzip.decompress((folder / "restore-recorded-results.gz").read_bytes())) == {
        "warnings": {},
        "errors": {},
    }
    logs = records.logs("recorded")
    assert "level=info" in logs and "czNjcjN0" not in logs  # secret data never logged


def test_resource_groups_are_ordered_before_any_write(sandbox, tmp_path):
    location, _ = write_backup(
        tmp_path,
        [
            widget_crd(),
            widget("w1", "shop"),
            deployment("web", "shop"),
            pod("p", "shop"),
            configmap("c", "shop"),
            secret("s", "shop"),
            cluster_role("reader"),
        ],
    )
    sandbox.clear_requests()
    ctx = validate(make_plan(sandbox, location), restore_name="preview")
    fetch(ctx)
    groups = prepare(ctx)
    ctx.close()
    assert [g.resource for g in groups] == [
        "customresourcedefinitions.apiextensions.k8s.io",
        "clusterroles.rbac.authorization.k8s.io",
        "secrets",
        "configmaps",
        "pods",
        "deployments.apps",
        "widgets.example.com",
    ]
    assert str(groups[2]) == "restore secrets: 1 item"
    assert posts(sandbox) == []


def test_creates_follow_priority_order_and_crds_precede_their_resources(sandbox, tmp_path):
    location, _ = write_backup(
        tmp_path,
        [
            widget_crd(),
            widget("w1", "shop"),
            deployment("web", "shop"),
            pod("p", "shop"),
            configmap("c", "shop"),
        ],
    )
    sandbox.clear_requests()
    result = run_restore(make_plan(sandbox, location), restore_name="ordered")

    assert result.phase == "Completed", result.results
    order = []
    for request in posts(sandbox):
        if not order or order[-1] != request["resource"]:
            order.append(request["resource"])
    assert order == [
        "customresourcedefinitions.apiextensions.k8s.io",
        "namespaces",
        "configmaps",
        "pods",
        "deployments.apps",
        "widgets.example.com",
    ]
    assert sandbox.get("widgets.example.com", "w1", "shop")["spec"] == {"size": 1}


def test_custom_priorities_replace_the_default_order(sandbox, tmp_path):
    location, _ = write_backup(
        tmp_path, [deployment("web", "shop"), configmap("c", "shop"), secret("s", "shop")]
    )
    sandbox.clear_requests()
    priorities = Priorities(high=("namespaces", "deployments"), low=("secrets",))
    run_restore(make_plan(sandbox, location, priorities=priorities), restore_name="custom")

    order = [r["resource"] for r in posts(sandbox)]
    assert order == ["namespaces", "deployments.apps", "configmaps", "secrets"]


def test_completed_pods_and_mirror_pods_are_not_restored(sandbox, tmp_path):
    location, _ = write_backup(
        tmp_path,
        [
            pod("done", "shop", phase="Succeeded"),
            pod("crashed", "shop", phase="Failed"),
            pod("mirror", "shop", annotations={"kubernetes.io/config.mirror": "abc"}),
            pod("live", "shop"),
        ],
    )
    result = run_restore(make_plan(sandbox, location), restore_name="pods")

    assert [p["metadata"]["name"] for p in sandbox.objects("pods", "shop")] == ["live"]
    assert result.resource_list["v1/Pod"] == ["shop/live(created)", "shop/mirror(skipped)"]


def test_status_is_restored_for_restore_status_resources(sandbox, tmp_path):
    location, _ = write_backup(tmp_path, [deployment("web", "shop"), configmap("c", "shop")])
    spec_status = IncludesExcludes(included_resources=("deployments",))
    result = run_restore(make_plan(sandbox, location, restore_status=spec_status), restore_name="status")

    assert result.phase == "Completed", result.results
    assert sandbox.get("deployments.apps", "web", "shop")["status"]["replicas"] == 1


def test_the_restore_status_annotation_overrides_the_plan(sandbox, tmp_path):
    annotated = deployment("api", "shop", annotations={"velero.io/restore-status": " TRUE "})
    location, _ = write_backup(tmp_path, [annotated, deployment("web", "shop")])
    run_restore(make_plan(sandbox, location), restore_name="annotated")

    assert sandbox.get("deployments.apps", "api", "shop")["status"]["replicas"] == 1
    assert (sandbox.get("deployments.apps", "web", "shop").get("status") or {}).get("replicas") != 1


def test_an_unknown_backup_fails_validation_and_leaves_a_record(sandbox, tmp_path):
    location = shop_backup(tmp_path)
    result = run_restore(make_plan(sandbox, location, backup="missing"), restore_name="bad")

    assert result.phase == "FailedValidation"
    assert result.validation_errors == [
        f'Error retrieving backup: backup "missing" not found in backup storage location {location}'
    ]
    assert BackupStorage.open(location).restores.get("bad")["status"]["phase"] == "FailedValidation"
    assert posts(sandbox) == []


def test_an_undecodable_item_fails_alone(sandbox, tmp_path):
    location, builder = write_backup(tmp_path, [configmap("good", "shop")], name="b2")
    builder.add_file("resources/configmaps/namespaces/shop/broken.json", b"{not json")
    builder.write(location)
    result = run_restore(make_plan(sandbox, location, backup="b2"), restore_name="decode")

    assert result.phase == "PartiallyFailed"
    [message] = result.results["errors"]["namespaces"]["shop"]
    assert message.startswith('error decoding "resources/configmaps/namespaces/shop/broken.json": ')
    assert sandbox.get("configmaps", "good", "shop") is not None


def test_a_resource_the_target_does_not_serve_is_reported(sandbox, tmp_path):
    gadget = widget("g1", "shop")
    gadget["apiVersion"], gadget["kind"] = "example.org/v1", "Gadget"
    location, builder = write_backup(tmp_path, [configmap("c", "shop")], name="b3")
    builder.add(gadget, resource="gadgets")
    builder.write(location)
    ctx = validate(make_plan(sandbox, location, backup="b3"), restore_name="unknown-preview")
    fetch(ctx)
    served = {g.resource: g.served for g in prepare(ctx)}
    ctx.close()
    assert served == {"configmaps": True, "gadgets.example.org": False}

    result = run_restore(make_plan(sandbox, location, backup="b3"), restore_name="unknown")

    assert result.phase == "PartiallyFailed"
    [message] = result.results["errors"]["namespaces"]["shop"]
    assert message.startswith("error restoring gadgets.example.org/shop/g1: ")
    assert result.resource_list["example.org/v1/Gadget"] == ["shop/g1(failed)"]


def test_progress_is_reported_at_most_about_once_a_second(sandbox, tmp_path):
    location, _ = write_backup(tmp_path, [configmap(f"c{i}", "shop") for i in range(40)])
    sandbox.add_fault("verb=create,resource=configmaps,latency=0.1")
    seen = []
    started = time.monotonic()
    result = run_restore(make_plan(sandbox, location), restore_name="progress", on_progress=seen.append)
    elapsed = time.monotonic() - started

    assert result.phase == "Completed"
    steps = [p.step for p in seen]
    assert steps.index("validate") < steps.index("prepare") < steps.index("restore") < steps.index("finalize")
    assert seen[-1].phase == "Completed"
    assert seen[-1].items_restored == seen[-1].total_items == 40  # listed items
    assert seen[-1].per_resource["configmaps"].done == 40
    restored = [p.items_restored for p in seen]
    assert restored == sorted(restored)
    throttled = [p for p in seen if p.step == "restore"]
    assert len(throttled) <= elapsed + 12  # forced reports at each group's end, else one a second


def test_a_schedule_restores_its_latest_completed_backup(sandbox, tmp_path):
    from datetime import UTC, datetime

    older = datetime(2026, 11, 23, 1, tzinfo=UTC)
    newer = datetime(2026, 11, 24, 1, tzinfo=UTC)
    location, _ = write_backup(
        tmp_path, [configmap("old", "shop")], name="nightly-1", schedule="nightly", start=older
    )
    write_backup(tmp_path, [configmap("new", "shop")], name="nightly-2", schedule="nightly", start=newer)
    write_backup(
        tmp_path, [configmap("partial", "shop")], name="nightly-3", schedule="nightly", phase="InProgress"
    )
    result = run_restore(
        make_plan(sandbox, location, backup=None, schedule="nightly"), restore_name="scheduled"
    )

    assert result.phase == "Completed", result.results
    assert result.backup_name == "nightly-2"
    assert result.status["spec"]["scheduleName"] == "nightly"
    assert sandbox.get("configmaps", "new", "shop") is not None
    assert sandbox.get("configmaps", "old", "shop") is None


def test_numbers_beyond_64_bits_and_unicode_are_restored_exactly(sandbox, tmp_path):
    """Kubernetes' JSON allows any integer; a custom resource holding one comes back unchanged."""
    huge = widget("huge", "shop", size=2**70 + 1)
    huge["spec"] |= {"ratio": 0.1, "negative": -(2**65), "label": "größe ✓"}
    location, _ = write_backup(tmp_path, [widget_crd(), huge])
    result = run_restore(make_plan(sandbox, location), restore_name="numbers")

    assert result.phase == "Completed", result.results
    assert sandbox.get("widgets.example.com", "huge", "shop")["spec"] == huge["spec"]
