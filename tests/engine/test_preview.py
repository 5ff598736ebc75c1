"""The preview: each item's decision, from the restore's own pipeline against server-side dry runs."""

from __future__ import annotations

import pytest

from restoreflow.plan.model import Transforms
from restoreflow.restore import run_restore
from restoreflow.restore.preview import preview
from tests.engine.helpers import (
    configmap,
    deployment,
    kube_object,
    make_plan,
    namespace,
    pod,
    posts,
    secret,
    write_backup,
)


def by_path(result):
    return {item.path: item for item in result.items}


def messages(results):
    """Velero's results as sorted (level, namespace, message): concurrent workers add them in any order."""
    out = []
    for level, result in results.items():
        for where, texts in (result.get("namespaces") or {}).items():
            out += [(level, where, text) for text in texts]
        out += [(level, "", text) for text in result.get("cluster") or []]
    return sorted(out)


def writes(sandbox):
    """Every request that would change the sandbox (dry runs excluded)."""
    return [
        r for r in sandbox.requests() if r["verb"] not in ("get", "list", "watch") and not r.get("dry_run")
    ]


@pytest.fixture
def shop(tmp_path):
    location, _ = write_backup(
        tmp_path,
        [
            namespace("shop"),
            configmap("same", "shop", data={"mode": "prod"}),
            configmap("differs", "shop", data={"mode": "prod"}),
            configmap("new", "shop"),
            secret("db", "shop"),
            deployment("web", "shop"),
            pod("done", "shop", phase="Succeeded"),
            configmap("other", "kube-public"),
        ],
    )
    return location


def existing(sandbox):
    sandbox.load(
        [
            namespace("shop"),
            configmap("same", "shop", data={"mode": "prod"}),
            configmap("differs", "shop", data={"mode": "dev"}),
            kube_object("v1", "Secret", "db", "shop", type="Opaque", data={"password": "b2xk"}),
        ]
    )


def test_each_existing_resource_situation_is_decided_exactly(sandbox, shop):
    existing(sandbox)
    sandbox.clear_requests()
    result = preview(make_plan(sandbox, shop, excluded_namespaces=["kube-public"]), restore_name="look")

    items = by_path(result)
    assert (items["configmaps/shop/same"].decision, items["configmaps/shop/same"].reason) == (
        "skip",
        "exists, identical",
    )
    differs = items["configmaps/shop/differs"]
    assert differs.decision == "skip-warning"
    assert differs.reason.startswith('could not restore, ConfigMap "differs" already exists')
    assert items["configmaps/shop/new"].decision == "create"
    assert items["configmaps/shop/new"].checked
    assert items["deployments.apps/shop/web"].decision == "create"
    assert items["pods/shop/done"].decision == "skip"
    assert items["pods/shop/done"].reason == "pods/shop/done is completed, not restoring it"
    assert items["configmaps/kube-public/other"].decision == "excluded"
    assert items["configmaps/kube-public/other"].reason == "excludedNamespaces/includedNamespaces"
    assert (items["namespaces/shop"].decision, items["namespaces/shop"].reason) == (
        "excluded",
        "includeClusterResources",
    )
    assert writes(sandbox) == []
    assert sandbox.get("configmaps", "new", "shop") is None


def test_update_policy_shows_the_patch_and_redacts_secrets(sandbox, shop):
    existing(sandbox)
    plan = make_plan(sandbox, shop, existing_resource_policy="update", excluded_namespaces=["kube-public"])
    result = preview(plan, restore_name="look")

    items = by_path(result)
    differs = items["configmaps/shop/differs"]
    assert differs.decision == "update"
    assert differs.patch == {
        "data": {"mode": "prod"},
        "metadata": {
            "labels": {"velero.io/backup-name": "nightly-20261124010000", "velero.io/restore-name": "look"}
        },
    }
    assert "-  mode: dev\n" in differs.diff() and "+  mode: prod\n" in differs.diff()
    db = items["secrets/shop/db"]
    assert db.decision == "update"
    assert db.patch["data"] == {"password": "<redacted>"}
    text = repr(result.to_dict(diff=True))
    assert "czNjcjN0" not in text and "b2xk" not in text
    assert "password: '<redacted: differs>'" in db.diff()
    assert sandbox.get("configmaps", "differs", "shop")["data"] == {"mode": "dev"}


