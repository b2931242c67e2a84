"""Object builders and small helpers shared by the emulator's tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx

from kubespark.emulator import Emulator

# An emulator and an HTTP client of it, as the fixtures in conftest.py yield them.
Served = tuple[Emulator, httpx.AsyncClient]


def pod(name: str, **annotations: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": name}, "annotations": annotations},
        "spec": {"containers": [{"name": "main", "image": "busybox:1.36"}]},
    }


def configmap(name: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels},
        "data": {"k": "v"},
    }


async def eventually(
    client: httpx.AsyncClient,
    path: str,
    check: Callable[[httpx.Response], bool],
    seconds: float = 10.0,
) -> httpx.Response:
    """GET ``path`` until ``check`` holds (bounded), returning the last answer."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        resp = await client.get(path)
        if check(resp) or loop.time() > deadline:
            return resp
        await asyncio.sleep(0.02)


def phase(resp: httpx.Response) -> str:
    return (
        str(((resp.json() or {}).get("status") or {}).get("phase", "")) if resp.is_success else ""
    )
