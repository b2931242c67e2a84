"""The operator's applications as the CLI and the Python API see them: read, suspend, resume.

Owns reading SparkApplications and ScheduledSparkApplications (``sparkoperator.k8s.io/v1beta2``,
whichever operator runs them: kubespark's or kubeflow's) and SparkConnects (``v1alpha1``) into
one flat, typed view (state, attempts, why it waits, compat notes, age) beside the applications
``kubespark submit`` wrote
(:mod:`kubespark.submit.submitted_apps`), writing the one field a user flips on them
(``spec.suspend``) and deleting them. A server without the CRDs has no such applications (an
empty list, not an error). It must not decide states: the operator writes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from kubespark.compat import ObjectRef
from kubespark.errors import InputError
from kubespark.kube.client import KubeClient
from kubespark.kube.errors import NotFound
from kubespark.kube.requests import KubeRequest
from kubespark.submit.removal import POLL_SECONDS, Deleted
from kubespark.submit.sparkui import UI_PORT, UIService

__all__ = [
    "OperatorApp",
    "ResourceKind",
    "delete_resource",
    "event_line",
    "events_about",
    "events_of",
    "find_operator_app",
    "find_operator_apps",
    "resource_path",
    "suspend",
]

GROUP = "sparkoperator.k8s.io"
API = f"/apis/{GROUP}/v1beta2"
MERGE_PATCH = "application/merge-patch+json"


class ResourceKind(StrEnum):
    """The operator's custom resources, by kind; ``plural`` is their REST name."""

    APPLICATION = "SparkApplication"
    SCHEDULED = "ScheduledSparkApplication"
    CONNECT = "SparkConnect"  # a long-running Spark Connect server (kubeflow 2.2+)

    @property
    def plural(self) -> str:
        return f"{self.value.lower()}s"

    @property
    def api_version(self) -> str:
        return f"{GROUP}/v1alpha1" if self is ResourceKind.CONNECT else f"{GROUP}/v1beta2"

    @property
    def suspendable(self) -> bool:
        """Whether the kind has ``spec.suspend`` (kubeflow's SparkConnect has none)."""
        return self is not ResourceKind.CONNECT