def test_a_fresh_namespace_is_created_and_its_items_are_not_judged_by_the_server(sandbox, shop):
    result = preview(make_plan(sandbox, shop, namespace_mapping={"shop": "shop-2"}), restore_name="look")

    items = by_path(result)
    assert items["namespaces/shop-2"].decision == "create"
    new = items["configmaps/shop-2/new"]
    assert (new.decision, new.checked) == ("create", False)
    assert new.reason == "not checked by the API server: the namespace shop-2 does not exist yet"
    assert [t.step for t in new.transforms] == ["namespace mapping"]
    assert new.transforms[0].changed == ["metadata.namespace"]
    assert posts(sandbox) == []


def test_image_mapping_is_a_transform_of_the_action_that_made_it(sandbox, shop):
    sandbox.load([namespace("shop")])
    transforms = Transforms(image_name_mapping=["registry.example/,mirror.example/"])
    result = preview(make_plan(sandbox, shop, transforms=transforms), restore_name="look")

    web = by_path(result)["deployments.apps/shop/web"]
    assert [(t.step, t.changed) for t in web.transforms] == [
        ("action velero.io/change-image-name", ["spec.template.spec.containers[0].image"])
    ]
    assert web.desired["spec"]["template"]["spec"]["containers"][0]["image"] == "mirror.example/app:1.0"


def test_preview_then_restore_match_item_for_item(sandbox, tmp_path):
    objects = [namespace("shop"), namespace("blog")]
    for i in range(150):
        objects.append(configmap(f"cm-{i}", "shop" if i % 2 else "blog", data={"i": str(i)}))
    for i in range(60):
        objects.append(secret(f"s-{i}", "shop"))
    for i in range(40):
        objects.append(deployment(f"d-{i}", "blog"))
    objects.append(pod("finished", "shop", phase="Succeeded"))
    location, _ = write_backup(tmp_path, objects)
    sandbox.load(
        [
            namespace("shop"),
            configmap("cm-1", "shop", data={"i": "1"}),
            configmap("cm-3", "shop", data={"i": "changed"}),
            kube_object("v1", "Secret", "s-5", "shop", type="Opaque", data={"password": "eA=="}),
        ]
    )
    plan = make_plan(sandbox, location)

    planned = preview(plan, restore_name="twin")
    done = run_restore(plan, restore_name="twin")

    assert planned.resource_list() == done.resource_list
    assert messages(planned.results) == messages(done.results)
    assert planned.totals() == {"create": 248, "skip": 3, "skip-warning": 2}


def service(name, ns, node_port):
    spec = {
        "type": "NodePort",
        "selector": {"app": name},
        "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080, "nodePort": node_port}],
    }
    return kube_object("v1", "Service", name, ns, spec=spec)


def quota(name, ns, **hard):
    return kube_object("v1", "ResourceQuota", name, ns, spec={"hard": hard})


def test_server_side_dry_run_catches_an_invalid_object_and_a_taken_node_port(sandbox, tmp_path):
    broken = pod("broken", "shop")
    del broken["spec"]["containers"][0]["image"]
    location, _ = write_backup(
        tmp_path,
        [
            namespace("shop"),
            broken,
            service("web", "shop", 30080),
            configmap("fine", "shop"),
        ],
    )
    sandbox.load([namespace("shop"), namespace("other"), service("taken", "other", 30080)])
    sandbox.clear_requests()

    result = preview(make_plan(sandbox, location, preserve_node_ports=True), restore_name="look")

    items = by_path(result)
    assert (items["pods/shop/broken"].decision, items["pods/shop/broken"].reason) == (
        "fail",
        'error restoring pods/shop/broken: Pod "broken" is invalid: spec.containers[0].image: Required value',
    )
    assert items["services/shop/web"].decision == "fail"
    assert items["services/shop/web"].reason == (
        'error restoring services/shop/web: Service "web" is invalid: '
        "spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated"
    )
    assert (items["configmaps/shop/fine"].decision, items["configmaps/shop/fine"].checked) == ("create", True)
    assert writes(sandbox) == []


