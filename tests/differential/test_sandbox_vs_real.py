"""The sandbox proven against kube-apiserver: the same requests to both, the answers compared.

Each scenario is a function of a small request API and a namespace; it runs once against the sandbox
and once against the real control plane, and every answer (status code, reason, message with the
namespace written as {ns}, and the object returned, less `allowlist.IGNORED_FIELDS`) must be equal.
"""

from __future__ import annotations

import copy
import difflib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from restoreflow.cluster.client import JSON, MERGE_PATCH, Cluster
from restoreflow.cluster.errors import ApiError
from restoreflow.plan.model import ApiRetries, Target
from tests.differential.allowlist import CLAIM_STATUS_IGNORED, IGNORED_FIELDS

JSON_PATCH = "application/json-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"


@dataclass(frozen=True)
class Answer:
    code: int
    reason: str
    message: str
    body: Any

    def show(self) -> str:
        shown = {"code": self.code, "reason": self.reason, "message": self.message, "body": self.body}
        return json.dumps(shown, indent=1, sort_keys=True)


class Api:
    """Requests to one server, answers normalized for comparison."""

    def __init__(self, cluster: Cluster, ns: str) -> None:
        self.cluster = cluster
        self.ns = ns
        self.answers: list[Answer] = []
        self.aliases: dict[str, str] = {}  # generated names, written alike for both servers

    def call(
        self, method: str, path: str, body: Any = None, *, query: dict[str, str] | None = None,
        content_type: str = JSON, keep: bool = True,
    ) -> Answer:  # fmt: skip
        path = path.format(ns=self.ns)
        try:
            result = self.cluster.request(method, path, body=body, query=query, content_type=content_type)
            answer = Answer(200, "", "", self._normal(result))
        except ApiError as error:
            answer = Answer(error.code, error.reason, self._text(error.message), None)
        if keep:
            self.answers.append(answer)
        return answer

    def wait(self, path: str, ready: Callable[[dict[str, Any]], bool], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if ready(self.cluster.request("GET", path.format(ns=self.ns))):
                    return
            except ApiError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting on {path}")

    def _text(self, text: str) -> str:
        for name, alias in {**self.aliases, self.ns: "{ns}"}.items():
            text = text.replace(name, alias)
        return text

    def _normal(self, body: Any) -> Any:
        body = json.loads(self._text(json.dumps(body)))
        for path in IGNORED_FIELDS:
            _drop(body, path.split("."))
        return body


def _drop(node: Any, keys: list[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _drop(item, keys)
    elif isinstance(node, dict) and keys:
        if len(keys) == 1:
            node.pop(keys[0], None)
        elif keys[0] in node:
            _drop(node[keys[0]], keys[1:])
        for item in node.get("items") or [] if keys[0] != "items" else []:
            _drop(item, keys)


def configmap(name: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def pod_template(name: str) -> dict[str, Any]:
    """A PodTemplate: strategic merge on pod spec lists, and no controller writing to it meanwhile."""
    return {
        "apiVersion": "v1",
        "kind": "PodTemplate",
        "metadata": {"name": name, "labels": {"app": name}},
        "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {
                "containers": [
                    {"name": "app", "image": "registry.example/app:1.0", "env": [{"name": "A", "value": "1"}]}
                ]
            },
        },
    }


def service(name: str, node_port: int | None = None) -> dict[str, Any]:
    port: dict[str, Any] = {"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}
    spec: dict[str, Any] = {"type": "ClusterIP", "selector": {"app": name}, "ports": [port]}
    if node_port is not None:
        spec["type"] = "NodePort"
        port["nodePort"] = node_port
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec}


def namespace_of(api: Api) -> None:
    api.call(
        "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": api.ns}}
    )


# -- scenarios -------------------------------------------------------------------------------------


