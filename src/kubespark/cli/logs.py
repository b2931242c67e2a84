"""``kubespark logs``: the driver's log of a submitted application, optionally followed.

Finds the driver pod as ``status`` does and reads the log of its Spark container
(``spark-kubernetes-driver``); ``-f`` streams it until the container ends, waiting first (up to
``--timeout``) for a driver that has not started yet. Lines go to stdout as they are, but for
the credentials this process read (the CLI's streams redact those, ``kubespark.redaction``).
Exit codes: 0 the log was shown; 1 the driver never started (its waiting reason is printed);
2 no such application.
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated
from urllib.parse import quote

import typer

from kubespark.cli.flags import ContextFlag, KubeconfigFlag, NamespaceFlag
from kubespark.cli.output import EXIT_FINDING, EXIT_OK, stderr
from kubespark.errors import InputError
from kubespark.kube.client import KubeClient
from kubespark.kube.errors import BadRequest
from kubespark.kube.requests import KubeRequest
from kubespark.submit.driverstate import DRIVER_CONTAINER
from kubespark.submit.operator_apps import ResourceKind, find_operator_app
from kubespark.submit.submitted_apps import SubmittedApp, connect, find_app

__all__ = ["logs"]

POLL_SECONDS = 0.5


def logs(
    name: Annotated[str, typer.Argument(help="the application's name (metadata.name)")],
    namespace: NamespaceFlag = None,
    follow: Annotated[
        bool, typer.Option("-f", "--follow", help="stream until the driver ends")
    ] = False,
    tail: Annotated[int | None, typer.Option("--tail", help="only the last N lines")] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", help="with -f: how long to wait for the driver to start")
    ] = 300.0,
    kubeconfig: KubeconfigFlag = None,
    context: ContextFlag = None,
) -> None:
    """Print (or follow) the driver's log of an application."""
    if tail is not None and tail < 0:
        raise InputError(f"--tail {tail} is negative", where="--tail", fix="give 0 or more lines")
    waiting = asyncio.run(_logs(name, namespace, follow, tail, timeout, kubeconfig, context))
    if waiting:
        stderr().print(f"[yellow]{waiting}[/]", highlight=False)
        raise typer.Exit(EXIT_FINDING)
    raise typer.Exit(EXIT_OK)


async def _logs(
    name: str,
    namespace: str | None,
    follow: bool,
    tail: int | None,
    patience: float,
    kubeconfig: str | None,
    context: str | None,
) -> str:
    """Print the log; the reason it could not be read (the driver has not started), or ''."""
    async with connect(kubeconfig, context) as client:
        where = namespace or client.namespace
        app: SubmittedApp | None = None
        try:
            app = await find_app(client, where, name)
            pod = app.driver.pod_name
        except InputError:
            # Not a submission: the driver of the operator's SparkApplication of that name.
            resource = await find_operator_app(client, where, name, ResourceKind.APPLICATION)
            if resource is None:
                raise
            if not resource.driver_pod:
                return f"SparkApplication {name} has no driver pod yet (state {resource.state})"
            pod = resource.driver_pod
        query = [("container", DRIVER_CONTAINER)]
        if tail is not None:
            query.append(("tailLines", str(tail)))
        path = f"/api/v1/namespaces/{quote(where, safe='')}/pods/{quote(pod, safe='')}/log"
        if not follow:
            return await _print_once(client, KubeRequest("GET", path, tuple(query)))
        request = KubeRequest("GET", path, (*query, ("follow", "true")))
        return await _follow(client, app, request, patience)


async def _print_once(client: KubeClient, request: KubeRequest) -> str:
    try:
        text = await client.send(request)
    except BadRequest as err:  # the container is waiting to start
        return err.message
    typer.echo(text if isinstance(text, str) else "", nl=False)
    return ""


async def _follow(
    client: KubeClient, app: SubmittedApp | None, request: KubeRequest, patience: float
) -> str:
    """Stream the log; while the driver has not started, wait for it (``patience`` seconds)."""
    deadline = time.monotonic() + patience
    while True:
        try:
            async for line in client.stream_lines(request):
                typer.echo(line)
            return ""
        except BadRequest as err:  # the container is waiting to start
            if time.monotonic() > deadline:
                return f"{err.message} (waited {patience:.0f}s)"
        await asyncio.sleep(POLL_SECONDS)
        if app is None:  # the operator's application: it retries a stuck driver itself
            continue
        app = await find_app(client, app.namespace, app.name)
        if app.driver.waiting is not None and app.driver.waiting.reason in STUCK:
            return f"the driver cannot start: {app.driver.waiting.render()}"


# Waiting reasons that do not resolve by themselves: following would wait in vain.
STUCK = frozenset(
    {
        "ImagePullBackOff",
        "ErrImagePull",
        "InvalidImageName",
        "Unschedulable",
        "CreateContainerConfigError",
    }
)
