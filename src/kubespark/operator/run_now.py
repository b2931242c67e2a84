"""One run of a ScheduledSparkApplication now, outside its schedule (``kubespark run-now``).

Owns what ``kubectl create job --from=cronjob/NAME`` is for CronJobs: a SparkApplication made
exactly as the scheduled controller makes a run (:func:`~kubespark.operator.scheduled.run_body`:
the template, the ``sparkoperator.k8s.io/scheduled-app-name`` label, owned by the schedule, named
``<name>-<unix seconds>`` by :func:`~kubespark.operator.schedule.run_name`), so the operator
counts it in the history and the concurrency policy like any run. The policy is honoured here
too: Forbid refuses while the last run is unfinished, Replace deletes that run first. Marked
with the annotation ``kubespark.io/instantiate: manual`` (as Kubernetes marks a Job made from a
CronJob by hand) and reported in an Event on the schedule. It does not touch the schedule's
status: that is the operator's to write.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from kubespark.errors import InputError
from kubespark.kube.client import KubeClient
from kubespark.kube.errors import APIError, Conflict, NotFound
from kubespark.kube.requests import JSON, KubeRequest
from kubespark.operator.crds import GROUP, VERSION
from kubespark.operator.events import event_body
from kubespark.operator.schedule import ConcurrencyDecision, concurrency_decision, run_name
from kubespark.operator.scheduled import LABEL_SCHEDULED, run_body, runs_of, runs_path

__all__ = ["ANNOTATION_INSTANTIATE", "ManualRun", "run_now"]

ANNOTATION_INSTANTIATE = "kubespark.io/instantiate"
COMPONENT = "kubespark-cli"
NAME_ATTEMPTS = 5


@dataclass(frozen=True)
class ManualRun:
    """What ``run-now`` did: the run it created, or the unfinished run Forbid waits for."""

    scheduled: str
    namespace: str
    run: str = ""  # the SparkApplication created ("" when the policy forbade it)
    replaced: str = ""  # the unfinished run Replace deleted first
    blocked_by: str = ""  # the unfinished run Forbid keeps going
    policy: str = "Allow"

    @property
    def started(self) -> bool:
        return bool(self.run)


async def run_now(
    client: KubeClient, namespace: str, name: str, *, now: datetime | None = None
) -> ManualRun:
    """Create one run of the ScheduledSparkApplication ``name`` now, under its concurrency
    policy. An InputError when there is no such schedule."""
    scheduled = await _scheduled(client, namespace, name)
    spec = scheduled.get("spec") or {}
    policy = str(spec.get("concurrencyPolicy") or "Allow")
    selector = f"{LABEL_SCHEDULED}={name}"
    listed = await client.send(
        KubeRequest("GET", runs_path(namespace), (("labelSelector", selector),))
    )
    items = listed.get("items") if isinstance(listed, dict) else None
    runs = runs_of(scheduled, [i for i in items or [] if isinstance(i, dict)])
    decision = concurrency_decision(policy, runs)
    result = ManualRun(name, namespace, policy=policy)
    if decision is ConcurrencyDecision.SKIP:
        last = max(runs, key=lambda r: (r.created, r.name))
        return ManualRun(name, namespace, blocked_by=last.name, policy=policy)
    if decision is ConcurrencyDecision.REPLACE:
        last = max(runs, key=lambda r: (r.created, r.name))
        await _delete(client, namespace, last.name)
        result = ManualRun(name, namespace, replaced=last.name, policy=policy)
    taken = {r.name for r in runs}  # a replaced run's name is not reused for its replacement
    run = await _create(client, scheduled, now or datetime.now(UTC), taken)
    await _record(client, scheduled, run, result.replaced)
    return ManualRun(name, namespace, run=run, replaced=result.replaced, policy=policy)


async def _create(
    client: KubeClient, scheduled: dict[str, Any], now: datetime, taken: set[str]
) -> str:
    """POST the run named for ``now``; a name taken (a run started within the same second)
    moves to the next second, as a later activation would be named."""
    meta = scheduled.get("metadata") or {}
    namespace, name = str(meta.get("namespace")), str(meta.get("name"))
    for ahead in range(NAME_ATTEMPTS):
        run = run_name(name, now + timedelta(seconds=ahead))
        if run in taken:
            continue
        body = run_body(scheduled, run, {ANNOTATION_INSTANTIATE: "manual"})
        try:
            await client.send(KubeRequest("POST", runs_path(namespace), (), JSON, body))
        except Conflict as err:
            if not err.already_exists:
                raise
            continue
        return run
    raise InputError(
        f"the next {NAME_ATTEMPTS} run names of {name!r} are taken in namespace {namespace!r}",
        where=name,
        fix="wait a few seconds and run-now again",
    )


async def _scheduled(client: KubeClient, namespace: str, name: str) -> dict[str, Any]:
    path = (
        f"/apis/{GROUP}/{VERSION}/namespaces/{quote(namespace, safe='')}/"
        f"scheduledsparkapplications/{quote(name, safe='')}"
    )
    try:
        obj = await client.send(KubeRequest("GET", path))
    except NotFound:
        obj = None
    if not isinstance(obj, dict):
        raise InputError(
            f"no ScheduledSparkApplication {name!r} in namespace {namespace!r} on {client.server}",
            where=name,
            fix="run-now starts a run of a ScheduledSparkApplication; `kubespark list -A` "
            "shows them (kind scheduledsparkapp)",
        )
    return obj


async def _delete(client: KubeClient, namespace: str, run: str) -> None:
    body = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
    with contextlib.suppress(NotFound):  # ended and removed meanwhile: what Replace wanted
        await client.send(
            KubeRequest("DELETE", f"{runs_path(namespace)}/{quote(run, safe='')}", (), JSON, body)
        )


async def _record(client: KubeClient, scheduled: dict[str, Any], run: str, replaced: str) -> None:
    """An Event on the schedule, as the operator records the runs it starts (best effort)."""
    message = f"started run {run} now (kubespark run-now)"
    if replaced:
        message += f", replacing {replaced} (concurrencyPolicy Replace)"
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    event = event_body(
        scheduled,
        "Normal",
        "ScheduledSparkApplicationRunStarted",
        message,
        now=now,
        component=COMPONENT,
    )
    namespace = quote(str(event["metadata"]["namespace"]), safe="")
    with contextlib.suppress(APIError):  # Events are best effort, as in the operator
        await client.send(
            KubeRequest("POST", f"/api/v1/namespaces/{namespace}/events", (), JSON, event)
        )
