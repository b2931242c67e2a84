"""What a live cluster tells about itself.

Owns reading, through :class:`kubespark.kube.client.KubeClient` (or a bare ``httpx.AsyncClient``)
so tests can point it at an emulator with an injected transport:
- for compatibility checks, the server's version (``GET /version``) and the image of an
  installed kubeflow spark-operator (its Deployments);
- for the API surface, the raw discovery documents (``/version``, ``/api``, ``/apis``, each
  group-version's APIResourceList, ``/openapi/v2`` when served), turned into an ``ApiSurface``
  by :func:`kubespark.apisurface.surface_from_discovery`. A group-version that does not answer
  (an aggregated API that is down answers 503) is recorded as failed, not fatal, as kubectl does.
It must not judge what it finds: the knowledge base and the API surface do that.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from kubespark.apisurface import ApiSurface
from kubespark.apisurface.discovery import DiscoveryDocs, surface_from_discovery
from kubespark.errors import InputError, UnreachableError
from kubespark.kube.client import KubeClient
from kubespark.kube.errors import (
    APIError,
    ConnectionFailed,
    Forbidden,
    NotFound,
    Unauthorized,
    error_for_status,
)
from kubespark.kube.requests import KubeRequest
from kubespark.redaction import redact_url
from kubespark.versions import Version, image_tag, parse_kube_version

if TYPE_CHECKING:
    from kubespark.kube.status import Status

__all__ = [
    "ClusterFacts",
    "ServerDocs",
    "discover",
    "fetch_discovery",
    "get_document",
    "operator_images",
    "read_capabilities",
    "server_version",
]

_DEPLOYMENTS = "/apis/apps/v1/deployments"
# kubeflow publishes the operator as .../spark-operator:TAG and .../spark-operator/controller:TAG
# (gcr.io/spark-operator/spark:<tag> is a Spark base image, not the operator).
_OPERATOR_REPOSITORY_ENDINGS = ("/spark-operator", "/spark-operator/controller")


@dataclass(frozen=True)
class ClusterFacts:
    """The cluster as discovered: server version, operator images, and what could not be read."""

    server: str
    kubernetes: Version
    git_version: str
    operator_images: tuple[str, ...]
    notes: tuple[str, ...] = ()


async def server_version(client: KubeClient) -> tuple[Version, str]:
    """The server's Kubernetes version and the raw gitVersion it reported."""
    body = await client.version()
    git_version = str(body.get("gitVersion") or "")
    if not git_version:
        raise InputError(
            "the server's /version answer has no gitVersion",
            where=client.server,
            fix="point --kubeconfig/--context at a Kubernetes API server",
        )
    return parse_kube_version(git_version, what="Kubernetes server version"), git_version


async def operator_images(client: KubeClient) -> tuple[str, ...]:
    """Images of spark-operator Deployments in any namespace, deduplicated, in listing order."""
    listing = await client.send(KubeRequest("GET", _DEPLOYMENTS))
    found = [image for item in _items(listing) for image in _container_images(item)]
    return tuple(dict.fromkeys(i for i in found if _is_operator_image(i)))


async def discover(client: KubeClient) -> ClusterFacts:
    """Server version (required) and operator images (best effort: RBAC may forbid listing)."""
    version, git_version = await server_version(client)
    notes: list[str] = []
    try:
        images = await operator_images(client)
    except (Forbidden, Unauthorized, NotFound) as err:
        images = ()
        notes.append(f"could not list Deployments to find an operator: {err.message}")
    return ClusterFacts(client.server, version, git_version, images, tuple(notes))


def _items(listing: Any) -> list[dict[str, Any]]:
    items = listing.get("items") if isinstance(listing, dict) else None
    return [i for i in items or [] if isinstance(i, dict)]


def _container_images(deployment: dict[str, Any]) -> list[str]:
    pod_spec = deployment.get("spec", {}).get("template", {}).get("spec", {})
    containers = pod_spec.get("containers") or []
    return [str(c["image"]) for c in containers if isinstance(c, dict) and c.get("image")]


def _is_operator_image(image: str) -> bool:
    reference = image.split("@", 1)[0]
    repository = reference.rsplit(":", 1)[0] if image_tag(reference) else reference
    return ("/" + repository).endswith(_OPERATOR_REPOSITORY_ENDINGS)


# --- discovery documents for the API surface ----------------------------------------------------

_ACCEPT = {"Accept": "application/json"}


@dataclass(frozen=True, slots=True)
class ServerDocs:
    version_info: Mapping[str, Any]
    discovery: DiscoveryDocs
    openapi_v2: Mapping[str, Any] | None


