"""Following and removing a submitted application: its driver's state, and deleting it.

Owns ``driver_status`` (the driver pod read once and mapped to kubeflow's driver state, with the
reason it waits, if any) and ``delete_application`` (the driver pod, whose dependents the
garbage collector removes with it, and the web UI objects). The CLI's ``status``, ``logs``,
``list`` and ``delete`` build on these; the operator uses the same names. Names come from the
driver builder, so they match what ``submit_application`` wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubespark.apisurface import ApiSurface
from kubespark.compat import Intent, ObjectRef, plan_writes
from kubespark.driver import build_driver_resources
from kubespark.driver.submit_command import driver_pod_name
from kubespark.kube.client import KubeClient
from kubespark.kube.errors import NotFound
from kubespark.kube.requests import JSON, KubeRequest, ResourcePath
from kubespark.spark.model import SparkApplication
from kubespark.submit.driverstate import (
    DriverState,
    Waiting,
    driver_failure_message,
    driver_state,
    pod_waiting,
)

__all__ = ["BACKGROUND_DELETE", "DriverStatus", "delete_application", "driver_status"]

# Dependents go with the pod (the garbage collector), without the caller waiting for them.
BACKGROUND_DELETE = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}


@dataclass(frozen=True)
class DriverStatus:
    """The driver pod as kubeflow's controller reads it (``exists`` False: no such pod)."""

    pod_name: str
    exists: bool
    state: DriverState = DriverState.UNKNOWN
    phase: str = ""
    submission_id: str = ""
    spark_application_id: str = ""
    waiting: Waiting | None = None
    failure: str = ""

    def render(self) -> str:
        if not self.exists:
            return f"driver pod {self.pod_name} not found"
        text = f"driver pod {self.pod_name}: {self.state.value} (phase {self.phase or '?'})"
        if self.waiting is not None:
            text += f"; waiting: {self.waiting.render()}"
        if self.failure:
            text += f"; {self.failure}"
        return text


def status_of_pod(pod: dict[str, Any]) -> DriverStatus:
    meta = pod.get("metadata") or {}
    labels = meta.get("labels") or {}
    state = driver_state(pod)
    return DriverStatus(
        pod_name=str(meta.get("name", "")),
        exists=True,
        state=state,
        phase=str((pod.get("status") or {}).get("phase") or ""),
        submission_id=str(labels.get("sparkoperator.k8s.io/submission-id", "")),
        spark_application_id=str(labels.get("spark-app-selector", "")),
        waiting=pod_waiting(pod),
        failure=driver_failure_message(pod) if state is DriverState.FAILED else "",
    )


async def driver_status(client: KubeClient, app: SparkApplication) -> DriverStatus:
    """Read the driver pod of ``app`` once."""
    name = driver_pod_name(app)
    path = f"/api/v1/namespaces/{app.metadata.namespace}/pods/{name}"
    try:
        pod = await client.send(KubeRequest("GET", path))
    except NotFound:
        return DriverStatus(name, exists=False)
    return status_of_pod(pod)


async def delete_application(
    client: KubeClient, app: SparkApplication, *, surface: ApiSurface
) -> tuple[ObjectRef, ...]:
    """Delete the driver pod and the web UI objects of ``app``; returns what was deleted.

    The pod's Service and ConfigMaps are owned by it and go with it (garbage collection). Paths
    come from the planner, so an Ingress is deleted under the apiVersion this server serves.
    """
    resources = build_driver_resources(app, submission_id="", attempt=0)
    objects = [resources.pod, *resources.operator_resources]
    plan = plan_writes(objects, surface, Intent.CREATE, namespace=app.metadata.namespace)
    deleted = []
    for write in plan.writes:
        path = ResourcePath(write.resource).item(write.object.name, write.object.namespace)
        try:
            await client.send(KubeRequest("DELETE", path, (), JSON, BACKGROUND_DELETE))
        except NotFound:
            continue
        deleted.append(write.object)
    return tuple(deleted)
