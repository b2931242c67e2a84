"""``kubespark status``: where an application stands, whoever runs it.

Finds the application's driver pod by the labels ``kubespark submit`` sets (``submitted``), and
prints the driver's state (kubeflow's reading of the pod, with why it waits), its executors, the
ids, and the compat notes recorded at submission. With no such submission, it reads the
operator's SparkApplication (else ScheduledSparkApplication) of that name: the operator's state,
why it waits, attempts, the error, compat notes and the Events about it. Exit codes: 0 the
application is pending, running or completed; 1 it failed; 2 no such application (or bad flags).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from kubespark.cli.flags import ContextFlag, KubeconfigFlag, NamespaceFlag, OutputFlag
from kubespark.cli.output import EXIT_FINDING, EXIT_OK, OutputFormat, print_json, stdout
from kubespark.errors import InputError
from kubespark.submit import DriverState
from kubespark.submit.operator_apps import (
    OperatorApp,
    ResourceKind,
    event_line,
    events_of,
    find_operator_app,
)
from kubespark.submit.submitted_apps import SubmittedApp, age, connect, find_app

__all__ = ["render_status", "status"]


def status(
    name: Annotated[str, typer.Argument(help="the application's name (metadata.name)")],
    namespace: NamespaceFlag = None,
    kubeconfig: KubeconfigFlag = None,
    context: ContextFlag = None,
    output: OutputFlag = OutputFormat.TEXT,
) -> None:
    """Show an application: state, why it waits, attempts, compat notes, events."""
    found = asyncio.run(_find(name, namespace, kubeconfig, context))
    if isinstance(found, tuple):
        _operator_status(found[0], found[1], output)
    app = found
    if output is OutputFormat.JSON:
        print_json(app.view())
    else:
        render_status(stdout(), app)
    raise typer.Exit(EXIT_FINDING if app.driver.state is DriverState.FAILED else EXIT_OK)


async def _find(
    name: str, namespace: str | None, kubeconfig: str | None, context: str | None
) -> SubmittedApp | tuple[OperatorApp, list[dict[str, Any]]]:
    async with connect(kubeconfig, context) as client:
        where = namespace or client.namespace
        try:
            return await find_app(client, where, name)
        except InputError:
            resource = await find_operator_app(client, where, name)
            if resource is None:
                raise InputError(
                    f"no application {name!r} in namespace {where!r} on {client.server}: no "
                    "kubespark submission, SparkApplication or ScheduledSparkApplication",
                    where=name,
                    fix="check the name and -n NAMESPACE; `kubespark list -A` lists them all",
                ) from None
            return resource, await events_of(client, resource)


FAILED_STATES = frozenset({"FAILED", "SUBMISSION_FAILED", "FailedValidation"})


def _operator_status(
    app: OperatorApp, events: list[dict[str, Any]], output: OutputFormat
) -> NoReturn:
    if output is OutputFormat.JSON:
        print_json({**app.view(), "events": [event_line(e) for e in events]})
    else:
        render_operator_status(stdout(), app, events)
    raise typer.Exit(EXIT_FINDING if app.state in FAILED_STATES else EXIT_OK)


def render_operator_status(
    console: Console, app: OperatorApp, events: list[dict[str, Any]]
) -> None:
    head = f"[bold]{escape(app.name)}[/] in {escape(app.namespace)} · {app.kind.value}"
    if app.spark_version:
        head += f" · Spark {escape(app.spark_version)}"
    if app.created:
        head += f" · created {age(app.created)} ago"
    console.print(head, highlight=False)
    suspended = " (spec.suspend: true)" if app.suspended else ""
    rows = [("state", f"{app.state}{suspended}"), ("waiting", app.waiting), ("error", app.error)]
    if app.kind is ResourceKind.APPLICATION:
        status = app.status
        rows += [
            (
                "attempts",
                f"{status.get('submissionAttempts', 0)} submissions, "
                f"{status.get('executionAttempts', 0)} executions",
            ),
            ("driver", app.driver_pod),
            ("executors", ", ".join(f"{k}: {v}" for k, v in sorted(app.executors.items()))),
        ]
    else:
        view = app.view()
        rows += [
            ("schedule", str(view["schedule"])),
            ("last run", f"{view['lastRunName']} {view['lastRun'] or ''}".strip()),
            ("next run", str(view["nextRun"] or "")),
        ]
    for label, value in rows:
        if value:
            console.print(f"  {label:<10} {escape(value)}", highlight=False)
    if app.notes:
        console.print("  compat notes:")
        for note in app.notes:
            console.print(f"    - {escape(note)}", highlight=False)
    console.print("  events:" if events else "  events: none")
    for event in events:
        console.print(f"    {escape(event_line(event))}", highlight=False)


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
