"""A restarted container's previous log, as the kubelet keeps it, read by kubectl and over HTTP.

The kubelet keeps the log of a container's previous instance (the one in ``lastState``) and
answers ``log?previous=true`` from it; with no previous instance it answers 400 ``previous
terminated container "C" in pod "P" not found``, which kubectl prints as it would from a real
cluster. In back-off the current log is the last instance's, as ``validateContainerLogStatus``
picks it.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from kubespark.emulator.testing import RunningEmulator

KUBECTL = shutil.which("kubectl")
PODS = "/api/v1/namespaces/default/pods"


def crashing_pod(name: str = "web", run_seconds: int = 2) -> dict[str, Any]:
    """A pod whose container exits 1 after ``run_seconds`` emulated seconds (x20 speed)."""
    return {
        "metadata": {
            "name": name,
            "annotations": {
                "kubespark.io/emulate-run-seconds": str(run_seconds),
                "kubespark.io/emulate-exit-code": "1",
                "kubespark.io/emulate-log": "starting\ncrashed",
            },
        },
        "spec": {
            "restartPolicy": "Always",
            "containers": [{"name": "app", "image": "busybox"}],
        },
    }


def until(check: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        time.sleep(0.05)


def container_status(client: httpx.Client, name: str = "web") -> dict[str, Any]:
    statuses = client.get(f"{PODS}/{name}").json().get("status", {}).get("containerStatuses")
    return dict(statuses[0]) if statuses else {}


def test_previous_log_over_http(emulator: RunningEmulator) -> None:
    with httpx.Client(base_url=emulator.url, timeout=10) as client:
        assert client.post(PODS, json=crashing_pod()).status_code == 201
        until(lambda: "running" in container_status(client).get("state", {}))
        none = client.get(f"{PODS}/web/log", params={"previous": "true"})
        assert none.status_code == 400
        assert none.json()["message"] == (
            'previous terminated container "app" in pod "web" not found'
        )
        assert none.json()["reason"] == "BadRequest"
        # Back-off after the first exit: the current log is the instance that ended.
        until(lambda: "waiting" in container_status(client).get("state", {}))
        assert client.get(f"{PODS}/web/log").text == "starting\ncrashed\n"
        assert client.get(f"{PODS}/web/log", params={"previous": "1"}).text == (
            "starting\ncrashed\n"
        )
        # Restarted: lastState keeps the ended instance; its log is the previous one.
        until(lambda: container_status(client).get("restartCount", 0) >= 1)
        until(lambda: "running" in container_status(client).get("state", {}))
        status = container_status(client)
        assert status["lastState"]["terminated"]["exitCode"] == 1
        previous = client.get(f"{PODS}/web/log", params={"previous": "true", "tailLines": "1"})
        assert previous.status_code == 200 and previous.text == "crashed\n"


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
def test_kubectl_logs_previous(emulator: RunningEmulator, tmp_path: Path) -> None:
    assert KUBECTL is not None

    def kubectl(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [KUBECTL, "--kubeconfig", str(emulator.kubeconfig_path), "--cache-dir"]
        cmd += [str(tmp_path / "cache"), *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)

    with httpx.Client(base_url=emulator.url, timeout=10) as client:
        # Long enough a first instance (3 s) for kubectl to ask while it runs.
        assert client.post(PODS, json=crashing_pod(run_seconds=60)).status_code == 201
        until(lambda: "running" in container_status(client).get("state", {}))
        missing = kubectl("logs", "web", "--previous")
        assert missing.returncode == 1
        assert (
            'Error from server (BadRequest): previous terminated container "app" in pod "web" '
            "not found" in missing.stderr
        )
        until(lambda: container_status(client).get("restartCount", 0) >= 1)
    shown = kubectl("logs", "web", "-p")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == "starting\ncrashed\n"
