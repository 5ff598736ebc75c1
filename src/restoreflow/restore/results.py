"""Velero's restore results (warnings and errors keyed velero/cluster/namespace) and item outcomes."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

ItemAction = Literal["created", "updated", "skipped", "failed"]


class Result:
    """One of Velero's `Result`s: messages for Velero itself, the cluster, and each TARGET namespace."""

    def __init__(self) -> None:
        self.velero: list[str] = []
        self.cluster: list[str] = []
        self.namespaces: dict[str, list[str]] = {}

    def add(self, namespace: str, message: str) -> None:
        """Velero's Result.Add: "" is the cluster, anything else a namespace."""
        if namespace:
            self.namespaces.setdefault(namespace, []).append(message)
        else:
            self.cluster.append(message)

    def __len__(self) -> int:
        return len(self.velero) + len(self.cluster) + sum(map(len, self.namespaces.values()))

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape Velero writes: every field omitted when empty."""
        out: dict[str, Any] = {}
        if self.velero:
            out["velero"] = list(self.velero)
        if self.cluster:
            out["cluster"] = list(self.cluster)
        if self.namespaces:
            out["namespaces"] = {ns: list(msgs) for ns, msgs in sorted(self.namespaces.items())}
        return out


class Results:
    """Warnings and errors of one restore; thread-safe; every message also goes to the restore log."""

    def __init__(self, log: Any = None) -> None:
        self.warnings = Result()
        self.errors = Result()
        self._lock = threading.Lock()
        self._log = log

    def add_warning(self, namespace: str, message: str) -> None:
        with self._lock:
            self.warnings.add(namespace, message)
        self._emit("warning", namespace, message)

    def add_error(self, namespace: str, message: str) -> None:
        with self._lock:
            self.errors.add(namespace, message)
        self._emit("error", namespace, message)

    def add_velero_warning(self, message: str) -> None:
        with self._lock:
            self.warnings.velero.append(message)
        self._emit("warning", None, message)

    def add_velero_error(self, message: str) -> None:
        with self._lock:
            self.errors.velero.append(message)
        self._emit("error", None, message)

    def _emit(self, level: str, namespace: str | None, message: str) -> None:
        """Log it in the restore controller's words: "Namespace shop, resource restore error: ..."."""
        if self._log is None:
            return
        if namespace is None:
            where = "Velero restore"
        elif namespace:
            where = f"Namespace {namespace}, resource restore"
        else:
            where = "Cluster resource restore"
        self._log.log(30 if level == "warning" else 40, "%s %s: %s", where, level, message)

    def to_dict(self) -> dict[str, Any]:
        """`restore-<R>-results.gz` content: {"warnings": Result, "errors": Result}."""
        with self._lock:
            return {"warnings": self.warnings.to_dict(), "errors": self.errors.to_dict()}

    @property
    def warning_count(self) -> int:
        return len(self.warnings)

    @property
    def error_count(self) -> int:
        return len(self.errors)


@dataclass(frozen=True)
class ItemKey:
    """Velero's itemKey: the backed-up object's "<apiVersion>/<Kind>", the TARGET namespace, the name."""

    resource: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


_WAITING = threading.Lock()  # guards ItemStatus's lazy event: held for a few instructions


@dataclass
class ItemStatus:
    """One item's outcome; `finish()` when its restore call has finished, `wait()` for that.

    Almost no item is ever waited for, so the Event is made only for a waiter (an Event per item was
    the largest single cost of the per-item pipeline)."""

    action: ItemAction | None = None
    exists: bool = False  # whether the object exists in the cluster afterwards
    owner: int = 0  # the thread restoring it (a cycle of additional items must not wait on itself)
    finished: bool = False
    _event: threading.Event | None = field(default=None, repr=False, compare=False)

    def finish(self) -> None:
        with _WAITING:
            self.finished, event = True, self._event
        if event is not None:
            event.set()

    def wait(self, timeout: float) -> bool:
        """True once finished; False when `timeout` seconds passed first."""
        with _WAITING:
            if self.finished:
                return True
            event = self._event = self._event or threading.Event()
        return event.wait(timeout)


class RestoredItems:
    """Every item the restore has touched, claimed once (two workers never restore the same object)."""

    def __init__(self) -> None:
        self._items: dict[ItemKey, ItemStatus] = {}
        self._lock = threading.Lock()

    def claim(self, key: ItemKey) -> tuple[ItemStatus, bool]:
        """(status, True) for the first caller; (the existing status, False) for the others."""
        with self._lock:
            status = self._items.get(key)
            if status is not None:
                return status, False
            status = self._items[key] = ItemStatus(owner=threading.get_ident())
            return status, True

    def record(self, key: ItemKey, action: ItemAction) -> None:
        """Record an item restored outside the item pipeline (namespaces created on demand)."""
        with self._lock:
            status = self._items.setdefault(key, ItemStatus())
            status.action, status.exists = action, True
            status.finish()

    def get(self, key: ItemKey) -> ItemStatus | None:
        with self._lock:
            return self._items.get(key)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def items(self) -> list[tuple[ItemKey, ItemStatus]]:
        with self._lock:
            return list(self._items.items())

    def actions(self) -> dict[ItemKey, ItemAction]:
        """item key -> action, for the finished items."""
        return {k: s.action for k, s in self.items() if s.action is not None}

    def counts(self) -> dict[str, int]:
        counts = Counter(s.action for _, s in self.items() if s.action)
        return {a: counts.get(a, 0) for a in ("created", "updated", "skipped", "failed")}

    def resource_list(self) -> dict[str, list[str]]:
        """`restore-<R>-resource-list.json.gz`: {"<apiVersion>/<Kind>": ["ns/name(action)", ...]}, sorted."""
        listing: dict[str, list[str]] = {}
        for key, status in self.items():
            if status.action:
                listing.setdefault(key.resource, []).append(f"{key}({status.action})")
        return {k: sorted(v) for k, v in sorted(listing.items())}
