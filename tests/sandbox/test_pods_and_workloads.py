"""Pods (Running, exec over WebSocket, `restore-wait` and PodVolumeRestores) and workload readiness."""

from __future__ import annotations

import json
import time

import pytest
from kubernetes import client
from kubernetes.stream import stream

from restoreflow.sandbox import Sandbox
from tests.sandbox.helpers import api_error, eventually, raw, status_of


def pod(name: str, *containers: str, annotations: dict | None = None, **spec: object) -> dict:
    names = containers or ("app",)
    body: dict = {
        "metadata": {"name": name},
        "spec": {"containers": [{"name": c, "image": "nginx:1.27"} for c in names]},
    }
    if annotations:
        body["metadata"]["annotations"] = annotations
    body["spec"].update(spec)
    return body


def running(core: client.CoreV1Api, name: str, namespace: str = "default") -> client.V1Pod:
    return eventually(
        lambda: (p := core.read_namespaced_pod(name, namespace)).status.phase == "Running" and p
    )


def exec_in(
    core: client.CoreV1Api, name: str, command: list[str], **kw: object
) -> tuple[str, str, int | None]:
    ws = stream(
        core.connect_get_namespaced_pod_exec, name, "default", command=command,
        stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False, **kw,
    )  # fmt: skip
    ws.run_forever(timeout=5)
    return ws.read_stdout(), ws.read_stderr(), ws.returncode


