"""Discovery: /version, /api, /apis and per-group documents, as clients and the dynamic client read them."""

from __future__ import annotations

import pytest
from kubernetes import client, dynamic

from restoreflow.sandbox import Sandbox
from tests.sandbox.helpers import raw


def test_version(api: client.ApiClient) -> None:
    info = client.VersionApi(api).get_code()
    assert (info.major, info.minor) == ("1", "33")
    assert info.git_version.startswith("v1.")


def test_core_group_lists_builtin_resources_with_scope_verbs_and_short_names(api: client.ApiClient) -> None:
    resources = {r.name: r for r in client.CoreV1Api(api).get_api_resources().resources}
    expected = {
        "namespaces", "pods", "services", "endpoints", "configmaps", "secrets", "serviceaccounts",
        "persistentvolumes", "persistentvolumeclaims", "limitranges", "resourcequotas",
        "replicationcontrollers", "events", "nodes",
    }  # fmt: skip
    assert expected <= set(resources)
    assert resources["pods"].namespaced and resources["pods"].kind == "Pod"
    assert resources["pods"].short_names == ["po"] and resources["pods"].singular_name == "pod"
    assert not resources["namespaces"].namespaced
    assert not resources["persistentvolumes"].namespaced
    assert set(resources["configmaps"].verbs) == {
        "create", "delete", "deletecollection", "get", "list", "patch", "update", "watch",
    }  # fmt: skip
    assert resources["pods/exec"].kind == "PodExecOptions"
    assert "pods/status" in resources and "persistentvolumeclaims/status" in resources


def test_api_groups_name_preferred_versions(api: client.ApiClient) -> None:
    groups = {g.name: g for g in client.ApisApi(api).get_api_versions().groups}
    for name in (
        "apps", "batch", "rbac.authorization.k8s.io", "storage.k8s.io", "networking.k8s.io", "policy",
        "scheduling.k8s.io", "admissionregistration.k8s.io", "apiregistration.k8s.io", "apiextensions.k8s.io",
    ):  # fmt: skip
        assert groups[name].preferred_version.group_version == f"{name}/v1"
    assert "velero.io" not in groups


def test_group_and_group_version_documents(api: client.ApiClient) -> None:
    group = client.AppsApi(api).get_api_group()
    assert group.name == "apps" and group.preferred_version.version == "v1"
    resources = {r.name: r for r in client.AppsV1Api(api).get_api_resources().resources}
    assert resources["deployments"].short_names == ["deploy"]
    assert (
        resources["deployments/scale"].kind == "Scale"
        and resources["deployments/scale"].group == "autoscaling"
    )
    assert resources["statefulsets"].kind == "StatefulSet"


def test_unknown_group_is_plain_404_and_unknown_resource_is_a_status(api: client.ApiClient) -> None:
    code, body = raw(api, "GET", "/apis/example.com/v1")
    assert (code, body.strip()) == (404, "404 page not found")
    code, body = raw(api, "GET", "/api/v1/namespaces/default/widgets")
    assert (code, body["reason"], body["message"]) == (
        404,
        "NotFound",
        "the server could not find the requested resource",
    )


def test_dynamic_client_resolves_kinds_and_short_names(api: client.ApiClient) -> None:
    dyn = dynamic.DynamicClient(api)
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    assert deployments.namespaced and deployments.name == "deployments"
    assert dyn.resources.get(short_names=["pvc"]).kind == "PersistentVolumeClaim"
    crds = dyn.resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition")
    assert not crds.namespaced


@pytest.mark.sandbox(velero_crds=True, snapshot_crds=True)
def test_velero_and_snapshot_groups_when_their_crds_are_installed(
    sandbox: Sandbox, api: client.ApiClient
) -> None:
    groups = {g.name: g for g in client.ApisApi(api).get_api_versions().groups}
    assert groups["velero.io"].preferred_version.version == "v1"
    assert [v.version for v in groups["velero.io"].versions] == ["v1", "v2alpha1"]
    assert groups["snapshot.storage.k8s.io"].preferred_version.version == "v1"
    dyn = dynamic.DynamicClient(api)
    assert dyn.resources.get(api_version="velero.io/v1", kind="PodVolumeRestore").namespaced
    assert not dyn.resources.get(
        api_version="snapshot.storage.k8s.io/v1", kind="VolumeSnapshotContent"
    ).namespaced
    assert sandbox.get("namespaces", "velero") is not None
