"""An application's page: everything the dashboard knows about one application, as plain data.

Owns assembling, from the cache, an application's row, its state history, why it waits, compat
notes, executors, Events (about the resource and its driver pod), the Spark UI link while the
driver runs, a ScheduledSparkApplication's runs, a SparkConnect's server (its pod, the ``sc://``
address clients dial, the Spark UI while Ready, executors by the operator's labels), and the
spec with credentials redacted (secret values are never shown; Secrets are never read). The
doctor's diagnosis of a failed application is the one thing read from the cluster on a page view
(its driver's log), once per version of the object: :class:`Diagnoses` memoises it. It writes
nothing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from kubespark.doctor.engine import Input, examine
from kubespark.doctor.live import fetch_app_inputs, fetch_pod_inputs
from kubespark.doctor.report import report_view
from kubespark.driver.sparkconnect import CONNECT_PORT, LABEL_CONNECT_NAME
from kubespark.kube.client import KubeClient
from kubespark.kube.errors import APIError
from kubespark.redaction import REDACTED, is_secret_key, redact
from kubespark.submit.driverstate import DRIVER_CONTAINER
from kubespark.submit.operator_apps import OperatorApp, ResourceKind
from kubespark.ui.cache import AppKey, ClusterCache
from kubespark.ui.rows import FAILED, SUBMISSION, AppRow

__all__ = ["LABEL_SCHEDULED", "Diagnoses", "app_page", "redact_spec", "spark_ui_target"]

LABEL_SCHEDULED = "sparkoperator.k8s.io/scheduled-app-name"  # the operator's label on a run
GROUPS = {
    ResourceKind.APPLICATION.value: "apps",
    ResourceKind.SCHEDULED.value: "scheduled",
    ResourceKind.CONNECT.value: "connects",
}
CONNECT = ResourceKind.CONNECT.value


def _object_of(cache: ClusterCache, key: AppKey) -> Mapping[str, Any]:
    kind, namespace, name = key
    if kind == SUBMISSION:
        row = cache.rows.get(key)
        return (cache.get("pods", namespace, row.driver_pod) if row else None) or {}
    return cache.get(GROUPS.get(kind, ""), namespace, name) or {}


def _serving(row: AppRow) -> bool:
    """Whether the driver (a Connect server: the server) is up, so its UI answers."""
    return row.state == ("Ready" if row.kind == CONNECT else "RUNNING")


def spark_ui_target(cache: ClusterCache, key: AppKey) -> tuple[str, int] | None:
    """The Service and port of the running driver's Spark UI, or None when it does not run."""
    row = cache.rows.get(key)
    if row is None or not _serving(row):
        return None
    obj = _object_of(cache, key)
    if key[0] == CONNECT:
        ui = OperatorApp(ResourceKind.CONNECT, key[1], key[2], obj).ui
        return (ui.name, ui.port) if ui is not None else None
    if key[0] == ResourceKind.APPLICATION.value:
        info = (obj.get("status") or {}).get("driverInfo") or {}
        service = str(info.get("webUIServiceName") or "")
        port = info.get("webUIPort") or 4040
        return (service, int(port)) if service else None
    if key[0] == SUBMISSION and row.driver_pod.endswith("-driver"):
        # spark-submit names the driver's Service after its pod; the UI port is 4040.
        return row.driver_pod + "-svc", 4040
    return None


