"""Table tests for the actions that only rewrite the item: pod, job, service account, role
bindings, CRDs, admission webhooks, APIServices, and the pod's claims."""

from __future__ import annotations

from typing import Any

import pytest

from restoreflow.actions.add_pvc_from_pod import AddPVCFromPodAction
from restoreflow.actions.admission_webhook_configuration import AdmissionWebhookConfigurationAction
from restoreflow.actions.apiservice import APIServiceAction
from restoreflow.actions.base import ResourceIdentifier
from restoreflow.actions.cluster_role_bindings import ClusterRoleBindingAction
from restoreflow.actions.crd_preserve_fields import CRDPreserveFieldsAction
from restoreflow.actions.job import JobAction
from restoreflow.actions.pod import PodAction
from restoreflow.actions.role_bindings import RoleBindingAction
from restoreflow.actions.service_account import ServiceAccountAction
from restoreflow.restore.matching import action_applies
from tests.actions.views import View, make_plan, run


def pod(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "shop"}, "spec": spec}


# --- velero.io/pod ------------------------------------------------------------------------------


def test_pod_node_name_and_priority_are_removed() -> None:
    result = run(PodAction(), pod(nodeName="node-7", priority=1000, containers=[{"name": "c"}]))
    assert result.item["spec"] == {"containers": [{"name": "c"}]}
    assert result.additional_items == []


def test_pod_service_account_token_volumes_and_mounts_are_removed() -> None:
    token = {"name": "app-token-x7k2p", "secret": {"secretName": "app-token-x7k2p"}}
    data = {"name": "data", "emptyDir": {}}
    mounts = [
        {"name": "app-token-x7k2p", "mountPath": "/var/run/secrets"},
        {"name": "data", "mountPath": "/d"},
    ]
    item = pod(
        serviceAccountName="app",
        volumes=[token, data],
        containers=[{"name": "c", "volumeMounts": mounts}],
        initContainers=[{"name": "i", "volumeMounts": mounts[:1]}],
    )
    spec = run(PodAction(), item).item["spec"]
    assert spec["volumes"] == [data]
    assert spec["containers"][0]["volumeMounts"] == [mounts[1]]
    assert "volumeMounts" not in spec["initContainers"][0]  # emptied: omitted


def test_pod_without_service_account_name_uses_the_bare_token_prefix() -> None:
    item = pod(volumes=[{"name": "-token-abc"}, {"name": "default-token-abc"}])
    assert run(PodAction(), item).item["spec"]["volumes"] == [{"name": "default-token-abc"}]


def test_pod_priority_class_is_restored_first() -> None:
    result = run(PodAction(), pod(priorityClassName="critical", priority=1000000))
    assert result.additional_items == [
        ResourceIdentifier("priorityclasses.scheduling.k8s.io", "", "critical")
    ]
    assert "priority" not in result.item["spec"]


# --- velero.io/job ------------------------------------------------------------------------------


def test_job_controller_uid_selectors_and_labels_are_removed() -> None:
    uid = "0f6c2f3e-1a5e-4a0e-9a43-7a1f7d6e2b11"
    labels = {"batch.kubernetes.io/controller-uid": uid, "controller-uid": uid, "job-name": "migrate"}
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "migrate", "namespace": "shop"},
        "spec": {
            "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": uid, "controller-uid": uid}},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c"}]}},
        },
    }
    spec = run(JobAction(), job).item["spec"]
    assert spec["selector"] == {}
    assert spec["template"]["metadata"]["labels"] == {"job-name": "migrate"}


# --- velero.io/service-account ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("secrets", "expected"),
    [
        ([{"name": "app-token-a"}], None),
        ([{"name": "app-token-a"}, {"name": "app-token-b"}], [{"name": "app-token-a"}]),
        ([{"name": "app-token-a"}, {"name": "other"}], [{"name": "other"}]),
        ([{"name": "registry"}], [{"name": "registry"}]),
    ],
)
def test_service_account_last_token_secret_reference_is_removed(secrets: list, expected: list | None) -> None:
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "app"}, "secrets": secrets}
    assert run(ServiceAccountAction(), account).item.get("secrets") == expected


# --- velero.io/role-bindings and velero.io/cluster-role-bindings --------------------------------


