"""Fetching what a live API server says about itself: /version, discovery, /openapi/v2.

Owns the requests only: it returns the raw documents (``ServerDocs``) and leaves their meaning
to ``kubespark.apisurface.discovery.surface_from_discovery``. A group-version that does not
answer (an aggregated API that is down answers 503) is recorded as failed rather than failing
the whole read, as kubectl does; ``/version`` and the core discovery must answer. ``/openapi/v2``
is optional (a server may not serve it, or forbid it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from kubespark.apisurface import ApiSurface
from kubespark.apisurface.discovery import DiscoveryDocs, surface_from_discovery
from kubespark.kube.errors import APIError, ConnectionFailed, error_for_status
from kubespark.kube.status import Status

__all__ = ["ServerDocs", "fetch_discovery", "read_capabilities"]

_ACCEPT = {"Accept": "application/json"}


@dataclass(frozen=True, slots=True)
class ServerDocs:
    version_info: Mapping[str, Any]
    discovery: DiscoveryDocs
    openapi_v2: Mapping[str, Any] | None


async def _get(http: httpx.AsyncClient, path: str) -> Mapping[str, Any]:
    try:
        response = await http.get(path, headers=_ACCEPT)
    except httpx.TransportError as err:
        status = Status.failure(0, f"cannot reach the API server: {err or type(err).__name__}")
        raise ConnectionFailed(status, method="GET", path=path) from err
    if response.status_code >= 400:
        text = response.text.strip()[:500] or response.reason_phrase
        raise error_for_status(Status.failure(response.status_code, text), method="GET", path=path)
    body = response.json()
    if not isinstance(body, dict):
        status = Status.failure(502, f"GET {path} answered {type(body).__name__}, not an object")
        raise error_for_status(status, method="GET", path=path)
    return body


async def _optional(http: httpx.AsyncClient, path: str) -> Mapping[str, Any] | None:
    try:
        return await _get(http, path)
    except APIError as err:
        if isinstance(err, ConnectionFailed):
            raise
        return None


async def fetch_discovery(
    http: httpx.AsyncClient, *, openapi: bool = True, concurrency: int = 8
) -> ServerDocs:
    """The raw documents of the server ``http`` points at (its ``base_url``)."""
    version_info, core = await asyncio.gather(_get(http, "/version"), _get(http, "/api"))
    groups = await _optional(http, "/apis")
    docs = DiscoveryDocs(core=core, groups=groups)
    gate = asyncio.Semaphore(concurrency)

    async def listing(gv: str) -> tuple[str, Mapping[str, Any] | None]:
        path = f"/api/{gv}" if "/" not in gv else f"/apis/{gv}"
        async with gate:
            return gv, await _optional(http, path)

    answers = await asyncio.gather(*(listing(gv) for gv in docs.group_versions()))
    spec = await _optional(http, "/openapi/v2") if openapi else None
    return ServerDocs(
        version_info=version_info,
        discovery=DiscoveryDocs(
            core=core,
            groups=groups,
            resource_lists={gv: doc for gv, doc in answers if doc is not None},
            failed=tuple(gv for gv, doc in answers if doc is None),
        ),
        openapi_v2=spec,
    )


async def read_capabilities(http: httpx.AsyncClient, *, openapi: bool = True) -> ApiSurface:
    """The API surface of a live server: its own answers, bundled data for the rest."""
    docs = await fetch_discovery(http, openapi=openapi)
    return surface_from_discovery(docs.version_info, docs.discovery, docs.openapi_v2)
