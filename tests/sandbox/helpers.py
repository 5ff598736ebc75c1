"""Assertion helpers for the sandbox conformance tests."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from kubernetes import client


def eventually(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll until check() returns a truthy value (controllers act after their delays)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: last result {result!r}")
        time.sleep(0.01)


def api_error(call: Callable[[], Any]) -> client.ApiException:
    """The ApiException call raises (fails the test if it succeeds)."""
    with pytest.raises(client.ApiException) as info:
        call()
    return info.value


def status_of(error: client.ApiException) -> dict[str, Any]:
    return json.loads(error.body)


def raw(
    api: client.ApiClient, method: str, path: str, body: Any = None, content_type: str = "application/json"
) -> tuple[int, Any]:
    """A request through ApiClient.call_api (no models): (status, JSON body or text)."""
    headers = {"Accept": "application/json", "Content-Type": content_type}
    response = api.call_api(*api.param_serialize(method, path, header_params=headers, body=body))
    data = response.read().decode()
    try:
        return response.status, json.loads(data)
    except ValueError:
        return response.status, data
