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
from collections.abc import Callable
from typing import Any

from kubespark.operator.metrics import CONTENT_TYPE, OperatorMetrics
from kubespark.serving import AppServer, Receive, Scope, Send, send_response

__all__ = ["OperatorHTTP"]


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
            await send_response(send, 200, self.metrics.render(), CONTENT_TYPE)
        elif path in ("/healthz", "/livez"):
            body = json.dumps({"status": "ok", **self.health()}).encode()
            await send_response(send, 200, body, "application/json")
        elif path == "/readyz":
            code = 200 if self.ready else 503
            await send_response(send, code, b"ok" if self.ready else b"starting", "text/plain")
        else:
            await send_response(send, 404, b"not found", "text/plain")

    @property
    def serving(self) -> bool:
        """Whether uvicorn has started answering on the bound socket."""
        return self.started

    async def serve(self) -> None:
        """Serve until cancelled."""
        await self._serve_app(self)
