"""One operator process: kopf's watchers and peering, kubespark's controllers, HTTP, shutdown.

Owns wiring everything together for ``kubespark operator``. kopf (pinned) does what it is made
for: the watch streams of SparkApplications, ScheduledSparkApplications and Spark pods (pods
filtered server-side by kubeflow's ``launched-by-spark-operator`` label) with relisting after a
dropped or expired watch, namespace scoping, peering for leader election, and signal handling.
Its handlers are ``on.event`` only: they feed caches and work queues, so kopf writes nothing to
the objects (no finalizers, no progress or diff-base annotations: no extra API writes per
application) and the reconcilers decide everything. The reconcilers run on kubespark's work
queues while :class:`~kubespark.operator.leadership.Leadership` says this replica is active.

Graceful shutdown (SIGTERM/SIGINT, or ``stop``): kopf stops its streams, workers finish the
reconciles they hold (bounded), queued Events are flushed, peering says goodbye.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import kopf

from kubespark.apisurface import ApiSurface
from kubespark.compat import offline_capabilities
from kubespark.kube.client import KubeClient
from kubespark.kube.config import Connection
from kubespark.kube.ratelimit import RequestBudget
from kubespark.operator.application import ApplicationController
from kubespark.operator.caches import key_of
from kubespark.operator.clock import OperatorClock, SystemClock
from kubespark.operator.connect import (
    client_for,
    connection_for,
    kopf_login,
    label_selector_matcher,
)
from kubespark.operator.crds import GROUP, VERSION
from kubespark.operator.events import EventRecorder
from kubespark.operator.http import OperatorHTTP
from kubespark.operator.leadership import Leadership
from kubespark.operator.metrics import OperatorMetrics
from kubespark.operator.options import OperatorOptions
from kubespark.operator.scheduled import ScheduledController
from kubespark.operator.workqueue import run_workers
from kubespark.redaction import RedactingFilter
from kubespark.submit import server_capabilities

__all__ = ["Operator", "run_operator"]

log = logging.getLogger("kubespark.operator")
LAUNCHED_BY = "sparkoperator.k8s.io/launched-by-spark-operator"
DRAIN_SECONDS = 10.0


def configure_logging(options: OperatorOptions) -> None:
    """kopf's log setup (JSON on request) for kopf's and kubespark's loggers alike."""
    kopf.configure(
        verbose=options.log_level.upper() == "DEBUG",
        quiet=options.log_level.upper() in ("WARNING", "ERROR"),
        log_format=kopf.LogFormat.JSON if options.log_json else kopf.LogFormat.FULL,
    )
    logging.getLogger("kubespark").setLevel(options.log_level.upper())
    for handler in logging.getLogger().handlers:  # kopf's, just installed
        handler.addFilter(RedactingFilter())
    if options.log_level.upper() != "DEBUG":
        # One line per watch event or HTTP request drowns what matters (and costs CPU at scale).
        for noisy in ("kopf.objects", "httpx", "httpcore"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


def _identity(options: OperatorOptions) -> str:
    if options.identity:
        return options.identity
    pod = os.environ.get("POD_ID") or os.environ.get("POD_NAME")
    if pod:
        return pod
    return f"kubespark@{socket.gethostname()}/{os.getpid()}/{random.randrange(16**6):06x}"


@dataclass
class Operator:
    """The parts of one running operator (exposed for tests and the benchmark)."""

    options: OperatorOptions
    connection: Connection
    client: KubeClient
    capabilities: ApiSurface
    identity: str
    priority: int
    metrics: OperatorMetrics
    recorder: EventRecorder
    applications: ApplicationController
    scheduled: ScheduledController
    leadership: Leadership
    http: OperatorHTTP | None
    started: float = field(default_factory=time.monotonic)
    namespace_ok: Callable[[str], bool] = lambda _ns: True

    def health(self) -> dict[str, Any]:
        return {
            "identity": self.identity,
            "priority": self.priority,
            "active": self.leadership.active.is_set(),
            "applications": len(self.applications.apps),
            "queued": len(self.applications.queue),
            "events_posted": self.recorder.posted,
            "uptime_seconds": round(time.monotonic() - self.started, 1),
        }


async def _capabilities(client: KubeClient, options: OperatorOptions) -> ApiSurface:
    if options.kubernetes_version:
        return offline_capabilities(options.kubernetes_version)
    return await server_capabilities(client, openapi=options.openapi)


def _registry(op: Operator, selector_labels: dict[str, dict[str, str]]) -> kopf.OperatorRegistry:
    """kopf handlers: each one feeds a cache and a queue, nothing else."""
    registry = kopf.OperatorRegistry()
    options = op.options
    kopf.on.login(registry=registry)(kopf_login(options.kubeconfig, options.context, op.connection))
    apps, scheduled = op.applications, op.scheduled

    # Everything is cached; the controllers queue and reconcile only what their namespace
    # filter admits, so a namespace admitted later (a label added) finds its objects cached.
    @kopf.on.event(GROUP, VERSION, "sparkapplications", registry=registry)
    async def application_event(event: kopf.RawEvent, **_: Any) -> None:
        obj = cast(dict[str, Any], event["object"])
        apps.on_app_event(event["type"], obj)
        if op.namespace_ok(key_of(obj)[0]):
            scheduled.on_run_event(obj)

    @kopf.on.event(GROUP, VERSION, "scheduledsparkapplications", registry=registry)
    async def scheduled_event(event: kopf.RawEvent, **_: Any) -> None:
        scheduled.on_event(event["type"], cast(dict[str, Any], event["object"]))

    @kopf.on.event("", "v1", "pods", labels={LAUNCHED_BY: "true"}, registry=registry)
    async def pod_event(event: kopf.RawEvent, **_: Any) -> None:
        apps.on_pod_event(event["type"], cast(dict[str, Any], event["object"]))

    if options.namespace_selector:
        matches = label_selector_matcher(options.namespace_selector)

        @kopf.on.event("", "v1", "namespaces", registry=registry)
        async def namespace_event(event: kopf.RawEvent, **_: Any) -> None:
            meta = cast(dict[str, Any], event["object"]).get("metadata") or {}
            name = str(meta.get("name") or "")
            if event["type"] == "DELETED":
                selector_labels.pop(name, None)
                return
            was = op.namespace_ok(name)
            selector_labels[name] = dict(meta.get("labels") or {})
            if op.namespace_ok(name) and not was:
                for controller in (apps, scheduled):
                    controller.admit_namespace(name)

        op.namespace_ok = lambda ns: ns in selector_labels and matches(selector_labels[ns])
        apps.admits = scheduled.admits = op.namespace_ok
    return registry


class WatchOnlyDiffBase(kopf.DiffBaseStorage):
    """No diff-base: kubespark registers only ``on.event`` handlers, which never read a diff.

    kopf's default storage still deep-copies every object on every watch event to build one
    (a large share of the operator's CPU with many applications); this one builds
    and stores nothing, which kopf's cause detection handles as "no essence".
    """

    def build(self, *, body: Any, extra_fields: Any = None) -> Any:
        return None

    def fetch(self, *, body: Any) -> Any:
        return None

    def store(self, *, body: Any, patch: Any, essence: Any) -> None:
        return None


def _settings(options: OperatorOptions) -> kopf.OperatorSettings:
    settings = kopf.OperatorSettings()
    settings.peering.lifetime = options.peering_lifetime  # see OperatorOptions
    settings.posting.enabled = False  # Events are kubespark's (EventRecorder), not kopf's logs
    settings.persistence.diffbase_storage = WatchOnlyDiffBase()
    # Server-side filtering: only the pods kubespark launched reach this process.
    settings.watching.label_selectors["", "v1", "pods"] = f"{LAUNCHED_BY}=true"
    settings.watching.reconnect_backoff = 0.5
    settings.networking.error_backoffs = (0.5, 1, 2, 3, 5, 8)
    return settings


async def build_operator(options: OperatorOptions, clock: OperatorClock | None = None) -> Operator:
    """Connect, discover the server once, and assemble the controllers on ``clock``.

    ``clock`` (default: real time) reaches every timer the controllers decide by: requeues,
    back-off, TTLs, grace periods, resyncs, schedules; tests pass a manual one.
    """
    clock = clock or SystemClock()
    connection = connection_for(options.kubeconfig, options.context)
    budget = RequestBudget(options.kube_api_qps, options.kube_api_burst)
    client = client_for(
        connection, options.request_retries, connections=options.workers + 16, budget=budget
    )
    capabilities = await _capabilities(client, options)
    identity = _identity(options)
    priority = options.priority if options.priority is not None else random.randint(1, 2**30)
    metrics = OperatorMetrics(prefix=options.metrics_prefix, labels=options.metrics_labels)
    recorder = EventRecorder(client, instance=identity, clock=clock)
    applications = ApplicationController(
        client, capabilities, options, recorder, metrics, clock=clock
    )
    scheduled = ScheduledController(client, recorder, applications.apps, clock=clock)
    scopes = () if options.clusterwide else options.namespaces
    leadership = Leadership(
        client,
        peering=options.peering,
        identity=identity,
        priority=priority,
        namespaces=scopes,
        standalone=options.standalone,
    )
    op = Operator(
        options,
        connection,
        client,
        capabilities,
        identity,
        priority,
        metrics,
        recorder,
        applications,
        scheduled,
        leadership,
        None,
    )
    if options.metrics_port:
        op.http = OperatorHTTP(
            metrics, op.health, host=options.metrics_host, port=options.metrics_port
        )
    return op


async def _ready_when_serving(op: Operator) -> None:
    """/readyz turns 200 only once the HTTP server answers (not when its task is created)."""
    assert op.http is not None
    while not op.http.serving:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
        await asyncio.sleep(0.05)
    await asyncio.sleep(0)  # let kopf.operator(), started after this task, enter its loop
    op.http.ready = True


async def run_operator(
    options: OperatorOptions,
    *,
    stop: asyncio.Event | None = None,
    clock: OperatorClock | None = None,
) -> None:
    """Run until SIGTERM/SIGINT (or ``stop``), then shut down gracefully."""
    op = await build_operator(options, clock)
    try:
        await _run(op, stop)
    finally:
        await op.client.aclose()


async def _run(op: Operator, stop: asyncio.Event | None) -> None:
    options = op.options
    if op.http is not None:
        op.http.bind()  # a taken port fails the start, before anything runs
    await op.leadership.ensure_objects()
    registry = _registry(op, {})
    kopf_stop: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    background = [
        asyncio.create_task(op.leadership.run(), name="leadership"),
        asyncio.create_task(op.recorder.run(), name="events"),
        _workers(op, op.applications, "sparkapplication", options.workers),
        _workers(op, op.scheduled, "scheduledsparkapplication", options.scheduled_workers),
        asyncio.create_task(_gauges(op), name="gauges"),
    ]
    if op.http is not None:
        background.append(asyncio.create_task(op.http.serve(), name="http"))
        background.append(asyncio.create_task(_ready_when_serving(op), name="readiness"))
    if stop is not None:
        background.append(asyncio.create_task(_relay(stop, kopf_stop), name="stop-relay"))
    log.info(
        "kubespark operator %s (priority %d) on Kubernetes %s, %s",
        op.identity,
        op.priority,
        op.capabilities.server_version or op.capabilities.version,
        "all namespaces" if options.clusterwide else ", ".join(options.namespaces),
    )
    selector_mode = bool(options.namespace_selector)
    # kopf takes every task created after it starts for one of its own: at shutdown it waits 5 s
    # for such "hung" tasks, then cancels them. One turn of the loop lets the background tasks
    # spawn their sub-tasks (the workers) first, so a stop costs no 5 s and the drain below
    # still finds the workers running.
    await asyncio.sleep(0)
    try:
        await kopf.operator(
            registry=registry,
            settings=_settings(options),
            clusterwide=options.clusterwide or selector_mode,
            namespaces=() if options.clusterwide or selector_mode else options.namespaces,
            standalone=options.standalone,
            priority=op.priority,
            peering_name=None if options.standalone else options.peering,
            identity=op.identity,  # type: ignore[arg-type]
            stop_flag=kopf_stop,
            memo=kopf.Memo(),
        )
    finally:
        await _drain(op, background)


async def _relay(stop: asyncio.Event, kopf_stop: asyncio.Future[None]) -> None:
    await stop.wait()
    if not kopf_stop.done():
        kopf_stop.set_result(None)


def _workers(
    op: Operator,
    controller: ApplicationController | ScheduledController,
    kind: str,
    workers: int,
) -> asyncio.Task[None]:
    """The reconcile workers of one controller, counting each result under its kind."""
    reconciles = op.metrics.reconciles
    return asyncio.create_task(
        run_workers(
            controller.queue,
            controller.reconcile,
            workers=workers,
            active=op.leadership.active,
            on_result=lambda result: reconciles.labels(kind, result).inc(),
        ),
        name=f"{kind}-workers",
    )


async def _gauges(op: Operator) -> None:
    exported = RequestBudget()  # what the counters already hold
    while True:
        if op.client.budget is not None:
            op.metrics.observe_requests(op.client.budget, exported)
        if op.leadership.active.is_set():  # a standby's view would double the alerts' counts
            op.metrics.observe_states(op.applications.apps.values(), datetime.now(UTC))
        op.metrics.queue_depth.labels("sparkapplication").set(len(op.applications.queue))
        op.metrics.queue_depth.labels("scheduledsparkapplication").set(len(op.scheduled.queue))
        op.metrics.leader.set(1 if op.leadership.active.is_set() else 0)
        await asyncio.sleep(1.0)


async def _drain(op: Operator, background: list[asyncio.Task[Any]]) -> None:
    """Let in-flight reconciles finish (bounded), flush Events, stop everything else."""
    op.leadership.active.clear()  # workers take no new key
    op.applications.queue.close()
    op.scheduled.queue.close()
    deadline = time.monotonic() + DRAIN_SECONDS
    busy = op.applications.queue, op.scheduled.queue
    while any(q.busy for q in busy) and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)  # two queues to watch, and a deadline: polling is simplest
    with contextlib.suppress(Exception):
        await op.recorder.flush(2.0)
    if op.http is not None:
        await op.http.stop()
    for task in background:
        task.cancel()
    await asyncio.gather(*background, return_exceptions=True)
    log.info("kubespark operator %s stopped", op.identity)