def test_a_quota_already_used_up_refuses_the_dry_run(sandbox, tmp_path):
    location, _ = write_backup(tmp_path, [namespace("shop"), configmap("extra", "shop")])
    # with kube-root-ca.crt, which every namespace holds, two ConfigMaps are there already
    sandbox.load([namespace("shop"), configmap("present", "shop"), quota("objects", "shop", configmaps="2")])

    result = preview(make_plan(sandbox, location), restore_name="look")

    extra = by_path(result)["configmaps/shop/extra"]
    assert extra.decision == "fail"
    assert extra.reason == (
        'error restoring configmaps/shop/extra: configmaps "extra" is forbidden: exceeded quota: objects, '
        "requested: configmaps=1, used: configmaps=2, limited: configmaps=2"
    )
    done = run_restore(make_plan(sandbox, location), restore_name="look")
    assert done.resource_list == result.resource_list()
    assert done.results == result.results


def test_a_terminating_target_namespace_shows_in_the_preview(sandbox, tmp_path):
    location, _ = write_backup(tmp_path, [namespace("shop"), configmap("settings", "shop")])
    gone = namespace("shop")
    gone["metadata"]["deletionTimestamp"] = "2026-12-06T04:00:00Z"
    gone["metadata"]["finalizers"] = ["example.com/hold"]
    gone["status"] = {"phase": "Terminating"}
    sandbox.load([gone])

    result = preview(make_plan(sandbox, location), restore_name="look")

    settings = by_path(result)["configmaps/shop/settings"]
    assert settings.decision == "fail"
    assert "unable to create new content in namespace shop because it is being terminated" in settings.reason


def test_storage_class_mapping_and_resource_modifiers_are_transforms(sandbox, tmp_path):
    claim = kube_object(
        "v1",
        "PersistentVolumeClaim",
        "data",
        "shop",
        spec={
            "storageClassName": "gp2",
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}},
        },
    )
    location, _ = write_backup(tmp_path, [namespace("shop"), claim, configmap("settings", "shop")])
    fast = kube_object("storage.k8s.io/v1", "StorageClass", "standard", provisioner="example.com/disks")
    sandbox.load([namespace("shop"), fast])
    rules = {
        "version": "v1",
        "resourceModifierRules": [
            {
                "conditions": {"groupResource": "configmaps", "resourceNameRegex": "^settings$"},
                "patches": [{"operation": "replace", "path": "/data/key", "value": "drill"}],
            }
        ],
    }
    transforms = Transforms(storage_class_mapping={"gp2": "standard"}, resource_modifiers=rules)

    result = preview(make_plan(sandbox, location, transforms=transforms), restore_name="look")

    items = by_path(result)
    assert [(t.step, t.changed) for t in items["persistentvolumeclaims/shop/data"].transforms] == [
        ("action velero.io/change-storage-class", ["spec.storageClassName"])
    ]
    assert [(t.step, t.changed) for t in items["configmaps/shop/settings"].transforms] == [
        ("resource modifiers", ["data.key"])
    ]
    assert items["configmaps/shop/settings"].desired["data"] == {"key": "drill"}


def test_an_existing_service_account_is_merged_whatever_the_policy(sandbox, tmp_path):
    backed_up = kube_object("v1", "ServiceAccount", "web", "shop", imagePullSecrets=[{"name": "registry"}])
    location, _ = write_backup(tmp_path, [namespace("shop"), backed_up])
    sandbox.load([namespace("shop"), kube_object("v1", "ServiceAccount", "web", "shop")])

    result = preview(make_plan(sandbox, location), restore_name="look")

    web = by_path(result)["serviceaccounts/shop/web"]
    assert (web.decision, web.action) == ("update", "updated")
    assert web.reason == "exists: the backup's secrets, pull secrets, labels and annotations merged in"
    assert web.patch["imagePullSecrets"] == [{"name": "registry"}]
    done = run_restore(make_plan(sandbox, location), restore_name="look")
    assert done.resource_list == result.resource_list()
