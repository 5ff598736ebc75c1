"""The fault-injecting proxy: what a client sees for each fault kind, over plain HTTP and over TLS."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import urllib3
from kubernetes import client, config

from restoreflow.sandbox import Sandbox
from restoreflow.sandbox.proxy import FaultPlan, start_proxy


def core_api(kubeconfig: str) -> client.CoreV1Api:
    configuration = client.Configuration()
    config.load_kube_config(kubeconfig, client_configuration=configuration)
    configuration.retries = False
    return client.CoreV1Api(client.ApiClient(configuration))


def create(core: client.CoreV1Api, name: str, timeout: float = 5.0) -> int | str:
    """The status code of a ConfigMap create, or the name of the connection error."""
    try:
        core.create_namespaced_config_map("default", {"metadata": {"name": name}}, _request_timeout=timeout)
    except client.ApiException as error:
        return error.status
    except urllib3.exceptions.HTTPError as error:
        return type(error).__name__
    return 201


def stored(sandbox: Sandbox) -> set[str]:
    return {o["metadata"]["name"] for o in sandbox.objects("configmaps", "default")} - {"kube-root-ca.crt"}


def test_tcp_mode_relays_and_adds_latency(sandbox: Sandbox, tmp_path: Path) -> None:
    with start_proxy(sandbox.url, latency=0.05) as proxy:
        core = core_api(proxy.rewrite_kubeconfig(sandbox.kubeconfig, tmp_path / "kubeconfig"))
        started = time.monotonic()
        assert [create(core, f"c{i}") for i in range(3)] == [201] * 3
        assert time.monotonic() - started >= 3 * 0.05
    assert proxy.url.startswith("http://127.0.0.1:")
    assert stored(sandbox) == {"c0", "c1", "c2"}
    assert proxy.requests == 0 and not proxy.injected  # bytes only: no HTTP seen


@pytest.mark.parametrize(
    ("kind", "seen", "applied"),
    [
        ("429", 429, False),
        ("500", 500, False),
        ("503", 503, False),
        ("reset", "ProtocolError", False),
        ("lost_answer", "ProtocolError", True),
    ],
)
def test_each_fault_kind(sandbox: Sandbox, tmp_path: Path, kind: str, seen: int | str, applied: bool) -> None:
    plan = FaultPlan(rate=1.0, kinds=(kind,), methods=frozenset({"POST"}))
    with start_proxy(sandbox.url, faults=plan) as proxy:
        core = core_api(proxy.rewrite_kubeconfig(sandbox.kubeconfig, tmp_path / "kubeconfig"))
        assert create(core, "x") == seen
        assert core.read_namespace("default").metadata.name == "default"  # GETs are not faulted
    assert (stored(sandbox) == {"x"}) is applied
    assert proxy.injected == {kind: 1}
    assert [(e.kind, e.method, e.target) for e in proxy.events] == [
        (kind, "POST", "/api/v1/namespaces/default/configmaps")
    ]


def test_429_carries_retry_after(sandbox: Sandbox, tmp_path: Path) -> None:
    plan = FaultPlan(rate=1.0, kinds=("429",), retry_after=7)
    with start_proxy(sandbox.url, faults=plan) as proxy:
        core = core_api(proxy.rewrite_kubeconfig(sandbox.kubeconfig, tmp_path / "kubeconfig"))
        with pytest.raises(client.ApiException) as info:
            core.read_namespace("default")
    assert info.value.headers["Retry-After"] == "7"
    assert '"reason":"TooManyRequests"' in info.value.body.replace(" ", "")


def test_timeout_holds_the_request_past_the_client_timeout(sandbox: Sandbox, tmp_path: Path) -> None:
    plan = FaultPlan(rate=1.0, kinds=("timeout",), stall=1.0)
    with start_proxy(sandbox.url, faults=plan) as proxy:
        core = core_api(proxy.rewrite_kubeconfig(sandbox.kubeconfig, tmp_path / "kubeconfig"))
        assert create(core, "x", timeout=0.2) == "ReadTimeoutError"
    assert stored(sandbox) == set()


def test_the_rate_is_a_seeded_share(sandbox: Sandbox, tmp_path: Path) -> None:
    counts = []
    for _ in range(2):
        with start_proxy(sandbox.url, faults=FaultPlan(rate=0.25, kinds=("503",)), seed=3) as proxy:
            core = core_api(proxy.rewrite_kubeconfig(sandbox.kubeconfig, tmp_path / "kubeconfig"))
            outcomes = [create(core, f"c{i}") for i in range(200)]
            counts.append(outcomes.count(503))
            assert proxy.injected["503"] == counts[-1] and proxy.requests == 200
        sandbox.reset()
    assert counts[0] == counts[1] and 30 <= counts[0] <= 70


def test_tls_terminated_passed_through_and_faulted(sandbox: Sandbox, tmp_path: Path) -> None:
    """An https upstream (a TLS-serving proxy in front of the sandbox), then a proxy of each mode on it."""
    with start_proxy(sandbox.url, serve_tls=True) as tls:
        assert tls.url.startswith("https://") and tls.ca_data
        secure = tls.rewrite_kubeconfig(sandbox.kubeconfig, tmp_path / "tls")
        assert create(core_api(secure), "direct") == 201
        with start_proxy(tls.url, latency=0.01) as passthrough:
            assert passthrough.ca_data is None  # the client still verifies the upstream's certificate
            assert (
                create(core_api(passthrough.rewrite_kubeconfig(secure, tmp_path / "pass")), "passed") == 201
            )
        plan = FaultPlan(rate=1.0, kinds=("lost_answer",))
        with start_proxy(tls.url, faults=plan) as faulty:
            assert faulty.url.startswith("https://") and faulty.ca_data != tls.ca_data
            assert create(core_api(faulty.rewrite_kubeconfig(secure, tmp_path / "faulty")), "lost") == (
                "ProtocolError"
            )
    assert stored(sandbox) == {"direct", "passed", "lost"}
