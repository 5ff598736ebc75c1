"""Sandbox create throughput: the ceiling every other benchmark runs under.

The sandbox runs in its own process (its own GIL). Clients create small ConfigMaps with the official
client's raw call (no models, as a restore's hot path does): one at a time (the baseline), from a
pool of threads, and from kubernetes.aio with many requests in flight; plus typed-model creates to
show the cost of building models. Prints objects/s and the ratio to the sequential baseline.
"""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from kubernetes import client
from kubernetes.aio import client as aio_client

from restoreflow.sandbox import Sandbox, start_sandbox

SEQUENTIAL = 1_500
CONCURRENT = 4_000
THREADS = 16
IN_FLIGHT = 128
HEADERS = {"Accept": "application/json", "Content-Type": "application/json"}


def body(prefix: str, i: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"{prefix}-{i}"},
        "data": {"k": "v" * 64},
    }


def path(namespace: str) -> str:
    return f"/api/v1/namespaces/{namespace}/configmaps"


def create_raw(api: client.ApiClient, namespace: str, obj: dict[str, Any]) -> None:
    response = api.call_api(*api.param_serialize("POST", path(namespace), header_params=HEADERS, body=obj))
    json.loads(response.read())
    if response.status != 201:
        raise RuntimeError(f"create failed: {response.status}")


def sequential(sb: Sandbox, count: int) -> float:
    with sb.api_client() as api:
        started = time.perf_counter()
        for i in range(count):
            create_raw(api, "default", body("seq", i))
        return count / (time.perf_counter() - started)


def sequential_typed(sb: Sandbox, count: int) -> float:
    with sb.api_client() as api:
        core = client.CoreV1Api(api)
        started = time.perf_counter()
        for i in range(count):
            core.create_namespaced_config_map("kube-public", body("typed", i))
        return count / (time.perf_counter() - started)


def threaded(sb: Sandbox, count: int, threads: int) -> float:
    config = sb.configuration()
    config.connection_pool_maxsize = threads
    with client.ApiClient(config) as api, ThreadPoolExecutor(threads) as pool:
        started = time.perf_counter()
        list(pool.map(lambda i: create_raw(api, "kube-system", body("thr", i)), range(count)))
        return count / (time.perf_counter() - started)


def asynchronous(sb: Sandbox, count: int, in_flight: int) -> float:
    async def main() -> float:
        config = aio_client.Configuration()
        config.host = sb.url
        config.connection_pool_maxsize = in_flight
        async with aio_client.ApiClient(config) as api:
            gate = asyncio.Semaphore(in_flight)

            async def one(i: int) -> None:
                async with gate:
                    request = await api.param_serialize(
                        "POST", path("kube-node-lease"), header_params=HEADERS, body=body("aio", i)
                    )
                    response = await api.call_api(*request)
                    data = await response.read()
                    if response.status != 201:
                        raise RuntimeError(f"create failed: {response.status}: {data[:200]!r}")

            started = time.perf_counter()
            await asyncio.gather(*(one(i) for i in range(count)))
            return count / (time.perf_counter() - started)

    return asyncio.run(main())


def main() -> None:
    with start_sandbox(process=True) as sb:
        sequential(sb, 100)  # warm up connections and code paths
        sb.reset()
        rows = [
            ("sequential, raw call (baseline)", sequential(sb, SEQUENTIAL)),
            ("sequential, typed models", sequential_typed(sb, SEQUENTIAL)),
            (f"{THREADS} threads, raw call", threaded(sb, CONCURRENT, THREADS)),
            (f"kubernetes.aio, {IN_FLIGHT} in flight", asynchronous(sb, CONCURRENT, IN_FLIGHT)),
        ]
        failures = [r for r in sb.requests() if r["code"] >= 400]
    baseline = rows[0][1]
    print(f"{'sandbox creates':42} {'objects/s':>10} {'ratio':>7}")
    for label, rate in rows:
        print(f"{label:42} {rate:10.0f} {rate / baseline:6.2f}x")
    print(f"failed requests: {len(failures)}")


if __name__ == "__main__":
    main()
