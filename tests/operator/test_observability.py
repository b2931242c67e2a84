"""``kubespark operator`` as a process: kubeflow's metric names, health, JSON logs, SIGTERM."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from operator_harness import running_cluster, spark_pi

from kubespark.operator.metrics import parse_exposition

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)


async def test_metrics_health_json_logs_and_graceful_stop(
    emulator_factory: Any, tmp_path: Path
) -> None:
    async with running_cluster(emulator_factory, "1.19", operator=False) as cluster:
        port = _free_port()
        log = tmp_path / "operator.log"
        command = [
            sys.executable,
            "-m",
            "kubespark",
            "operator",
            "--kubeconfig",
            str(cluster.kubeconfig),
            "--standalone",
            "--metrics-port",
            str(port),
            "--log-json",
        ]
        process = _start(command, log)
        try:
            app = spark_pi("observed", run_seconds=4)
            app["metadata"]["labels"] = {"app-type": "batch"}
            await cluster.create(app)
            await cluster.wait_state("observed", "COMPLETED", within=60)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                metrics = (await http.get("/metrics")).text
                health = (await http.get("/healthz")).json()
                ready = await http.get("/readyz")
            values = parse_exposition(metrics)
            assert values['spark_application_submit_count{app_type="batch"}'] == 1
            assert values['spark_application_success_count{app_type="batch"}'] == 1
            assert values['spark_application_running_count{app_type="batch"}'] == 0
            assert "# TYPE spark_application_count counter" in metrics
            assert health["active"] is True and health["applications"] == 1
            assert ready.status_code == 200
        finally:
            process.send_signal(signal.SIGTERM)
            code = await asyncio.to_thread(process.wait, 30)
        assert code == 0
        lines = [line for line in log.read_text().splitlines() if line.strip()]
        records = [json.loads(line) for line in lines]  # every line is a JSON object
        messages = [r.get("message", "") for r in records]
        assert any("kubespark operator" in m and "Kubernetes 1.19" in m for m in messages)
        assert any(m.startswith("kubespark operator") and m.endswith("stopped") for m in messages)


async def test_a_taken_metrics_port_stops_the_operator_at_start(
    emulator_factory: Any, tmp_path: Path
) -> None:
    async with running_cluster(emulator_factory, "1.19", operator=False) as cluster:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen(1)
            port = taken.getsockname()[1]
            command = [
                *(sys.executable, "-m", "kubespark", "operator"),
                *("--kubeconfig", str(cluster.kubeconfig), "--standalone"),
                *("--metrics-host", "127.0.0.1", "--metrics-port", str(port)),
            ]
            result = await asyncio.to_thread(
                subprocess.run, command, capture_output=True, text=True, timeout=60, check=False
            )
    assert result.returncode == 2, result.stderr
    assert "--metrics-port" in result.stderr and str(port) in result.stderr
    assert "Traceback" not in result.stderr
