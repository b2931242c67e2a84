"""``spec.monitoring`` end to end: ``kubespark submit`` on emulated servers over real HTTP.

An application exposing driver and executor metrics gets its ``<app>-prom-conf`` ConfigMap
(owned by the driver pod when no SparkApplication exists), the driver mounts it and runs to
completion in the simulated kubelet. The control: a driver pod whose metrics ConfigMap is
missing stays in ContainerCreating with the kubelet's FailedMount event, as on a real cluster
(the bug this closes), and starts once the ConfigMap appears. A refused write part-way leaves
nothing behind; a temporary one is retried and the ConfigMap adopted.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from submit_support import (
    eventually,
    get,
    kubespark,
    nothing_stored,
    prepare,
    spark_pi,
    stored,
    write_app,
)

from kubespark.apisurface import newest_version
from kubespark.driver import build_driver_resources
from kubespark.emulator import Faults
from kubespark.emulator.testing import RunningEmulator
from kubespark.spark import load_application

Factory = Callable[..., RunningEmulator]
JAR = "/opt/spark/jars/jmx_prometheus_javaagent-1.1.0.jar"
PODS = "/api/v1/namespaces/spark-jobs/pods"
CONFIG_MAPS = "/api/v1/namespaces/spark-jobs/configmaps"


def monitored_pi() -> dict[str, Any]:
    app = spark_pi()
    app["spec"]["monitoring"] = {
        "exposeDriverMetrics": True,
        "exposeExecutorMetrics": True,
        "prometheus": {"jmxExporterJar": JAR, "port": 8090},
    }
    return app


def started(emulator_factory: Factory, version: str) -> RunningEmulator:
    emu = emulator_factory(version)
    prepare(emu)
    return emu


@pytest.mark.parametrize("k8s", ["1.16", str(newest_version())])
def test_submit_writes_the_metrics_config_map_and_the_driver_runs(
    emulator_factory: Factory, tmp_path: Path, k8s: str
) -> None:
    emu = started(emulator_factory, k8s)
    path = str(write_app(tmp_path, monitored_pi()))
    # Without the ConfigMap the driver would wait in ContainerCreating: the timeout fails the test.
    result = kubespark(emu, "submit", path, "--wait", "--timeout", "30")
    assert result.exit_code == 0, result.output
    assert "✓ spark-pi completed" in result.stdout
    pod = get(emu, f"{PODS}/spark-pi-driver")
    assert pod["status"]["phase"] == "Succeeded"
    cm = get(emu, f"{CONFIG_MAPS}/spark-pi-prom-conf")
    assert set(cm["data"]) == {"metrics.properties", "prometheus.yaml"}
    assert "org.apache.spark.metrics.sink.JmxSink" in cm["data"]["metrics.properties"]
    (owner,) = cm["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["uid"]) == ("Pod", pod["metadata"]["uid"])
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert volumes["spark-pi-prom-conf-vol"]["configMap"]["name"] == "spark-pi-prom-conf"
    container = pod["spec"]["containers"][0]
    assert {
        "name": "spark-pi-prom-conf-vol",
        "readOnly": True,
        "mountPath": "/etc/metrics/conf",
    } in (container["volumeMounts"])
    assert any(
        p["containerPort"] == 8090 and p["name"] == "jmx-exporter" for p in container["ports"]
    )
    assert pod["metadata"]["annotations"]["prometheus.io/scrape"] == "true"
    # The driver reads spark.properties: the metrics confs and the JMX agent are in it.
    conf_map = next(
        c for c in get(emu, CONFIG_MAPS)["items"] if c["metadata"]["name"].startswith("spark-drv-")
    )
    properties = conf_map["data"]["spark.properties"]
    assert "spark.metrics.conf=/etc/metrics/conf/metrics.properties" in properties
    assert f"-javaagent\\:{JAR}\\=8090\\:/etc/metrics/conf/prometheus.yaml" in properties


def test_dry_run_lists_the_metrics_config_map(tmp_path: Path) -> None:
    from submit_support import runner

    from kubespark.cli.app import app as cli

    path = write_app(tmp_path, monitored_pi())
    result = runner.invoke(cli, ["submit", str(path), "--dry-run", "--k8s", "1.19", "-o", "json"])
    assert result.exit_code == 0, result.output
    assert "spark-pi-prom-conf" in result.stdout
    assert "metrics.properties" in result.stdout


def _post(client: httpx.Client, path: str, body: dict[str, Any]) -> None:
    answer = client.post(path, json=body)
    assert answer.status_code == 201, answer.text


def _waiting_reason(emu: RunningEmulator) -> str:
    statuses = get(emu, f"{PODS}/spark-pi-driver").get("status", {}).get("containerStatuses") or []
    return str(((statuses or [{}])[0].get("state") or {}).get("waiting", {}).get("reason", ""))


def _failed_mounts(emu: RunningEmulator) -> list[str]:
    events = get(emu, "/api/v1/namespaces/spark-jobs/events")["items"]
    return [e["message"] for e in events if e.get("reason") == "FailedMount"]


def test_a_driver_whose_metrics_config_map_is_missing_waits_in_container_creating(
    emulator_factory: Factory,
) -> None:
    """What a webhook-only implementation gave: the volume without its ConfigMap."""
    emu = started(emulator_factory, "1.19")
    app = load_application(json.dumps(monitored_pi()))
    built = build_driver_resources(app, submission_id="s")
    metrics = next(o for o in built.operator_resources if o["kind"] == "ConfigMap")
    with httpx.Client(base_url=emu.url, timeout=10) as client:
        _post(client, PODS, built.pod)
        for obj in built.dependents:
            plural = {"Service": "services", "ConfigMap": "configmaps"}.get(obj["kind"])
            if plural is not None:
                _post(client, f"/api/v1/namespaces/spark-jobs/{plural}", copy.deepcopy(obj))
        expected = (
            'MountVolume.SetUp failed for volume "spark-pi-prom-conf-vol" : '
            'configmap "spark-pi-prom-conf" not found'
        )
        assert eventually(lambda: expected in _failed_mounts(emu))
        assert _waiting_reason(emu) == "ContainerCreating"
        assert get(emu, f"{PODS}/spark-pi-driver")["status"]["phase"] == "Pending"
        _post(client, CONFIG_MAPS, metrics)
    assert eventually(
        lambda: get(emu, f"{PODS}/spark-pi-driver")["status"]["phase"] in ("Running", "Succeeded"),
        seconds=20,
    )


def test_a_write_refused_part_way_leaves_no_metrics_config_map(
    emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = started(emulator_factory, "1.19")
    app = monitored_pi()
    app["spec"]["sparkUIOptions"] = {}  # a UI Service is written beside the metrics ConfigMap
    # Writes: the pod, its three dependents, then the UI Service and the metrics ConfigMap at
    # once: whichever comes second is refused, the other is written and must be deleted again.
    emu.set_faults(Faults(fail_write=6, fail_write_code=403))
    result = kubespark(emu, "submit", str(write_app(tmp_path, app)))
    assert result.exit_code == 1, result.output
    assert "is forbidden" in result.stdout
    written = next(line for line in result.stdout.splitlines() if "written before" in line)
    assert "spark-pi-ui-svc" in written or "spark-pi-prom-conf" in written
    assert "deleted again: " in result.stdout and "deleted again: nothing" not in result.stdout
    assert eventually(lambda: nothing_stored(emu))


def test_a_temporary_failure_is_retried_and_the_config_map_adopted(
    emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = started(emulator_factory, "1.19")
    emu.set_faults(Faults(fail_write=5, fail_write_code=503, fail_write_count=2))
    result = kubespark(emu, "submit", str(write_app(tmp_path, monitored_pi())), "--wait")
    assert result.exit_code == 0, result.output
    assert "spark-pi-prom-conf" in stored(emu)["configmaps"]
    assert get(emu, f"{PODS}/spark-pi-driver")["status"]["phase"] == "Succeeded"
