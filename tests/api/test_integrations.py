"""The calls of ``docs/integrations.md``, against the real operator on an emulated server.

Airflow's ``SparkKubernetesOperator`` (cncf.kubernetes provider) creates the SparkApplication
with the official client's ``CustomObjectsApi.create_namespaced_custom_object``, polls
``get_namespaced_custom_object`` until ``status.applicationState.state`` is final, reads the
driver's log with ``CoreV1Api.read_namespaced_pod_log`` and deletes the object when done: the
same calls are made here, through the same client, and the kubespark operator runs the
application. A task (Airflow's ``@task`` or a Dagster op) that uses ``kubespark.Client`` makes
``create`` and ``wait`` (the operator) or ``submit(wait=True)`` (directly).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
from kubernetes import client, config
from operator_harness import running_cluster, spark_pi

from kubespark import AsyncClient, Client

pytestmark = pytest.mark.slow

GROUP, VERSION, PLURAL = "sparkoperator.k8s.io", "v1beta2", "sparkapplications"
FINAL = ("COMPLETED", "FAILED", "SUBMISSION_FAILED")


def _airflow_like_run(kubeconfig: str, body: dict[str, Any], within: float = 60.0) -> str:
    """What SparkKubernetesOperator does, call for call; returns the final state."""
    api_client = config.new_client_from_config(config_file=kubeconfig)
    try:
        custom = client.CustomObjectsApi(api_client)
        core = client.CoreV1Api(api_client)
        name = body["metadata"]["name"]
        custom.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, body)
        deadline = time.monotonic() + within
        state = ""
        while state not in FINAL and time.monotonic() < deadline:
            obj = custom.get_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, name)
            state = ((obj.get("status") or {}).get("applicationState") or {}).get("state", "")
            time.sleep(0.2)
        driver = obj["status"]["driverInfo"]["podName"]
        log = core.read_namespaced_pod_log(driver, "default")
        assert "Pi is roughly" in log
        custom.delete_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, name)
        return state
    finally:
        api_client.close()


async def test_airflow_calls_and_the_client_against_the_kubespark_operator(
    emulator_factory: Callable[..., Any],
) -> None:
    async with running_cluster(emulator_factory, "1.21") as cluster:
        kubeconfig = str(cluster.kubeconfig)
        state = await asyncio.to_thread(
            _airflow_like_run, kubeconfig, spark_pi("airflow-pi", run_seconds=2)
        )
        assert state == "COMPLETED"
        async with AsyncClient(kubeconfig) as ks:
            created = await ks.create(spark_pi("client-pi", run_seconds=2))
            assert (created.kind, created.state) == ("SparkApplication", "New")
            done = await ks.wait("client-pi", seconds=60, poll=0.2)
            assert done.state == "COMPLETED" and done.driver_pod == "client-pi-driver"
            assert "Pi is roughly" in await ks.logs("client-pi")
            await ks.delete("client-pi")
        # The blocking Client, as a Dagster op or an Airflow @task calls it.
        ks_sync = Client(kubeconfig)
        direct = await asyncio.to_thread(
            ks_sync.submit, spark_pi("op-pi", run_seconds=1), wait=True
        )
        assert direct.kind == "Submission" and direct.state == "COMPLETED"
