"""The emulated etcd: objects by resource, one global resourceVersion, an event history, watches.

Owns where objects live (a bucket per group and resource, keyed by namespace and name), the
global ``resourceVersion`` counter every write advances, the bounded history a watch resumes
from (older resourceVersions are gone: 410 ``too old resource version``), fan-out to watchers
with their selectors, and synchronous listeners the controllers (garbage collector, kubelet)
hang on. Stored objects are never mutated: every write stores a new dict, so events and list
answers can share them. It also keeps, per bucket, which objects carry each label (key, value),
so a list or delete-collection by label costs what it finds, not the bucket's size. It knows
nothing of validation, HTTP or versions.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kubespark.emulator.apiserver.selectors import FieldSelector, LabelSelector
from kubespark.emulator.apiserver.wire import gone

__all__ = ["BucketKey", "Event", "Store", "Watcher"]

BucketKey = tuple[str, str]  # (group, plural)
Obj = dict[str, Any]

ADDED, MODIFIED, DELETED = "ADDED", "MODIFIED", "DELETED"


@dataclass(frozen=True, slots=True)
class Event:
    """One change: the object after it (for DELETED: the last state, at the deletion's RV)."""

    type: str
    rv: int
    bucket: BucketKey
    obj: Obj
    old: Obj | None = None


def _meta(obj: Obj) -> dict[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _label_pairs(obj: Obj | None) -> frozenset[tuple[str, str]]:
    """The labels of ``obj`` as (key, value) pairs; a value that is no string is never equal
    to a selector's value, so it is not indexed."""
    if obj is None:
        return frozenset()
    labels = _meta(obj).get("labels")
    if not isinstance(labels, dict):
        return frozenset()
    return frozenset((k, v) for k, v in labels.items() if isinstance(v, str))


def obj_key(obj: Obj) -> tuple[str, str]:
    meta = _meta(obj)
    return (meta.get("namespace") or "", meta.get("name") or "")


@dataclass(eq=False)
class Watcher:
    """One open watch: a bounded queue of events that match its filter.

    A watcher that falls ``capacity`` events behind is closed, as apiserver closes a watch whose
    client does not keep up; the client re-watches from its last resourceVersion.
    """

    bucket: BucketKey
    namespace: str | None
    labels: LabelSelector
    fields: FieldSelector
    capacity: int = 10_000
    _items: collections.deque[Event] = field(default_factory=collections.deque)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    closed: bool = False
    overflowed: bool = False

    def _matches(self, obj: Obj | None) -> bool:
        if obj is None:
            return False
        if self.namespace is not None and _meta(obj).get("namespace") != self.namespace:
            return False
        return self.labels.matches(_meta(obj).get("labels")) and self.fields.matches(obj)

    def offer(self, event: Event) -> None:
        """Queue what this watcher sees of ``event`` (selectors turn MODIFIED to ADDED/DELETED)."""
        if self.closed:
            return
        now = self._matches(event.obj)
        if event.type == MODIFIED:
            before = self._matches(event.old)
            if now and not before:
                event = Event(ADDED, event.rv, event.bucket, event.obj, event.old)
            elif before and not now:
                event = Event(DELETED, event.rv, event.bucket, event.obj, event.old)
            elif not now:
                return
        elif not now:
            return
        if len(self._items) >= self.capacity:
            self.overflowed = True
            self.close()
            return
        self._items.append(event)
        self._wake.set()

    def close(self) -> None:
        self.closed = True
        self._wake.set()

    async def next(self, wait: float | None) -> Event | None:
        """The next event; None when closed or when ``wait`` seconds pass without one."""
        while True:
            if self._items:
                return self._items.popleft()
            if self.closed:
                return None
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), wait)
            except TimeoutError:
                return None


Listener = Callable[[Event], None]


