"""A group's outcome taken by a later attempt of the same restore instead of restoring the group again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from restoreflow.backup import BackupStorage, sample_backup
from restoreflow.plan.model import ApiRetries, Retries
from restoreflow.restore import (
    ResourceGroup,
    RestoreContext,
    absorb_group,
    fetch,
    finalize,
    prepare,
    restore_group,
    restore_volumes,
    run_hooks,
    validate,
)
from restoreflow.restore.context import restore_uid
from restoreflow.sandbox import Sandbox
from tests.engine.helpers import configmap, make_plan, namespace, posts

pytestmark = pytest.mark.sandbox(velero_crds=True)

PROVISIONED_PV = "pvc-7538aaa9-b58b-5ff3-b424-55527ffb2055"  # the sample's PV: left to provisioning


@pytest.fixture
def location(tmp_path: Path) -> str:
    storage = BackupStorage.open(tmp_path / "bsl", create=True)
    sample_backup(storage, "demo-backup")
    return storage.url


def attempt(sandbox: Sandbox, location: str, **spec: Any) -> tuple[RestoreContext, list[ResourceGroup]]:
    """One attempt of the restore `shop-1` of flow run `run-1`: validated, fetched, prepared."""
    plan = make_plan(
        sandbox, location, "demo-backup", included_namespaces=["shop"], include_cluster_resources=True, **spec
    )
    ctx = validate(plan, restore_name="shop-1", flow_run_id="run-1")
    fetch(ctx)
    return ctx, prepare(ctx)


def persisted(outcome: Any) -> dict[str, Any]:
    """The outcome as the orchestrator keeps it: through JSON and back."""
    return json.loads(json.dumps(outcome.to_dict()))


def test_a_later_attempt_takes_the_restored_groups_and_restores_only_the_rest(
    sandbox: Sandbox, location: str
) -> None:
    first, groups = attempt(sandbox, location)
    kept: dict[str, dict[str, Any]] = {}
    for group in groups:
        if group.resource == "persistentvolumeclaims":
            break  # the first attempt ends here, e.g. its process was killed
        kept[group.resource] = persisted(restore_group(first, group))
    finalize(first, "the worker was lost")
    sandbox.clear_requests()

    second, groups = attempt(sandbox, location)
    for group in groups:
        if group.resource in kept:
            absorb_group(second, group, kept[group.resource])
        else:
            restore_group(second, group)
    restore_volumes(second)
    run_hooks(second)
    result = finalize(second)

    assert result.phase == "Completed", result.results
    assert result.counts == {"created": 17, "updated": 0, "skipped": 1, "failed": 0}  # as in one run
    assert result.resource_list["v1/Namespace"] == ["shop(created)"]
    assert result.resource_list["v1/PersistentVolume"] == [f"{PROVISIONED_PV}(skipped)"]
    created = {r["resource"] for r in posts(sandbox)}
    assert not created & {"namespaces", "customresourcedefinitions.apiextensions.k8s.io", "persistentvolumes"}
    assert {"persistentvolumeclaims", "pods", "widgets.example.com"} <= created
    # the PV group's decision (a fresh volume is provisioned) reached the claim restored afterwards
    claim = sandbox.get("persistentvolumeclaims", "data-db-0", "shop")
    assert claim["status"]["phase"] == "Bound" and claim["spec"]["volumeName"] != PROVISIONED_PV


def test_a_taken_group_brings_its_warnings_and_api_retries(sandbox: Sandbox, location: str) -> None:
    sandbox.load([namespace("shop"), configmap("web-config", "shop", {"changed": "in the cluster"})])
    sandbox.add_fault("verb=create,resource=secrets,count=1,code=503")
    retries = Retries(api=ApiRetries(attempts=3, initial_backoff=0.01, max_backoff=0.01))
    first, groups = attempt(sandbox, location, retries=retries)
    kept = {g.resource: persisted(restore_group(first, g)) for g in groups}
    once = finalize(first)
    sandbox.clear_requests()

    second, groups = attempt(sandbox, location, retries=retries)
    for group in groups:
        absorb_group(second, group, kept[group.resource])
    result = finalize(second)

    warnings = once.results["warnings"]["namespaces"]["shop"]
    assert len(warnings) == 1 and "web-config" in warnings[0]
    assert result.status["status"]["apiRetries"] == {"total": 1, "byReason": {"503": 1}}
    assert (result.results, result.counts, result.resource_list) == (
        once.results,
        once.counts,
        once.resource_list,
    )
    assert "Namespace shop, resource restore warning: could not restore, ConfigMap" in second.logs()
    assert posts(sandbox) == []


def test_a_group_with_a_failed_item_is_not_clean(sandbox: Sandbox, location: str) -> None:
    sandbox.add_fault("verb=create,resource=configmaps,code=500")
    ctx, groups = attempt(sandbox, location, retries=Retries(api=ApiRetries(attempts=1)))
    outcomes = {g.resource: restore_group(ctx, g) for g in groups}
    assert not outcomes["configmaps"].clean
    assert (
        outcomes["configmaps"]
        .changes["errors"]["namespaces"]["shop"][0]
        .startswith("error restoring configmaps/shop/web-config: ")
    )
    assert all(o.clean for resource, o in outcomes.items() if resource != "configmaps")
    finalize(ctx)


def test_an_outcome_holds_item_keys_never_a_secrets_data(sandbox: Sandbox, location: str) -> None:
    ctx, groups = attempt(sandbox, location)
    secrets = next(g for g in groups if g.resource == "secrets")
    for group in groups[: groups.index(secrets)]:
        restore_group(ctx, group)
    text = json.dumps(restore_group(ctx, secrets).to_dict())
    backed_up = ctx.contents.archive.read_item("secrets", "shop", "web-credentials")
    finalize(ctx)
    assert json.loads(text)["changes"]["items"] == {"v1/Secret": {"shop": {"created": ["web-credentials"]}}}
    assert backed_up["data"] and not any(value in text for value in backed_up["data"].values())


def test_a_later_attempt_waits_for_the_pod_volume_restores_an_earlier_one_started(
    sandbox: Sandbox, location: str
) -> None:
    """Every group restored, then the attempt is lost before its volumes phase: the retry takes every
    group and still waits for the file-system restore the first attempt started (same restore uid)."""
    first, groups = attempt(sandbox, location)
    kept = {group.resource: persisted(restore_group(first, group)) for group in groups}
    finalize(first, "the worker was lost")
    started = [p["metadata"]["name"] for p in sandbox.objects("podvolumerestores.velero.io", "velero")]
    assert len(started) == 1

    second, groups = attempt(sandbox, location)
    assert second.uid == first.uid  # one flow run, one restore uid
    for group in groups:
        absorb_group(second, group, kept[group.resource])
    restore_volumes(second)
    run_hooks(second)
    result = finalize(second)

    assert result.phase == "Completed", result.results
    assert result.status["status"]["podVolumeRestores"] == {"attempted": 1, "completed": 1, "failed": 0}
    made = [p["metadata"]["name"] for p in sandbox.objects("podvolumerestores.velero.io", "velero")]
    assert made == started  # none made again
    assert restore_uid("shop-1", "run-2") != first.uid != restore_uid("shop-2", "run-1")  # other runs
    assert restore_uid("shop-1", None) != restore_uid("shop-1", None)  # outside a flow run: always new