def create_get_and_errors(api: Api) -> None:
    namespace_of(api)
    api.call("POST", "/api/v1/namespaces/{ns}/configmaps", configmap("settings", mode="prod"))
    api.call("POST", "/api/v1/namespaces/{ns}/configmaps", configmap("settings", mode="prod"))
    api.call("GET", "/api/v1/namespaces/{ns}/configmaps/settings")
    api.call("GET", "/api/v1/namespaces/{ns}/configmaps/missing")
    api.call("POST", "/api/v1/namespaces/{ns}-absent/configmaps", configmap("x"))
    api.call("POST", "/api/v1/namespaces/{ns}/configmaps", configmap("Bad_Name"))
    api.call("GET", "/api/v1/namespaces/{ns}/widgets/x")
    api.call("POST", "/api/v1/namespaces/{ns}/configmaps", {**configmap("odd"), "kind": "Secret"})
    api.call("POST", "/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "kindless"}})


def dry_run(api: Api) -> None:
    namespace_of(api)
    dry = {"dryRun": "All"}
    api.call("POST", "/api/v1/namespaces/{ns}/configmaps", configmap("ghost", a="1"), query=dry)
    api.call("GET", "/api/v1/namespaces/{ns}/configmaps/ghost")
    api.call("POST", "/api/v1/namespaces/{ns}/configmaps", configmap("real", a="1"))
    api.call("POST", "/api/v1/namespaces/{ns}/configmaps", configmap("real", a="2"), query=dry)
    api.call("PATCH", "/api/v1/namespaces/{ns}/configmaps/real", {"data": {"a": "3"}}, query=dry,
             content_type=MERGE_PATCH)  # fmt: skip
    api.call("GET", "/api/v1/namespaces/{ns}/configmaps/real")
    api.call("POST", "/api/v1/namespaces/{ns}/configmaps", configmap("Bad_Name"), query=dry)


def patches(api: Api) -> None:
    namespace_of(api)
    base = "/api/v1/namespaces/{ns}/podtemplates"
    api.call("POST", base, pod_template("web"))
    api.call("PATCH", f"{base}/web", {"metadata": {"labels": {"tier": "front"}}}, content_type=MERGE_PATCH)
    replace = [{"op": "replace", "path": "/template/spec/containers/0/image", "value": "app:2"}]
    api.call("PATCH", f"{base}/web", replace, content_type=JSON_PATCH)
    env = [{"name": "B", "value": "2"}]
    strategic = {
        "template": {"spec": {"containers": [{"name": "side", "image": "s"}, {"name": "app", "env": env}]}}
    }
    api.call("PATCH", f"{base}/web", strategic, content_type=STRATEGIC)
    api.call("PATCH", f"{base}/web", {"metadata": {"finalizers": ["x/b"]}}, content_type=STRATEGIC)
    api.call("PATCH", f"{base}/web", {"metadata": {"finalizers": ["x/a"]}}, content_type=STRATEGIC)
    api.call("PATCH", f"{base}/web", {"metadata": {"finalizers": None}}, content_type=MERGE_PATCH)
    api.call(
        "PATCH",
        f"{base}/web",
        [{"op": "test", "path": "/metadata/name", "value": "x"}],
        content_type=JSON_PATCH,
    )
    api.call("PATCH", f"{base}/missing", {"metadata": {"labels": {"a": "b"}}}, content_type=MERGE_PATCH)


def conflicts(api: Api) -> None:
    namespace_of(api)
    created = api.call("POST", "/api/v1/namespaces/{ns}/configmaps", configmap("c", a="1"), keep=False)
    assert created.code == 200
    live = api.cluster.request("GET", f"/api/v1/namespaces/{api.ns}/configmaps/c")
    stale = copy.deepcopy(live)
    live["data"] = {"a": "2"}
    api.call("PUT", "/api/v1/namespaces/{ns}/configmaps/c", live)
    stale["data"] = {"a": "3"}
    api.call("PUT", "/api/v1/namespaces/{ns}/configmaps/c", stale)


def terminating_namespace(api: Api) -> None:
    namespace_of(api)
    held = configmap("held", a="1")
    held["metadata"]["finalizers"] = ["example.com/hold"]
    api.call("POST", "/api/v1/namespaces/{ns}/configmaps", held)
    api.call("DELETE", "/api/v1/namespaces/{ns}", keep=False)
    api.wait("/api/v1/namespaces/{ns}", lambda ns: ns.get("status", {}).get("phase") == "Terminating")
    api.call("POST", "/api/v1/namespaces/{ns}/configmaps", configmap("late"))
    api.call("PATCH", "/api/v1/namespaces/{ns}/configmaps/held", {"metadata": {"finalizers": None}},
             content_type=MERGE_PATCH, keep=False)  # fmt: skip


def node_ports(api: Api) -> None:
    namespace_of(api)
    port = 30000 + int(api.ns[-4:], 16) % 2700  # the same port on both servers
    api.call("POST", "/api/v1/namespaces/{ns}/services", service("a", node_port=port))
    api.call("POST", "/api/v1/namespaces/{ns}/services", service("b", node_port=port))
    api.call("POST", "/api/v1/namespaces/{ns}/services", service("c", node_port=80))
    api.call("POST", "/api/v1/namespaces/{ns}/services", service("d"))


def custom_resources(api: Api) -> None:
    group = f"{api.ns}.example.com"
    schema = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"gadgets.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget", "listKind": "GadgetList"},
            "versions": [{"name": "v1", "served": True, "storage": True, "schema": schema}],
        },
    }
    namespace_of(api)
    api.call("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd, keep=False)
    api.wait(
        f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.{group}",
        lambda o: any(
            c["type"] == "Established" and c["status"] == "True"
            for c in (o.get("status") or {}).get("conditions") or []
        ),
    )
    gadget = {"apiVersion": f"{group}/v1", "kind": "Gadget", "metadata": {"name": "g"}, "spec": {"size": 2}}
    path = f"/apis/{group}/v1/namespaces/{{ns}}/gadgets"
    deadline = time.monotonic() + 30
    while api.call("POST", path, gadget, keep=False).code == 404 and time.monotonic() < deadline:
        time.sleep(0.1)  # served a moment after Established, on both
    api.call("GET", f"{path}/g")
    api.call("POST", path, {**gadget, "kind": "Widget"})


def claims_bind_to_their_volumes(api: Api) -> None:
    namespace_of(api)
    volume = {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": f"pv-{api.ns}"},
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": "manual",
            "hostPath": {"path": "/tmp/data"},
            "claimRef": {"namespace": api.ns, "name": "data"},
        },
    }
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data"},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}},
            "storageClassName": "manual",
            "volumeName": f"pv-{api.ns}",
        },
    }
    api.call("POST", "/api/v1/persistentvolumes", volume, keep=False)
    api.call("POST", "/api/v1/namespaces/{ns}/persistentvolumeclaims", claim, keep=False)
    api.wait(
        "/api/v1/namespaces/{ns}/persistentvolumeclaims/data",
        lambda o: o.get("status", {}).get("phase") == "Bound",
    )
    api.wait(f"/api/v1/persistentvolumes/pv-{api.ns}", lambda o: o.get("status", {}).get("phase") == "Bound")
    answer = api.call("GET", "/api/v1/namespaces/{ns}/persistentvolumeclaims/data", keep=False)
    claim_status = {k: v for k, v in answer.body["status"].items() if k not in CLAIM_STATUS_IGNORED}
    api.answers.append(Answer(answer.code, "", "", claim_status))


