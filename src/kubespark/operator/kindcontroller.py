"""What the operator's reconcilers of one kind share: intake of watch events, the status write.

Owns a kind's object cache, its work queue and namespace filter, fed by watch events, the
check that a queued key is still worth a pass, and the status PUT that refreshes the cache on
a conflict. It must not decide anything about a kind: the subclasses reconcile.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubespark.kube.client import KubeClient
from kubespark.kube.errors import Conflict, NotFound
from kubespark.kube.requests import JSON, KubeRequest
from kubespark.operator.caches import Key, ObjectCache, key_of
from kubespark.operator.clock import OperatorClock, SystemClock
from kubespark.operator.events import EventRecorder
from kubespark.operator.workqueue import WorkQueue

Obj = dict[str, Any]


class KindController:
    """A kind's cache and work queue, and the client and recorder its reconciles use."""

    def __init__(
        self,
        client: KubeClient,
        recorder: EventRecorder,
        queue_name: str,
        clock: OperatorClock | None,
    ) -> None:
        self.client = client
        self.recorder = recorder
        self.clock = clock or SystemClock()
        self.cache = ObjectCache()
        self.queue: WorkQueue[Key] = WorkQueue(queue_name, clock=self.clock)
        self.admits: Callable[[str], bool] = lambda _namespace: True  # --namespace-selector

    def on_event(self, kind: str | None, obj: Obj) -> None:
        if kind == "DELETED":
            self.cache.remove(obj)
            self.queue.discard(key_of(obj))
            self._forget(key_of(obj))
            return
        self.cache.put(obj)
        if self.admits(key_of(obj)[0]):
            self.queue.add(key_of(obj))

    def _forget(self, key: Key) -> None:
        """A deleted object's bookkeeping beyond the cache (none unless a subclass keeps some)."""

    def admit_namespace(self, namespace: str) -> None:
        """A namespace the filter admits from now on: queue what is cached there."""
        for key in self.cache:
            if key[0] == namespace:
                self.queue.add(key)

    def _live(self, key: Key) -> Obj | None:
        """The cached object, unless it is gone, terminating or in a namespace not admitted."""
        obj = self.cache.get(key)
        if obj is None or (obj.get("metadata") or {}).get("deletionTimestamp"):
            return None
        return obj if self.admits(key[0]) else None

    async def _put_status(self, path: str, body: Obj) -> None:
        """PUT ``body`` to the status subresource at ``path``; the cache takes what was written.

        A conflict refreshes the cache and is raised again: the work queue retries the key
        with the fresh copy. An object deleted meanwhile needs no status.
        """
        try:
            written = await self.client.send(KubeRequest("PUT", path, (), JSON, body))
        except NotFound:
            return
        except Conflict:
            fresh = await self.client.send(KubeRequest("GET", path.removesuffix("/status")))
            if isinstance(fresh, dict):
                self.cache.put(fresh)
            raise
        if isinstance(written, dict):
            self.cache.put(written)
