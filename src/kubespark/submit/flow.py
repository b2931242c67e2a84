"""One ``kubespark submit`` run: submit an application, record it, follow it, clean up after it.

Owns what a short-lived submitter does around ``submit_application`` that the operator does not:
choosing the namespace (``-n``, the application's, the context's), a fresh submission id per
run, the discovery-cached surface of the server, annotating the driver pod with the compat
notes, following the driver to its end and asking the doctor about a failure, and deleting what
a run that failed for a temporary reason wrote (nobody comes back to retry it). It also makes
the dry-run plan. It renders nothing: callers (the CLI's ``submit`` and ``demo``, the benches)
get an :class:`Outcome` with a plain-data ``view``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubespark import records
from kubespark.apisurface import ApiSurface
from kubespark.compat import ObjectRef, offline_capabilities
from kubespark.driver import BuildOptions
from kubespark.driver.kubeflow import LABEL_SUBMISSION_ID
from kubespark.driver.submit_command import driver_pod_name
from kubespark.errors import InputError
from kubespark.kube.client import KubeClient
from kubespark.kube.discovery_cache import cached_surface
from kubespark.kube.errors import APIError, NotFound
from kubespark.kube.requests import MERGE_PATCH, KubeRequest
from kubespark.spark.model import SparkApplication
from kubespark.submit.batch import ensure_served, plan_batch
from kubespark.submit.driverstate import DriverState
from kubespark.submit.errors import SubmissionConflict, SubmissionFailed
from kubespark.submit.follow import delete_application
from kubespark.submit.progress import Progress, failure_evidence, follow_driver
from kubespark.submit.submitted_apps import ANNOTATION_NOTES, connect, marked
from kubespark.submit.submitter import (
    FIELD_MANAGER,
    Submission,
    SubmissionPlan,
    plan_submission,
    submit_application,
)

if TYPE_CHECKING:
    from kubespark.doctor.report import Report

__all__ = [
    "OnProgress",
    "OnSubmitted",
    "Outcome",
    "Target",
    "build_options",
    "new_submission_id",
    "plan_dry_run",
    "progress_view",
    "submission_view",
    "submit_and_follow",
    "target_namespace",
]

OnSubmitted = Callable[[SparkApplication, str, Submission], None]
OnProgress = Callable[[Progress], None]


@dataclass(frozen=True)
class Target:
    """Where to submit: the kubeconfig, its context, and the -n flag."""

    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None
    # The cluster's kube-schedulers with the coscheduling plugin (kubeflow's
    # --kube-scheduler-names): a batchScheduler naming one gets its PodGroup.
    kube_schedulers: tuple[str, ...] = ()


def target_namespace(flag: str | None, app: SparkApplication, context_namespace: str) -> str:
    """``-n``, else the application's ``metadata.namespace``, else the context's namespace."""
    given = "namespace" in records.fields_set(app.metadata)
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


async def plan_dry_run(
    app: SparkApplication, target: Target, k8s: str | None
) -> tuple[SubmissionPlan, str]:
    """The writes a submission would send, and the server they are for; nothing is written.

    With ``k8s`` (a Kubernetes version) the plan is made offline for the bundled surface of
    that version; otherwise for the kubeconfig's server, read through the discovery cache.
    """
    if k8s is not None:
        surface = offline_capabilities(k8s)
        marked_app = marked(app, target_namespace(target.namespace, app, "default"))
        plan = _plan(marked_app, surface, target.kube_schedulers)
        return plan, f"Kubernetes {surface.server_version or surface.version}"
    async with connect(target.kubeconfig, target.context) as client:
        surface = await cached_surface(client)
        marked_app = marked(app, target_namespace(target.namespace, app, client.namespace))
        try:  # a PodGroup the server does not serve: refused as the submission would be
            await ensure_served(client, plan_batch(marked_app, target.kube_schedulers))
        except SubmissionFailed as failed:
            if isinstance(failed.cause, InputError):
                raise failed.cause from None
            raise
        return _plan(marked_app, surface, target.kube_schedulers), _server_name(surface, client)


def _plan(
    app: SparkApplication, surface: ApiSurface, kube_schedulers: tuple[str, ...] = ()
) -> SubmissionPlan:
    """The writes a submission would send (the builder's and planner's errors are bad input)."""
    return plan_submission(
        app,
        surface=surface,
        submission_id=new_submission_id(),
        options=build_options(app),
        kube_schedulers=kube_schedulers,
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
    def succeeded(self) -> bool:
        """Submitted, and (when followed) the application completed."""
        return self.failure is None and (self.final is None or self.final.succeeded)

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


async def submit_and_follow(
    app: SparkApplication,
    target: Target,
    *,
    follow_seconds: float | None = None,
    on_submitted: OnSubmitted | None = None,
    on_progress: OnProgress | None = None,
    client: KubeClient | None = None,
    surface: ApiSurface | None = None,
) -> Outcome:
    """Submit ``app`` (and, with ``follow_seconds``, follow it to its end): the outcome.

    ``client`` and ``surface`` let a long-running caller reuse an open client and the
    server's surface; otherwise a client is made from ``target``'s kubeconfig (and closed at the
    end) and the surface read through the discovery cache.
    """
    if client is None:
        async with connect(target.kubeconfig, target.context) as own:
            known = surface or await cached_surface(own)
            return await _submit_with(
                own, known, app, target, follow_seconds, on_submitted, on_progress
            )
    known = surface or await cached_surface(client)
    return await _submit_with(client, known, app, target, follow_seconds, on_submitted, on_progress)


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
            surface=surface,
            submission_id=submission_id,
            options=build_options(app),
            kube_schedulers=target.kube_schedulers,
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
        return await delete_application(client, app, surface=surface)
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
