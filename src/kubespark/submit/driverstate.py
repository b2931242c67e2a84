"""A driver pod read the way kubeflow reads it: driver and executor states, and why it waits.

Owns the mapping of a pod to kubeflow's driver state (``pkg/util/sparkpod.go``
``GetDriverState``: the phase refined by the driver container's exit code) and executor state,
the failure message of a failed driver, and the waiting reasons kubespark reads from a pod
(ImagePullBackOff, ErrImagePull, Unschedulable, CrashLoopBackOff, OOMKilled, Evicted...) so that
an application never sits in SUBMITTED without saying why. Pure functions over plain dicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = [
    "DRIVER_CONTAINER",
    "DriverState",
    "ExecutorState",
    "Waiting",
    "container_terminated",
    "driver_failure_message",
    "driver_state",
    "executor_state",
    "pod_waiting",
]

DRIVER_CONTAINER = "spark-kubernetes-driver"
EXECUTOR_CONTAINERS = ("spark-kubernetes-executor", "executor")
Pod = Mapping[str, Any]


class _PodLifecycle(StrEnum):
    """kubeflow's driver and executor states: the same five values, one type per role."""

    @property
    def terminated(self) -> bool:
        return self.value in ("COMPLETED", "FAILED")


class DriverState(_PodLifecycle):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    UNKNOWN = "UNKNOWN"


class ExecutorState(_PodLifecycle):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    UNKNOWN = "UNKNOWN"


def container_terminated(pod: Pod, names: tuple[str, ...]) -> Mapping[str, Any] | None:
    """The ``state.terminated`` of the first container named in ``names`` that has one."""
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    for name in names:
        for status in statuses:
            if status.get("name") == name:
                terminated = (status.get("state") or {}).get("terminated")
                if terminated:
                    return dict(terminated)
                break
    return None


def driver_state(pod: Pod) -> DriverState:
    """``GetDriverState``: the phase, refined by the driver container's exit code."""
    phase = (pod.get("status") or {}).get("phase")
    terminated = container_terminated(pod, (DRIVER_CONTAINER,))
    if phase == "Pending":
        return DriverState.PENDING
    if phase == "Running":
        if terminated is not None:
            return DriverState.COMPLETED if terminated.get("exitCode") == 0 else DriverState.FAILED
        return DriverState.RUNNING
    if phase == "Succeeded":
        return DriverState.COMPLETED
    if phase == "Failed":
        if terminated is not None and terminated.get("exitCode") == 0:
            return DriverState.COMPLETED
        return DriverState.FAILED
    return DriverState.UNKNOWN


def executor_state(pod: Pod) -> ExecutorState:
    """``GetExecutorState``: the pod phase, one to one."""
    phase = (pod.get("status") or {}).get("phase")
    return {
        "Pending": ExecutorState.PENDING,
        "Running": ExecutorState.RUNNING,
        "Succeeded": ExecutorState.COMPLETED,
        "Failed": ExecutorState.FAILED,
    }.get(str(phase), ExecutorState.UNKNOWN)


def driver_failure_message(pod: Pod) -> str:
    """The errorMessage of a failed driver: kubeflow's (exit code and reason), preceded by the
    pod's own reason when the kubelet gave one (Evicted: the container state alone says only
    ContainerStatusUnknown)."""
    status = pod.get("status") or {}
    pod_reason = (
        f"driver pod {status['reason']}: {status.get('message', '')}".strip()
        if status.get("reason")
        else ""
    )
    terminated = container_terminated(pod, (DRIVER_CONTAINER,))
    if terminated is None:
        return pod_reason or "driver container status missing"
    code = terminated.get("exitCode", 0)
    if code == 0:
        return pod_reason
    container = (
        f"driver container failed with ExitCode: {code}, Reason: {terminated.get('reason', '')}"
    )
    return f"{pod_reason}; {container}" if pod_reason else container


# ---- waiting reasons (beyond kubeflow) ---------------------------------------------------------

# Reasons that leave a pod Pending or restarting without ever failing it: kubeflow shows such an
# application as SUBMITTED forever; kubespark puts the reason in status and an event.
WAITING_REASONS = (
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "CrashLoopBackOff",
    "RunContainerError",
)


@dataclass(frozen=True, slots=True)
class Waiting:
    """Why a pod is not (or no longer) making progress: a reason and the kubelet's message."""

    reason: str
    message: str

    def render(self) -> str:
        return f"{self.reason}: {self.message}" if self.message else self.reason


def pod_waiting(pod: Pod) -> Waiting | None:
    """The reason a pod is stuck or was killed, as the kubelet and scheduler report it.

    Looks at container waiting states (image pulls, crash loops, config errors), the
    PodScheduled condition (Unschedulable), a last termination of OOMKilled, and the pod's own
    reason (Evicted). None when the pod is simply progressing.
    """
    status = pod.get("status") or {}
    if status.get("reason") == "Evicted":
        return Waiting("Evicted", str(status.get("message") or ""))
    for cond in status.get("conditions") or []:
        if (
            cond.get("type") == "PodScheduled"
            and cond.get("status") == "False"
            and cond.get("reason") == "Unschedulable"
        ):
            return Waiting("Unschedulable", str(cond.get("message") or ""))
    for container in [
        *(status.get("initContainerStatuses") or []),
        *(status.get("containerStatuses") or []),
    ]:
        state = container.get("state") or {}
        waiting = state.get("waiting") or {}
        if waiting.get("reason") in WAITING_REASONS:
            return Waiting(str(waiting["reason"]), str(waiting.get("message") or ""))
        for terminated in (
            state.get("terminated"),
            (container.get("lastState") or {}).get("terminated"),
        ):
            if terminated and terminated.get("reason") == "OOMKilled":
                return Waiting("OOMKilled", f"container {container.get('name')} was OOM-killed")
    return None
