"""``kubespark delete``: remove a submitted application's driver pod and everything it wrote.

Finds the application's driver pods (``submitted``), deletes each pod and the objects it owns
(driver Service, ConfigMaps, NetworkPolicy, web UI Service and Ingress: what the submission
wrote; the garbage collector would remove them too, but ``delete`` does not leave that to
chance), then waits until they and the executors are gone (``--no-wait`` skips that). Deleting a
running application stops it. Exit codes: 0 deleted; 1 something was still there at the
deadline; 2 no such application.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

import typer
from rich.markup import escape

from kubespark.apisurface import ApiSurface
from kubespark.cli.discovery_cache import cli_capabilities
from kubespark.cli.output import EXIT_FINDING, EXIT_OK, OutputFormat, print_json, stdout
from kubespark.cli.submitted import SubmittedApp, connect, find_apps, owned_by
from kubespark.compat import ObjectRef
from kubespark.errors import InputError
from kubespark.kube.client import KubeClient
from kubespark.kube.errors import NotFound
from kubespark.kube.requests import JSON, KubeRequest, ResourcePath

__all__ = ["Deleted", "delete", "delete_submitted"]

POLL_SECONDS = 0.1
_BACKGROUND = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}


def delete(
    name: Annotated[str, typer.Argument(help="the application's name (metadata.name)")],
    namespace: Annotated[
        str | None, typer.Option("-n", "--namespace", help="default: the context's namespace")
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="wait until everything is gone")
    ] = True,
    timeout: Annotated[float, typer.Option("--timeout", help="how long to wait")] = 120.0,
    kubeconfig: Annotated[str | None, typer.Option("--kubeconfig", help="kubeconfig file")] = None,
    context: Annotated[str | None, typer.Option("--context", help="kubeconfig context")] = None,
    output: Annotated[OutputFormat, typer.Option("-o", "--output")] = OutputFormat.TEXT,
) -> None:
    """Delete a submitted application: its driver pod and the objects its submission wrote."""
    if timeout <= 0:
        raise InputError(f"{timeout} is not a positive number of seconds", where="--timeout")
    result = asyncio.run(_delete(name, namespace, wait, timeout, kubeconfig, context))
    if output is OutputFormat.JSON:
        print_json(result.view())
    else:
        console = stdout()
        verb = "removed" if wait else "deleting"
        for ref in result.removed:
            console.print(f"{verb} {escape(str(ref))}", highlight=False)
        for ref in result.remaining:
            console.print(f"[yellow]still there after {timeout:.0f}s:[/] {escape(str(ref))}")
        if wait and not result.remaining:
            console.print(f"[green]✓ {escape(name)} is gone[/]")
    raise typer.Exit(EXIT_FINDING if result.remaining else EXIT_OK)


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


async def _delete(
    name: str,
    namespace: str | None,
    wait: bool,
    patience: float,
    kubeconfig: str | None,
    context: str | None,
) -> Deleted:
    async with connect(kubeconfig, context) as client:
        ns = namespace or client.namespace
        apps = await find_apps(client, ns, name)
        if not apps:
            raise InputError(
                f"no application {name!r} submitted by kubespark in namespace {ns!r} "
                f"on {client.server}",
                where=name,
                fix="check the name and -n NAMESPACE; `kubespark list -A` lists them all",
            )
        surface = await cli_capabilities(client)
        return await delete_submitted(client, apps, surface, wait_seconds=patience if wait else 0)


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
                await client.send(KubeRequest("DELETE", path, (), JSON, _BACKGROUND))
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
