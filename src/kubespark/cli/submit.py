"""``kubespark submit``: write a SparkApplication's driver resources to a cluster, with no JVM.

Parses flags and loads the application (``kubespark.spark``: bad input stops here, before any
connection). Then either prints the planned writes (``--dry-run``: discovery reads only, or none
at all with ``--k8s``), or submits through ``kubespark.submit`` and prints every compat note the
server needed; ``--wait`` follows the driver with a live status line (``following``) and exits
with the application's result, printing the doctor's diagnosis when it failed.

Exit codes: 0 submitted (with ``--wait``: the application completed); 1 the submission or the
application failed (what was written is deleted again, the diagnosis printed); 2 bad input
(nothing is written).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from kubespark.apisurface import ApiSurface
from kubespark.cli.discovery_cache import cli_capabilities
from kubespark.cli.following import Progress, failure_evidence, follow_driver
from kubespark.cli.output import EXIT_FINDING, EXIT_OK, OutputFormat, print_json, stdout
from kubespark.cli.submitted import (
    ANNOTATION_NOTES,
    LABEL_SUBMITTED_BY,
    SUBMITTED_BY_CLI,
    connect,
    marked,
)
from kubespark.compat import ObjectRef, PlannedWrite, notes_for_people, offline_capabilities
from kubespark.driver import BuildOptions
from kubespark.driver.operator import LABEL_APP_NAME, LABEL_SUBMISSION_ID
from kubespark.driver.submission import driver_pod_name
from kubespark.errors import InputError
from kubespark.knowledge.scope import ALLOW_ANNOTATION, ALLOW_FLAG, require_modelled_spark
from kubespark.kube.client import KubeClient
from kubespark.kube.errors import APIError, NotFound
from kubespark.kube.requests import MERGE_PATCH, KubeRequest
from kubespark.spark import load_application, spark_version_of
from kubespark.spark.model import SparkApplication
from kubespark.submit import (
    FIELD_MANAGER,
    DriverState,
    Submission,
    SubmissionConflict,
    SubmissionFailed,
    SubmissionPlan,
    delete_application,
    plan_submission,
    submit_application,
)

if TYPE_CHECKING:
    from kubespark.doctor.report import Report

__all__ = [
    "Outcome",
    "Target",
    "TextProgress",
    "render_outcome",
    "submit",
    "submit_and_follow",
    "target_namespace",
]

DEFAULT_WAIT_SECONDS = 24 * 3600.0
OnSubmitted = Callable[[SparkApplication, str, Submission], None]
OnProgress = Callable[[Progress], None]


def submit(
    app_file: Annotated[Path, typer.Argument(help="the SparkApplication YAML (or JSON) file")],
    kubeconfig: Annotated[str | None, typer.Option("--kubeconfig", help="kubeconfig file")] = None,
    context: Annotated[str | None, typer.Option("--context", help="kubeconfig context")] = None,
    namespace: Annotated[
        str | None,
        typer.Option(
            "-n", "--namespace", help="namespace (default: the app's, else the context's)"
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="print the planned writes; send none")
    ] = False,
    k8s: Annotated[
        str | None,
        typer.Option("--k8s", help="with --dry-run: plan for this Kubernetes version, offline"),
    ] = None,
    wait: Annotated[
        bool,
        typer.Option("--wait", help="follow the driver; exit 0 only if the application succeeds"),
    ] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", help="with --wait: give up after this many seconds")
    ] = DEFAULT_WAIT_SECONDS,
    output: Annotated[OutputFormat, typer.Option("-o", "--output")] = OutputFormat.TEXT,
    allow_unmodelled_spark: Annotated[
        bool,
        typer.Option(
            ALLOW_FLAG,
            help="Submit a Spark release kubespark does not model (below 3.0, or newer than "
            "its data) as the nearest one it does; refused otherwise.",
        ),
    ] = False,
) -> None:
    """Submit a SparkApplication: the driver pod, Service and ConfigMaps, as this server needs."""
    if k8s is not None and not dry_run:
        raise InputError(
            "--k8s plans for a version without a server; it needs --dry-run",
            where="--k8s",
            fix="add --dry-run, or drop --k8s to submit to the kubeconfig's server",
        )
    if timeout <= 0:
        raise InputError(f"{timeout} is not a positive number of seconds", where="--timeout")
    app = load_application(app_file)
    if not (allow_unmodelled_spark or _allowed_by_annotation(app)):
        require_modelled_spark(
            spark_version_of(app.spec),
            where=f"{app_file}: spec.sparkVersion",
            override=f'pass {ALLOW_FLAG} (or annotate the app {ALLOW_ANNOTATION}: "true")',
        )
    console = stdout()
    if dry_run:
        plan, server = asyncio.run(_dry_run(app, namespace, kubeconfig, context, k8s))
        if output is OutputFormat.JSON:
            print_json(plan_view(plan, server))
        else:
            render_plan(console, plan, server)
        raise typer.Exit(EXIT_OK)
    show = TextProgress(console) if output is OutputFormat.TEXT else None
    try:
        outcome = asyncio.run(
            submit_and_follow(
                app,
                Target(kubeconfig, context, namespace),
                follow_seconds=timeout if wait else None,
                on_submitted=show.submitted if show else None,
                on_progress=show.progress if show else None,
            )
        )
    finally:  # Ctrl-C while following: the status line gives the terminal back
        if show is not None:
            show.stop()
    if output is OutputFormat.JSON:
        print_json(outcome.view())
    else:
        render_outcome(console, outcome)
    raise typer.Exit(outcome.exit_code)


# ---- the async core of the command --------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where to submit: the kubeconfig, its context, and the -n flag."""

    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None