def _failure(code: int, message: str) -> Status:
    # Imported only on a failure (a pydantic model): a discovery the server answers, as every
    # successful `kubespark submit` makes, need not pay pydantic's start-up.
    from kubespark.kube.status import Status

    return Status.failure(code, message)


_Get = Callable[[str], Awaitable[Mapping[str, Any]]]


def _getter(client: KubeClient | httpx.AsyncClient) -> _Get:
    if isinstance(client, KubeClient):

        async def via_client(path: str) -> Mapping[str, Any]:
            body = await client.send(KubeRequest("GET", path))
            if not isinstance(body, dict):
                status = _failure(502, f"GET {path} answered {type(body).__name__}")
                raise error_for_status(status, method="GET", path=path)
            return body

        return via_client

    async def via_http(path: str) -> Mapping[str, Any]:
        return await get_document(client, path)

    return via_http


async def get_document(
    http: httpx.AsyncClient, path: str, server: str = "the API server"
) -> Mapping[str, Any]:
    """``GET path`` as a JSON object through a plain httpx client; failures as typed errors."""
    try:
        response = await http.get(path, headers=_ACCEPT)
    except httpx.TransportError as err:
        status = _failure(0, f"cannot reach {server}: {err or type(err).__name__}")
        raise ConnectionFailed(status, method="GET", path=path) from None
    if response.status_code >= 400:
        text = response.text.strip()[:500] or response.reason_phrase
        raise error_for_status(_failure(response.status_code, text), method="GET", path=path)
    try:
        body = response.json()
    except ValueError:  # HTML from a login page or a dashboard: not an API server
        body = response.text[:0]
    if not isinstance(body, dict):
        status = _failure(502, f"GET {path} answered {type(body).__name__}, not an object")
        raise error_for_status(status, method="GET", path=path)
    return body


async def _optional(get: _Get, path: str) -> Mapping[str, Any] | None:
    try:
        return await get(path)
    except APIError as err:
        if isinstance(err, ConnectionFailed):
            raise
        return None


async def fetch_discovery(
    client: KubeClient | httpx.AsyncClient, *, openapi: bool = True, concurrency: int = 8
) -> ServerDocs:
    """The raw documents of the server a client points at (an httpx client's ``base_url``)."""
    get = _getter(client)
    try:
        version_info, core = await asyncio.gather(get("/version"), get("/api"))
    except APIError as err:
        if isinstance(err, ConnectionFailed) or err.status.code not in (200, 502):
            raise
        raise NotKubernetes(_server_of(client), f"{err.status.message}") from None
    _require_kubernetes(client, version_info, core)
    groups = await _optional(get, "/apis")
    docs = DiscoveryDocs(core=core, groups=groups)
    gate = asyncio.Semaphore(concurrency)

    async def listing(gv: str) -> tuple[str, Mapping[str, Any] | None]:
        path = f"/api/{gv}" if "/" not in gv else f"/apis/{gv}"
        async with gate:
            return gv, await _optional(get, path)

    answers = await asyncio.gather(*(listing(gv) for gv in docs.group_versions()))
    spec = await _optional(get, "/openapi/v2") if openapi else None
    return ServerDocs(
        version_info=version_info,
        discovery=DiscoveryDocs(
            core=core,
            groups=groups,
            resource_lists={gv: doc for gv, doc in answers if doc is not None},
            failed=tuple(gv for gv, doc in answers if doc is None),
        ),
        openapi_v2=spec,
    )


class NotKubernetes(UnreachableError):
    """A server that answers HTTP, but not as a Kubernetes API server does."""

    def __init__(self, server: str, what: str) -> None:
        super().__init__(
            f"{server} is not a Kubernetes API server: {what}",
            fix="check the kubeconfig's cluster server URL (and --context): it must name the "
            "API server, not a dashboard, proxy login page or other web service",
        )


def _require_kubernetes(
    client: KubeClient | httpx.AsyncClient, version: Mapping[str, Any], core: Mapping[str, Any]
) -> None:
    # Every apiserver since 1.0 answers /version with gitVersion and /api with APIVersions.
    if not isinstance(version.get("gitVersion"), str):
        raise NotKubernetes(_server_of(client), "GET /version has no gitVersion")
    if not isinstance(core.get("versions"), list):
        raise NotKubernetes(_server_of(client), "GET /api lists no API versions")


def _server_of(client: KubeClient | httpx.AsyncClient) -> str:
    server = client.server if isinstance(client, KubeClient) else str(client.base_url)
    return redact_url(server)


async def read_capabilities(
    client: KubeClient | httpx.AsyncClient, *, openapi: bool = True
) -> ApiSurface:
    """The API surface of a live server: its own answers, bundled data for the rest."""
    docs = await fetch_discovery(client, openapi=openapi)
    return surface_from_discovery(docs.version_info, docs.discovery, docs.openapi_v2)
