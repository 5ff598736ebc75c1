"""One restore at a time per target namespace, through Prefect global concurrency limits.

A restore holds one slot of `restoreflow-target-<cluster>-<namespace>` (limit 1) for every
namespace it writes to (`...-cluster` when it writes only cluster-scoped objects). The slots are
taken together (strict: a missing limit is created, never skipped), so two restores into one
namespace queue up while restores into different namespaces or clusters run side by side.
Cluster-scoped objects two restores share (a CRD, a StorageClass) are safe without a lock: the
engine creates each object once and treats "already exists" as Velero does.

The slots are taken through the lease calls of Prefect's client, not `prefect.concurrency.sync`,
whose waits cost a restore seconds for nothing (`bench/bench_flow.py`): on Prefect's SQLite server
a slot increment often fails with 503 "database is locked" (the server's own writes of the run's
events and logs land between the increment's read and its update), which Prefect's client retries
only after 2 s; and a restore queued behind another one polls at the server's Retry-After, which
grows with the limit's average occupancy up to 30 s. Here a busy server is asked again after 20 ms
(for every call on the lease and its holder's note), and a held target at most a second later, so a
queued restore starts within a second of the target's release. The lease names the flow run as
holder and is as short as Prefect allows (60 s, renewed every 10 s, so five renewals may fail before
it lapses): the server frees the slots of a process that died (`kill -9`, a lost node) once its
lease lapses and the server's lease reaper passes (every 15 s by default). Sooner on one machine:
each holder names its process in a Prefect variable (`restoreflow-holder-<hash of its targets>`, one
call for up to NOTE_TARGETS namespaces, left for the next holder to overwrite), and a restore
waiting for the target releases the lease of a holder whose process is gone (`backup.liveness`)
within DEAD_CHECK_SECONDS. `restoreflow restore unlock` shows the holds and their holders, and
breaks one at once.
"""

from __future__ import annotations

import contextvars
import hashlib
import itertools
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, TypeVar
from urllib.parse import urlsplit
from uuid import UUID

import httpx
from prefect import get_client, runtime
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate, VariableCreate, VariableUpdate
from prefect.client.schemas.objects import ConcurrencyLeaseHolder, Variable
from prefect.client.schemas.responses import ConcurrencyLimitWithLeaseResponse
from prefect.events import Event, emit_event
from prefect.exceptions import ObjectAlreadyExists
from prefect.logging import get_logger, get_run_logger
from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_KEY, PREFECT_API_URL

from restoreflow.backup.liveness import gone, process_identity
from restoreflow.restore import RestoreCancelled

PREFIX = "restoreflow-target-"
CLUSTER_SCOPED = "cluster"
LEASE_SECONDS = 60.0  # how long the server keeps the slots of a process that died (Prefect's minimum)
RENEW_SECONDS = 10.0
FIRST_WAIT = 0.02  # seconds before asking again; doubles up to LONGEST_WAIT
LONGEST_WAIT = 1.0  # how late a queued restore may notice that its target is free
DEAD_CHECK_SECONDS = 2.0  # how often a waiting restore checks whether the holder's process still lives
HOLDER_VARIABLE = "restoreflow-holder-"
# the notes, newest first, whatever other variables the server keeps
NOTES_QUERY = {"variables": {"name": {"like_": HOLDER_VARIABLE}}, "sort": "UPDATED_DESC", "limit": 200}
NOTE_TARGETS = 40  # targets per holder note: 40 limit names of up to ~120 characters fit in 5,000
T = TypeVar("T")
BUSY_ATTEMPTS = 100  # consecutive "database is locked" answers (about 90 s) before giving up


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


class _Busy(Exception):
    """The server's database was busy: the call changed nothing and may be sent again at once."""


def _busy_is_an_error(response: httpx.Response) -> None:
    """Response hook: a 503 surfaces now, not after the client's 2 s back-off."""
    if response.status_code == 503:
        raise _Busy


def _waits() -> Iterator[float]:
    wait = FIRST_WAIT
    while True:
        yield wait
        wait = min(wait * 2, LONGEST_WAIT)


