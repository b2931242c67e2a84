"""The Events kubeflow's controller records on each failure path, pinned against kubespark's.

Source: kubeflow/spark-operator internal/controller/sparkapplication/controller.go at commit
38082f3318e9d33f3e4a940c7cf165df6e40b422: reconcileFailingSparkApplication (lines 652-700)
never calls recordSparkApplicationEvent, so FAILING -> FAILED and FAILING -> PENDING_RERUN record
nothing; reconcilePendingRerunSparkApplication (543-577) records SparkApplicationPendingRerun once,
when the old run's resources are gone; reconcileFailedSubmissionSparkApplication (447-500)
records SparkApplicationFailed when submission retries are exhausted; submitSparkApplication
(949-1008) records SparkApplicationSubmitted or SparkApplicationSubmissionFailed per attempt.
The table is in docs/kubeflow-parity.md, "Events on failure".

Absence is judged after the operator stopped: a graceful stop flushes the Event queue, so an
Event recorded before the last status write would be on the server by then.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from operator_harness import Cluster, running_cluster, spark_pi, unsubmittable

Triple = tuple[str, str, str]  # (type, reason, message)


def _driver_exits(code: str) -> dict[str, Any]:
    annotations = {"kubespark.io/emulate-exit-code": code, "kubespark.io/emulate-run-seconds": "4"}
    return {"driver": {"annotations": annotations}}


# The reasons recordSparkApplicationEvent can record (lines 1366-1452); kubespark's own
# SparkApplicationCompatNotes and SparkApplicationDiagnosis have no kubeflow counterpart.
STATE_REASONS = frozenset(
    "SparkApplication" + suffix
    for suffix in (
        "Added",
        "Submitted",
        "SubmissionFailed",
        "Completed",
        "Failed",
        "PendingRerun",
        "Suspending",
        "Suspended",
        "Resuming",
    )
)


def _application_events(events: list[dict[str, Any]]) -> Counter[Triple]:
    """The Events recordSparkApplicationEvent would record (not recordDriverEvent's)."""
    return Counter(
        (e["type"], e["reason"], e["message"]) for e in events if e["reason"] in STATE_REASONS
    )


async def _fail_without_retry(cluster: Cluster) -> None:
    await cluster.create(spark_pi("crash", **_driver_exits("3")))
    await cluster.wait_state("crash", "FAILED", within=60)
    await cluster.wait_event("crash", "SparkDriverFailed")


async def _fail_after_one_rerun(cluster: Cluster) -> None:
    policy = {"type": "OnFailure", "onFailureRetries": 1, "onFailureRetryInterval": 1}
    await cluster.create(spark_pi("rerun", restartPolicy=policy, **_driver_exits("1")))
    await cluster.wait_state("rerun", "FAILED", within=60)
    await cluster.wait_event("rerun", "SparkApplicationPendingRerun")


async def _submission_retries_exhausted(cluster: Cluster) -> None:
    await cluster.create(unsubmittable("nosa"))
    await cluster.wait_state("nosa", "FAILED", within=60)
    await cluster.wait_event("nosa", "SparkApplicationFailed")


async def test_failure_paths_record_kubeflow_events(emulator_factory: Any) -> None:
    async with running_cluster(emulator_factory, fake_time=True) as cluster:
        async with cluster.time_flows():
            await asyncio.gather(
                _fail_without_retry(cluster),
                _fail_after_one_rerun(cluster),
                _submission_retries_exhausted(cluster),
            )
        assert cluster.operator is not None
        cluster.operator.stop()  # flushes the Event queue
        cluster.operator = None
        assert cluster.log.states["crash"] == ["", "SUBMITTED", "RUNNING", "FAILING", "FAILED"]
        assert cluster.log.states["rerun"] == [
            "",
            *["SUBMITTED", "RUNNING", "FAILING", "PENDING_RERUN"],
            *["SUBMITTED", "RUNNING", "FAILING", "FAILED"],
        ]
        assert cluster.log.states["nosa"] == ["", "SUBMISSION_FAILED", "FAILED"]

        submitted = "SparkApplication {} was submitted successfully"
        # FAILING -> FAILED: no SparkApplicationFailed; the driver's Event told the failure.
        crash = await cluster.events("crash")
        assert _application_events(crash) == Counter(
            {("Normal", "SparkApplicationSubmitted", submitted.format("crash")): 1}
        )
        assert [e["type"] for e in crash if e["reason"] == "SparkDriverFailed"] == ["Warning"]
        # FAILING -> PENDING_RERUN records nothing; PENDING_RERUN -> resubmitted records one.
        rerun = await cluster.events("rerun")
        assert _application_events(rerun) == Counter(
            {
                ("Normal", "SparkApplicationSubmitted", submitted.format("rerun")): 2,
                (
                    "Warning",
                    "SparkApplicationPendingRerun",
                    "SparkApplication rerun is pending rerun",
                ): 1,
            }
        )
        # SUBMISSION_FAILED -> FAILED: one SparkApplicationFailed carrying the submission's error.
        nosa = await cluster.events("nosa")
        app = await cluster.get("nosa")
        error = app["status"]["applicationState"]["errorMessage"]
        assert 'serviceaccount "no-such-account" not found' in error
        reasons = Counter(e["reason"] for e in nosa)
        assert reasons["SparkApplicationSubmissionFailed"] == 2
        assert reasons["SparkApplicationFailed"] == 1
        [failed] = [e for e in nosa if e["reason"] == "SparkApplicationFailed"]
        assert (failed["type"], failed["message"]) == (
            "Warning",
            f"SparkApplication nosa failed: {error}",
        )
