"""Object CRUD with the API server's codes, reasons, messages and metadata rules."""

from __future__ import annotations

import pytest
from kubernetes import client, dynamic

from restoreflow.sandbox import Sandbox
from tests.sandbox.helpers import api_error, raw, status_of


def configmap(name: str, **labels: str) -> dict:
    return {"metadata": {"name": name, "labels": labels}, "data": {"k": "v"}}


def test_create_fills_system_fields_and_get_returns_the_object(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_config_map("default", configmap("app", tier="web"))
    assert created.metadata.uid and created.metadata.creation_timestamp
    assert created.metadata.namespace == "default"
    assert created.metadata.generation is None  # only kinds with a spec controllers act on carry one
    fetched = core.read_namespaced_config_map("app", "default")
    assert fetched.data == {"k": "v"} and fetched.metadata.labels == {"tier": "web"}
    assert fetched.metadata.resource_version == created.metadata.resource_version


def test_create_answers_201_with_the_object(api: client.ApiClient) -> None:
    code, body = raw(api, "POST", "/api/v1/namespaces/default/secrets", {"metadata": {"name": "s"}})
    assert code == 201
    assert (body["kind"], body["apiVersion"], body["type"]) == ("Secret", "v1", "Opaque")


def test_resource_versions_grow_with_every_write_across_the_store(core: client.CoreV1Api) -> None:
    first = core.create_namespaced_config_map("default", configmap("a"))
    second = core.create_namespaced_secret("kube-system", {"metadata": {"name": "b"}})
    third = core.patch_namespaced_config_map("a", "default", {"data": {"k": "w"}})
    versions = [int(o.metadata.resource_version) for o in (first, second, third)]
    assert versions == sorted(versions) and len(set(versions)) == 3
    listed = core.list_namespaced_config_map("default")
    assert int(listed.metadata.resource_version) >= versions[-1]


def test_already_exists(core: client.CoreV1Api) -> None:
    core.create_namespaced_config_map("default", configmap("dup"))
    error = api_error(lambda: core.create_namespaced_config_map("default", configmap("dup")))
    assert error.status == 409
    assert status_of(error) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'configmaps "dup" already exists', "reason": "AlreadyExists",
        "details": {"name": "dup", "kind": "configmaps"}, "code": 409,
    }  # fmt: skip


def test_already_exists_names_the_group(apps: client.AppsV1Api) -> None:
    body = {
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "x"}]},
            },
        },
    }
    apps.create_namespaced_deployment("default", body)
    status = status_of(api_error(lambda: apps.create_namespaced_deployment("default", body)))
    assert status["message"] == 'deployments.apps "web" already exists'
    assert status["details"] == {"name": "web", "group": "apps", "kind": "deployments"}


def test_not_found_object_and_missing_namespace(core: client.CoreV1Api) -> None:
    error = api_error(lambda: core.read_namespaced_pod("ghost", "default"))
    assert error.status == 404 and status_of(error)["message"] == 'pods "ghost" not found'
    error = api_error(lambda: core.create_namespaced_config_map("nowhere", configmap("x")))
    status = status_of(error)
    assert (error.status, status["reason"], status["message"]) == (
        404,
        "NotFound",
        'namespaces "nowhere" not found',
    )
    assert status["details"] == {"name": "nowhere", "kind": "namespaces"}


def test_invalid_name_is_422_with_the_validation_message(core: client.CoreV1Api) -> None:
    error = api_error(lambda: core.create_namespaced_config_map("default", configmap("Bad_Name")))
    status = status_of(error)
    assert error.status == 422 and status["reason"] == "Invalid"
    assert status["message"] == (
        'ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": '
        "a lowercase RFC 1123 subdomain "
        "must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an "
        "alphanumeric character (e.g. 'example.com', regex used for validation is "
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    )
    assert status["details"]["causes"][0]["field"] == "metadata.name"
    assert status["details"]["causes"][0]["reason"] == "FieldValueInvalid"


