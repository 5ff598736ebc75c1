"""The engine's only door to the Kubernetes API: plain dicts over the official client's HTTP pool.

Every call goes through one token bucket (the restore's QPS and burst) and is retried with
exponential backoff and full jitter on 429 (honouring Retry-After), 500/502/503/504, timeouts and
dropped connections. Bodies are encoded and decoded as JSON directly on the client's urllib3 pool,
so no typed model is built per item.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from restoreflow import codec
from restoreflow.cluster.discovery import Discovery, ResourceInfo
from restoreflow.cluster.errors import ApiError, ConnectionFault
from restoreflow.cluster.ratelimit import TokenBucket
from restoreflow.plan.model import ApiRetries, Concurrency, Target

MERGE_PATCH = "application/merge-patch+json"
JSON = "application/json"
AUTH_REFRESH = 60.0  # seconds


def make_api_client(target: Target, pool_size: int = 64) -> k8s.ApiClient:
    """An ApiClient for the plan's target: kubeconfig + context, or KUBECONFIG / in-cluster like kubectl."""
    configuration = k8s.Configuration()
    kubeconfig = os.path.expanduser(target.kubeconfig) if target.kubeconfig else None
    default_exists = Path(os.path.expanduser(os.environ.get("KUBECONFIG", "~/.kube/config"))).exists()
    if kubeconfig is None and not default_exists and os.environ.get("KUBERNETES_SERVICE_HOST"):
        k8s_config.load_incluster_config(client_configuration=configuration)
    else:
        k8s_config.load_kube_config(
            config_file=kubeconfig, context=target.context, client_configuration=configuration
        )
    configuration.connection_pool_maxsize = pool_size
    configuration.retries = False  # retries are ours: counted, jittered, honouring Retry-After
    return k8s.ApiClient(configuration)