@dataclass(frozen=True)
class OperatorApp:
    """One SparkApplication, ScheduledSparkApplication or SparkConnect, as the server holds it."""

    kind: ResourceKind
    namespace: str
    name: str
    obj: Mapping[str, Any]

    @property
    def spec(self) -> Mapping[str, Any]:
        return self.obj.get("spec") or {}

    @property
    def status(self) -> Mapping[str, Any]:
        return self.obj.get("status") or {}

    @property
    def created(self) -> str:
        return str((self.obj.get("metadata") or {}).get("creationTimestamp") or "")

    @property
    def spark_version(self) -> str:
        spec = self.spec.get("template") if self.kind is ResourceKind.SCHEDULED else self.spec
        return str((spec or {}).get("sparkVersion") or self.status.get("sparkVersion") or "")

    @property
    def state(self) -> str:
        """The operator's state (``RUNNING``, ``FAILED``...; a schedule's ``Scheduled``; a
        Connect server's ``Ready``, ``NotReady`` or ``Failed``)."""
        if self.kind is ResourceKind.SCHEDULED:
            return str(self.status.get("scheduleState") or "New")
        if self.kind is ResourceKind.CONNECT:
            return str(self.status.get("state") or "New")
        return str((self.status.get("applicationState") or {}).get("state") or "New")

    @property
    def suspended(self) -> bool:
        return bool(self.spec.get("suspend"))

    @property
    def attempts(self) -> str:
        """``submissions/executions`` as kubectl's columns for the CRD show them."""
        if self.kind is not ResourceKind.APPLICATION:
            return ""
        status = self.status
        return f"{status.get('submissionAttempts', 0)}/{status.get('executionAttempts', 0)}"

    @property
    def waiting(self) -> str:
        """Why the driver waits (ImagePullBackOff: ...), why a schedule is not running, or why a
        Connect server is not ready (its condition's message)."""
        waiting = self.status.get("waiting") or {}
        if waiting.get("reason"):
            return f"{waiting['reason']}: {waiting.get('message', '')}".rstrip(": ")
        if self.kind is ResourceKind.CONNECT and self.state != "Ready":
            for condition in self.status.get("conditions") or ():
                if isinstance(condition, Mapping) and condition.get("status") == "False":
                    return str(condition.get("message") or condition.get("reason") or "")
        return str(self.status.get("reason") or "")

    @property
    def error(self) -> str:
        if self.kind is ResourceKind.CONNECT:
            return str(self.status.get("errorMessage") or "")
        return str((self.status.get("applicationState") or {}).get("errorMessage") or "")

    @property
    def notes(self) -> tuple[str, ...]:
        return tuple(str(n) for n in self.status.get("compatNotes") or ())

    @property
    def executors(self) -> dict[str, str]:
        """Executor pod -> state, as the operator records them (a Connect server's executors:
        phase -> how many)."""
        if self.kind is ResourceKind.CONNECT:
            counts = self.status.get("executors") or {}
            return {str(k): str(v) for k, v in counts.items()}
        return {str(k): str(v) for k, v in (self.status.get("executorState") or {}).items()}

    @property
    def driver_pod(self) -> str:
        """The driver's pod: a Connect server's is its server pod."""
        if self.kind is ResourceKind.CONNECT:
            return str((self.status.get("server") or {}).get("podName") or "")
        return str((self.status.get("driverInfo") or {}).get("podName") or "")

    @property
    def ui(self) -> UIService | None:
        """The operator's UI Service (``driverInfo.webUIServiceName``), when it made one; a
        Connect server's Service (``server.serviceName``) carries the web UI's port."""
        if self.kind is ResourceKind.CONNECT:
            service = str((self.status.get("server") or {}).get("serviceName") or "")
            return UIService(self.namespace, service, UI_PORT) if service else None
        info = self.status.get("driverInfo") or {}
        name = str(info.get("webUIServiceName") or "")
        port = info.get("webUIPort")
        if not name:
            return None
        return UIService(self.namespace, name, port if isinstance(port, int) and port else UI_PORT)

    def view(self) -> dict[str, Any]:
        """The plain data ``-o json`` prints."""
        out: dict[str, Any] = {
            "kind": self.kind.value,
            "namespace": self.namespace,
            "name": self.name,
            "state": self.state,
            "suspended": self.suspended,
            "sparkVersion": self.spark_version,
            "created": self.created,
        }
        if self.kind is ResourceKind.APPLICATION:
            out |= {
                "submissionAttempts": self.status.get("submissionAttempts", 0),
                "executionAttempts": self.status.get("executionAttempts", 0),
                "driverPod": self.driver_pod,
                "sparkApplicationId": str(self.status.get("sparkApplicationId") or ""),
                "error": self.error,
                "notes": list(self.notes),
            }
        elif self.kind is ResourceKind.CONNECT:
            server = self.status.get("server") or {}
            out |= {
                "serverPod": self.driver_pod,
                "service": str(server.get("serviceName") or ""),
                "executors": dict(self.executors),
                "error": self.error,
            }
        else:
            out |= {
                "schedule": self.spec.get("schedule", ""),
                "lastRun": self.status.get("lastRun"),
                "lastRunName": self.status.get("lastRunName", ""),
                "nextRun": self.status.get("nextRun"),
            }
        out["waiting"] = self.waiting
        return out


def resource_path(kind: ResourceKind, namespace: str | None, name: str | None = None) -> str:
    """The REST path of a kind's collection (in ``namespace``; None: every namespace) or of
    one object."""
    where = f"/namespaces/{quote(namespace, safe='')}" if namespace is not None else ""
    tail = f"/{quote(name, safe='')}" if name else ""
    return f"/apis/{kind.api_version}{where}/{kind.plural}{tail}"


def _of(kind: ResourceKind, obj: Mapping[str, Any]) -> OperatorApp:
    meta = obj.get("metadata") or {}
    return OperatorApp(kind, str(meta.get("namespace", "")), str(meta.get("name", "")), obj)


async def _list(
    client: KubeClient, kind: ResourceKind, namespace: str | None, selector: str
) -> list[OperatorApp]:
    query = (("labelSelector", selector),) if selector else ()
    try:
        body = await client.send(KubeRequest("GET", resource_path(kind, namespace), query))
    except NotFound:  # the CRD is not installed: no such applications here
        return []
    items = body.get("items") if isinstance(body, dict) else None
    return [_of(kind, i) for i in items or [] if isinstance(i, dict)]


