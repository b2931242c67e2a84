"""SparkApplications through kubeflow's states on emulated servers of 1.16, 1.19, 1.21 and newest.

Each test starts one emulator with the CRDs and the operator, then runs several applications at
once, each exercising one path of the state machine; the operator's decisions are judged from a
watch of the applications (every state they passed through), their status and their Events.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import Any

import pytest
from operator_harness import (
    CLUSTER_VERSIONS,
    Cluster,
    running_cluster,
    spark_pi,
    state_of,
    unsubmittable,
)

SUCCESS_PATH = ["", "SUBMITTED", "RUNNING", "SUCCEEDING", "COMPLETED"]


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _driver(**annotations: str) -> dict[str, Any]:
    return {
        "driver": {"annotations": {f"kubespark.io/emulate-{k}": v for k, v in annotations.items()}}
    }


async def _completes(cluster: Cluster, version: str) -> None:
    # 40 emulated seconds are 2 s at the tests' speed: long enough to be seen running under load.
    await cluster.create(spark_pi("pi", run_seconds=40))
    done = await cluster.wait_state("pi", "COMPLETED", "FAILED")
    assert cluster.log.states["pi"] == SUCCESS_PATH
    status = done["status"]
    assert status["submissionAttempts"] == 1 and status["executionAttempts"] == 1
    assert status["driverInfo"]["podName"] == "pi-driver"
    assert status["driverInfo"]["webUIServiceName"] == "pi-ui-svc"
    assert status["driverInfo"]["webUIPort"] == 4040
    assert status["sparkApplicationId"].startswith("spark-")
    assert status["sparkVersion"] == "3.5.1"
    assert status["lastSubmissionAttemptTime"] <= status["terminationTime"]
    # The driver deletes its executors on the way out; their last state follows.
    settled = await cluster.wait_for(
        "pi", lambda o: set(o["status"].get("executorState", {}).values()) == {"COMPLETED"}
    )
    [executor] = settled["status"]["executorState"]
    assert re.fullmatch(r"pi-[0-9a-f]{16}-exec-1", executor)
    # Events are written after the status they describe: wait for the last one, not a snapshot.
    await cluster.wait_event("pi", "SparkDriverCompleted")
    reasons = {e["reason"] for e in await cluster.events("pi")}
    assert {"SparkApplicationSubmitted", "SparkDriverRunning"} <= reasons
    # kubeflow records no Event for SUCCEEDING to COMPLETED (reconcileSucceedingSparkApplication
    # never calls recordSparkApplicationEvent); recorded, it would be queued before the
    # COMPLETED write, so it would have been posted by now.
    assert "SparkApplicationCompleted" not in reasons


async def _fails_without_retry(cluster: Cluster) -> None:
    await cluster.create(spark_pi("crash", **_driver(**{"exit-code": "3", "run-seconds": "40"})))
    done = await cluster.wait_state("crash", "FAILED")
    assert cluster.log.states["crash"] == ["", "SUBMITTED", "RUNNING", "FAILING", "FAILED"]
    assert "ExitCode: 3" in done["status"]["applicationState"]["errorMessage"]
    assert done["status"]["executionAttempts"] == 1


async def _retries_with_linear_backoff(cluster: Cluster) -> None:
    policy = {"type": "OnFailure", "onFailureRetries": 2, "onFailureRetryInterval": 1}
    await cluster.create(
        spark_pi(
            "retry", restartPolicy=policy, **_driver(**{"exit-code": "1", "run-seconds": "30"})
        )
    )
    starts: list[str] = []

    def attempt_started(obj: dict[str, Any]) -> bool:
        start = (obj.get("status") or {}).get("lastSubmissionAttemptTime")
        if start and (not starts or starts[-1] != start):
            starts.append(start)
        return state_of(obj) == "FAILED"

    done = await cluster.wait_for("retry", attempt_started, within=60, what="FAILED")
    rerun = ["SUBMITTED", "RUNNING", "FAILING", "PENDING_RERUN"]
    assert cluster.log.states["retry"] == ["", *rerun, *rerun, *rerun[:3], "FAILED"]
    assert done["status"]["executionAttempts"] == 3
    assert done["status"]["submissionAttempts"] == 3
    # kubeflow's linear back-off: retry n waits n x interval after the previous attempt started.
    times = [_time(s) for s in starts]
    assert len(times) == 3
    assert (times[1] - times[0]).total_seconds() >= 1
    assert (times[2] - times[1]).total_seconds() >= 2


async def _submission_failure_is_retried_then_failed(cluster: Cluster) -> None:
    await cluster.create(unsubmittable("nosa"))
    done = await cluster.wait_state("nosa", "FAILED", within=30)
    assert cluster.log.states["nosa"] == ["", "SUBMISSION_FAILED", "FAILED"]
    status = done["status"]
    assert status["submissionAttempts"] == 2 and status.get("executionAttempts", 0) == 0
    assert (
        'serviceaccount "no-such-account" not found' in status["applicationState"]["errorMessage"]
    )
    assert not await cluster.pods("sparkoperator.k8s.io/app-name=nosa")  # nothing left behind
    event = await cluster.wait_event("nosa", "SparkApplicationSubmissionFailed")
    assert "no-such-account" in event["message"]


async def _invalid_application_fails_naming_the_field(cluster: Cluster) -> None:
    app = spark_pi("invalid")
    del app["spec"]["mainApplicationFile"]
    await cluster.create(app)
    done = await cluster.wait_state("invalid", "FAILED")
    message = done["status"]["applicationState"]["errorMessage"]
    assert "spec.mainApplicationFile" in message and "fix:" in message
    assert cluster.log.states["invalid"] == ["", "FAILED"]
    await cluster.elapse(10)  # no crash loop: it stays FAILED, no driver was ever created
    assert cluster.log.states["invalid"] == ["", "FAILED"]
    assert not await cluster.pods("sparkoperator.k8s.io/app-name=invalid")


async def _waiting_reason_is_reported(cluster: Cluster) -> None:
    await cluster.create(spark_pi("pull", **_driver(**{"image-pull-failure": "true"})))
    waiting = await cluster.wait_for(
        "pull", lambda o: (o.get("status") or {}).get("waiting", {}).get("reason", "") != ""
    )
    assert state_of(waiting) == "SUBMITTED"
    assert waiting["status"]["waiting"]["reason"] in ("ErrImagePull", "ImagePullBackOff")
    event = await cluster.wait_event("pull", "SparkDriverWaiting")
    assert "ImagePull" in event["message"] or "ErrImagePull" in event["message"]


async def _oom_killed_driver_fails_with_reason(cluster: Cluster) -> None:
    await cluster.create(spark_pi("oom", **_driver(**{"oom-killed": "true", "run-seconds": "2"})))
    done = await cluster.wait_state("oom", "FAILED")
    assert "OOMKilled" in done["status"]["applicationState"]["errorMessage"]


async def _ttl_deletes_the_application(cluster: Cluster) -> None:
    await cluster.create(spark_pi("ttl", timeToLiveSeconds=1, **_driver(**{"run-seconds": "2"})))
    await cluster.wait_state("ttl", "COMPLETED")
    await cluster.gone("ttl", within=15)


@pytest.mark.parametrize("version", CLUSTER_VERSIONS)
async def test_state_machine_paths(emulator_factory: Any, version: str) -> None:
    # Fake time for the operator (retry intervals, TTL, grace): it flows only while the test
    # waits, ten times faster than real time; the emulated drivers run on the emulator's clock.
    async with (
        running_cluster(
            emulator_factory, version, fake_time=True, driver_pod_creation_grace=30.0
        ) as cluster,
        cluster.time_flows(),
    ):
        await asyncio.gather(
            _completes(cluster, version),
            _fails_without_retry(cluster),
            _retries_with_linear_backoff(cluster),
            _submission_failure_is_retried_then_failed(cluster),
            _invalid_application_fails_naming_the_field(cluster),
            _waiting_reason_is_reported(cluster),
            _oom_killed_driver_fails_with_reason(cluster),
            _ttl_deletes_the_application(cluster),
        )


async def _spec_change_reruns(cluster: Cluster) -> None:
    await cluster.create(spark_pi("change", run_seconds=60))
    running = await cluster.wait_state("change", "RUNNING")
    first_id = running["status"]["submissionID"]
    first_pod = (await cluster.pods("sparkoperator.k8s.io/app-name=change,spark-role=driver"))[0]

    def change(spec: dict[str, Any]) -> None:
        spec["arguments"] = ["1000"]
        spec["driver"]["annotations"]["kubespark.io/emulate-run-seconds"] = "40"
        # Real Spark names executors after a prefix drawn at each driver start; the emulated
        # driver names them after the pod, so a rerun must not meet the old executors.
        spec["sparkConf"] = {"spark.kubernetes.executor.podNamePrefix": "change-rerun"}

    await cluster.update_spec("change", change)
    done = await cluster.wait_for(
        "change",
        lambda o: state_of(o) == "COMPLETED" and o["status"]["submissionID"] != first_id,
        within=45,
    )
    states = cluster.log.states["change"]
    assert states[:3] == ["", "SUBMITTED", "RUNNING"]
    assert states[3:] == ["INVALIDATING", "PENDING_RERUN", *SUCCESS_PATH[1:]]
    assert done["status"]["submissionAttempts"] == 1  # invalidation starts the count afresh
    drivers = await cluster.pods("sparkoperator.k8s.io/app-name=change,spark-role=driver")
    assert len(drivers) == 1
    assert drivers[0]["metadata"]["uid"] != first_pod["metadata"]["uid"]
    labels = drivers[0]["metadata"]["labels"]
    assert labels["sparkoperator.k8s.io/submission-id"] == done["status"]["submissionID"]


async def _suspend_and_resume(cluster: Cluster) -> None:
    await cluster.create(spark_pi("pause", run_seconds=60))
    await cluster.wait_state("pause", "RUNNING")

    def suspend(spec: dict[str, Any]) -> None:
        spec["suspend"] = True

    await cluster.update_spec("pause", suspend)
    suspended = await cluster.wait_state("pause", "SUSPENDED")
    assert "podName" not in suspended["status"].get("driverInfo", {})
    await asyncio.sleep(0.5)
    assert not await cluster.pods("sparkoperator.k8s.io/app-name=pause,spark-role=driver")

    def resume(spec: dict[str, Any]) -> None:
        spec["suspend"] = False
        spec["driver"]["annotations"]["kubespark.io/emulate-run-seconds"] = "40"
        spec["sparkConf"] = {"spark.kubernetes.executor.podNamePrefix": "pause-resumed"}

    # Changing a run annotation with resume is a spec change too: it runs the new spec.
    await cluster.update_spec("pause", resume)
    done = await cluster.wait_state("pause", "COMPLETED", within=45)
    states = cluster.log.states["pause"]
    assert states[:3] == ["", "SUBMITTED", "RUNNING"]
    assert states[3:5] == ["SUSPENDING", "SUSPENDED"]
    assert "RESUMING" in states and states[-1] == "COMPLETED"
    assert done["status"]["submissionAttempts"] >= 2
    reasons = {e["reason"] for e in await cluster.events("pause")}
    assert {
        "SparkApplicationSuspending",
        "SparkApplicationSuspended",
        "SparkApplicationResuming",
    } <= reasons


@pytest.mark.parametrize("version", CLUSTER_VERSIONS)
async def test_spec_change_and_suspend(emulator_factory: Any, version: str) -> None:
    async with running_cluster(emulator_factory, version) as cluster:
        await asyncio.gather(_spec_change_reruns(cluster), _suspend_and_resume(cluster))
