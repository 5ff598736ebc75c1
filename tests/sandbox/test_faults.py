"""Fault injection: 429 with Retry-After, 5xx, latency, dropped connections; counts, seeded shares."""

from __future__ import annotations

import time

import pytest
import urllib3
from kubernetes import client

from restoreflow.sandbox import FaultRule, Sandbox
from tests.sandbox.helpers import api_error, raw, status_of


def configmap(name: str) -> dict:
    return {"metadata": {"name": name}}


def test_count_of_503_then_success_and_nothing_stored_meanwhile(
    sandbox: Sandbox, core: client.CoreV1Api
) -> None:
    sandbox.add_fault("verb=create,resource=configmaps,count=2,code=503")
    for _ in range(2):
        error = api_error(lambda: core.create_namespaced_config_map("default", configmap("x")))
        status = status_of(error)
        assert (error.status, status["reason"]) == (503, "ServiceUnavailable")
        assert status["message"] == "the server is currently unable to handle the request"
        assert sandbox.get("configmaps", "x", "default") is None
    assert core.create_namespaced_config_map("default", configmap("x")).metadata.name == "x"
    assert [r["code"] for r in sandbox.requests() if r["verb"] == "create"] == [503, 503, 201]


def test_429_carries_retry_after(sandbox: Sandbox, api: client.ApiClient) -> None:
    sandbox.add_fault(FaultRule(verb="create", resource="secrets", count=1, code=429, retry_after=3))
    request = api.param_serialize(
        "POST", "/api/v1/namespaces/default/secrets", body={"metadata": {"name": "s"}}
    )
    response = api.call_api(*request)
    assert (response.status, response.headers["Retry-After"]) == (429, "3")
    assert raw(api, "POST", "/api/v1/namespaces/default/secrets", {"metadata": {"name": "s"}})[0] == 201


def test_the_client_honours_retry_after_on_reads(sandbox: Sandbox, core: client.CoreV1Api) -> None:
    sandbox.add_fault("verb=get,resource=configmaps,count=1,code=429,retry_after=1")
    assert core.read_namespaced_config_map("kube-root-ca.crt", "default").data
    first, second = sandbox.requests()
    assert (first["code"], second["code"]) == (429, 200)
    assert second["time"] - first["time"] >= 1


@pytest.mark.parametrize(("code", "reason"), [(500, "InternalError"), (504, "Timeout")])
def test_server_errors(sandbox: Sandbox, core: client.CoreV1Api, code: int, reason: str) -> None:
    sandbox.add_fault(f"verb=delete,namespace=default,count=1,code={code}")
    core.create_namespaced_config_map("default", configmap("x"))
    error = api_error(lambda: core.delete_namespaced_config_map("x", "default"))
    assert (error.status, status_of(error)["reason"]) == (code, reason)
    assert sandbox.get("configmaps", "x", "default") is not None


def test_filters_by_verb_resource_and_namespace(sandbox: Sandbox, core: client.CoreV1Api) -> None:
    sandbox.add_fault("verb=create,resource=configmaps,namespace=kube-public,code=500")
    core.create_namespaced_config_map("default", configmap("ok"))
    core.create_namespaced_secret("kube-public", {"metadata": {"name": "ok"}})
    assert api_error(lambda: core.create_namespaced_config_map("kube-public", configmap("no"))).status == 500
    assert api_error(lambda: core.create_namespaced_config_map("kube-public", configmap("no"))).status == 500
    sandbox.clear_faults()
    core.create_namespaced_config_map("kube-public", configmap("yes"))


def test_latency(sandbox: Sandbox, core: client.CoreV1Api) -> None:
    sandbox.add_fault("verb=get,resource=configmaps,count=1,latency=0.3")
    started = time.monotonic()
    assert core.read_namespaced_config_map("kube-root-ca.crt", "default").data
    assert time.monotonic() - started >= 0.3


def test_drop_closes_the_connection_without_an_answer(sandbox: Sandbox) -> None:
    sandbox.add_fault("verb=create,resource=configmaps,count=1,drop=true")
    pool = urllib3.PoolManager(retries=False)
    url = f"{sandbox.url}/api/v1/namespaces/default/configmaps"
    with pytest.raises(urllib3.exceptions.ProtocolError):
        pool.request("POST", url, json=configmap("x"))
    assert sandbox.get("configmaps", "x", "default") is None
    assert pool.request("POST", url, json=configmap("x")).status == 201
    assert [r["code"] for r in sandbox.requests()] == [0, 201]


def test_share_is_deterministic_for_a_seed(sandbox: Sandbox, core: client.CoreV1Api) -> None:
    def outcomes() -> list[int]:
        sandbox.reset(seed=7, faults=["verb=get,resource=configmaps,share=0.5,code=500"])
        codes = []
        for _ in range(20):
            try:
                core.read_namespaced_config_map("kube-root-ca.crt", "default")
                codes.append(200)
            except client.ApiException as err:
                codes.append(err.status)
        return codes

    first = outcomes()
    assert 0 < first.count(500) < 20
    assert outcomes() == first


def test_reset_clears_faults_and_the_request_log(sandbox: Sandbox, core: client.CoreV1Api) -> None:
    sandbox.add_fault("code=503")
    assert api_error(lambda: core.list_namespace()).status == 503
    sandbox.reset()
    assert sandbox.requests() == []
    assert len(core.list_namespace().items) == 4


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("verb=create,colour=red,code=500", "unknown setting 'colour=red'"),
        ("code=418", "fault code must be one of [429, 500, 503, 504], not 418"),
        ("resource=pods,count=x,code=500", "bad value for count: 'x'"),
        ("resource=pods", "a fault needs code=, latency= or drop=true"),
        ("share=2,code=500", "fault share must be between 0 and 1, not 2.0"),
    ],
)
def test_rule_parsing_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")):
        FaultRule.parse(text)


def test_rule_string_form() -> None:
    rule = FaultRule.parse(
        "verb=create,resource=deployments.apps,namespace=shop,share=0.25,code=429,retry-after=5"
    )
    assert rule == FaultRule(
        verb="create", resource="deployments.apps", namespace="shop", share=0.25, code=429, retry_after=5
    )
