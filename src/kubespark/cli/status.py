"""``kubespark status``: where an application stands, whoever runs it.

Finds the application's driver pod by the labels ``kubespark submit`` sets (``submitted``), and
prints the driver's state (kubeflow's reading of the pod, with why it waits), its executors, the
ids, the compat notes recorded at submission and the Events about the driver. With no such
submission, it reads the operator's SparkApplication (else ScheduledSparkApplication, else
SparkConnect) of that name: the operator's state, why it waits, attempts, the error, compat notes
and the Events about it. An application that failed is also read by the doctor (the driver pod,
its Events and its log's tail; for a SparkApplication, the resource too), and its diagnosis with
the ranked remedies printed, as ``kubespark doctor`` would. While the driver runs,
the Spark UI's URL through the API server's service proxy (``kubespark ui-proxy NAME`` opens it
without a token). ``-o`` as ``list`` has it: ``wide`` adds the driver's node, IP and restarts,
``json``/``yaml`` the same data as list's items (with events), ``name`` ``kind/name``. Exit
codes: 0 the application is pending, running or completed; 1 it failed; 2 no such application
(or bad flags). ``describe`` is the same command, under kubectl's name for it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

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
    events_about,
    events_of,
    find_operator_app,
)
from kubespark.submit.sparkui import UIService
from kubespark.submit.submitted_apps import SubmittedApp, age, connect, find_app

if TYPE_CHECKING:
    from kubespark.doctor.report import Report

__all__ = ["describe", "render_status", "status"]

DIRECT = "Submission"  # the kind list shows for an application `kubespark submit` wrote


def status(
    name: AppName,
    namespace: NamespaceFlag = None,
    kubeconfig: KubeconfigFlag = None,
    context: ContextFlag = None,
    output: ObjectOutputFlag = ObjectFormat.TEXT,
) -> None:
    """Show an application: state, why it waits, attempts, compat notes, events."""
    server, shown = asyncio.run(_find(name, namespace, kubeconfig, context))
    if isinstance(shown.app, OperatorApp):
        _operator_status(shown.app, shown, output, server)
    app = shown.app
    view = {"kind": DIRECT, **app.view(), **_extra_view(shown)}
    if output is ObjectFormat.JSON:
        print_json(view)
    elif output is ObjectFormat.YAML:
        print_yaml(view)
    elif output is ObjectFormat.NAME:
        typer.echo(kind_name(DIRECT, app.name))
    else:
        console = stdout()
        render_status(console, app, server=server, wide=output is ObjectFormat.WIDE)
        _render_events(console, shown.events)
        _render_diagnosis(console, shown.report)
    raise typer.Exit(EXIT_FINDING if app.driver.state is DriverState.FAILED else EXIT_OK)


describe = status  # kubectl's name for the same view (``kubespark describe NAME``)


@dataclass(frozen=True)
class Shown:
    """One application, the Events about it, and the doctor's report when it failed."""

    app: SubmittedApp | OperatorApp
    events: list[dict[str, Any]] = field(default_factory=list)
    report: Report | None = None


async def _find(
    name: str, namespace: str | None, kubeconfig: str | None, context: str | None
) -> tuple[str, Shown]:
    async with connect(kubeconfig, context) as client:
        return client.server, await _find_in(client, namespace, name)


async def _find_in(client: KubeClient, namespace: str | None, name: str) -> Shown:
    where = namespace or client.namespace
    try:
        app = await find_app(client, where, name)
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
        events = await events_of(client, resource)
        return Shown(resource, events, await _resource_report(client, resource))
    events = await events_about(client, app.namespace, {("Pod", app.driver.pod_name)})
    return Shown(app, events, await _submission_report(client, app))


async def _submission_report(client: KubeClient, app: SubmittedApp) -> Report | None:
    """The doctor's reading of a failed driver: its pod, its Events and its log's tail."""
    if app.driver.state is not DriverState.FAILED:
        return None
    from kubespark.doctor.engine import examine  # a failure only: status stays quick
    from kubespark.submit.progress import failure_evidence

    return examine(await failure_evidence(client, app.namespace, app.driver.pod_name))


async def _resource_report(client: KubeClient, app: OperatorApp) -> Report | None:
    """The doctor's reading of a failed SparkApplication, as ``kubespark doctor --app``."""
    if app.kind is not ResourceKind.APPLICATION or app.state not in FAILED_STATES:
        return None
    from kubespark.doctor.engine import examine
    from kubespark.doctor.live import fetch_app_inputs

    return examine(await fetch_app_inputs(client, app.name, app.namespace))


def _extra_view(shown: Shown) -> dict[str, Any]:
    """``-o json|yaml``: the Events as status prints them, and the doctor's report if failed."""
    extra: dict[str, Any] = {"events": [event_line(e) for e in shown.events]}
    if shown.report is not None:
        from kubespark.doctor.report import report_view

        extra["diagnosis"] = report_view(shown.report)
    return extra


def _render_events(console: Console, events: list[dict[str, Any]]) -> None:
    console.print("  events:" if events else "  events: none")
    for event in events:
        console.print(f"    {escape(event_line(event))}", highlight=False)


def _render_diagnosis(console: Console, report: Report | None) -> None:
    if report is None:
        return
    from kubespark.cli.doctor import render

    console.print("\n[bold]diagnosis[/] (kubespark doctor, from the driver, its events and log):")
    render(report, console)


FAILED_STATES = frozenset({"FAILED", "SUBMISSION_FAILED", "FailedValidation"})


def _operator_status(app: OperatorApp, shown: Shown, output: ObjectFormat, server: str) -> NoReturn:
    view = {**app.view(), **_extra_view(shown)}
    if output is ObjectFormat.JSON:
        print_json(view)
    elif output is ObjectFormat.YAML:
        print_yaml(view)
    elif output is ObjectFormat.NAME:
        typer.echo(kind_name(app.kind.value, app.name))
    else:
        console = stdout()
        render_operator_status(
            console, app, shown.events, server=server, wide=output is ObjectFormat.WIDE
        )
        _render_diagnosis(console, shown.report)
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
    _render_events(console, events)


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
