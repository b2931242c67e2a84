"""SparkConnect (v1alpha1) on the emulator: the operator's server pod, Service, ConfigMap and
status as kubeflow's reconciler makes them; the simulated server starting its executors;
deletion collecting everything; invalid specs refused with the field path (by the server's CEL
where it runs it, by the operator otherwise).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
from operator_harness import running_cluster

from kubespark.apisurface import newest_version
from kubespark.kube.errors import Invalid, NotFound
from kubespark.kube.requests import KubeRequest

NEWEST = str(newest_version())
CONNECT = "/apis/sparkoperator.k8s.io/v1alpha1/namespaces/default/sparkconnects"
Obj = dict[str, Any]


def spark_connect(name: str, *, version: str = "4.0.1", instances: int = 2) -> Obj:
    """kubeflow's examples/sparkconnect/spark-connect.yaml, trimmed."""
    image = f"apache/spark:{version}"
    return {
        "apiVersion": "sparkoperator.k8s.io/v1alpha1",
        "kind": "SparkConnect",
        "metadata": {"name": name, "namespace": "default", "labels": {"team": "data"}},
        "spec": {
            "sparkVersion": version,
            "server": {
                "template": {
                    "metadata": {"labels": {"key1": "value1"}},
                    "spec": {
                        "containers": [{"name": "spark-kubernetes-driver", "image": image}],
                    },
                }
            },
            "executor": {
                "instances": instances,
                "cores": 1,
                "memory": "512m",
                "template": {
                    "spec": {
                        "containers": [{"name": "spark-kubernetes-executor", "image": image}],
                    }
                },
            },
        },
    }


async def _send(cluster: Any, method: str, path: str, body: Obj | None = None) -> Any:
    return await cluster.client.send(
        KubeRequest(method, path, (), "application/json" if body else None, body)
    )


async def _until(
    probe: Callable[[], Any], check: Callable[[Any], bool], within: float = 30.0
) -> Any:
    deadline = time.monotonic() + within
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = await probe()
        except NotFound:
            last = None
        if check(last):
            return last
        await asyncio.sleep(0.1)
    raise AssertionError(f"condition not met within {within}s; last seen: {last}")


async def _names(cluster: Any, resource: str, selector: str = "") -> list[str]:
    query = f"?labelSelector={selector}" if selector else ""
    listing = await _send(cluster, "GET", f"/api/v1/namespaces/default/{resource}{query}")
    return sorted(i["metadata"]["name"] for i in listing["items"])


@pytest.mark.parametrize("version", ["1.19", NEWEST])
async def test_a_spark_connect_server_runs_with_its_executors_and_goes_with_it(
    emulator_factory: Any, version: str
) -> None:
    async with running_cluster(emulator_factory, version) as cluster:
        await _send(cluster, "POST", CONNECT, spark_connect("sc"))
        ready = await _until(
            lambda: _send(cluster, "GET", f"{CONNECT}/sc"),
            lambda o: (
                (o or {}).get("status", {}).get("executors", {}).get("running") == 2
                and o["status"].get("state") == "Ready"
            ),
        )
        status = ready["status"]
        assert status["server"]["podName"] == "sc-server"
        assert status["server"]["serviceName"] == "sc-server"
        assert status["server"]["podIp"]
        condition = next(c for c in status["conditions"] if c["type"] == "ServerPodReady")
        assert (condition["status"], condition["reason"]) == ("True", "ServerPodReady")
        assert status["startTime"] and status["lastUpdateTime"]

        pod = await _send(cluster, "GET", "/api/v1/namespaces/default/pods/sc-server")
        labels = pod["metadata"]["labels"]
        assert labels["spark-role"] == "connect-server"
        assert labels["sparkoperator.k8s.io/connect-name"] == "sc"
        assert labels["key1"] == "value1"  # the server template's
        container = pod["spec"]["containers"][0]
        assert container["command"] == ["bash", "-c"]
        command = container["args"][0]
        assert command.startswith("${SPARK_HOME}/sbin/start-connect-server.sh --master k8s://")
        assert "--packages" not in command  # Spark 4 bundles the server
        assert "--conf spark.executor.instances=2" in command
        assert "--conf spark.kubernetes.executor.label.team=data" in command
        assert container["readinessProbe"]["tcpSocket"]["port"] == 15002
        owner = pod["metadata"]["ownerReferences"][0]
        assert (owner["kind"], owner["name"], owner["controller"]) == ("SparkConnect", "sc", True)

        service = await _send(cluster, "GET", "/api/v1/namespaces/default/services/sc-server")
        ports = {p["name"]: p["port"] for p in service["spec"]["ports"]}
        assert ports == {
            "driver-rpc": 7078,
            "blockmanager": 7079,
            "web-ui": 4040,
            "spark-connect-server": 15002,
        }
        assert service["spec"]["selector"]["spark-role"] == "connect-server"
        config = await _send(cluster, "GET", "/api/v1/namespaces/default/configmaps/sc-conf")
        assert "spark-kubernetes-executor" in config["data"]["executor-pod-template.yaml"]
        executors = await _names(
            cluster, "pods", "sparkoperator.k8s.io/connect-name=sc,spark-role=executor"
        )
        assert executors == ["sc-exec-1", "sc-exec-2"]

        await _send(cluster, "DELETE", f"{CONNECT}/sc")
        await _until(lambda: _names(cluster, "pods"), lambda names: names == [])
        await _until(
            lambda: _names(cluster, "services"),
            lambda names: "sc-server" not in (names or []),
        )
        await _until(
            lambda: _names(cluster, "configmaps"),
            lambda names: "sc-conf" not in (names or []),
        )


