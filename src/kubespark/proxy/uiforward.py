"""A local forward to one Service port through the API server's service proxy (``ui-proxy``).

Owns a listener on a loopback address that sends each request to the API server's proxy of one
Service port (``/api/v1/namespaces/N/services/S:P/proxy/``) with the kubeconfig's credentials, as
``kubectl proxy`` sends them, so a browser on this machine reaches a Spark UI with no token and
no port-forward: ``http://127.0.0.1:PORT/jobs/`` is ``<server>/api/v1/.../proxy/jobs/``.
Targets already under the proxy path (the API server rewrites a page's absolute links to it)
go as they are; redirects that name the API server are turned back to this listener.

Only that path prefix is reachable: a target climbing out of it (``..``) is refused, a client's
own ``Authorization`` is dropped (the kubeconfig's credentials are the only ones sent), and
upgrades (WebSockets) are refused. It must not read or log credentials; the :class:`Upstream`
holds them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import unquote

from kubespark.kube.config import Connection
from kubespark.kube.status import Status
from kubespark.proxy.messages import ClientRequest, ProxyResponse, status_response
from kubespark.proxy.upstream import Upstream
from kubespark.proxy.wire import Upgraded, serve_connection

__all__ = ["UIForward", "forward_ui"]

MAX_BODY = 10 * 1024 * 1024  # a UI's forms are small; bounded as every body the proxy reads


@dataclass
class UIForward:
    """The handler of one forward: maps a local target under the Service's proxy path."""

    upstream: Upstream
    proxy_path: str  # /api/v1/namespaces/N/services/S:P/proxy/
    max_body: int = MAX_BODY
    requests: int = field(default=0)

    @property
    def _prefix(self) -> bytes:
        return self.proxy_path.rstrip("/").encode()

    def target_of(self, request: ClientRequest) -> bytes | None:
        """The upstream target of a local one; None when it would leave the proxy path."""
        target = request.origin_target
        if ".." in unquote(target.split(b"?", 1)[0].decode("latin-1")).split("/"):
            return None
        if target == self._prefix or target.startswith(self._prefix + b"/"):
            return target
        return self._prefix + (target if target.startswith(b"/") else b"/" + target)

    async def handle(self, request: ClientRequest) -> ProxyResponse:
        self.requests += 1
        target = self.target_of(request)
        if target is None:
            return status_response(
                Status.failure(400, "kubespark ui-proxy: the path leaves the Spark UI (..)")
            )
        headers = [(k, v) for k, v in request.headers if k != b"authorization"]
        outgoing = ClientRequest(request.method, target, tuple(headers), request.body)
        response = await self.upstream.forward(outgoing)
        response.headers = [self._local(k, v) for k, v in response.headers]
        return response

    def _local(self, key: bytes, value: bytes) -> tuple[bytes, bytes]:
        """A ``Location`` naming the API server, made relative: the browser stays here."""
        server = self.upstream.server.encode()
        if key == b"location" and value.startswith(server + b"/"):
            return key, value[len(server) :]
        return key, value

    async def upgrade(self, request: ClientRequest) -> tuple[ProxyResponse, Upgraded | None]:
        refused = Status.failure(400, "kubespark ui-proxy: upgrades are not forwarded")
        return status_response(refused), None


@contextlib.asynccontextmanager
async def forward_ui(
    connection: Connection, proxy_path: str, *, address: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[tuple[UIForward, str]]:
    """Listen on ``address:port`` (0: a free port); yields the handler and the local URL."""
    upstream = Upstream(connection)
    handler = UIForward(upstream, proxy_path)
    connections: set[asyncio.Task[None]] = set()

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        connections.add(task)
        try:
            await serve_connection(reader, writer, handler)
        except asyncio.CancelledError:
            writer.close()
        finally:
            connections.discard(task)

    server = await asyncio.start_server(accept, address, port)
    bound = server.sockets[0].getsockname()
    host = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
    try:
        yield handler, f"http://{host}:{bound[1]}/"
    finally:
        server.close()
        for task in list(connections):
            task.cancel()
        if connections:
            await asyncio.gather(*connections, return_exceptions=True)
        await server.wait_closed()
        await upstream.aclose()