def quotas(api: Api) -> None:
    """Quotas with no room at all: deterministic on both (a quota with room is eventually consistent
    on kube-apiserver, where the controller's recount races with admission)."""
    namespace_of(api)
    quota = {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "none"},
             "spec": {"hard": {"secrets": "0", "count/deployments.apps": "0"}}}  # fmt: skip
    api.call("POST", "/api/v1/namespaces/{ns}/resourcequotas", quota, keep=False)
    if api.cluster.host.startswith("https:"):  # kube-apiserver enforces a quota once its controller counted
        api.wait("/api/v1/namespaces/{ns}/resourcequotas/none", lambda q: "used" in (q.get("status") or {}))
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"k": "v"}}
    api.call("POST", "/api/v1/namespaces/{ns}/secrets", secret)
    api.call(
        "POST",
        "/apis/apps/v1/namespaces/{ns}/deployments",
        pod_template_deployment("web"),
        query={"dryRun": "All"},
    )


def pod_template_deployment(name: str) -> dict[str, Any]:
    template = pod_template(name)["template"]
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"selector": {"matchLabels": {"app": name}}, "template": template}}  # fmt: skip


def service_addresses(api: Api) -> None:
    namespace_of(api)
    ip = f"10.96.{int(api.ns[-4:-2], 16)}.{int(api.ns[-2:], 16) % 250 + 2}"
    fixed = service("a")
    fixed["spec"]["clusterIP"] = ip
    api.call("POST", "/api/v1/namespaces/{ns}/services", fixed)
    again = service("b")
    again["spec"]["clusterIP"] = ip
    api.call("POST", "/api/v1/namespaces/{ns}/services", again)
    outside = service("c")
    outside["spec"]["clusterIP"] = "192.168.7.7"
    api.call("POST", "/api/v1/namespaces/{ns}/services", outside)
    headless = service("d")
    headless["spec"]["clusterIP"] = "None"
    api.call("POST", "/api/v1/namespaces/{ns}/services", headless)


