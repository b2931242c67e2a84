"""The Service proxy subresource: ``/api/v1/namespaces/NS/services/NAME[:PORT]/proxy/PATH``.

Owns relaying a request to one ready endpoint of a Service, as the API server does for
``kubectl proxy`` users and dashboards (a running Spark driver's UI): the Service's port by name
or number (the first when none is named), its ``targetPort`` (a number, or a container port's
name), a Running and Ready pod its selector picks, and the answer as that program gave it.
Failures are the API server's: 404 for no such Service, 503 ``no endpoints available for
service "NAME"`` when no pod is ready, 503 ``error trying to reach service: ...`` when nothing
listens (the simulated kubelet's pods listen on nothing; the process kubelet's real drivers do,
on their pod IPs). It reads the store and must not write.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from kubespark.emulator.apiserver.api import ApiServer
from kubespark.emulator.apiserver.wire import not_found
from kubespark.kube.errors import ServiceUnavailable
from kubespark.kube.status import Status

__all__ = ["Relayed", "match", "relay"]

_PATH = re.compile(r"^/api/v1/namespaces/([^/]+)/services/([^/]+)/proxy(/.*)?$")
# A pod IP nothing routes to (the simulated kubelet's) times out rather than refuses: not long.
_TIMEOUT = httpx.Timeout(30.0, connect=3.0)
_MAX_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Relayed:
    code: int
    content_type: bytes
    body: bytes


def match(path: str) -> tuple[str, str, str] | None:
    """(namespace, ``[scheme:]name[:port]``, the path to relay) of a service proxy path."""
    found = _PATH.match(path)
    if found is None:
        return None
    return found.group(1), found.group(2), found.group(3) or "/"


def _unavailable(message: str) -> ServiceUnavailable:
    return ServiceUnavailable(Status.failure(503, message, reason="ServiceUnavailable"))


def _ready(pod: Mapping[str, Any]) -> bool:
    status = pod.get("status") or {}
    conditions = status.get("conditions") or []
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
    return status.get("phase") == "Running" and ready and bool(status.get("podIP"))


def _selects(selector: Mapping[str, str], pod: Mapping[str, Any]) -> bool:
    labels = (pod.get("metadata") or {}).get("labels") or {}
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _target(port: Mapping[str, Any], pod: Mapping[str, Any]) -> int | None:
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, int):
        return target
    for container in (pod.get("spec") or {}).get("containers") or []:
        for each in container.get("ports") or []:
            if each.get("name") == target:
                return int(each["containerPort"])
    return None


def _port(service: Mapping[str, Any], wanted: str) -> Mapping[str, Any]:
    ports = (service.get("spec") or {}).get("ports") or []
    for port in ports:
        if not wanted or port.get("name") == wanted or str(port.get("port")) == wanted:
            return dict(port)
    name = (service.get("metadata") or {}).get("name", "")
    raise _unavailable(f'no endpoints available for service "{name}:{wanted}"')


async def relay(
    api: ApiServer, method: str, namespace: str, ref: str, rest: str, query: str
) -> Relayed:
    """Send ``method rest?query`` to a ready endpoint of the Service ``ref`` names."""
    parts = ref.split(":")
    if parts[0] in ("http", "https") and len(parts) > 1:
        parts = parts[1:]  # a scheme prefix: the endpoint is reached over plain HTTP here
    name, wanted = parts[0], (parts[1] if len(parts) > 1 else "")
    services = api.registry.lookup("", "v1", "services")
    pods = api.registry.lookup("", "v1", "pods")
    assert services is not None and pods is not None
    service = api.store.get(services.bucket, namespace, name)
    if service is None:
        raise not_found("", "services", name)
    port = _port(service, wanted)
    selector = (service.get("spec") or {}).get("selector") or {}
    ready = [
        p for p in api.store.items(pods.bucket, namespace) if _selects(selector, p) and _ready(p)
    ]
    if not ready:
        raise _unavailable(f'no endpoints available for service "{name}"')
    pod = ready[0]
    target = _target(port, pod)
    if target is None:
        raise _unavailable(f'no endpoints available for service "{name}"')
    address = f"{pod['status']['podIP']}:{target}"
    url = f"http://{address}{rest}" + (f"?{query}" if query else "")
    try:
        async with httpx.AsyncClient(timeout=_TIMEOUT) as client:
            answer = await client.request(method, url)
    except httpx.HTTPError as err:
        detail = (
            "i/o timeout"
            if isinstance(err, httpx.TimeoutException)
            else "connect: connection refused"
            if isinstance(err, httpx.ConnectError)
            else str(err) or type(err).__name__
        )
        raise _unavailable(f"error trying to reach service: dial tcp {address}: {detail}") from None
    content_type = answer.headers.get("content-type", "application/octet-stream").encode()
    return Relayed(answer.status_code, content_type, answer.content[:_MAX_BYTES])