def test_invalid_label_value_and_key(core: client.CoreV1Api) -> None:
    status = status_of(
        api_error(lambda: core.create_namespaced_config_map("default", configmap("x", app="a b")))
    )
    assert status["message"] == (
        'ConfigMap "x" is invalid: metadata.labels: Invalid value: "a b": '
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
        "and must start and end with an alphanumeric character "
        "(e.g. 'MyValue',  or 'my_value',  or '12345', "
        "regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
    )
    long_value = "v" * 64
    status = status_of(
        api_error(lambda: core.create_namespaced_config_map("default", configmap("x", a=long_value)))
    )
    assert status["message"] == (
        f'ConfigMap "x" is invalid: metadata.labels: Invalid value: "{long_value}": '
        "must be no more than 63 characters"
    )
    bad_key = {"metadata": {"name": "x", "labels": {"bad key": "v"}}}
    status = status_of(api_error(lambda: core.create_namespaced_config_map("default", bad_key)))
    assert status["message"].startswith(
        'ConfigMap "x" is invalid: metadata.labels: Invalid value: "bad key": name part must consist of '
    )


def test_service_and_namespace_names_follow_their_own_rules(core: client.CoreV1Api) -> None:
    service = {"metadata": {"name": "1web"}, "spec": {"ports": [{"port": 80}]}}
    status = status_of(api_error(lambda: core.create_namespaced_service("default", service)))
    assert (
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic"
        in (status["message"])
    )
    status = status_of(api_error(lambda: core.create_namespace({"metadata": {"name": "a.b"}})))
    assert status["message"].startswith(
        'Namespace "a.b" is invalid: metadata.name: Invalid value: "a.b": a lowercase'
    )


