"""The preview's server-side dry runs on both targets: the sandbox and the real kube-apiserver answer alike.

Every test runs twice (`kube_target` is `sandbox` or `real`), with names unique to the test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from restoreflow.cluster.client import wait_until
from restoreflow.controlplane.pytest_plugin import KubeTarget
from restoreflow.restore import run_restore
from restoreflow.restore.preview import Preview, preview
from restoreflow.restore.verify import verify
from tests.engine.helpers import (
    BACKUP,
    configmap,
    deployment,
    kube_object,
    make_plan,
    namespace,
    pod,
    secret,
    write_backup,
)
from tests.engine.test_preview import messages


def service(name: str, ns: str, node_port: int) -> dict[str, Any]:
    port = {"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP", "nodePort": node_port}
    spec = {"type": "NodePort", "selector": {"app": name}, "ports": [port]}
    return kube_object("v1", "Service", name, ns, spec=spec)


def look(target: KubeTarget, tmp_path: Path, objects: list[dict[str, Any]], **spec: Any) -> Preview:
    location, _ = write_backup(tmp_path, objects)
    return preview(make_plan(target, location, **spec), restore_name="look")


def decisions(result: Preview) -> dict[str, tuple[str, str]]:
    return {item.path: (item.decision, item.reason) for item in result.items}


def create(target: KubeTarget, *objects: dict[str, Any]) -> None:
    for obj in objects:
        body = {k: v for k, v in obj.items() if k != "status"}
        body["metadata"] = {k: v for k, v in obj["metadata"].items() if k in ("name", "namespace", "labels")}
        resource = {"Namespace": "namespaces", "Service": "services", "ResourceQuota": "resourcequotas"}
        target.cluster.create(resource.get(obj["kind"], "configmaps"), body)


def test_an_invalid_object_and_a_taken_node_port(kube_target: KubeTarget, tmp_path: Path) -> None:
    ns, other = kube_target.name("shop"), kube_target.name("other")
    port = 30000 + int(ns[-4:], 16) % 2700  # free on a shared server
    create(kube_target, namespace(ns), namespace(other), service("taken", other, port))
    broken = pod("broken", ns)
    del broken["spec"]["containers"][0]["image"]

    result = look(
        kube_target,
        tmp_path,
        [broken, service("web", ns, port), configmap("fine", ns)],
        preserve_node_ports=True,
    )

    found = decisions(result)
    assert found[f"pods/{ns}/broken"] == (
        "fail",
        f'error restoring pods/{ns}/broken: Pod "broken" is invalid: '
        "spec.containers[0].image: Required value",
    )
    assert found[f"services/{ns}/web"] == (
        "fail",
        f'error restoring services/{ns}/web: Service "web" is invalid: '
        f"spec.ports[0].nodePort: Invalid value: {port}: provided port is already allocated",
    )
    assert found[f"configmaps/{ns}/fine"] == ("create", "")
    assert kube_target.get("configmaps", "fine", ns) is None


def test_a_quota_used_up(kube_target: KubeTarget, tmp_path: Path) -> None:
    ns = kube_target.name("shop")
    create(kube_target, namespace(ns), configmap("present", ns))
    create(kube_target, kube_object("v1", "ResourceQuota", "objects", ns, spec={"hard": {"configmaps": "2"}}))
    # the quota controller records usage (kube-root-ca.crt and `present`) before admission can count
    assert wait_until(
        lambda: (
            ((kube_target.get("resourcequotas", "objects", ns) or {}).get("status") or {}).get("used")
            == {"configmaps": "2"}
            or not kube_target.real
        ),
        30,
        0.2,
    )

    result = look(kube_target, tmp_path, [configmap("extra", ns)])

    assert decisions(result)[f"configmaps/{ns}/extra"] == (
        "fail",
        f'error restoring configmaps/{ns}/extra: configmaps "extra" is forbidden: exceeded quota: objects, '
        "requested: configmaps=1, used: configmaps=2, limited: configmaps=2",
    )


def _used(target: KubeTarget, ns: str) -> dict[str, str] | None:
    return ((target.get("resourcequotas", "objects", ns) or {}).get("status") or {}).get("used")


def test_a_terminating_namespace(kube_target: KubeTarget, tmp_path: Path) -> None:
    ns = kube_target.name("going")
    held = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": ns, "finalizers": ["example.com/hold"]},
    }
    kube_target.cluster.create("namespaces", held)
    kube_target.cluster.delete("namespaces", ns)
    try:
        result = look(kube_target, tmp_path, [namespace(ns), configmap("settings", ns)])
    finally:
        kube_target.cluster.patch("namespaces", ns, {"metadata": {"finalizers": None}})

    decision, reason = decisions(result)[f"configmaps/{ns}/settings"]
    assert decision == "fail"
    assert reason.endswith(f"unable to create new content in namespace {ns} because it is being terminated")


def test_preview_then_restore_agree_on_existing_objects(kube_target: KubeTarget, tmp_path: Path) -> None:
    ns = kube_target.name("shop")
    objects = [namespace(ns), *(configmap(f"cm-{i}", ns, data={"i": str(i)}) for i in range(30))]
    create(
        kube_target,
        namespace(ns),
        configmap("cm-1", ns, data={"i": "1"}),
        configmap("cm-2", ns, data={"i": "x"}),
    )
    location, _ = write_backup(tmp_path, objects)
    plan = make_plan(kube_target, location)

    planned = preview(plan, restore_name="twin")
    done = run_restore(plan, restore_name="twin")

    assert planned.resource_list() == done.resource_list
    assert messages(planned.results) == messages(done.results)  # workers add them in any order
    # managedFields are restored as backed up, so objects made by someone else always differ
    assert planned.totals() == {"create": 28, "skip": 1, "skip-warning": 2}


def test_verification_ignores_what_the_server_adds_and_sees_what_changed(
    kube_target: KubeTarget, tmp_path: Path
) -> None:
    ns = kube_target.name("shop")
    web = service("web", ns, 30000 + int(ns[-4:], 16) % 2700)
    web["spec"]["clusterIP"] = "10.96.0.77"  # the service action drops it: the server allocates one
    objects = [namespace(ns), configmap("settings", ns), secret("db", ns), deployment("app", ns), web]
    location, _ = write_backup(tmp_path, objects)
    plan = make_plan(kube_target, location)
    done = run_restore(plan, restore_name="drill")
    assert done.phase == "Completed", done.results

    clean = verify(
        plan,
        restore_name="drill",
        backup_name=BACKUP,
        resource_list=done.resource_list,
        readiness=True,
        timeout=60,
    )
    kube_target.cluster.patch("configmaps", "settings", {"data": {"key": "changed"}}, ns)
    changed = verify(plan, restore_name="drill", backup_name=BACKUP, resource_list=done.resource_list)

    assert clean.ok, clean.to_dict()
    assert (clean.checked, clean.ready_checked) == (5, 1)
    assert [(m.path, m.problem, m.fields) for m in changed.mismatches] == [
        (f"configmaps/{ns}/settings", "changed", ["data.key"])
    ]
