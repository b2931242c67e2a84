"""``kubespark logs``: the driver's (or executors') log of an application, optionally followed.

Finds the driver pod as ``status`` does and reads the log of its Spark container
(``spark-kubernetes-driver``); ``-f`` streams it until the container ends, waiting first (up to
``--timeout``) for a driver that has not started yet. ``-p/--previous`` reads the previous
instance of a restarted container (the API's ``previous=true``). ``--executor N`` reads the
executor with ``spark-exec-id`` N, ``--all-executors`` every executor, each line prefixed with
``[pod/NAME/CONTAINER]`` as ``kubectl logs --prefix`` writes (``--prefix`` asks for it on one
log). Lines go to stdout as they are otherwise, but for the credentials this process read (the
CLI's streams redact those, ``kubespark.redaction``). Exit codes: 0 the log was shown; 1 a log
could not be read (the driver never started, no previous instance: the server's reason is
printed); 2 no such application or executor.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Annotated

import typer
from rich.markup import escape

from kubespark.cli.flags import AppName, ContextFlag, KubeconfigFlag, NamespaceFlag
from kubespark.cli.output import EXIT_FINDING, EXIT_OK, stderr
from kubespark.errors import InputError
from kubespark.kube.client import KubeClient
from kubespark.kube.errors import BadRequest
from kubespark.kube.requests import KubeRequest
from kubespark.submit.operator_apps import ResourceKind, find_operator_app
from kubespark.submit.pod_logs import LogTarget, driver_target, executor_targets, log_request
from kubespark.submit.submitted_apps import SubmittedApp, connect, find_app

__all__ = ["logs"]

POLL_SECONDS = 0.5


def logs(
    name: AppName,
    namespace: NamespaceFlag = None,
    follow: Annotated[bool, typer.Option("-f", "--follow", help="stream until it ends")] = False,
    tail: Annotated[int | None, typer.Option("--tail", help="only the last N lines")] = None,
    previous: Annotated[
        bool,
        typer.Option("-p", "--previous", help="the previous instance of a restarted container"),
    ] = False,
    executor: Annotated[
        str | None, typer.Option("--executor", help="the executor with this id (spark-exec-id)")
    ] = None,
    all_executors: Annotated[
        bool, typer.Option("--all-executors", help="every executor's log, lines prefixed")
    ] = False,
    prefix: Annotated[
        bool, typer.Option("--prefix", help="prefix lines with [pod/NAME/CONTAINER]")
    ] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", help="with -f: how long to wait for the driver to start")
    ] = 300.0,
    kubeconfig: KubeconfigFlag = None,
    context: ContextFlag = None,
) -> None:
    """Print (or follow) the driver's log of an application, or its executors'."""
    if tail is not None and tail < 0:
        raise InputError(f"--tail {tail} is negative", where="--tail", fix="give 0 or more lines")
    if executor is not None and all_executors:
        raise InputError(
            "--executor names one executor; --all-executors asks for every one",
            where="--executor",
            fix="give one of --executor N and --all-executors",
        )
    if previous and follow:
        raise InputError(
            "a previous container instance has ended: there is nothing to follow",
            where="--previous",
            fix="drop -f (or --previous)",
        )
    request = Wanted(follow, tail, previous, executor, all_executors, prefix or all_executors)
    waiting = asyncio.run(_logs(name, namespace, request, timeout, kubeconfig, context))
    if waiting:
        stderr().print(f"[yellow]{escape(waiting)}[/]", highlight=False, markup=True)
        raise typer.Exit(EXIT_FINDING)
    raise typer.Exit(EXIT_OK)


@dataclass(frozen=True)
class Wanted:
    """Which log, how much of it, and how it is printed."""

    follow: bool
    tail: int | None
    previous: bool
    executor: str | None
    all_executors: bool
    prefix: bool

    @property
    def executors(self) -> bool:
        return self.all_executors or self.executor is not None

    def request(self, target: LogTarget) -> KubeRequest:
        return log_request(target, tail=self.tail, previous=self.previous, follow=self.follow)

    def echo(self, target: LogTarget, line: str) -> None:
        typer.echo(f"{target.prefix} {line}" if self.prefix else line)


async def _logs(
    name: str,
    namespace: str | None,
    wanted: Wanted,
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
            pod, app_id = app.driver.pod_name, app.driver.spark_application_id
        except InputError:
            # Not a submission: the driver of the operator's SparkApplication of that name, else
            # the server pod of its SparkConnect.
            resource = await find_operator_app(client, where, name, ResourceKind.APPLICATION)
            resource = resource or await find_operator_app(
                client, where, name, ResourceKind.CONNECT
            )
            if resource is None:
                raise
            if not resource.driver_pod:
                kind = resource.kind.value
                return f"{kind} {name} has no driver pod yet (state {resource.state})"
            pod = resource.driver_pod
            app_id = str(resource.status.get("sparkApplicationId") or "")
        if wanted.executors:
            found = await executor_targets(client, where, app_id, name, wanted.executor)
            return await _print_all(client, found, wanted)
        target = driver_target(where, pod)
        if not wanted.follow:
            return await _print_once(client, target, wanted)
        return await _follow(client, app, target, wanted, patience)


async def _print_once(client: KubeClient, target: LogTarget, wanted: Wanted) -> str:
    try:
        text = await client.send(wanted.request(target))
    except BadRequest as err:  # waiting to start, or no previous instance
        return err.message
    text = text if isinstance(text, str) else ""
    if not wanted.prefix:
        typer.echo(text, nl=False)
        return ""
    for line in text.splitlines():
        wanted.echo(target, line)
    return ""


async def _stream(client: KubeClient, target: LogTarget, wanted: Wanted) -> str:
    try:
        async for line in client.stream_lines(wanted.request(target)):
            wanted.echo(target, line)
    except BadRequest as err:
        return err.message
    return ""


async def _print_all(client: KubeClient, targets: list[LogTarget], wanted: Wanted) -> str:
    """Each executor's log in turn; followed, all at once, interleaved by line as they come."""
    if wanted.follow:
        reasons = await asyncio.gather(*(_stream(client, t, wanted) for t in targets))
    else:
        reasons = [await _print_once(client, t, wanted) for t in targets]
    return "; ".join(f"{t.pod}: {r}" for t, r in zip(targets, reasons, strict=True) if r)


async def _follow(
    client: KubeClient,
    app: SubmittedApp | None,
    target: LogTarget,
    wanted: Wanted,
    patience: float,
) -> str:
    """Stream the log; while the driver has not started, wait for it (``patience`` seconds)."""
    deadline = time.monotonic() + patience
    while True:
        try:
            async for line in client.stream_lines(wanted.request(target)):
                wanted.echo(target, line)
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
