"""``spec.monitoring`` through the operator: the metrics ConfigMap is the SparkApplication's.

As kubeflow's controller does: ``<app>-prom-conf`` is written for the application (owned by it,
not by one driver), the driver mounts it and the application completes; a spec change reruns the
application and the next submission adopts the ConfigMap with the new content.
"""

from __future__ import annotations

from typing import Any

from operator_harness import running_cluster, spark_pi, state_of

from kubespark.kube.requests import KubeRequest

JAR = "/opt/spark/jars/jmx_prometheus_javaagent-1.1.0.jar"
CM = "/api/v1/namespaces/default/configmaps/mon-prom-conf"


async def test_operator_writes_adopts_and_updates_the_metrics_config_map(
    emulator_factory: Any,
) -> None:
    monitoring = {
        "exposeDriverMetrics": True,
        "exposeExecutorMetrics": False,
        "metricsProperties": "*.sink.jmx.class=org.apache.spark.metrics.sink.JmxSink\n",
        "prometheus": {"jmxExporterJar": JAR, "portName": "metrics"},
    }
    async with running_cluster(emulator_factory, "1.21") as cluster:
        created = await cluster.create(spark_pi("mon", run_seconds=30, monitoring=monitoring))
        running = await cluster.wait_state("mon", "RUNNING")
        cm = await cluster.client.send(KubeRequest("GET", CM))
        (owner,) = cm["metadata"]["ownerReferences"]
        assert (owner["kind"], owner["uid"]) == ("SparkApplication", created["metadata"]["uid"])
        assert cm["data"]["metrics.properties"] == monitoring["metricsProperties"]
        (driver,) = await cluster.pods("sparkoperator.k8s.io/app-name=mon,spark-role=driver")
        assert driver["status"]["phase"] == "Running"
        ports = driver["spec"]["containers"][0]["ports"]
        assert {"name": "metrics", "containerPort": 8090, "protocol": "TCP"} in ports

        def change(spec: dict[str, Any]) -> None:
            spec["monitoring"]["metricsProperties"] = "*.sink.console.class=x\n"
            spec["driver"]["annotations"]["kubespark.io/emulate-run-seconds"] = "2"
            spec["sparkConf"] = {"spark.kubernetes.executor.podNamePrefix": "mon-rerun"}

        await cluster.update_spec("mon", change)
        first = running["status"]["submissionID"]
        await cluster.wait_for(
            "mon",
            lambda o: state_of(o) == "COMPLETED" and o["status"]["submissionID"] != first,
            within=45,
        )
        updated = await cluster.client.send(KubeRequest("GET", CM))
        assert updated["metadata"]["uid"] == cm["metadata"]["uid"]  # adopted, not recreated
        assert updated["data"]["metrics.properties"] == "*.sink.console.class=x\n"
