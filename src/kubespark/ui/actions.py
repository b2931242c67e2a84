"""What a user may do to an application from the dashboard, with the credentials it runs with.

Owns the five actions (delete; suspend and resume a SparkApplication or a schedule; run a
ScheduledSparkApplication now; rerun a SparkApplication; a SparkConnect only deleted: its kind
has no ``spec.suspend`` and nothing to rerun) as writes through the kube client, so
the API server's RBAC and admission decide, and its refusal is reported word for word. Which
actions fit which kind of application is :data:`ALLOWED`. It must not decide whether actions are
on (the server does, from ``--allow-actions``) or check CSRF tokens (``kubespark.ui.csrf``).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from kubespark.kube.client import KubeClient
from kubespark.kube.errors import NotFound
from kubespark.kube.requests import JSON, KubeRequest
from kubespark.kube.status import Status
from kubespark.submit.operator_apps import (
    API,
    OperatorApp,
    ResourceKind,
    find_operator_app,
    resource_path,
)
from kubespark.submit.operator_apps import suspend as set_suspend
from kubespark.ui.details import LABEL_SCHEDULED
from kubespark.ui.rows import SUBMISSION

__all__ = ["ALLOWED", "Done", "perform"]

ALLOWED: dict[str, frozenset[str]] = {
    ResourceKind.APPLICATION.value: frozenset({"delete", "suspend", "resume", "rerun"}),
    ResourceKind.SCHEDULED.value: frozenset({"delete", "suspend", "resume", "run-now"}),
    ResourceKind.CONNECT.value: frozenset({"delete"}),
    SUBMISSION: frozenset({"delete"}),
}
RERUN_WAIT_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Done:
    message: str


async def perform(
    client: KubeClient, action: str, kind: str, namespace: str, name: str, driver_pod: str = ""
) -> Done:
    """Do ``action`` to application ``kind/namespace/name``. API errors propagate as they are."""
    if kind == SUBMISSION:
        await _delete_submission(client, namespace, driver_pod)
        return Done(f"deleted the driver pod {driver_pod} of {name} (its objects follow it)")
    resource = ResourceKind(kind)
    if action in ("suspend", "resume"):
        await set_suspend(client, namespace, name, action == "suspend")
        return Done(f"{kind} {name}: spec.suspend set to {str(action == 'suspend').lower()}")
    if action == "delete":
        await client.send(KubeRequest("DELETE", resource_path(resource, namespace, name)))
        return Done(f"{kind} {name} deleted")
    if action == "run-now":
        run = await _run_now(client, namespace, name)
        return Done(f"started run {run} of {name}")
    if action == "rerun":
        await _rerun(client, namespace, name)
        return Done(f"{name} recreated with the same spec: the operator runs it again")
    raise ValueError(action)


async def _delete_submission(client: KubeClient, namespace: str, pod: str) -> None:
    """The driver pod goes; the garbage collector takes the Services and ConfigMaps it owns."""
    path = f"/api/v1/namespaces/{quote(namespace, safe='')}/pods/{quote(pod, safe='')}"
    await client.send(KubeRequest("DELETE", path))


async def _run_now(client: KubeClient, namespace: str, name: str) -> str:
    """A run of the schedule's template now, as the operator creates its runs (owned by the
    schedule and labelled with its name, so the schedule's history keeps it)."""
    found = await find_operator_app(client, namespace, name, ResourceKind.SCHEDULED)
    if found is None:
        raise _missing("scheduledsparkapplications", namespace, name)
    meta = found.obj.get("metadata") or {}
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    run_name = f"{name}-manual-{stamp}"[:63].rstrip("-")
    body: dict[str, Any] = {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": "SparkApplication",
        "metadata": {
            "name": run_name,
            "namespace": namespace,
            "labels": {**(meta.get("labels") or {}), LABEL_SCHEDULED: name},
            "ownerReferences": [
                {
                    "apiVersion": "sparkoperator.k8s.io/v1beta2",
                    "kind": "ScheduledSparkApplication",
                    "name": name,
                    "uid": meta.get("uid"),
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": found.spec.get("template") or {},
    }
    await client.send(
        KubeRequest("POST", resource_path(ResourceKind.APPLICATION, namespace), (), JSON, body)
    )
    return run_name


def _missing(plural: str, namespace: str, name: str) -> NotFound:
    message = f'{plural}.sparkoperator.k8s.io "{name}" not found'
    status = Status.failure(404, message, reason="NotFound")
    return NotFound(status, method="GET", path=f"{API}/namespaces/{namespace}/{plural}/{name}")


async def _rerun(client: KubeClient, namespace: str, name: str) -> OperatorApp:
    """Delete the SparkApplication and create it again from its own metadata and spec."""
    found = await find_operator_app(client, namespace, name, ResourceKind.APPLICATION)
    if found is None:
        raise _missing("sparkapplications", namespace, name)
    meta = found.obj.get("metadata") or {}
    keep = ("name", "namespace", "labels", "annotations", "ownerReferences")
    body = {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": "SparkApplication",
        "metadata": {k: meta[k] for k in keep if k in meta},
        "spec": dict(found.spec),
    }
    path = resource_path(ResourceKind.APPLICATION, namespace, name)
    with contextlib.suppress(NotFound):
        await client.send(KubeRequest("DELETE", path))
    deadline = asyncio.get_running_loop().time() + RERUN_WAIT_SECONDS
    while asyncio.get_running_loop().time() < deadline:
        try:
            await client.send(KubeRequest("GET", path))
        except NotFound:
            break
        await asyncio.sleep(0.2)
    created = await client.send(
        KubeRequest("POST", resource_path(ResourceKind.APPLICATION, namespace), (), JSON, body)
    )
    return OperatorApp(ResourceKind.APPLICATION, namespace, name, created)
