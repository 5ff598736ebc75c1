"""Namespaces (system ones, controller-made defaults, termination) and CRDs (Established, then served)."""

from __future__ import annotations

import pytest
from kubernetes import client, dynamic

from restoreflow.sandbox import Sandbox
from restoreflow.sandbox.crds import crd
from tests.sandbox.helpers import api_error, eventually, raw, status_of


def test_system_namespaces_and_the_kubernetes_service(core: client.CoreV1Api) -> None:
    namespaces = core.list_namespace().items
    assert [n.metadata.name for n in namespaces] == [
        "default",
        "kube-node-lease",
        "kube-public",
        "kube-system",
    ]
    assert {n.status.phase for n in namespaces} == {"Active"}
    service = core.read_namespaced_service("kubernetes", "default")
    assert service.spec.cluster_ip == "10.96.0.1" and service.spec.ports[0].port == 443


def test_new_namespace_gets_default_service_account_and_root_ca(
    sandbox: Sandbox, core: client.CoreV1Api
) -> None:
    created = core.create_namespace({"metadata": {"name": "shop"}})
    assert created.status.phase == "Active" and created.spec.finalizers == ["kubernetes"]
    assert created.metadata.labels == {"kubernetes.io/metadata.name": "shop"}
    eventually(lambda: sandbox.get("serviceaccounts", "default", "shop"))
    eventually(lambda: sandbox.get("configmaps", "kube-root-ca.crt", "shop"))
    error = api_error(
        lambda: core.create_namespaced_service_account("shop", {"metadata": {"name": "default"}})
    )
    assert status_of(error)["message"] == 'serviceaccounts "default" already exists'


@pytest.mark.sandbox(namespace_setup_delay=0.3)
def test_service_account_created_first_is_left_alone_by_the_controller(
    sandbox: Sandbox, core: client.CoreV1Api
) -> None:
    core.create_namespace({"metadata": {"name": "shop"}})
    mine = core.create_namespaced_service_account(
        "shop", {"metadata": {"name": "default", "labels": {"mine": "yes"}}}
    )
    eventually(lambda: sandbox.get("configmaps", "kube-root-ca.crt", "shop"))
    assert core.read_namespaced_service_account("default", "shop").metadata.uid == mine.metadata.uid


@pytest.mark.sandbox(namespace_termination_delay=0.3)
def test_terminating_namespace_refuses_content_then_disappears_with_it(
    sandbox: Sandbox, core: client.CoreV1Api
) -> None:
    core.create_namespace({"metadata": {"name": "old"}})
    core.create_namespaced_config_map("old", {"metadata": {"name": "cm"}})
    core.delete_namespace("old")
    terminating = core.read_namespace("old")
    assert terminating.status.phase == "Terminating" and terminating.metadata.deletion_timestamp is not None
    error = api_error(lambda: core.create_namespaced_config_map("old", {"metadata": {"name": "new"}}))
    status = status_of(error)
    assert (error.status, status["reason"]) == (403, "Forbidden")
    assert status["message"] == (
        'configmaps "new" is forbidden: '
        "unable to create new content in namespace old because it is being terminated"
    )
    assert status["details"]["causes"] == [
        {
            "reason": "NamespaceTerminating",
            "message": "namespace old is being terminated",
            "field": "metadata.namespace",
        }
    ]
    eventually(lambda: sandbox.get("namespaces", "old") is None)
    assert sandbox.objects(namespace="old") == []
    assert core.create_namespace({"metadata": {"name": "old"}}).status.phase == "Active"


def test_system_namespaces_may_not_be_deleted(core: client.CoreV1Api) -> None:
    error = api_error(lambda: core.delete_namespace("kube-system"))
    status = status_of(error)
    assert (error.status, status["reason"]) == (403, "Forbidden")
    assert status["message"] == 'namespaces "kube-system" is forbidden: this namespace may not be deleted'


def widget_crd(**kw: object) -> dict:
    return crd("example.com", "Widget", "widgets", short_names=("wd",), status=True, **kw)  # type: ignore[arg-type]


def widget(name: str) -> dict:
    return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": name}, "spec": {"size": 1}}


@pytest.mark.sandbox(crd_establish_delay=0.2)
def test_crd_is_served_once_established(api: client.ApiClient) -> None:
    ext = client.ApiextensionsV1Api(api)
    objects = client.CustomObjectsApi(api)
    ext.create_custom_resource_definition(widget_crd())
    early = api_error(
        lambda: objects.create_namespaced_custom_object(
            "example.com", "v1", "default", "widgets", widget("w")
        )
    )
    assert early.status == 404
    established = eventually(
        lambda: {
            c.type: c.status
            for c in ext.read_custom_resource_definition("widgets.example.com").status.conditions or []
        }
    )
    assert established == {"NamesAccepted": "True", "Established": "True"}
    created = objects.create_namespaced_custom_object("example.com", "v1", "default", "widgets", widget("w"))
    assert created["metadata"]["uid"] and created["spec"] == {"size": 1}
    resource = dynamic.DynamicClient(api).resources.get(api_version="example.com/v1", kind="Widget")
    assert resource.namespaced and resource.short_names == ["wd"]


