"""kubeflow's state rules (pure): driver pod -> driver state -> application state, retries, TTL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kubespark.operator.states import (
    AppState,
    RetryRule,
    driver_to_app_state,
    is_expired,
    should_retry,
    time_until_retry,
    vanished_executor_state,
)
from kubespark.operator.status import AppStatus, DriverInfo, merge_patch
from kubespark.submit import (
    DriverState,
    ExecutorState,
    driver_failure_message,
    driver_state,
    executor_state,
    pod_waiting,
)

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def pod(phase: str, *, exit_code: int | None = None, **status: Any) -> dict[str, Any]:
    containers = []
    if exit_code is not None:
        containers.append(
            {
                "name": "spark-kubernetes-driver",
                "state": {"terminated": {"exitCode": exit_code, "reason": "Error"}},
            }
        )
    return {"status": {"phase": phase, "containerStatuses": containers, **status}}


@pytest.mark.parametrize(
    ("phase", "exit_code", "expected"),
    [
        ("Pending", None, DriverState.PENDING),
        ("Running", None, DriverState.RUNNING),
        ("Running", 0, DriverState.COMPLETED),  # the container ended, the pod not yet
        ("Running", 1, DriverState.FAILED),
        ("Succeeded", None, DriverState.COMPLETED),
        ("Failed", 0, DriverState.COMPLETED),
        ("Failed", 137, DriverState.FAILED),
        ("Failed", None, DriverState.FAILED),
        ("", None, DriverState.UNKNOWN),
    ],
)
def test_driver_state_of_pod(phase: str, exit_code: int | None, expected: DriverState) -> None:
    assert driver_state(pod(phase, exit_code=exit_code)) is expected


def test_driver_state_to_application_state() -> None:
    assert [driver_to_app_state(s) for s in DriverState] == [
        AppState.SUBMITTED,
        AppState.RUNNING,
        AppState.SUCCEEDING,
        AppState.FAILING,
        AppState.UNKNOWN,
    ]


def test_executor_state_is_the_phase() -> None:
    assert executor_state(pod("Running")) is ExecutorState.RUNNING
    assert executor_state(pod("Succeeded")) is ExecutorState.COMPLETED
    assert executor_state(pod("Weird")) is ExecutorState.UNKNOWN


@pytest.mark.parametrize(
    ("state", "rule", "executions", "submissions", "expected"),
    [
        (AppState.SUCCEEDING, RetryRule("Always"), 1, 1, True),
        (AppState.SUCCEEDING, RetryRule("OnFailure", on_failure_retries=3), 1, 1, False),
        (AppState.FAILING, RetryRule("Never"), 1, 1, False),
        (AppState.FAILING, RetryRule("Always"), 9, 9, True),
        (AppState.FAILING, RetryRule("OnFailure", on_failure_retries=2), 2, 2, True),
        (AppState.FAILING, RetryRule("OnFailure", on_failure_retries=2), 3, 3, False),
        (AppState.FAILING, RetryRule("OnFailure"), 1, 1, False),  # no retries configured
        (
            AppState.SUBMISSION_FAILED,
            RetryRule("OnFailure", on_submission_failure_retries=1),
            0,
            1,
            True,
        ),
        (
            AppState.SUBMISSION_FAILED,
            RetryRule("OnFailure", on_submission_failure_retries=1),
            0,
            2,
            False,
        ),
        (AppState.SUBMISSION_FAILED, RetryRule("Always"), 0, 50, True),
        (AppState.RUNNING, RetryRule("Always"), 1, 1, False),
    ],
)
def test_should_retry(
    state: AppState, rule: RetryRule, executions: int, submissions: int, expected: bool
) -> None:
    assert (
        should_retry(state, rule, execution_attempts=executions, submission_attempts=submissions)
        is expected
    )


def test_retry_waits_interval_times_attempts() -> None:
    rule = RetryRule(
        "OnFailure", on_failure_retry_interval=5, on_submission_failure_retry_interval=7
    )
    last = NOW - timedelta(seconds=2)
    failing = time_until_retry(
        AppState.FAILING, rule, submission_attempts=3, last_attempt=last, now=NOW
    )
    assert failing == timedelta(seconds=13)  # 3 x 5 s, 2 s already passed
    submission = time_until_retry(
        AppState.SUBMISSION_FAILED, rule, submission_attempts=1, last_attempt=last, now=NOW
    )
    assert submission == timedelta(seconds=5)
    assert (
        time_until_retry(
            AppState.FAILING, RetryRule(), submission_attempts=1, last_attempt=last, now=NOW
        )
        is None
    )


def test_ttl_expiry() -> None:
    ended = NOW - timedelta(seconds=10)
    assert is_expired(5, ended, NOW)
    assert not is_expired(60, ended, NOW)
    assert not is_expired(None, ended, NOW)
    assert not is_expired(5, None, NOW)


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (
            {
                "containerStatuses": [
                    {
                        "name": "c",
                        "state": {"waiting": {"reason": "ImagePullBackOff", "message": "back-off"}},
                    }
                ]
            },
            "ImagePullBackOff",
        ),
        (
            {
                "containerStatuses": [
                    {"name": "c", "state": {"waiting": {"reason": "ErrImagePull"}}}
                ]
            },
            "ErrImagePull",
        ),
        (
            {
                "containerStatuses": [
                    {"name": "c", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}
                ]
            },
            "CrashLoopBackOff",
        ),
        (
            {
                "conditions": [
                    {
                        "type": "PodScheduled",
                        "status": "False",
                        "reason": "Unschedulable",
                        "message": "0/1 nodes",
                    }
                ]
            },
            "Unschedulable",
        ),
        (
            {
                "containerStatuses": [
                    {
                        "name": "c",
                        "state": {"running": {}},
                        "lastState": {"terminated": {"reason": "OOMKilled"}},
                    }
                ]
            },
            "OOMKilled",
        ),
        ({"reason": "Evicted", "message": "The node was low on resource: memory."}, "Evicted"),
    ],
)
def test_waiting_reasons(status: dict[str, Any], reason: str) -> None:
    found = pod_waiting({"status": {"phase": "Pending", **status}})
    assert found is not None and found.reason == reason


def test_a_progressing_pod_is_not_waiting() -> None:
    creating = {
        "containerStatuses": [{"name": "c", "state": {"waiting": {"reason": "ContainerCreating"}}}]
    }
    assert pod_waiting({"status": {"phase": "Pending", **creating}}) is None
    assert pod_waiting(pod("Running")) is None


def test_status_round_trip_with_kubeflow_field_names() -> None:
    raw = {
        "applicationState": {"state": "RUNNING", "errorMessage": ""},
        "sparkApplicationId": "spark-1",
        "submissionID": "abc",
        "lastSubmissionAttemptTime": "2025-01-01T11:59:00Z",
        "terminationTime": None,
        "driverInfo": {
            "podName": "pi-driver",
            "webUIServiceName": "pi-ui-svc",
            "webUIPort": 4040,
            "webUIAddress": "10.0.0.1:4040",
        },
        "executorState": {"pi-exec-1": "RUNNING"},
        "executionAttempts": 1,
        "submissionAttempts": 1,
    }
    status = AppStatus.from_raw(raw)
    assert status.state is AppState.RUNNING and status.driver_info.web_ui_port == 4040
    assert status.to_raw() == {**raw, "applicationState": {"state": "RUNNING"}}


def test_unknown_or_missing_status_reads_safely() -> None:
    assert AppStatus.from_raw(None).state is AppState.NEW
    assert AppStatus.from_raw({"applicationState": {"state": "BANANA"}}).state is AppState.UNKNOWN
    assert AppStatus.from_raw({"submissionAttempts": "x"}).submission_attempts == 0


def test_reset_rules_match_kubeflow() -> None:
    full = AppStatus(
        state=AppState.FAILING,
        error_message="boom",
        spark_application_id="spark-1",
        submission_id="abc",
        last_submission_attempt_time=NOW,
        termination_time=NOW,
        driver_info=DriverInfo(pod_name="pi-driver"),
        executor_state={"e": "FAILED"},
        execution_attempts=2,
        submission_attempts=2,
    )
    rerun = full.reset_for(AppState.FAILING)
    assert (
        rerun.termination_time is None
        and rerun.driver_info == DriverInfo()
        and not rerun.executor_state
    )
    assert rerun.submission_attempts == 2 and rerun.last_submission_attempt_time == NOW
    invalidated = full.reset_for(AppState.INVALIDATING)
    assert invalidated.submission_attempts == 0 and invalidated.execution_attempts == 0
    assert invalidated.last_submission_attempt_time is None
    suspended = full.reset_for(AppState.SUSPENDED)
    assert suspended.termination_time == NOW and suspended.driver_info == DriverInfo()


def test_merge_patch_removes_and_nests() -> None:
    old = {"a": 1, "b": {"c": 2, "d": 3}, "gone": True}
    new = {"a": 1, "b": {"c": 4}}
    assert merge_patch(old, new) == {"gone": None, "b": {"c": 4, "d": None}}
    assert merge_patch(new, new) == {}


def test_failure_message_names_the_eviction() -> None:
    evicted = pod("Failed", exit_code=137, reason="Evicted", message="The node was low on memory.")
    evicted["status"]["containerStatuses"][0]["state"]["terminated"]["reason"] = (
        "ContainerStatusUnknown"
    )
    text = driver_failure_message(evicted)
    assert text.startswith("driver pod Evicted: The node was low on memory.")
    assert "ExitCode: 137" in text
    assert driver_failure_message(pod("Failed", exit_code=1)) == (
        "driver container failed with ExitCode: 1, Reason: Error"
    )


@pytest.mark.parametrize(
    ("app_state", "expected"),
    [
        (AppState.RUNNING, ExecutorState.UNKNOWN),
        (AppState.COMPLETED, ExecutorState.COMPLETED),
        (AppState.SUCCEEDING, ExecutorState.FAILED),
        (AppState.FAILING, ExecutorState.FAILED),
        (AppState.FAILED, ExecutorState.FAILED),
    ],
)
def test_an_executor_pod_that_vanished_settles_as_kubeflow_settles_it(
    app_state: AppState, expected: ExecutorState
) -> None:
    """kubeflow's updateExecutorState: only COMPLETED (not SUCCEEDING) implies it finished."""
    assert vanished_executor_state(app_state) is expected
