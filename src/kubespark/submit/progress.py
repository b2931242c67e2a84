"""Following a submitted driver to its end, and gathering what a failure shows.

Owns ``follow_driver``: one list and then a watch of the application's pods (the driver and its
executors share the ``spark-app-selector`` label), re-listing when the watch ends or expires,
calling back on every change of what a status line shows, until the driver completes, fails or
disappears, or a deadline passes. And ``failure_evidence``: the driver pod, its events and the
tail of its log as the doctor's inputs. It writes nothing and renders nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from kubespark.kube.client import KubeClient
from kubespark.kube.errors import Gone
from kubespark.kube.requests import KubeRequest
from kubespark.submit import (
    DriverState,
    DriverStatus,
    ExecutorState,
    executor_state,
    status_of_pod,
)
from kubespark.submit.driverstate import DRIVER_CONTAINER

if TYPE_CHECKING:
    from kubespark.doctor.engine import Input

__all__ = ["Progress", "failure_evidence", "follow_driver"]

Obj = dict[str, Any]
WATCH_SECONDS = 60  # each watch asks the server to end it after this; then list again


@dataclass(frozen=True)
class Progress:
    """What a status line shows: the driver, its executors, how long it has been followed."""

    driver: DriverStatus
    executors: Counter[ExecutorState] = field(default_factory=Counter)
    elapsed: float = 0.0
    deleted: bool = False
    timed_out: bool = False

    @property
    def done(self) -> bool:
        return self.deleted or self.timed_out or self.driver.state.terminated

    @property
    def succeeded(self) -> bool:
        return not self.deleted and self.driver.state is DriverState.COMPLETED

    def summary(self) -> str:
        """The line without the clock: it changes only when the application does."""
        state = self.driver.state.value
        if self.deleted:
            state = "DELETED"
        elif self.driver.waiting is not None:
            state += f" ({self.driver.waiting.render()})"
        parts = [f"driver {self.driver.pod_name}: {state}"]
        if self.executors:
            counts = ", ".join(
                f"{n} {s.value.lower()}" for s, n in sorted(self.executors.items()) if n
            )
            parts.append(f"executors: {counts}")
        return " · ".join(parts)


class _View:
    """The application's pods by name, as the last list and the watch since have shown them."""

    def __init__(self, driver_name: str, on_change: Callable[[Progress], None]) -> None:
        self.driver_name = driver_name
        self.on_change = on_change
        self.started = time.monotonic()
        self.pods: dict[str, Obj] = {}
        self.driver_seen = False
        self.last = ""

    def replace(self, items: list[Obj]) -> Progress:
        self.pods = {_name(p): p for p in items}
        return self._changed()

    def event(self, kind: str, pod: Obj) -> Progress:
        if kind == "DELETED":
            self.pods.pop(_name(pod), None)
        else:
            self.pods[_name(pod)] = pod
        return self._changed()

    def _changed(self) -> Progress:
        self.driver_seen = self.driver_seen or self.driver_name in self.pods
        progress = self.progress()
        if progress.summary() != self.last:
            self.last = progress.summary()
            self.on_change(progress)
        return progress

    def progress(self, *, timed_out: bool = False) -> Progress:
        driver = self.pods.get(self.driver_name)
        executors = Counter(
            executor_state(p)
            for p in self.pods.values()
            if ((p.get("metadata") or {}).get("labels") or {}).get("spark-role") == "executor"
        )
        elapsed = time.monotonic() - self.started
        status = (
            status_of_pod(driver)
            if driver is not None
            else DriverStatus(self.driver_name, exists=False)
        )
        deleted = driver is None and self.driver_seen
        return Progress(status, executors, elapsed, deleted=deleted, timed_out=timed_out)


def _name(pod: Obj) -> str:
    return str((pod.get("metadata") or {}).get("name", ""))


async def follow_driver(
    client: KubeClient,
    namespace: str,
    driver_pod: str,
    app_id: str,
    on_change: Callable[[Progress], None],
    *,
    give_up_after: float,
) -> Progress:
    """Follow the application until its driver ends; ``on_change`` sees every new summary.

    Returns the last progress: ``done`` always, ``timed_out`` when ``give_up_after`` seconds passed
    first. A watch that ends (the server's timeout, a restart) continues from the last
    resourceVersion; an expired one (410) lists again.
    """
    view = _View(driver_pod, on_change)
    deadline = view.started + give_up_after
    path = f"/api/v1/namespaces/{quote(namespace, safe='')}/pods"
    selector = ("labelSelector", f"spark-app-selector={app_id}")
    version = ""
    while True:
        if not version:
            listing = await client.send(KubeRequest("GET", path, (selector,)))
            progress = view.replace([p for p in listing.get("items") or [] if isinstance(p, dict)])
            version = str((listing.get("metadata") or {}).get("resourceVersion") or "")
        else:
            progress = view.progress()
        remaining = deadline - time.monotonic()
        if progress.done:
            return progress
        if remaining <= 0:
            return view.progress(timed_out=True)
        request = KubeRequest(
            "GET",
            path,
            (
                selector,
                ("watch", "true"),
                ("resourceVersion", version),
                ("allowWatchBookmarks", "true"),
                ("timeoutSeconds", str(max(1, min(WATCH_SECONDS, int(remaining) + 1)))),
            ),
        )
        try:
            version = await asyncio.wait_for(_watch(client, request, view, version), remaining)
        except TimeoutError:
            return view.progress(timed_out=True)
        except Gone:
            version = ""


async def _watch(client: KubeClient, request: KubeRequest, view: _View, version: str) -> str:
    """Apply watch events until the driver ends or the stream closes; the last resourceVersion."""
    async for event in client.watch(request):
        version = str((event.object.get("metadata") or {}).get("resourceVersion") or version)
        if event.type == "BOOKMARK":
            continue
        if view.event(event.type, event.object).done:
            break
    return version


async def failure_evidence(client: KubeClient, namespace: str, pod_name: str) -> list[Input]:
    """The driver pod, its events (oldest first) and its log's tail, as the doctor reads them."""
    from kubespark.doctor.live import fetch_pod_inputs  # the failure path only: fast start-up

    return await fetch_pod_inputs(client, namespace, pod_name, container=DRIVER_CONTAINER)
