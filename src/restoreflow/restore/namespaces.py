"""Target namespaces: created once per restore from the backed-up Namespace."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from restoreflow.cluster import ApiError, ConnectionFault
from restoreflow.restore.results import ItemKey

if TYPE_CHECKING:
    from restoreflow.restore.context import RestoreContext

POLL_INTERVAL = 1.0  # Velero polls a terminating namespace every second


class NamespaceError(Exception):
    """The namespace could not be made ready; the message is Velero's (a Velero-level error)."""


class Namespaces:
    """Ensures each target namespace exists exactly once per restore (a once-lock per namespace)."""

    def __init__(self, ctx: RestoreContext) -> None:
        self.ctx = ctx
        self._lock = threading.Lock()
        self._ready: dict[str, threading.Event] = {}
        self._errors: dict[str, str] = {}
        self._timed_out: set[str] = set()

    def ensure(self, target: str, source: str) -> None:
        """Return when `target` exists and is active; NamespaceError otherwise (reported once)."""
        ready = self._ready.get(target)  # fast path, no lock: every item of a namespace asks
        if ready is not None and ready.is_set() and target not in self._errors:
            return
        with self._lock:
            event = self._ready.get(target)
            first = event is None
            if first:
                event = self._ready[target] = threading.Event()
        assert event is not None
        if first:
            try:
                self._make_ready(target, source)
            except NamespaceError as error:
                self._errors[target] = str(error)
                self.ctx.results.add_velero_error(str(error))
            finally:
                event.set()
        else:
            event.wait()
        if target in self._errors:
            raise NamespaceError(self._errors[target])

    def _make_ready(self, target: str, source: str) -> None:
        """Velero's EnsureNamespaceExistsAndIsReady: poll every second while it is terminating."""
        cluster, timeout = self.ctx.cluster, self.ctx.plan.spec.timeouts.terminating_resource
        deadline = self.ctx.deadline(timeout)
        while True:
            try:
                live = cluster.get("namespaces", target)
                if live is None:
                    if self._create(target, source):
                        return
                    continue
            except (ApiError, ConnectionFault) as error:
                raise NamespaceError(f"error getting namespace {target}: {error}") from error
            terminating = (live.get("metadata") or {}).get("deletionTimestamp") or (
                (live.get("status") or {}).get("phase") == "Terminating"
            )
            if not terminating:
                return
            if self.ctx.dry_run:  # a preview does not wait: the server's answers to its writes tell
                self.ctx.log.warning("namespace %s is terminating: the restore would wait for it", target)
                return
            if self.ctx.remaining(deadline) <= 0:
                raise NamespaceError(
                    f"timed out waiting for terminating namespace {target} to disappear before restoring"
                )
            self.ctx.log.info("namespace %s is terminating, waiting for it to disappear", target)
            if self.ctx.sleep(min(POLL_INTERVAL, self.ctx.remaining(deadline))):
                raise NamespaceError(f"error creating namespace {target}: restore cancelled")

    def _create(self, target: str, source: str) -> bool:
        """Create the namespace; True when it exists afterwards, False to poll again (it is terminating)."""
        try:
            self.ctx.cluster.create("namespaces", namespace_object(self.ctx, target, source))
        except ApiError as error:
            if error.already_exists and error.after_lost_answer:  # our create was stored, its answer lost
                self.ctx.restored.record(ItemKey("v1/Namespace", "", target), "created")
                self.ctx.log.info("created namespace %s (the answer to its create was lost)", target)
                return True
            if error.already_exists:
                return False  # someone else made it meanwhile: check it is not terminating
            raise NamespaceError(f"error creating namespace {target}: {error}") from error
        except ConnectionFault as error:
            raise NamespaceError(f"error creating namespace {target}: {error}") from error
        self.ctx.restored.record(ItemKey("v1/Namespace", "", target), "created")
        self.ctx.log.info("created namespace %s", target)
        return True


def namespace_object(ctx: RestoreContext, target: str, source: str) -> dict[str, Any]:
    """Velero's getNamespace: the backed-up Namespace's labels, annotations and spec, renamed."""
    bare = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": target}}
    archive = ctx.contents.archive if ctx.contents else None
    if archive is None or not archive.has_item("namespaces", "", source):
        return bare
    try:
        backed_up = archive.read_item("namespaces", "", source)
    except Exception as error:
        ctx.log.warning("error reading the backed-up namespace %s, creating a bare one: %s", source, error)
        return bare
    metadata = backed_up.get("metadata") or {}
    obj: dict[str, Any] = {
        "apiVersion": backed_up.get("apiVersion", "v1"),
        "kind": backed_up.get("kind", "Namespace"),
        "metadata": {"name": target},
    }
    for key in ("labels", "annotations"):
        if metadata.get(key):
            obj["metadata"][key] = dict(metadata[key])
    if backed_up.get("spec"):
        obj["spec"] = backed_up["spec"]
    return obj