async def test_spark_3_5_gets_the_connect_package_its_distribution_lacks(
    emulator_factory: Any,
) -> None:
    async with running_cluster(emulator_factory, "1.19") as cluster:
        await _send(cluster, "POST", CONNECT, spark_connect("old", version="3.5.1", instances=1))
        pod = await _until(
            lambda: _send(cluster, "GET", "/api/v1/namespaces/default/pods/old-server"),
            lambda p: p is not None,
        )
        command = pod["spec"]["containers"][0]["args"][0]
        assert "--packages org.apache.spark:spark-connect_2.12:3.5.1" in command


async def test_a_cel_server_refuses_an_invalid_spark_connect_naming_the_field(
    emulator_factory: Any,
) -> None:
    async with running_cluster(emulator_factory, NEWEST, operator=False) as cluster:
        bad = spark_connect("sc")
        bad["spec"]["executor"]["memory"] = "1.5g"
        with pytest.raises(Invalid) as caught:
            await _send(cluster, "POST", CONNECT, bad)
        assert "spec.executor" in caught.value.message
        # kubeflow's message with the value (the CRD's messageExpression, 1.27+)
        assert 'invalid executor.memory: invalid memory format "1.5g"' in caught.value.message
        missing = spark_connect("nover")
        del missing["spec"]["sparkVersion"]
        with pytest.raises(Invalid) as caught:
            await _send(cluster, "POST", CONNECT, missing)
        assert "spec.sparkVersion" in caught.value.message


async def test_an_old_server_accepts_and_the_operator_fails_it_creating_nothing(
    emulator_factory: Any,
) -> None:
    async with running_cluster(emulator_factory, "1.19") as cluster:
        bad = spark_connect("sc")
        bad["spec"]["sparkConf"] = {"spark.master": "local[2]"}
        await _send(cluster, "POST", CONNECT, bad)
        failed = await _until(
            lambda: _send(cluster, "GET", f"{CONNECT}/sc"),
            lambda o: (o or {}).get("status", {}).get("state") == "Failed",
        )
        message = failed["status"]["errorMessage"]
        assert message.startswith("spec.sparkConf: ")
        assert 'sparkConf key "spark.master" is not allowed' in message
        old = spark_connect("ancient", version="3.3.2")
        await _send(cluster, "POST", CONNECT, old)
        failed = await _until(
            lambda: _send(cluster, "GET", f"{CONNECT}/ancient"),
            lambda o: (o or {}).get("status", {}).get("state") == "Failed",
        )
        assert failed["status"]["errorMessage"].startswith("spec.sparkVersion: Spark 3.3.2 has no")
        assert await _names(cluster, "pods") == []
