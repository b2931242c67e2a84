"""The ScheduledSparkApplication controller: a SparkApplication per cron activation.

Owns reconciling one scheduled application as kubeflow v2's
``internal/controller/scheduledsparkapplication`` does: validate the schedule and zone
(``scheduleState: FailedValidation`` with the reason), compute ``nextRun``, start a run when it
is due under the concurrency policy (Allow, Forbid, Replace), keep the successful and failed run
history within its limits, honour ``suspend``.

Beyond kubeflow: a run is named from its scheduled time, not the wall clock, so an operator that
restarts between creating a run and recording it finds that run (409 -> adopt) instead of
starting a second one; a schedule fixed after a FailedValidation is picked up again; the
template is validated by the spark model so a bad one is reported here, not once per run. A run
this controller created counts for the concurrency policy before the watch delivers it (an
expectation, as controller-runtime's controllers keep): with the watch lagging behind the next
activation, Forbid would otherwise start a second run beside the first.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from kubespark.errors import InputError
from kubespark.kube.client import KubeClient
from kubespark.kube.errors import Conflict, NotFound
from kubespark.kube.requests import JSON, KubeRequest
from kubespark.operator.caches import Key, ObjectCache, key_of
from kubespark.operator.clock import OperatorClock
from kubespark.operator.crds import GROUP, VERSION
from kubespark.operator.events import EventRecorder
from kubespark.operator.kindcontroller import KindController
from kubespark.operator.schedule import (
    ConcurrencyDecision,
    PastRun,
    ScheduleError,
    ScheduleState,
    concurrency_decision,
    keep_history,
    parse_schedule,
    run_name,
)
from kubespark.operator.status import format_time, omit_empty, parse_time
from kubespark.spark import ApplicationError, load_scheduled_application

__all__ = [
    "LABEL_SCHEDULED",
    "ScheduledController",
    "ScheduledStatus",
    "run_body",
    "runs_of",
    "runs_path",
]

log = logging.getLogger("kubespark.operator")
Obj = dict[str, Any]
LABEL_SCHEDULED = "sparkoperator.k8s.io/scheduled-app-name"
# A created run the watch never delivered (deleted at once) counts this long at most.
EXPECTATION_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class ScheduledStatus:
    """``ScheduledSparkApplicationStatus``."""

    schedule_state: ScheduleState = ScheduleState.NEW
    reason: str = ""
    last_run: datetime | None = None
    next_run: datetime | None = None
    last_run_name: str = ""
    past_successful: tuple[str, ...] = ()
    past_failed: tuple[str, ...] = ()

    @classmethod
    def from_raw(cls, raw: object) -> ScheduledStatus:
        if not isinstance(raw, Mapping):
            return cls()
        try:
            state = ScheduleState(str(raw.get("scheduleState") or ""))
        except ValueError:
            state = ScheduleState.NEW
        return cls(
            schedule_state=state,
            reason=str(raw.get("reason") or ""),
            last_run=parse_time(raw.get("lastRun")),
            next_run=parse_time(raw.get("nextRun")),
            last_run_name=str(raw.get("lastRunName") or ""),
            past_successful=tuple(str(n) for n in raw.get("pastSuccessfulRunNames") or ()),
            past_failed=tuple(str(n) for n in raw.get("pastFailedRunNames") or ()),
        )

    def to_raw(self) -> dict[str, Any]:
        return omit_empty(
            {
                "scheduleState": self.schedule_state.value,
                "lastRun": format_time(self.last_run),
                "nextRun": format_time(self.next_run),
            },
            [
                ("reason", self.reason),
                ("lastRunName", self.last_run_name),
                ("pastSuccessfulRunNames", list(self.past_successful)),
                ("pastFailedRunNames", list(self.past_failed)),
            ],
        )


class ScheduledController(KindController):
    """Reconciles ScheduledSparkApplications; reads runs from the applications' cache."""

    def __init__(
        self,
        client: KubeClient,
        recorder: EventRecorder,
        runs: ObjectCache,
        *,
        clock: OperatorClock | None = None,
    ) -> None:
        super().__init__(client, recorder, "scheduledsparkapplication", clock)
        self.runs = runs
        # Runs created but not yet seen in the runs cache, by scheduled application, with the
        # clock's reading at creation (an expectation lapses after EXPECTATION_SECONDS).
        self._expected: dict[Key, dict[str, tuple[PastRun, float]]] = {}

    # ---- event intake ----------------------------------------------------------------------------

    def _forget(self, key: Key) -> None:
        self._expected.pop(key, None)

    def on_run_event(self, obj: Mapping[str, Any]) -> None:
        """A run changed (or appeared): its history may need updating."""
        meta = obj.get("metadata") or {}
        owner = (meta.get("labels") or {}).get(LABEL_SCHEDULED)
        if owner:
            self.queue.add((str(meta.get("namespace") or ""), str(owner)))

    # ---- reconcile -------------------------------------------------------------------------------

    async def reconcile(self, key: Key) -> float | None:
        obj = self._live(key)
        if obj is None:
            return None
        raw_spec = obj.get("spec")
        spec: Mapping[str, Any] = raw_spec if isinstance(raw_spec, Mapping) else {}
        status = ScheduledStatus.from_raw(obj.get("status"))
        if spec.get("suspend"):
            return None
        try:
            _validate(obj)
            schedule = parse_schedule(
                str(spec.get("schedule") or ""), str(spec.get("timeZone") or "Local")
            )
        except (ScheduleError, InputError) as err:
            return await self._invalid(obj, status, err)
        now = self.clock.now()
        if status.schedule_state is not ScheduleState.SCHEDULED or status.next_run is None:
            first = schedule.next_after(now)
            if status.next_run is not None and status.schedule_state is ScheduleState.SCHEDULED:
                first = min(first, status.next_run)
            scheduled = replace(
                status, schedule_state=ScheduleState.SCHEDULED, reason="", next_run=first
            )
            await self._write(obj, status, scheduled)
            return _until(first, now)
        runs = self._runs(obj)
        status = await self._bookkeep(obj, status, runs)
        if status.next_run is not None and status.next_run > now:
            await self._write(obj, ScheduledStatus.from_raw(obj.get("status")), status)
            return _until(status.next_run, now)
        return await self._run_due(obj, status, runs, schedule.next_after(now), now)

    async def _run_due(
        self,
        obj: Obj,
        status: ScheduledStatus,
        runs: list[PastRun],
        following: datetime,
        now: datetime,
    ) -> float | None:
        spec = obj["spec"]
        assert status.next_run is not None
        name = run_name(key_of(obj)[1], status.next_run)
        exists = any(r.name == name for r in runs)
        decision = (
            ConcurrencyDecision.START
            if exists
            else concurrency_decision(str(spec.get("concurrencyPolicy") or "Allow"), runs)
        )
        before = ScheduledStatus.from_raw(obj.get("status"))
        if decision is ConcurrencyDecision.SKIP:
            self.recorder.normal(
                obj,
                "ScheduledSparkApplicationSkipped",
                f"run due at {format_time(status.next_run)} skipped: the last run is still "
                "going (concurrencyPolicy Forbid)",
            )
            await self._write(obj, before, replace(status, next_run=following))
            return _until(following, now)
        if decision is ConcurrencyDecision.REPLACE:
            last = max(runs, key=lambda r: (r.created, r.name))
            await self._delete_run(key_of(obj)[0], last.name)
            self._expected.get(key_of(obj), {}).pop(last.name, None)
        created = await self._create_run(obj, name)
        if created is None:
            await self._write(obj, before, replace(status, next_run=following))
            return _until(following, now)
        expected = PastRun(name, "", _created(created))
        self._expected.setdefault(key_of(obj), {})[name] = (expected, self.clock.monotonic())
        started = replace(status, last_run=now, last_run_name=name, next_run=following)
        await self._write(obj, before, started)
        return _until(following, now)

    # ---- runs ------------------------------------------------------------------------------------

    def _runs(self, obj: Obj) -> list[PastRun]:
        ns, name = key_of(obj)
        cached = [run for key in self.runs if key[0] == ns and (run := self.runs.get(key))]
        out = runs_of(obj, cached)
        expected = self._expected.get((ns, name), {})
        for seen in out:
            expected.pop(seen.name, None)
        lapsed = self.clock.monotonic() - EXPECTATION_SECONDS
        for pending, (_, since) in list(expected.items()):
            if since < lapsed:
                del expected[pending]
        return [*out, *(run for run, _ in expected.values())]

    async def _bookkeep(
        self, obj: Obj, status: ScheduledStatus, runs: list[PastRun]
    ) -> ScheduledStatus:
        """``checkAndUpdatePastRuns``: keep the newest runs per outcome, delete the rest."""
        spec = obj["spec"]
        kept: dict[str, tuple[str, ...]] = {}
        for outcome, limit_key in (
            ("COMPLETED", "successfulRunHistoryLimit"),
            ("FAILED", "failedRunHistoryLimit"),
        ):
            limit = spec.get(limit_key)
            limit = limit if isinstance(limit, int) and not isinstance(limit, bool) else 1
            keep, drop = keep_history([r for r in runs if r.state == outcome], limit)
            for run in drop:
                await self._delete_run(key_of(obj)[0], run.name)
            kept[outcome] = tuple(r.name for r in keep)
        return replace(status, past_successful=kept["COMPLETED"], past_failed=kept["FAILED"])

    def _runs_path(self, namespace: str) -> str:
        return runs_path(namespace)

    async def _create_run(self, obj: Obj, name: str) -> Obj | None:
        """POST the run; a 409 for a run this application owns is that run (adopted)."""
        ns = str(obj["metadata"].get("namespace"))
        meta = obj["metadata"]
        body = run_body(obj, name)
        try:
            created = await self.client.send(
                KubeRequest("POST", self._runs_path(ns), (), JSON, body)
            )
        except Conflict as err:
            if not err.already_exists:
                raise
            live = await self.client.send(KubeRequest("GET", f"{self._runs_path(ns)}/{name}"))
            owners = {
                r.get("uid") for r in (live.get("metadata") or {}).get("ownerReferences") or []
            }
            if meta.get("uid") in owners:
                return live if isinstance(live, dict) else None
            self.recorder.warning(
                obj,
                "ScheduledSparkApplicationRunConflict",
                f"SparkApplication {name} exists and is not a run of this schedule",
            )
            return None
        self.recorder.normal(obj, "ScheduledSparkApplicationRunStarted", f"started run {name}")
        return created if isinstance(created, dict) else None

    async def _delete_run(self, namespace: str, name: str) -> None:
        body = {
            "kind": "DeleteOptions",
            "apiVersion": "v1",
            "gracePeriodSeconds": 0,
            "propagationPolicy": "Background",
        }
        try:
            await self.client.send(
                KubeRequest("DELETE", f"{self._runs_path(namespace)}/{name}", (), JSON, body)
            )
        except NotFound:
            return

    # ---- status ----------------------------------------------------------------------------------

    async def _invalid(self, obj: Obj, status: ScheduledStatus, err: InputError) -> float | None:
        reason = err.message if not err.where else f"{err.where}: {err.message}"
        if err.fix:
            reason += f" (fix: {err.fix})"
        failed = replace(status, schedule_state=ScheduleState.FAILED_VALIDATION, reason=reason)
        if failed != status:
            self.recorder.warning(obj, "ScheduledSparkApplicationFailedValidation", reason)
        await self._write(obj, status, failed)
        return None

    async def _write(self, obj: Obj, before: ScheduledStatus, after: ScheduledStatus) -> None:
        if before == after:
            return
        ns, name = key_of(obj)
        path = f"/apis/{GROUP}/{VERSION}/namespaces/{ns}/scheduledsparkapplications/{name}/status"
        await self._put_status(path, {**obj, "status": after.to_raw()})


