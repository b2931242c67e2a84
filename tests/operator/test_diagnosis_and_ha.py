"""A SUBMISSION_FAILED carries the doctor's diagnosis; replicas elect one active operator.

- An operator told the server is 1.21 (``--k8s 1.21``, as a stale capability cache would) plans
  server-side apply for Spark 3.5's driver Service; the emulated 1.19 answers with the HTTP 500
  that breaks kubeflow's operator, and the application ends SUBMISSION_FAILED naming the known
  issue and its remedy, in status and in an Event, with nothing left behind.
- Two ``kubespark operator`` processes with kopf peering: one is active; when it stops, the other
  takes over and the applications still complete.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from operator_harness import VERSIONS, running_cluster, spark_pi, start_operator

pytestmark = pytest.mark.slow


async def test_submission_failure_carries_the_diagnosis(emulator_factory: Any) -> None:
    async with running_cluster(emulator_factory, "1.19", operator=False) as cluster:
        cluster.operator = start_operator(cluster.kubeconfig, kubernetes_version="1.21")
        await cluster.create(spark_pi("ssa"))
        done = await cluster.wait_state("ssa", "FAILED", within=30)
        assert cluster.log.states["ssa"] == ["", "SUBMISSION_FAILED", "FAILED"]
        message = done["status"]["applicationState"]["errorMessage"]
        assert "failed to create typed patch object" in message
        assert "known issue spark35-ssa-old-k8s" in message and "remedy:" in message
        event = await cluster.wait_event("ssa", "SparkApplicationDiagnosis")
        assert "spark35-ssa-old-k8s" in event["message"]
        for _ in range(100):  # undone, as spark-submit does (the pod ends its grace period)
            if not await cluster.pods("sparkoperator.k8s.io/app-name=ssa"):
                break
            await asyncio.sleep(0.1)
        assert not await cluster.pods("sparkoperator.k8s.io/app-name=ssa")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _replica(kubeconfig: Path, port: int, priority: int, log: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "kubespark",
        "operator",
        "--kubeconfig",
        str(kubeconfig),
        "--peering",
        "kubespark-test",
        "--priority",
        str(priority),
        "--metrics-port",
        str(port),
    ]
    with log.open("ab") as out:
        return subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


async def _health(port: int) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        for _ in range(100):
            try:
                answer: dict[str, Any] = (await http.get(f"http://127.0.0.1:{port}/healthz")).json()
                return answer
            except httpx.HTTPError:
                await asyncio.sleep(0.2)
    raise AssertionError(f"no health answer on {port}")


@pytest.mark.parametrize("version", VERSIONS)
async def test_replicas_elect_one_active_and_fail_over(
    emulator_factory: Any, version: str, tmp_path: Path
) -> None:
    async with running_cluster(emulator_factory, version, operator=False) as cluster:
        ports = (_free_port(), _free_port())
        log = tmp_path / "replicas.log"
        high = _replica(cluster.kubeconfig, ports[0], 200, log)
        low = _replica(cluster.kubeconfig, ports[1], 100, log)
        try:
            for _ in range(100):
                states = [(await _health(p))["active"] for p in ports]
                if states == [True, False]:
                    break
                await asyncio.sleep(0.2)
            assert states == [True, False], log.read_text()[-3000:]
            await cluster.create(spark_pi("ha-1", run_seconds=4))
            await cluster.wait_state("ha-1", "COMPLETED", within=60)
            assert (await _health(ports[0]))["applications"] == 1
            assert (await _health(ports[1]))["applications"] == 0  # the standby did nothing
            high.send_signal(signal.SIGTERM)  # graceful: it leaves the peering at once
            assert await asyncio.to_thread(high.wait, 30) == 0
            for _ in range(100):
                if (await _health(ports[1]))["active"]:
                    break
                await asyncio.sleep(0.2)
            assert (await _health(ports[1]))["active"], log.read_text()[-3000:]
            await cluster.create(spark_pi("ha-2", run_seconds=4))
            done = await cluster.wait_state("ha-2", "COMPLETED", within=60)
            assert done["status"]["submissionAttempts"] == 1
        finally:
            for process in (high, low):
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(10)
