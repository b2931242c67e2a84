"""The real spark-submit 3.5.1 against the process kubelet: refused on 1.19, a real job on 1.21.

spark-submit runs here, on the host, in cluster mode; the driver pod it creates runs as a real
Spark driver (and its executors as real executors). The job reaches the pods as a hostPath
volume, the way spark-submit's own volume confs can mount it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest
from realspark_support import need_spark

from kubespark import sparkdist
from kubespark.emulator.testing import RunningEmulator

pytestmark = [pytest.mark.realspark, pytest.mark.slow]

JOB = Path(__file__).parent / "jobs" / "squares.py"
ANSWER = sum(x * x for x in range(1, 100_001))
NS = "spark-jobs"


def _spark_submit(emu: RunningEmulator, job_dir: Path) -> subprocess.CompletedProcess[str]:
    exe = sparkdist.cached_spark_submit("3.5.1")
    java = sparkdist.java_home()
    assert exe is not None and java is not None
    confs = {
        "spark.kubernetes.namespace": NS,
        "spark.kubernetes.container.image": "apache/spark:3.5.1",
        "spark.kubernetes.authenticate.driver.serviceAccountName": "spark",
        "spark.driver.memory": "512m",
        "spark.executor.memory": "512m",
        "spark.executor.instances": "2",
        "spark.ui.enabled": "false",
        "spark.kubernetes.submission.waitAppCompletion": "true",
    }
    for role in ("driver", "executor"):
        prefix = f"spark.kubernetes.{role}.volumes.hostPath.job"
        confs[f"{prefix}.mount.path"] = "/mnt/job"
        confs[f"{prefix}.options.path"] = str(job_dir)
    cmd = [str(exe), "--master", f"k8s://{emu.url}", "--deploy-mode", "cluster"]
    cmd += ["--name", "squares"]
    for key, value in confs.items():
        cmd += ["--conf", f"{key}={value}"]
    cmd.append("local:///mnt/job/squares.py")
    env = sparkdist.spark_env(exe, Path(emu.kubeconfig_path), java)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)


def _prepare(emu: RunningEmulator) -> None:
    with httpx.Client(base_url=emu.url, timeout=10) as client:
        client.post("/api/v1/namespaces", json={"metadata": {"name": NS}})
        account = {"metadata": {"name": "spark"}}
        client.post(f"/api/v1/namespaces/{NS}/serviceaccounts", json=account)


def _driver_log(emu: RunningEmulator) -> str:
    with httpx.Client(base_url=emu.url, timeout=10) as client:
        pods = client.get(
            f"/api/v1/namespaces/{NS}/pods", params={"labelSelector": "spark-role=driver"}
        ).json()["items"]
        if not pods:
            return ""
        return client.get(f"/api/v1/namespaces/{NS}/pods/{pods[0]['metadata']['name']}/log").text


@pytest.mark.parametrize(("k8s", "succeeds"), [("1.19", False), ("1.21", True)])
def test_the_real_spark_submit_351_is_refused_on_119_and_runs_the_job_on_121(
    emulator_factory: object, k8s: str, succeeds: bool
) -> None:
    need_spark("3.5.1")
    emu = emulator_factory(version=k8s, kubelet="process", speed=1)  # type: ignore[operator]
    _prepare(emu)
    result = _spark_submit(emu, JOB.parent)
    output = result.stdout + result.stderr
    if succeeds:
        assert result.returncode == 0, output[-3000:]
        assert f"kubespark-answer {ANSWER}" in _driver_log(emu)
    else:
        assert result.returncode != 0
        # server-side apply of the driver Service, which 1.19 cannot type (the seed case)
        assert "PATCH" in output and "services" in output, output[-3000:]
