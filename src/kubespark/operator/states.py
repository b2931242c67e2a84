"""kubeflow's application, driver and executor states, and the pure rules between them.

Owns the state names exactly as the kubeflow spark-operator (v2) writes them, the mapping of a
driver pod to a driver state and of a driver state to an application state
(``pkg/util/sparkapplication.go``: ``GetDriverState``, ``DriverStateToApplicationState``), the
retry rules of a restart policy (``ShouldRetry``) with their linear back-off
(``TimeUntilNextRetryDue``), the TTL rule (``IsExpired``), and the waiting reasons kubespark
reads from a pod so that an application never sits in SUBMITTED without saying why.

Pure functions over plain dicts and values; no I/O, no clock (``now`` is always an argument).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

__all__ = [
    "AppState",
    "DriverState",
    "ExecutorState",
    "RetryRule",
    "Waiting",
    "container_terminated",
    "driver_state",
    "driver_to_app_state",
    "executor_state",
    "is_expired",
    "pod_waiting",
    "should_retry",
    "time_until_retry",
]

DRIVER_CONTAINER = "spark-kubernetes-driver"
EXECUTOR_CONTAINERS = ("spark-kubernetes-executor", "executor")


class AppState(StrEnum):
    """``ApplicationStateType``; NEW is the empty string a fresh object has."""

    NEW = ""
    SUBMITTED = "SUBMITTED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    SUBMISSION_FAILED = "SUBMISSION_FAILED"
    PENDING_RERUN = "PENDING_RERUN"
    INVALIDATING = "INVALIDATING"
    SUCCEEDING = "SUCCEEDING"
    FAILING = "FAILING"
    SUSPENDING = "SUSPENDING"
    SUSPENDED = "SUSPENDED"
    RESUMING = "RESUMING"
    UNKNOWN = "UNKNOWN"

    @classmethod
    def parse(cls, text: object) -> AppState:
        """A stored state; anything this operator never writes reads as UNKNOWN."""
        try:
            return cls(str(text or ""))
        except ValueError:
            return cls.UNKNOWN

    @property
    def terminated(self) -> bool:
        return self in (AppState.COMPLETED, AppState.FAILED)


class DriverState(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    UNKNOWN = "UNKNOWN"

    @property
    def terminated(self) -> bool:
        return self in (DriverState.COMPLETED, DriverState.FAILED)


class ExecutorState(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    UNKNOWN = "UNKNOWN"

    @property
    def terminated(self) -> bool:
        return self in (ExecutorState.COMPLETED, ExecutorState.FAILED)


Pod = Mapping[str, Any]


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


_APP_STATE_OF_DRIVER = {
    DriverState.PENDING: AppState.SUBMITTED,
    DriverState.RUNNING: AppState.RUNNING,
    DriverState.COMPLETED: AppState.SUCCEEDING,
    DriverState.FAILED: AppState.FAILING,
    DriverState.UNKNOWN: AppState.UNKNOWN,
}


def driver_to_app_state(state: DriverState) -> AppState:
    """``DriverStateToApplicationState``."""
    return _APP_STATE_OF_DRIVER[state]


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
    """The errorMessage kubeflow writes for a failed driver (exit code and reason)."""
    terminated = container_terminated(pod, (DRIVER_CONTAINER,))
    if terminated is None:
        status = pod.get("status") or {}
        if status.get("reason"):  # Evicted and friends fail the pod without a container state
            return f"driver pod failed: {status.get('reason')}: {status.get('message', '')}"
        return "driver container status missing"
    code = terminated.get("exitCode", 0)
    if code == 0:
        return ""
    return f"driver container failed with ExitCode: {code}, Reason: {terminated.get('reason', '')}"


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
    for container in [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]:
        state = container.get("state") or {}
        waiting = state.get("waiting") or {}
        if waiting.get("reason") in WAITING_REASONS:
            return Waiting(str(waiting["reason"]), str(waiting.get("message") or ""))
        for terminated in (state.get("terminated"), (container.get("lastState") or {}).get("terminated")):
            if terminated and terminated.get("reason") == "OOMKilled":
                return Waiting("OOMKilled", f"container {container.get('name')} was OOM-killed")
    return None


# ---- retries and TTL ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RetryRule:
    """The restart policy fields the retry rules read (defaults applied by the spark model)."""

    type: str = "Never"  # Never, OnFailure, Always
    on_failure_retries: int | None = None
    on_submission_failure_retries: int | None = None
    on_failure_retry_interval: int | None = None
    on_submission_failure_retry_interval: int | None = None


def should_retry(
    state: AppState, rule: RetryRule, *, execution_attempts: int, submission_attempts: int
) -> bool:
    """``ShouldRetry``: whether SUCCEEDING, FAILING or SUBMISSION_FAILED leads to another run."""
    if state is AppState.SUCCEEDING:
        return rule.type == "Always"
    if state is AppState.FAILING:
        if rule.type == "Always":
            return True
        if rule.type == "OnFailure" and rule.on_failure_retries is not None:
            return execution_attempts <= rule.on_failure_retries
        return False
    if state is AppState.SUBMISSION_FAILED:
        if rule.type == "Always":
            return True
        if rule.type == "OnFailure" and rule.on_submission_failure_retries is not None:
            return submission_attempts <= rule.on_submission_failure_retries
    return False


def time_until_retry(
    state: AppState,
    rule: RetryRule,
    *,
    submission_attempts: int,
    last_attempt: datetime | None,
    now: datetime,
) -> timedelta | None:
    """``TimeUntilNextRetryDue``: interval x attempts done, counted from the last attempt.

    A linear back-off: the n-th retry waits n intervals. None when the inputs cannot give a
    time (no interval, no attempt yet), which kubeflow treats as an error; kubespark retries
    at once then, since the defaulter always sets intervals for retrying policies.
    """
    interval = (
        rule.on_submission_failure_retry_interval
        if state is AppState.SUBMISSION_FAILED
        else rule.on_failure_retry_interval
        if state is AppState.FAILING
        else None
    )
    if interval is None or last_attempt is None or submission_attempts <= 0:
        return None
    wait = timedelta(seconds=interval * submission_attempts)
    return wait - (now - last_attempt)


def is_expired(ttl_seconds: int | None, termination: datetime | None, now: datetime) -> bool:
    """``IsExpired``: a terminated application whose TTL has passed since it terminated."""
    if ttl_seconds is None or termination is None:
        return False
    return now - termination > timedelta(seconds=ttl_seconds)
