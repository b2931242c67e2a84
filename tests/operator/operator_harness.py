"""Test harness: an emulated API server, kubespark's CRDs, and the operator running beside it.

The operator runs in a thread with its own event loop (as it runs alone in its process), talking
to the emulator over real HTTP; the test talks to the same emulator with its own client and
watches SparkApplications to record every state each one passes through.

Fake time: ``running_cluster(..., fake_time=True)`` runs the operator on a
:class:`~kubespark.operator.clock.ManualClock`. The test moves it explicitly
(``cluster.advance``), or lets it run ``TICK`` seconds per ``TICK_EVERY`` of real time while it
waits (``cluster.time_flows()``), so an ``@every 2s`` schedule, a TTL or a retry interval
costs a fraction of its real duration. Only the operator's time is fake: it still talks to the
real emulator over real HTTP, and the emulator's pods run on the emulator's own clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import threading
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from kubespark.apisurface import newest_version
from kubespark.kube.client import KubeClient, RetryPolicy
from kubespark.kube.errors import NotFound
from kubespark.kube.requests import JSON, KubeRequest
from kubespark.operator.clock import ManualClock, OperatorClock
from kubespark.operator.install import install_crds
from kubespark.operator.options import OperatorOptions
from kubespark.operator.runtime import run_operator
from kubespark.serving import close_loop
from kubespark.submit import server_capabilities

VERSIONS = ("1.16", "1.19", "1.21", str(newest_version()))
# The versions an end-to-end test (emulator, operator, real HTTP) runs against: the fast tier takes
# the ends of the supported range, the oldest server and the newest; the versions between (each
# seconds of CPU per test) carry the slow marker, so CI's --all runs every one.
CLUSTER_VERSIONS = tuple(
    v if v in (VERSIONS[0], VERSIONS[-1]) else pytest.param(v, marks=pytest.mark.slow)
    for v in VERSIONS
)
GROUP_PATH = "/apis/sparkoperator.k8s.io/v1beta2"
# While time flows, the manual clock moves TICK seconds every TICK_EVERY real seconds: one tick
# is at most the operator's shortest requeue (0.5 s), so its timers keep their order and each
# reconcile has real time to talk to the emulator before the next tick.
TICK = 0.5
TICK_EVERY = 0.05
Obj = dict[str, Any]


def spark_pi(name: str, *, spark: str = "3.5.1", run_seconds: float = 10, **spec: Any) -> Obj:
    """A SparkPi application; the emulated driver runs ``run_seconds`` emulated seconds."""
    base: Obj = {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": "SparkApplication",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "type": "Scala",
            "mode": "cluster",
            "image": f"apache/spark:{spark}",
            "sparkVersion": spark,
            "mainClass": "org.apache.spark.examples.SparkPi",
            "mainApplicationFile": "local:///opt/spark/examples/jars/spark-examples.jar",
            "driver": {"annotations": {"kubespark.io/emulate-run-seconds": str(run_seconds)}},
            "executor": {"instances": 1},
        },
    }
    for key, value in spec.items():
        if isinstance(value, dict) and isinstance(base["spec"].get(key), dict):
            base["spec"][key] = {**base["spec"][key], **value}
        else:
            base["spec"][key] = value
    return base


class OperatorThread:
    """``run_operator`` in a thread of its own, stopped gracefully."""

    def __init__(self, options: OperatorOptions, clock: OperatorClock | None = None) -> None:
        self.options = options
        self.clock = clock
        self.loop = asyncio.new_event_loop()
        self.stop_event: asyncio.Event | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._main, name="kubespark-operator", daemon=True)

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def main() -> None:
            self.stop_event = asyncio.Event()
            await run_operator(self.options, stop=self.stop_event, clock=self.clock)

        try:
            self.loop.run_until_complete(main())
        except BaseException as err:  # surfaced by stop()
            self.error = err
        finally:
            close_loop(self.loop)

    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + 5
        while self.stop_event is None and time.monotonic() < deadline and self.thread.is_alive():
            time.sleep(0.01)
        if self.stop_event is not None and self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the operator did not stop within its timeout"
        if self.error is not None:
            raise self.error


@dataclass
class StateLog:
    """Every state each SparkApplication passed through (a watch; repeats merged)."""

    states: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    objects: dict[str, Obj] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def record(self, obj: Obj) -> None:
        name = obj["metadata"]["name"]
        state = ((obj.get("status") or {}).get("applicationState") or {}).get("state", "")
        history = self.states[name]
        if not history or history[-1] != state:
            history.append(state)
        self.objects[name] = obj
        self.changed.set()


@dataclass
class Cluster:
    """What a test works with: the emulator, a client of it, the operator, the state log."""

    emulator: Any  # kubespark.emulator.testing.RunningEmulator
    client: KubeClient
    log: StateLog
    kubeconfig: Path
    operator: OperatorThread | None = None
    clock: ManualClock | None = None  # the operator's, with fake_time=True

    def manual_clock(self) -> ManualClock:
        assert self.clock is not None, "this cluster runs on real time (fake_time=False)"
        return self.clock

    async def advance(self, seconds: float) -> None:
        """Move the operator's clock ``seconds`` ahead in ticks, letting it act on each."""
        clock = self.manual_clock()
        left = seconds
        while left > 0:
            step = min(TICK, left)
            clock.advance(step)
            left -= step
            await asyncio.sleep(TICK_EVERY)

    async def elapse(self, seconds: float) -> None:
        """Wait (inside ``time_flows``) until the operator's clock has moved ``seconds``."""
        clock = self.manual_clock()
        until = clock.monotonic() + seconds
        while clock.monotonic() < until:  # noqa: ASYNC110 - the ticker moves it, nothing to await
            await asyncio.sleep(TICK_EVERY)

    @asynccontextmanager
    async def time_flows(self) -> AsyncIterator[None]:
        """Inside: the operator's clock runs TICK/TICK_EVERY times faster than real time."""
        clock = self.manual_clock()

        async def tick() -> None:
            while True:
                await asyncio.sleep(TICK_EVERY)
                clock.advance(TICK)

        ticker = asyncio.create_task(tick())
        try:
            yield
        finally:
            ticker.cancel()
            await asyncio.gather(ticker, return_exceptions=True)

    def apps_path(self, namespace: str = "default") -> str:
        return f"{GROUP_PATH}/namespaces/{namespace}/sparkapplications"

    async def create(self, doc: Obj, plural: str = "sparkapplications") -> Obj:
        ns = doc["metadata"].get("namespace", "default")
        path = f"{GROUP_PATH}/namespaces/{ns}/{plural}"
        created: Obj = await self.client.send(KubeRequest("POST", path, (), JSON, doc))
        return created

    async def get(
        self, name: str, plural: str = "sparkapplications", namespace: str = "default"
    ) -> Obj:
        obj: Obj = await self.client.send(
            KubeRequest("GET", f"{GROUP_PATH}/namespaces/{namespace}/{plural}/{name}")
        )
        return obj

    async def update_spec(
        self, name: str, change: Callable[[Obj], None], plural: str = "sparkapplications"
    ) -> Obj:
        for _ in range(20):
            obj = await self.get(name, plural)
            new = copy.deepcopy(obj)
            change(new["spec"])
            try:
                path = f"{GROUP_PATH}/namespaces/default/{plural}/{name}"
                updated: Obj = await self.client.send(KubeRequest("PUT", path, (), JSON, new))
                return updated
            except Exception as err:  # a status write raced us: read again
                if getattr(err, "code", 0) != 409:
                    raise
        raise AssertionError(f"could not update {name}")

    async def wait_for(
        self, name: str, predicate: Callable[[Obj], bool], within: float = 30.0, what: str = ""
    ) -> Obj:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            obj = self.log.objects.get(name)
            if obj is not None and predicate(obj):
                return obj
            self.log.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.log.changed.wait(), timeout=0.5)
        last = self.log.objects.get(name, {}).get("status")
        states = self.log.states[name]
        raise AssertionError(f"{name}: no {what or predicate}; status {last}; states {states}")

    async def wait_state(self, name: str, *states: str, within: float = 30.0) -> Obj:
        return await self.wait_for(
            name, lambda o: state_of(o) in states, within, what=f"state in {states}"
        )

    async def gone(self, name: str, within: float = 30.0) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            try:
                await self.get(name)
            except NotFound:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"{name} still exists after {within}s")

    async def pods(self, selector: str = "", namespace: str = "default") -> list[Obj]:
        query = (("labelSelector", selector),) if selector else ()
        listing = await self.client.send(
            KubeRequest("GET", f"/api/v1/namespaces/{namespace}/pods", query)
        )
        return list(listing.get("items") or [])

    async def events(self, name: str, namespace: str = "default") -> list[Obj]:
        query = (("fieldSelector", f"involvedObject.name={name}"),)
        listing = await self.client.send(
            KubeRequest("GET", f"/api/v1/namespaces/{namespace}/events", query)
        )
        return list(listing.get("items") or [])

    async def wait_event(self, name: str, reason: str, within: float = 15.0) -> Obj:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            for event in await self.events(name):
                if event.get("reason") == reason:
                    return event
            await asyncio.sleep(0.2)
        raise AssertionError(f"no {reason} event about {name}")


