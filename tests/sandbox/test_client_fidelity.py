"""What the official client's typed APIs see: every list deserialises, server-side apply, the defaults
and generated fields of each kind, delete options and garbage collection, eviction, PUT-creates."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from kubernetes import client, dynamic, watch

from restoreflow.sandbox import Sandbox
from tests.sandbox.helpers import api_error, eventually, status_of

TYPED_APIS = (
    "CoreV1Api", "AppsV1Api", "BatchV1Api", "RbacAuthorizationV1Api", "NetworkingV1Api", "StorageV1Api",
    "PolicyV1Api", "SchedulingV1Api", "ApiextensionsV1Api", "AdmissionregistrationV1Api",
    "ApiregistrationV1Api", "AutoscalingV1Api", "AutoscalingV2Api", "CoordinationV1Api", "DiscoveryV1Api",
    "EventsV1Api", "NodeV1Api",
)  # fmt: skip
# Newer than the served Kubernetes version (1.33) or long removed from it.
NOT_SERVED = (
    "list_component_status",
    "list_volume_attributes_class",
    "list_mutating_admission_policy",
    "list_mutating_admission_policy_binding",
)


def _list_methods() -> list[tuple[str, str]]:
    found = []
    for api_name in TYPED_APIS:
        for method in dir(getattr(client, api_name)):
            wrapper = method.endswith(("_with_http_info", "_preload_content"))
            if method.startswith("list_") and not wrapper and method not in NOT_SERVED:
                found.append((api_name, method))
    return found


def test_every_typed_list_deserialises_with_kind_version_and_metadata(api: client.ApiClient) -> None:
    methods = _list_methods()
    assert len(methods) > 60
    for api_name, method in methods:
        call = getattr(getattr(client, api_name)(api), method)
        listed = call("default") if "namespace" in inspect.signature(call).parameters else call()
        assert listed.kind.endswith("List"), (api_name, method)
        assert listed.api_version and listed.metadata.resource_version, (api_name, method)


def test_new_objects_of_kinds_with_required_status_fields_deserialise(api: client.ApiClient) -> None:
    v2 = client.AutoscalingV2Api(api)
    hpa = {
        "metadata": {"name": "h"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "d"},
            "maxReplicas": 3,
        },
    }
    assert v2.create_namespaced_horizontal_pod_autoscaler("default", hpa).status.desired_replicas == 0
    as_v1 = client.AutoscalingV1Api(api).read_namespaced_horizontal_pod_autoscaler("h", "default")
    assert (as_v1.api_version, as_v1.status.current_replicas) == ("autoscaling/v1", 0)
    pdb = {"metadata": {"name": "p"}, "spec": {"minAvailable": 1, "selector": {"matchLabels": {"a": "b"}}}}
    created = client.PolicyV1Api(api).create_namespaced_pod_disruption_budget("default", pdb)
    assert created.status.disruptions_allowed == 0 and created.status.expected_pods == 0
    attachment = {
        "metadata": {"name": "va"},
        "spec": {
            "attacher": "csi.example.com",
            "nodeName": "node-1",
            "source": {"persistentVolumeName": "pv"},
        },
    }
    assert client.StorageV1Api(api).create_volume_attachment(attachment).status.attached is False


def test_server_side_apply_creates_merges_and_drops_what_the_manager_stops_applying(
    dyn: dynamic.DynamicClient,
) -> None:
    config_maps = dyn.resources.get(api_version="v1", kind="ConfigMap")
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "applied", "namespace": "default", "labels": {"a": "1"}},
        "data": {"x": "1", "y": "2"},
    }
    created = config_maps.server_side_apply(body=body, field_manager="restore").to_dict()
    assert created["data"] == {"x": "1", "y": "2"} and created["metadata"]["labels"] == {"a": "1"}
    config_maps.patch(name="applied", namespace="default", body={"data": {"z": "3"}})
    again = dict(body, metadata={"name": "applied", "namespace": "default"}, data={"x": "9"})
    applied = config_maps.server_side_apply(body=again, field_manager="restore").to_dict()
    assert applied["data"] == {"x": "9", "z": "3"}
    assert "labels" not in applied["metadata"]
    assert int(applied["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])


def test_apply_needs_a_field_manager_and_a_matching_name(core: client.CoreV1Api) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}
    apply = "application/apply-patch+yaml"
    error = api_error(lambda: core.patch_namespaced_config_map("a", "default", body, _content_type=apply))
    assert (error.status, status_of(error)["reason"]) == (422, "Invalid")
    assert status_of(error)["message"] == (
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch'
    )
    error = api_error(
        lambda: core.patch_namespaced_config_map("b", "default", body, field_manager="m", _content_type=apply)
    )
    assert error.status == 400
    assert status_of(error)["message"] == (
        "the name of the object (a) does not match the name on the URL (b)"
    )
    made = core.patch_namespaced_config_map("a", "default", body, field_manager="m", _content_type=apply)
    assert made.metadata.name == "a" and made.metadata.uid


def _job(name: str, labels: dict[str, str] | None = None, selector: dict[str, Any] | None = None) -> dict:
    spec: dict[str, Any] = {
        "template": {
            "metadata": {"labels": labels or {}},
            "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]},
        }
    }
    if selector:
        spec["selector"] = selector
    return {"metadata": {"name": name}, "spec": spec}


def test_job_defaults_and_selector_generated_from_its_uid(api: client.ApiClient) -> None:
    job = client.BatchV1Api(api).create_namespaced_job("default", _job("migrate", {"app": "m"}))
    uid = job.metadata.uid
    spec = job.spec
    assert (spec.backoff_limit, spec.completions, spec.parallelism) == (6, 1, 1)
    assert (spec.completion_mode, spec.suspend, spec.pod_replacement_policy) == (
        "NonIndexed",
        False,
        "TerminatingOrFailed",
    )
    assert spec.selector.match_labels == {"batch.kubernetes.io/controller-uid": uid}
    assert spec.template.metadata.labels == {
        "app": "m",
        "batch.kubernetes.io/controller-uid": uid,
        "batch.kubernetes.io/job-name": "migrate",
        "controller-uid": uid,
        "job-name": "migrate",
    }


def test_job_carrying_another_jobs_uid_is_invalid(api: client.ApiClient) -> None:
    old = {"batch.kubernetes.io/controller-uid": "0ld", "controller-uid": "0ld", "job-name": "j"}
    selector = {"matchLabels": {"batch.kubernetes.io/controller-uid": "0ld"}}
    jobs = client.BatchV1Api(api)
    error = api_error(lambda: jobs.create_namespaced_job("default", _job("j", old, selector)))
    body = status_of(error)
    assert (error.status, body["reason"]) == (422, "Invalid")
    fields = [cause["field"] for cause in body["details"]["causes"]]
    assert fields == [
        "spec.template.metadata.labels[controller-uid]",
        "spec.template.metadata.labels[batch.kubernetes.io/controller-uid]",
        "spec.selector",
    ]
    assert body["message"].startswith(
        'Job.batch "j" is invalid: [spec.template.metadata.labels[controller-uid]'
    )
    assert "`selector` not auto-generated" in body["message"]
    manual = _job("m", {"a": "b"}, {"matchLabels": {"a": "b"}})
    manual["spec"]["manualSelector"] = True
    assert jobs.create_namespaced_job("default", manual).spec.selector.match_labels == {"a": "b"}


def test_defaults_of_other_kinds(api: client.ApiClient) -> None:
    storage = client.StorageV1Api(api).create_storage_class(
        {"metadata": {"name": "fast"}, "provisioner": "x"}
    )
    assert (storage.reclaim_policy, storage.volume_binding_mode) == ("Delete", "Immediate")
    priority = client.SchedulingV1Api(api).create_priority_class({"metadata": {"name": "hi"}, "value": 10})
    assert priority.preemption_policy == "PreemptLowerPriority"
    policy = client.NetworkingV1Api(api).create_namespaced_network_policy(
        "default",
        {"metadata": {"name": "np"}, "spec": {"podSelector": {}, "egress": [{"ports": [{"port": 53}]}]}},
    )
    assert policy.spec.policy_types == ["Ingress", "Egress"]
    assert policy.spec.egress[0].ports[0].protocol == "TCP"
    cron = client.BatchV1Api(api).create_namespaced_cron_job(
        "default",
        {
            "metadata": {"name": "cj"},
            "spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": _job("x")["spec"]}},
        },
    )
    assert (cron.spec.concurrency_policy, cron.spec.suspend) == ("Allow", False)
    assert (cron.spec.successful_jobs_history_limit, cron.spec.failed_jobs_history_limit) == (3, 1)
    hook = (
        client.AdmissionregistrationV1Api(api)
        .create_validating_webhook_configuration(
            {
                "metadata": {"name": "v"},
                "webhooks": [
                    {
                        "name": "v.example.com",
                        "admissionReviewVersions": ["v1"],
                        "sideEffects": "None",
                        "clientConfig": {"service": {"namespace": "default", "name": "s"}},
                        "rules": [
                            {
                                "apiGroups": [""],
                                "apiVersions": ["v1"],
                                "operations": ["CREATE"],
                                "resources": ["pods"],
                            }
                        ],
                    }
                ],
            }
        )
        .webhooks[0]
    )
    assert (hook.failure_policy, hook.match_policy, hook.timeout_seconds) == ("Fail", "Equivalent", 10)
    assert (hook.rules[0].scope, hook.client_config.service.port) == ("*", 443)


def test_pod_port_protocol_and_volume_modes_are_defaulted(core: client.CoreV1Api) -> None:
    pod = {
        "metadata": {"name": "p"},
        "spec": {
            "containers": [{"name": "c", "image": "nginx:1", "ports": [{"containerPort": 80}]}],
            "volumes": [
                {"name": "cfg", "configMap": {"name": "c"}},
                {"name": "s", "secret": {"secretName": "s"}},
            ],
        },
    }
    created = core.create_namespaced_pod("default", pod)
    assert created.spec.containers[0].ports[0].protocol == "TCP"
    assert created.spec.volumes[0].config_map.default_mode == 420
    assert created.spec.volumes[1].secret.default_mode == 420


def _owned(core: client.CoreV1Api, name: str, owner: client.V1ConfigMap) -> None:
    reference = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": owner.metadata.name,
        "uid": owner.metadata.uid,
    }
    core.create_namespaced_config_map("default", {"metadata": {"name": name, "ownerReferences": [reference]}})


def _names(core: client.CoreV1Api) -> set[str]:
    return {c.metadata.name for c in core.list_namespaced_config_map("default").items} - {"kube-root-ca.crt"}


def test_background_deletion_takes_the_dependents(core: client.CoreV1Api) -> None:
    owner = core.create_namespaced_config_map("default", {"metadata": {"name": "owner"}})
    _owned(core, "dependent", owner)
    _owned(core, "grandchild", core.read_namespaced_config_map("dependent", "default"))
    core.delete_namespaced_config_map("owner", "default", propagation_policy="Background")
    eventually(lambda: _names(core) == set())


def test_foreground_deletion_holds_the_owner_until_its_dependents_are_gone(core: client.CoreV1Api) -> None:
    owner = core.create_namespaced_config_map("default", {"metadata": {"name": "owner"}})
    _owned(core, "dependent", owner)
    answer = core.delete_namespaced_config_map(
        "owner", "default", body=client.V1DeleteOptions(propagation_policy="Foreground")
    )
    assert answer["kind"] == "ConfigMap" and answer["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert answer["metadata"]["deletionTimestamp"]
    eventually(lambda: _names(core) == set())


def test_orphaning_keeps_dependents_without_their_reference(core: client.CoreV1Api) -> None:
    owner = core.create_namespaced_config_map("default", {"metadata": {"name": "owner"}})
    _owned(core, "dependent", owner)
    core.delete_namespaced_config_map("owner", "default", propagation_policy="Orphan")
    assert _names(core) == {"dependent"}
    assert core.read_namespaced_config_map("dependent", "default").metadata.owner_references is None


def test_a_dependent_with_another_live_owner_only_loses_the_reference(core: client.CoreV1Api) -> None:
    first = core.create_namespaced_config_map("default", {"metadata": {"name": "first"}})
    second = core.create_namespaced_config_map("default", {"metadata": {"name": "second"}})
    refs = [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": o.metadata.name, "uid": o.metadata.uid}
        for o in (first, second)
    ]
    core.create_namespaced_config_map("default", {"metadata": {"name": "shared", "ownerReferences": refs}})
    core.delete_namespaced_config_map("first", "default")
    eventually(
        lambda: (
            [r.name for r in core.read_namespaced_config_map("shared", "default").metadata.owner_references]
            == ["second"]
        )
    )


def test_jobs_orphan_their_pods_unless_told_otherwise(api: client.ApiClient, core: client.CoreV1Api) -> None:
    jobs = client.BatchV1Api(api)
    for name, policy in (("kept", None), ("taken", "Background")):
        job = jobs.create_namespaced_job("default", _job(name))
        reference = {"apiVersion": "batch/v1", "kind": "Job", "name": name, "uid": job.metadata.uid}
        pod = {"metadata": {"name": f"{name}-pod", "ownerReferences": [reference]}}
        pod["spec"] = {"containers": [{"name": "c", "image": "busybox"}]}
        core.create_namespaced_pod("default", pod)
        jobs.delete_namespaced_job(name, "default", **({"propagation_policy": policy} if policy else {}))
    eventually(lambda: [p.metadata.name for p in core.list_namespaced_pod("default").items] == ["kept-pod"])


def test_unsupported_propagation_policy_is_invalid(core: client.CoreV1Api) -> None:
    error = api_error(
        lambda: core.delete_namespaced_config_map("kube-root-ca.crt", "default", propagation_policy="Later")
    )
    assert (error.status, status_of(error)["reason"]) == (422, "Invalid")
    assert status_of(error)["message"] == (
        'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "Later": '
        'supported values: "Foreground", "Background", "Orphan", "nil"'
    )


def test_delete_collection_by_label_with_options(core: client.CoreV1Api) -> None:
    for name, team in (("a", "x"), ("b", "x"), ("c", "y")):
        core.create_namespaced_config_map("default", {"metadata": {"name": name, "labels": {"team": team}}})
    gone = core.delete_collection_namespaced_config_map(
        "default", label_selector="team=x", body=client.V1DeleteOptions(propagation_policy="Background")
    )
    assert gone.kind == "ConfigMapList"
    assert _names(core) == {"c"}


def test_eviction_deletes_the_pod(api: client.ApiClient, core: client.CoreV1Api) -> None:
    pod = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    core.create_namespaced_pod("default", pod)
    eviction = client.V1Eviction(metadata=client.V1ObjectMeta(name="p", namespace="default"))
    core.create_namespaced_pod_eviction("p", "default", eviction)
    assert core.list_namespaced_pod("default").items == []
    error = api_error(lambda: core.create_namespaced_pod_eviction("p", "default", eviction))
    assert (error.status, status_of(error)["message"]) == (404, 'pods "p" not found')


@pytest.mark.parametrize("kind", ["roles", "endpoints"])
def test_put_creates_where_kubernetes_allows_create_on_update(
    kind: str, api: client.ApiClient, core: client.CoreV1Api
) -> None:
    if kind == "roles":
        rbac = client.RbacAuthorizationV1Api(api)
        made = rbac.replace_namespaced_role("r", "default", {"metadata": {"name": "r"}, "rules": []})
        assert rbac.read_namespaced_role("r", "default").metadata.uid == made.metadata.uid
    else:
        made = core.replace_namespaced_endpoints("e", "default", {"metadata": {"name": "e"}})
        assert core.read_namespaced_endpoints("e", "default").metadata.uid == made.metadata.uid
    error = api_error(
        lambda: core.replace_namespaced_config_map("nope", "default", {"metadata": {"name": "nope"}})
    )
    assert (error.status, status_of(error)["message"]) == (404, 'configmaps "nope" not found')


def _gadget_crd() -> dict[str, Any]:
    spec_schema = {
        "type": "object",
        "required": ["size"],
        "properties": {
            "size": {"type": "integer", "minimum": 1},
            "color": {"type": "string", "enum": ["red", "blue"]},
            "port": {"x-kubernetes-int-or-string": True},
        },
    }
    version = {
        "name": "v1",
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": spec_schema}}},
    }
    names = {"plural": "gadgets", "singular": "gadget", "kind": "Gadget", "listKind": "GadgetList"}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.example.com"},
        "spec": {"group": "example.com", "scope": "Cluster", "names": names, "versions": [version]},
    }


def test_custom_resources_are_validated_against_their_schema(sandbox: Sandbox, api: client.ApiClient) -> None:
    sandbox.load([_gadget_crd()])
    objects = client.CustomObjectsApi(api)

    def create(name: str, spec: dict[str, Any]) -> dict[str, Any]:
        body = {"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": name}, "spec": spec}
        return objects.create_cluster_custom_object("example.com", "v1", "gadgets", body)

    def message(spec: dict[str, Any]) -> str:
        error = api_error(lambda: create("bad", spec))
        assert (error.status, status_of(error)["reason"]) == (422, "Invalid")
        return status_of(error)["message"]

    prefix = 'Gadget.example.com "bad" is invalid: '
    assert message({"size": "big"}) == (
        prefix + 'spec.size: Invalid value: "string": spec.size in body must be of type integer: "string"'
    )
    assert message({}) == prefix + "spec.size: Required value"
    assert message({"size": 1, "color": "pink"}) == (
        prefix + 'spec.color: Unsupported value: "pink": supported values: "red", "blue"'
    )
    assert message({"size": 0}) == (
        prefix + "spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1"
    )
    assert create("good", {"size": 2, "color": "red", "port": "http"})["spec"]["port"] == "http"
    patched = objects.patch_cluster_custom_object(
        "example.com",
        "v1",
        "gadgets",
        "good",
        [{"op": "replace", "path": "/spec/size", "value": 3}],
        _content_type="application/json-patch+json",
    )
    assert patched["spec"]["size"] == 3 and patched["metadata"]["generation"] == 2
    error = api_error(
        lambda: objects.patch_cluster_custom_object(
            "example.com", "v1", "gadgets", "good", {"spec": {"size": "x"}}
        )
    )
    assert error.status == 422


def test_generation_is_kept_only_by_kinds_that_track_it(
    api: client.ApiClient, core: client.CoreV1Api
) -> None:
    assert core.create_namespaced_secret("default", {"metadata": {"name": "s"}}).metadata.generation is None
    service = {"metadata": {"name": "svc"}, "spec": {"ports": [{"port": 80}]}}
    assert core.create_namespaced_service("default", service).metadata.generation is None
    policy = {"metadata": {"name": "np"}, "spec": {"podSelector": {}}}
    created = client.NetworkingV1Api(api).create_namespaced_network_policy("default", policy)
    assert created.metadata.generation == 1


def test_a_services_cluster_ip_may_not_change(core: client.CoreV1Api) -> None:
    service = {"metadata": {"name": "svc"}, "spec": {"ports": [{"port": 80}]}}
    created = core.create_namespaced_service("default", service)
    moved = {**service, "spec": {"ports": [{"port": 80}], "clusterIP": "10.96.1.1"}}
    error = api_error(lambda: core.replace_namespaced_service("svc", "default", moved))
    assert (error.status, status_of(error)["message"]) == (
        422,
        'Service "svc" is invalid: spec.clusterIPs[0]: Invalid value: ["10.96.1.1"]: may not change once set',
    )
    kept = core.replace_namespaced_service("svc", "default", {**service, "spec": {"ports": [{"port": 81}]}})
    assert kept.spec.cluster_ip == created.spec.cluster_ip and kept.spec.ports[0].port == 81


def test_a_workloads_selector_is_immutable(apps: client.AppsV1Api) -> None:
    template = {
        "metadata": {"labels": {"app": "a", "tier": "web"}},
        "spec": {"containers": [{"name": "c", "image": "x"}]},
    }
    body = {
        "metadata": {"name": "d"},
        "spec": {"selector": {"matchLabels": {"app": "a"}}, "template": template},
    }
    apps.create_namespaced_deployment("default", body)
    patch = {"spec": {"selector": {"matchLabels": {"tier": "web"}}}}
    error = api_error(lambda: apps.patch_namespaced_deployment("d", "default", patch))
    assert (error.status, status_of(error)["message"]) == (
        422,
        'Deployment.apps "d" is invalid: spec.selector: Invalid value: '
        '{"matchLabels":{"app":"a","tier":"web"}}: field is immutable',
    )


def test_a_body_of_another_api_version_is_refused(core: client.CoreV1Api) -> None:
    body = {"apiVersion": "apps/v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
    error = api_error(lambda: core.create_namespaced_config_map("default", body))
    assert (error.status, status_of(error)["reason"]) == (400, "BadRequest")
    assert status_of(error)["message"] == (
        "the API version in the data (apps/v1) does not match the expected API version (v1)"
    )


def test_watching_custom_objects_with_the_typed_watch(sandbox: Sandbox, api: client.ApiClient) -> None:
    sandbox.load([_gadget_crd()])
    objects = client.CustomObjectsApi(api)
    body = {"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g"}, "spec": {"size": 1}}
    created = objects.create_cluster_custom_object("example.com", "v1", "gadgets", body)
    objects.delete_cluster_custom_object("example.com", "v1", "gadgets", "g")
    seen = [
        (event["type"], event["object"]["metadata"]["name"])
        for event in watch.Watch().stream(
            objects.list_cluster_custom_object,
            "example.com",
            "v1",
            "gadgets",
            resource_version=str(int(created["metadata"]["resourceVersion"]) - 1),
            timeout_seconds=1,
        )
    ]
    assert seen == [("ADDED", "g"), ("DELETED", "g")]


def test_dry_run_in_delete_options_deletes_nothing(core: client.CoreV1Api) -> None:
    core.create_namespaced_config_map("default", {"metadata": {"name": "kept"}})
    options = client.V1DeleteOptions(dry_run=["All"])
    core.delete_namespaced_config_map("kept", "default", body=options)
    core.delete_collection_namespaced_config_map("default", body=options)
    assert _names(core) == {"kept"}
    error = api_error(lambda: core.delete_namespaced_config_map("kept", "default", body={"dryRun": ["Some"]}))
    assert (error.status, status_of(error)["message"]) == (
        422,
        'DeleteOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: ["Some"]: '
        'supported values: "All"',
    )
    error = api_error(
        lambda: core.create_namespaced_config_map("default", {"metadata": {"name": "x"}}, dry_run="Al")
    )
    assert status_of(error)["message"] == (
        'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: ["Al"]: supported values: "All"'
    )


def test_objects_kubernetes_would_reject(apps: client.AppsV1Api, core: client.CoreV1Api) -> None:
    def message(call: Any) -> str:
        error = api_error(call)
        assert (error.status, status_of(error)["reason"]) == (422, "Invalid")
        return status_of(error)["message"]

    ports = [{"port": 80}, {"port": 443}]
    service = {"metadata": {"name": "web"}, "spec": {"ports": ports}}
    assert message(lambda: core.create_namespaced_service("default", service)) == (
        'Service "web" is invalid: [spec.ports[0].name: Required value, spec.ports[1].name: Required value]'
    )
    pod = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}}
    assert message(lambda: core.create_namespaced_pod("default", pod)) == (
        'Pod "p" is invalid: spec.containers[0].image: Required value'
    )
    template = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}
    deployment = {
        "metadata": {"name": "d"},
        "spec": {"selector": {"matchLabels": {"app": "api"}}, "template": template},
    }
    assert message(lambda: apps.create_namespaced_deployment("default", deployment)) == (
        'Deployment.apps "d" is invalid: spec.template.metadata.labels: Invalid value: '
        '{"app":"web"}: `selector` does not match template `labels`'
    )


def test_a_pod_bound_to_a_missing_node_stays_pending(core: client.CoreV1Api) -> None:
    for name, node in (("lost", "node-9"), ("placed", "node-1")):
        spec = {"nodeName": node, "containers": [{"name": "c", "image": "busybox"}]}
        core.create_namespaced_pod("default", {"metadata": {"name": name}, "spec": spec})
    eventually(lambda: core.read_namespaced_pod("placed", "default").status.phase == "Running")
    lost = core.read_namespaced_pod("lost", "default")
    assert lost.status.phase == "Pending" and lost.status.container_statuses is None
