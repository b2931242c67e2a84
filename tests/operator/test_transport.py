"""The operator's httpx-over-aiohttp transport: requests, streamed watches, errors (real HTTP)."""

from __future__ import annotations

import asyncio
import gc
import socket
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from kubespark.kube.config import Connection
from kubespark.kube.credentials import CredentialSource, RefreshingAuth
from kubespark.kube.errors import ConnectionFailed, NotFound, Unauthorized
from kubespark.kube.requests import JSON, KubeRequest
from kubespark.kube.transport import AiohttpTransport
from kubespark.operator.connect import client_for, connection_for


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


async def test_one_shot_requests_carry_the_auths_headers_and_renew_them_after_a_401(
    tmp_path: Path,
) -> None:
    valid = {"token": "one"}  # what the server accepts now
    seen: list[tuple[str, str]] = []  # (authorization, accept-encoding) per request

    async def version(request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "")
        seen.append((token, request.headers.get("Accept-Encoding", "")))
        if token != f"Bearer {valid['token']}":
            status = {"kind": "Status", "status": "Failure", "reason": "Unauthorized", "code": 401}
            return web.json_response(status, status=401)
        return web.json_response({"gitVersion": "v1.19.0"})

    app = web.Application()
    app.router.add_get("/version", version)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    token = tmp_path / "token"
    token.write_text("one")
    base = f"http://127.0.0.1:{port}"
    auth = RefreshingAuth(CredentialSource({"tokenFile": str(token)}))
    client = client_for(Connection(base, "default", "x", {"base_url": base, "auth": auth}), 1)
    get = KubeRequest("GET", "/version")
    try:
        assert (await client.send(get))["gitVersion"] == "v1.19.0"
        # Straight through aiohttp (httpx would have sent Accept-Encoding) with the auth's header.
        assert seen == [("Bearer one", "")]
        token.write_text("two")  # the token is rotated: the derived header goes stale
        valid["token"] = "two"
        seen.clear()
        assert (await client.send(get))["gitVersion"] == "v1.19.0"
        assert (await client.send(get))["gitVersion"] == "v1.19.0"
        # The stale header got a 401, the credentials were renewed and the request resent, all
        # straight through aiohttp; the next request carries the new token at once.
        assert seen == [("Bearer one", ""), ("Bearer two", ""), ("Bearer two", "")]
        valid["token"] = "revoked"
        seen.clear()
        with pytest.raises(Unauthorized) as refused:
            await client.send(get)
        assert refused.value.status.reason == "Unauthorized"
        assert seen == [("Bearer two", ""), ("Bearer two", "")]  # renewed once only
    finally:
        await client.aclose()
        await runner.cleanup()