def runs_of(obj: Mapping[str, Any], candidates: Iterable[Mapping[str, Any]]) -> list[PastRun]:
    """Which of ``candidates`` (SparkApplications) are runs of ``obj``: labelled with its name
    and, when they name owners, owned by it (a namesake's runs are not its)."""
    meta = obj.get("metadata") or {}
    name, uid = meta.get("name"), meta.get("uid")
    out = []
    for run in candidates:
        run_meta = run.get("metadata") or {}
        if (run_meta.get("labels") or {}).get(LABEL_SCHEDULED) != name:
            continue
        owners = {r.get("uid") for r in run_meta.get("ownerReferences") or []}
        if uid and owners and uid not in owners:
            continue
        state = ((run.get("status") or {}).get("applicationState") or {}).get("state") or ""
        out.append(PastRun(str(run_meta.get("name")), str(state), _created(run)))
    return out


def runs_path(namespace: str) -> str:
    """Where a scheduled application's runs (SparkApplications) are created."""
    return f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/sparkapplications"


def run_body(
    obj: Mapping[str, Any], name: str, annotations: Mapping[str, str] | None = None
) -> Obj:
    """The SparkApplication run ``name`` of the scheduled application ``obj``: its template,
    its labels plus the scheduled-app-name label, owned by it (so deleting it deletes its runs)."""
    meta = obj.get("metadata") or {}
    labels = {**(meta.get("labels") or {}), LABEL_SCHEDULED: str(meta.get("name"))}
    run_meta: Obj = {
        "name": name,
        "namespace": str(meta.get("namespace")),
        "labels": labels,
        "ownerReferences": [
            {
                "apiVersion": f"{GROUP}/{VERSION}",
                "kind": "ScheduledSparkApplication",
                "name": meta.get("name"),
                "uid": meta.get("uid"),
                "blockOwnerDeletion": True,
            }
        ],
    }
    if annotations:
        run_meta["annotations"] = dict(annotations)
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "SparkApplication",
        "metadata": run_meta,
        "spec": (obj.get("spec") or {}).get("template") or {},
    }


def _validate(obj: Obj) -> None:
    """The spark model's checks of the whole object, template included; ApplicationError if bad."""
    document = {k: v for k, v in obj.items() if k != "status"}
    meta = document.get("metadata") or {}
    keep = ("name", "namespace", "labels", "annotations", "uid")
    document["metadata"] = {k: meta[k] for k in keep if k in meta}
    try:
        load_scheduled_application(json.dumps(document, indent=1, default=str))
    except ApplicationError as err:
        first = err.problems[0]
        head, _, rest = first.where.partition(" ")
        where = rest if head.startswith("<text>") and rest else first.where
        raise InputError(first.message, where=where, fix=first.fix) from None


def _until(when: datetime, now: datetime) -> float:
    return max(0.0, (when - now).total_seconds()) + 0.01


def _created(run: Mapping[str, Any]) -> datetime:
    meta = run.get("metadata") or {}
    return parse_time(meta.get("creationTimestamp")) or datetime.min.replace(tzinfo=UTC)
