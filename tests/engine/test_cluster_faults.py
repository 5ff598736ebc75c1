"""CRDs, terminating namespaces, API faults and re-running after an interruption."""

from __future__ import annotations

import threading

from restoreflow.plan.model import ApiRetries, Concurrency, Retries, Timeouts
from restoreflow.restore import run_restore
from tests.engine.helpers import configmap, make_plan, namespace, posts, widget, widget_crd, write_backup

FAST_RETRIES = Retries(api=ApiRetries(attempts=4, initial_backoff=0.01, max_backoff=0.05))


def test_crds_are_established_then_their_custom_resources_restored(sandbox, tmp_path):
    sandbox.configure(crd_establish_delay=0.6)
    location, _ = write_backup(tmp_path, [widget_crd(), widget("w1", "shop", size=3), widget("w2", "shop")])
    result = run_restore(make_plan(sandbox, location), restore_name="crds")

    assert result.phase == "Completed", result.results
    assert sandbox.get("widgets.example.com", "w1", "shop")["spec"] == {"size": 3}
    assert result.resource_list["example.com/v1/Widget"] == ["shop/w1(created)", "shop/w2(created)"]


def test_a_crd_that_never_becomes_available_is_an_error(sandbox, tmp_path):
    sandbox.configure(crd_establish_delay=30)
    location, _ = write_backup(tmp_path, [widget_crd(), widget("w1", "shop")])
    plan = make_plan(sandbox, location, timeouts=Timeouts(crd_available=0.5))
    result = run_restore(plan, restore_name="slow-crd")

    assert result.phase == "PartiallyFailed"
    assert (
        "the CRD widgets.example.com is not available to use for custom resources"
        in result.results["errors"]["cluster"]
    )


def test_a_terminating_namespace_is_waited_for_once(sandbox, tmp_path):
    location, _ = write_backup(
        tmp_path, [namespace("shop")] + [configmap(f"c{i}", "shop") for i in range(10)]
    )
    sandbox.load([namespace("shop"), configmap("old", "shop")])
    sandbox.configure(namespace_termination_delay=1.0)
    api = sandbox.api_client()
    from kubernetes import client

    client.CoreV1Api(api).delete_namespace("shop")
    sandbox.clear_requests()
    result = run_restore(make_plan(sandbox, location), restore_name="terminating")

    assert result.phase == "Completed", result.results
    assert len(posts(sandbox, "namespaces")) == 1
    assert sandbox.get("configmaps", "old", "shop") is None
    assert sandbox.get("configmaps", "c9", "shop") is not None


def test_a_namespace_terminating_too_long_is_a_velero_error(sandbox, tmp_path):
    location, _ = write_backup(tmp_path, [configmap("c1", "shop"), configmap("c2", "shop")])
    sandbox.load([namespace("shop")])
    sandbox.configure(namespace_termination_delay=30)
    from kubernetes import client

    client.CoreV1Api(sandbox.api_client()).delete_namespace("shop")
    plan = make_plan(sandbox, location, timeouts=Timeouts(terminating_resource=0.5))
    result = run_restore(plan, restore_name="stuck")

    assert result.phase == "PartiallyFailed"
    assert result.results["errors"]["velero"] == [
        "timed out waiting for terminating namespace shop to disappear before restoring"
    ]


def test_transient_api_faults_are_retried_and_counted(sandbox, tmp_path):
    location, _ = write_backup(tmp_path, [configmap(f"c{i}", "shop") for i in range(5)])
    sandbox.add_fault("verb=create,resource=configmaps,count=3,code=503")
    sandbox.add_fault("verb=create,resource=configmaps,count=1,code=429")
    result = run_restore(make_plan(sandbox, location, retries=FAST_RETRIES), restore_name="faults")

    assert result.phase == "Completed", result.results
    assert result.counts["created"] == 6
    assert result.retries >= 4
    assert result.status["status"]["apiRetries"]["byReason"]["503"] == 3


def test_an_item_that_keeps_failing_is_an_error_and_the_restore_goes_on(sandbox, tmp_path):
    location, _ = write_backup(tmp_path, [configmap("c", "shop"), configmap("d", "other")])
    sandbox.add_fault("verb=create,resource=configmaps,namespace=shop,code=500")
    result = run_restore(make_plan(sandbox, location, retries=FAST_RETRIES), restore_name="persistent")

    assert result.phase == "PartiallyFailed"
    [message] = result.results["errors"]["namespaces"]["shop"]
    assert message.startswith("error restoring configmaps/shop/c: ")
    assert sandbox.get("configmaps", "d", "other") is not None


def test_dropped_connections_are_retried(sandbox, tmp_path):
    location, _ = write_backup(tmp_path, [configmap(f"c{i}", "shop") for i in range(3)])
    sandbox.add_fault("verb=create,resource=configmaps,count=2,drop=true")
    result = run_restore(make_plan(sandbox, location, retries=FAST_RETRIES), restore_name="drops")

    assert result.phase == "Completed", result.results
    assert all(sandbox.get("configmaps", f"c{i}", "shop") for i in range(3))
    assert result.retries >= 2


def test_rerun_after_cancellation_restores_the_rest_without_warnings(sandbox, tmp_path):
    location, _ = write_backup(tmp_path, [configmap(f"c{i:03}", "shop") for i in range(60)])
    cancel = threading.Event()
    created = []

    def stop_after_some(progress):
        created.append(progress.items_restored)
        if progress.items_restored >= 10:
            cancel.set()

    sandbox.add_fault("verb=create,resource=configmaps,latency=0.2")
    plan = make_plan(sandbox, location)
    first = run_restore(plan, restore_name="interrupted", cancel=cancel, on_progress=stop_after_some)
    assert first.phase == "Failed" and first.failure_reason == "restore cancelled"
    done_first = first.counts["created"]
    assert 0 < done_first < 61

    sandbox.clear_faults()
    second = run_restore(plan, restore_name="resumed")
    assert second.phase == "Completed"
    assert second.results == {"warnings": {}, "errors": {}}
    assert len(sandbox.objects("configmaps", "shop")) >= 60
    assert second.counts["created"] + second.counts["skipped"] >= 60


def test_the_token_bucket_paces_the_whole_restore(sandbox, tmp_path):
    location, _ = write_backup(tmp_path, [configmap(f"c{i}", "shop") for i in range(12)])
    sandbox.clear_requests()
    plan = make_plan(sandbox, location, concurrency=Concurrency(workers=8, qps=10, burst=1))
    result = run_restore(plan, restore_name="paced")

    assert result.phase == "Completed"
    times = sorted(r["time"] for r in posts(sandbox, "configmaps"))
    assert len(times) == 12
    assert times[-1] - times[0] >= 1.0  # 12 creates at 10 per second, whatever the 8 workers want
