"""The CronJob controller of kube-controller-manager, on the emulator's clock.

Owns turning each CronJob's schedule into Jobs (``batch/v1`` from 1.21, ``batch/v1beta1``
before: whichever the version stores): the most recent unmet schedule time since the last one
(or since creation), ``startingDeadlineSeconds`` (a start too late is a ``MissSchedule``
Warning), ``concurrencyPolicy`` (Allow; Forbid skips while a Job runs; Replace deletes the
running ones), ``suspend``, the Job named ``<cronjob>-<scheduled minute since the epoch>`` with
the template's labels and annotations and the CronJob as controller, ``status.active``,
``lastScheduleTime`` and (where the type has it) ``lastSuccessfulTime``, the history limits
(``successfulJobsHistoryLimit``, ``failedJobsHistoryLimit``: oldest finished Jobs deleted first)
and the Events (``SuccessfulCreate``, ``SawCompletedJob``, ``SuccessfulDelete``, ``MissSchedule``,
``InvalidSchedule``). Schedules are read by croniter as robfig/cron reads them, in UTC or
``spec.timeZone``.

Time is the emulator's: it runs ``speed`` times faster from the moment the controller starts, so
an every-minute schedule at speed 60 fires every second; the times it writes (``lastScheduleTime``)
are those emulated instants. It acts only through the API server's verbs and never runs pods.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterError, croniter

from kubespark.emulator.apiserver.api import ApiServer, DeleteOptions, WriteOptions
from kubespark.emulator.apiserver.objects import Clock, Obj, parse_rfc3339, peek_meta, rfc3339
from kubespark.emulator.apiserver.registry import ServedResource
from kubespark.emulator.apiserver.store import BucketKey
from kubespark.emulator.controllers.loop import ControllerLoop
from kubespark.kube import errors

__all__ = ["CronJobController", "job_name"]

log = logging.getLogger("kubespark.emulator")

_CRONJOBS: BucketKey = ("batch", "cronjobs")
_JOBS: BucketKey = ("batch", "jobs")
_COMPONENT = "cronjob-controller"
_MANAGER = "kube-controller-manager"
_SCHEDULED_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"
_MAX_MISSED = 100  # the controller gives up counting missed starts beyond this many

# (obj, involved kind, reason, message, component, warning)
EventSink = Callable[[Obj, str, str, str, str, bool], None]


def job_name(cronjob: str, scheduled: float) -> str:
    """getJobName: the CronJob's name and the scheduled time in minutes since the epoch."""
    return f"{cronjob}-{int(scheduled // 60)}"


def _finished(job: Obj) -> str | None:
    """ "Complete" or "Failed" once the Job has that condition true, else None."""
    for cond in (job.get("status") or {}).get("conditions") or []:
        if cond.get("type") in ("Complete", "Failed") and cond.get("status") == "True":
            return str(cond["type"])
    return None