class Store:
    """Objects, resourceVersions, history and watchers of one emulated server."""

    def __init__(self, history: int = 20_000) -> None:
        self._buckets: dict[BucketKey, dict[tuple[str, str], Obj]] = {}
        self._rv = 1
        self._history: collections.deque[Event] = collections.deque()
        self._history_limit = history
        self._compacted_rv = 0  # the newest resourceVersion no longer in the history
        self._watchers: dict[BucketKey, set[Watcher]] = {}
        self._listeners: list[Listener] = []
        self.by_uid: dict[str, tuple[BucketKey, str, str]] = {}
        # (key, value) -> the (namespace, name) of the objects carrying that label, per bucket.
        self._labelled: dict[BucketKey, dict[tuple[str, str], set[tuple[str, str]]]] = {}

    # --- reading -------------------------------------------------------------------------
    @property
    def resource_version(self) -> int:
        return self._rv

    def get(self, bucket: BucketKey, namespace: str, name: str) -> Obj | None:
        objs = self._buckets.get(bucket)
        return objs.get((namespace, name)) if objs else None

    def items(self, bucket: BucketKey, namespace: str | None = None) -> list[Obj]:
        """Objects of a bucket (in one namespace, or all), ordered as etcd keys are."""
        objs = self._buckets.get(bucket)
        if not objs:
            return []
        keys = sorted(k for k in objs if namespace is None or k[0] == namespace)
        return [objs[k] for k in keys]

    def labelled(
        self, bucket: BucketKey, namespace: str | None, required: Iterable[tuple[str, str]]
    ) -> list[Obj] | None:
        """The objects carrying every label in ``required``, ordered as ``items`` orders them;
        None when ``required`` is empty (nothing to narrow by: scan ``items``)."""
        pairs = list(required)
        if not pairs:
            return None
        index = self._labelled.get(bucket) or {}
        sets = [index.get(pair) for pair in pairs]
        if any(found is None for found in sets):
            return []
        smallest = min((found for found in sets if found is not None), key=len)
        objs = self._buckets.get(bucket) or {}
        out: list[Obj] = []
        for key in sorted(k for k in smallest if namespace is None or k[0] == namespace):
            held = _label_pairs(objs[key])
            if all(pair in held for pair in pairs):
                out.append(objs[key])
        return out

    def _index_labels(
        self, bucket: BucketKey, key: tuple[str, str], old: Obj | None, new: Obj | None
    ) -> None:
        if (
            old is not None
            and new is not None
            and _meta(old).get("labels") == _meta(new).get("labels")
        ):
            return  # most writes (status, finalizers) leave the labels alone
        before = _label_pairs(old)
        after = _label_pairs(new)
        index = self._labelled.setdefault(bucket, {})
        for pair in before - after:
            holders = index.get(pair)
            if holders is not None:
                holders.discard(key)
                if not holders:
                    del index[pair]
        for pair in after - before:
            index.setdefault(pair, set()).add(key)

    def count(self, bucket: BucketKey) -> int:
        return len(self._buckets.get(bucket, ()))

    def buckets(self) -> Iterable[BucketKey]:
        return list(self._buckets)

    def in_namespace(self, namespace: str) -> Iterator[tuple[BucketKey, Obj]]:
        for bucket, objs in list(self._buckets.items()):
            for (ns, _), obj in list(objs.items()):
                if ns == namespace:
                    yield bucket, obj

    def by_uid_get(self, uid: str) -> tuple[BucketKey, Obj] | None:
        where = self.by_uid.get(uid)
        if where is None:
            return None
        bucket, ns, name = where
        obj = self.get(bucket, ns, name)
        return (bucket, obj) if obj is not None else None

    # --- writing ---------------------------------------------------------------------------
    def put(self, bucket: BucketKey, obj: Obj) -> Obj:
        """Store ``obj`` (a fresh dict the caller gives up) at a new resourceVersion."""
        self._rv += 1
        meta = obj["metadata"]
        meta["resourceVersion"] = str(self._rv)
        key = obj_key(obj)
        objs = self._buckets.setdefault(bucket, {})
        old = objs.get(key)
        objs[key] = obj
        self._index_labels(bucket, key, old, obj)
        uid = meta.get("uid")
        if uid:
            self.by_uid[uid] = (bucket, key[0], key[1])
        self._emit(Event(MODIFIED if old is not None else ADDED, self._rv, bucket, obj, old))
        return obj

    def remove(self, bucket: BucketKey, namespace: str, name: str) -> Obj | None:
        """Delete an object; the DELETED event carries its last state at a new resourceVersion."""
        objs = self._buckets.get(bucket)
        if not objs or (namespace, name) not in objs:
            return None
        old = objs.pop((namespace, name))
        self._index_labels(bucket, (namespace, name), old, None)
        self._rv += 1
        last = {**old, "metadata": {**_meta(old), "resourceVersion": str(self._rv)}}
        uid = _meta(old).get("uid")
        if uid:
            self.by_uid.pop(uid, None)
        self._emit(Event(DELETED, self._rv, bucket, last, old))
        return last

    def _emit(self, event: Event) -> None:
        history = self._history
        history.append(event)
        if len(history) > self._history_limit:
            self._compacted_rv = history.popleft().rv
        for watcher in list(self._watchers.get(event.bucket, ())):
            watcher.offer(event)
        for listener in list(self._listeners):
            listener(event)

    # --- watching --------------------------------------------------------------------------
    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def watch(
        self,
        bucket: BucketKey,
        namespace: str | None,
        labels: LabelSelector,
        fields: FieldSelector,
        since: int | None,
    ) -> Watcher:
        """Open a watch. ``since`` None: ADDED for every current object, then changes.

        With a resourceVersion, the changes after it; one older than the history is a 410.
        """
        watcher = Watcher(bucket, namespace, labels, fields)
        if since is None:
            for obj in self.items(bucket, namespace):
                watcher.offer(Event(ADDED, int(obj["metadata"]["resourceVersion"]), bucket, obj))
        else:
            if since < self._compacted_rv:
                raise gone(f"too old resource version: {since} ({self._compacted_rv + 1})")
            for event in self._history:
                if event.rv > since and event.bucket == bucket:
                    watcher.offer(event)
        self._watchers.setdefault(bucket, set()).add(watcher)
        return watcher

    def unwatch(self, watcher: Watcher) -> None:
        watcher.close()
        self._watchers.get(watcher.bucket, set()).discard(watcher)

    def close_watchers(self) -> int:
        """End every open watch (a restart, or a fault); returns how many were open."""
        count = 0
        for watchers in self._watchers.values():
            for watcher in list(watchers):
                watcher.close()
                count += 1
            watchers.clear()
        return count

    def watcher_count(self) -> int:
        return sum(len(w) for w in self._watchers.values())
