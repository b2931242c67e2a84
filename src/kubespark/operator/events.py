"""Kubernetes Events about applications, posted in the background as client-go's recorder does.

Owns turning "this happened to that object" into ``core/v1`` Events (reason, message, type,
involved object, source ``kubespark-operator``) and posting them from a bounded queue with
retries, so a reconcile never waits on an event and an API hiccup never loses the status write
that matters more. ``core/v1`` Events are served by every Kubernetes version kubespark supports.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

from kubespark.kube.client import KubeClient
from kubespark.kube.errors import APIError, TemporaryAPIError
from kubespark.kube.requests import JSON, KubeRequest
from kubespark.operator.clock import OperatorClock, SystemClock
from kubespark.operator.workqueue import run_together
from kubespark.redaction import redact_text

__all__ = ["EventRecorder", "event_body"]

log = logging.getLogger("kubespark.operator")
COMPONENT = "kubespark-operator"
MAX_MESSAGE = 1024  # the API server caps an Event's message; keep well under it


class EventRecorder:
    """Queues Events and posts them with one background task."""

    def __init__(
        self,
        client: KubeClient,
        *,
        instance: str = "",
        capacity: int = 20000,
        clock: OperatorClock | None = None,
    ) -> None:
        self.client = client
        self.clock = clock or SystemClock()  # Event times agree with the status times
        self.instance = instance
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(capacity)
        self.posted = 0
        self.dropped = 0

    def record(self, obj: Mapping[str, Any], kind: str, reason: str, message: str) -> None:
        """Queue an Event of ``kind`` (Normal or Warning) about ``obj``."""
        now = self.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        event = event_body(obj, kind, reason, message, now=now, instance=self.instance)
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1

    def normal(self, obj: Mapping[str, Any], reason: str, message: str) -> None:
        self.record(obj, "Normal", reason, message)

    def warning(self, obj: Mapping[str, Any], reason: str, message: str) -> None:
        self.record(obj, "Warning", reason, message)

    async def run(self, *, posters: int = 4) -> None:
        """Post queued Events until cancelled (then the rest is flushed briefly)."""
        await run_together([asyncio.create_task(self._poster()) for _ in range(posters)])

    async def flush(self, within: float = 2.0) -> None:
        """Post what is queued, for at most ``within`` seconds (graceful shutdown)."""
        deadline = time.monotonic() + within
        while not self._queue.empty() and time.monotonic() < deadline:
            await self._post(self._queue.get_nowait())

    async def _poster(self) -> None:
        while True:
            event = await self._queue.get()
            await self._post(event)

    async def _post(self, event: dict[str, Any]) -> None:
        path = f"/api/v1/namespaces/{event['metadata']['namespace']}/events"
        for attempt in range(3):
            try:
                await self.client.send(KubeRequest("POST", path, (), JSON, event))
                self.posted += 1
                return
            except TemporaryAPIError:
                await asyncio.sleep(0.2 * 2**attempt)
            except APIError as err:
                log.debug("event %s not posted: %s", event["reason"], err.message)
                break
        self.dropped += 1


def event_body(
    obj: Mapping[str, Any],
    kind: str,
    reason: str,
    message: str,
    *,
    now: str,
    component: str = COMPONENT,
    instance: str = "",
) -> dict[str, Any]:
    """The ``core/v1`` Event of ``kind`` (Normal or Warning) about ``obj``, at ``now``."""
    meta = obj.get("metadata") or {}
    namespace = str(meta.get("namespace") or "default")
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": f"{meta.get('name')}.{time.time_ns():x}",
            "namespace": namespace,
        },
        "involvedObject": {
            "apiVersion": obj.get("apiVersion"),
            "kind": obj.get("kind"),
            "name": meta.get("name"),
            "namespace": namespace,
            "uid": meta.get("uid"),
            "resourceVersion": meta.get("resourceVersion"),
        },
        "reason": reason,
        "message": redact_text(message)[:MAX_MESSAGE],  # Events are readable by many
        "type": kind,
        "source": {"component": component},
        "reportingComponent": component,
        "reportingInstance": instance,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    }
