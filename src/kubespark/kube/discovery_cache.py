"""The server's API surface for one CLI run, with discovery cached on disk between runs.

Owns keeping the discovery documents of a server (``/api``, ``/apis`` and every group-version's
resource list: the dozens of requests ``kubespark.kube.discovery.fetch_discovery`` makes) from
one ``kubespark`` run to the next, as kubectl keeps them under ``~/.kube/cache/discovery``: keyed
by the server's URL, used while the server still answers ``/version`` with the same gitVersion
and for at most ``CACHE_SECONDS``. ``/version`` is asked every run. A cache that cannot be read
or written is ignored (the run discovers live). A long-running caller holds its surface instead
(``kubespark.submit.server_capabilities``).

The cache lives in the user cache's ``discovery/`` (:mod:`kubespark.usercache`:
``~/.cache/kubespark/discovery``, or under ``$KUBESPARK_CACHE``); it holds discovery documents
only (no credentials).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kubespark.apisurface import ApiSurface
from kubespark.apisurface.discovery import DiscoveryDocs, surface_from_discovery
from kubespark.kube.client import KubeClient
from kubespark.kube.discovery import fetch_discovery
from kubespark.usercache import user_cache_dir

__all__ = ["CACHE_SECONDS", "cache_file", "cached_surface"]

CACHE_SECONDS = 600.0  # kubectl's default before 1.25; new CRDs show up within ten minutes


def cache_file(server: str) -> Path:
    """Where the discovery documents of ``server`` (its URL) are kept."""
    key = hashlib.sha256(server.encode()).hexdigest()[:24]
    return Path(user_cache_dir("discovery")) / f"{key}.json"


async def cached_surface(client: KubeClient, *, now: float | None = None) -> ApiSurface:
    """The surface of ``client``'s server: ``/version`` live, the rest from the cache if valid."""
    version_info = await client.version()
    path = cache_file(client.server)
    docs = _read(path, version_info, time.time() if now is None else now)
    if docs is None:
        fetched = await fetch_discovery(client, openapi=False)
        docs = fetched.discovery
        _write(path, fetched.version_info, docs)
    return surface_from_discovery(version_info, docs, None)


def _read(path: Path, version_info: Mapping[str, Any], now: float) -> DiscoveryDocs | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("gitVersion") != version_info.get("gitVersion"):
        return None
    if not 0 <= now - float(data.get("fetched", 0)) <= CACHE_SECONDS:
        return None
    try:
        return DiscoveryDocs(
            core=data["core"],
            groups=data["groups"],
            resource_lists=data["resourceLists"],
            failed=tuple(data["failed"]),
        )
    except (KeyError, TypeError):
        return None


def _write(path: Path, version_info: Mapping[str, Any], docs: DiscoveryDocs) -> None:
    if docs.failed:
        return  # an aggregated API was down: next run asks again rather than keep the gap
    data = {
        "gitVersion": version_info.get("gitVersion"),
        "fetched": time.time(),
        "core": docs.core,
        "groups": docs.groups,
        "resourceLists": docs.resource_lists,
        "failed": list(docs.failed),
    }
    # Written whole then renamed, so a concurrent run never reads half a file.
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as out:
            json.dump(data, out)
        Path(out.name).replace(path)
