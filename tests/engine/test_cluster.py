"""The engine's door to the API: discovery names, plain-dict CRUD, Status errors."""

from __future__ import annotations

import pytest

from restoreflow.actions.base import ClusterReader
from restoreflow.cluster import ApiError, Cluster
from restoreflow.plan.model import Target
from tests.engine.helpers import configmap


@pytest.fixture
def cluster(sandbox):
    cluster = Cluster.for_target(Target(kubeconfig=str(sandbox.kubeconfig)))
    yield cluster
    cluster.close()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("pods", ("", "v1", "pods", "Pod", True)),
        ("po", ("", "v1", "pods", "Pod", True)),
        ("pod", ("", "v1", "pods", "Pod", True)),
        ("deploy", ("apps", "v1", "deployments", "Deployment", True)),
        ("deployments.apps", ("apps", "v1", "deployments", "Deployment", True)),
        (
            "customresourcedefinitions",
            ("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", False),
        ),
        ("ns", ("", "v1", "namespaces", "Namespace", False)),
        ("events", ("", "v1", "events", "Event", True)),
    ],
)
def test_discovery_resolves_names_like_kubectl(cluster, name, expected):
    info = cluster.discovery.resolve(name)
    assert (info.group, info.version, info.resource, info.kind, info.namespaced) == expected


def test_unknown_names_and_plurals_of_short_names_do_not_resolve(cluster):
    assert cluster.discovery.resolve("widgets.example.com") is None
    assert cluster.discovery.resolve("pos") is None


def test_plain_dict_crud_and_status_errors(cluster, sandbox):
    assert isinstance(cluster, ClusterReader)
    assert cluster.get("configmaps", "missing", "default") is None
    obj = configmap("c", "default")
    for key in ("uid", "resourceVersion", "creationTimestamp"):
        obj["metadata"].pop(key)
    created = cluster.create("configmaps", obj)
    assert created["metadata"]["uid"]
    with pytest.raises(ApiError) as caught:
        cluster.create("cm", obj)
    assert (caught.value.code, caught.value.reason) == (409, "AlreadyExists")
    assert str(caught.value) == 'configmaps "c" already exists'
    patched = cluster.patch("configmaps", "c", {"data": {"key": "new"}}, "default")
    assert patched["data"] == {"key": "new"}
    assert [o["kind"] for o in cluster.list("configmaps", "default", label_selector="missing=label")] == []
    listed = cluster.list("configmaps", "default")
    assert {"c"} <= {o["metadata"]["name"] for o in listed} and listed[0]["kind"] == "ConfigMap"
    cluster.delete("configmaps", "c", "default")
    assert sandbox.get("configmaps", "c", "default") is None


def test_a_missing_namespace_is_a_not_found_status(cluster):
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "nowhere"}}
    with pytest.raises(ApiError) as caught:
        cluster.create("configmaps", obj)
    assert caught.value.not_found and str(caught.value) == 'namespaces "nowhere" not found'
