"""`restoreflow restore create` end to end, into the sandbox and into the real control plane."""

from __future__ import annotations

import pytest

from restoreflow.backup import BackupStorage
from restoreflow.cluster.client import wait_until
from restoreflow.controlplane.pytest_plugin import KubeTarget
from tests.flow.harness import unique

pytestmark = [pytest.mark.usefixtures("prefect_server"), pytest.mark.sandbox(velero_crds=True)]


def test_create_with_velero_flags_restores_the_shop(cli, bsl: BackupStorage, kube_target: KubeTarget) -> None:
    name, ns = unique("both"), kube_target.name("shop")
    run = cli(
        "restore", "create", name,
        "--from-backup", "demo-backup",
        "--storage-location", bsl.url,
        "--kubeconfig", kube_target.kubeconfig,
        "--include-namespaces", "shop",
        "--include-resources", "namespaces,serviceaccounts,configmaps,secrets,services,deployments.apps",
        "--namespace-mappings", f"shop:{ns}",
        "--wait",
    )  # fmt: skip
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
