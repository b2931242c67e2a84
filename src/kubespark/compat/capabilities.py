"""Where a plan's capabilities come from: a version string (offline) or the live server.

Owns the two ways the planner and ``kubespark validate`` get an :class:`ApiSurface`: the bundled
surface of a version (``1.19``, ``v1.20.6-eks-x``; the patch shapes the behaviours), or the
surface a live server describes through ``/version``, discovery and ``/openapi/v2`` (its CRDs,
aggregated APIs and vendor changes included). It decides nothing about writes.
"""

from __future__ import annotations

from kubespark.apisurface.load import load_surface
from kubespark.apisurface.model import ApiSurface
from kubespark.kube.client import KubeClient
from kubespark.kube.discovery import read_capabilities
from kubespark.versions import Version

__all__ = ["live_capabilities", "offline_capabilities"]


def offline_capabilities(version: Version | str) -> ApiSurface:
    """The bundled surface of a Kubernetes version; an unknown version is an InputError."""
    return load_surface(version)


async def live_capabilities(client: KubeClient, *, openapi: bool = True) -> ApiSurface:
    """The surface of the server ``client`` talks to, its own answers first."""
    return await read_capabilities(client, openapi=openapi)