class Cluster:
    """get/list/create/patch/update_status/delete over plain dicts; implements `ClusterReader`."""

    def __init__(
        self,
        api_client: k8s.ApiClient,
        *,
        qps: float = 100.0,
        burst: int = 100,
        retries: ApiRetries | None = None,
        cancel: threading.Event | None = None,
    ):
        self.api_client = api_client
        self.bucket = TokenBucket(qps, burst)
        self.retries = retries or ApiRetries()
        self.log = logging.getLogger("restoreflow.cluster")  # the restore puts its own log here
        self.cancel = cancel or threading.Event()
        self.retry_counts: Counter[str] = Counter()
        self._count_lock = threading.Lock()
        self.discovery = Discovery(lambda path: self.request("GET", path))
        self._host = str(api_client.configuration.host)  # the property re-reads proxy settings each time
        self._auth: tuple[float, dict[str, str]] = (0.0, {})

    @classmethod
    def for_target(
        cls,
        target: Target,
        concurrency: Concurrency | None = None,
        retries: ApiRetries | None = None,
        cancel: threading.Event | None = None,
    ) -> Cluster:
        concurrency = concurrency or Concurrency()
        api_client = make_api_client(target, pool_size=max(16, concurrency.workers + 8))
        return cls(api_client, qps=concurrency.qps, burst=concurrency.burst, retries=retries, cancel=cancel)

    @property
    def host(self) -> str:
        return self._host

    @property
    def total_retries(self) -> int:
        return sum(self.retry_counts.values())

    def close(self) -> None:
        self.api_client.close()

    # -- raw calls -----------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: Mapping[str, Any] | None = None,
        content_type: str = JSON,
    ) -> Any:
        """One API call with rate limiting and retries; the decoded JSON body or ApiError/ConnectionFault."""
        url = self._url(path, query)
        payload = codec.dumps(body) if body is not None else None
        attempts = max(1, self.retries.attempts)
        unanswered = False
        for attempt in range(attempts):
            self.bucket.acquire()
            try:
                return self._send(method, url, payload, content_type)
            except ApiError as error:
                error.after_lost_answer = unanswered
                if not error.retryable or attempt + 1 == attempts:
                    raise
                self._retry(method, path, str(error.code), error.message, attempt)
                self._pause(error.retry_after if error.retry_after is not None else self._backoff(attempt))
            except (urllib3.exceptions.HTTPError, OSError) as fault:
                if attempt + 1 == attempts:
                    raise ConnectionFault(f"{method} {path}: {_fault_text(fault)}") from fault
                unanswered = True
                reason = "timeout" if isinstance(fault, urllib3.exceptions.TimeoutError) else "connection"
                self._retry(method, path, reason, _fault_text(fault), attempt)
                self._pause(self._backoff(attempt))
        raise AssertionError("unreachable")

    def _url(self, path: str, query: Mapping[str, Any] | None) -> str:
        url = self._host + path
        if query:
            url += "?" + urlencode({k: v for k, v in query.items() if v is not None})
        return url

    def _send(self, method: str, url: str, payload: bytes | None, content_type: str) -> Any:
        headers = {
            "Accept": JSON,
            "Content-Type": content_type,
            "User-Agent": "restoreflow",
            **self._auth_headers(),
        }
        response = self.api_client.rest_client.pool_manager.request(
            method,
            url,
            body=payload,
            headers=headers,
            timeout=urllib3.Timeout(connect=10.0, read=self.retries.request_timeout),
            retries=False,
            preload_content=True,
        )
        if 200 <= response.status < 300:
            return codec.loads(response.data) if response.data else {}
        raise ApiError.from_response(response.status, response.data, response.headers)

    def _auth_headers(self) -> dict[str, str]:
        """The bearer token header, re-read every minute (kubeconfig exec plugins refresh tokens)."""
        stamp, headers = self._auth
        if time.monotonic() - stamp > AUTH_REFRESH:
            token = self.api_client.configuration.auth_settings().get("BearerToken")
            headers = {token["key"]: token["value"]} if token and token.get("value") else {}
            self._auth = (time.monotonic(), headers)
        return headers

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.retries.max_backoff, self.retries.initial_backoff * (2**attempt))
        return random.uniform(ceiling / 2, ceiling)

    def _pause(self, seconds: float) -> None:
        self.cancel.wait(seconds) if seconds > 0 else None

    def _retry(self, method: str, path: str, reason: str, message: str, attempt: int) -> None:
        """Count a retry by its cause and say so in the log (the restore's own, once it has one)."""
        with self._count_lock:
            self.retry_counts[reason] += 1
        self.log.info(
            "retrying %s %s (attempt %d of %d): %s: %s",
            method, path, attempt + 2, self.retries.attempts, reason, message,
        )  # fmt: skip

    # -- objects -----------------------------------------------------------------------------
    def info(self, resource: str | ResourceInfo) -> ResourceInfo:
        """Resolve a resource name through discovery; ApiError 404 when the server does not serve it."""
        if isinstance(resource, ResourceInfo):
            return resource
        info = self.discovery.resolve(resource)
        if info is None:
            raise ApiError(404, "NotFound", f'the server doesn\'t have a resource type "{resource}"')
        return info

    def read(self, resource: str | ResourceInfo, name: str, namespace: str | None = None) -> dict[str, Any]:
        """The object; ApiError (404 NotFound) when it does not exist."""
        return self.request("GET", self.info(resource).path(namespace, name))

    def get(
        self, resource: str | ResourceInfo, name: str, namespace: str | None = None
    ) -> dict[str, Any] | None:
        """The object, or None on 404 (ClusterReader)."""
        try:
            return self.read(resource, name, namespace)
        except ApiError as error:
            if error.not_found:
                return None
            raise

    def list(
        self, resource: str | ResourceInfo, namespace: str | None = None, label_selector: str | None = None
    ) -> list[dict[str, Any]]:
        info = self.info(resource)
        body = self.request("GET", info.path(namespace), query={"labelSelector": label_selector or None})
        items = body.get("items") or []
        for item in items:  # list items carry no apiVersion/kind; give them back, as kubectl does
            item.setdefault("apiVersion", info.api_version)
            item.setdefault("kind", info.kind)
        return items

    def create(
        self, resource: str | ResourceInfo, obj: Mapping[str, Any], *, dry_run: bool = False
    ) -> dict[str, Any]:
        info = self.info(resource).at_version(str(obj.get("apiVersion", "")))
        namespace = (obj.get("metadata") or {}).get("namespace")
        query = {"dryRun": "All"} if dry_run else None
        return self.request("POST", info.path(namespace), body=obj, query=query)

    def patch(
        self,
        resource: str | ResourceInfo,
        name: str,
        patch: Mapping[str, Any],
        namespace: str | None = None,
        *,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """A JSON merge patch (RFC 7386), as Velero sends."""
        query = {"dryRun": "All"} if dry_run else None
        path = self.info(resource).path(namespace, name)
        return self.request("PATCH", path, body=patch, query=query, content_type=MERGE_PATCH)

    def update_status(self, resource: str | ResourceInfo, obj: Mapping[str, Any]) -> dict[str, Any]:
        meta = obj.get("metadata") or {}
        info = self.info(resource).at_version(str(obj.get("apiVersion", "")))
        return self.request("PUT", info.path(meta.get("namespace"), meta.get("name"), "status"), body=obj)

    def delete(self, resource: str | ResourceInfo, name: str, namespace: str | None = None) -> dict[str, Any]:
        return self.request("DELETE", self.info(resource).path(namespace, name))

    def version(self) -> dict[str, Any]:
        """GET /version: proves the cluster is reachable and answers."""
        return self.request("GET", "/version")


def _fault_text(fault: BaseException) -> str:
    reason = getattr(fault, "reason", None)
    return str(reason or fault) or type(fault).__name__


def wait_until(
    predicate: Callable[[], bool], timeout: float, interval: float, cancel: threading.Event | None = None
) -> bool:
    """Poll `predicate()` every `interval` seconds until true or `timeout`; False on timeout or cancel."""
    deadline = time.monotonic() + timeout
    event = cancel or threading.Event()
    while True:
        if predicate():
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0 or event.is_set():
            return False
        event.wait(min(interval, remaining))
