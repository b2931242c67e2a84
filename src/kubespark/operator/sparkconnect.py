"""The SparkConnect controller: a Spark Connect server pod, its Service and executors' status.

Owns reconciling one ``SparkConnect`` (``sparkoperator.k8s.io/v1alpha1``) as kubeflow's
``internal/controller/sparkconnect/reconciler.go`` does: ensure the ConfigMap, the server pod
and the Service (built by :mod:`kubespark.driver.sparkconnect`, each owned by the SparkConnect,
so the garbage collector removes them with it; existing ones are kept, as kubeflow mutates only
labels and owner of objects that exist), then write the status: ``state`` Ready or NotReady
from the server pod's readiness, the ``ServerPodReady`` condition, the server's pod name, IP
and Service name, executor counts by phase, start and update times.

Beyond kubeflow (which refuses in its webhook): a SparkConnect breaking one of the webhook's
rules, or naming a Spark release without Spark Connect, gets ``state: Failed`` with the message
in ``status.errorMessage`` and a Warning Event, and nothing is created. It must not run pods.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from kubespark.driver.sparkconnect import (
    LABEL_CONNECT_NAME,
    connect_objects,
    executor_selector,
    service_name,
)
from kubespark.errors import InputError
from kubespark.kube.client import KubeClient
from kubespark.kube.errors import Conflict
from kubespark.kube.requests import JSON, KubeRequest
from kubespark.operator.caches import Key, key_of
from kubespark.operator.clock import OperatorClock
from kubespark.operator.crds import CONNECT_VERSION, GROUP
from kubespark.operator.events import EventRecorder
from kubespark.operator.kindcontroller import KindController
from kubespark.operator.status import format_time
from kubespark.spark import ApplicationError, load_spark_connect
from kubespark.spark.connect import SparkConnect

__all__ = ["ConnectController", "connect_status"]

log = logging.getLogger("kubespark.operator")
Obj = dict[str, Any]
READY, NOT_READY, FAILED = "Ready", "NotReady", "Failed"
CONDITION = "ServerPodReady"


def _pod_ready(pod: Mapping[str, Any]) -> bool:
    """``util.IsPodReady``: the pod's Ready condition is True."""
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _condition(old: list[Obj], ready: bool, message: str, now: str) -> list[Obj]:
    """``meta.SetStatusCondition``: the transition time moves only when the status flips."""
    status = "True" if ready else "False"
    previous = next((c for c in old if c.get("type") == CONDITION), None)
    since = (
        previous.get("lastTransitionTime") if previous and previous.get("status") == status else now
    )
    condition = {
        "type": CONDITION,
        "status": status,
        "reason": "ServerPodReady" if ready else "ServerPodNotReady",
        "message": message,
        "lastTransitionTime": since,
    }
    return [*(c for c in old if c.get("type") != CONDITION), condition]


def connect_status(
    old: Mapping[str, Any],
    pod: Mapping[str, Any],
    service: str,
    executors: list[Mapping[str, Any]],
    now: str,
) -> Obj:
    """The status kubeflow's reconciler writes, from the server pod and the executor pods."""
    ready = _pod_ready(pod)
    message = (
        "Server pod is ready"
        if ready
        else f"Server pod is not ready: {(pod.get('status') or {}).get('message') or ''}"
    )
    counts: dict[str, int] = {}
    for executor in executors:
        phase = str((executor.get("status") or {}).get("phase") or "").lower()
        counts[phase] = counts.get(phase, 0) + 1
    server: Obj = {"podName": (pod.get("metadata") or {}).get("name"), "serviceName": service}
    ip = (pod.get("status") or {}).get("podIP")
    if ip:
        server["podIp"] = ip
    out: Obj = {
        "state": READY if ready else NOT_READY,
        "conditions": _condition(list(old.get("conditions") or []), ready, message, now),
        "server": server,
        "startTime": old.get("startTime") or now,
    }
    if counts:
        out["executors"] = counts
    return out


