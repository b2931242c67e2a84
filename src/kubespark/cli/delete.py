"""``kubespark delete``: remove an application: a submission's driver pod and what it wrote.

With no submission of that name, it deletes the operator's SparkApplication (else
ScheduledSparkApplication), whose operator removes the driver it owns, and waits until it is gone.

Finds the application's driver pods (``kubespark.submit.submitted_apps``), deletes each pod and the
objects it owns (driver Service, ConfigMaps, NetworkPolicy, web UI Service and Ingress: what the
submission wrote; the garbage collector would remove them too, but ``delete`` does not leave that to
chance), then waits until they and the executors are gone (``--no-wait`` skips that). Deleting a
running application stops it. Exit codes: 0 deleted; 1 something was still there at the deadline; 2
no such application. The deleting and waiting are ``kubespark.submit.removal``'s.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.markup import escape

from kubespark.cli.flags import AppName, ContextFlag, KubeconfigFlag, NamespaceFlag, OutputFlag
from kubespark.cli.output import EXIT_FINDING, EXIT_OK, OutputFormat, print_json, stdout
from kubespark.errors import InputError
from kubespark.kube.discovery_cache import cached_surface
from kubespark.submit.operator_apps import delete_resource, find_operator_app
from kubespark.submit.removal import Deleted, delete_submitted
from kubespark.submit.submitted_apps import connect, find_drivers

__all__ = ["delete"]


def delete(
    name: AppName,
    namespace: NamespaceFlag = None,
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="wait until everything is gone")
    ] = True,
    timeout: Annotated[float, typer.Option("--timeout", help="how long to wait")] = 120.0,
    kubeconfig: KubeconfigFlag = None,
    context: ContextFlag = None,
    output: OutputFlag = OutputFormat.TEXT,
) -> None:
    """Delete an application: a submission's driver pod and objects, or the operator's resource."""
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
        try:
            apps = await find_drivers(client, ns, name)
        except InputError:
            # Not a submission: the operator's resource of that name, if there is one.
            resource = await find_operator_app(client, ns, name)
            if resource is None:
                raise
            return await delete_resource(client, resource, wait_seconds=patience if wait else 0)
        surface = await cached_surface(client)
        return await delete_submitted(client, apps, surface, wait_seconds=patience if wait else 0)
