"""The object store: plain dicts, one resourceVersion counter for every write (like etcd's revision).

Everything runs on the server's single event-loop thread, so writes are applied one at a time. Stored
dicts are never changed in place: a write stores a new dict, so readers may serialise what they get.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from restoreflow.sandbox.catalog import ResourceType

Key = tuple[str, str]  # (namespace, name); namespace "" for cluster-scoped objects
GroupResource = tuple[str, str]


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_uid() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Event:
    """One stored change, as a watch reports it."""

    type: str  # ADDED | MODIFIED | DELETED
    rtype: ResourceType
    obj: dict[str, Any]
    old: dict[str, Any] | None
    revision: int


Listener = Callable[[Event], None]


class Store:
    """Objects by (group, resource) then (namespace, name); listeners see every change."""

    def __init__(self, history: int = 20000) -> None:
        self.revision = 0
        self._objects: dict[GroupResource, dict[Key, dict[str, Any]]] = {}
        self._listeners: list[Listener] = []
        self.history: deque[Event] = deque(maxlen=history)
        self._by_uid: dict[str, tuple[GroupResource, Key]] = {}
        self._dependents: dict[str, set[tuple[GroupResource, Key]]] = {}

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def get(self, rtype: ResourceType, namespace: str, name: str) -> dict[str, Any] | None:
        return self._objects.get((rtype.group, rtype.resource), {}).get((namespace, name))

    def items(self, rtype: ResourceType, namespace: str | None = None) -> list[dict[str, Any]]:
        """Objects in etcd key order (namespace, then name)."""
        bucket = self._objects.get((rtype.group, rtype.resource), {})
        keys = sorted(k for k in bucket if namespace is None or k[0] == namespace)
        return [bucket[k] for k in keys]

    def all_in_namespace(self, namespace: str) -> Iterator[tuple[GroupResource, dict[str, Any]]]:
        for gr, bucket in list(self._objects.items()):
            for (ns, _name), obj in list(bucket.items()):
                if ns == namespace:
                    yield gr, obj

    def by_uid(self, uid: str) -> dict[str, Any] | None:
        where = self._by_uid.get(uid)
        return self._objects.get(where[0], {}).get(where[1]) if where else None

    def dependents(self, uid: str) -> list[tuple[GroupResource, dict[str, Any]]]:
        """Objects whose ownerReferences name uid, in a stable order."""
        found = []
        for gr, key in sorted(self._dependents.get(uid, ())):
            obj = self._objects.get(gr, {}).get(key)
            if obj is not None:
                found.append((gr, obj))
        return found

    def _index(
        self, gr: GroupResource, key: Key, old: dict[str, Any] | None, new: dict[str, Any] | None
    ) -> None:
        for obj, add in ((old, False), (new, True)):
            if obj is None:
                continue
            meta = obj["metadata"]
            owners = [r.get("uid") for r in meta.get("ownerReferences") or [] if isinstance(r, dict)]
            if add:
                if meta.get("uid"):
                    self._by_uid[meta["uid"]] = (gr, key)
                for uid in owners:
                    self._dependents.setdefault(uid, set()).add((gr, key))
            else:
                if meta.get("uid") and self._by_uid.get(meta["uid"]) == (gr, key):
                    del self._by_uid[meta["uid"]]
                for uid in owners:
                    self._dependents.get(uid, set()).discard((gr, key))

    def count(self, rtype: ResourceType) -> int:
        return len(self._objects.get((rtype.group, rtype.resource), {}))

    def put(self, rtype: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        """Store obj (a new dict) with the next resourceVersion and tell the listeners."""
        meta = obj["metadata"]
        key = (meta.get("namespace", "") if rtype.namespaced else "", meta["name"])
        bucket = self._objects.setdefault((rtype.group, rtype.resource), {})
        old = bucket.get(key)
        self.revision += 1
        obj["metadata"] = {**meta, "resourceVersion": str(self.revision)}
        bucket[key] = obj
        self._index((rtype.group, rtype.resource), key, old, obj)
        self._emit(Event("MODIFIED" if old else "ADDED", rtype, obj, old, self.revision))
        return obj

    def remove(self, rtype: ResourceType, namespace: str, name: str) -> dict[str, Any] | None:
        bucket = self._objects.get((rtype.group, rtype.resource), {})
        old = bucket.pop((namespace, name), None)
        if old is not None:
            self._index((rtype.group, rtype.resource), (namespace, name), old, None)
            self.revision += 1
            gone = {**old, "metadata": {**old["metadata"], "resourceVersion": str(self.revision)}}
            self._emit(Event("DELETED", rtype, gone, old, self.revision))
        return old

    def drop_resource(self, rtype: ResourceType) -> list[dict[str, Any]]:
        """Forget every object of a type (its CRD is gone), reporting each deletion."""
        removed = []
        for obj in self.items(rtype):
            meta = obj["metadata"]
            removed.append(self.remove(rtype, meta.get("namespace", ""), meta["name"]))
        return [r for r in removed if r]

    def _emit(self, event: Event) -> None:
        self.history.append(event)
        for listener in list(self._listeners):
            listener(event)
