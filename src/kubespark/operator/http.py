"""The operator's own HTTP endpoints: Prometheus metrics, liveness and readiness.

Owns a small ASGI app served by uvicorn inside the operator's event loop: ``/metrics`` (the
exposition of :class:`~kubespark.operator.metrics.OperatorMetrics`), ``/healthz`` (the loop
answers, with the replica's state as JSON) and ``/readyz`` (200 only once this server answers,
after the workers and kopf have been started; as a kubeflow Deployment expects, whether or not
this replica is the active one). The port is bound before anything starts (:meth:`bind`), so
a taken port stops the operator at start with a message instead of leaving it running blind.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from kubespark.operator.metrics import CONTENT_TYPE, OperatorMetrics
from kubespark.serving import AppServer

__all__ = ["OperatorHTTP"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class OperatorHTTP(AppServer):
    """Serves /metrics, /healthz and /readyz for one operator."""

    def __init__(
        self,
        metrics: OperatorMetrics,
        health: Callable[[], dict[str, Any]],
        *,
        host: str,
        port: int,
    ) -> None:
        super().__init__(
            host,
            port,
            where="--metrics-port",
            fix="choose a free port, or 0 to serve no metrics",
            serves=" for /metrics, /healthz and /readyz",
        )
        self.metrics = metrics
        self.health = health
        self.ready = False

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

    @property
    def serving(self) -> bool:
        """Whether uvicorn has started answering on the bound socket."""
        return self.started

    async def serve(self) -> None:
        """Serve until cancelled."""
        await self._serve_app(self)


async def _answer(send: Send, code: int, body: bytes, content_type: str) -> None:
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": code, "headers": headers})
    await send({"type": "http.response.body", "body": body})
