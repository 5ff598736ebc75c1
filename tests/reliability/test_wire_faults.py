"""A restore through the fault-injecting proxy: every item exactly once, counted once, retries logged.

The nastiest fault is the lost answer: the create was stored, its answer dropped, so the retry meets
409 AlreadyExists for the restore's own object, which must count as created by this restore.
"""

from __future__ import annotations

import base64
import time
from collections import Counter
from pathlib import Path
from typing import Any

from restoreflow.backup.storage import BackupStorage
from restoreflow.plan.model import ApiRetries, Concurrency, RestorePlan, RestoreSpec, Retries, Source, Target
from restoreflow.restore import RestoreResult, run_restore
from restoreflow.sandbox import Sandbox
from restoreflow.sandbox.proxy import KINDS, FaultPlan, Proxy, start_proxy
from tests.engine.helpers import BACKUP, configmap, kube_object, namespace, write_backup
from tests.reliability.figures import report, size

NAMESPACES = ("shop-a", "shop-b")
RETRIES = ApiRetries(attempts=10, initial_backoff=0.01, max_backoff=0.1, request_timeout=1.0)


def secret(name: str, ns: str, value: str) -> dict[str, Any]:
    data = {"password": base64.b64encode(value.encode()).decode()}
    return kube_object("v1", "Secret", name, ns, type="Opaque", data=data)


def backup_items(count: int) -> list[dict[str, Any]]:
    """`count` items in two namespaces: four ConfigMaps for each Secret, each with its own content."""
    items = []
    for i in range(count):
        ns = NAMESPACES[i % 2]
        items.append(
            secret(f"s{i:05}", ns, f"pw-{i}") if i % 5 == 0 else configmap(f"c{i:05}", ns, {"n": str(i)})
        )
    return items


def restore_through(
    proxy: Proxy, sandbox: Sandbox, location: str, tmp_path: Path, name: str, retries: ApiRetries
) -> RestoreResult:
    kubeconfig = proxy.rewrite_kubeconfig(sandbox.kubeconfig, tmp_path / f"{name}.kubeconfig")
    spec = RestoreSpec(
        source=Source(storage_location=location, backup_name=BACKUP),
        target=Target(kubeconfig=kubeconfig),
        concurrency=Concurrency(workers=16, qps=0, burst=100),
        retries=Retries(api=retries),
    )
    return run_restore(RestorePlan(name="reliability", spec=spec), restore_name=name)


def stored_content(sandbox: Sandbox) -> dict[tuple[str, str, str], Any]:
    """Every restored object of the backup's namespaces: (kind, namespace, name) -> its data."""
    found: dict[tuple[str, str, str], Any] = {}
    for resource, kind in (("configmaps", "ConfigMap"), ("secrets", "Secret")):
        for ns in NAMESPACES:
            for obj in sandbox.objects(resource, ns):
                if obj["metadata"]["name"] != "kube-root-ca.crt":
                    found[(kind, ns, obj["metadata"]["name"])] = obj.get("data")
    return found


def creates_stored(sandbox: Sandbox) -> Counter[tuple[str, str]]:
    """Creates the API server applied (201), by resource and namespace."""
    return Counter(
        (r["resource"], r["namespace"])
        for r in sandbox.requests()
        if r["verb"] == "create" and r["code"] == 201 and r["namespace"] in NAMESPACES
    )


def test_ten_percent_faults_every_item_exactly_once(sandbox: Sandbox, tmp_path: Path) -> None:
    count = size(300, 10_000)
    items = backup_items(count)
    location, _ = write_backup(tmp_path, [namespace(ns) for ns in NAMESPACES] + items)
    plan = FaultPlan(rate=0.1, kinds=KINDS, retry_after=1, stall=2.0)
    started = time.monotonic()
    with start_proxy(sandbox.url, faults=plan, seed=1) as proxy:
        result = restore_through(proxy, sandbox, location, tmp_path, "through-faults", RETRIES)
    wall = time.monotonic() - started

    assert result.phase == "Completed", result.results
    assert set(proxy.injected) == set(KINDS), proxy.injected  # every kind happened at least once
    expected = {(o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]): o["data"] for o in items}
    assert stored_content(sandbox) == expected  # nothing lost, nothing extra, the right content
    assert sum(creates_stored(sandbox).values()) == count  # each item stored exactly once
    assert result.counts == {"created": count + len(NAMESPACES), "updated": 0, "skipped": 0, "failed": 0}
    assert all(entry.endswith("(created)") for names in result.resource_list.values() for entry in names)

    lost_creates = [e for e in proxy.events if e.kind == "lost_answer" and e.method == "POST"]
    log = BackupStorage.open(location).restores.logs("through-faults")
    for cause in ("429", "500", "503", "connection", "timeout"):
        assert f": {cause}: " in log, f"no retry for {cause} in the log"
    retried, injected = Counter(result.status["status"]["apiRetries"]["byReason"]), proxy.injected
    assert [retried[c] for c in ("429", "500", "503")] == [injected[k] for k in ("429", "500", "503")]
    assert retried["connection"] == injected["reset"] + injected["lost_answer"]  # each fault retried once
    own_timeouts = retried["timeout"] - injected["timeout"]  # a loaded machine may time out on its own
    assert own_timeouts >= 0
    counted = log.count("the answer to its create was lost")  # once per item, however many were lost
    assert lost_creates and 0 < counted <= len(lost_creates) + own_timeouts
    report(
        "wire faults",
        items=count,
        faults=dict(proxy.injected),
        requests=proxy.requests,
        retries=result.retries,
        lost=len(set(expected) - set(stored_content(sandbox))),
        duplicated=sum(creates_stored(sandbox).values()) - count,
        phase=result.phase,
        wall=round(wall, 1),
    )


def test_faults_that_never_stop_fail_those_items_by_name_and_nothing_else(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    count = size(60, 1000)
    items = backup_items(count)
    location, _ = write_backup(tmp_path, [namespace(ns) for ns in NAMESPACES] + items)
    plan = FaultPlan(rate=1.0, kinds=("503", "reset"), methods=frozenset({"POST"}), path="/shop-b/configmaps")
    retries = ApiRetries(attempts=3, initial_backoff=0.01, max_backoff=0.02)
    with start_proxy(sandbox.url, faults=plan, seed=3) as proxy:
        result = restore_through(proxy, sandbox, location, tmp_path, "unbeatable", retries)

    assert result.phase == "PartiallyFailed"
    doomed = sorted(o["metadata"]["name"] for o in items if o["kind"] == "ConfigMap" and "shop-b" in str(o))
    errors = result.results["errors"]["namespaces"]["shop-b"]
    assert sorted(e.split("configmaps/shop-b/")[1].split(":")[0] for e in errors) == doomed
    assert result.counts["failed"] == len(doomed)
    spared = {
        (o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]): o["data"]
        for o in items
        if o["metadata"]["name"] not in doomed
    }
    assert stored_content(sandbox) == spared
    assert proxy.injected["503"] + proxy.injected["reset"] == 3 * len(doomed)
