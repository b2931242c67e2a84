"""The dashboard's picture of the cluster, kept current by watches (no API call per page view).

Owns the informers (:mod:`kubespark.ui.informer`) of SparkApplications,
ScheduledSparkApplications, SparkConnects (``v1alpha1``: a cluster without that CRD shows it as
a problem and serves the rest), Spark pods (``spark-role``: drivers, Connect servers and
executors) and Events, in
every namespace (or in the namespaces given, or, when listing everywhere is forbidden, in the
context's namespace), and what is derived from them as they change: one :class:`AppRow` per
application, each application's state history as the watches saw it, the last Events about each
object, and a change counter that wakes the server-sent event streams. It must not write to the
cluster; the objects it holds are the server's, compacted (no managedFields).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from kubespark.driver.kubeflow import LABEL_APP_NAME
from kubespark.kube.client import KubeClient
from kubespark.kube.errors import APIError, Forbidden
from kubespark.kube.requests import KubeRequest
from kubespark.submit.operator_apps import OperatorApp, ResourceKind, resource_path
from kubespark.submit.submitted_apps import LABEL_SUBMITTED_BY, SUBMITTED_BY_CLI
from kubespark.ui.informer import Change, Informer, Key, compact, stub
from kubespark.ui.rows import SUBMISSION, AppRow, operator_row, submission_row

__all__ = ["AppKey", "ClusterCache", "HistoryEntry", "Signal"]

Obj = dict[str, Any]
AppKey = tuple[str, str, str]  # (kind, namespace, name)
GROUP = "/apis/sparkoperator.k8s.io/v1beta2"
HISTORY = 30  # state changes kept per application
EVENTS_PER_OBJECT = 15


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    time: str
    state: str
    detail: str


@dataclass(frozen=True, slots=True)
class EventLine:
    """An Event, reduced to what the page shows (the full objects would cost the memory)."""

    time: str
    type: str
    reason: str
    message: str
    count: int
    kind: str
    name: str


class Signal:
    """A counter that tasks can wait on to change (every SSE stream waits on one)."""

    def __init__(self) -> None:
        self.version = 0
        self._event = asyncio.Event()

    def bump(self) -> None:
        self.version += 1
        self._event.set()
        self._event = asyncio.Event()

    async def wait_past(self, version: int, seconds: float) -> int:
        """Wait until the counter is beyond ``version`` (at most ``seconds``); the counter."""
        if self.version <= version:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(seconds):
                    await self._event.wait()
        return self.version


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ClusterCache:
    """Watches the cluster for the dashboard. ``await cache.start()``, then read; ``close()``."""

    def __init__(self, client: KubeClient, namespaces: tuple[str, ...] = ()) -> None:
        self.client = client
        self.namespaces = namespaces  # () = every namespace the user may list
        self.notice = ""  # shown on every page: where the cache looks, and why there
        self.rows: dict[AppKey, AppRow] = {}
        self.history: dict[AppKey, deque[HistoryEntry]] = {}
        self.events: dict[tuple[str, str, str], deque[EventLine]] = {}
        self.changed = Signal()
        self.server_version: Mapping[str, Any] = {}
        self._informers: dict[str, list[Informer]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        # (namespace, spark-app-selector) -> the pods of `kubespark submit`'s applications
        self._cli_drivers: dict[tuple[str, str], str] = {}
        self._executors: dict[tuple[str, str], set[str]] = {}

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, patience: float = 30.0) -> None:
        """Start the watches in the namespaces the user may list; return once listed."""
        self.server_version = await self._optional_version()
        scopes = await self._scopes()
        for scope in scopes:
            self._add_informers(scope)
        for informers in self._informers.values():
            for informer in informers:
                self._tasks.append(asyncio.create_task(informer.run()))
        waits = [i.synced.wait() for group in self._informers.values() for i in group]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*waits), patience)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def _optional_version(self) -> Mapping[str, Any]:
        try:
            return await self.client.version()
        except APIError:
            return {}

    async def _scopes(self) -> tuple[str | None, ...]:
        """``(None,)`` to watch every namespace, else the namespaces to watch one by one."""
        if self.namespaces:
            self.notice = "namespaces " + ", ".join(self.namespaces)
            return self.namespaces
        try:  # may this user list Spark pods everywhere? (the widest of the collections)
            await self.client.send(
                KubeRequest(
                    "GET", "/api/v1/pods", (("labelSelector", "spark-role"), ("limit", "1"))
                )
            )
        except Forbidden:
            own = self.client.namespace
            self.notice = (
                f"listing every namespace is forbidden for this user: showing namespace {own} "
                "(kubespark ui -n NS ... names others)"
            )
            return (own,)
        self.notice = "every namespace"
        return (None,)

    def _add_informers(self, namespace: str | None) -> None:
        where = f"/namespaces/{quote(namespace, safe='')}" if namespace else ""
        operator = ResourceKind.APPLICATION.api_version
        specs = [
            ("apps", f"{GROUP}{where}/sparkapplications", "", "SparkApplication", operator),
            (
                "scheduled",
                f"{GROUP}{where}/scheduledsparkapplications",
                "",
                "ScheduledSparkApplication",
                operator,
            ),
            (
                "connects",
                resource_path(ResourceKind.CONNECT, namespace),
                "",
                ResourceKind.CONNECT.value,
                ResourceKind.CONNECT.api_version,
            ),
            ("pods", f"/api/v1{where}/pods", "spark-role", "Pod", "v1"),
            ("events", f"/api/v1{where}/events", "", "Event", "v1"),
        ]
        handlers: dict[str, Change] = {
            "apps": self._on_app,
            "scheduled": self._on_scheduled,
            "connects": self._on_connect,
            "pods": self._on_pod,
            "events": self._on_event,
        }
        for group, path, selector, kind, version in specs:
            informer = Informer(
                self.client,
                path,
                handlers[group],
                selector=selector,
                kind=kind,
                api_version=version,
                keep=stub if kind == "Event" else compact,
            )
            self._informers.setdefault(group, []).append(informer)

    # -- reads --------------------------------------------------------------------------------

    def objects(self, group: str) -> Iterable[Obj]:
        for informer in self._informers.get(group, ()):
            yield from informer.store.values()

    def get(self, group: str, namespace: str, name: str) -> Obj | None:
        for informer in self._informers.get(group, ()):
            found = informer.store.get((namespace, name))
            if found is not None:
                return found
        return None

    def problems(self) -> list[str]:
        """Why a collection is empty or stale (RBAC, a missing CRD), for the pages to show."""
        return sorted(
            {f"{i.kind}: {i.problem}" for g in self._informers.values() for i in g if i.problem}
        )

    def pods_of_app(self, namespace: str, name: str, role: str) -> list[Obj]:
        """The pods of application ``name`` in ``role`` (driver or executor)."""
        return self.pods_labelled(namespace, LABEL_APP_NAME, name, role)

    def pods_labelled(self, namespace: str, label: str, value: str, role: str) -> list[Obj]:
        """The pods in ``namespace`` whose ``label`` is ``value``, in ``role`` (``spark-role``:
        driver, executor, connect-server)."""
        return [
            p
            for p in self.objects("pods")
            if (p.get("metadata") or {}).get("namespace") == namespace
            and _labels(p).get(label) == value
            and _labels(p).get("spark-role") == role
        ]

    def events_about(self, namespace: str, objects: Iterable[tuple[str, str]]) -> list[EventLine]:
        found: list[EventLine] = []
        for kind, name in objects:
            found.extend(self.events.get((namespace, kind, name), ()))
        return sorted(found, key=lambda e: e.time)

    # -- what the watches report ---------------------------------------------------------------

    def _on_app(self, key: Key, before: Obj | None, after: Obj | None) -> None:
        self._on_operator(ResourceKind.APPLICATION, key, after)

    def _on_scheduled(self, key: Key, before: Obj | None, after: Obj | None) -> None:
        self._on_operator(ResourceKind.SCHEDULED, key, after)

    def _on_connect(self, key: Key, before: Obj | None, after: Obj | None) -> None:
        self._on_operator(ResourceKind.CONNECT, key, after)

    def _on_operator(self, kind: ResourceKind, key: Key, obj: Obj | None) -> None:
        app_key = (kind.value, *key)
        if obj is None:
            self.rows.pop(app_key, None)
            self.history.pop(app_key, None)
        else:
            row = operator_row(OperatorApp(kind, key[0], key[1], obj))
            self._record(app_key, row)
        self.changed.bump()

    def _record(self, app_key: AppKey, row: AppRow) -> None:
        self.rows[app_key] = row
        history = self.history.setdefault(app_key, deque(maxlen=HISTORY))
        detail = row.reason
        if not history or (history[-1].state, history[-1].detail) != (row.state, detail):
            history.append(HistoryEntry(_now(), row.state, detail))

    def _on_pod(self, key: Key, before: Obj | None, after: Obj | None) -> None:
        pod = after or before or {}
        labels = _labels(pod)
        namespace = key[0]
        app_id = (namespace, str(labels.get("spark-app-selector") or ""))
        role = labels.get("spark-role")
        if role == "executor":
            members = self._executors.setdefault(app_id, set())
            if after is None:
                members.discard(key[1])
            else:
                members.add(key[1])
            driver = self._cli_drivers.get(app_id)
            if driver is not None:
                self._refresh_submission(namespace, driver)
        elif role == "driver" and labels.get(LABEL_SUBMITTED_BY) == SUBMITTED_BY_CLI:
            if after is None:
                self._cli_drivers.pop(app_id, None)
                self._drop_submission(namespace, key[1])
            else:
                self._cli_drivers[app_id] = key[1]
                self._refresh_submission(namespace, key[1])
        self.changed.bump()

    def _drop_submission(self, namespace: str, pod_name: str) -> None:
        for key in [k for k, r in self.rows.items() if r.driver_pod == pod_name]:
            if key[0] == SUBMISSION and key[1] == namespace:
                self.rows.pop(key, None)
                self.history.pop(key, None)

    def executor_pods(self, namespace: str, app_id: str) -> list[Obj]:
        """The executor pods of the Spark application id ``app_id`` (``spark-app-selector``)."""
        names = sorted(self._executors.get((namespace, app_id), ()))
        return [p for n in names if (p := self.get("pods", namespace, n)) is not None]

    def _refresh_submission(self, namespace: str, pod_name: str) -> None:
        pod = self.get("pods", namespace, pod_name)
        if pod is None:
            return
        app_id = str(_labels(pod).get("spark-app-selector") or "")
        row = submission_row(pod, self.executor_pods(namespace, app_id))
        self._record((SUBMISSION, namespace, row.name), row)

    def _on_event(self, key: Key, before: Obj | None, after: Obj | None) -> None:
        if after is None:
            return  # an Event that expired: what it said stays in the page's history
        involved = after.get("involvedObject") or {}
        target = (key[0], str(involved.get("kind") or ""), str(involved.get("name") or ""))
        line = EventLine(
            time=str(
                after.get("lastTimestamp")
                or after.get("eventTime")
                or (after.get("metadata") or {}).get("creationTimestamp")
                or ""
            ),
            type=str(after.get("type") or ""),
            reason=str(after.get("reason") or ""),
            message=str(after.get("message") or "")[:1000],
            count=int(after.get("count") or 1),
            kind=target[1],
            name=target[2],
        )
        kept = self.events.setdefault(target, deque(maxlen=EVENTS_PER_OBJECT))
        # A repeated Event (count+1) replaces its earlier line rather than adding one.
        same = [e for e in kept if (e.reason, e.message) == (line.reason, line.message)]
        for old in same:
            kept.remove(old)
        kept.append(line)
        self.changed.bump()


def _labels(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return (obj.get("metadata") or {}).get("labels") or {}
