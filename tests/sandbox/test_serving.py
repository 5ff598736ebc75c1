"""How the sandbox runs: the CLI, the kubeconfig, process mode, watch, asyncio clients and load."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from kubernetes import client, config, watch
from kubernetes.aio import client as aio_client

from restoreflow.sandbox import Sandbox, start_sandbox
from tests.sandbox.helpers import api_error

RESTOREFLOW = str(Path(sys.executable).with_name("restoreflow"))


def serve(*args: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [RESTOREFLOW, "sandbox", "serve", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def stop(process: subprocess.Popen, sig: int = signal.SIGINT) -> int:
    process.send_signal(sig)
    return process.wait(timeout=10)


def test_cli_serves_with_a_kubeconfig_and_state(tmp_path: Path) -> None:
    state = tmp_path / "state.yaml"
    state.write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: shop}\ndata: {mode: demo}\n"
    )
    kubeconfig = tmp_path / "kubeconfig"
    process, line = serve("--port", "0", "--kubeconfig", str(kubeconfig), "--state", str(state))
    try:
        assert line.startswith("restoreflow sandbox serving at http://127.0.0.1:")
        assert line.endswith(f", kubeconfig: {kubeconfig}")
        _, active = config.list_kube_config_contexts(str(kubeconfig))
        assert active["name"] == "sandbox" and active["context"] == {
            "cluster": "sandbox", "user": "sandbox", "namespace": "default",
        }  # fmt: skip
        api = config.new_client_from_config(str(kubeconfig), context="sandbox")
        core = client.CoreV1Api(api)
        assert core.read_namespaced_config_map("settings", "shop").data == {"mode": "demo"}
        assert core.read_namespace("shop").status.phase == "Active"
    finally:
        assert stop(process) == 0


def test_cli_stops_on_sigterm_and_removes_its_temporary_kubeconfig() -> None:
    process, line = serve()
    kubeconfig = Path(line.rsplit("kubeconfig: ", 1)[1])
    assert kubeconfig.exists()
    assert stop(process, signal.SIGTERM) == 0
    assert not kubeconfig.exists()


def test_cli_faults_from_flags(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    process, _ = serve(
        "--kubeconfig", str(kubeconfig), "--fault", "verb=create,resource=configmaps,count=1,code=503"
    )
    try:
        core = client.CoreV1Api(config.new_client_from_config(str(kubeconfig)))
        assert (
            api_error(
                lambda: core.create_namespaced_config_map("default", {"metadata": {"name": "a"}})
            ).status
            == 503
        )
        assert core.create_namespaced_config_map("default", {"metadata": {"name": "a"}}).metadata.name == "a"
    finally:
        stop(process)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fault", "code=999"], "error: fault code must be one of"),
        (
            ["--state", "/does/not/exist.yaml"],
            "error: --state /does/not/exist.yaml: No such file or directory",
        ),
    ],
)
def test_cli_reports_bad_arguments(args: list[str], message: str) -> None:
    result = subprocess.run(
        [RESTOREFLOW, "sandbox", "serve", *args], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and message in result.stderr


def test_cli_rejects_state_that_is_not_objects(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text(json.dumps([{"metadata": {"name": "x"}}]))
    result = subprocess.run(
        [RESTOREFLOW, "sandbox", "serve", "--state", str(state)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert f"--state {state}: item 0 is not a Kubernetes object (apiVersion, kind)" in result.stderr


def test_process_mode_is_inspectable_like_the_thread_mode(tmp_path: Path) -> None:
    with start_sandbox(
        process=True, kubeconfig=str(tmp_path / "kc"), velero_crds=True, pod_running_delay=0
    ) as sb:
        core = client.CoreV1Api(sb.api_client())
        core.create_namespaced_config_map("velero", {"metadata": {"name": "x"}})
        assert sb.get("configmaps", "x", "velero")["metadata"]["namespace"] == "velero"
        assert [r["code"] for r in sb.requests()] == [201]
        assert sb.options().pod_running_delay == 0
        assert os.path.exists(sb.kubeconfig)


def test_start_sandbox_rejects_unknown_options() -> None:
    with pytest.raises(TypeError, match="unknown sandbox option"), start_sandbox(pod_delay=1):
        pass


def test_watch_streams_changes_from_a_resource_version(core: client.CoreV1Api) -> None:
    since = core.list_namespaced_config_map("default").metadata.resource_version
    core.create_namespaced_config_map("default", {"metadata": {"name": "a", "labels": {"w": "1"}}})
    core.create_namespaced_config_map("default", {"metadata": {"name": "b"}})
    core.patch_namespaced_config_map("a", "default", {"data": {"k": "v"}})
    core.delete_namespaced_config_map("a", "default")
    seen = []
    for event in watch.Watch().stream(
        core.list_namespaced_config_map,
        "default",
        resource_version=since,
        label_selector="w=1",
        timeout_seconds=1,
    ):
        seen.append((event["type"], event["object"].metadata.name))
        if len(seen) == 3:
            break
    assert seen == [("ADDED", "a"), ("MODIFIED", "a"), ("DELETED", "a")]


def test_watch_without_a_version_lists_then_follows(core: client.CoreV1Api) -> None:
    stream = watch.Watch().stream(core.list_namespace, timeout_seconds=2)
    initial = [next(stream)["object"].metadata.name for _ in range(4)]
    assert initial == ["default", "kube-node-lease", "kube-public", "kube-system"]
    threading.Timer(0.1, lambda: core.create_namespace({"metadata": {"name": "later"}})).start()
    event = next(stream)
    assert (event["type"], event["object"].metadata.name) == ("ADDED", "later")
    stream.close()


def test_asyncio_client_with_many_requests_in_flight(sandbox: Sandbox) -> None:
    async def main() -> list[str]:
        async with sandbox.aio_api_client() as api:
            core = aio_client.CoreV1Api(api)
            created = await asyncio.gather(
                *(
                    core.create_namespaced_config_map("default", {"metadata": {"name": f"cm-{i}"}})
                    for i in range(150)
                )
            )
            return [c.metadata.resource_version for c in created]

    versions = asyncio.run(main())
    assert len(set(versions)) == 150
    assert len(sandbox.objects("configmaps", "default")) == 151


def test_threaded_clients_in_parallel(sandbox: Sandbox) -> None:
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            with sandbox.api_client() as api:
                core = client.CoreV1Api(api)
                for j in range(20):
                    core.create_namespaced_secret("default", {"metadata": {"name": f"s-{index}-{j}"}})
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(sandbox.objects("secrets", "default")) == 160
