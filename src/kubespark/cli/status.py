"""``kubespark status``: where a submitted application stands.

Finds the application's driver pod by the labels ``kubespark submit`` sets (``submitted``), and
prints the driver's state (kubeflow's reading of the pod, with why it waits), its executors, the
ids, and the compat notes recorded at submission. Exit codes: 0 the application is pending,
running or completed; 1 it failed; 2 no such application (or bad flags).
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from kubespark.cli.flags import ContextFlag, KubeconfigFlag, NamespaceFlag, OutputFlag
from kubespark.cli.output import EXIT_FINDING, EXIT_OK, OutputFormat, print_json, stdout
from kubespark.submit import DriverState
from kubespark.submit.submitted_apps import SubmittedApp, age, connect, find_app

__all__ = ["render_status", "status"]


def status(
    name: Annotated[str, typer.Argument(help="the application's name (metadata.name)")],
    namespace: NamespaceFlag = None,
    kubeconfig: KubeconfigFlag = None,
    context: ContextFlag = None,
    output: OutputFlag = OutputFormat.TEXT,
) -> None:
    """Show a submitted application: driver state, executors, compat notes."""
    app = asyncio.run(_find(name, namespace, kubeconfig, context))
    if output is OutputFormat.JSON:
        print_json(app.view())
    else:
        render_status(stdout(), app)
    raise typer.Exit(EXIT_FINDING if app.driver.state is DriverState.FAILED else EXIT_OK)


async def _find(
    name: str, namespace: str | None, kubeconfig: str | None, context: str | None
) -> SubmittedApp:
    async with connect(kubeconfig, context) as client:
        return await find_app(client, namespace or client.namespace, name)


def render_status(console: Console, app: SubmittedApp) -> None:
    head = f"[bold]{escape(app.name)}[/] in {escape(app.namespace)}"
    if app.spark_version:
        head += f" · Spark {escape(app.spark_version)}"
    head += f" · submitted {age(app.created)} ago"
    console.print(head, highlight=False)
    colour = {DriverState.COMPLETED: "green", DriverState.FAILED: "red"}.get(
        app.driver.state, "yellow"
    )
    phase = f" (phase {app.driver.phase})" if app.driver.phase else ""
    console.print(
        f"  driver     {escape(app.driver.pod_name)}: [{colour}]{app.driver.state.value}[/]{phase}",
        highlight=False,
    )
    if app.driver.waiting is not None:
        console.print(f"  waiting    {escape(app.driver.waiting.render())}", highlight=False)
    if app.driver.failure:
        console.print(f"  failure    {escape(app.driver.failure)}", highlight=False)
    _render_executors(console, app)
    console.print(f"  app id     {escape(app.driver.spark_application_id)}", highlight=False)
    console.print(f"  submission {escape(app.submission_id)}", highlight=False)
    console.print("  objects    " + escape(", ".join(str(r) for r in app.objects)), highlight=False)
    if app.notes:
        console.print("  compat notes:")
        for note in app.notes:
            console.print(f"    - {escape(note)}", highlight=False)
    else:
        console.print("  compat notes: none (the server took every write as spark-submit sends it)")


def _render_executors(console: Console, app: SubmittedApp) -> None:
    if not app.executors:
        console.print("  executors  none running")
        return
    counts = ", ".join(f"{n} {s.value.lower()}" for s, n in sorted(app.executor_counts().items()))
    console.print(f"  executors  {len(app.executors)} ({counts})", highlight=False)
    for executor in app.executors:
        console.print(f"    {escape(executor.name)}: {executor.state.value}", highlight=False)
