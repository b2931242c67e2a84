"""The operator against a flaky server and a killed process, on 1.16, 1.19, 1.21 and newest.

- Injected 5xx/429 answers and watches cut every second: every application still reaches its
  terminal state, no driver is created twice for one attempt, and no status field is lost.
- ``kubespark operator`` (a real subprocess) killed with SIGKILL in the middle of submissions and
  started again: each submission is adopted, exactly one driver pod per attempt.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from operator_harness import VERSIONS, Cluster, DriverAudit, running_cluster, spark_pi, state_of

from kubespark.emulator import Faults

pytestmark = pytest.mark.slow


def _check_final(cluster: Cluster, audit: DriverAudit, name: str, attempts: int) -> None:
    obj = cluster.log.objects[name]
    status = obj["status"]
    assert status["submissionAttempts"] == attempts, (name, status)
    assert status["executionAttempts"] == attempts, (name, status)
    for field in (
        "submissionID",
        "sparkApplicationId",
        "lastSubmissionAttemptTime",
        "terminationTime",
    ):
        assert status.get(field), (name, field, status)
    assert status["driverInfo"]["podName"] == f"{name}-driver"
    drivers = audit.drivers_of(name)
    per_submission = Counter(sid for sid, _ in drivers)
    assert all(n == 1 for n in per_submission.values()), (name, drivers)
    assert len(per_submission) == attempts, (name, drivers)
    assert status["submissionID"] in per_submission


@pytest.mark.parametrize("version", VERSIONS)
async def test_flaky_server_every_application_terminates(
    emulator_factory: Any, version: str
) -> None:
    faults = {
        "error_rate": 0.15,
        "error_codes": (500, 503, 429),
        "watch_drop_after": 1.0,
        "seed": 7,
    }
    async with running_cluster(emulator_factory, version, operator=False) as cluster:
        audit = DriverAudit()
        audit.install(cluster.emulator)
        cluster.emulator.set_faults(Faults(**faults))
        from operator_harness import start_operator

        cluster.operator = start_operator(cluster.kubeconfig)
        retry = {"type": "OnFailure", "onFailureRetries": 1, "onFailureRetryInterval": 1}
        good = [f"ok-{i}" for i in range(8)]
        bad = [f"bad-{i}" for i in range(2)]
        again = [f"again-{i}" for i in range(2)]
        fail = {
            "annotations": {
                "kubespark.io/emulate-exit-code": "2",
                "kubespark.io/emulate-run-seconds": "4",
            }
        }
        for name in good:
            await cluster.create(spark_pi(name, run_seconds=6))
        for name in bad:
            await cluster.create(spark_pi(name, driver=fail))
        for name in again:
            await cluster.create(spark_pi(name, driver=fail, restartPolicy=retry))
        for name in good + bad + again:
            await cluster.wait_state(name, "COMPLETED", "FAILED", within=120)
        cluster.emulator.set_faults(Faults())
        for name in good:
            assert state_of(cluster.log.objects[name]) == "COMPLETED"
            _check_final(cluster, audit, name, attempts=1)
        for name in bad:
            assert state_of(cluster.log.objects[name]) == "FAILED"
            _check_final(cluster, audit, name, attempts=1)
        for name in again:
            assert state_of(cluster.log.objects[name]) == "FAILED"
            _check_final(cluster, audit, name, attempts=2)
        assert cluster.emulator.emulator.faults.injected > 0


def _operator_process(kubeconfig: Path, log: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "kubespark",
        "operator",
        "--kubeconfig",
        str(kubeconfig),
        "--standalone",
        "--metrics-port",
        "0",
        "--driver-pod-creation-grace",
        "5",
    ]
    with log.open("ab") as out:
        return subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


@pytest.mark.parametrize("version", VERSIONS)
async def test_sigkill_mid_submission_one_driver_per_attempt(
    emulator_factory: Any, version: str, tmp_path: Path
) -> None:
    async with running_cluster(emulator_factory, version, operator=False) as cluster:
        audit = DriverAudit()
        audit.install(cluster.emulator)
        # Slow answers stretch each submission over several round trips: room to kill inside one.
        cluster.emulator.set_faults(Faults(latency_ms=150))
        names = [f"kill-{i}" for i in range(6)]
        log = tmp_path / "operator.log"
        process = _operator_process(cluster.kubeconfig, log)
        try:
            for name in names:
                await cluster.create(spark_pi(name, run_seconds=6))
            # Wait until some driver exists whose application is not yet SUBMITTED: mid-submission.
            for _ in range(400):
                started = {app for app, _, _ in audit.created}
                unrecorded = [n for n in started if state_of(cluster.log.objects.get(n, {})) == ""]
                if unrecorded:
                    break
                await asyncio.sleep(0.01)
            else:
                raise AssertionError(
                    f"never caught a submission in flight; log: {log.read_text()[-2000:]}"
                )
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
            killed_during = set(unrecorded)
            cluster.emulator.set_faults(Faults())
            process = _operator_process(cluster.kubeconfig, log)
            for name in names:
                await cluster.wait_state(name, "COMPLETED", "FAILED", within=90)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(30)
        assert killed_during
        for name in killed_during:  # resubmitted after the restart: its driver was adopted
            notes = cluster.log.objects[name]["status"].get("compatNotes", [])
            assert any("adopted the existing Pod default/" in n for n in notes), notes
        for name in names:
            assert state_of(cluster.log.objects[name]) == "COMPLETED", cluster.log.states[name]
            _check_final(cluster, audit, name, attempts=1)