class ConnectController(KindController):
    """Reconciles SparkConnects; pods labelled with a SparkConnect's name requeue it."""

    def __init__(
        self,
        client: KubeClient,
        recorder: EventRecorder,
        *,
        clock: OperatorClock | None = None,
    ) -> None:
        super().__init__(client, recorder, "sparkconnect", clock)

    # ---- event intake ----------------------------------------------------------------------------

    def on_pod_event(self, obj: Mapping[str, Any]) -> None:
        """A server or executor pod changed: its SparkConnect's status may follow."""
        meta = obj.get("metadata") or {}
        name = (meta.get("labels") or {}).get(LABEL_CONNECT_NAME)
        if name and self.admits(str(meta.get("namespace") or "")):
            self.queue.add((str(meta.get("namespace") or ""), str(name)))

    # ---- reconcile -------------------------------------------------------------------------------

    async def reconcile(self, key: Key) -> float | None:
        obj = self._live(key)
        if obj is None:  # kubeflow: "Skip reconciling SparkConnect in terminating state"
            return None
        old = dict(obj.get("status") or {})
        try:  # every pass: a Failed SparkConnect whose spec was fixed starts then
            conn = _validated(obj)
            objects = connect_objects(conn)
        except InputError as err:
            return await self._fail(obj, old, err)
        namespace = key[0]
        await self._ensure(f"/api/v1/namespaces/{namespace}/configmaps", objects.config_map)
        pod = await self._ensure(f"/api/v1/namespaces/{namespace}/pods", objects.server_pod)
        await self._ensure(f"/api/v1/namespaces/{namespace}/services", objects.service)
        executors = await self._executors(namespace, key[1])
        now = format_time(self.clock.now()) or ""
        status = connect_status(old, pod, service_name(conn), executors, now)
        await self._write(obj, old, status, now)
        return None

    async def _ensure(self, path: str, body: Obj) -> Obj:
        """Create ``body``; an existing object of that name is kept as it is."""
        name = body["metadata"]["name"]
        try:
            created = await self.client.send(KubeRequest("POST", path, (), JSON, body))
        except Conflict as err:
            if not err.already_exists:
                raise
            live = await self.client.send(KubeRequest("GET", f"{path}/{name}"))
            return live if isinstance(live, dict) else {}
        return created if isinstance(created, dict) else {}

    async def _executors(self, namespace: str, name: str) -> list[Mapping[str, Any]]:
        selector = ",".join(f"{k}={v}" for k, v in sorted(executor_selector(name).items()))
        listing = await self.client.send(
            KubeRequest(
                "GET", f"/api/v1/namespaces/{namespace}/pods", (("labelSelector", selector),)
            )
        )
        return list((listing or {}).get("items") or []) if isinstance(listing, dict) else []

    async def _fail(self, obj: Obj, old: Obj, err: InputError) -> float | None:
        message = f"{err.where}: {err.message}" if err.where else err.message
        self.recorder.warning(obj, "SparkConnectFailed", message)
        now = format_time(self.clock.now()) or ""
        status = {**old, "state": FAILED, "errorMessage": message}
        status.setdefault("startTime", now)
        await self._write(obj, old, status, now)
        return None

    async def _write(self, obj: Obj, old: Obj, status: Obj, now: str) -> None:
        """PUT the status when it changed (``lastUpdateTime`` aside), as kubeflow compares."""
        if {k: v for k, v in old.items() if k != "lastUpdateTime"} == status:
            return
        ns, name = key_of(obj)
        path = f"/apis/{GROUP}/{CONNECT_VERSION}/namespaces/{ns}/sparkconnects/{name}/status"
        await self._put_status(path, {**obj, "status": {**status, "lastUpdateTime": now}})
        log.info("SparkConnect %s/%s is %s", ns, name, status.get("state"))


def _document(obj: Mapping[str, Any]) -> str:
    document = {k: v for k, v in obj.items() if k != "status"}
    meta = document.get("metadata") or {}
    keep = ("name", "namespace", "labels", "annotations", "uid")
    document["metadata"] = {k: meta[k] for k in keep if k in meta}
    return json.dumps(document, indent=1, default=str)


def _validated(obj: Mapping[str, Any]) -> SparkConnect:
    """The typed SparkConnect, or InputError naming the first field kubeflow would refuse."""
    try:
        return load_spark_connect(_document(obj))
    except ApplicationError as err:
        first = err.problems[0]
        head, _, rest = first.where.partition(" ")
        where = rest if head.startswith("<text>") and rest else first.where
        raise InputError(first.message, where=where, fix=first.fix) from None