def test_generate_name(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_config_map("default", {"metadata": {"generateName": "job-"}})
    assert created.metadata.name.startswith("job-") and len(created.metadata.name) == len("job-") + 5
    assert created.metadata.generate_name == "job-"


def test_update_with_stale_resource_version_conflicts(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_config_map("default", configmap("cm"))
    core.patch_namespaced_config_map("cm", "default", {"data": {"k": "new"}})
    created.data = {"k": "mine"}
    error = api_error(lambda: core.replace_namespaced_config_map("cm", "default", created))
    status = status_of(error)
    assert (error.status, status["reason"]) == (409, "Conflict")
    assert status["message"] == (
        'Operation cannot be fulfilled on configmaps "cm": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )


def test_update_with_current_version_and_unconditional_update(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_config_map("default", configmap("cm"))
    created.data = {"k": "v2"}
    updated = core.replace_namespaced_config_map("cm", "default", created)
    assert updated.data == {"k": "v2"}
    assert int(updated.metadata.resource_version) > int(created.metadata.resource_version)
    updated.metadata.resource_version = None
    updated.data = {"k": "v3"}
    assert core.replace_namespaced_config_map("cm", "default", updated).data == {"k": "v3"}


def test_update_that_changes_nothing_keeps_the_resource_version(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_config_map("default", configmap("cm"))
    same = core.replace_namespaced_config_map("cm", "default", created)
    assert same.metadata.resource_version == created.metadata.resource_version


def test_uid_and_creation_timestamp_cannot_be_changed(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_config_map("default", {"metadata": {"name": "cm", "uid": "mine"}})
    assert created.metadata.uid != "mine"
    error = api_error(
        lambda: core.patch_namespaced_config_map("cm", "default", {"metadata": {"uid": "other"}})
    )
    assert (error.status, status_of(error)["message"]) == (
        422,
        'ConfigMap "cm" is invalid: metadata.uid: Invalid value: "other": field is immutable',
    )
    body = {"metadata": {"name": "cm", "uid": "other"}}
    error = api_error(lambda: core.replace_namespaced_config_map("cm", "default", body))
    assert (error.status, status_of(error)["reason"]) == (409, "Conflict")
    assert status_of(error)["message"] == (
        'Operation cannot be fulfilled on configmaps "cm": Precondition failed: '
        f"UID in precondition: other, UID in object meta: {created.metadata.uid}"
    )
    stamp = "2001-01-01T00:00:00Z"
    patched = core.patch_namespaced_config_map("cm", "default", {"metadata": {"creationTimestamp": stamp}})
    assert patched.metadata.creation_timestamp == created.metadata.creation_timestamp


def test_dry_run_validates_but_stores_nothing(sandbox: Sandbox, core: client.CoreV1Api) -> None:
    preview = core.create_namespaced_config_map("default", configmap("dry"), dry_run="All")
    assert preview.metadata.name == "dry" and preview.metadata.uid
    assert sandbox.get("configmaps", "dry", "default") is None
    error = api_error(lambda: core.create_namespaced_config_map("default", configmap("Dry"), dry_run="All"))
    assert error.status == 422
    core.create_namespaced_config_map("default", configmap("real"))
    patched = core.patch_namespaced_config_map("real", "default", {"data": {"k": "x"}}, dry_run="All")
    assert patched.data == {"k": "x"}
    assert sandbox.get("configmaps", "real", "default")["data"] == {"k": "v"}
    assert [r["dry_run"] for r in sandbox.requests() if r["verb"] in ("create", "patch")] == [
        True,
        True,
        False,
        True,
    ]


def test_list_with_label_and_field_selectors(core: client.CoreV1Api) -> None:
    for name, tier in (("a", "web"), ("b", "db"), ("c", "web")):
        core.create_namespaced_config_map("default", configmap(name, tier=tier))
    core.create_namespaced_config_map("kube-public", configmap("d", tier="web"))

    def names(items: list) -> list[str]:
        return [i.metadata.name for i in items]

    assert names(core.list_namespaced_config_map("default", label_selector="tier=web").items) == ["a", "c"]
    assert names(core.list_namespaced_config_map("default", label_selector="tier!=web,tier").items) == ["b"]
    assert names(core.list_namespaced_config_map("default", label_selector="tier in (db, x)").items) == ["b"]
    assert names(core.list_namespaced_config_map("default", label_selector="!tier").items) == [
        "kube-root-ca.crt"
    ]
    everywhere = core.list_config_map_for_all_namespaces(label_selector="tier=web").items
    assert [(i.metadata.namespace, i.metadata.name) for i in everywhere] == [
        ("default", "a"), ("default", "c"), ("kube-public", "d"),
    ]  # fmt: skip
    assert names(core.list_namespaced_config_map("default", field_selector="metadata.name=b").items) == ["b"]
    selected = core.list_config_map_for_all_namespaces(field_selector="metadata.namespace=kube-public").items
    assert names(selected) == ["d", "kube-root-ca.crt"]
    error = api_error(lambda: core.list_namespaced_config_map("default", field_selector="data.k=v"))
    assert (error.status, status_of(error)["message"]) == (400, "field label not supported: data.k")


def test_list_pages_with_limit_and_continue(core: client.CoreV1Api) -> None:
    for i in range(5):
        core.create_namespaced_config_map("kube-public", configmap(f"cm-{i}"))
    first = core.list_namespaced_config_map("kube-public", limit=4)
    assert len(first.items) == 4 and first.metadata.remaining_item_count == 2
    rest = core.list_namespaced_config_map("kube-public", limit=4, _continue=first.metadata._continue)
    names = [i.metadata.name for i in first.items + rest.items]
    assert names == ["cm-0", "cm-1", "cm-2", "cm-3", "cm-4", "kube-root-ca.crt"]
    assert not rest.metadata._continue


def test_builtin_list_items_have_no_kind_custom_ones_do(api: client.ApiClient) -> None:
    _, listed = raw(api, "GET", "/api/v1/namespaces/default/configmaps")
    assert listed["kind"] == "ConfigMapList" and listed["apiVersion"] == "v1"
    assert "kind" not in listed["items"][0] and listed["items"][0]["metadata"]["name"] == "kube-root-ca.crt"


def test_patch_flavours(core: client.CoreV1Api, api: client.ApiClient) -> None:
    core.create_namespaced_config_map("default", {"metadata": {"name": "cm", "labels": {"a": "1", "b": "2"}}})
    merged = core.patch_namespaced_config_map(
        "cm", "default", {"metadata": {"labels": {"a": None, "c": "3"}}}
    )
    assert merged.metadata.labels == {"b": "2", "c": "3"}
    path = "/api/v1/namespaces/default/configmaps/cm"
    ops = [
        {"op": "add", "path": "/data", "value": {"x": "y"}},
        {"op": "replace", "path": "/metadata/labels/b", "value": "9"},
    ]
    code, body = raw(api, "PATCH", path, ops, "application/json-patch+json")
    assert code == 200 and body["data"] == {"x": "y"} and body["metadata"]["labels"]["b"] == "9"
    code, body = raw(api, "PATCH", path, [{"op": "remove", "path": "/spec"}], "application/json-patch+json")
    assert (code, body["reason"]) == (422, "Invalid")
    code, body = raw(api, "PATCH", path, {"data": {"x": "z"}}, "application/json")
    assert code == 415 and body["reason"] == "UnsupportedMediaType"
    assert body["message"] == (
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, "
        "application/strategic-merge-patch+json, application/apply-patch+yaml"
    )


def test_strategic_merge_patch_merges_containers_by_name(
    core: client.CoreV1Api, api: client.ApiClient
) -> None:
    pod = {
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]},
    }
    core.create_namespaced_pod("default", pod)
    patch = {"spec": {"containers": [{"name": "b", "image": "b:2"}]}, "metadata": {"finalizers": ["x.io/y"]}}
    code, body = raw(
        api, "PATCH", "/api/v1/namespaces/default/pods/p", patch, "application/strategic-merge-patch+json"
    )
    assert code == 200
    assert [(c["name"], c["image"]) for c in body["spec"]["containers"]] == [("a", "a:1"), ("b", "b:2")]
    assert body["metadata"]["finalizers"] == ["x.io/y"]


def test_status_subresource_is_separate_from_the_main_resource(core: client.CoreV1Api) -> None:
    core.create_namespaced_persistent_volume_claim(
        "default",
        {"metadata": {"name": "c"}, "spec": {"storageClassName": "", "accessModes": ["ReadWriteOnce"],
                                             "resources": {"requests": {"storage": "1Gi"}}}},
    )  # fmt: skip
    patched = core.patch_namespaced_persistent_volume_claim("c", "default", {"status": {"phase": "Lost"}})
    assert patched.status.phase == "Pending"
    status = core.patch_namespaced_persistent_volume_claim_status(
        "c", "default", {"status": {"phase": "Lost"}}
    )
    assert status.status.phase == "Lost"
    assert core.read_namespaced_persistent_volume_claim_status("c", "default").status.phase == "Lost"


def test_generation_counts_spec_changes_only(apps: client.AppsV1Api) -> None:
    body = {
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "x"}]},
            },
        },
    }
    apps.create_namespaced_deployment("default", body)
    assert (
        apps.patch_namespaced_deployment(
            "web", "default", {"metadata": {"labels": {"a": "b"}}}
        ).metadata.generation
        == 1
    )
    assert (
        apps.patch_namespaced_deployment("web", "default", {"spec": {"replicas": 2}}).metadata.generation == 2
    )


