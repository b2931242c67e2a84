"""The operator running a real PySpark job: the process kubelet's real driver and executors.

The same job as tests/realspark (a ConfigMap holds it, 2 executors), submitted as a
SparkApplication that kubespark's operator runs to COMPLETED on an emulated 1.21.
"""

from __future__ import annotations

import os
import shutil
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
