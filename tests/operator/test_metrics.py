"""Prometheus metrics with kubeflow v2's names and counting rules (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kubespark.operator.metrics import OperatorMetrics, iter_names, parse_exposition

NOW = datetime(2025, 1, 1, 0, 1, tzinfo=UTC)

# internal/metrics of kubeflow/spark-operator v2 (pkg/common/metrics.go).
KUBEFLOW_FAMILIES = {
    "spark_application_count",
    "spark_application_submit_count",
    "spark_application_failed_submission_count",
    "spark_application_running_count",
    "spark_application_success_count",
    "spark_application_failure_count",
    "spark_application_success_execution_time_seconds",
    "spark_application_failure_execution_time_seconds",
    "spark_application_submit_latency_seconds",
    "spark_application_submit_latency_seconds_histogram",
    "spark_application_start_latency_seconds",
    "spark_application_start_latency_seconds_histogram",
    "spark_executor_running_count",
    "spark_executor_success_count",
    "spark_executor_failure_count",
}


def app(state: str, **status: Any) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "pi",
            "namespace": "default",
            "labels": {"app-type": "etl"},
            "creationTimestamp": "2025-01-01T00:00:00Z",
        },
        "status": {"applicationState": {"state": state}, **status},
    }


def test_family_names_are_kubeflows_without_total_suffix() -> None:
    text = OperatorMetrics().render().decode()
    names = set(iter_names(text))
    assert names >= KUBEFLOW_FAMILIES
    assert not any(n.endswith("_total") for n in names)


def test_a_run_moves_the_counts() -> None:
    metrics = OperatorMetrics(labels=("app_type", "namespace"))
    new = app("")
    metrics.app_created(new, NOW)
    submitted = app("SUBMITTED", submissionAttempts=1)
    metrics.app_updated(new, submitted, NOW)
    running = app("RUNNING", executionAttempts=1)
    metrics.app_updated(submitted, running, NOW)
    done = app(
        "COMPLETED",
        lastSubmissionAttemptTime="2025-01-01T00:00:10Z",
        terminationTime="2025-01-01T00:00:40Z",
    )
    metrics.app_updated(running, done, NOW)
    values = parse_exposition(metrics.render().decode())
    labels = '{app_type="etl",namespace="default"}'
    assert values["spark_application_count" + labels] == 1
    assert values["spark_application_submit_count" + labels] == 1
    assert values["spark_application_running_count" + labels] == 0
    assert values["spark_application_success_count" + labels] == 1
    assert values["spark_application_success_execution_time_seconds_sum" + labels] == 30
    assert values["spark_application_submit_latency_seconds_sum" + labels] == 60
    bucket = '{app_type="etl",le="60.0",namespace="default"}'
    assert values["spark_application_start_latency_seconds_histogram_bucket" + bucket] == 1


def test_executor_counts() -> None:
    metrics = OperatorMetrics()
    pending = {"metadata": {"labels": {}}, "status": {"phase": "Pending"}}
    running = {"metadata": {"labels": {}}, "status": {"phase": "Running"}}
    failed = {"metadata": {"labels": {}}, "status": {"phase": "Failed"}}
    metrics.executor_seen(None, pending)
    metrics.executor_seen(pending, running)
    values = parse_exposition(metrics.render().decode())
    assert values['spark_executor_running_count{app_type="Unknown"}'] == 1
    metrics.executor_seen(running, failed)
    values = parse_exposition(metrics.render().decode())
    assert values['spark_executor_running_count{app_type="Unknown"}'] == 0
    assert values['spark_executor_failure_count{app_type="Unknown"}'] == 1


def _in_state(name: str, state: str, created: str, submitted: str | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {"applicationState": {"state": state}} if state != "NEW" else {}
    if submitted is not None:
        status["lastSubmissionAttemptTime"] = submitted
    return {"metadata": {"name": name, "creationTimestamp": created}, "status": status}


def test_state_gauges_count_applications_and_the_oldest_wait_in_each_state() -> None:
    metrics = OperatorMetrics()
    apps = [
        _in_state("a", "NEW", "2025-01-01T00:00:30Z"),
        _in_state("b", "NEW", "2025-01-01T00:00:00Z"),
        # SUBMITTED waits since its last submission attempt, not since creation.
        _in_state("c", "SUBMITTED", "2024-12-31T00:00:00Z", "2025-01-01T00:00:50Z"),
        _in_state("d", "SUBMITTED", "2024-12-31T00:00:00Z", "2025-01-01T00:00:40Z"),
        _in_state("e", "RUNNING", "2025-01-01T00:02:00Z"),  # later than now: no negative wait
    ]
    metrics.observe_states(apps, NOW)
    values = parse_exposition(metrics.render().decode())
    assert values['kubespark_operator_applications{state="NEW"}'] == 2
    assert values['kubespark_operator_applications{state="SUBMITTED"}'] == 2
    assert values['kubespark_operator_oldest_in_state_seconds{state="NEW"}'] == 60
    assert values['kubespark_operator_oldest_in_state_seconds{state="SUBMITTED"}'] == 20
    assert values['kubespark_operator_oldest_in_state_seconds{state="RUNNING"}'] == 0
    # A state left empty reads zero, it does not keep its last value.
    metrics.observe_states(apps[:2], NOW)
    values = parse_exposition(metrics.render().decode())
    assert values['kubespark_operator_applications{state="SUBMITTED"}'] == 0
    assert values['kubespark_operator_oldest_in_state_seconds{state="SUBMITTED"}'] == 0