class CronJobController(ControllerLoop):
    """Creates the Jobs of every CronJob when its schedule says, as kube-controller-manager."""

    def __init__(self, api: ApiServer, clock: Clock, emit: EventSink) -> None:
        self.api = api
        self.clock = clock
        self.emit = emit
        self._started_at = time.time()

    def now(self) -> float:
        """The emulated instant: real time since start, ``speed`` times faster."""
        return self._started_at + (time.time() - self._started_at) * self.clock.speed

    def start(self) -> None:
        self._started_at = time.time()
        super().start()

    async def _run(self) -> None:
        while True:
            for cronjob in list(self.api.store.items(_CRONJOBS)):
                try:
                    self.sync(cronjob)
                except errors.APIError as err:
                    log.debug("cronjob %s: %s", peek_meta(cronjob).get("name"), err)
                except Exception:  # a controller bug must not stop the loop
                    log.exception("cronjob %s failed", peek_meta(cronjob).get("name"))
            # Schedules have minute resolution: looking every emulated second is plenty.
            await asyncio.sleep(max(self.clock.real(1.0), 0.02))

    # --- one CronJob ----------------------------------------------------------------------------
    def sync(self, cronjob: Obj) -> None:
        res = self.api.registry.storage_version(*_CRONJOBS)
        jobs_res = self.api.registry.storage_version(*_JOBS)
        m = peek_meta(cronjob)
        if res is None or jobs_res is None or m.get("deletionTimestamp"):
            return
        ns, uid = str(m.get("namespace", "")), m.get("uid")
        spec = cronjob.get("spec") or {}
        status = dict(cronjob.get("status") or {})
        owned = {
            peek_meta(j)["name"]: j
            for j in self.api.store.items(_JOBS, ns)
            if any(r.get("uid") == uid for r in peek_meta(j).get("ownerReferences") or [])
        }
        active = self._reconcile_active(cronjob, status, owned)
        self._clean_history(cronjob, owned, jobs_res)
        if not spec.get("suspend"):
            created = self._maybe_start(cronjob, spec, status, active, jobs_res)
            if created is not None:
                active.append(created)
        status["active"] = [self._reference(j) for j in active]
        if not status["active"]:
            status.pop("active")
        if (cronjob.get("status") or {}) != status:
            self.api.write_status(res, {**cronjob, "status": status})

    def _reconcile_active(
        self, cronjob: Obj, status: dict[str, Any], owned: dict[str, Obj]
    ) -> list[Obj]:
        """Jobs still running stay in ``active``; finished ones leave it (and are seen once)."""
        listed = {str(ref.get("name")) for ref in status.get("active") or []}
        active = []
        for name, job in sorted(owned.items()):
            outcome = _finished(job)
            if outcome is None:
                if not peek_meta(job).get("deletionTimestamp"):
                    active.append(job)
                continue
            if name in listed:
                message = f"Saw completed job: {name}, status: {outcome}"
                self.emit(cronjob, "CronJob", "SawCompletedJob", message, _COMPONENT, False)
            if outcome == "Complete" and self._has_last_successful():
                done = (job.get("status") or {}).get("completionTime")
                last = status.get("lastSuccessfulTime")
                if done and (last is None or parse_rfc3339(done) > parse_rfc3339(last)):
                    status["lastSuccessfulTime"] = done
        return active

    def _has_last_successful(self) -> bool:
        res = self.api.registry.storage_version(*_CRONJOBS)
        if res is None:
            return False
        return self.api.kind_ctx.has_field(
            f"io.k8s.api.batch.{res.version}.CronJobStatus", "lastSuccessfulTime"
        )

    def _maybe_start(
        self,
        cronjob: Obj,
        spec: dict[str, Any],
        status: dict[str, Any],
        active: list[Obj],
        jobs_res: ServedResource,
    ) -> Obj | None:
        m = peek_meta(cronjob)
        try:
            schedule = _next_times(spec, status, m, self.now())
        except ValueError as err:
            message = f"invalid schedule: {spec.get('schedule', '')} : {err}"
            self.emit(cronjob, "CronJob", "InvalidSchedule", message, _COMPONENT, True)
            return None
        if schedule is None:
            return None
        deadline = spec.get("startingDeadlineSeconds")
        if deadline is not None and schedule < self.now() - float(deadline):
            message = f"Missed scheduled time to start a job: {rfc3339(schedule)}"
            self.emit(cronjob, "CronJob", "MissSchedule", message, _COMPONENT, True)
            status["lastScheduleTime"] = rfc3339(schedule)
            return None
        policy = spec.get("concurrencyPolicy", "Allow")
        if policy == "Forbid" and active:
            return None  # the same schedule time is tried again until the Job ends
        if policy == "Replace":
            for running in list(active):
                self._delete_job(cronjob, running, jobs_res)
                active.remove(running)
        created = self._create_job(cronjob, spec, schedule, jobs_res)
        status["lastScheduleTime"] = rfc3339(schedule)
        return created

    def _create_job(
        self, cronjob: Obj, spec: dict[str, Any], scheduled: float, jobs_res: ServedResource
    ) -> Obj | None:
        m = peek_meta(cronjob)
        template = spec.get("jobTemplate") or {}
        tmeta = template.get("metadata") or {}
        name = job_name(m["name"], scheduled)
        annotations = dict(tmeta.get("annotations") or {})
        if self.api.kind_ctx.has_field("io.k8s.api.batch.v1.JobSpec", "podReplacementPolicy"):
            # 1.28 added the scheduled-timestamp annotation (with JobPodReplacementPolicy's era)
            annotations[_SCHEDULED_ANNOTATION] = rfc3339(scheduled)
        body: Obj = {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {
                "name": name,
                "namespace": m["namespace"],
                "labels": dict(tmeta.get("labels") or {}),
                "annotations": annotations,
                "ownerReferences": [
                    {
                        "apiVersion": str(cronjob.get("apiVersion", "batch/v1")),
                        "kind": "CronJob",
                        "name": m["name"],
                        "uid": m["uid"],
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
            },
            "spec": dict(template.get("spec") or {}),
        }
        for key in ("labels", "annotations"):
            if not body["metadata"][key]:
                body["metadata"].pop(key)
        try:
            created = self.api.create(
                jobs_res, m["namespace"], body, WriteOptions(field_manager=_MANAGER)
            ).obj
        except errors.Conflict:
            return self.api.store.get(_JOBS, m["namespace"], name)  # made on an earlier pass
        self.emit(cronjob, "CronJob", "SuccessfulCreate", f"Created job {name}", _COMPONENT, False)
        return created

    def _delete_job(self, cronjob: Obj, job: Obj, jobs_res: ServedResource) -> None:
        jm = peek_meta(job)
        with contextlib.suppress(errors.NotFound):
            self.api.delete(
                jobs_res, jm["namespace"], jm["name"], DeleteOptions(propagation="Background")
            )
            message = f"Deleted job {jm['name']}"
            self.emit(cronjob, "CronJob", "SuccessfulDelete", message, _COMPONENT, False)

    def _clean_history(self, cronjob: Obj, owned: dict[str, Obj], jobs_res: ServedResource) -> None:
        spec = cronjob.get("spec") or {}
        limits = {
            "Complete": spec.get("successfulJobsHistoryLimit"),
            "Failed": spec.get("failedJobsHistoryLimit"),
        }
        for outcome, limit in limits.items():
            if limit is None:
                continue
            done = [
                j
                for j in owned.values()
                if _finished(j) == outcome and not peek_meta(j).get("deletionTimestamp")
            ]
            done.sort(key=lambda j: (j.get("status") or {}).get("startTime") or "")
            for job in done[: max(0, len(done) - int(limit))]:
                self._delete_job(cronjob, job, jobs_res)
                owned.pop(peek_meta(job)["name"], None)

    @staticmethod
    def _reference(job: Obj) -> dict[str, Any]:
        jm = peek_meta(job)
        return {
            "kind": "Job",
            "namespace": jm.get("namespace"),
            "name": jm.get("name"),
            "uid": jm.get("uid"),
            "apiVersion": "batch/v1",
            "resourceVersion": jm.get("resourceVersion"),
        }


def _next_times(
    spec: dict[str, Any], status: dict[str, Any], meta: dict[str, Any], now: float
) -> float | None:
    """getMostRecentScheduleTime: the latest schedule time in (last, now], or None."""
    expression = str(spec.get("schedule", ""))
    zone_name = spec.get("timeZone")
    try:
        zone = ZoneInfo(str(zone_name)) if zone_name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {zone_name}") from None
    last = status.get("lastScheduleTime") or meta.get("creationTimestamp")
    start = parse_rfc3339(last) if last else now
    try:
        times = croniter(expression, datetime.fromtimestamp(start, tz=zone))
    except (CroniterError, ValueError) as err:
        raise ValueError(str(err)) from None
    found: float | None = None
    for _ in range(_MAX_MISSED):
        candidate = times.get_next(float)
        if candidate > now:
            break
        found = candidate
    return found
