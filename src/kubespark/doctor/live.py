"""Gathering a live SparkApplication's evidence: the object, its events, its driver pod and log.

Owns the reads ``kubespark doctor --app`` makes through :class:`KubeClient` (the server's
``/version``, the SparkApplication, events about it and about its driver pod, the driver pod with
its container states, and the tail of the driver's log) and turning each into an :class:`Input`
the same engine reads as it reads files. Reads that fail for reasons other than the application
not existing (RBAC forbids events, the driver pod is gone) are recorded as notes in the inputs,
not fatal. It writes nothing.
"""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import quote

import yaml

from kubespark.doctor.engine import Input
from kubespark.errors import InputError
from kubespark.kube.client import KubeClient
from kubespark.kube.errors import APIError, NotFound
from kubespark.kube.requests import KubeRequest

__all__ = ["LOG_TAIL_LINES", "SPARK_APPS", "fetch_app_inputs", "fetch_pod_inputs"]

SPARK_APPS = "/apis/sparkoperator.k8s.io/v1beta2"
LOG_TAIL_LINES = 2000  # the end of the driver's log is where it failed; the rest is bounded away


async def fetch_app_inputs(client: KubeClient, name: str, namespace: str) -> list[Input]:
    """Everything the cluster shows about one SparkApplication, as inputs for the engine."""
    ns = quote(namespace, safe="")
    app = await _get_app(client, name, namespace)
    inputs = [_doc("cluster: /version", await _optional(client, KubeRequest("GET", "/version")))]
    inputs.append(_doc(f"cluster: sparkapplication {namespace}/{name}", app))
    inputs.append(await _events(client, ns, "SparkApplication", name))
    driver = str(((app.get("status") or {}).get("driverInfo") or {}).get("podName") or "")
    driver = driver or f"{name}-driver"
    pod = await _optional(client, KubeRequest("GET", f"/api/v1/namespaces/{ns}/pods/{driver}"))
    inputs.append(_doc(f"cluster: pod {namespace}/{driver}", pod))
    if pod.get("kind") == "Pod":
        inputs.append(await _events(client, ns, "Pod", driver))
        inputs.append(await _log(client, ns, namespace, driver))
    return inputs


async def fetch_pod_inputs(
    client: KubeClient, namespace: str, pod: str, *, container: str | None = None
) -> list[Input]:
    """A pod, its events (oldest first) and its log's tail (of ``container``), as inputs.

    What a failed driver shows, for ``kubespark submit --wait`` as for ``doctor --app``.
    """
    ns = quote(namespace, safe="")
    found = await _optional(client, KubeRequest("GET", f"/api/v1/namespaces/{ns}/pods/{pod}"))
    return [
        _doc(f"cluster: pod {namespace}/{pod}", found),
        await _events(client, ns, "Pod", pod),
        await _log(client, ns, namespace, pod, container),
    ]


async def _get_app(client: KubeClient, name: str, namespace: str) -> dict[str, Any]:
    path = f"{SPARK_APPS}/namespaces/{quote(namespace, safe='')}/sparkapplications/{name}"
    try:
        body = await client.send(KubeRequest("GET", path))
    except NotFound:
        raise InputError(
            f"SparkApplication {namespace}/{name} was not found on {client.server}",
            where="--app",
            fix="check the name and -n NAMESPACE (kubectl get sparkapplications -A)",
        ) from None
    return body if isinstance(body, dict) else {}


async def _optional(client: KubeClient, request: KubeRequest) -> dict[str, Any]:
    try:
        body = await client.send(request)
    except APIError as err:
        return {"kubespark-note": f"{request.describe()} failed: HTTP {err.status.code}"}
    return body if isinstance(body, dict) else {}


async def _events(client: KubeClient, ns: str, kind: str, name: str) -> Input:
    selector = f"involvedObject.kind={kind},involvedObject.name={name}"
    request = KubeRequest("GET", f"/api/v1/namespaces/{ns}/events", (("fieldSelector", selector),))
    listing = await _optional(client, request)
    # Oldest first, as kubectl describe lists them; the engine keeps the first failure it reads.
    items = sorted(listing.get("items") or [], key=_event_time)
    return _doc(f"cluster: events of {kind.lower()} {name}", {**listing, "items": items})


def _event_time(event: dict[str, Any]) -> str:
    return str(event.get("lastTimestamp") or event.get("eventTime") or "")


async def _log(
    client: KubeClient, ns: str, namespace: str, pod: str, container: str | None = None
) -> Input:
    query = (
        *((("container", container),) if container else ()),
        ("tailLines", str(LOG_TAIL_LINES)),
    )
    request = KubeRequest("GET", f"/api/v1/namespaces/{ns}/pods/{pod}/log", query)
    try:
        text = await client.send(request)
    except APIError as err:
        text = f"kubespark-note: the driver's log could not be read: HTTP {err.status.code}"
    body = text if isinstance(text, str) else yaml.safe_dump(text)
    return Input(f"cluster: log of pod {namespace}/{pod}", io.BytesIO(body.encode()))


def _doc(name: str, obj: dict[str, Any]) -> Input:
    return Input(name, io.BytesIO(yaml.safe_dump(obj, sort_keys=False).encode()))
