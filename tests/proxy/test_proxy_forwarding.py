"""Forwarding through the proxy, against a small real upstream: requests and answers unchanged,
streams unbuffered, upgrades spliced both ways, credentials only to the upstream, faults."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import httpx
import pytest
import yaml
from proxy_upstream import GREETING, TOKEN, FakeUpstream, fake_upstream

from kubespark.proxy import Proxy
from kubespark.proxy.tls import self_signed_pair, server_context

StartProxy = Callable[..., AbstractAsyncContextManager[Proxy]]
Tunnel = tuple[asyncio.StreamReader, asyncio.StreamWriter, bytes]


@asynccontextmanager
async def raw_upgrade(proxy: Proxy, request: bytes) -> AsyncIterator[Tunnel]:
    """A connection to the proxy that sent ``request`` (an upgrade's head, perhaps early bytes)
    and read the answer's head: (reader, writer, head), closed after the block."""
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    try:
        writer.write(request)
        await writer.drain()
        yield reader, writer, await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    finally:
        writer.close()


async def kubectl_exec(
    start_proxy: StartProxy, kubeconfig: Path, out: Path, *command: str, **options: object
) -> tuple[Proxy, int | None, str, str]:
    """``kubectl exec runner -- COMMAND`` through a proxy that allows exec (``reject_paths=()``)
    and writes its clients' kubeconfig to ``out``: (proxy, exit code, stdout, stderr)."""
    async with start_proxy(kubeconfig, kubeconfig_out=out, reject_paths=(), **options) as proxy:
        process = await asyncio.create_subprocess_exec(
            shutil.which("kubectl") or "kubectl",
            "--kubeconfig",
            str(out),
            "exec",
            "runner",
            "--",
            *command,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    return proxy, process.returncode, stdout.decode(), stderr.decode()


async def test_request_and_answer_pass_unchanged(proxy: Proxy, upstream: FakeUpstream) -> None:
    body = b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}'
    async with httpx.AsyncClient(base_url=proxy.url) as client:
        answer = await client.post(
            "/api/v1/namespaces/a%2Fb/configmaps?fieldManager=me&dryRun=All&x=%20y",
            content=body,
            headers={"Content-Type": "application/json", "X-Custom": "kept", "Keep-Alive": "5"},
        )
    assert answer.status_code == 201
    assert answer.headers["audit-id"] == "fake-audit-id"
    seen = upstream.seen[-1]
    assert seen.method == "POST"
    # The target goes exactly as sent: no re-encoding of %2F or %20.
    assert seen.target == "/api/v1/namespaces/a%2Fb/configmaps?fieldManager=me&dryRun=All&x=%20y"
    assert seen.body == body
    assert seen.headers["x-custom"] == ["kept"]
    assert seen.headers["content-type"] == ["application/json"]
    assert "keep-alive" not in seen.headers  # hop-by-hop: never forwarded
    assert seen.headers["host"] == [f"127.0.0.1:{upstream.port}"]


async def test_keep_alive_connection_serves_many_requests(
    proxy: Proxy, upstream: FakeUpstream
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    try:
        for n in range(3):
            writer.write(f"GET /n/{n} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(
                next(
                    h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")
                ).split(b":")[1]
            )
            body = json.loads(await reader.readexactly(length))
            assert body["target"] == f"/n/{n}"
    finally:
        writer.close()
    assert [s.target for s in upstream.seen if s.target.startswith("/n/")] == [
        "/n/0",
        "/n/1",
        "/n/2",
    ]


async def test_absolute_form_target_still_goes_to_the_upstream(
    proxy: Proxy, upstream: FakeUpstream
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    try:
        writer.write(
            b"GET http://attacker.example:81/steal?x=1 HTTP/1.1\r\nHost: localhost\r\n\r\n"
        )
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
    finally:
        writer.close()
    assert head.startswith(b"HTTP/1.1 200")
    assert upstream.seen[-1].target == "/steal?x=1"
    assert upstream.seen[-1].headers["host"] == [f"127.0.0.1:{upstream.port}"]


async def test_streams_are_not_buffered(proxy: Proxy, upstream: FakeUpstream) -> None:
    async with (
        httpx.AsyncClient(base_url=proxy.url) as client,
        client.stream("GET", "/stream?watch=true") as answer,
    ):
        assert answer.status_code == 200
        chunks = answer.aiter_raw()
        for n in range(3):
            event = json.dumps({"type": "ADDED", "n": n}).encode() + b"\n"
            await upstream.chunks.put(event)
            # Each event arrives before the upstream has sent the next one.
            assert await asyncio.wait_for(chunks.__anext__(), 5) == event
        await upstream.chunks.put(None)
        assert [c async for c in chunks] == []


async def test_a_client_leaving_a_watch_closes_it_upstream(
    proxy: Proxy, upstream: FakeUpstream
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    writer.write(b"GET /stream?watch=1 HTTP/1.1\r\nHost: localhost\r\n\r\n")
    await writer.drain()
    await reader.readuntil(b"\r\n\r\n")
    writer.close()
    await writer.wait_closed()
    # The upstream's stream ends although it never sent a byte after the head.
    await asyncio.wait_for(upstream.stream_closed.wait(), 5)


@pytest.mark.parametrize("protocol", ["SPDY/3.1", "websocket"], ids=["spdy", "websocket"])
async def test_upgrades_splice_bytes_both_ways(
    proxy: Proxy, upstream: FakeUpstream, protocol: str
) -> None:
    request = (
        b"POST /upgrade/api/v1/namespaces/d/pods/p/exec?command=sh HTTP/1.1\r\n"
        b"Host: localhost\r\nConnection: Upgrade\r\n"
        + f"Upgrade: {protocol}\r\n".encode()
        + b"X-Stream-Protocol-Version: v4.channel.k8s.io\r\n"
        + b"Authorization: Bearer client-token\r\n\r\n"
        + b"early bytes;"  # sent before the 101, as clients may
    )
    async with raw_upgrade(proxy, request) as (reader, writer, head):
        assert head.startswith(b"HTTP/1.1 101")
        assert f"upgrade: {protocol}".lower().encode() in head.lower()
        assert b"x-stream-protocol-version: v4.channel.k8s.io" in head.lower()
        got = await asyncio.wait_for(reader.readexactly(len(GREETING) + 12), 5)
        assert got == GREETING + b"EARLY BYTES;"
        for text in (b"ls -l\n", b"x" * 200_000):
            writer.write(text)
            await writer.drain()
            assert await asyncio.wait_for(reader.readexactly(len(text)), 5) == text.upper()
    seen = upstream.seen[-1]
    assert seen.headers["upgrade"] == [protocol]
    assert seen.headers["authorization"] == ["Bearer client-token"]


async def test_a_refused_upgrade_is_answered_as_the_upstream_did(proxy: Proxy) -> None:
    request = (
        b"GET /deny-upgrade HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\n"
        b"Upgrade: SPDY/3.1\r\n\r\n"
    )
    async with raw_upgrade(proxy, request) as (_, _, head):
        assert head.startswith(b"HTTP/1.1 403")


async def test_h2c_upgrade_offers_are_ignored(proxy: Proxy, upstream: FakeUpstream) -> None:
    async with httpx.AsyncClient(base_url=proxy.url) as client:
        answer = await client.get(
            "/api",
            headers={
                "Connection": "Upgrade, HTTP2-Settings",
                "Upgrade": "h2c",
                "HTTP2-Settings": "AAMAAABkAARAAAAAAAIAAAAA",
            },
        )
    assert answer.status_code == 200
    assert "upgrade" not in upstream.seen[-1].headers
    assert "http2-settings" not in upstream.seen[-1].headers


# --- credentials ---------------------------------------------------------------------------


async def test_the_clients_token_goes_upstream_unchanged(
    proxy: Proxy, upstream: FakeUpstream
) -> None:
    async with httpx.AsyncClient(base_url=proxy.url) as client:
        await client.get("/api/v1/pods", headers={"Authorization": "Bearer the-clients-own"})
    assert upstream.seen[-1].headers["authorization"] == ["Bearer the-clients-own"]


async def test_without_a_client_token_the_kubeconfigs_is_used(
    proxy: Proxy, upstream: FakeUpstream
) -> None:
    async with httpx.AsyncClient(base_url=proxy.url) as client:
        await client.get("/api/v1/pods")
    assert upstream.seen[-1].headers["authorization"] == [f"Bearer {TOKEN}"]


async def test_credentials_never_reach_a_log(
    proxy: Proxy, upstream: FakeUpstream, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client_token = "client-secret-token-9876543210"
    async with httpx.AsyncClient(base_url=proxy.url) as client:
        headers = {"Authorization": f"Bearer {client_token}"}
        await client.get("/api/v1/pods", headers=headers)
        await client.get("/api/v1/pods")
        await client.patch(
            "/api/v1/namespaces/d/configmaps/c?fieldManager=m",
            content=b"{not yaml",
            headers={**headers, "Content-Type": "application/apply-patch+yaml"},
        )
    await upstream.stop()  # and the upstream down: the failure paths log too
    async with httpx.AsyncClient(base_url=proxy.url) as client:
        await client.get("/api/v1/pods", headers={"Authorization": f"Bearer {client_token}"})
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "/api/v1/pods" in logged  # the log does record the requests
    assert client_token not in logged
    assert TOKEN not in logged


# --- faults and bad input ------------------------------------------------------------------


async def test_upstream_down_is_a_503_status_with_the_reason(
    proxy: Proxy, upstream: FakeUpstream
) -> None:
    await upstream.stop()
    async with httpx.AsyncClient(base_url=proxy.url) as client:
        answer = await client.get("/api/v1/pods")
    assert answer.status_code == 503
    status = answer.json()
    assert status["kind"] == "Status"
    assert status["reason"] == "ServiceUnavailable"
    assert f"cannot reach the upstream API server {upstream.url}" in status["message"]
    assert "ConnectError" in status["message"]


async def test_capabilities_are_read_again_after_the_upstream_comes_back(
    proxy: Proxy, upstream: FakeUpstream
) -> None:
    assert proxy.capabilities.refreshes == 1
    port = upstream.port
    await upstream.stop()
    async with httpx.AsyncClient(base_url=proxy.url) as client:
        assert (await client.get("/api/v1/pods")).status_code == 503
        upstream.port = port
        await upstream.start()
        assert (await client.get("/api/v1/pods")).status_code == 200
        await client.patch(
            "/api/v1/namespaces/d/configmaps/c?fieldManager=m",
            content=b"{}",
            headers={"Content-Type": "application/apply-patch+yaml"},
        )
    assert proxy.upstream.reconnects == 1
    assert proxy.capabilities.refreshes == 2


async def test_malformed_bodies_are_the_upstreams_to_judge(
    proxy: Proxy, upstream: FakeUpstream
) -> None:
    async with httpx.AsyncClient(base_url=proxy.url) as client:
        for media, body in [
            ("application/json", b"{this is not json"),
            ("application/apply-patch+yaml", b"key: [unclosed"),
            ("application/apply-patch+yaml", b"- a list\n- not an object\n"),
        ]:
            answer = await client.patch(
                "/api/v1/namespaces/d/configmaps/c?fieldManager=m",
                content=body,
                headers={"Content-Type": media},
            )
            assert answer.status_code == 200
            assert upstream.seen[-1].body == body
            assert upstream.seen[-1].method == "PATCH"


async def test_malformed_http_is_answered_400(proxy: Proxy) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    try:
        writer.write(b"THIS IS NOT HTTP\r\n\r\n")
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()
    assert answer.startswith(b"HTTP/1.1 400")
    assert b"malformed HTTP" in answer


async def test_a_body_over_the_limit_is_refused_413(
    upstream: FakeUpstream, tmp_path: Path, start_proxy: StartProxy
) -> None:
    kubeconfig = upstream.kubeconfig(tmp_path / "k.yaml")
    async with (
        start_proxy(kubeconfig, max_body=1000) as proxy,
        httpx.AsyncClient(base_url=proxy.url) as client,
    ):
        answer = await client.post("/api/v1/namespaces/d/configmaps", content=b"x" * 5000)
    assert answer.status_code == 413
    assert answer.json()["reason"] == "RequestEntityTooLarge"
    assert not [s for s in upstream.seen if s.method == "POST"]


# --- TLS -----------------------------------------------------------------------------------


async def test_tls_both_sides_with_the_kubeconfigs_ca(
    tmp_path: Path, start_proxy: StartProxy
) -> None:
    pair = self_signed_pair(tmp_path / "upstream-pki")
    async with fake_upstream(tls=server_context(pair)) as up:
        assert pair.ca_file is not None
        kubeconfig = up.kubeconfig(tmp_path / "k.yaml", ca=pair.ca_file)
        out = tmp_path / "client.yaml"
        async with start_proxy(kubeconfig, tls=True, kubeconfig_out=out) as proxy:
            assert proxy.pair is not None and proxy.pair.ca_file is not None
            assert proxy.url.startswith("https://")
            context = ssl.create_default_context(cafile=proxy.pair.ca_file)
            async with httpx.AsyncClient(base_url=proxy.url, verify=context) as client:
                answer = await client.get("/api/v1/pods")
            assert answer.status_code == 200
            assert "certificate-authority" in out.read_text()


async def test_an_upstream_certificate_the_kubeconfig_does_not_trust_is_refused(
    tmp_path: Path, start_proxy: StartProxy
) -> None:
    pair = self_signed_pair(tmp_path / "upstream-pki")
    other = self_signed_pair(tmp_path / "other-pki")
    async with fake_upstream(tls=server_context(pair)) as up:
        assert other.ca_file is not None
        kubeconfig = up.kubeconfig(tmp_path / "k.yaml", ca=other.ca_file)
        async with (
            start_proxy(kubeconfig) as proxy,
            httpx.AsyncClient(base_url=proxy.url) as client,
        ):
            answer = await client.get("/api/v1/pods")
        assert answer.status_code == 503
        assert "certificate verify failed" in answer.json()["message"]
        assert not up.seen  # no request (nor its token) reached the untrusted server


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
async def test_kubectl_exec_runs_through_the_proxy(
    upstream: FakeUpstream, tmp_path: Path, start_proxy: StartProxy
) -> None:
    """kubectl 1.32 execs over a WebSocket (v5.channel.k8s.io); the emulator has no containers to
    exec into, so the recording upstream plays one that echoes its command. Exec is rejected by
    default (as by kubectl proxy): ``--reject-paths ''`` allows it."""
    kubeconfig = upstream.kubeconfig(tmp_path / "k.yaml", token=TOKEN)
    out = tmp_path / "client.yaml"
    proxy, code, stdout, stderr = await kubectl_exec(
        start_proxy, kubeconfig, out, "echo", "through the proxy", tls=True
    )
    assert code == 0, stderr
    assert stdout == "echo through the proxy\n"
    assert proxy.upgrades == 1
    (execs,) = [s for s in upstream.seen if "/exec?" in s.target]
    assert execs.headers["upgrade"] == ["websocket"]
    assert execs.headers["authorization"] == [f"Bearer {TOKEN}"]  # the kubeconfig's, not kubectl's


async def test_a_token_file_kubeconfig_is_read_as_the_sidecar_recipe_writes_it(
    upstream: FakeUpstream, tmp_path: Path, start_proxy: StartProxy
) -> None:
    """docs/proxy.md's in-cluster kubeconfig: the pod's service account token by tokenFile."""
    token = tmp_path / "token"
    token.write_text("service-account-token-from-a-file\n")
    kubeconfig = upstream.kubeconfig(tmp_path / "k.yaml")
    doc = yaml.safe_load(kubeconfig.read_text())
    doc["users"][0]["user"] = {"tokenFile": str(token)}
    kubeconfig.write_text(yaml.safe_dump(doc))
    async with (
        start_proxy(kubeconfig) as proxy,
        httpx.AsyncClient(base_url=proxy.url) as client,
    ):
        await client.get("/api/v1/pods")
    assert upstream.seen[-1].headers["authorization"] == [
        "Bearer service-account-token-from-a-file"
    ]


async def test_an_upstream_down_at_start_is_served_as_503_until_it_answers(
    tmp_path: Path, start_proxy: StartProxy
) -> None:
    up = FakeUpstream()
    await up.start()
    port = up.port
    await up.stop()  # a port nobody listens on (any more)
    up.port = port
    kubeconfig = up.kubeconfig(tmp_path / "k.yaml")
    async with (
        start_proxy(kubeconfig) as proxy,
        httpx.AsyncClient(base_url=proxy.url) as client,
    ):
        assert proxy.capabilities.snapshot is None
        assert (await client.get("/api/v1/pods")).status_code == 503
        await up.start()
        try:
            assert (await client.get("/api/v1/pods")).status_code == 200
            snapshot = await proxy.capabilities.current()
            assert snapshot is not None and snapshot.git_version == "v1.19.16"
        finally:
            await up.stop()


async def test_expect_continue_and_chunked_request_bodies(
    proxy: Proxy, upstream: FakeUpstream
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    try:
        writer.write(
            b"POST /api/v1/namespaces/d/configmaps HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
            b"Expect: 100-continue\r\n\r\n"
        )
        await writer.drain()
        interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert interim.startswith(b"HTTP/1.1 100")
        writer.write(b'5\r\n{"a":\r\n3\r\n 1}\r\n0\r\n\r\n')
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    finally:
        writer.close()
    assert head.startswith(b"HTTP/1.1 201")
    seen = upstream.seen[-1]
    assert seen.body == b'{"a": 1}'
    assert seen.headers["content-length"] == ["8"]  # sent on with its length, unchunked
    assert "expect" not in seen.headers and "transfer-encoding" not in seen.headers


async def test_a_server_url_with_a_path_prefix_keeps_it(
    upstream: FakeUpstream, tmp_path: Path, start_proxy: StartProxy
) -> None:
    """Rancher-style servers (https://host/k8s/clusters/ID): every path goes under the prefix."""
    kubeconfig = upstream.kubeconfig(tmp_path / "k.yaml")
    doc = yaml.safe_load(kubeconfig.read_text())
    doc["clusters"][0]["cluster"]["server"] = f"{upstream.url}/k8s/clusters/c-1/"
    kubeconfig.write_text(yaml.safe_dump(doc))
    async with (
        start_proxy(kubeconfig) as proxy,
        httpx.AsyncClient(base_url=proxy.url) as client,
    ):
        await client.get("/api/v1/pods?limit=1")
    assert upstream.seen[-1].target == "/k8s/clusters/c-1/api/v1/pods?limit=1"


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
async def test_kubectl_exec_through_the_proxy_into_an_emulated_pod(
    tmp_path: Path, start_proxy: StartProxy
) -> None:
    """The whole path: kubectl -> kubespark proxy -> the emulator's exec (WebSocket v5), the
    command run by the emulator's kubelet and its exit code back through the proxy."""
    from kubespark.emulator import run_emulator

    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "runner"},
        "spec": {"containers": [{"name": "main", "image": "busybox:1.36"}]},
    }
    async with run_emulator("1.31", speed=50.0) as emu:
        async with httpx.AsyncClient(base_url=emu.url) as api:
            assert (await api.post("/api/v1/namespaces/default/pods", json=pod)).is_success
            for _ in range(200):
                got = (await api.get("/api/v1/namespaces/default/pods/runner")).json()
                if got.get("status", {}).get("phase") == "Running":
                    break
                await asyncio.sleep(0.05)
        out = tmp_path / "client.yaml"
        proxy, code, stdout, stderr = await kubectl_exec(
            start_proxy, emu.kubeconfig_path, out, "sh", "-c", "echo through the proxy; exit 4"
        )
    assert code == 4, stderr
    assert stdout == "through the proxy\n"
    assert proxy.upgrades == 1
