"""Objects already in the target: none/update policies, the ServiceAccount merge, restore labels."""

from __future__ import annotations

from restoreflow.plan.model import ApiRetries, Retries
from restoreflow.restore import run_restore
from tests.engine.helpers import BACKUP, configmap, kube_object, make_plan, namespace, write_backup

DIFFERENT = (
    'could not restore, ConfigMap "settings" already exists. '
    "Warning: the in-cluster version is different than the backed-up version"
)


def restore_twice_backup(tmp_path):
    location, _ = write_backup(
        tmp_path, [namespace("shop"), configmap("settings", "shop", data={"mode": "prod"})]
    )
    return location


def test_identical_objects_are_skipped_silently(sandbox, tmp_path):
    location = restore_twice_backup(tmp_path)
    first = run_restore(make_plan(sandbox, location), restore_name="first")
    assert first.counts["created"] == 2
    again = run_restore(make_plan(sandbox, location), restore_name="again")

    assert again.phase == "Completed"
    assert again.results == {"warnings": {}, "errors": {}}
    assert again.resource_list["v1/ConfigMap"] == ["shop/settings(skipped)"]


def test_different_objects_warn_and_are_recorded_failed_with_policy_none(sandbox, tmp_path):
    location = restore_twice_backup(tmp_path)
    sandbox.load([namespace("shop"), configmap("settings", "shop", data={"mode": "dev"})])
    result = run_restore(make_plan(sandbox, location), restore_name="none")

    assert result.phase == "Completed"
    assert result.results["warnings"] == {"namespaces": {"shop": [DIFFERENT]}}
    assert result.resource_list["v1/ConfigMap"] == ["shop/settings(failed)"]
    assert sandbox.get("configmaps", "settings", "shop")["data"] == {"mode": "dev"}


def test_update_policy_merge_patches_to_the_backed_up_object(sandbox, tmp_path):
    location = restore_twice_backup(tmp_path)
    live = configmap("settings", "shop", data={"mode": "dev", "extra": "x"}, labels={"live-only": "yes"})
    sandbox.load([namespace("shop"), live])
    result = run_restore(
        make_plan(sandbox, location, existing_resource_policy="update"), restore_name="update"
    )

    assert result.phase == "Completed", result.results
    assert result.resource_list["v1/ConfigMap"] == ["shop/settings(updated)"]
    cm = sandbox.get("configmaps", "settings", "shop")
    assert cm["data"] == {"mode": "prod"}
    assert cm["metadata"]["labels"] == {"velero.io/backup-name": BACKUP, "velero.io/restore-name": "update"}


def test_update_policy_relabels_identical_objects(sandbox, tmp_path):
    location = restore_twice_backup(tmp_path)
    run_restore(make_plan(sandbox, location), restore_name="first")
    result = run_restore(
        make_plan(sandbox, location, existing_resource_policy="update"), restore_name="second"
    )

    assert result.resource_list["v1/ConfigMap"] == ["shop/settings(skipped)"]
    labels = sandbox.get("configmaps", "settings", "shop")["metadata"]["labels"]
    assert labels["velero.io/restore-name"] == "second"


def test_service_accounts_are_merged_into_existing_ones(sandbox, tmp_path):
    backed_up = kube_object(
        "v1",
        "ServiceAccount",
        "builder",
        "shop",
        labels={"from": "backup"},
        secrets=[{"name": "registry"}],
        imagePullSecrets=[{"name": "pull"}],
    )
    location, _ = write_backup(tmp_path, [namespace("shop"), backed_up])
    live = kube_object("v1", "ServiceAccount", "builder", "shop", secrets=[{"name": "token"}])
    sandbox.load([namespace("shop"), live])
    result = run_restore(make_plan(sandbox, location), restore_name="merge")

    assert result.results["warnings"] == {}
    assert result.resource_list["v1/ServiceAccount"] == ["shop/builder(updated)"]
    sa = sandbox.get("serviceaccounts", "builder", "shop")
    assert sa["secrets"] == [{"name": "token"}, {"name": "registry"}]
    assert sa["imagePullSecrets"] == [{"name": "pull"}]
    assert sa["metadata"]["labels"] == {"from": "backup"}  # merged SAs get no restore labels


def test_long_backup_and_restore_names_become_valid_label_values(sandbox, tmp_path):
    long_backup = "nightly-backup-of-the-shop-namespace-with-a-very-long-name-20261124"
    location, _ = write_backup(tmp_path, [configmap("c", "shop")], name=long_backup)
    long_restore = "restore-of-the-nightly-backup-of-the-shop-namespace-into-the-drill-cluster"
    result = run_restore(make_plan(sandbox, location, backup=long_backup), restore_name=long_restore)

    assert result.phase == "Completed", result.results
    labels = sandbox.get("configmaps", "c", "shop")["metadata"]["labels"]
    for label, full in (("velero.io/backup-name", long_backup), ("velero.io/restore-name", long_restore)):
        assert len(labels[label]) == 63
        assert labels[label].startswith(full[:57]) and labels[label] != full[:63]
    assert result.status["spec"]["backupName"] == long_backup


def node_port_service(labels=None):
    spec = {
        "type": "NodePort",
        "selector": {"app": "web"},
        "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP", "nodePort": 30080}],
    }
    return kube_object("v1", "Service", "web", "shop", labels=labels, spec=spec)


def test_a_service_whose_node_port_is_taken_by_itself_counts_as_existing(sandbox, tmp_path):
    location, _ = write_backup(tmp_path, [namespace("shop"), node_port_service({"app": "web"})])
    run_restore(make_plan(sandbox, location, preserve_node_ports=True), restore_name="first")
    relabelled = sandbox.get("services", "web", "shop")
    assert relabelled["spec"]["ports"][0]["nodePort"] == 30080

    location2, _ = write_backup(tmp_path, [node_port_service({"app": "web", "tier": "front"})], name="b2")
    result = run_restore(
        make_plan(sandbox, location2, backup="b2", preserve_node_ports=True), restore_name="again"
    )

    assert result.results["errors"] == {}
    assert result.results["warnings"]["namespaces"]["shop"] == [
        'could not restore, Service "web" already exists. '
        "Warning: the in-cluster version is different than the backed-up version"
    ]
    assert result.resource_list["v1/Service"] == ["shop/web(failed)"]


def test_update_policy_falls_back_to_the_restore_labels_when_the_patch_fails(sandbox, tmp_path):
    location = restore_twice_backup(tmp_path)
    sandbox.load([namespace("shop"), configmap("settings", "shop", data={"mode": "dev"})])
    sandbox.add_fault("verb=patch,resource=configmaps,count=1,code=500")
    no_retries = Retries(api=ApiRetries(attempts=1))
    plan = make_plan(sandbox, location, existing_resource_policy="update", retries=no_retries)
    result = run_restore(plan, restore_name="fallback")

    [warning] = result.results["warnings"]["namespaces"]["shop"]
    assert "injected fault" in warning
    assert result.resource_list["v1/ConfigMap"] == ["shop/settings(failed)"]
    cm = sandbox.get("configmaps", "settings", "shop")
    assert cm["data"] == {"mode": "dev"}  # the full patch failed...
    assert cm["metadata"]["labels"]["velero.io/restore-name"] == "fallback"  # ...the labels were patched