def _patiently(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """A call on the lease client, sent again shortly after each busy answer."""
    for wait in itertools.islice(_waits(), BUSY_ATTEMPTS):
        try:
            return call(*args, **kwargs)
        except _Busy:
            time.sleep(wait)
    raise RuntimeError("the Prefect server stayed busy (its database is locked)")


def _logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    try:
        return get_run_logger()
    except Exception:  # outside a flow run
        return get_logger("restoreflow.locking")


def _holder() -> ConcurrencyLeaseHolder | None:
    """The flow run, so that the UI shows which restore holds a target."""
    run_id = runtime.flow_run.id
    return ConcurrencyLeaseHolder(type="flow_run", id=UUID(run_id)) if run_id else None


def _create_limits(client: Any, names: Iterable[str]) -> None:
    """Limit 1 each; a concurrent creator winning the race is fine."""
    for name in sorted(names):
        with suppress(ObjectAlreadyExists):
            _patiently(
                client.create_global_concurrency_limit, GlobalConcurrencyLimitCreate(name=name, limit=1)
            )


def _acquire(
    client: Any, names: list[str], cancel: threading.Event | None
) -> ConcurrencyLimitWithLeaseResponse:
    """Wait until every slot is ours, creating the limits that do not exist yet."""
    waits, busy, holder = _waits(), 0, _holder()
    stop = cancel or threading.Event()
    checked = time.monotonic()
    while True:
        try:
            response = client.increment_concurrency_slots_with_lease(
                names=names, slots=1, mode="concurrency", lease_duration=LEASE_SECONDS, holder=holder
            )
        except _Busy:
            busy += 1
            if busy >= BUSY_ATTEMPTS:
                raise RuntimeError(
                    f"the Prefect server stayed busy; could not take {', '.join(names)}"
                ) from None
        except httpx.HTTPStatusError as error:
            if error.response.status_code != 423:  # 423: another restore holds a slot
                raise
            if time.monotonic() - checked >= DEAD_CHECK_SECONDS:
                checked = time.monotonic()
                free_dead_holders(client, names)
        else:
            lease = ConcurrencyLimitWithLeaseResponse.model_validate(response.json())
            missing = set(names) - {limit.name for limit in lease.limits}
            if not missing:
                return lease
            _patiently(client.release_concurrency_slots_with_lease, lease.lease_id)
            _create_limits(client, missing)
            continue
        if stop.wait(next(waits)):
            raise RestoreCancelled(f"cancelled while waiting for {', '.join(names)}")


def _note_names(names: list[str]) -> list[tuple[str, list[str]]]:
    """The holder's notes for these targets: one Prefect variable per NOTE_TARGETS of them (a
    variable's value is at most 5,000 characters), named by a hash of the targets it covers."""
    ordered = sorted(names)
    chunks = [ordered[i : i + NOTE_TARGETS] for i in range(0, len(ordered), NOTE_TARGETS)]
    return [(HOLDER_VARIABLE + hashlib.sha256("\n".join(c).encode()).hexdigest()[:24], c) for c in chunks]


def _notes_naming(client: Any, name: str) -> list[Any]:
    """The holders' notes (Prefect variables) that name this target, the latest first."""
    response = _patiently(client.request, "POST", "/variables/filter", json=NOTES_QUERY)
    return [
        v
        for v in Variable.model_validate_list(response.json())
        if isinstance(v.value, dict) and name in (v.value.get("targets") or [])
    ]


def read_holders(client: Any, name: str) -> list[dict[str, Any]]:
    """`{"lease", "process": {host, pid, started}, "targets"}` of each holder that named itself for
    this target, the latest first. A note stays after its release (the next holder of the same
    targets overwrites it): the lease it names tells whether it still holds."""
    try:
        return [note.value for note in _notes_naming(client, name)]
    except Exception:
        return []


def forget_holders(client: Any, name: str) -> None:
    """Delete the notes naming a target (`restore unlock` broke its hold)."""
    with suppress(Exception):
        for note in _notes_naming(client, name):
            client.delete_variable_by_name(note.name)


def _note_holder(client: Any, names: list[str], lease_id: UUID) -> None:
    for variable, targets in _note_names(names):
        value = {"lease": str(lease_id), "process": process_identity(), "targets": targets}
        try:
            try:
                _patiently(client.update_variable, VariableUpdate(name=variable, value=value))
            except httpx.HTTPStatusError as missing:
                if missing.response.status_code != 404:
                    raise
                _patiently(client.create_variable, VariableCreate(name=variable, value=value))
        except Exception as error:  # the hold stands; only a faster recovery after a crash is lost
            _logger().warning(
                "could not name this process as the holder of %s: %s", ", ".join(targets), error
            )


def _still_held(client: Any, lease_id: str) -> bool:
    """Whether a lease has not been released (renewing it is the API's only way to ask)."""
    try:
        _patiently(client.renew_concurrency_lease, UUID(lease_id), LEASE_SECONDS)
    except (httpx.HTTPStatusError, ValueError):
        return False
    return True


def free_dead_holders(client: Any, names: list[str]) -> None:
    """Release the hold of a holder whose process is gone (judged on its own host only)."""
    seen: set[str] = set()
    for name in names:
        for holder in read_holders(client, name):
            lease = str(holder.get("lease"))
            if lease in seen or not gone(holder.get("process")):
                continue
            seen.add(lease)
            if not _still_held(client, lease):
                continue  # a finished restore's note
            process = holder["process"]
            with suppress(Exception):
                _patiently(client.release_concurrency_slots_with_lease, UUID(lease))
            _logger().warning(
                "the restore holding %s (pid %s on %s) is gone: its hold is released",
                name,
                process.get("pid"),
                process.get("host"),
            )


class _Renewal:
    """Names the holder, then renews the lease every RENEW_SECONDS, from a thread of its own until
    closed (the restore does not wait for the notes: one call per target namespace)."""

    def __init__(self, client: Any, lease_id: UUID, names: list[str]) -> None:
        self._client, self._lease_id, self._names = client, lease_id, names
        self._stop = threading.Event()
        context = contextvars.copy_context()  # the run's settings and logger live in context variables
        self._thread = threading.Thread(
            target=context.run, args=(self._loop,), name="restore-target-lease", daemon=True
        )
        self._thread.start()

    def _loop(self) -> None:
        _note_holder(self._client, self._names, self._lease_id)
        while not self._stop.wait(RENEW_SECONDS):
            try:
                _patiently(self._client.renew_concurrency_lease, self._lease_id, LEASE_SECONDS)
            except httpx.HTTPStatusError as error:
                if error.response.status_code == 410:
                    _logger().error(
                        "the hold on %s lapsed: another restore of these namespaces may start now",
                        ", ".join(self._names),
                    )
                    return
                _logger().warning("could not renew the hold on the target (trying again): %s", error)
            except Exception as error:  # a passing API fault: the lease outlasts several attempts
                _logger().warning("could not renew the hold on the target (trying again): %s", error)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def _emit(
    phase: str, lease: ConcurrencyLimitWithLeaseResponse, follows: dict[UUID, Event | None] | None = None
) -> dict[UUID, Event | None]:
    """Prefect's own `prefect.concurrency-limit.acquired|released` events, as its helper emits them."""
    events: dict[UUID, Event | None] = {}
    for limit in lease.limits:
        events[limit.id] = emit_event(
            f"prefect.concurrency-limit.{phase}",
            resource={
                "prefect.resource.id": f"prefect.concurrency-limit.{limit.id}",
                "prefect.resource.name": limit.name,
                "slots-acquired": "1",
                "limit": str(limit.limit),
            },
            related=[
                {
                    "prefect.resource.id": f"prefect.concurrency-limit.{other.id}",
                    "prefect.resource.role": "concurrency-limit",
                }
                for other in lease.limits
                if other.id != limit.id
            ],
            follows=(follows or {}).get(limit.id),
        )
    return events


_CLIENTS: dict[tuple[str, ...], Any] = {}
_CLIENTS_LOCK = threading.Lock()


def _lease_client() -> Any:
    """One client per API for the process, entered once: building a client costs some 25 ms (its
    TLS context), a tenth of what a restore may spend on Prefect."""
    key = tuple(
        str(setting.value()) for setting in (PREFECT_API_URL, PREFECT_API_KEY, PREFECT_API_AUTH_STRING)
    )
    with _CLIENTS_LOCK:
        if key not in _CLIENTS:
            hooks = {"event_hooks": {"response": [_busy_is_an_error]}}
            _CLIENTS[key] = get_client(sync_client=True, httpx_settings=hooks).__enter__()
        return _CLIENTS[key]


@contextmanager
def hold_target(names: list[str], cancel: threading.Event | None = None) -> Iterator[None]:
    """Wait for and hold every slot of the restore's targets; a set `cancel` ends the wait."""
    if not names:
        yield
        return
    client = _lease_client()
    lease = _acquire(client, names, cancel)
    acquired = _emit("acquired", lease)
    renewal = _Renewal(client, lease.lease_id, names)
    try:
        yield
    finally:
        renewal.close()
        _release(client, lease, acquired)


def _release(
    client: Any, lease: ConcurrencyLimitWithLeaseResponse, acquired: dict[UUID, Event | None]
) -> None:
    """Free the slots; a restore that did its work never fails for want of an answer here."""
    try:
        _patiently(client.release_concurrency_slots_with_lease, lease.lease_id)
    except Exception as error:
        _logger().warning("could not release the target (it is freed when its lease lapses): %s", error)
        return
    _emit("released", lease, follows=acquired)