def target_namespace(flag: str | None, app: SparkApplication, context_namespace: str) -> str:
    """``-n``, else the application's ``metadata.namespace``, else the context's namespace."""
    given = "namespace" in app.metadata.model_fields_set
    if flag and given and flag != app.metadata.namespace:
        raise InputError(
            f"the application's metadata.namespace is {app.metadata.namespace!r}, -n says {flag!r}",
            where="-n/--namespace",
            fix=f"drop -n, or set metadata.namespace: {flag}",
        )
    return flag or (app.metadata.namespace if given else context_namespace)


def build_options(app: SparkApplication) -> BuildOptions:
    """What spark-submit creates, plus the web UI Service only when the application asks for it.

    The kubeflow operator adds a ``<name>-ui-svc`` to every application; without an operator
    that is one more object (and write) than spark-submit makes, and the driver's own headless
    Service already exposes the UI port (4040). ``sparkUIOptions`` asks for it, as do
    ``driverIngressOptions`` for theirs.
    """
    return BuildOptions(ui_service=app.spec.spark_ui_options is not None)


def new_submission_id() -> str:
    """A fresh id per ``kubespark submit``: its retries adopt only what this run wrote."""
    return str(uuid.uuid4())


async def _dry_run(
    app: SparkApplication,
    namespace: str | None,
    kubeconfig: str | None,
    context: str | None,
    k8s: str | None,
) -> tuple[SubmissionPlan, str]:
    if k8s is not None:
        surface = offline_capabilities(k8s)
        target = marked(app, target_namespace(namespace, app, "default"))
        return _plan(target, surface), f"Kubernetes {surface.server_version or surface.version}"
    async with connect(kubeconfig, context) as client:
        surface = await cli_capabilities(client)
        target = marked(app, target_namespace(namespace, app, client.namespace))
        return _plan(target, surface), _server_name(surface, client)


def _plan(app: SparkApplication, surface: ApiSurface) -> SubmissionPlan:
    """The writes a submission would send (the builder's and planner's errors are bad input)."""
    return plan_submission(
        app, capabilities=surface, submission_id=new_submission_id(), options=build_options(app)
    )


def _server_name(surface: ApiSurface, client: KubeClient) -> str:
    return f"Kubernetes {surface.server_version or surface.version} at {client.server}"