async def find_operator_apps(
    client: KubeClient, namespace: str | None, selector: str = ""
) -> list[OperatorApp]:
    """Every SparkApplication, ScheduledSparkApplication and SparkConnect in ``namespace``
    (None: all), newest first."""
    found = await asyncio.gather(*(_list(client, k, namespace, selector) for k in ResourceKind))
    every = [app for apps in found for app in apps]
    return sorted(every, key=lambda a: (a.created, a.namespace, a.name), reverse=True)


async def find_operator_app(
    client: KubeClient, namespace: str, name: str, kind: ResourceKind | None = None
) -> OperatorApp | None:
    """The SparkApplication ``name`` (else the ScheduledSparkApplication, else the
    SparkConnect), or None."""
    for each in (kind,) if kind else tuple(ResourceKind):
        try:
            obj = await client.send(KubeRequest("GET", resource_path(each, namespace, name)))
        except NotFound:
            continue
        if isinstance(obj, dict):
            return _of(each, obj)
    return None


async def suspend(client: KubeClient, namespace: str, name: str, value: bool) -> OperatorApp:
    """Set ``spec.suspend`` on the SparkApplication or ScheduledSparkApplication ``name``."""
    found = await find_operator_app(client, namespace, name)
    if found is None:
        raise InputError(
            f"no SparkApplication or ScheduledSparkApplication {name!r} in namespace "
            f"{namespace!r} on {client.server}",
            where=name,
            fix="kubespark list -A shows every application and its namespace",
        )
    if not found.kind.suspendable:
        raise InputError(
            f"{found.kind.value} {namespace}/{name} cannot be suspended: its kind has no "
            "spec.suspend",
            where=name,
            fix=f"kubespark delete {name} -n {namespace} stops the Connect server",
        )
    body = {"spec": {"suspend": value}}
    request = KubeRequest(
        "PATCH", resource_path(found.kind, namespace, name), body=body, content_type=MERGE_PATCH
    )
    return _of(found.kind, await client.send(request))


async def events_of(client: KubeClient, app: OperatorApp) -> list[dict[str, Any]]:
    """The Events about ``app`` (the operator's and the API server's), oldest first."""
    return await events_about(client, app.namespace, {(app.kind.value, app.name)})


async def events_about(
    client: KubeClient, namespace: str, objects: set[tuple[str, str]]
) -> list[dict[str, Any]]:
    """The Events in ``namespace`` about any of ``objects`` (kind, name), oldest first."""
    path = f"/api/v1/namespaces/{quote(namespace, safe='')}/events"
    body = await client.send(KubeRequest("GET", path))
    items = body.get("items") if isinstance(body, dict) else None
    about = [
        e
        for e in items or []
        if isinstance(e, dict)
        and (
            str((e.get("involvedObject") or {}).get("kind")),
            str((e.get("involvedObject") or {}).get("name")),
        )
        in objects
    ]
    return sorted(about, key=_event_time)


def _event_time(event: Mapping[str, Any]) -> str:
    return str(
        event.get("lastTimestamp")
        or event.get("eventTime")
        or (event.get("metadata") or {}).get("creationTimestamp")
        or ""
    )


def event_line(event: Mapping[str, Any]) -> str:
    """``Normal SparkApplicationSubmitted: the message`` as a status shows it."""
    count = int(event.get("count") or 1)
    times = f" (x{count})" if count > 1 else ""
    return f"{event.get('type', '')} {event.get('reason', '')}{times}: {event.get('message', '')}"


async def delete_resource(client: KubeClient, app: OperatorApp, *, wait_seconds: float) -> Deleted:
    """Delete the resource (its operator removes the driver it owns) and wait until it is gone."""
    ref = ObjectRef(app.kind.api_version, app.kind.value, app.name, app.namespace)
    path = resource_path(app.kind, app.namespace, app.name)
    with contextlib.suppress(NotFound):  # gone already: what delete wanted
        await client.send(KubeRequest("DELETE", path))
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        try:
            await client.send(KubeRequest("GET", path))
        except NotFound:
            return Deleted((ref,))
        await asyncio.sleep(POLL_SECONDS)
    return Deleted((ref,)) if wait_seconds <= 0 else Deleted((), (ref,))
