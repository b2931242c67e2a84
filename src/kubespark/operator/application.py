"""The SparkApplication controller: kubeflow's state machine, driven by watch events and time.

Owns reconciling one application: read it and its Spark pods from the caches, decide the next
state exactly as kubeflow v2's ``internal/controller/sparkapplication`` does (a handler per
state; retries with linear back-off; TTL deletion; suspend and resume; invalidation on a spec
change), perform the side effects (submit through ``kubespark.submit``, delete the driver and
UI objects), and write the status back with the resourceVersion read, so a decision made on a
stale copy fails with 409 and is made again on the fresh one.

Beyond kubeflow: the submission id is derived from (uid, spec, attempt), so a restarted operator
recomputes it and adopts a half-written submission instead of creating a second driver, and the
same derivation detects a spec change without a webhook or a stored copy; an application the
model rejects ends FAILED with the field named (no crash loop); a pod that waits (image pulls,
scheduling, crash loops, OOM kills, evictions) says why in status and events; a failed
submission carries the doctor's diagnosis.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from kubespark import records
from kubespark.apisurface import ApiSurface
from kubespark.driver import BuildOptions
from kubespark.errors import InputError
from kubespark.knowledge.scope import ALLOW_ANNOTATION, require_modelled_spark
from kubespark.kube.client import KubeClient
from kubespark.kube.errors import Conflict, NotFound
from kubespark.kube.requests import JSON, KubeRequest
from kubespark.operator.caches import Key, ObjectCache, PodCache, key_of
from kubespark.operator.clock import OperatorClock, SystemClock
from kubespark.operator.crds import GROUP, VERSION
from kubespark.operator.events import EventRecorder
from kubespark.operator.metrics import OperatorMetrics
from kubespark.operator.options import OperatorOptions
from kubespark.operator.pdb import delete_driver_pdb, ensure_driver_pdb
from kubespark.operator.states import (
    AppState,
    RetryRule,
    driver_to_app_state,
    is_expired,
    should_retry,
    time_until_retry,
    vanished_executor_state,
)
from kubespark.operator.status import AppStatus, DriverInfo
from kubespark.operator.workqueue import Lane, WorkQueue
from kubespark.spark import ApplicationError, SparkApplication, apply_defaults, spark_version_of
from kubespark.spark.loading import Problem, load_application, webhook_problems
from kubespark.submit import (
    DriverState,
    ExecutorState,
    SubmissionConflict,
    SubmissionFailed,
    driver_failure_message,
    driver_state,
    executor_state,
    pod_waiting,
    submit_application,
)
from kubespark.submit.batch import VOLCANO, delete_pod_group

__all__ = ["ApplicationController", "spec_hash", "submission_id_for"]

log = logging.getLogger("kubespark.operator")
Obj = dict[str, Any]

LABEL_SUBMISSION_ID = "sparkoperator.k8s.io/submission-id"
# kubeflow ensures the PDB on its Submitted and Running passes; it is removed in any other state.
_PDB_STATES = frozenset({AppState.SUBMITTED, AppState.RUNNING})
EXECUTOR_WRITE_INTERVAL = 2.0  # seconds between status writes that only move executor states
# After the application terminated, executors still report (pending, running, then completed or
# gone): their changes wait for the last one, at most this long, and go out as one write.
TERMINATED_EXECUTOR_HOLD = 10.0
_FINAL_EXECUTOR_STATES = frozenset({ExecutorState.COMPLETED.value, ExecutorState.FAILED.value})
LABEL_APP_SELECTOR = "spark-app-selector"
LABEL_EXEC_ID = "spark-exec-id"
_SUBMISSION_NS = uuid.UUID("8f2a3c1e-5d7b-4e09-9a61-2b3c4d5e6f70")
# Spec fields that change without invalidating a run (kubeflow's event filter).
_NOT_INVALIDATING = ("suspend", "timeToLiveSeconds")
_PRE_SUBMISSION = (
    AppState.NEW,
    AppState.INVALIDATING,
    AppState.PENDING_RERUN,
    AppState.SUSPENDING,
    AppState.SUSPENDED,
    AppState.RESUMING,
)


def spec_hash(spec: Mapping[str, Any]) -> str:
    """A digest of what a run is made from: the spec without suspend and TTL."""
    relevant = {k: v for k, v in spec.items() if k not in _NOT_INVALIDATING}
    text = json.dumps(relevant, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def submission_id_for(uid: str, digest: str, attempt: int) -> str:
    """The submission id of attempt ``attempt`` of this spec of this object, the same every time."""
    return str(uuid.uuid5(_SUBMISSION_NS, f"{uid}/{digest}/{attempt}"))


@dataclass(frozen=True)
class _Ctx:
    """One application as a reconcile sees it."""

    obj: Obj
    status: AppStatus
    digest: str
    app: SparkApplication | None
    problem: ApplicationError | InputError | None

    @property
    def key(self) -> Key:
        return key_of(self.obj)

    @property
    def uid(self) -> str:
        return str(self.obj["metadata"].get("uid") or "")

    @property
    def spec(self) -> Mapping[str, Any]:
        spec = self.obj.get("spec")
        return spec if isinstance(spec, Mapping) else {}

    @property
    def suspend(self) -> bool:
        return bool(self.spec.get("suspend"))

    @property
    def rule(self) -> RetryRule:
        if self.app is None:
            return RetryRule()
        policy = self.app.spec.restart_policy
        return RetryRule(
            type=policy.type,
            on_failure_retries=policy.on_failure_retries,
            on_submission_failure_retries=policy.on_submission_failure_retries,
            on_failure_retry_interval=policy.on_failure_retry_interval,
            on_submission_failure_retry_interval=policy.on_submission_failure_retry_interval,
        )

    def driver_pod_name(self) -> str:
        """``util.GetDriverPodName`` on the raw spec (works for invalid applications too)."""
        if self.status.driver_info.pod_name:
            return self.status.driver_info.pod_name
        driver = self.spec.get("driver") or {}
        conf = self.spec.get("sparkConf") or {}
        return str(
            driver.get("podName")
            or conf.get("spark.kubernetes.driver.pod.name")
            or f"{self.key[1]}-driver"
        )


class ApplicationController:
    """Reconciles SparkApplications; one instance per operator process."""

    def __init__(
        self,
        client: KubeClient,
        capabilities: ApiSurface,
        options: OperatorOptions,
        recorder: EventRecorder,
        metrics: OperatorMetrics,
        *,
        clock: OperatorClock | None = None,
    ) -> None:
        self.client = client
        self.capabilities = capabilities
        self.options = options
        self.recorder = recorder
        self.metrics = metrics
        self.clock = clock or SystemClock()
        self.apps = ObjectCache()
        self.pods = PodCache()
        self.queue: WorkQueue[Key] = WorkQueue(
            "sparkapplication", clock=self.clock, lane_of=self._lane
        )
        self._executor_writes: dict[Key, float] = {}  # when executor-only changes were written
        self._executor_held: dict[Key, float] = {}  # terminated apps: since when changes wait
        # kubeflow's webhook refusals of each application, with the digest of what they judged.
        self._refusals: dict[Key, tuple[str, tuple[Problem, ...]]] = {}
        self.admits: Callable[[str], bool] = lambda _namespace: True  # --namespace-selector
        self.build_options = BuildOptions(
            ui_service=options.ui_service,
            ingress_url_format=options.ingress_url_format,
            ingress_class_name=options.ingress_class_name,
        )

    # ---- event intake ----------------------------------------------------------------------------

    def on_app_event(self, kind: str | None, obj: Obj) -> None:
        """A SparkApplication watch event: update the cache and metrics, queue the key."""
        if kind == "DELETED":
            gone = self.apps.remove(obj)
            if gone is not None:
                self.metrics.app_deleted(gone)
            self.queue.discard(key_of(obj))
            self._executor_writes.pop(key_of(obj), None)
            self._executor_held.pop(key_of(obj), None)
            self._refusals.pop(key_of(obj), None)
            return
        if self._remember(obj) and self.admits(key_of(obj)[0]):
            self.queue.add(key_of(obj))

    def admit_namespace(self, namespace: str) -> None:
        """A namespace the filter admits from now on: queue what is cached there."""
        for key in self.apps:
            if key[0] == namespace:
                self.queue.add(key)

    def _remember(self, obj: Obj) -> bool:
        """Cache ``obj`` and count its state change; False when it is nothing new."""
        key = key_of(obj)
        current = self.apps.get(key)
        if current is not None and _same_version(current, obj):
            return False  # the echo of our own write, already cached
        previous = self.apps.put(obj)
        if self.apps.get(key) is not obj:
            return False  # older than what we hold
        now = self.clock.now()
        if previous is None:
            self.metrics.app_created(obj, now)
        else:
            self.metrics.app_updated(previous, obj, now)
        return True

    def on_pod_event(self, kind: str | None, pod: Obj) -> None:
        """A Spark pod watch event: update the cache and executor metrics, queue its application."""
        previous = self.pods.get(key_of(pod))
        if kind == "DELETED":
            self.pods.remove(pod)
            current = None
        else:
            self.pods.put(pod)
            current = self.pods.get(key_of(pod))
        labels = (pod.get("metadata") or {}).get("labels") or {}
        if labels.get("spark-role") == "executor":
            self.metrics.executor_seen(previous, current)
        app = labels.get("sparkoperator.k8s.io/app-name")
        if app and self.admits(key_of(pod)[0]):
            self.queue.add((key_of(pod)[0], str(app)))

    def _lane(self, key: Key) -> Lane:
        """Applications not yet submitted queue behind those already submitted.

        A burst of new applications would otherwise hold up every driver that started or
        finished meanwhile: tracking and completing those goes first (the queue still gives new
        ones a fair share, so submissions keep going).
        """
        obj = self.apps.get(key)
        status = obj.get("status") if obj is not None else None
        state = status.get("applicationState") if isinstance(status, Mapping) else None
        raw = state.get("state") if isinstance(state, Mapping) else None
        return Lane.LATER if obj is not None and AppState.parse(raw) is AppState.NEW else Lane.FIRST

    # ---- the reconcile loop ----------------------------------------------------------------------

    async def reconcile(self, key: Key) -> float | None:
        obj = self.apps.get(key)
        if obj is None or (obj.get("metadata") or {}).get("deletionTimestamp"):
            return None
        if not self.admits(key[0]):
            return None
        ctx = self._context(obj)
        state = ctx.status.state
        if ctx.problem is not None and state is AppState.NEW:
            return await self._reject(ctx)
        if state not in _PRE_SUBMISSION and self._spec_changed(ctx):
            return await self._transition(
                ctx, ctx.status.with_state(AppState.INVALIDATING), requeue=0.0
            )
        if (
            ctx.suspend
            and not state.terminated
            and state not in (AppState.SUSPENDED, AppState.SUSPENDING)
        ):
            return await self._transition(
                ctx, ctx.status.with_state(AppState.SUSPENDING), requeue=0.0
            )
        handler = self._handlers()[state]
        return await handler(ctx)

    def _handlers(self) -> dict[AppState, Callable[[_Ctx], Awaitable[float | None]]]:
        return {
            AppState.NEW: self._on_new,
            AppState.SUBMITTED: self._on_live,
            AppState.RUNNING: self._on_live,
            AppState.UNKNOWN: self._on_live,
            AppState.SUBMISSION_FAILED: self._on_submission_failed,
            AppState.PENDING_RERUN: self._on_pending_rerun,
            AppState.INVALIDATING: self._on_invalidating,
            AppState.SUCCEEDING: self._on_succeeding,
            AppState.FAILING: self._on_failing,
            AppState.COMPLETED: self._on_terminated,
            AppState.FAILED: self._on_terminated,
            AppState.SUSPENDING: self._on_suspending,
            AppState.SUSPENDED: self._on_suspended,
            AppState.RESUMING: self._on_resuming,
        }

    def _context(self, obj: Obj) -> _Ctx:
        status = AppStatus.from_raw(obj.get("status"))
        spec = obj.get("spec") if isinstance(obj.get("spec"), Mapping) else {}
        digest = spec_hash(spec or {})
        document = {k: v for k, v in obj.items() if k != "status"}
        try:
            validated = apply_defaults(records.decode(SparkApplication, document))
            _require_modelled(validated)
            app: SparkApplication | None = validated
            problem: ApplicationError | InputError | None = None
            # kubeflow's webhook refusals: servers without CEL let them through, and no CRD can
            # compare sparkConf with the namespace; refused here, before anything is created.
            refusals = self._webhook_problems(key_of(obj), document)
            if refusals:
                app, problem = None, ApplicationError(refusals)
            elif app is not None and not app.spec.batch_scheduler:
                app = self._with_default_scheduler(app)
        except records.DecodeError:
            app, problem = None, _explained(obj)
        except InputError as err:
            app, problem = None, err
        return _Ctx(obj, status, digest, app, problem)

    def _webhook_problems(self, key: Key, document: Mapping[str, Any]) -> list[Problem]:
        """``webhook_problems``, judged again only when the application's content changed.

        A status write, most of an application's updates, changes nothing the rules judge. They
        were most of the operator's CPU when judged on every reconcile through celpy (profiled
        with 300 applications); compiled to Python (``apisurface/cel_compile.py``) they cost tens
        of microseconds, about what the content digest costs, so the memo now saves little.
        """
        digest = _content_digest(document)
        known = self._refusals.get(key)
        if known is not None and known[0] == digest:
            return list(known[1])
        found = webhook_problems(document)
        self._refusals[key] = (digest, tuple(found))
        return found

    def _with_default_scheduler(self, app: SparkApplication) -> SparkApplication:
        """kubeflow's ``--default-batch-scheduler`` for an application that names none."""
        default = self.options.default_batch_scheduler
        if not default:
            return app
        return records.replace(app, spec=records.replace(app.spec, batch_scheduler=default))

    def _spec_changed(self, ctx: _Ctx) -> bool:
        """The stored submission id no longer derives from the current spec."""
        status = ctx.status
        if not status.submission_id or status.submission_attempts < 1:
            return False
        expected = submission_id_for(ctx.uid, ctx.digest, status.submission_attempts)
        return expected != status.submission_id

    # ---- state handlers --------------------------------------------------------------------------

    async def _on_new(self, ctx: _Ctx) -> float | None:
        return await self._submit(ctx, ctx.status)

    async def _on_live(self, ctx: _Ctx) -> float | None:
        """SUBMITTED, RUNNING, UNKNOWN: follow the driver pod (``updateSparkApplicationState``)."""
        status = ctx.status
        pod = self._cached_driver(ctx)
        if pod is None:
            elapsed = _seconds(self.clock.now(), status.last_submission_attempt_time)
            grace = self.options.driver_pod_creation_grace
            if status.state is AppState.SUBMITTED and elapsed <= grace:
                return grace - elapsed + 0.1
            pod = await self._fetch_driver(ctx)
        if pod is None:
            self.recorder.warning(
                ctx.obj,
                "SparkDriverNotFound",
                f"Driver pod {ctx.driver_pod_name()} not found after grace period "
                f"{self.options.driver_pod_creation_grace:g}s, marking application as Failing",
            )
            status = replace(
                status.with_state(AppState.FAILING, "driver pod not found"),
                termination_time=self.clock.now(),
            )
            return await self._transition(ctx, status, requeue=0.0)
        status = self._driver_update(ctx, status, pod)
        status = self._executor_update(ctx, status)
        await self._converge_pdb(ctx, running=status.state in _PDB_STATES)
        wait = self._executor_write_wait(ctx, status)
        if wait > 0:
            return wait
        requeue = (
            0.0
            if status.state in (AppState.SUCCEEDING, AppState.FAILING)
            else self.options.resync_seconds
        )
        return await self._transition(ctx, status, requeue=requeue)

    async def _on_submission_failed(self, ctx: _Ctx) -> float | None:
        status, rule = ctx.status, ctx.rule
        retry = should_retry(
            AppState.SUBMISSION_FAILED,
            rule,
            execution_attempts=status.execution_attempts,
            submission_attempts=status.submission_attempts,
        )
        if not retry:
            failed = replace(status.with_state(AppState.FAILED), termination_time=self.clock.now())
            self._state_event(ctx, failed)
            return await self._transition(ctx, failed, requeue=0.0)  # TTL counts from now
        wait = self._retry_wait(AppState.SUBMISSION_FAILED, ctx)
        if wait > 0:
            return wait
        if not await self._resources_gone(ctx):
            await self._delete_resources(ctx)
            return 1.0
        return await self._submit(ctx, status)

    async def _on_pending_rerun(self, ctx: _Ctx) -> float | None:
        if not await self._resources_gone(ctx):
            await self._delete_resources(ctx, only_if_not_deleting=True)
            return 1.0
        self._state_event(ctx, ctx.status)
        return await self._submit(ctx, ctx.status)

    async def _on_invalidating(self, ctx: _Ctx) -> float | None:
        await self._delete_resources(ctx)
        status = ctx.status.reset_for(AppState.INVALIDATING).with_state(AppState.PENDING_RERUN, "")
        return await self._transition(ctx, status, requeue=0.5)

    async def _on_succeeding(self, ctx: _Ctx) -> float | None:
        status = ctx.status
        if should_retry(
            AppState.SUCCEEDING,
            ctx.rule,
            execution_attempts=status.execution_attempts,
            submission_attempts=status.submission_attempts,
        ):
            await self._delete_resources(ctx)
            rerun = status.reset_for(AppState.SUCCEEDING).with_state(AppState.PENDING_RERUN, "")
            # The PENDING_RERUN Event is _on_pending_rerun's, as in kubeflow (see _on_failing).
            return await self._transition(ctx, rerun, requeue=0.5)
        # kubeflow's reconcileSucceedingSparkApplication records no Event here (its
        # recordSparkApplicationEvent is never reached with COMPLETED), and its next reconcile,
        # of the COMPLETED application, settles the executors in a write of its own: the
        # executors as that reconcile would see them go out with COMPLETED, in one write.
        done = self._executor_update(ctx, status.with_state(AppState.COMPLETED))
        return await self._transition(ctx, done, requeue=0.0)

    async def _on_failing(self, ctx: _Ctx) -> float | None:
        status = ctx.status
        if not should_retry(
            AppState.FAILING,
            ctx.rule,
            execution_attempts=status.execution_attempts,
            submission_attempts=status.submission_attempts,
        ):
            # No Event: kubeflow's reconcileFailingSparkApplication never calls
            # recordSparkApplicationEvent (docs/kubeflow-parity.md, "Events on failure"); the
            # failure was told by SparkDriverFailed or SparkDriverNotFound on the way in.
            return await self._transition(ctx, status.with_state(AppState.FAILED), requeue=0.0)
        wait = self._retry_wait(AppState.FAILING, ctx)
        if wait > 0:
            return wait
        await self._delete_resources(ctx)
        # SparkApplicationPendingRerun is recorded once, by _on_pending_rerun, as kubeflow's
        # reconcilePendingRerunSparkApplication does; not here on the way in.
        rerun = status.reset_for(AppState.FAILING).with_state(AppState.PENDING_RERUN, "")
        return await self._transition(ctx, rerun, requeue=0.5)

    async def _on_terminated(self, ctx: _Ctx) -> float | None:
        """COMPLETED, FAILED: TTL deletion, and the executors' final states."""
        status = ctx.status
        ttl = ctx.spec.get("timeToLiveSeconds")
        ttl = ttl if isinstance(ttl, int) and not isinstance(ttl, bool) else None
        if ttl is None:  # kubeflow's --default-time-to-live-seconds
            ttl = self.options.default_ttl_seconds
        now = self.clock.now()
        await self._converge_pdb(ctx, running=False)
        await self._clean_up_pod_group(ctx)
        if is_expired(ttl, status.termination_time, now):
            await self._delete_application(ctx)
            return None
        updated = self._executor_update(ctx, status) if status.executor_state else status
        wait = self._terminated_executor_wait(ctx, updated)
        if wait > 0:
            return wait
        await self._transition(ctx, updated)
        if ttl is None or status.termination_time is None:
            return None
        return max(0.0, ttl - _seconds(now, status.termination_time)) + 0.05

    async def _on_suspending(self, ctx: _Ctx) -> float | None:
        self._state_event(ctx, ctx.status)
        await self._delete_resources(ctx)
        status = ctx.status.with_state(AppState.SUSPENDED, "").reset_for(AppState.SUSPENDED)
        self._state_event(ctx, status)
        return await self._transition(ctx, status, requeue=0.5)

    async def _on_suspended(self, ctx: _Ctx) -> float | None:
        if not await self._resources_gone(ctx):
            return 1.0
        status = ctx.status.reset_for(AppState.SUSPENDED)
        if not ctx.suspend:
            resuming = status.with_state(AppState.RESUMING)
            self._state_event(ctx, resuming)
            return await self._transition(ctx, resuming, requeue=0.0)
        return await self._transition(ctx, status)

    async def _on_resuming(self, ctx: _Ctx) -> float | None:
        return await self._submit(ctx, ctx.status)

    # ---- submission ------------------------------------------------------------------------------

    async def _reject(self, ctx: _Ctx) -> float | None:
        """An application the model rejects: FAILED at once, naming the field (never retried)."""
        assert ctx.problem is not None
        message = "invalid SparkApplication: " + _render(ctx.problem)
        attempt = ctx.status.submission_attempts + 1
        now = self.clock.now()
        status = replace(
            ctx.status.with_state(AppState.FAILED, message),
            submission_id=submission_id_for(ctx.uid, ctx.digest, attempt),
            submission_attempts=attempt,
            last_submission_attempt_time=now,
            termination_time=now,
        )
        self.recorder.warning(
            ctx.obj, "SparkApplicationFailed", f"SparkApplication {ctx.key[1]} failed: {message}"
        )
        return await self._transition(ctx, status)

    async def _submit(self, ctx: _Ctx, status: AppStatus) -> float | None:
        """``submitSparkApplication``: one attempt; its outcome becomes the new state."""
        if ctx.app is None:
            return await self._reject(ctx)
        attempt = status.submission_attempts + 1
        submission_id = submission_id_for(ctx.uid, ctx.digest, attempt)
        now = self.clock.now()
        base = replace(
            status,
            submission_id=submission_id,
            submission_attempts=attempt,
            last_submission_attempt_time=now,
            driver_info=DriverInfo(pod_name=ctx.driver_pod_name()),
        )
        try:
            submission = await submit_application(
                self.client,
                ctx.app,
                surface=self.capabilities,
                submission_id=submission_id,
                attempt=attempt,
                options=self.build_options,
                kube_schedulers=self.options.kube_scheduler_names,
            )
        except SubmissionConflict as conflict:
            return await self._on_conflict(ctx, base, conflict)
        except SubmissionFailed as failure:
            if failure.temporary:
                raise  # the work queue retries the same attempt with back-off
            return await self._submission_failed(ctx, base, failure)
        if submission.driver_body:
            # The pod watch brings the same object, maybe late on a busy server: cached now, the
            # grace-period check finds it without a GET (kubeflow reads its informer cache too).
            self.pods.put(dict(submission.driver_body))
        submitted = replace(
            base,
            state=AppState.SUBMITTED,
            error_message="",
            execution_attempts=status.execution_attempts + 1,
            spark_application_id=submission.spark_application_id,
            spark_version=str(submission.spark_version),
            compat_notes=submission.note_lines(),
            driver_info=DriverInfo(
                pod_name=submission.driver_pod,
                web_ui_service_name=submission.ui_service,
                web_ui_port=submission.ui_port,
                web_ui_address=submission.ui_address,
                web_ui_ingress_name=submission.ui_ingress,
            ),
            termination_time=None,
        )
        self.recorder.normal(
            ctx.obj,
            "SparkApplicationSubmitted",
            f"SparkApplication {ctx.key[1]} was submitted successfully",
        )
        if submission.notes:
            self.recorder.normal(
                ctx.obj, "SparkApplicationCompatNotes", "; ".join(submission.note_lines())
            )
        return await self._transition(
            ctx, submitted, requeue=self.options.driver_pod_creation_grace + 0.1
        )

    async def _on_conflict(
        self, ctx: _Ctx, base: AppStatus, conflict: SubmissionConflict
    ) -> float | None:
        """A driver pod of the same name that is not this submission's."""
        if conflict.terminating:
            return 1.0  # an earlier driver is still shutting down
        owners = {
            r.get("uid")
            for r in (conflict.existing.get("metadata") or {}).get("ownerReferences") or []
        }
        if conflict.ref.kind == "Pod" and ctx.uid in owners:
            # An earlier driver of this very application (a rerun whose delete was lost).
            await self._delete_resources(ctx)
            return 1.0
        failure = SubmissionFailed(conflict.message, cause=None, fix=conflict.fix)
        return await self._submission_failed(ctx, base, failure)

    async def _submission_failed(
        self, ctx: _Ctx, base: AppStatus, failure: SubmissionFailed
    ) -> float | None:
        message = failure.summary()
        status = base.with_state(AppState.SUBMISSION_FAILED, message)
        text = f"failed to submit SparkApplication {ctx.key[1]}: {message}"
        if failure.fix and failure.diagnosis is None:
            text += f" (fix: {failure.fix})"
        self.recorder.warning(ctx.obj, "SparkApplicationSubmissionFailed", text)
        if failure.diagnosis is not None:
            self.recorder.warning(ctx.obj, "SparkApplicationDiagnosis", failure.diagnosis.render())
        return await self._transition(ctx, status, requeue=0.0)

    def _retry_wait(self, state: AppState, ctx: _Ctx) -> float:
        status = ctx.status
        left = time_until_retry(
            state,
            ctx.rule,
            submission_attempts=status.submission_attempts,
            last_attempt=status.last_submission_attempt_time,
            now=self.clock.now(),
        )
        return max(0.0, left.total_seconds()) if left is not None else 0.0

    # ---- the driver and executors ----------------------------------------------------------------

    def _cached_driver(self, ctx: _Ctx) -> Obj | None:
        pod = self.pods.get((ctx.key[0], ctx.driver_pod_name()))
        if pod is None:
            return None
        labels = pod["metadata"].get("labels") or {}
        if labels.get(LABEL_SUBMISSION_ID) not in (None, ctx.status.submission_id):
            return None  # an earlier submission's pod, on its way out
        return pod

    async def _fetch_driver(self, ctx: _Ctx) -> Obj | None:
        path = f"/api/v1/namespaces/{ctx.key[0]}/pods/{ctx.driver_pod_name()}"
        try:
            pod = await self.client.send(KubeRequest("GET", path))
        except NotFound:
            return None
        self.pods.put(pod)
        return self._cached_driver(ctx)

    def _executor_write_wait(self, ctx: _Ctx, status: AppStatus) -> float:
        """Seconds to hold back a write that only moves executor states (0: write now).

        Executors change state several times in their first seconds; kubeflow writes the status
        for each change. kubespark writes such executor-only changes at most every
        ``EXECUTOR_WRITE_INTERVAL`` per application, and any state transition at once (with the
        newest executor states in it): fewer status writes per application.
        """
        unchanged = replace(
            status,
            executor_state=ctx.status.executor_state,
            spark_application_id=ctx.status.spark_application_id,
        )
        if status == ctx.status or unchanged != ctx.status:
            return 0.0
        now = self.clock.monotonic()
        last = self._executor_writes.get(ctx.key, 0.0)
        if now - last < EXECUTOR_WRITE_INTERVAL:
            return EXECUTOR_WRITE_INTERVAL - (now - last)
        self._executor_writes[ctx.key] = now
        return 0.0

    def _terminated_executor_wait(self, ctx: _Ctx, status: AppStatus) -> float:
        """Seconds to hold back an executor-only write of a terminated application (0: now).

        Its executors settle within seconds of the driver; each change written alone cost a
        status write per change (kubeflow's way). Held until every executor is final, or
        ``TERMINATED_EXECUTOR_HOLD`` after the first held change, then written once.
        """
        if status == ctx.status:
            self._executor_held.pop(ctx.key, None)
            return 0.0
        if all(v in _FINAL_EXECUTOR_STATES for v in status.executor_state.values()):
            self._executor_held.pop(ctx.key, None)
            return 0.0
        now = self.clock.monotonic()
        since = self._executor_held.setdefault(ctx.key, now)
        if now - since < TERMINATED_EXECUTOR_HOLD:
            return TERMINATED_EXECUTOR_HOLD - (now - since)
        self._executor_held.pop(ctx.key, None)
        return 0.0

    def _driver_update(self, ctx: _Ctx, status: AppStatus, pod: Obj) -> AppStatus:
        """``updateDriverState``, plus the reason a driver waits."""
        labels = pod["metadata"].get("labels") or {}
        state = driver_state(pod)
        now = self.clock.now()
        status = replace(
            status,
            spark_application_id=str(labels.get(LABEL_APP_SELECTOR) or status.spark_application_id),
        )
        if state.terminated:
            status = replace(status, termination_time=status.termination_time or now)
            if state is DriverState.FAILED:
                status = replace(status, error_message=driver_failure_message(pod))
        status = self._waiting_update(ctx, status, pod)
        new_state = driver_to_app_state(state)
        if new_state is not status.state:
            self._driver_event(ctx, state, str(pod["metadata"].get("name")))
            status = replace(status, state=new_state)
        return status

    def _waiting_update(self, ctx: _Ctx, status: AppStatus, pod: Obj) -> AppStatus:
        waiting = pod_waiting(pod)
        if waiting is None:
            return (
                replace(status, waiting_reason="", waiting_message="")
                if status.waiting_reason
                else status
            )
        if waiting.reason != status.waiting_reason:
            self.recorder.warning(
                ctx.obj,
                "SparkDriverWaiting",
                f"Driver {pod['metadata'].get('name')} is not progressing: {waiting.render()}",
            )
        return replace(status, waiting_reason=waiting.reason, waiting_message=waiting.message)

    def _executor_update(self, ctx: _Ctx, status: AppStatus) -> AppStatus:
        """``updateExecutorState``: this submission's executors (capped); missing ones settled."""
        seen: dict[str, str] = {}
        app_id = ""
        for pod in self.pods.of_app(ctx.key[0], ctx.key[1], role="executor"):
            labels = pod["metadata"].get("labels") or {}
            if labels.get(LABEL_SUBMISSION_ID) not in (None, status.submission_id):
                continue
            exec_id = str(labels.get(LABEL_EXEC_ID) or "0")
            if exec_id.isdigit() and int(exec_id) > self.options.max_tracked_executors:
                continue
            name = str(pod["metadata"].get("name"))
            new = executor_state(pod)
            if new is ExecutorState.FAILED and status.executor_state.get(name) != new.value:
                self.recorder.warning(
                    ctx.obj, "SparkExecutorFailed", f"Executor {name} failed: {_exit_of(pod)}"
                )
            seen[name] = new.value
            app_id = app_id or str(labels.get(LABEL_APP_SELECTOR) or "")
        states = {**status.executor_state, **seen}
        for name, old in status.executor_state.items():
            if name in seen or old in (ExecutorState.COMPLETED.value, ExecutorState.FAILED.value):
                continue
            states[name] = vanished_executor_state(status.state).value
        return replace(
            status,
            executor_state=states,
            spark_application_id=app_id or status.spark_application_id,
        )

    # ---- deleting --------------------------------------------------------------------------------

    def _resource_paths(self, ctx: _Ctx) -> list[str]:
        ns = ctx.key[0]
        paths = [f"/api/v1/namespaces/{ns}/pods/{ctx.driver_pod_name()}"]
        info = ctx.status.driver_info
        if info.web_ui_service_name:
            paths.append(f"/api/v1/namespaces/{ns}/services/{info.web_ui_service_name}")
        if info.web_ui_ingress_name:
            ingress = self.capabilities.resource(
                "networking.k8s.io/v1", "Ingress"
            ) or self.capabilities.resource("networking.k8s.io/v1beta1", "Ingress")
            if ingress is not None:
                gv = ingress.gvk.api_version
                paths.append(f"/apis/{gv}/namespaces/{ns}/ingresses/{info.web_ui_ingress_name}")
        return paths

    async def _delete_resources(self, ctx: _Ctx, *, only_if_not_deleting: bool = False) -> None:
        """``deleteSparkResources``: the driver PDB, the driver pod (dependents follow), the UI."""
        await self._converge_pdb(ctx, running=False)
        for path in self._resource_paths(ctx):
            if only_if_not_deleting and path.endswith(f"/pods/{ctx.driver_pod_name()}"):
                pod = self.pods.get((ctx.key[0], ctx.driver_pod_name()))
                if pod is not None and pod["metadata"].get("deletionTimestamp"):
                    continue
            body: Obj = {
                "kind": "DeleteOptions",
                "apiVersion": "v1",
                "propagationPolicy": "Background",
            }
            if "/pods/" not in path:
                body["gracePeriodSeconds"] = 0
            try:
                await self.client.send(KubeRequest("DELETE", path, (), JSON, body))
            except NotFound:
                continue

    async def _clean_up_pod_group(self, ctx: _Ctx) -> None:
        """``cleanUpOnTermination``: the Volcano PodGroup of a terminated application."""
        scheduler = ctx.spec.get("batchScheduler") or self.options.default_batch_scheduler
        if scheduler == VOLCANO and ctx.status.submission_attempts > 0:
            await delete_pod_group(self.client, ctx.key[0], ctx.key[1])

    async def _converge_pdb(self, ctx: _Ctx, *, running: bool) -> None:
        """kubeflow's driver PDB behind ``--enable-driver-pdb``: while the driver runs only."""
        if not self.options.enable_driver_pdb:
            return
        if running:
            await ensure_driver_pdb(self.client, self.capabilities, ctx.obj, ctx.driver_pod_name())
        else:
            await delete_driver_pdb(self.client, self.capabilities, ctx.obj, ctx.driver_pod_name())

    async def _resources_gone(self, ctx: _Ctx) -> bool:
        """``validateSparkResourceDeletion``: none of them can be read any more."""
        for path in self._resource_paths(ctx):
            try:
                await self.client.send(KubeRequest("GET", path))
            except NotFound:
                continue
            return False
        return True

    async def _delete_application(self, ctx: _Ctx) -> None:
        path = self._app_path(ctx.key)
        body = {
            "kind": "DeleteOptions",
            "apiVersion": "v1",
            "propagationPolicy": "Background",
            "preconditions": {"uid": ctx.uid},
        }
        log.info("deleting expired SparkApplication %s/%s", *ctx.key)
        try:
            await self.client.send(KubeRequest("DELETE", path, (), JSON, body))
        except (NotFound, Conflict):
            return

    # ---- status writes ---------------------------------------------------------------------------

    def _app_path(self, key: Key) -> str:
        return f"/apis/{GROUP}/{VERSION}/namespaces/{key[0]}/sparkapplications/{key[1]}"

    async def _transition(
        self, ctx: _Ctx, status: AppStatus, *, requeue: float | None = None
    ) -> float | None:
        """Write ``status`` if it differs from the stored one; 409 means read again and redo."""
        if status == ctx.status:
            return requeue
        body = {**ctx.obj, "status": status.to_raw()}
        try:
            written = await self.client.send(
                KubeRequest("PUT", self._app_path(ctx.key) + "/status", (), JSON, body)
            )
        except NotFound:
            self.apps.remove(ctx.obj)
            return None
        except Conflict:
            await self._refresh(ctx.key)
            return 0.0
        # Any status write counts for the executor-only write interval: executor changes right
        # after a transition wait for the next one (or the interval), not a write of their own.
        self._executor_writes[ctx.key] = self.clock.monotonic()
        if isinstance(written, dict):
            self._remember(written)
        return requeue

    async def _refresh(self, key: Key) -> None:
        try:
            fresh = await self.client.send(KubeRequest("GET", self._app_path(key)))
        except NotFound:
            return
        if isinstance(fresh, dict):
            self.apps.put(fresh)

    # ---- events ----------------------------------------------------------------------------------

    def _state_event(self, ctx: _Ctx, status: AppStatus) -> None:
        """``recordSparkApplicationEvent`` for the state ``status`` is entering."""
        name = ctx.key[1]
        # No COMPLETED: kubeflow's success path (SUCCEEDING to COMPLETED) records no Event.
        reasons = {
            AppState.FAILED: (
                "Warning",
                "SparkApplicationFailed",
                f"SparkApplication {name} failed: {status.error_message}",
            ),
            AppState.PENDING_RERUN: (
                "Warning",
                "SparkApplicationPendingRerun",
                f"SparkApplication {name} is pending rerun",
            ),
            AppState.SUSPENDING: (
                "Warning",
                "SparkApplicationSuspending",
                f"SparkApplication {name} is suspending",
            ),
            AppState.SUSPENDED: (
                "Warning",
                "SparkApplicationSuspended",
                f"SparkApplication {name} is suspended",
            ),
            AppState.RESUMING: (
                "Warning",
                "SparkApplicationResuming",
                f"SparkApplication {name} is resuming",
            ),
        }
        found = reasons.get(status.state)
        if found is not None:
            self.recorder.record(ctx.obj, *found)

    def _driver_event(self, ctx: _Ctx, state: DriverState, pod: str) -> None:
        """``recordDriverEvent``."""
        kind, reason, verb = {
            DriverState.PENDING: ("Normal", "SparkDriverPending", "is pending"),
            DriverState.RUNNING: ("Normal", "SparkDriverRunning", "is running"),
            DriverState.COMPLETED: ("Normal", "SparkDriverCompleted", "completed"),
            DriverState.FAILED: ("Warning", "SparkDriverFailed", "failed"),
            DriverState.UNKNOWN: ("Warning", "SparkDriverUnknown", "in unknown state"),
        }[state]
        self.recorder.record(ctx.obj, kind, reason, f"Driver {pod} {verb}")