def generated_names_and_deletion(api: Api) -> None:
    namespace_of(api)
    generated = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "gen-"}}
    made = api.call("POST", "/api/v1/namespaces/{ns}/configmaps", generated, keep=False)
    name = made.body["metadata"]["name"]
    api.answers.append(Answer(made.code, "", "", name.startswith("gen-") and len(name) == 9))
    api.aliases[name] = "{generated}"
    api.call("DELETE", f"/api/v1/namespaces/{{ns}}/configmaps/{name}")
    api.call("DELETE", f"/api/v1/namespaces/{{ns}}/configmaps/{name}")
    api.call("DELETE", "/api/v1/namespaces/{ns}")
    api.call("GET", "/api/v1/namespaces/{ns}/configmaps/nothing")


def discovery(api: Api) -> None:
    """The resources a restore meets, as discovery lists them (names, kinds, scope, verbs)."""
    wanted = {"namespaces", "configmaps", "secrets", "services", "pods", "persistentvolumeclaims"}
    wanted |= {"persistentvolumes", "serviceaccounts", "pods/exec", "services/status", "resourcequotas"}
    core = api.cluster.request("GET", "/api/v1")
    listed = {
        r["name"]: (r["kind"], r["namespaced"], sorted(r.get("verbs") or [])) for r in core["resources"]
    }
    api.answers.append(Answer(200, "", "", {name: listed.get(name) for name in sorted(wanted)}))
    apps = api.cluster.request("GET", "/apis/apps/v1")
    api.answers.append(Answer(200, "", "", sorted(r["name"] for r in apps["resources"])))
    groups = {g["name"] for g in api.cluster.request("GET", "/apis")["groups"]}
    needed = {"apps", "batch", "rbac.authorization.k8s.io", "storage.k8s.io", "apiextensions.k8s.io",
              "networking.k8s.io", "policy", "coordination.k8s.io", "scheduling.k8s.io"}  # fmt: skip
    api.answers.append(Answer(200, "", "", sorted(needed - groups)))


SCENARIOS = [
    create_get_and_errors,
    dry_run,
    patches,
    conflicts,
    terminating_namespace,
    node_ports,
    custom_resources,
    claims_bind_to_their_volumes,
    quotas,
    service_addresses,
    generated_names_and_deletion,
    discovery,
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_the_sandbox_answers_as_kube_apiserver_does(scenario, sandbox, control_plane, tmp_path) -> None:
    ns = f"diff-{uuid.uuid4().hex[:6]}"
    answers = {}
    for name, kubeconfig in (("sandbox", sandbox.kubeconfig), ("real", control_plane.kubeconfig)):
        cluster = Cluster.for_target(Target(kubeconfig=str(kubeconfig)), retries=ApiRetries(attempts=1))
        try:
            api = Api(cluster, ns)
            scenario(api)
            answers[name] = api.answers
        finally:
            cluster.close()
    for index, (ours, theirs) in enumerate(zip(answers["sandbox"], answers["real"], strict=True)):
        diff = difflib.unified_diff(
            ours.show().splitlines(), theirs.show().splitlines(), "sandbox", "kube-apiserver", lineterm=""
        )
        assert ours == theirs, f"answer {index} differs:\n" + "\n".join(diff)