@pytest.mark.parametrize("action", [RoleBindingAction(), ClusterRoleBindingAction()])
@pytest.mark.parametrize(
    ("mapping", "expected"),
    [({"foo": "bar"}, ["bar", "xyz"]), ({}, ["foo", "xyz"]), ({"other": "x"}, ["foo", "xyz"])],
)
def test_binding_subject_namespaces_follow_the_mapping(action: Any, mapping: dict, expected: list) -> None:
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "b"},
        "subjects": [{"kind": "ServiceAccount", "name": "a", "namespace": ns} for ns in ("foo", "xyz")],
    }
    item = run(action, binding, view=View(make_plan(namespace_mapping=mapping))).item
    assert [s["namespace"] for s in item["subjects"]] == expected


# --- velero.io/crd-preserve-fields --------------------------------------------------------------


def crd(api_version: str, preserve: Any) -> dict[str, Any]:
    schema = {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object"}}}}
    return {
        "apiVersion": api_version,
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "preserveUnknownFields": preserve,
            "versions": [{"name": "v1", "schema": schema}, {"name": "v2"}],
        },
    }


def test_crd_preserve_unknown_fields_moves_into_each_schema() -> None:
    spec = run(CRDPreserveFieldsAction(), crd("apiextensions.k8s.io/v1", True)).item["spec"]
    assert "preserveUnknownFields" not in spec
    assert spec["versions"][0]["schema"]["openAPIV3Schema"]["x-kubernetes-preserve-unknown-fields"] is True
    assert "schema" not in spec["versions"][1]


@pytest.mark.parametrize(
    ("api_version", "preserve"), [("apiextensions.k8s.io/v1beta1", True), ("apiextensions.k8s.io/v1", False)]
)
def test_crd_is_unchanged_unless_v1_with_preserve(api_version: str, preserve: bool) -> None:
    item = crd(api_version, preserve)
    assert run(CRDPreserveFieldsAction(), item).item == item


# --- velero.io/admission-webhook-configuration ------------------------------------------------


@pytest.mark.parametrize(
    ("api_version", "side_effects", "expected"),
    [
        (
            "admissionregistration.k8s.io/v1",
            ["Unknown", "Some", None, "None", "NoneOnDryRun"],
            ["None", "None", "None", "None", "NoneOnDryRun"],
        ),
        ("admissionregistration.k8s.io/v1beta1", ["Unknown", "Some"], ["Unknown", "Some"]),
    ],
)
def test_webhook_side_effects_are_normalised(api_version: str, side_effects: list, expected: list) -> None:
    hooks = [
        {"name": f"h{i}.example.com"} | ({"sideEffects": s} if s else {}) for i, s in enumerate(side_effects)
    ]
    item = {
        "apiVersion": api_version,
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "w"},
        "webhooks": hooks,
    }
    assert [
        h.get("sideEffects") for h in run(AdmissionWebhookConfigurationAction(), item).item["webhooks"]
    ] == expected


def test_webhook_configuration_without_webhooks_is_unchanged() -> None:
    item = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "MutatingWebhookConfiguration",
        "metadata": {"name": "w"},
    }
    assert run(AdmissionWebhookConfigurationAction(), item).item == item


# --- velero.io/apiservice -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("labels", "applies"), [({"kube-aggregator.kubernetes.io/automanaged": "onstart"}, True), ({}, False)]
)
def test_only_kubernetes_managed_apiservices_are_skipped(labels: dict, applies: bool) -> None:
    action = APIServiceAction()
    assert action_applies(action.applies_to(), "apiservices.apiregistration.k8s.io", "", labels) is applies
    item = {"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService", "metadata": {"name": "v1.apps"}}
    assert run(action, item).skip_restore is True


# --- velero.io/add-pvc-from-pod -----------------------------------------------------------------


def test_pod_claims_are_additional_items() -> None:
    item = pod(
        volumes=[
            {"name": "a", "persistentVolumeClaim": {"claimName": "data"}},
            {"name": "b", "emptyDir": {}},
            {"name": "c", "persistentVolumeClaim": {"claimName": "logs"}},
        ]
    )
    result = run(AddPVCFromPodAction(), item)
    assert result.item == item
    assert result.additional_items == [
        ResourceIdentifier("persistentvolumeclaims", "shop", "data"),
        ResourceIdentifier("persistentvolumeclaims", "shop", "logs"),
    ]
