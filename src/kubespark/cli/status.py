"""``kubespark status``: where an application stands, whoever runs it.

Finds the application's driver pod by the labels ``kubespark submit`` sets (``submitted``), and
prints the driver's state (kubeflow's reading of the pod, with why it waits), its executors, the
ids, and the compat notes recorded at submission. With no such submission, it reads the
operator's SparkApplication (else ScheduledSparkApplication) of that name: the operator's state,
why it waits, attempts, the error, compat notes and the Events about it. While the driver runs,
the Spark UI's URL through the API server's service proxy (``kubespark ui-proxy NAME`` opens it
without a token). ``-o`` as ``list`` has it: ``wide`` adds the driver's node, IP and restarts,
``json``/``yaml`` the same data as list's items (with events), ``name`` ``kind/name``. Exit
codes: 0 the application is pending, running or completed; 1 it failed; 2 no such application
(or bad flags).
"""

from __future__ import annotations

import asyncio
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from kubespark.cli.flags import (
    AppName,
    ContextFlag,
    KubeconfigFlag,
    NamespaceFlag,
    ObjectOutputFlag,
)
from kubespark.cli.output import (
    EXIT_FINDING,
    EXIT_OK,
    ObjectFormat,
    kind_name,
    print_json,
    print_yaml,
    stdout,
)
from kubespark.errors import InputError
from kubespark.kube.client import KubeClient
from kubespark.submit import DriverState
from kubespark.submit.operator_apps import (
    OperatorApp,
    ResourceKind,
    event_line,
    events_of,
    find_operator_app,
)
from kubespark.submit.sparkui import UIService
from kubespark.submit.submitted_apps import SubmittedApp, age, connect, find_app

__all__ = ["render_status", "status"]

DIRECT = "Submission"  # the kind list shows for an application `kubespark submit` wrote


def status(
    name: AppName,
    namespace: NamespaceFlag = None,
    kubeconfig: KubeconfigFlag = None,
    context: ContextFlag = None,
    output: ObjectOutputFlag = ObjectFormat.TEXT,
) -> None:
    """Show an application: state, why it waits, attempts, compat notes, events."""
    server, found = asyncio.run(_find(name, namespace, kubeconfig, context))
    if isinstance(found, tuple):
        _operator_status(found[0], found[1], output, server)
    app = found
    view = {"kind": DIRECT, **app.view()}
    if output is ObjectFormat.JSON:
        print_json(view)
    elif output is ObjectFormat.YAML:
        print_yaml(view)
    elif output is ObjectFormat.NAME:
        typer.echo(kind_name(DIRECT, app.name))
    else:
        render_status(stdout(), app, server=server, wide=output is ObjectFormat.WIDE)
    raise typer.Exit(EXIT_FINDING if app.driver.state is DriverState.FAILED else EXIT_OK)


async def _find(
    name: str, namespace: str | None, kubeconfig: str | None, context: str | None
) -> tuple[str, SubmittedApp | tuple[OperatorApp, list[dict[str, Any]]]]:
    async with connect(kubeconfig, context) as client:
        return client.server, await _find_in(client, namespace, name)


async def _find_in(
    client: KubeClient, namespace: str | None, name: str
) -> SubmittedApp | tuple[OperatorApp, list[dict[str, Any]]]:
    where = namespace or client.namespace
    try:
        return await find_app(client, where, name)
    except InputError:
        resource = await find_operator_app(client, where, name)
        if resource is None:
            raise InputError(
                f"no application {name!r} in namespace {where!r} on {client.server}: no "
                "kubespark submission, SparkApplication, ScheduledSparkApplication or "
                "SparkConnect",
                where=name,
                fix="check the name and -n NAMESPACE; `kubespark list -A` lists them all",
            ) from None
        return resource, await events_of(client, resource)


FAILED_STATES = frozenset({"FAILED", "SUBMISSION_FAILED", "FailedValidation"})


