"""Leader election across processes: a crashed leader is replaced within 20 s, a stopped one
within 3 s, and no application is submitted twice while the leadership moves.

Replicas are ``kubespark operator`` processes with kopf peering (``--peering-lifetime 15``, the
default). Applications are created before each handover, so some are mid-flight when it happens;
the emulator's own record of driver pods shows one driver per application.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from operator_harness import DriverAudit, running_cluster, spark_pi

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _replica(kubeconfig: Path, port: int, priority: int, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "kubespark", "operator", "--kubeconfig", str(kubeconfig)]
    command += ["--peering", "failover", "--priority", str(priority)]
    command += ["--metrics-port", str(port), "--driver-pod-creation-grace", "5"]
    with log.open("ab") as out:
        return subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


async def _active(port: int) -> bool | None:
    try:
        async with httpx.AsyncClient(timeout=2) as http:
            return bool((await http.get(f"http://127.0.0.1:{port}/healthz")).json()["active"])
    except (httpx.HTTPError, ValueError):
        return None


async def _until_active(port: int, within: float) -> float:
    """Seconds until the replica on ``port`` says it is active."""
    start = time.monotonic()
    while time.monotonic() - start < within:
        if await _active(port):
            return time.monotonic() - start
        await asyncio.sleep(0.1)
    raise AssertionError(f"the replica on {port} did not become active within {within} s")


async def test_takeover_after_a_crash_and_after_a_stop(
    emulator_factory: Any, tmp_path: Path
) -> None:
    async with running_cluster(emulator_factory, "1.21", operator=False) as cluster:
        audit = DriverAudit()
        audit.install(cluster.emulator)
        log = tmp_path / "replicas.log"
        ports = {name: _free_port() for name in ("first", "second", "third")}
        first = _replica(cluster.kubeconfig, ports["first"], 300, log)
        second = _replica(cluster.kubeconfig, ports["second"], 100, log)
        processes = [first, second]
        names: list[str] = []
        try:
            await _until_active(ports["first"], 60)

            async def wave(prefix: str) -> None:
                for i in range(6):
                    names.append(f"{prefix}-{i}")
                    await cluster.create(spark_pi(f"{prefix}-{i}", run_seconds=2))

            await wave("crash")
            await asyncio.sleep(0.5)  # some submitted, some still queued
            os.killpg(first.pid, signal.SIGKILL)
            taken = await _until_active(ports["second"], 30)
            print(f"takeover after SIGKILL: {taken:.1f} s")
            assert taken < 20, f"takeover after a crash took {taken:.1f} s"

            third = _replica(cluster.kubeconfig, ports["third"], 200, log)
            processes.append(third)
            await _until_active(ports["third"], 60)  # the higher priority takes over
            await wave("stop")
            await asyncio.sleep(0.5)
            third.send_signal(signal.SIGTERM)
            taken = await _until_active(ports["second"], 10)
            print(f"takeover after SIGTERM: {taken:.1f} s")
            assert taken < 3, f"takeover after a graceful stop took {taken:.1f} s"
            assert await asyncio.to_thread(third.wait, 30) == 0

            for name in names:
                done = await cluster.wait_state(name, "COMPLETED", within=90)
                assert done["status"]["submissionAttempts"] == 1, name
                assert len(audit.drivers_of(name)) == 1, (name, audit.drivers_of(name))
        finally:
            for process in processes:
                if process.poll() is None:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(10)
