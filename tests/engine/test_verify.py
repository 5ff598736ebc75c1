"""Verification after a restore: the objects hold what was written, the workloads come up."""

from __future__ import annotations

import pytest

from restoreflow.cluster import Cluster
from restoreflow.describe import describe_restore
from restoreflow.plan.model import Target, Verify
from restoreflow.restore import run_restore
from restoreflow.restore.verify import verify
from tests.engine.helpers import (
    BACKUP,
    configmap,
    deployment,
    kube_object,
    make_plan,
    namespace,
    secret,
    write_backup,
)


@pytest.fixture
def shop(tmp_path):
    location, _ = write_backup(
        tmp_path,
        [
            namespace("shop"),
            configmap("settings", "shop", data={"mode": "prod"}),
            secret("db", "shop"),
            deployment("web", "shop"),
        ],
    )
    return location


def restored(sandbox, location, **spec):
    plan = make_plan(sandbox, location, **spec)
    result = run_restore(plan, restore_name="drill")
    assert result.phase == "Completed", result.results
    return plan, result


def check(plan, result, **kw):
    return verify(plan, restore_name="drill", backup_name=BACKUP, resource_list=result.resource_list, **kw)


def test_a_clean_restore_verifies_with_its_workloads_ready(sandbox, shop):
    plan, result = restored(sandbox, shop)

    verdict = check(plan, result, readiness=True, timeout=10)

    assert verdict.ok, verdict.to_dict()
    assert (verdict.checked, verdict.ready_checked) == (4, 1)
    assert verdict.reason == ""


def test_a_field_changed_after_the_restore_is_reported_with_a_diff(sandbox, shop):
    plan, result = restored(sandbox, shop)
    cluster = Cluster.for_target(Target(kubeconfig=str(sandbox.kubeconfig)))
    cluster.patch("configmaps", "settings", {"data": {"mode": "dev"}}, "shop")
    cluster.patch("secrets", "db", {"data": {"password": "Y2hhbmdlZA=="}}, "shop")
    cluster.delete("deployments.apps", "web", "shop")

    verdict = check(plan, result)

    assert not verdict.ok
    problems = {m.path: (m.problem, m.fields) for m in verdict.mismatches}
    assert problems == {
        "configmaps/shop/settings": ("changed", ["data.mode"]),
        "secrets/shop/db": ("changed", ["data.password"]),
        "deployments.apps/shop/web": ("missing", []),
    }
    settings = next(m for m in verdict.mismatches if m.path == "configmaps/shop/settings")
    assert "-  mode: dev\n+  mode: prod\n" in settings.diff
    text = repr(verdict.to_dict())
    assert "Y2hhbmdlZA==" not in text and "czNjcjN0" not in text
    assert verdict.reason == "verification failed: 3 of 4 restored objects missing or changed"


@pytest.mark.sandbox(workload_ready_delay=3600)
def test_a_deployment_that_never_becomes_ready_is_reported_with_its_conditions_and_events(sandbox, shop):
    plan, result = restored(sandbox, shop)
    # the deployment controller's part in a rollout that cannot make progress
    cluster = Cluster.for_target(Target(kubeconfig=str(sandbox.kubeconfig)))
    web = cluster.read("deployments.apps", "web", "shop")
    web["status"] = {
        "observedGeneration": 1,
        "replicas": 1,
        "unavailableReplicas": 1,
        "conditions": [
            {"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable",
             "message": "Deployment does not have minimum availability."},
            {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
             "message": 'ReplicaSet "web-7d4b9c" has timed out progressing.'},
        ],
    }  # fmt: skip
    cluster.update_status("deployments.apps", web)
    cluster.create(
        "events",
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "web-7d4b9c-x2k4p.1", "namespace": "shop"},
            "involvedObject": {"kind": "Pod", "name": "web-7d4b9c-x2k4p", "namespace": "shop"},
            "type": "Warning",
            "reason": "Failed",
            "message": 'Failed to pull image "registry.example/app:1.0": not found',
            "lastTimestamp": "2026-12-06T04:00:00Z",
        },
    )

    verdict = check(plan, result, readiness=True, timeout=1.5)

    assert [m.path for m in verdict.mismatches] == []
    [web_state] = verdict.not_ready
    assert web_state.path == "deployments.apps/shop/web"
    assert web_state.reason == (
        "Available=False MinimumReplicasUnavailable: Deployment does not have minimum availability.; "
        'Progressing=False ProgressDeadlineExceeded: ReplicaSet "web-7d4b9c" has timed out progressing.'
    )
    assert web_state.events == ['Warning Failed: Failed to pull image "registry.example/app:1.0": not found']
    assert verdict.reason == "verification failed: 1 of 1 workloads not ready"


def test_a_plan_that_verifies_records_the_verdict(sandbox, shop):
    result = run_restore(make_plan(sandbox, shop, verify=Verify(timeout=10)), restore_name="drill")

    assert result.phase == "Completed", result.results
    assert result.status["status"]["verification"] == {
        "phase": "Passed",
        "objectsChecked": 4,
        "objectsMismatched": 0,
        "workloadsChecked": 1,
        "workloadsNotReady": 0,
    }


@pytest.mark.sandbox(workload_ready_delay=3600)
def test_a_failed_verification_makes_the_restore_partially_failed_with_the_reason(sandbox, shop):
    result = run_restore(make_plan(sandbox, shop, verify=Verify(timeout=1)), restore_name="drill")

    assert result.phase == "PartiallyFailed"
    assert result.results["errors"]["velero"] == [
        "verify: deployments.apps/shop/web not ready: 0/1 replicas available",
        "verification failed: 1 of 1 workloads not ready",
    ]
    verdict = result.status["status"]["verification"]
    assert (verdict["phase"], verdict["reason"]) == (
        "Failed",
        "verification failed: 1 of 1 workloads not ready",
    )
    described = describe_restore(result.status, results=result.results)
    assert "Verification:  Failed (verification failed: 1 of 1 workloads not ready)\n" in described
    assert "verify: deployments.apps/shop/web not ready: 0/1 replicas available" in described


def test_a_merged_service_account_verifies(sandbox, tmp_path):
    backed_up = kube_object("v1", "ServiceAccount", "web", "shop", imagePullSecrets=[{"name": "registry"}])
    location, _ = write_backup(tmp_path, [namespace("shop"), backed_up])
    live = kube_object("v1", "ServiceAccount", "web", "shop", imagePullSecrets=[{"name": "local"}])
    sandbox.load([namespace("shop"), live])
    plan, result = restored(sandbox, location)
    assert result.resource_list["v1/ServiceAccount"] == ["shop/web(updated)"]

    verdict = check(plan, result)

    assert verdict.ok, verdict.to_dict()
    assert sandbox.get("serviceaccounts", "web", "shop")["imagePullSecrets"] == [
        {"name": "local"},
        {"name": "registry"},
    ]


def test_a_claim_that_never_binds_is_reported_pending(sandbox, tmp_path):
    spec = {
        "storageClassName": "missing",
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "1Gi"}},
    }
    claim = kube_object("v1", "PersistentVolumeClaim", "data", "shop", spec=spec)
    location, _ = write_backup(tmp_path, [namespace("shop"), claim])
    plan, result = restored(sandbox, location)

    verdict = check(plan, result, readiness=True, timeout=1)

    assert [(n.path, n.reason) for n in verdict.not_ready] == [
        ("persistentvolumeclaims/shop/data", "phase Pending")
    ]