@dataclass(frozen=True)
class Outcome:
    """What one ``kubespark submit`` did: the submission or its failure, and the result."""

    app: SparkApplication
    server: str
    submission: Submission | None = None
    failure: SubmissionFailed | None = None
    cleaned_up: tuple[ObjectRef, ...] = ()
    report: Report | None = None  # the doctor's, for a failed submission or application
    final: Progress | None = None  # with --wait
    warnings: tuple[str, ...] = ()  # what went wrong after a successful submission

    @property
    def exit_code(self) -> int:
        if self.failure is not None:
            return EXIT_FINDING
        if self.final is not None and not self.final.succeeded:
            return EXIT_FINDING
        return EXIT_OK

    def view(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "application": self.app.metadata.name,
            "namespace": self.app.metadata.namespace,
            "server": self.server,
            "submitted": self.submission is not None,
        }
        if self.submission is not None:
            out |= submission_view(self.submission)
        if self.failure is not None:
            out["error"] = {
                "message": self.failure.message,
                "where": self.failure.where,
                "fix": self.failure.fix,
                "temporary": self.failure.temporary,
                "written": [str(r) for r in self.failure.written],
                "deletedAgain": [str(r) for r in self.cleaned_up],
            }
        if self.final is not None:
            out["result"] = progress_view(self.final)
        if self.warnings:
            out["warnings"] = list(self.warnings)
        if self.report is not None:
            from kubespark.doctor.report import report_view

            out["diagnosis"] = report_view(self.report)
        return out


def _allowed_by_annotation(app: SparkApplication) -> bool:
    return (app.metadata.annotations or {}).get(ALLOW_ANNOTATION, "") == "true"


async def submit_and_follow(
    app: SparkApplication,
    target: Target,
    *,
    follow_seconds: float | None = None,
    on_submitted: OnSubmitted | None = None,
    on_progress: OnProgress | None = None,
    client: KubeClient | None = None,
    capabilities: ApiSurface | None = None,
) -> Outcome:
    """Submit ``app`` (and, with ``follow_seconds``, follow it to its end): the outcome.

    ``client`` and ``capabilities`` let a long-running caller reuse an open client and the
    server's surface; otherwise a client is made from ``target``'s kubeconfig (and closed at the
    end) and the surface read through the discovery cache.
    """
    if client is None:
        async with connect(target.kubeconfig, target.context) as own:
            surface = capabilities or await cli_capabilities(own)
            return await _submit_with(
                own, surface, app, target, follow_seconds, on_submitted, on_progress
            )
    surface = capabilities or await cli_capabilities(client)
    return await _submit_with(
        client, surface, app, target, follow_seconds, on_submitted, on_progress
    )


async def _submit_with(
    client: KubeClient,
    surface: ApiSurface,
    app: SparkApplication,
    target: Target,
    follow_seconds: float | None,
    on_submitted: OnSubmitted | None,
    on_progress: OnProgress | None,
) -> Outcome:
    app = marked(app, target_namespace(target.namespace, app, client.namespace))
    server = _server_name(surface, client)
    submission_id = new_submission_id()
    try:
        submission = await submit_application(
            client,
            app,
            capabilities=surface,
            submission_id=submission_id,
            options=build_options(app),
        )
    except SubmissionFailed as err:
        if isinstance(err.cause, InputError):
            raise err.cause from None  # the builder refused the application: bad input, exit 2
        cleaned = await _clean_up(client, app, surface, err, submission_id)
        return Outcome(app, server, failure=err, cleaned_up=cleaned, report=_report_of(err))
    unrecorded = await _record(client, submission)
    warnings = (unrecorded,) if unrecorded else ()
    if on_submitted is not None:
        on_submitted(app, server, submission)
    if follow_seconds is None:
        return Outcome(app, server, submission, warnings=warnings)
    final = await follow_driver(
        client,
        submission.namespace,
        submission.driver_pod,
        submission.spark_application_id,
        on_progress or (lambda _: None),
        give_up_after=follow_seconds,
    )
    report = None
    if final.driver.state is DriverState.FAILED:
        from kubespark.doctor.engine import examine  # the failure path only: keeps start-up fast

        evidence = await failure_evidence(client, submission.namespace, final.driver.pod_name)
        report = examine(evidence)
    return Outcome(app, server, submission, final=final, report=report, warnings=warnings)