def unsubmittable(name: str) -> Obj:
    """An application whose every submission is refused (its driver's service account does not
    exist: the server answers 403), retried once after 1 s, then FAILED."""
    policy = {
        "type": "OnFailure",
        "onSubmissionFailureRetries": 1,
        "onSubmissionFailureRetryInterval": 1,
    }
    app = spark_pi(name, restartPolicy=policy)
    app["spec"]["driver"]["serviceAccount"] = "no-such-account"
    return app


def state_of(obj: Obj) -> str:
    return str(((obj.get("status") or {}).get("applicationState") or {}).get("state", ""))


async def _record(client: KubeClient, log: StateLog, plural: str) -> None:
    """Follow SparkApplications (relisting after a dropped watch) into the state log."""
    path = f"{GROUP_PATH}/{plural}"
    while True:
        try:
            listing = await client.send(KubeRequest("GET", path))
            for item in listing.get("items") or []:
                log.record(item)
            version = listing["metadata"]["resourceVersion"]
            request = KubeRequest("GET", path, (("watch", "true"), ("resourceVersion", version)))
            async for event in client.watch(request):
                if event.type in ("ADDED", "MODIFIED"):
                    log.record(event.object)
        except asyncio.CancelledError:
            raise
        except Exception:
            await asyncio.sleep(0.1)


