"""A killed emulator leaves no Spark process behind: pod processes die with the process kubelet.

The emulator runs as its own process (``kubespark emulate --kubelet process``); a real Spark job
(driver and executors, JVMs and the Python they start) runs in it; then the emulator gets SIGKILL,
so no stop code runs. Every process group of its pods must be gone within seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from realspark_support import need_spark
from typer.testing import CliRunner

from kubespark.cli.app import app as cli

pytestmark = [pytest.mark.realspark, pytest.mark.slow]

NS = "spark-jobs"
JOB = """
import time
from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()
print("kubespark-started", spark.sparkContext.parallelize(range(8), 2).map(lambda x: x).sum(),
      flush=True)
time.sleep(600)
"""


@pytest.fixture
def emulate_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    kubeconfig = tmp_path / "kubeconfig"
    argv = [sys.executable, "-m", "kubespark", "emulate", "--k8s", "1.21", "--kubelet"]
    argv += ["process", "--kubeconfig-out", str(kubeconfig), "-n", NS]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield proc, kubeconfig
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def _server(kubeconfig: Path) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if kubeconfig.exists():
            config = yaml.safe_load(kubeconfig.read_text()) or {}
            clusters = config.get("clusters") or []
            if clusters:
                return str(clusters[0]["cluster"]["server"])
        time.sleep(0.2)
    raise AssertionError("the emulator wrote no kubeconfig")


def _pod_groups(port: str) -> dict[int, list[str]]:
    """Process group -> command names, of the processes an emulator on ``port`` started."""
    mark = f"KUBERNETES_SERVICE_PORT={port}".encode()
    groups: dict[int, list[str]] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
            stat = (proc / "stat").read_text()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        if mark in environ and fields[0] != "Z":
            groups.setdefault(int(fields[2]), []).append(stat.split("(", 1)[1].split(")")[0])
    return groups


def _alive_in(groups: set[int]) -> list[str]:
    left = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        if int(fields[2]) in groups and fields[0] != "Z":
            left.append(f"{proc.name} {stat.split('(', 1)[1].split(')')[0]}")
    return left


def test_sigkill_of_the_emulator_leaves_no_process_of_its_spark_pods(
    emulate_process: tuple[subprocess.Popen[bytes], Path], tmp_path: Path
) -> None:
    need_spark("3.5.1")
    proc, kubeconfig = emulate_process
    url = _server(kubeconfig)
    port = url.rpartition(":")[2]
    with httpx.Client(base_url=url, timeout=10) as client:
        client.post(
            f"/api/v1/namespaces/{NS}/serviceaccounts", json={"metadata": {"name": "spark"}}
        )
        client.post(
            f"/api/v1/namespaces/{NS}/configmaps",
            json={"metadata": {"name": "forever-job"}, "data": {"job.py": JOB}},
        )
    app = {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": "SparkApplication",
        "metadata": {"name": "forever", "namespace": NS},
        "spec": {
            "type": "Python",
            "mode": "cluster",
            "image": "apache/spark:3.5.1",
            "sparkVersion": "3.5.1",
            "mainApplicationFile": "local:///mnt/job/job.py",
            "sparkConf": {"spark.ui.enabled": "false"},
            "volumes": [{"name": "job", "configMap": {"name": "forever-job"}}],
            "driver": {
                "cores": 1,
                "memory": "512m",
                "serviceAccount": "spark",
                "volumeMounts": [{"name": "job", "mountPath": "/mnt/job"}],
            },
            "executor": {"instances": 1, "cores": 1, "memory": "512m"},
        },
    }
    (tmp_path / "app.yaml").write_text(yaml.safe_dump(app))
    result = CliRunner().invoke(
        cli, ["submit", str(tmp_path / "app.yaml"), "--kubeconfig", str(kubeconfig)]
    )
    assert result.exit_code == 0, result.output
    deadline = time.monotonic() + 180
    groups: dict[int, list[str]] = {}
    while time.monotonic() < deadline:
        groups = _pod_groups(port)
        javas = [g for g, names in groups.items() if "java" in names]
        pythons = [g for g, names in groups.items() if any("python" in n for n in names)]
        if len(javas) >= 2 and pythons:  # driver and executor JVMs, the PySpark driver
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"the driver and executor never both ran: {groups}")
    with httpx.Client(base_url=url, timeout=10) as client:  # the job is really running
        answer = client.get(f"/api/v1/namespaces/{NS}/pods/forever-driver/log")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 20
    left = _alive_in(set(groups))
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = _alive_in(set(groups))
    assert left == [], f"left behind: {left} (driver log: {answer.text[-1500:]})"