def test_delete_answers_success_status(api: client.ApiClient, core: client.CoreV1Api) -> None:
    created = core.create_namespaced_config_map("default", configmap("gone"))
    code, body = raw(api, "DELETE", "/api/v1/namespaces/default/configmaps/gone")
    assert code == 200
    assert body["status"] == "Success" and body["details"] == {
        "name": "gone",
        "kind": "configmaps",
        "uid": created.metadata.uid,
    }
    assert api_error(lambda: core.delete_namespaced_config_map("gone", "default")).status == 404


def test_finalizers_hold_a_deleted_object_until_removed(sandbox: Sandbox, core: client.CoreV1Api) -> None:
    core.create_namespaced_config_map(
        "default", {"metadata": {"name": "held", "finalizers": ["example.com/keep"]}}
    )
    core.delete_namespaced_config_map("held", "default")
    held = core.read_namespaced_config_map("held", "default")
    assert held.metadata.deletion_timestamp is not None
    core.patch_namespaced_config_map("held", "default", {"metadata": {"finalizers": None}})
    assert sandbox.get("configmaps", "held", "default") is None


def test_delete_preconditions(core: client.CoreV1Api) -> None:
    core.create_namespaced_config_map("default", configmap("cm"))
    options = client.V1DeleteOptions(preconditions=client.V1Preconditions(uid="not-it"))
    error = api_error(lambda: core.delete_namespaced_config_map("cm", "default", body=options))
    assert (
        error.status == 409
        and "Precondition failed: UID in precondition: not-it" in status_of(error)["message"]
    )