def test_custom_resources_status_subresource_and_patches(sandbox: Sandbox, api: client.ApiClient) -> None:
    sandbox.load([widget_crd()])
    objects = client.CustomObjectsApi(api)
    body = widget("w") | {"status": {"ready": True}}
    created = objects.create_namespaced_custom_object("example.com", "v1", "default", "widgets", body)
    assert "status" not in created
    objects.patch_namespaced_custom_object_status(
        "example.com", "v1", "default", "widgets", "w", {"status": {"ready": True}}
    )
    assert sandbox.get("widgets.example.com", "w", "default")["status"] == {"ready": True}
    code, status = raw(api, "PATCH", "/apis/example.com/v1/namespaces/default/widgets/w", {"spec": {}},
                       "application/strategic-merge-patch+json")  # fmt: skip
    assert (code, status["reason"]) == (415, "UnsupportedMediaType")
    assert status["message"] == (
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
    )
    stale = dict(created)
    stale["metadata"] = {k: v for k, v in created["metadata"].items() if k != "resourceVersion"}
    error = api_error(
        lambda: objects.replace_namespaced_custom_object(
            "example.com", "v1", "default", "widgets", "w", stale
        )
    )
    assert status_of(error)["message"] == (
        'Widget.example.com "w" is invalid: '
        "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update"
    )


def test_crd_name_must_match_its_names(api: client.ApiClient) -> None:
    bad = widget_crd()
    bad["metadata"]["name"] = "gadgets.example.com"
    error = api_error(lambda: client.ApiextensionsV1Api(api).create_custom_resource_definition(bad))
    assert status_of(error)["message"] == (
        'CustomResourceDefinition.apiextensions.k8s.io "gadgets.example.com" is invalid: metadata.name: '
        'Invalid value: "gadgets.example.com": must be spec.names.plural+"."+spec.group'
    )


def test_deleting_a_crd_removes_its_objects_and_unserves_it(sandbox: Sandbox, api: client.ApiClient) -> None:
    sandbox.load([widget_crd()])
    objects = client.CustomObjectsApi(api)
    objects.create_namespaced_custom_object("example.com", "v1", "default", "widgets", widget("w"))
    client.ApiextensionsV1Api(api).delete_custom_resource_definition("widgets.example.com")
    eventually(
        lambda: sandbox.get("customresourcedefinitions.apiextensions.k8s.io", "widgets.example.com") is None
    )
    assert sandbox.objects("widgets.example.com") == []
    assert raw(api, "GET", "/apis/example.com/v1")[0] == 404


def test_multi_version_crd_serves_every_version_and_prefers_ga(
    sandbox: Sandbox, api: client.ApiClient
) -> None:
    sandbox.load([crd("example.com", "Gadget", "gadgets", versions=("v1beta1", "v1"))])
    group = client.ApisApi(api).get_api_versions().groups
    (example,) = [g for g in group if g.name == "example.com"]
    assert example.preferred_version.version == "v1"
    objects = client.CustomObjectsApi(api)
    body = {"apiVersion": "example.com/v1beta1", "kind": "Gadget", "metadata": {"name": "g"}}
    objects.create_namespaced_custom_object("example.com", "v1beta1", "default", "gadgets", body)
    assert objects.get_namespaced_custom_object("example.com", "v1", "default", "gadgets", "g")[
        "apiVersion"
    ] == ("example.com/v1")


def test_custom_resources_are_pruned_to_their_schema(sandbox: Sandbox, api: client.ApiClient) -> None:
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "size": {"type": "integer"},
                    "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                },
            }
        },
    }
    definition = crd("example.com", "Gizmo", "gizmos")
    definition["spec"]["versions"][0]["schema"] = {"openAPIV3Schema": schema}
    sandbox.load([definition])
    body = {
        "apiVersion": "example.com/v1",
        "kind": "Gizmo",
        "metadata": {"name": "g", "labels": {"a": "b"}},
        "spec": {"size": 3, "colour": "red", "extra": {"anything": {"goes": 1}}},
        "top": "level",
    }
    created = client.CustomObjectsApi(api).create_namespaced_custom_object(
        "example.com", "v1", "default", "gizmos", body
    )
    assert created["spec"] == {"size": 3, "extra": {"anything": {"goes": 1}}}
    assert "top" not in created and created["metadata"]["labels"] == {"a": "b"}


def test_v1_crd_may_not_preserve_unknown_fields_at_the_top(api: client.ApiClient) -> None:
    definition = widget_crd()
    definition["spec"]["preserveUnknownFields"] = True
    error = api_error(lambda: client.ApiextensionsV1Api(api).create_custom_resource_definition(definition))
    assert status_of(error)["message"] == (
        'CustomResourceDefinition.apiextensions.k8s.io "widgets.example.com" is invalid: '
        "spec.preserveUnknownFields: Invalid value: true: cannot set to true, "
        "set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead"
    )