def _operator_status(
    app: OperatorApp, events: list[dict[str, Any]], output: ObjectFormat, server: str
) -> NoReturn:
    view = {**app.view(), "events": [event_line(e) for e in events]}
    if output is ObjectFormat.JSON:
        print_json(view)
    elif output is ObjectFormat.YAML:
        print_yaml(view)
    elif output is ObjectFormat.NAME:
        typer.echo(kind_name(app.kind.value, app.name))
    else:
        render_operator_status(
            stdout(), app, events, server=server, wide=output is ObjectFormat.WIDE
        )
    raise typer.Exit(EXIT_FINDING if app.state in FAILED_STATES else EXIT_OK)


def _ui_line(ui: UIService | None, running: bool, server: str, name: str) -> str:
    """The Spark UI row while the driver runs (the UI lives as long as the driver)."""
    if not running or ui is None or not server:
        return ""
    return f"{ui.url(server)} (without a token: kubespark ui-proxy {name})"


def render_operator_status(
    console: Console,
    app: OperatorApp,
    events: list[dict[str, Any]],
    *,
    server: str = "",
    wide: bool = False,
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
            ("spark ui", _ui_line(app.ui, app.state == "RUNNING", server, app.name)),
        ]
        if wide:
            info = status.get("driverInfo") or {}
            rows += [
                ("app id", str(status.get("sparkApplicationId") or "")),
                ("submission", str(status.get("submissionID") or "")),
                ("ui service", str(info.get("webUIServiceName") or "")),
                ("ui ingress", str(info.get("webUIIngressAddress") or "")),
                ("labels", _labels(app.obj)),
            ]
    elif app.kind is ResourceKind.CONNECT:
        view = app.view()
        service = str(view["service"])
        rows += [
            ("server", app.driver_pod),
            # What a Spark Connect client inside the cluster dials (kubeflow's Service, port 15002).
            ("connect", f"sc://{service}.{app.namespace}.svc:15002" if service else ""),
            ("executors", ", ".join(f"{k}: {v}" for k, v in sorted(app.executors.items()))),
            ("spark ui", _ui_line(app.ui, app.state == "Ready", server, app.name)),
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


def _labels(obj: Any) -> str:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def render_status(
    console: Console, app: SubmittedApp, *, server: str = "", wide: bool = False
) -> None:
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
    if wide:
        _render_driver_pod(console, app)
    ui = _ui_line(app.ui, app.driver.state is DriverState.RUNNING, server, app.name)
    if ui:
        console.print(f"  spark ui   {escape(ui)}", highlight=False)
    _render_executors(console, app, wide=wide)
    console.print(f"  app id     {escape(app.driver.spark_application_id)}", highlight=False)
    console.print(f"  submission {escape(app.submission_id)}", highlight=False)
    console.print("  objects    " + escape(", ".join(str(r) for r in app.objects)), highlight=False)
    if app.notes:
        console.print("  compat notes:")
        for note in app.notes:
            console.print(f"    - {escape(note)}", highlight=False)
    else:
        console.print("  compat notes: none (the server took every write as spark-submit sends it)")


def _render_driver_pod(console: Console, app: SubmittedApp) -> None:
    """``-o wide``: where the driver runs and how often it restarted, as ``kubectl get -o wide``."""
    status = app.pod.get("status") or {}
    node = str((app.pod.get("spec") or {}).get("nodeName") or "<none>")
    restarts = sum(int(c.get("restartCount") or 0) for c in status.get("containerStatuses") or [])
    ip = str(status.get("podIP") or "<none>")
    console.print(f"  node       {escape(node)}  ip {escape(ip)}  restarts {restarts}")
    console.print(f"  labels     {escape(_labels(app.pod))}", highlight=False)


def _render_executors(console: Console, app: SubmittedApp, *, wide: bool = False) -> None:
    if not app.executors:
        console.print("  executors  none running")
        return
    counts = ", ".join(f"{n} {s.value.lower()}" for s, n in sorted(app.executor_counts().items()))
    console.print(f"  executors  {len(app.executors)} ({counts})", highlight=False)
    for executor in app.executors:
        phase = f" (phase {executor.phase})" if wide and executor.phase else ""
        console.print(
            f"    {escape(executor.name)}: {executor.state.value}{phase}", highlight=False
        )
