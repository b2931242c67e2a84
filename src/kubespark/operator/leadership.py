"""Which replica is active: kopf's peering, read the way kopf reads it.

kopf elects through its peering objects (``ClusterKopfPeering``, or a ``KopfPeering`` per watched
namespace): every replica writes a keep-alive (priority, lifetime, last seen) into the object's
status, and a replica pauses its watch streams while a live peer has a higher priority (or the
same one). kopf keeps that decision to itself, yet the operator's own work (retries due later,
TTL deletions, cron activations) must pause with it. This module owns reading the same objects
and applying the same rule, so the reconcilers run exactly while kopf's watchers do, and
creating the peering objects when they are missing (kopf in mandatory mode waits for them).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from kubespark.kube.client import KubeClient
from kubespark.kube.errors import APIError, Conflict, Forbidden, Gone, NotFound
from kubespark.kube.requests import JSON, KubeRequest

__all__ = ["Leadership", "Peer", "peering_decision"]

log = logging.getLogger("kubespark.operator")


@dataclass(frozen=True, slots=True)
class Peer:
    identity: str
    priority: int
    deadline: datetime


def _peers(status: Mapping[str, Any]) -> list[Peer]:
    out = []
    for identity, info in status.items():
        if not isinstance(info, Mapping):
            continue
        try:
            seen = datetime.fromisoformat(str(info.get("lastseen")).replace("Z", "+00:00"))
        except ValueError:
            seen = datetime.now(UTC)
        seen = seen if seen.tzinfo else seen.replace(tzinfo=UTC)
        lifetime = timedelta(seconds=int(info.get("lifetime") or 60))
        out.append(Peer(str(identity), int(info.get("priority") or 0), seen + lifetime))
    return out


def peering_decision(
    status: Mapping[str, Any], *, identity: str, priority: int, now: datetime
) -> tuple[bool, float | None]:
    """kopf's ``process_peering_event`` rule: (active?, seconds until it may change)."""
    live = [p for p in _peers(status) if p.deadline > now and p.identity != identity]
    blocking = [p for p in live if p.priority >= priority]
    wake = min(((p.deadline - now).total_seconds() for p in blocking), default=None)
    return not blocking, wake


class Leadership:
    """The active/standby state of this replica, per kopf's peering objects."""

    def __init__(
        self,
        client: KubeClient,
        *,
        peering: str,
        identity: str,
        priority: int,
        namespaces: tuple[str, ...] = (),
        standalone: bool = False,
    ) -> None:
        self.client = client
        self.peering = peering
        self.identity = identity
        self.priority = priority
        self.scopes: tuple[str | None, ...] = namespaces or (None,)
        self.standalone = standalone
        self.active = asyncio.Event()
        self._states: dict[str | None, bool] = {}
        if standalone:
            self.active.set()

    def _path(self, namespace: str | None) -> str:
        if namespace is None:
            return "/apis/kopf.dev/v1/clusterkopfpeerings"
        return f"/apis/kopf.dev/v1/namespaces/{namespace}/kopfpeerings"

    async def ensure_objects(self) -> None:
        """Create the peering objects kopf needs (it waits, paused, while they are missing)."""
        if self.standalone:
            return
        for scope in self.scopes:
            kind = "ClusterKopfPeering" if scope is None else "KopfPeering"
            meta: dict[str, Any] = {"name": self.peering}
            if scope is not None:
                meta["namespace"] = scope
            body = {"apiVersion": "kopf.dev/v1", "kind": kind, "metadata": meta}
            try:
                await self.client.send(KubeRequest("POST", self._path(scope), (), JSON, body))
            except Conflict:
                continue  # it exists: the usual case
            except Forbidden as err:  # may read it but not create it: the chart creates it
                log.warning("cannot create the peering object %s: %s", self.peering, err.message)

    def _set(self, scope: str | None, active: bool) -> None:
        before = self.active.is_set()
        self._states[scope] = active
        now_active = len(self._states) == len(self.scopes) and all(self._states.values())
        if now_active and not before:
            log.info("this replica (%s, priority %d) is now active", self.identity, self.priority)
            self.active.set()
        elif before and not now_active:
            log.info("pausing: a peer with a higher or equal priority is alive")
            self.active.clear()

    async def run(self) -> None:
        """Follow the peering objects until cancelled."""
        if self.standalone:
            await asyncio.Event().wait()
        await asyncio.gather(*(self._follow(scope) for scope in self.scopes))

    async def _follow(self, scope: str | None) -> None:
        while True:
            try:
                await self._follow_once(scope)
            except asyncio.CancelledError:
                raise
            except (APIError, OSError) as err:
                log.debug("peering watch of %s: %s", self.peering, err)
                await asyncio.sleep(1.0)

    async def _follow_once(self, scope: str | None) -> None:
        path = f"{self._path(scope)}/{self.peering}"
        try:
            obj = await self.client.send(KubeRequest("GET", path))
        except NotFound:
            self._set(scope, False)
            await self.ensure_objects()
            return
        wake = self._judge(scope, obj)
        version = str((obj.get("metadata") or {}).get("resourceVersion") or "")
        watch = KubeRequest(
            "GET",
            self._path(scope),
            (
                ("watch", "true"),
                ("fieldSelector", f"metadata.name={self.peering}"),
                ("resourceVersion", version),
                ("timeoutSeconds", "60"),
            ),
        )
        events = self.client.watch(watch)
        try:
            while True:
                timeout = wake if wake is not None else 60.0
                try:
                    event = await asyncio.wait_for(anext(events), timeout=max(0.05, timeout))
                except TimeoutError:
                    wake = self._judge(scope, obj)  # a blocking peer may have expired
                    continue
                except (StopAsyncIteration, Gone):
                    return
                if event.type in ("ADDED", "MODIFIED"):
                    obj = event.object
                    wake = self._judge(scope, obj)
                elif event.type == "DELETED":
                    self._set(scope, False)
                    return
        finally:
            await events.aclose()  # type: ignore[attr-defined]

    def _judge(self, scope: str | None, obj: Mapping[str, Any]) -> float | None:
        status = obj.get("status") if isinstance(obj.get("status"), Mapping) else {}
        active, wake = peering_decision(
            status or {}, identity=self.identity, priority=self.priority, now=datetime.now(UTC)
        )
        self._set(scope, active)
        return wake
