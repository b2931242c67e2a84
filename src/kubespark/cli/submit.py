"""``kubespark submit``: write a SparkApplication's driver resources to a cluster, with no JVM.

Parses flags and loads the application (``kubespark.spark``: bad input stops here, before any
connection). Then either prints the planned writes (``--dry-run``: discovery reads only, or none
at all with ``--k8s``), or submits through ``kubespark.submit.flow`` and prints every compat note
the server needed; ``--wait`` follows the driver with a live status line and exits with the
application's result, printing the doctor's diagnosis when it failed. This module parses and
renders; the run itself (namespace, recording, following, cleaning up) is the library's.

Exit codes: 0 submitted (with ``--wait``: the application completed); 1 the submission or the
application failed (what was written is deleted again, the diagnosis printed); 2 bad input
(nothing is written).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

from kubespark.cli.output import (
    EXIT_FINDING,
    EXIT_OK,
    OutputFormat,
    markup_stdout,
    print_json,
    stdout,
)
from kubespark.cli.plain import MarkupConsole, PlainConsole, escape
from kubespark.compat import ObjectRef, PlannedWrite, notes_for_people
from kubespark.driver.kubeflow import LABEL_APP_NAME
from kubespark.errors import InputError
from kubespark.knowledge.scope import ALLOW_ANNOTATION, ALLOW_FLAG, require_modelled_spark
from kubespark.spark import load_application, spark_version_of
from kubespark.spark.model import SparkApplication
from kubespark.submit import Submission, SubmissionConflict, SubmissionPlan
from kubespark.submit.flow import Outcome, Target, plan_dry_run, submit_and_follow
from kubespark.submit.progress import Progress
from kubespark.submit.submitted_apps import LABEL_SUBMITTED_BY, SUBMITTED_BY_CLI

# typer and the shared flags are named only in the signature's annotations, which stay text
# (PEP 563) until kubespark.cli.app resolves them to build the typer command: entry's short path
# runs this command without importing typer.
if TYPE_CHECKING:
    import typer
    from rich.console import Console

    from kubespark.cli.flags import ContextFlag, DryRunFlag, KubeconfigFlag, OutputFlag
    from kubespark.doctor.report import Report

__all__ = ["TextProgress", "exit_code", "render_outcome", "submit"]

DEFAULT_WAIT_SECONDS = 24 * 3600.0


def submit(
    app_file: Annotated[Path, typer.Argument(help="the SparkApplication YAML (or JSON) file")],
    kubeconfig: KubeconfigFlag = None,
    context: ContextFlag = None,
    namespace: Annotated[
        str | None,
        typer.Option(
            "-n", "--namespace", help="namespace (default: the app's, else the context's)"
        ),
    ] = None,
    dry_run: DryRunFlag = False,
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
    output: OutputFlag = OutputFormat.TEXT,
    allow_unmodelled_spark: Annotated[
        bool,
        typer.Option(
            ALLOW_FLAG,
            help="Submit a Spark release kubespark does not model (below 3.0, or newer than "
            "its data) as the nearest one it does; refused otherwise.",
        ),
    ] = False,
    kube_scheduler_name: Annotated[
        list[str] | None,
        typer.Option(
            "--kube-scheduler-name",
            help="a kube-scheduler with the coscheduling plugin (repeatable; kubeflow's "
            "--kube-scheduler-names): a batchScheduler naming it gets a PodGroup",
        ),
    ] = None,
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
    # Piped, the plan and the submission print as plain text (no rich); on a terminal, rich's.
    console = markup_stdout()
    if dry_run:
        target = Target(kubeconfig, context, namespace, tuple(kube_scheduler_name or ()))
        plan, server = asyncio.run(plan_dry_run(app, target, k8s))
        if output is OutputFormat.JSON:
            print_json(plan_view(plan, server))
        else:
            render_plan(console, plan, server)
        raise SystemExit(EXIT_OK)
    show = TextProgress(console) if output is OutputFormat.TEXT else None
    try:
        outcome = asyncio.run(
            submit_and_follow(
                app,
                Target(kubeconfig, context, namespace, tuple(kube_scheduler_name or ())),
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
    raise SystemExit(exit_code(outcome))


def exit_code(outcome: Outcome) -> int:
    """0 when submitted (and, when followed, completed); 1 when either failed."""
    return EXIT_OK if outcome.succeeded else EXIT_FINDING


def _allowed_by_annotation(app: SparkApplication) -> bool:
    return (app.metadata.annotations or {}).get(ALLOW_ANNOTATION, "") == "true"


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


def render_plan(console: MarkupConsole, plan: SubmissionPlan, server: str) -> None:
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
    console: MarkupConsole, app: SparkApplication, server: str, submission: Submission
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


def _render_notes(console: MarkupConsole, submission: Submission) -> None:
    if not submission.notes and not submission.messages:
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


def render_outcome(console: MarkupConsole, outcome: Outcome) -> None:
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


def _render_failure(console: MarkupConsole, outcome: Outcome) -> None:
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


def _render_report(console: MarkupConsole, report: Report) -> None:
    from kubespark.cli.doctor import render  # the failure path only

    # The doctor's report is rich's to lay out; a plain console has printed nothing it could not.
    render(report, stdout() if isinstance(console, PlainConsole) else cast("Console", console))


def _ours(obj: Mapping[str, Any]) -> bool:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return bool(labels.get(LABEL_SUBMITTED_BY) == SUBMITTED_BY_CLI)


class TextProgress:
    """The live status line of ``--wait`` (one line per change when output is not a terminal)."""

    def __init__(self, console: MarkupConsole | Console) -> None:
        self.console = console
        self.status: Any = None

    def submitted(self, app: SparkApplication, server: str, submission: Submission) -> None:
        render_submission(self.console, app, server, submission)

    def progress(self, progress: Progress) -> None:
        line = progress.summary()
        if isinstance(self.console, PlainConsole) or not cast("Console", self.console).is_terminal:
            self.console.print(f"  {escape(line)}", highlight=False)
            return
        if self.status is None:
            self.status = cast("Console", self.console).status(escape(line))
            self.status.start()
        else:
            self.status.update(escape(line))

    def stop(self) -> None:
        if self.status is not None:
            self.status.stop()
            self.status = None
