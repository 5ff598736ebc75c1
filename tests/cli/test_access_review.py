"""Authorization on the real kube-apiserver (RBAC): a user who may not create in the target namespace
is refused by `restore create` before anything runs; once a Role lets it, the same restore goes through."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from restoreflow.backup import BackupStorage
from restoreflow.controlplane.plane import PlaneState
from tests.cli.test_failures import refused, restoreflow

pytestmark = pytest.mark.usefixtures("prefect_server")


@pytest.fixture
def admin(control_plane: PlaneState) -> Iterator[client.ApiClient]:
    api = config.new_client_from_config(control_plane.kubeconfig)
    yield api
    api.close()


@pytest.fixture
def namespace(admin: client.ApiClient) -> Iterator[str]:
    name = f"shop-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(admin)
    core.create_namespace({"metadata": {"name": name}})
    yield name
    core.delete_namespace(name)


def config_maps(admin: client.ApiClient, namespace: str) -> list[str]:
    listed = client.CoreV1Api(admin).list_namespaced_config_map(namespace)
    return [c.metadata.name for c in listed.items if c.metadata.name != "kube-root-ca.crt"]


def create(bsl: BackupStorage, name: str, kubeconfig: Path, namespace: str, *extra: str) -> list[str]:
    return [
        "restore", "create", name, "--from-backup", "demo-backup", "--storage-location", bsl.url,
        "--kubeconfig", str(kubeconfig), "--include-namespaces", "shop",
        "--namespace-mappings", f"shop:{namespace}", "--include-resources", "configmaps", *extra,
    ]  # fmt: skip


def grant(admin: client.ApiClient, namespace: str, user: str, rules: list[dict[str, Any]]) -> None:
    """A Role in the namespace with these rules, bound to the user (both named after the user)."""
    rbac = client.RbacAuthorizationV1Api(admin)
    rbac.create_namespaced_role(namespace, {"metadata": {"name": user}, "rules": rules})
    rbac.create_namespaced_role_binding(
        namespace,
        {
            "metadata": {"name": user},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": user},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
        },
    )


def test_a_user_who_may_not_create_there_is_refused_before_anything_runs(
    bsl: BackupStorage,
    admin: client.ApiClient,
    namespace: str,
    user_kubeconfig: Callable[[str], Path],
    tmp_path: Path,
) -> None:
    user = f"alice-{uuid.uuid4().hex[:6]}"
    started = time.monotonic()
    run = restoreflow(*create(bsl, "r1", user_kubeconfig(user), namespace), home=tmp_path)
    elapsed = time.monotonic() - started
    refused(
        run, f'user "{user}" cannot create configmaps in the namespace "{namespace}" on https://127.0.0.1:'
    )
    assert len(run.stderr.splitlines()) == 1, run.stderr
    assert elapsed < 5, f"refused after {elapsed:.1f} s"  # no Prefect, no flow: about a second
    assert not bsl.restores.exists("r1") and config_maps(admin, namespace) == []
    assert not (tmp_path / "prefect").exists()  # the local Prefect server was never started


def test_roles_that_grant_create_in_the_namespace_and_velero_s_config_let_the_same_restore_through(
    cli,
    bsl: BackupStorage,
    admin: client.ApiClient,
    namespace: str,
    user_kubeconfig: Callable[[str], Path],
) -> None:
    """A restore made from Velero's flags also reads Velero's ConfigMaps in its namespace, as Velero does."""
    user = f"bob-{uuid.uuid4().hex[:6]}"
    kubeconfig = user_kubeconfig(user)
    verbs = ["get", "list", "watch", "create", "update", "patch"]
    grant(admin, namespace, user, [{"apiGroups": ["", "*"], "resources": ["*"], "verbs": verbs}])
    unread = cli(*create(bsl, "r2", kubeconfig, namespace, "--wait"))
    assert unread.code == 1 and "submitted" not in unread.out
    assert unread.err.startswith(f'error: user "{user}" cannot list configmaps in the namespace "velero" on ')
    assert "(to read Velero's ConfigMaps there" in unread.err and not bsl.restores.exists("r2")

    grant(admin, "velero", user, [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}])
    run = cli(*create(bsl, "r2", kubeconfig, namespace, "--wait"))
    assert run.code == 0, run.out + run.err
    assert "Restore completed with status: Completed." in run.out
    assert config_maps(admin, namespace) == ["web-config"]
