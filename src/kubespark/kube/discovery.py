"""What a live cluster tells about itself that a compatibility check needs.

Owns reading the server's version (``GET /version``) and the image of an installed kubeflow
spark-operator (its Deployments), through :class:`kubespark.kube.client.KubeClient`, so tests can
point it at an emulator with an injected transport. It must not judge what it finds: the
knowledge base does that.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubespark.errors import InputError
from kubespark.kube.client import KubeClient
from kubespark.kube.errors import Forbidden, NotFound, Unauthorized
from kubespark.kube.requests import KubeRequest
from kubespark.versions import Version, image_tag, parse_kube_version

__all__ = ["ClusterFacts", "discover", "operator_images", "server_version"]

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
