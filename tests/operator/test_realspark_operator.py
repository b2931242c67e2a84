"""The operator running a real PySpark job: the process kubelet's real driver and executors.

The same job as tests/realspark (a ConfigMap holds it, 2 executors), submitted as a
SparkApplication that kubespark's operator runs to COMPLETED on an emulated 1.21.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from operator_harness import running_cluster, spark_pi

from kubespark import sparkdist
from kubespark.kube.requests import JSON, KubeRequest

pytestmark = [pytest.mark.realspark, pytest.mark.slow]

JOB = (Path(__file__).parent.parent / "realspark" / "jobs" / "squares.py").read_text()
ANSWER = sum(x * x for x in range(1, 100_001))


def _skip_without_spark(version: str) -> None:
    if shutil.which("java") is None or os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("the process kubelet needs Java, root and unshare(1)")
    if sparkdist.cached_spark_submit(version) is None:
        pytest.skip(f"pyspark {version} is not cached in {sparkdist.cache_root()}")


async def test_the_operator_runs_a_real_pyspark_job_to_completed(emulator_factory: Any) -> None:
    _skip_without_spark("3.5.1")
    process = {"kubelet": "process", "tls": True, "speed": 1}
    async with running_cluster(emulator_factory, "1.21", emulator=process) as cluster:
        for path, body in (
            ("/api/v1/namespaces/default/serviceaccounts", {"metadata": {"name": "spark"}}),
            (
                "/api/v1/namespaces/default/configmaps",
                {"metadata": {"name": "squares-job"}, "data": {"job.py": JOB}},
            ),
        ):
            await cluster.client.send(KubeRequest("POST", path, (), JSON, body))
        mount = [{"name": "job", "mountPath": "/mnt/job"}]
        app = spark_pi(
            "squares",
            type="Python",
            mainApplicationFile="local:///mnt/job/job.py",
            sparkConf={"spark.ui.enabled": "false"},
            volumes=[{"name": "job", "configMap": {"name": "squares-job"}}],
            driver={"memory": "512m", "serviceAccount": "spark", "volumeMounts": mount},
            executor={"instances": 2, "memory": "512m", "volumeMounts": mount},
        )
        del app["spec"]["mainClass"]
        await cluster.create(app)
        await cluster.wait_state("squares", "COMPLETED", "FAILED", within=300)
        driver = (await cluster.pods("spark-role=driver"))[0]
        path = f"/api/v1/namespaces/default/pods/{driver['metadata']['name']}/log"
        text = "\n".join(
            [line async for line in cluster.client.stream_lines(KubeRequest("GET", path))]
        )
        assert f"kubespark-answer {ANSWER}" in text, text[-3000:]
        state = (await cluster.get("squares"))["status"]["applicationState"]["state"]
        assert state == "COMPLETED"


QUERY = """
import sys
from pyspark.sql import SparkSession
spark = SparkSession.builder.remote(sys.argv[1]).getOrCreate()
print("kubespark-answer", spark.range(1, 100001).selectExpr("sum(id * id) as s").collect()[0]["s"])
spark.stop()
"""


async def _server_log(cluster: Any) -> str:
    log_path = "/api/v1/namespaces/default/pods/sc-server/log"
    request = KubeRequest("GET", log_path)
    return "\n".join([line async for line in cluster.client.stream_lines(request)])


@pytest.mark.network  # the Spark Connect client's grpcio, pandas and pyarrow, installed once
async def test_a_python_client_queries_a_real_spark_connect_server(emulator_factory: Any) -> None:
    """kubeflow's SparkConnect pod run by the process kubelet: Spark 4's real Connect server,
    a real executor, and a real pyspark Connect client's query answered through it."""
    _skip_without_spark("4.0.5")
    client_deps = await asyncio.to_thread(sparkdist.install_connect_client, "4.0.5")
    process = {"kubelet": "process", "tls": True, "speed": 1}
    async with running_cluster(emulator_factory, "1.30", emulator=process) as cluster:
        account = {"metadata": {"name": "spark"}}
        await cluster.client.send(
            KubeRequest("POST", "/api/v1/namespaces/default/serviceaccounts", (), JSON, account)
        )
        connect = {
            "apiVersion": "sparkoperator.k8s.io/v1alpha1",
            "kind": "SparkConnect",
            "metadata": {"name": "sc", "namespace": "default"},
            "spec": {
                "sparkVersion": "4.0.5",
                "image": "apache/spark:4.0.5",
                "sparkConf": {"spark.ui.enabled": "false"},
                "server": {
                    "memory": "512m",
                    "template": {"spec": {"serviceAccountName": "spark"}},
                },
                "executor": {"instances": 1, "memory": "512m"},
            },
        }
        connects = "/apis/sparkoperator.k8s.io/v1alpha1/namespaces/default/sparkconnects"
        await cluster.client.send(KubeRequest("POST", connects, (), JSON, connect))
        status: dict[str, Any] = {}
        text = ""
        for _ in range(600):  # a JVM server and an executor JVM on a busy machine: minutes
            found = await cluster.client.send(KubeRequest("GET", f"{connects}/sc"))
            status = found.get("status") or {}
            if status.get("executors", {}).get("running"):
                text = await _server_log(cluster)
                if "Spark Connect server started" in text:
                    break
            await asyncio.sleep(0.5)
        assert status["state"] == "Ready", status
        assert status["executors"] == {"running": 1}, (status, text[-3000:])
        assert "Spark Connect server started" in text, text[-3000:]
        executor = (await cluster.pods("spark-role=executor"))[0]
        assert executor["metadata"]["name"] == "sc-exec-1"
        owner = executor["metadata"]["ownerReferences"][0]
        assert (owner["kind"], owner["name"]) == ("Pod", "sc-server")

        python = str(sparkdist.cache_root() / "4.0.5" / "bin" / "python")
        remote = f"sc://{status['server']['podIp']}:15002"
        env = {**os.environ, "PYTHONPATH": str(client_deps)}
        done = await asyncio.to_thread(
            subprocess.run,
            [python, "-c", QUERY, remote],
            capture_output=True,
            text=True,
            timeout=600,
            env=env,
        )
        assert f"kubespark-answer {ANSWER}" in done.stdout, done.stderr[-3000:]

        await cluster.client.send(KubeRequest("DELETE", f"{connects}/sc"))
        for _ in range(300):
            if not await cluster.pods():
                break
            await asyncio.sleep(0.5)
        assert await cluster.pods() == []