async def _clean_up(
    client: KubeClient,
    app: SparkApplication,
    surface: ApiSurface,
    err: SubmissionFailed,
    submission_id: str,
) -> tuple[ObjectRef, ...]:
    """What the failed run wrote, deleted: the submitter already did for a permanent failure.

    A temporary failure (the server kept answering 5xx past the retries) leaves the objects for a
    retry of the run to adopt; the CLI does not come back, so it deletes them itself, once it
    has seen that the driver pod is this run's (a create the server answered 5xx may still have
    happened). The pod owns the rest, so deleting it and the UI objects removes everything.
    """
    if isinstance(err, SubmissionConflict) or not err.temporary:
        return err.deleted
    path = f"/api/v1/namespaces/{app.metadata.namespace}/pods/{driver_pod_name(app)}"
    try:
        pod = await client.send(KubeRequest("GET", path))
        labels = (pod.get("metadata") or {}).get("labels") or {}
        if labels.get(LABEL_SUBMISSION_ID) != submission_id:
            return ()
        return await delete_application(client, app, capabilities=surface)
    except APIError:  # gone already, or the server still failing: nothing more to do here
        return ()


def _report_of(err: SubmissionFailed) -> Report | None:
    api = err.api_error
    if api is None:
        return None
    from kubespark.doctor.engine import examine_text  # the failure path only

    return examine_text(
        f"error: {api.where}: HTTP {api.status.code} {api.reason}: {api.message}",
        "the API server's answer",
    )


async def _record(client: KubeClient, submission: Submission) -> str | None:
    """Annotate the driver pod with the compat notes, when the server needed any (``status``).

    One merge patch after the submission; a server that took every write as sent costs nothing.
    The submission stands whatever this patch meets (a user allowed to create pods but not to
    patch them, a server failing by then): the answer is a warning saying what is lost.
    """
    notes = list(submission.note_lines())
    if not notes:
        return None
    patch = {"metadata": {"annotations": {ANNOTATION_NOTES: json.dumps(notes)}}}
    path = f"/api/v1/namespaces/{submission.namespace}/pods/{submission.driver_pod}"
    request = KubeRequest("PATCH", path, (("fieldManager", FIELD_MANAGER),), MERGE_PATCH, patch)
    try:
        await client.send(request)
    except NotFound:  # the pod already ran and was deleted: nothing to mark
        return None
    except APIError as err:
        return (
            f"the application was submitted, but the compat notes could not be recorded on "
            f"{submission.namespace}/{submission.driver_pod} (PATCH: HTTP {err.status.code} "
            f"{err.reason}: {err.message}); `kubespark status` will not show them"
            + ("; allow this user to patch pods to keep them" if err.status.code == 403 else "")
        )
    return None


# ---- views --------------------------------------------------------------------------------------


def write_view(write: PlannedWrite, *, body: bool) -> dict[str, Any]:
    request = write.request
    out: dict[str, Any] = {
        "object": {
            "apiVersion": write.object.api_version,
            "kind": write.object.kind,
            "name": write.object.name,
            "namespace": write.object.namespace,
        },
        "method": request.method,
        "path": request.path,
        "query": dict(request.query),
        "contentType": request.content_type,
        "summary": body_summary(write.body),
    }
    then = write.on_conflict.then
    if then is not None:
        out["ifExists"] = {"action": write.on_conflict.action.value, "method": then.method}
    out["notes"] = [
        {
            "code": n.code.value,
            "path": n.path,
            "message": n.message,
            "addedIn": str(n.added_in) if n.added_in else None,
        }
        for n in write.notes
    ]
    if body:
        out["body"] = request.body
    return out