def _executors(cache: ClusterCache, key: AppKey, obj: Mapping[str, Any]) -> list[dict[str, Any]]:
    kind, namespace, name = key
    if kind == SUBMISSION:
        app_id = str(((obj.get("metadata") or {}).get("labels") or {}).get("spark-app-selector"))
        pods = cache.executor_pods(namespace, app_id)
    elif kind == CONNECT:  # the server labels its executors as kubeflow's selector finds them
        pods = cache.pods_labelled(namespace, LABEL_CONNECT_NAME, name, "executor")
    else:
        pods = cache.pods_of_app(namespace, name, "executor")
    out = {
        str(p["metadata"]["name"]): {
            "name": str(p["metadata"]["name"]),
            "phase": str((p.get("status") or {}).get("phase") or ""),
            "node": str((p.get("spec") or {}).get("nodeName") or ""),
            "started": str((p.get("status") or {}).get("startTime") or ""),
        }
        for p in pods
    }
    # The operator's record covers executors whose pods are already gone.
    for pod, state in ((obj.get("status") or {}).get("executorState") or {}).items():
        out.setdefault(str(pod), {"name": str(pod), "phase": "", "node": "", "started": ""})
        out[str(pod)]["state"] = str(state)
    return sorted(out.values(), key=lambda e: str(e["name"]))


def _runs(cache: ClusterCache, namespace: str, name: str, now: datetime) -> list[dict[str, Any]]:
    """A ScheduledSparkApplication's runs (the SparkApplications it created), oldest first."""
    runs = []
    for key, row in cache.rows.items():
        if key[0] != ResourceKind.APPLICATION.value or key[1] != namespace:
            continue
        obj = cache.get("apps", namespace, key[2]) or {}
        labels = (obj.get("metadata") or {}).get("labels") or {}
        if labels.get(LABEL_SCHEDULED) == name:
            runs.append(row.view(now))
    return sorted(runs, key=lambda r: str(r["created"]))


def _driver_pod(cache: ClusterCache, key: AppKey, row: AppRow) -> Mapping[str, Any]:
    if not row.driver_pod:
        return {}
    return cache.get("pods", key[1], row.driver_pod) or {}


def app_page(
    cache: ClusterCache, key: AppKey, now: datetime | None = None
) -> dict[str, Any] | None:
    """The page's data for application ``key``; None when the cache has no such application."""
    row = cache.rows.get(key)
    if row is None:
        return None
    now = now or datetime.now(UTC)
    obj = _object_of(cache, key)
    kind, namespace, name = key
    driver = _driver_pod(cache, key, row)
    about = {
        (kind if kind != SUBMISSION else "Pod", name if kind != SUBMISSION else row.driver_pod)
    }
    if row.driver_pod:
        about.add(("Pod", row.driver_pod))
    status = obj.get("status") or {} if kind != SUBMISSION else {}
    waiting = (status.get("waiting") or {}) if isinstance(status, Mapping) else {}
    if kind == CONNECT:
        waiting = _connect_waiting(row, status) or {}
    target = spark_ui_target(cache, key)
    page: dict[str, Any] = {
        "row": row.view(now),
        "history": [asdict(h) for h in cache.history.get(key, ())],
        "waiting": (
            {"reason": waiting.get("reason", ""), "message": waiting.get("message", "")}
            if waiting.get("reason")
            else _pod_waiting(row)
        ),
        "error": row.reason if row.state in FAILED else "",
        "notes": _notes(kind, obj),
        "executors": _executors(cache, key, obj),
        "events": [asdict(e) for e in cache.events_about(namespace, about)],
        "driver": {
            "pod": row.driver_pod,
            "phase": str((driver.get("status") or {}).get("phase") or ""),
            "running": _serving(row),
        },
        "sparkUI": (
            f"/spark-ui/{namespace}/{target[0]}:{target[1]}/" if target is not None else None
        ),
        "spec": redact_spec(obj.get("spec") or {}) if kind != SUBMISSION else None,
        "diagnosable": _diagnosable(row),
    }
    if kind == ResourceKind.SCHEDULED.value:
        page["runs"] = _runs(cache, namespace, name, now)
    if kind == CONNECT:
        page["connect"] = _connect_server(namespace, status)
    return page


def _diagnosable(row: AppRow) -> bool:
    """A failed application the doctor can read. A SparkConnect fails only by the operator's
    refusal of its spec, whose message (naming the field) is the page's error already."""
    return row.state in FAILED and row.kind != CONNECT