def _content_digest(document: Mapping[str, Any]) -> str:
    """A digest of an application without status: its metadata (less what every write
    changes, resourceVersion and managedFields) and its spec."""
    meta = document.get("metadata") or {}
    content = {
        **document,
        "metadata": {
            k: v for k, v in meta.items() if k not in ("resourceVersion", "managedFields")
        },
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _same_version(a: Obj, b: Obj) -> bool:
    ma, mb = a.get("metadata") or {}, b.get("metadata") or {}
    return bool(ma.get("resourceVersion")) and (ma.get("uid"), ma.get("resourceVersion")) == (
        mb.get("uid"),
        mb.get("resourceVersion"),
    )


def _seconds(now: datetime, then: datetime | None) -> float:
    return (now - then).total_seconds() if then is not None else float("inf")


def _exit_of(pod: Obj) -> str:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        terminated = (status.get("state") or {}).get("terminated")
        if terminated:
            return f"ExitCode: {terminated.get('exitCode')}, Reason: {terminated.get('reason', '')}"
    return "ExitCode: -1, Reason: Unknown (Container not Found)"


def _explained(obj: Obj) -> ApplicationError | InputError:
    """The spark model's own message for an invalid object (field path, problem, fix)."""
    document = {k: v for k, v in obj.items() if k != "status"}
    meta = document.get("metadata") or {}
    document["metadata"] = {
        k: meta[k] for k in ("name", "namespace", "labels", "annotations", "uid") if k in meta
    }
    try:
        load_application(json.dumps(document, indent=1, default=str))
    except (ApplicationError, InputError) as err:
        return err
    return InputError("the SparkApplication does not validate", where="spec")


def _render(problem: ApplicationError | InputError) -> str:
    if isinstance(problem, ApplicationError):
        parts = [f"{_path(p.where)}: {p.message} (fix: {p.fix})" for p in problem.problems]
        return "; ".join(parts)
    where = _path(problem.where or "")
    head = f"{where}: {problem.message}" if where else problem.message
    return f"{head} (fix: {problem.fix})" if problem.fix else head


def _path(where: str) -> str:
    """``<text>:12 spec.executor.instances`` -> ``spec.executor.instances``."""
    head, _, rest = where.partition(" ")
    return rest if head.startswith("<text>") and rest else where


def _require_modelled(app: SparkApplication) -> None:
    """A Spark release kubespark does not model fails the application (no pod) unless the
    annotation says to try anyway."""
    if app.metadata.annotations.get(ALLOW_ANNOTATION, "") == "true":
        return
    require_modelled_spark(
        spark_version_of(app.spec),
        where="spec.sparkVersion",
        override=f'annotate the application {ALLOW_ANNOTATION}: "true"',
    )