@asynccontextmanager
async def running_cluster(
    emulator_factory: Callable[..., Any],
    version: str = "1.19",
    *,
    operator: bool = True,
    emulator: dict[str, Any] | None = None,
    fake_time: bool = False,
    **options: Any,
) -> AsyncIterator[Cluster]:
    """An emulator of ``version`` with the CRDs installed and (by default) the operator running.

    ``fake_time``: the operator runs on a manual clock (``cluster.advance``, ``time_flows``).
    """
    running = emulator_factory(version=version, **(emulator or {}))
    kubeconfig = Path(running.kubeconfig_path)
    client = KubeClient.from_kubeconfig(
        str(kubeconfig), retry=RetryPolicy(attempts=8, base_delay=0.05)
    )
    recorder: asyncio.Task[None] | None = None
    cluster = Cluster(running, client, StateLog(), kubeconfig)
    cluster.clock = ManualClock() if fake_time else None
    try:
        await install_crds(client, await server_capabilities(client))
        recorder = asyncio.create_task(_record(client, cluster.log, "sparkapplications"))
        if operator:
            cluster.operator = start_operator(kubeconfig, clock=cluster.clock, **options)
        yield cluster
    finally:
        if cluster.operator is not None:
            cluster.operator.stop()
        if recorder is not None:
            recorder.cancel()
            await asyncio.gather(recorder, return_exceptions=True)
        await client.aclose()


def start_operator(
    kubeconfig: Path, *, clock: OperatorClock | None = None, **options: Any
) -> OperatorThread:
    settings: dict[str, Any] = {
        "kubeconfig": kubeconfig,
        "standalone": True,
        "metrics_port": 0,
        "driver_pod_creation_grace": 5.0,
        "resync_seconds": 5.0,
    }
    settings.update(options)
    thread = OperatorThread(replace(OperatorOptions(), **settings), clock)
    thread.start()
    return thread


@dataclass
class DriverAudit:
    """Every driver pod the emulated server ever stored, seen from inside the server."""

    created: list[tuple[str, str, str]] = field(default_factory=list)  # (app, submission id, uid)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self, running: Any) -> None:
        def listen(event: Any) -> None:
            if event.type != "ADDED" or event.bucket != ("", "pods"):
                return
            labels = event.obj["metadata"].get("labels") or {}
            if labels.get("spark-role") == "driver":
                with self.lock:
                    self.created.append(
                        (
                            str(labels.get("sparkoperator.k8s.io/app-name")),
                            str(labels.get("sparkoperator.k8s.io/submission-id")),
                            str(event.obj["metadata"]["uid"]),
                        )
                    )

        running.run(lambda: running.emulator.api.store.listen(listen))

    def drivers_of(self, app: str) -> list[tuple[str, str]]:
        with self.lock:
            return [(sid, uid) for name, sid, uid in self.created if name == app]
