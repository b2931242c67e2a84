"""A small real upstream for the proxy's forwarding tests: HTTP/1.1 on 127.0.0.1, every request
recorded, and the behaviours the emulator does not have (a stream the test paces chunk by chunk,
a protocol upgrade that echoes bytes, answers naming what arrived).

It speaks h11 over asyncio streams, like the proxy's front end, but shares no code with it.
Routes:
- ``GET /version``: a 1.19 server's version document;
- ``GET /api``, ``/apis``, ``/api/v1``: minimal discovery (core v1 services and configmaps);
- ``POST`` to a collection listed in ``existing``: 409 AlreadyExists;
- ``GET /stream``: a chunked answer, one chunk per item the test puts in ``chunks`` (None ends);
- ``/api/v1/namespaces/default/pods/runner/exec`` as a WebSocket (what kubectl exec sends): the
  command's words come back on stdout, then a Success status on the error channel;
- ``GET /upgrade``: ``101 Switching Protocols`` when asked to upgrade, then every byte received is
  sent back upper-cased (after a greeting); ``/deny-upgrade`` answers 403 instead;
- anything else: 200 (201 for POST) with a JSON echo of method, target, headers and body.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import h11
import yaml

GREETING = b"hello from upstream\n"
TOKEN = "s3cr3t-upstream-token-0123456789"  # the upstream kubeconfig's bearer token


_VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]
RESOURCES = [
    {"name": p, "singularName": s, "namespaced": True, "kind": k, "verbs": _VERBS}
    for p, s, k in [
        ("services", "service", "Service"),
        ("configmaps", "configmap", "ConfigMap"),
        ("pods", "pod", "Pod"),
    ]
]
RESOURCES.append(
    {"name": "pods/exec", "namespaced": True, "kind": "PodExecOptions", "verbs": ["create", "get"]}
)
POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "runner", "namespace": "default", "uid": "0-0"},
    "spec": {"containers": [{"name": "main", "image": "busybox"}]},
    "status": {"phase": "Running"},
}
_WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 1.3


@dataclass
class Seen:
    method: str
    target: str
    headers: dict[str, list[str]]
    body: bytes


@dataclass
class FakeUpstream:
    tls: ssl.SSLContext | None = None
    seen: list[Seen] = field(default_factory=list)
    chunks: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    stream_closed: asyncio.Event = field(default_factory=asyncio.Event)
    port: int = 0
    existing: set[str] = field(default_factory=set)  # collection paths whose POST answers 409
    git_version: str = "v1.19.16"  # what /version reports
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._accept, "127.0.0.1", self.port, ssl=self.tls
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    def kubeconfig(self, path: Path, *, token: str | None = None, ca: Path | None = None) -> Path:
        cluster: dict[str, Any] = {"server": self.url}
        if ca is not None:
            cluster["certificate-authority-data"] = base64.b64encode(ca.read_bytes()).decode()
        user: dict[str, Any] = {"token": token} if token else {}
        doc = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "up", "cluster": cluster}],
            "users": [{"name": "up", "user": user}],
            "contexts": [{"name": "up", "context": {"cluster": "up", "user": "up"}}],
            "current-context": "up",
        }
        path.write_text(yaml.safe_dump(doc))
        return path

    # --- serving --------------------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        conn = h11.Connection(h11.SERVER)
        try:
            while True:
                request, body = await _read(conn, reader)
                if request is None:
                    return
                seen = Seen(
                    request.method.decode(),
                    request.target.decode(),
                    _headers(request.headers),
                    body,
                )
                self.seen.append(seen)
                if seen.target.startswith("/upgrade") and "upgrade" in seen.headers:
                    await self._upgraded(conn, reader, writer, seen)
                    return
                if "/exec?" in seen.target and "sec-websocket-key" in seen.headers:
                    await self._exec(conn, reader, writer, seen)
                    return
                await self._answer(conn, reader, writer, seen)
                if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                    return
                conn.start_next_cycle()
        except (asyncio.CancelledError, ConnectionError, h11.ProtocolError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _answer(
        self,
        conn: h11.Connection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        seen: Seen,
    ) -> None:
        if seen.target.startswith("/stream"):
            await self._stream(conn, reader, writer)
            return
        path = seen.target.split("?", 1)[0]
        if path == "/version":
            minor = self.git_version.split(".")[1]
            code, doc = 200, {"major": "1", "minor": minor, "gitVersion": self.git_version}
        elif path == "/api":
            code, doc = 200, {"kind": "APIVersions", "versions": ["v1"]}
        elif path == "/apis":
            code, doc = 200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": []}
        elif path == "/api/v1":
            code, doc = (
                200,
                {"kind": "APIResourceList", "groupVersion": "v1", "resources": RESOURCES},
            )
        elif seen.method == "POST" and seen.target.split("?")[0] in self.existing:
            code, doc = 409, {"kind": "Status", "code": 409, "reason": "AlreadyExists"}
        elif seen.target.startswith("/deny-upgrade") or seen.target.startswith("/upgrade"):
            code, doc = 403, {"kind": "Status", "code": 403, "reason": "Forbidden"}
        elif seen.target.startswith(f"/api/v1/namespaces/default/pods/{POD['metadata']['name']}"):
            code, doc = 200, POD
        elif seen.target.startswith("/openapi"):
            code, doc = 404, {"kind": "Status", "code": 404, "reason": "NotFound"}
        else:
            code = 201 if seen.method == "POST" else 200
            doc = {
                "method": seen.method,
                "target": seen.target,
                "headers": seen.headers,
                "body": seen.body.decode("latin-1"),
            }
        data = json.dumps(doc).encode()
        headers = [("content-type", "application/json"), ("content-length", str(len(data)))]
        headers.append(("audit-id", "fake-audit-id"))
        writer.write(conn.send(h11.Response(status_code=code, headers=headers)))
        if seen.method != "HEAD":
            writer.write(conn.send(h11.Data(data=data)))
        writer.write(conn.send(h11.EndOfMessage()))
        await writer.drain()

    async def _stream(
        self, conn: h11.Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        head = h11.Response(status_code=200, headers=[("content-type", "application/json")])
        writer.write(conn.send(head))
        await writer.drain()
        # The client closing its connection is noticed at once, as an API server notices it.
        closed = asyncio.ensure_future(reader.read(1))
        try:
            while True:
                item = asyncio.ensure_future(self.chunks.get())
                await asyncio.wait({item, closed}, return_when=asyncio.FIRST_COMPLETED)
                if not item.done():
                    item.cancel()
                    return
                chunk = item.result()
                if chunk is None:
                    break
                writer.write(conn.send(h11.Data(data=chunk)))
                await writer.drain()
            writer.write(conn.send(h11.EndOfMessage()))
            await writer.drain()
        finally:
            closed.cancel()
            self.stream_closed.set()

    async def _exec(
        self,
        conn: h11.Connection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        seen: Seen,
    ) -> None:
        """A container that runs the command and prints it, over Kubernetes' WebSocket channels.

        Protocol v5.channel.k8s.io (v4 as well): binary frames whose first byte names the
        channel, 1 stdout, 3 the error channel carrying the exit Status; then a close frame.
        """
        key = seen.headers["sec-websocket-key"][0].encode()
        accept = base64.b64encode(hashlib.sha1(key + _WS_GUID).digest()).decode()
        offered = [
            p.strip() for v in seen.headers.get("sec-websocket-protocol", []) for p in v.split(",")
        ]
        protocol = next(p for p in offered if p in ("v5.channel.k8s.io", "v4.channel.k8s.io"))
        headers = [("connection", "Upgrade"), ("upgrade", "websocket")]
        headers += [("sec-websocket-accept", accept), ("sec-websocket-protocol", protocol)]
        writer.write(conn.send(h11.InformationalResponse(status_code=101, headers=headers)))
        query = parse_qs(seen.target.split("?", 1)[1])
        output = " ".join(query.get("command", [])) + "\n"
        status = json.dumps({"metadata": {}, "status": "Success"}).encode()
        writer.write(_ws_frame(0x2, b"\x01" + output.encode()))
        writer.write(_ws_frame(0x2, b"\x03" + status))
        writer.write(_ws_frame(0x8, (1000).to_bytes(2, "big")))
        await writer.drain()
        with contextlib.suppress(ConnectionError):
            while await reader.read(65536):
                pass

    async def _upgraded(
        self,
        conn: h11.Connection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        seen: Seen,
    ) -> None:
        protocol = seen.headers["upgrade"][0]
        headers = [("connection", "Upgrade"), ("upgrade", protocol)]
        headers.append(("x-stream-protocol-version", "v4.channel.k8s.io"))
        writer.write(conn.send(h11.InformationalResponse(status_code=101, headers=headers)))
        writer.write(GREETING)
        await writer.drain()
        early, _ = conn.trailing_data
        if early:
            writer.write(bytes(early).upper())
        while data := await reader.read(65536):
            writer.write(data.upper())
            await writer.drain()


def _ws_frame(opcode: int, payload: bytes) -> bytes:
    """One unmasked server-to-client WebSocket frame (RFC 6455 5.2)."""
    head = bytes([0x80 | opcode])
    if len(payload) < 126:
        return head + bytes([len(payload)]) + payload
    return head + bytes([126]) + len(payload).to_bytes(2, "big") + payload


async def _read(
    conn: h11.Connection, reader: asyncio.StreamReader
) -> tuple[h11.Request | None, bytes]:
    request = None
    body = b""
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(await reader.read(65536))
            continue
        if isinstance(event, h11.ConnectionClosed):
            return None, b""
        if isinstance(event, h11.Request):
            request = event
        elif isinstance(event, h11.Data):
            body += bytes(event.data)
        elif isinstance(event, h11.EndOfMessage) or event is h11.PAUSED:
            return request, body


def _headers(raw: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in raw:
        out.setdefault(bytes(key).decode(), []).append(bytes(value).decode("latin-1"))
    return out


@contextlib.asynccontextmanager
async def fake_upstream(tls: ssl.SSLContext | None = None) -> Any:
    upstream = FakeUpstream(tls=tls)
    await upstream.start()
    try:
        yield upstream
    finally:
        await upstream.stop()
