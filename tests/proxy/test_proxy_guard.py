"""The proxy refuses what ``kubectl proxy`` refuses, and closes what a client leaves hanging.

A real proxy in front of the recording upstream; requests from real sockets and httpx. What is
refused never reaches the upstream (``upstream.seen``), and each refusal is a Status naming the
rule and the flag that changes it.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import ssl
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from proxy_upstream import TOKEN, FakeUpstream

from kubespark.certificates import IssuedFiles
from kubespark.errors import InputError
from kubespark.proxy import Proxy, ProxyOptions
from kubespark.proxy.guard import Limits

StartProxy = Callable[..., AbstractAsyncContextManager[Proxy]]


def client_certificate(directory: Path) -> IssuedFiles:
    """A CA and a client certificate it signs (clientAuth), as a cluster's CA issues users'."""
    directory.mkdir()
    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "client-ca")])
    ca = (
        x509.CertificateBuilder(subject_name=ca_name, issuer_name=ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    cert = (
        x509.CertificateBuilder(
            subject_name=x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "a-client")]),
            issuer_name=ca_name,
        )
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    files = IssuedFiles(directory / "ca.crt", directory / "client.crt", directory / "client.key")
    files.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


async def raw(proxy: Proxy, request: bytes, *, read: bool = True) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(65536), 10) if read else b""
    finally:
        writer.close()


def status_of(answer: bytes) -> tuple[int, dict[str, object]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body or b"{}")


@pytest.mark.parametrize(
    "host", ["attacker.example", "attacker.example:8001", "127.0.0.1.nip.io", "localhost.evil"]
)
async def test_a_host_not_accepted_is_refused_before_the_upstream(
    proxy: Proxy, upstream: FakeUpstream, host: str
) -> None:
    before = len(upstream.seen)
    answer = await raw(proxy, f"GET /api/v1/pods HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    code, status = status_of(answer)
    assert code == 403 and status["kind"] == "Status" and status["reason"] == "Forbidden"
    assert "--accept-hosts" in str(status["message"])
    assert len(upstream.seen) == before


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]", "localhost:8001"])
async def test_loopback_hosts_are_accepted(proxy: Proxy, upstream: FakeUpstream, host: str) -> None:
    answer = await raw(proxy, f"GET /api/v1/pods HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    assert status_of(answer)[0] == 200
    assert upstream.seen[-1].target == "/api/v1/pods"


async def test_a_foreign_origin_is_refused(proxy: Proxy, upstream: FakeUpstream) -> None:
    async with httpx.AsyncClient(base_url=proxy.url) as client:
        answer = await client.get("/api/v1/pods", headers={"Origin": "https://evil.example"})
        same = await client.get("/api/v1/pods", headers={"Origin": "http://localhost:3000"})
    assert answer.status_code == 403 and "Origin" in answer.json()["message"]
    assert same.status_code == 200


@pytest.mark.parametrize("verb", ["exec", "attach"])
async def test_exec_and_attach_are_rejected_by_default(
    proxy: Proxy, upstream: FakeUpstream, verb: str
) -> None:
    before = len(upstream.seen)
    answer = await raw(
        proxy,
        f"GET /api/v1/namespaces/default/pods/runner/{verb}?command=id HTTP/1.1\r\n"
        "Host: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n".encode(),
    )
    code, status = status_of(answer)
    assert code == 403 and "--reject-paths" in str(status["message"])
    assert len(upstream.seen) == before


async def test_impersonation_is_refused_unless_allowed(
    proxy: Proxy, upstream: FakeUpstream, tmp_path: Path, start_proxy: StartProxy
) -> None:
    headers = {"Impersonate-User": "system:admin", "Impersonate-Group": "system:masters"}
    async with httpx.AsyncClient(base_url=proxy.url) as client:
        refused = await client.get("/api/v1/secrets", headers=headers)
    assert refused.status_code == 403 and "--allow-impersonation" in refused.json()["message"]
    assert all(s.target != "/api/v1/secrets" for s in upstream.seen)
    kubeconfig = upstream.kubeconfig(tmp_path / "k.yaml", token=TOKEN)
    async with (
        start_proxy(kubeconfig, allow_impersonation=True) as allowing,
        httpx.AsyncClient(base_url=allowing.url) as client,
    ):
        forwarded = await client.get("/api/v1/secrets", headers=headers)
    assert forwarded.status_code == 200
    assert upstream.seen[-1].headers["impersonate-user"] == ["system:admin"]


async def test_a_token_file_makes_the_token_required(
    upstream: FakeUpstream, tmp_path: Path, start_proxy: StartProxy
) -> None:
    token_file = tmp_path / "client-token"
    token_file.write_text("client-token-0123456789\n")
    kubeconfig = upstream.kubeconfig(tmp_path / "k.yaml", token=TOKEN)
    out = tmp_path / "client.yaml"
    async with (
        start_proxy(kubeconfig, token_file=token_file, kubeconfig_out=out) as proxy,
        httpx.AsyncClient(base_url=proxy.url) as client,
    ):
        without = await client.get("/api/v1/pods")
        wrong = await client.get("/api/v1/pods", headers={"Authorization": "Bearer nope"})
        right = await client.get(
            "/api/v1/pods", headers={"Authorization": "Bearer client-token-0123456789"}
        )
    assert without.status_code == 401 and wrong.status_code == 401
    assert right.status_code == 200
    # The client token stops at the proxy; the upstream sees the kubeconfig's.
    assert upstream.seen[-1].headers["authorization"] == [f"Bearer {TOKEN}"]
    assert "client-token-0123456789" in out.read_text()
    assert oct(out.stat().st_mode & 0o777) == "0o600"


async def test_client_certificates_are_required_with_client_ca(
    upstream: FakeUpstream, tmp_path: Path, start_proxy: StartProxy
) -> None:
    clients = client_certificate(tmp_path / "clients")
    kubeconfig = upstream.kubeconfig(tmp_path / "k.yaml", token=TOKEN)
    async with start_proxy(
        kubeconfig, tls=True, tls_dir=tmp_path / "tls", client_ca=clients.ca_file
    ) as proxy:
        assert proxy.pair is not None and proxy.pair.ca_file is not None
        trust = ssl.create_default_context(cafile=str(proxy.pair.ca_file))
        async with httpx.AsyncClient(base_url=proxy.url, verify=trust) as anonymous:
            with pytest.raises(httpx.TransportError):
                await anonymous.get("/api/v1/pods")
        trust.load_cert_chain(clients.cert_file, clients.key_file)
        async with httpx.AsyncClient(base_url=proxy.url, verify=trust) as known:
            assert (await known.get("/api/v1/pods")).status_code == 200


async def test_a_slow_header_is_answered_408_and_closed(
    upstream: FakeUpstream, tmp_path: Path, start_proxy: StartProxy
) -> None:
    kubeconfig = upstream.kubeconfig(tmp_path / "k.yaml", token=TOKEN)
    limits = Limits(header_timeout=0.3, idle_timeout=0.5, request_timeout=0.5)
    async with start_proxy(kubeconfig, limits=limits) as proxy:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(b"GET /api/v1/pods HTTP/1.1\r\nHost: local")  # and never the rest
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(65536), 10)
        assert status_of(answer)[0] == 408
        assert await asyncio.wait_for(reader.read(1), 10) == b""  # closed
        writer.close()
        idle_reader, idle_writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        assert await asyncio.wait_for(idle_reader.read(1), 10) == b""  # idle: closed, no answer
        idle_writer.close()


async def test_connections_past_the_limit_get_503_and_the_rest_are_served(
    upstream: FakeUpstream, tmp_path: Path, start_proxy: StartProxy
) -> None:
    kubeconfig = upstream.kubeconfig(tmp_path / "k.yaml", token=TOKEN)
    async with start_proxy(kubeconfig, limits=Limits(max_connections=5)) as proxy:
        held = [await asyncio.open_connection("127.0.0.1", proxy.port) for _ in range(5)]
        await asyncio.sleep(0.1)
        answer = await raw(proxy, b"GET /api/v1/pods HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 503")
        for _, writer in held:
            writer.close()
        await asyncio.sleep(0.2)
        answer = await raw(proxy, b"GET /api/v1/pods HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert status_of(answer)[0] == 200


def test_a_bad_pattern_names_its_flag(upstream: FakeUpstream, tmp_path: Path) -> None:
    kubeconfig = upstream.kubeconfig(tmp_path / "k.yaml", token=TOKEN)
    with pytest.raises(InputError) as caught:
        Proxy(ProxyOptions(upstream_kubeconfig=kubeconfig, accept_hosts=("^(",), tls=False))
    assert caught.value.where == "--accept-hosts"
