"""The operator's own HTTP endpoints: Prometheus metrics, liveness and readiness.

Owns a small ASGI app served by uvicorn inside the operator's event loop: ``/metrics`` (the
exposition of :class:`~kubespark.operator.metrics.OperatorMetrics`), ``/healthz`` (the loop
answers, with the replica's state as JSON) and ``/readyz`` (200 only once this server answers,
after the workers and kopf have been started; as a kubeflow Deployment expects, whether or not
this replica is the active one). The port is bound before anything starts (:meth:`bind`), so
a taken port stops the operator at start with a message instead of leaving it running blind.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import uvicorn

from kubespark.operator.metrics import CONTENT_TYPE, OperatorMetrics
from kubespark.serving import EmbeddedServer, listening_socket

__all__ = ["OperatorHTTP"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class OperatorHTTP:
    """Serves /metrics, /healthz and /readyz for one operator."""

    def __init__(
        self,
        metrics: OperatorMetrics,
        health: Callable[[], dict[str, Any]],
        *,
        host: str,
        port: int,
    ) -> None:
        self.metrics = metrics
        self.health = health
        self.host = host
        self.port = port
        self.ready = False
        self._server: EmbeddedServer | None = None
        self._socket: socket.socket | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path = scope.get("path", "")
        if path == "/metrics":
            await _answer(send, 200, self.metrics.render(), CONTENT_TYPE)
        elif path in ("/healthz", "/livez"):
            body = json.dumps({"status": "ok", **self.health()}).encode()
            await _answer(send, 200, body, "application/json")
        elif path == "/readyz":
            code = 200 if self.ready else 503
            await _answer(send, code, b"ok" if self.ready else b"starting", "text/plain")
        else:
            await _answer(send, 404, b"not found", "text/plain")

    def bind(self) -> None:
        """Take the port now, so a taken one fails the operator's start rather than a task."""
        if self._socket is not None:
            return
        sock = listening_socket(
            self.host,
            self.port,
            where="--metrics-port",
            fix="choose a free port, or 0 to serve no metrics",
            serves=" for /metrics, /healthz and /readyz",
        )
        self._socket = sock
        self.port = sock.getsockname()[1]

    @property
    def serving(self) -> bool:
        """Whether uvicorn has started answering on the bound socket."""
        return self._server is not None and self._server.started

    async def serve(self) -> None:
        """Serve until cancelled."""
        self.bind()
        sock = self._socket
        assert sock is not None
        config = uvicorn.Config(
            self, log_level="warning", access_log=False, lifespan="off", ws="none"
        )
        self._server = EmbeddedServer(config)
        try:
            await self._server.serve(sockets=[sock])
        finally:
            sock.close()
            self._socket = None

    async def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            await asyncio.sleep(0)


async def _answer(send: Send, code: int, body: bytes, content_type: str) -> None:
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": code, "headers": headers})
    await send({"type": "http.response.body", "body": body})