def test_pod_defaults_then_running_with_container_statuses(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_pod(
        "default", pod("web", init_containers=[{"name": "init", "image": "busybox"}])
    )
    assert created.status.phase == "Pending" and created.status.qos_class == "BestEffort"
    spec = created.spec
    assert (spec.restart_policy, spec.dns_policy, spec.service_account_name) == (
        "Always",
        "ClusterFirst",
        "default",
    )
    assert spec.containers[0].image_pull_policy == "IfNotPresent"
    assert spec.containers[0].termination_message_path == "/dev/termination-log"
    live = running(core, "web")
    assert live.spec.node_name == "node-1" and live.status.pod_ip
    (status,) = live.status.container_statuses
    assert status.ready and status.started and status.state.running.started_at
    (init,) = live.status.init_container_statuses
    assert init.state.terminated.reason == "Completed" and init.state.terminated.exit_code == 0
    conditions = {c.type: c.status for c in live.status.conditions}
    assert conditions["Ready"] == "True" and conditions["PodScheduled"] == "True"


@pytest.mark.sandbox(pod_running_delay=0.3)
def test_pod_running_delay_is_configurable(sandbox: Sandbox, core: client.CoreV1Api) -> None:
    core.create_namespaced_pod("default", pod("slow"))
    time.sleep(0.1)
    assert core.read_namespaced_pod("slow", "default").status.phase == "Pending"
    running(core, "slow")
    sandbox.configure(pod_running_delay=0.0)
    core.create_namespaced_pod("default", pod("fast"))
    running(core, "fast")


def test_exec_output_and_exit_codes(core: client.CoreV1Api) -> None:
    core.create_namespaced_pod("default", pod("box"))
    running(core, "box")
    assert exec_in(core, "box", ["echo", "hello", "world"]) == ("hello world\n", "", 0)
    assert exec_in(core, "box", ["true"])[2] == 0
    assert exec_in(core, "box", ["false"])[2] == 1
    assert exec_in(core, "box", ["sh", "-c", "echo out; exit 3"]) == ("out\n", "", 3)
    assert exec_in(core, "box", ["/bin/sh", "-c", "false || echo fallback && exit 0"]) == (
        "fallback\n",
        "",
        0,
    )
    assert exec_in(core, "box", ["sh", "-c", "nope"]) == ("", "sh: 1: nope: not found\n", 127)


def test_exec_of_a_missing_executable_fails_as_containerd_reports_it(core: client.CoreV1Api) -> None:
    core.create_namespaced_pod("default", pod("box"))
    running(core, "box")
    ws = stream(
        core.connect_get_namespaced_pod_exec, "box", "default", command=["nope", "-x"],
        stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False,
    )  # fmt: skip
    ws.run_forever(timeout=5)
    status = json.loads(ws.read_channel(3))
    assert (status["status"], status["reason"], status["code"]) == ("Failure", "InternalError", 500)
    assert status["message"].startswith(
        "Internal error occurred: error executing command in container: failed to exec in container: "
        'failed to start exec "'
    )
    assert status["message"].endswith(
        'OCI runtime exec failed: exec failed: unable to start container process: exec: "nope": '
        "executable file not found in $PATH: unknown"
    )


def test_exec_status_channel_carries_the_kubelet_status(core: client.CoreV1Api) -> None:
    core.create_namespaced_pod("default", pod("box"))
    running(core, "box")
    ws = stream(
        core.connect_get_namespaced_pod_exec, "box", "default", command=["sh", "-c", "exit 7"],
        stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False,
    )  # fmt: skip
    ws.run_forever(timeout=5)
    import yaml

    status = yaml.safe_load(ws.read_channel(3))
    assert status["reason"] == "NonZeroExitCode"
    assert status["details"]["causes"] == [{"reason": "ExitCode", "message": "7"}]


def test_exec_sleep_runs_until_done_and_stops_when_the_client_leaves(core: client.CoreV1Api) -> None:
    core.create_namespaced_pod("default", pod("box"))
    running(core, "box")
    started = time.monotonic()
    assert exec_in(core, "box", ["sleep", "0.3"])[2] == 0
    assert time.monotonic() - started >= 0.3
    ws = stream(
        core.connect_get_namespaced_pod_exec, "box", "default", command=["sleep", "30"],
        stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False,
    )  # fmt: skip
    ws.run_forever(timeout=0.2)
    assert ws.is_open() and ws.returncode is None
    ws.close()
    assert exec_in(core, "box", ["echo", "still serving"])[0] == "still serving\n"


def test_exec_errors(core: client.CoreV1Api) -> None:
    core.create_namespaced_pod("default", pod("two", "a", "b"))
    running(core, "two")
    assert exec_in(core, "two", ["true"], container="b")[2] == 0

    def failure(name: str, **kw: object) -> str:
        error = api_error(lambda: exec_in(core, name, ["true"], **kw))
        return str(error)

    assert "a container name must be specified for pod two, choose one of: [a b]" in failure("two")
    assert "container c is not valid for pod two" in failure("two", container="c")
    assert 'pods \\"ghost\\" not found' in failure("ghost") or 'pods "ghost" not found' in failure("ghost")


@pytest.mark.sandbox(pod_running_delay=5)
def test_exec_into_a_pod_that_is_not_running(core: client.CoreV1Api) -> None:
    core.create_namespaced_pod("default", pod("pending"))
    error = api_error(lambda: exec_in(core, "pending", ["true"]))
    assert "pod pending does not have a host assigned" in str(error)


@pytest.mark.sandbox(velero_crds=True, pvr_progress_delay=0.05)
def test_restore_wait_holds_the_pod_until_its_pod_volume_restores_finish(
    sandbox: Sandbox, api: client.ApiClient
) -> None:
    core = client.CoreV1Api(api)
    objects = client.CustomObjectsApi(api)
    helper = {
        "name": "restore-wait",
        "image": "velero/velero-restore-helper",
        "volumeMounts": [{"name": "data", "mountPath": "/restores/data"}],
    }
    body = pod("db", init_containers=[helper], volumes=[{"name": "data", "emptyDir": {}}])
    created = core.create_namespaced_pod("default", body)
    time.sleep(0.15)
    waiting = core.read_namespaced_pod("db", "default")
    assert waiting.status.phase == "Pending"
    assert waiting.status.init_container_statuses[0].state.running is not None
    pvr = {
        "apiVersion": "velero.io/v1",
        "kind": "PodVolumeRestore",
        "metadata": {"name": "db-data", "labels": {"velero.io/pod-uid": created.metadata.uid}},
        "spec": {
            "pod": {"kind": "Pod", "namespace": "default", "name": "db", "uid": created.metadata.uid},
            "volume": "data",
        },
    }
    objects.create_namespaced_custom_object("velero.io", "v1", "velero", "podvolumerestores", pvr)
    phases = []

    def completed() -> bool:
        status = objects.get_namespaced_custom_object(
            "velero.io", "v1", "velero", "podvolumerestores", "db-data"
        ).get("status", {})
        if not phases or phases[-1] != status.get("phase"):
            phases.append(status.get("phase"))
        return status.get("phase") == "Completed" and status

    status = eventually(completed)
    assert [p for p in phases if p] == ["New", "InProgress", "Completed"][-len([p for p in phases if p]) :]
    assert status["progress"]["bytesDone"] == status["progress"]["totalBytes"] > 0
    live = running(core, "db")
    assert live.status.init_container_statuses[0].state.terminated.reason == "Completed"


@pytest.mark.sandbox(velero_crds=True, pvr_progress_delay=0.02)
@pytest.mark.parametrize(("wish", "phase"), [("fail", "Failed"), ("hang", "InProgress")])
def test_pod_annotation_fails_or_hangs_pod_volume_restores(
    api: client.ApiClient, wish: str, phase: str
) -> None:
    core = client.CoreV1Api(api)
    objects = client.CustomObjectsApi(api)
    created = core.create_namespaced_pod(
        "default", pod("db", annotations={"sandbox.restoreflow.dev/pod-volume-restore": wish})
    )
    pvr = {
        "apiVersion": "velero.io/v1",
        "kind": "PodVolumeRestore",
        "metadata": {"name": "r", "labels": {"velero.io/pod-uid": created.metadata.uid}},
        "spec": {
            "pod": {"kind": "Pod", "namespace": "default", "name": "db", "uid": created.metadata.uid},
            "volume": "data",
        },
    }
    objects.create_namespaced_custom_object("velero.io", "v1", "velero", "podvolumerestores", pvr)

    def current() -> dict:
        return objects.get_namespaced_custom_object(
            "velero.io", "v1", "velero", "podvolumerestores", "r"
        ).get("status", {})

    eventually(lambda: current().get("phase") == phase)
    time.sleep(0.15)
    final = current()
    assert final["phase"] == phase
    if wish == "fail":
        assert "pod volume restore failed" in final["message"]


def test_pod_with_unbound_claim_stays_pending_until_bound(core: client.CoreV1Api) -> None:
    body = pod("user", volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "later"}}])
    core.create_namespaced_pod("default", body)
    time.sleep(0.15)
    pending = core.read_namespaced_pod("user", "default")
    assert pending.status.phase == "Pending"
    assert pending.status.conditions[0].reason == "Unschedulable"
    claim = {
        "metadata": {"name": "later"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    core.create_namespaced_persistent_volume_claim("default", claim)
    running(core, "user")


def test_deployments_statefulsets_and_replicasets_become_ready(apps: client.AppsV1Api) -> None:
    template = {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}
    spec = {"replicas": 2, "selector": {"matchLabels": {"app": "x"}}, "template": template}
    apps.create_namespaced_deployment("default", {"metadata": {"name": "d"}, "spec": spec})
    apps.create_namespaced_stateful_set(
        "default", {"metadata": {"name": "s"}, "spec": spec | {"serviceName": "s"}}
    )
    apps.create_namespaced_replica_set("default", {"metadata": {"name": "r"}, "spec": spec})
    apps.create_namespaced_daemon_set(
        "default", {"metadata": {"name": "ds"}, "spec": {k: v for k, v in spec.items() if k != "replicas"}}
    )
    deployment = eventually(
        lambda: (d := apps.read_namespaced_deployment("d", "default")).status.ready_replicas == 2 and d
    )
    assert {c.type: c.status for c in deployment.status.conditions} == {
        "Available": "True",
        "Progressing": "True",
    }
    assert eventually(lambda: apps.read_namespaced_stateful_set("s", "default").status.ready_replicas) == 2
    assert eventually(lambda: apps.read_namespaced_replica_set("r", "default").status.ready_replicas) == 2
    assert eventually(lambda: apps.read_namespaced_daemon_set("ds", "default").status.number_ready) == 1
    apps.patch_namespaced_deployment("d", "default", {"spec": {"replicas": 3}})
    scaled = eventually(
        lambda: (d := apps.read_namespaced_deployment("d", "default")).status.ready_replicas == 3 and d
    )
    assert scaled.status.observed_generation == 2


@pytest.mark.sandbox(workload_ready_delay=5)
def test_workload_readiness_waits_for_its_delay(apps: client.AppsV1Api) -> None:
    template = {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}
    apps.create_namespaced_deployment(
        "default",
        {
            "metadata": {"name": "d"},
            "spec": {"selector": {"matchLabels": {"app": "x"}}, "template": template},
        },
    )
    time.sleep(0.2)
    assert apps.read_namespaced_deployment("d", "default").status.ready_replicas is None


def test_pod_without_containers_is_invalid(api: client.ApiClient) -> None:
    code, status = raw(
        api, "POST", "/api/v1/namespaces/default/pods", {"metadata": {"name": "empty"}, "spec": {}}
    )
    assert (code, status["message"]) == (422, 'Pod "empty" is invalid: spec.containers: Required value')


def test_pod_spec_is_immutable_except_images(core: client.CoreV1Api) -> None:
    core.create_namespaced_pod("default", pod("web"))
    running(core, "web")
    patched = core.patch_namespaced_pod(
        "web", "default", {"spec": {"containers": [{"name": "app", "image": "nginx:2"}]}}
    )
    assert patched.spec.containers[0].image == "nginx:2"
    error = api_error(lambda: core.patch_namespaced_pod("web", "default", {"spec": {"hostname": "other"}}))
    status = status_of(error)
    assert (error.status, status["reason"]) == (422, "Invalid")
    assert status["message"].startswith(
        'Pod "web" is invalid: spec: Forbidden: pod updates may not change fields other than '
        "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`"
    )
    assert status["details"]["causes"][0]["reason"] == "FieldValueForbidden"


def test_scale_subresource(apps: client.AppsV1Api) -> None:
    template = {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}
    spec = {"replicas": 2, "selector": {"matchLabels": {"app": "x"}}, "template": template}
    apps.create_namespaced_deployment("default", {"metadata": {"name": "d"}, "spec": spec})
    scale = apps.read_namespaced_deployment_scale("d", "default")
    assert (scale.spec.replicas, scale.status.selector) == (2, "app=x")
    assert (
        apps.patch_namespaced_deployment_scale("d", "default", {"spec": {"replicas": 5}}).spec.replicas == 5
    )
    assert apps.read_namespaced_deployment("d", "default").spec.replicas == 5


def test_pod_log_of_an_existing_pod(core: client.CoreV1Api) -> None:
    core.create_namespaced_pod("default", pod("web"))
    assert core.read_namespaced_pod_log("web", "default") == ""
    assert api_error(lambda: core.read_namespaced_pod_log("ghost", "default")).status == 404
    two = {
        "metadata": {"name": "two"},
        "spec": {
            "initContainers": [{"name": "setup", "image": "busybox"}],
            "containers": [{"name": "app", "image": "nginx"}, {"name": "proxy", "image": "envoy"}],
        },
    }
    core.create_namespaced_pod("default", two)
    error = api_error(lambda: core.read_namespaced_pod_log("two", "default"))
    assert (error.status, status_of(error)["message"]) == (
        400,
        "a container name must be specified for pod two, choose one of: [app proxy] "
        "or one of the init containers: [setup]",
    )
    error = api_error(lambda: core.read_namespaced_pod_log("two", "default", container="db"))
    assert status_of(error)["message"] == "container db is not valid for pod two"
    assert core.read_namespaced_pod_log("two", "default", container="setup") == ""


@pytest.mark.sandbox(
    storage_classes=[
        {
            "metadata": {
                "name": "local",
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            "provisioner": "rancher.io/local-path",
            "volumeBindingMode": "WaitForFirstConsumer",
        }
    ]
)
def test_wait_for_first_consumer_binds_when_a_pod_uses_the_claim(core: client.CoreV1Api) -> None:
    claim = {
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    core.create_namespaced_persistent_volume_claim("default", claim)
    time.sleep(0.15)
    assert core.read_namespaced_persistent_volume_claim("data", "default").status.phase == "Pending"
    core.create_namespaced_pod(
        "default", pod("user", volumes=[{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}])
    )
    running(core, "user")
    bound = core.read_namespaced_persistent_volume_claim("data", "default")
    assert bound.status.phase == "Bound"
    assert bound.metadata.annotations["volume.kubernetes.io/selected-node"] == "node-1"


def test_exec_through_the_asyncio_client(sandbox: Sandbox, core: client.CoreV1Api) -> None:
    import asyncio

    from kubernetes.aio import client as aio_client
    from kubernetes.aio.stream import WsApiClient

    core.create_namespaced_pod("default", pod("box"))
    running(core, "box")

    async def main() -> str:
        config = aio_client.Configuration()
        config.host = sandbox.url
        async with WsApiClient(configuration=config) as ws_api:
            api = aio_client.CoreV1Api(api_client=ws_api)
            return await api.connect_get_namespaced_pod_exec(
                "box",
                "default",
                command=["sh", "-c", "echo one; echo two"],
                stderr=True,
                stdout=True,
                tty=False,
            )

    assert asyncio.run(main()) == "one\ntwo\n"


def test_exec_reads_stdin(core: client.CoreV1Api) -> None:
    core.create_namespaced_pod("default", pod("box"))
    running(core, "box")
    ws = stream(
        core.connect_get_namespaced_pod_exec, "box", "default", command=["cat"],
        stderr=True, stdin=True, stdout=True, tty=False, _preload_content=False,
    )  # fmt: skip
    ws.write_stdin("line one\n")
    assert ws.readline_stdout(timeout=5) == "line one"
    ws.close_channel(0)
    ws.run_forever(timeout=5)
    assert ws.returncode == 0
