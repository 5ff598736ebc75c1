"""Clients of the `sandbox` fixture, all from the official kubernetes package."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kubernetes import client, dynamic

from restoreflow.sandbox import Sandbox


@pytest.fixture
def api(sandbox: Sandbox) -> Iterator[client.ApiClient]:
    with sandbox.api_client() as api_client:
        yield api_client


@pytest.fixture
def core(api: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api)


@pytest.fixture
def apps(api: client.ApiClient) -> client.AppsV1Api:
    return client.AppsV1Api(api)


@pytest.fixture
def dyn(api: client.ApiClient) -> dynamic.DynamicClient:
    return dynamic.DynamicClient(api)