def _connect_waiting(row: AppRow, status: Mapping[str, Any]) -> dict[str, str] | None:
    """Why a Connect server is not ready: its condition that is False, as the operator set it."""
    if row.state == "Ready" or row.state in FAILED:
        return None
    for condition in status.get("conditions") or ():
        if isinstance(condition, Mapping) and condition.get("status") == "False":
            return {
                "reason": str(condition.get("reason") or "NotReady"),
                "message": str(condition.get("message") or ""),
            }
    return None


def _connect_server(namespace: str, status: Mapping[str, Any]) -> dict[str, str]:
    """The server's Service and pod IP, and the address a Spark Connect client in the cluster
    dials (kubeflow's Service, port 15002)."""
    server = status.get("server") or {}
    service = str(server.get("serviceName") or "")
    return {
        "service": service,
        "podIp": str(server.get("podIp") or ""),
        "address": f"sc://{service}.{namespace}.svc:{CONNECT_PORT}" if service else "",
    }


def redact_spec(value: Any) -> Any:
    """``value`` with credentials replaced: what :func:`redact` finds by key and shape, and the
    values of ``{name, value}`` pairs (env variables) whose name says they are secret."""
    if isinstance(value, Mapping):
        named = str(value.get("name") or "")
        return {
            str(k): REDACTED if k == "value" and is_secret_key(named) else redact_spec(v)
            for k, v in redact(dict(value)).items()
        }
    if isinstance(value, list):
        return [redact_spec(v) for v in value]
    return value


def _pod_waiting(row: AppRow) -> dict[str, str] | None:
    if row.kind == SUBMISSION and row.reason and row.state not in FAILED:
        reason, _, message = row.reason.partition(": ")
        return {"reason": reason, "message": message}
    return None


def _notes(kind: str, obj: Mapping[str, Any]) -> list[str]:
    if kind == SUBMISSION:
        text = ((obj.get("metadata") or {}).get("annotations") or {}).get(
            "kubespark.io/compat-notes"
        )
        try:
            notes = json.loads(text) if text else []
        except ValueError:
            notes = []
        return [str(n) for n in notes] if isinstance(notes, list) else []
    return [str(n) for n in (obj.get("status") or {}).get("compatNotes") or ()]


class Diagnoses:
    """The doctor's reports of failed applications, one per version of each object."""

    def __init__(self, client: KubeClient, cache: ClusterCache) -> None:
        self.client = client
        self.cache = cache
        self._done: dict[tuple[AppKey, str], dict[str, Any]] = {}
        self._lock = asyncio.Lock()

    async def of(self, key: AppKey) -> dict[str, Any] | None:
        """The report for application ``key`` (None: not failed, or unknown)."""
        row = self.cache.rows.get(key)
        if row is None or not _diagnosable(row):
            return None
        obj = _object_of(self.cache, key)
        version = str((obj.get("metadata") or {}).get("resourceVersion") or "")
        async with self._lock:  # one doctor at a time: it reads logs and is CPU-bound
            found = self._done.get((key, version))
            if found is None:
                inputs = await self._inputs(key, row)
                report = await asyncio.to_thread(examine, inputs)
                found = redact(report_view(report))
                if len(self._done) > 500:
                    self._done.clear()
                self._done[(key, version)] = found
        return found

    async def _inputs(self, key: AppKey, row: AppRow) -> list[Input]:
        kind, namespace, name = key
        try:
            if kind == SUBMISSION:
                inputs = await fetch_pod_inputs(
                    self.client, namespace, row.driver_pod, container=DRIVER_CONTAINER
                )
            else:
                inputs = await fetch_app_inputs(self.client, name, namespace)
        except APIError:
            return []
        # The driver's log first: the error the page quotes is then the driver's own words,
        # not the operator's or the pod's copy of them (the doctor keeps the first it reads).
        return sorted(inputs, key=lambda i: not i.name.startswith("cluster: log of pod"))
