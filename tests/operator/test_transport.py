"""The operator's httpx-over-aiohttp transport: requests, streamed watches, errors (real HTTP)."""

from __future__ import annotations

import asyncio
import gc
import socket
from pathlib import Path
from typing import Any

import pytest

from kubespark.kube.config import Connection
from kubespark.kube.errors import ConnectionFailed, NotFound
from kubespark.kube.requests import JSON, KubeRequest
from kubespark.operator.connect import client_for, connection_for
from kubespark.operator.transport import AiohttpTransport


async def test_requests_watches_and_errors(emulator_factory: Any) -> None:
    running = emulator_factory(version="1.19")
    client = client_for(connection_for(Path(running.kubeconfig_path), None), 2)
    try:
        assert isinstance(client._http._transport, AiohttpTransport)
        body = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "t"},
            "data": {"k": "v"},
        }
        created = await client.send(
            KubeRequest("POST", "/api/v1/namespaces/default/configmaps", (), JSON, body)
        )
        assert created["data"] == {"k": "v"} and created["metadata"]["uid"]
        with pytest.raises(NotFound):
            await client.send(KubeRequest("GET", "/api/v1/namespaces/default/configmaps/none"))
        watch = KubeRequest(
            "GET",
            "/api/v1/namespaces/default/configmaps",
            (("watch", "true"), ("resourceVersion", created["metadata"]["resourceVersion"])),
        )
        events = client.watch(watch)
        change = {**created, "data": {"k": "w"}}
        await client.send(
            KubeRequest("PUT", "/api/v1/namespaces/default/configmaps/t", (), JSON, change)
        )
        event = await asyncio.wait_for(anext(events), 5)
        assert event.type == "MODIFIED" and event.object["data"] == {"k": "w"}
        await events.aclose()  # type: ignore[attr-defined]
        # httpx's line iterators inside the watch are finalised by the loop: let them finish.
        gc.collect()
        await asyncio.sleep(0.1)
    finally:
        await client.aclose()
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    nowhere = Connection(
        f"http://127.0.0.1:{port}", "default", "x", {"base_url": f"http://127.0.0.1:{port}"}
    )
    dead = client_for(nowhere, 1)
    try:
        with pytest.raises(ConnectionFailed):
            await dead.send(KubeRequest("GET", "/version"))
    finally:
        await dead.aclose()
