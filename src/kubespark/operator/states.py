"""kubeflow's application states and the pure rules between them.

Owns the application state names exactly as the kubeflow spark-operator (v2) writes them, the
mapping of a driver state to an application state (``DriverStateToApplicationState``; the pod ->
driver state step is the submitter's, ``kubespark.submit.driverstate``), the retry rules of a
restart policy (``ShouldRetry``) with their linear back-off (``TimeUntilNextRetryDue``) and the
TTL rule (``IsExpired``).

Pure functions over plain dicts and values; no I/O, no clock (``now`` is always an argument).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from kubespark.submit.driverstate import DriverState, ExecutorState

__all__ = [
    "AppState",
    "RetryRule",
    "driver_to_app_state",
    "is_expired",
    "should_retry",
    "time_until_retry",
    "vanished_executor_state",
]


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
    """``ShouldRetry``: whether SUCCEEDING, FAILING or SUBMISSION_FAILED leads to another run.

    ``Always`` retries all three; ``OnFailure`` the two failures, while their own attempt count
    is within their own limit (an unset limit: no retry).
    """
    if state not in (AppState.SUCCEEDING, AppState.FAILING, AppState.SUBMISSION_FAILED):
        return False
    if rule.type == "Always":
        return True
    limits = {
        AppState.FAILING: (execution_attempts, rule.on_failure_retries),
        AppState.SUBMISSION_FAILED: (submission_attempts, rule.on_submission_failure_retries),
    }
    attempts, limit = limits.get(state, (0, None))
    return rule.type == "OnFailure" and limit is not None and attempts <= limit


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


def vanished_executor_state(app_state: AppState) -> ExecutorState:
    """``updateExecutorState``: the state of an unfinished executor whose pod is gone.

    While the driver runs it is UNKNOWN (it may come back); once the application COMPLETED the
    executors finished with it; in every other state, SUCCEEDING included (the driver is done
    but the executors have not settled), kubeflow counts it as FAILED.
    """
    if app_state is AppState.RUNNING:
        return ExecutorState.UNKNOWN
    if app_state is AppState.COMPLETED:
        return ExecutorState.COMPLETED
    return ExecutorState.FAILED
