"""What the upstream API server accepts, read from the server itself and kept current.

Owns the proxy's one :class:`ApiSurface` of the upstream: read at start from ``/version``,
discovery and ``/openapi/v2`` (so CRDs and vendor changes count), read again after the upstream
was unreachable and came back (it may have been upgraded meanwhile), and re-checked cheaply
(``/version`` only) when it is older than ``recheck_seconds``. When discovery is refused
(credentials without the discovery role) the bundled surface of the reported version stands in;
when nothing can be read there is no surface, and applies are forwarded for the server to judge.

Parsing a large OpenAPI document runs in a worker thread so requests keep flowing meanwhile.
It decides nothing about writes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kubespark.apisurface import ApiSurface
from kubespark.apisurface.discovery import DiscoveryDocs, surface_from_discovery
from kubespark.errors import KubesparkError
from kubespark.kube.discovery import fetch_discovery, get_document
from kubespark.kube.errors import APIError, ConnectionFailed
from kubespark.proxy.upstream import Upstream

__all__ = ["Capabilities", "Snapshot"]

log = logging.getLogger("kubespark.proxy")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The upstream's surface and where it came from."""

    surface: ApiSurface
    git_version: str
    source: str  # "discovery" or "bundled data for <version>"


class Capabilities:
    """The upstream's current surface; ``await current()`` refreshes it when due."""

    def __init__(
        self,
        upstream: Upstream,
        *,
        recheck_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.upstream = upstream
        self.recheck_seconds = recheck_seconds
        self._clock = clock
        self._lock = asyncio.Lock()
        self._snapshot: Snapshot | None = None
        self._checked_at = 0.0
        self._reconnects = -1
        self.refreshes = 0

    @property
    def snapshot(self) -> Snapshot | None:
        return self._snapshot

    async def current(self) -> Snapshot | None:
        """The surface to decide with; read again when the upstream came back or changed."""
        async with self._lock:
            if self._snapshot is None or self._reconnects != self.upstream.reconnects:
                await self._refresh()
            elif self._clock() - self._checked_at >= self.recheck_seconds:
                await self._recheck()
            return self._snapshot

    async def _recheck(self) -> None:
        assert self._snapshot is not None
        try:
            info = await _get(self.upstream, "/version")
        except (APIError, KubesparkError):
            return
        self._checked_at = self._clock()
        if str(info.get("gitVersion") or "") != self._snapshot.git_version:
            await self._refresh()

    async def _refresh(self) -> None:
        reconnects = self.upstream.reconnects
        try:
            snapshot = await _read(self.upstream)
        except ConnectionFailed as err:
            log.warning("kubespark proxy: cannot read the upstream's capabilities: %s", err.message)
            return
        except (APIError, KubesparkError) as err:
            log.warning("kubespark proxy: the upstream's capabilities are unknown: %s", err.message)
            return
        changed = self._snapshot is None or self._snapshot.git_version != snapshot.git_version
        self._snapshot = snapshot
        self._checked_at = self._clock()
        self._reconnects = reconnects
        self.refreshes += 1
        if changed:
            log.info(
                "kubespark proxy: upstream runs Kubernetes %s (capabilities from %s)",
                snapshot.git_version,
                snapshot.source,
            )


async def _get(upstream: Upstream, path: str) -> Mapping[str, Any]:
    """One discovery document with the kubeconfig's credentials; failures as typed errors."""
    return await get_document(upstream.http, path, upstream.server)


async def _read(upstream: Upstream) -> Snapshot:
    try:
        docs = await fetch_discovery(upstream.http)
    except ConnectionFailed:
        raise
    except APIError as err:
        # Discovery refused (401/403 for these credentials): /version is public, and the
        # bundled surface of that version is the next best knowledge.
        info = await _get(upstream, "/version")
        git = str(info.get("gitVersion") or "")
        log.info("kubespark proxy: discovery refused (%s); using bundled data", err.message)
        surface = await asyncio.to_thread(surface_from_discovery, info, DiscoveryDocs())
        return Snapshot(surface, git, f"bundled data for {git}")
    surface = await asyncio.to_thread(
        surface_from_discovery, docs.version_info, docs.discovery, docs.openapi_v2
    )
    return Snapshot(surface, str(docs.version_info.get("gitVersion") or ""), "discovery")