def plan_view(plan: SubmissionPlan, server: str) -> dict[str, Any]:
    app = plan.resources
    return {
        "dryRun": True,
        "server": server,
        "sparkVersion": str(app.spark_version),
        "writes": [write_view(w, body=True) for w in plan.writes],
    }


def submission_view(submission: Submission) -> dict[str, Any]:
    return {
        "sparkVersion": str(submission.spark_version),
        "submissionId": submission.submission_id,
        "sparkApplicationId": submission.spark_application_id,
        "driverPod": submission.driver_pod,
        "written": [str(r) for r in submission.written],
        "notes": list(submission.note_lines()),
    }


def progress_view(progress: Progress) -> dict[str, Any]:
    return {
        "state": "DELETED" if progress.deleted else progress.driver.state.value,
        "succeeded": progress.succeeded,
        "timedOut": progress.timed_out,
        "failure": progress.driver.failure or None,
        "waiting": progress.driver.waiting.render() if progress.driver.waiting else None,
        "seconds": round(progress.elapsed, 3),
        "executors": {s.value: n for s, n in progress.executors.items()},
    }


def body_summary(body: dict[str, Any]) -> str:
    """A line about a write's body: what it is and its size, without its contents."""
    size = len(json.dumps(body, separators=(",", ":")))
    spec = body.get("spec") or {}
    kind = body.get("kind", "")
    if kind == "Pod":
        containers = ", ".join(
            f"{c.get('name')} ({c.get('image')})" for c in spec.get("containers") or []
        )
        detail = f"containers {containers}; {len(spec.get('volumes') or [])} volumes"
    elif kind == "Service":
        ports = ", ".join(
            "/".join(str(p[k]) for k in ("port", "protocol") if k in p)
            for p in spec.get("ports") or []
        )
        detail = f"clusterIP {spec.get('clusterIP', '-')}, ports {ports}"
    elif kind == "ConfigMap":
        detail = "keys " + ", ".join(sorted((body.get("data") or {}).keys()))
    else:
        detail = "fields " + ", ".join(sorted(k for k in body if k not in ("apiVersion", "kind")))
    return f"{detail}; {size:,} bytes"


# ---- text rendering -----------------------------------------------------------------------------


def render_plan(console: Console, plan: SubmissionPlan, server: str) -> None:
    meta = plan.resources.pod["metadata"]
    namespace = plan.pod.object.namespace
    name = meta.get("labels", {}).get(LABEL_APP_NAME, meta.get("name"))
    console.print(
        f"[bold]dry run[/]: {namespace}/{name} (Spark {plan.resources.spark_version}) "
        f"for {escape(server)}; nothing is sent",
        highlight=False,
    )
    for n, write in enumerate(plan.writes, 1):
        request = write.request
        console.print(f"{n}. [bold]{request.method}[/] {escape(request.target)}", highlight=False)
        console.print(f"   {escape(str(write.object))}; content type {request.content_type}")
        console.print(f"   body: {escape(body_summary(write.body))}", highlight=False)
        then = write.on_conflict.then
        if then is not None:
            console.print(f"   if it exists: {then.method} ({write.on_conflict.action.value})")
        for note in notes_for_people(write.notes):
            console.print(f"   [yellow]note[/] {escape(note.message)}", highlight=False)
    if not plan.notes:
        console.print("no compat notes: this server takes every write as spark-submit sends it")
    console.print("[dim]full bodies: -o json[/]")


def render_submission(
    console: Console, app: SparkApplication, server: str, submission: Submission
) -> None:
    console.print(
        f"[green]✓ submitted[/] {app.metadata.namespace}/{app.metadata.name} "
        f"(Spark {submission.spark_version}) to {escape(server)}",
        highlight=False,
    )
    console.print(f"  driver pod {submission.driver_pod}", highlight=False)
    for ref in submission.written:
        console.print(f"  wrote {escape(str(ref))}", highlight=False)
    for ref in submission.adopted:
        console.print(f"  adopted {escape(str(ref))}", highlight=False)
    _render_notes(console, submission)


