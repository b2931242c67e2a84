"""Where an application's Spark UI is: its Service, and the URL through the API server's proxy.

Owns finding the Service that exposes a driver's UI port (the headless ``-driver-svc``
spark-submit creates, port ``spark-ui``; or the operator's ``-ui-svc``, named in
``status.driverInfo.webUIServiceName``) and the URL of that port through the API server's
service proxy (``/api/v1/namespaces/N/services/NAME:PORT/proxy/``), which works wherever the
caller can reach the API server: no port-forward, no Ingress. It must not open connections.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

__all__ = ["UI_PORT", "UI_PORT_NAMES", "UIService", "proxy_path", "ui_service_of"]

UI_PORT = 4040  # spark.ui.port's default
# The port names spark-submit (``spark-ui``) and the operator (``spark-driver-ui-port``) give it.
UI_PORT_NAMES = frozenset({"spark-ui", "spark-driver-ui-port"})


@dataclass(frozen=True)
class UIService:
    """A Service port that reaches a driver's Spark UI."""

    namespace: str
    name: str
    port: int

    def proxy_path(self) -> str:
        return proxy_path(self.namespace, self.name, self.port)

    def url(self, server: str) -> str:
        """The UI through ``server``'s service proxy (needs the server's credentials)."""
        return server.rstrip("/") + self.proxy_path()


def proxy_path(namespace: str, service: str, port: int) -> str:
    """``/api/v1/namespaces/N/services/S:P/proxy/``: the API server's proxy to a Service port."""
    return (
        f"/api/v1/namespaces/{quote(namespace, safe='')}/services/"
        f"{quote(service, safe='')}:{port}/proxy/"
    )


def ui_service_of(services: Iterable[Mapping[str, Any]]) -> UIService | None:
    """The first of ``services`` with a UI port (by its name, else port 4040), or None."""
    for service in services:
        meta = service.get("metadata") or {}
        ports = [p for p in (service.get("spec") or {}).get("ports") or [] if isinstance(p, dict)]
        port = next((p for p in ports if p.get("name") in UI_PORT_NAMES), None) or next(
            (p for p in ports if p.get("port") == UI_PORT), None
        )
        if port is not None and isinstance(port.get("port"), int):
            return UIService(
                str(meta.get("namespace", "")), str(meta.get("name", "")), port["port"]
            )
    return None
