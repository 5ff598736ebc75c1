"""`restoreflow restore create` end to end, into the sandbox and into the real control plane."""

from __future__ import annotations

import pytest

from restoreflow.backup import BackupStorage
from restoreflow.cluster.client import wait_until
from restoreflow.controlplane.pytest_plugin import KubeTarget
from tests.flow.harness import unique

pytestmark = [pytest.mark.usefixtures("prefect_server"), pytest.mark.sandbox(velero_crds=True)]


def restore_the_shop(cli, bsl: BackupStorage, kube_target: KubeTarget, name: str, ns: str, *flags: str):
    """`restore create --wait` of the demo backup's shop namespace into `ns`, with Velero's flags."""
    return cli(
        "restore", "create", name,
        "--from-backup", "demo-backup",
        "--storage-location", bsl.url,
        "--kubeconfig", kube_target.kubeconfig,
        "--include-namespaces", "shop",
        "--namespace-mappings", f"shop:{ns}",
        *flags,
        "--wait",
    )  # fmt: skip


def test_create_with_velero_flags_restores_the_shop(cli, bsl: BackupStorage, kube_target: KubeTarget) -> None:
    name, ns = unique("both"), kube_target.name("shop")
    resources = "namespaces,serviceaccounts,configmaps,secrets,services,deployments.apps"
    run = restore_the_shop(cli, bsl, kube_target, name, ns, "--include-resources", resources)
    assert run.code == 0, run.out + run.err
    assert "Restore completed with status: Completed." in run.out
    assert kube_target.get("configmaps", "web-config", ns) is not None
    assert kube_target.get("pods", "toolbox", ns) is None
    web = kube_target.get("services", "web", ns)
    assert web["metadata"]["labels"]["velero.io/restore-name"] == name

    def available() -> bool:
        status = (kube_target.get("deployments.apps", "web", ns) or {}).get("status") or {}
        return (status.get("availableReplicas") or 0) >= 1

    assert wait_until(available, 60, 0.2)
    assert bsl.restores.get(name)["status"]["phase"] == "Completed"


def test_velero_flags_honour_veleros_plugin_configmaps(
    cli, bsl: BackupStorage, kube_target: KubeTarget
) -> None:
    """Velero's restore reference: a `change-image-name` ConfigMap in Velero's namespace rewrites the
    images of a restore made with Velero's flags (here in a namespace of its own: `--velero-namespace`)."""
    from kubernetes import client

    name, ns, velero_ns = unique("plugin-cm"), kube_target.name("shop"), kube_target.name("velero")
    core = client.CoreV1Api(kube_target.api_client())
    core.create_namespace({"metadata": {"name": velero_ns}})
    labels = {"velero.io/plugin-config": "", "velero.io/change-image-name": "RestoreItemAction"}
    config = {"metadata": {"name": "change-image-name-config", "labels": labels},
              "data": {"case1": "docker.io/library/,mirror.example.com/library/"}}  # fmt: skip
    core.create_namespaced_config_map(velero_ns, config)
    flags = ("--include-resources", "namespaces,deployments.apps", "--velero-namespace", velero_ns)
    run = restore_the_shop(cli, bsl, kube_target, name, ns, *flags)
    assert run.code == 0, run.out + run.err
    web = kube_target.get("deployments.apps", "web", ns)
    assert (
        web["spec"]["template"]["spec"]["containers"][0]["image"] == "mirror.example.com/library/nginx:1.27.2"
    )