def _render_notes(console: Console, submission: Submission) -> None:
    if not submission.notes:
        console.print(
            "  compat notes: none; this server takes every write as spark-submit sends it"
        )
        return
    console.print("  [bold]compat notes[/]:")
    by_object: dict[ObjectRef, list[str]] = {}
    for note in notes_for_people(submission.notes):
        by_object.setdefault(note.object, []).append(note.message)
    for ref, messages in by_object.items():
        console.print(f"    {escape(str(ref))}", highlight=False)
        for message in messages:
            console.print(f"      - {escape(message)}", highlight=False)
    for message in submission.messages:
        console.print(f"    - {escape(message)}", highlight=False)


def render_outcome(console: Console, outcome: Outcome) -> None:
    """What remains to print once the command is done (the submission was shown as it happened)."""
    if outcome.failure is not None:
        _render_failure(console, outcome)
        return
    for warning in outcome.warnings:
        console.print(f"  [yellow]warning[/]: {escape(warning)}", highlight=False)
    app = outcome.app.metadata
    final = outcome.final
    if final is None:
        console.print(
            f"  follow it: kubespark status {app.name} -n {app.namespace}; "
            f"kubespark logs {app.name} -n {app.namespace} -f",
            highlight=False,
        )
        return
    if final.succeeded:
        console.print(
            f"[green]✓ {app.name} completed[/] after {final.elapsed:.1f}s", highlight=False
        )
        return
    if final.timed_out:
        console.print(
            f"[yellow]… {app.name} is still {final.driver.state.value} after "
            f"{final.elapsed:.0f}s[/]; follow it: kubespark status {app.name} -n {app.namespace}",
            highlight=False,
        )
        return
    what = "its driver pod was deleted" if final.deleted else final.driver.failure or "failed"
    console.print(f"[bold red]✗ {app.name} failed[/]: {escape(what)}", highlight=False)
    if outcome.report is not None:
        _render_report(console, outcome.report)


def _render_failure(console: Console, outcome: Outcome) -> None:
    err = outcome.failure
    assert err is not None
    app = outcome.app.metadata
    console.print(
        f"[bold red]✗ submitting {app.namespace}/{app.name} failed[/] on {escape(outcome.server)}",
        highlight=False,
    )
    console.print(f"  {escape(err.render())}", highlight=False)
    if isinstance(err, SubmissionConflict) and _ours(err.existing):
        console.print(
            f"  it is an earlier `kubespark submit` of {app.name}: "
            f"kubespark delete {app.name} -n {app.namespace}, then submit again",
            highlight=False,
        )
    if err.written:
        console.print("  written before the failure: " + ", ".join(str(r) for r in err.written))
        gone = ", ".join(str(r) for r in outcome.cleaned_up) or "nothing"
        console.print(f"  deleted again: {escape(gone)}", highlight=False)
    if outcome.report is not None:
        _render_report(console, outcome.report)


def _render_report(console: Console, report: Report) -> None:
    from kubespark.cli.doctor import render  # the failure path only

    render(report, console)


def _ours(obj: Mapping[str, Any]) -> bool:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return bool(labels.get(LABEL_SUBMITTED_BY) == SUBMITTED_BY_CLI)


class TextProgress:
    """The live status line of ``--wait`` (one line per change when output is not a terminal)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.status: Any = None

    def submitted(self, app: SparkApplication, server: str, submission: Submission) -> None:
        render_submission(self.console, app, server, submission)

    def progress(self, progress: Progress) -> None:
        line = progress.summary()
        if not self.console.is_terminal:
            self.console.print(f"  {escape(line)}", highlight=False)
            return
        if self.status is None:
            self.status = self.console.status(escape(line))
            self.status.start()
        else:
            self.status.update(escape(line))

    def stop(self) -> None:
        if self.status is not None:
            self.status.stop()
            self.status = None
