"""One restore at a time per target namespace, through Prefect global concurrency limits.

A restore holds one slot of `restoreflow-target-<cluster>-<namespace>` (limit 1) for every
namespace it writes to (`...-cluster` when it writes only cluster-scoped objects). The slots are
taken together (strict: a missing limit is an error, never a silent pass), so two restores into one
namespace queue up while restores into different namespaces or clusters run side by side.
Cluster-scoped objects two restores share (a CRD, a StorageClass) are safe without a lock: the
engine creates each object once and treats "already exists" as Velero does. Limits are created on
demand.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import Any
from urllib.parse import urlsplit

from prefect import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

PREFIX = "restoreflow-target-"
CLUSTER_SCOPED = "cluster"


def cluster_key(ctx: Any) -> str:
    """The target cluster: its API server address (or the kubeconfig and context when unknown)."""
    host = ""
    api_client = getattr(getattr(ctx, "cluster", None), "api_client", None)
    if api_client is not None:
        host = api_client.configuration.host
    if host:
        parts = urlsplit(host)
        host = parts.netloc + parts.path.rstrip("/")
    else:
        target = ctx.plan.spec.target
        host = f"{target.kubeconfig or 'default'}@{target.context or 'current'}"
    return re.sub(r"[/%&<>\s]+", "_", host)


def target_scopes(ctx: Any, groups: Iterable[Any]) -> list[str]:
    """The target namespaces a restore writes to (`cluster` when it writes none)."""
    scopes: set[str] = set()
    for group in groups:
        for item in group.items:
            if item.namespace:
                scopes.add(ctx.target_namespace(item.namespace))
            elif group.resource == "namespaces":
                scopes.add(ctx.target_namespace(item.name))
    return sorted(scopes) or [CLUSTER_SCOPED]


def limit_names(ctx: Any, groups: Iterable[Any]) -> list[str]:
    cluster = cluster_key(ctx)
    return [f"{PREFIX}{cluster}-{scope}" for scope in target_scopes(ctx, groups)]


def ensure_limits(names: Iterable[str]) -> None:
    """Create the missing limits (limit 1); a concurrent creator winning the race is fine."""
    with get_client(sync_client=True) as client:
        for name in names:
            try:
                client.read_global_concurrency_limit_by_name(name)
            except ObjectNotFound:
                with suppress(ObjectAlreadyExists):
                    client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))


@contextmanager
def hold_target(names: list[str]) -> Iterator[None]:
    """Wait for and hold every slot of the restore's targets."""
    if not names:
        yield
        return
    ensure_limits(names)
    with concurrency(names, occupy=1, strict=True):
        yield