def test_cluster_scoped_objects(core: client.CoreV1Api) -> None:
    node = core.read_node("node-1")
    assert node.status.conditions[0].type == "Ready"
    assert [n.metadata.name for n in core.list_node().items] == ["node-1"]


def test_load_bypasses_admission_and_objects_inspects(sandbox: Sandbox, core: client.CoreV1Api) -> None:
    sandbox.load(
        [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "pre", "namespace": "kube-system"}}]
    )
    assert core.read_namespaced_config_map("pre", "kube-system").metadata.uid
    names = [o["metadata"]["name"] for o in sandbox.objects("configmaps", "kube-system")]
    assert names == ["kube-root-ca.crt", "pre"]
    assert {o["kind"] for o in sandbox.objects(namespace="default")} >= {
        "ConfigMap",
        "ServiceAccount",
        "Service",
    }


@pytest.mark.parametrize("verb", ["create", "get", "list", "patch", "delete"])
def test_request_log_names_kubernetes_verbs(sandbox: Sandbox, dyn: dynamic.DynamicClient, verb: str) -> None:
    secrets = dyn.resources.get(api_version="v1", kind="Secret")
    secrets.create(namespace="default", body={"metadata": {"name": "s"}})
    sandbox.clear_requests()
    calls = {
        "create": lambda: secrets.create(namespace="default", body={"metadata": {"name": "t"}}),
        "get": lambda: secrets.get(name="s", namespace="default"),
        "list": lambda: secrets.get(namespace="default"),
        "patch": lambda: secrets.patch(name="s", namespace="default", body={"data": {}},
                                       content_type="application/merge-patch+json"),
        "delete": lambda: secrets.delete(name="s", namespace="default"),
    }  # fmt: skip
    calls[verb]()
    (entry,) = sandbox.requests()
    assert (entry["verb"], entry["resource"], entry["namespace"]) == (verb, "secrets", "default")
    assert entry["code"] in (200, 201) and entry["time"] > 0


def test_secret_string_data_is_folded_into_data(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_secret(
        "default", {"metadata": {"name": "s"}, "stringData": {"user": "admin"}}
    )
    assert created.data == {"user": "YWRtaW4="} and created.string_data is None


def test_immutable_config_map_data_cannot_change(core: client.CoreV1Api) -> None:
    core.create_namespaced_config_map(
        "default", {"metadata": {"name": "fixed"}, "data": {"k": "v"}, "immutable": True}
    )
    error = api_error(lambda: core.patch_namespaced_config_map("fixed", "default", {"data": {"k": "w"}}))
    assert status_of(error)["message"] == (
        'ConfigMap "fixed" is invalid: data: Forbidden: field is immutable when `immutable` is set'
    )
    labelled = core.patch_namespaced_config_map("fixed", "default", {"metadata": {"labels": {"a": "b"}}})
    assert labelled.metadata.labels == {"a": "b"}


def test_config_keys_are_validated(core: client.CoreV1Api) -> None:
    error = api_error(
        lambda: core.create_namespaced_config_map(
            "default", {"metadata": {"name": "c"}, "data": {"a b": "v"}}
        )
    )
    assert status_of(error)["message"] == (
        'ConfigMap "c" is invalid: data[a b]: Invalid value: "a b": a valid config key must consist of '
        "alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', "
        "regex used for validation is '[-._a-zA-Z0-9]+')"
    )


def test_secret_data_that_is_not_base64_cannot_be_decoded(core: client.CoreV1Api) -> None:
    body = {"metadata": {"name": "s"}, "data": {"password": "not base64!"}}
    error = api_error(lambda: core.create_namespaced_secret("default", body))
    assert (error.status, status_of(error)["reason"]) == (400, "BadRequest")
    assert status_of(error)["message"] == (
        'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 3'
    )
