"""Removing what ``kubespark submit`` wrote: the driver pod first, then what it owns, then waiting.

Owns ``delete_submitted``: for applications found by ``submitted_apps``, delete the driver pod
(its driver stops, nothing it owns is written again), the Services, ConfigMaps, NetworkPolicies
and Ingresses it owns (under the apiVersions this server serves), and poll until they and the
executors are gone or a deadline passes. A 404 is success: the garbage collector was quicker.
It finds nothing by name and renders nothing (the CLI's ``delete`` does both).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from urllib.parse import quote

from kubespark.apisurface import ApiSurface
from kubespark.compat import ObjectRef
from kubespark.kube.client import KubeClient
from kubespark.kube.errors import NotFound
from kubespark.kube.requests import JSON, KubeRequest, ResourcePath
from kubespark.submit.follow import BACKGROUND_DELETE
from kubespark.submit.submitted_apps import SubmittedApp, owned_by

__all__ = ["POLL_SECONDS", "Deleted", "delete_submitted"]

POLL_SECONDS = 0.1


@dataclass(frozen=True)
class Deleted:
    """What ``delete`` removed (or, not waiting, is removing), and what was still there."""

    removed: tuple[ObjectRef, ...]
    remaining: tuple[ObjectRef, ...] = ()

    def view(self) -> dict[str, list[str]]:
        return {
            "removed": [str(r) for r in self.removed],
            "remaining": [str(r) for r in self.remaining],
        }


async def delete_submitted(
    client: KubeClient, apps: list[SubmittedApp], surface: ApiSurface, *, wait_seconds: float
) -> Deleted:
    """Delete each application's recorded objects, driver pod first; wait for them to go.

    A DELETE answered 404 is fine: the garbage collector was quicker (the pod owns the rest).
    """
    watched: dict[ObjectRef, str] = {}
    for app in apps:
        others = await _owned_beyond_core(client, surface, app)
        for ref in _pod_first((*app.objects, *others)):
            path = _item_path(surface, ref)
            if path is None:
                continue
            watched[ref] = path
            with contextlib.suppress(NotFound):
                await client.send(KubeRequest("DELETE", path, (), JSON, BACKGROUND_DELETE))
        for executor in app.executors:
            ref = ObjectRef("v1", "Pod", executor.name, app.namespace)
            watched[ref] = _pod_path(app.namespace, executor.name)
    if wait_seconds <= 0:
        return Deleted(tuple(watched))
    remaining = await _wait_gone(client, watched, wait_seconds)
    return Deleted(tuple(r for r in watched if r not in remaining), remaining)


def _pod_first(refs: tuple[ObjectRef, ...] | list[ObjectRef]) -> list[ObjectRef]:
    # The pod first: once it is gone its driver stops, and nothing it owns is written again.
    return sorted(refs, key=lambda r: r.kind != "Pod")


# Kinds a submission may write outside the core API, newest apiVersion first.
_NON_CORE = (
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("networking.k8s.io/v1", "Ingress"),
    ("networking.k8s.io/v1beta1", "Ingress"),
    ("extensions/v1beta1", "Ingress"),
)


async def _owned_beyond_core(
    client: KubeClient, surface: ApiSurface, app: SubmittedApp
) -> list[ObjectRef]:
    """NetworkPolicies and Ingresses the driver pod owns, under the versions this server serves."""
    found: list[ObjectRef] = []
    seen: set[str] = set()
    for api_version, kind in _NON_CORE:
        resource = surface.resource(api_version, kind)
        if resource is None or kind in seen:
            continue
        seen.add(kind)
        listing = await client.send(
            KubeRequest("GET", ResourcePath(resource).collection(app.namespace))
        )
        items = [
            {"apiVersion": api_version, "kind": kind, **item}
            for item in (listing or {}).get("items") or []
        ]
        found.extend(owned_by(items).get(app.uid, ()))
    return found


def _pod_path(namespace: str, name: str) -> str:
    return f"/api/v1/namespaces/{quote(namespace, safe='')}/pods/{quote(name, safe='')}"


def _item_path(surface: ApiSurface, ref: ObjectRef) -> str | None:
    resource = surface.resource(ref.api_version, ref.kind)
    if resource is None:  # written under an apiVersion this server no longer serves
        return None
    return ResourcePath(resource).item(ref.name, ref.namespace)


async def _wait_gone(
    client: KubeClient, paths: dict[ObjectRef, str], patience: float
) -> tuple[ObjectRef, ...]:
    """Poll until every path answers 404; what is still there at the deadline."""
    deadline = time.monotonic() + patience
    left = dict(paths)
    while left:
        for ref, path in list(left.items()):
            try:
                await client.send(KubeRequest("GET", path))
            except NotFound:
                del left[ref]
        if not left or time.monotonic() > deadline:
            break
        await asyncio.sleep(POLL_SECONDS)
    return tuple(left)
