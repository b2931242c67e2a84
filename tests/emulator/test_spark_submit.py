"""The real spark-submit (pyspark from PyPI, Java 17) against emulated servers.

Cluster-mode SparkPi as ``capture_spark_submit.sh`` submits it, letting spark-submit watch the
driver until the simulated kubelet finishes it. Spark 3.5 and 4.0 create the driver Service and
ConfigMap with server-side apply: servers before 1.21 (before 1.20.6, for the protocol key)
refuse the Service with HTTP 500, as kubeflow/spark-operator#2048 and #2051 report. Spark 3.4
POSTs them, which every version accepts.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import pytest
from kubernetes import client, config

import pyspark_env
from kubespark.apisurface import known_versions, newest_version
from kubespark.emulator.testing import RunningEmulator

pytestmark = [
    pytest.mark.pyspark,
    pytest.mark.skipif(pyspark_env.java_home() is None, reason="spark-submit needs Java"),
]

NEWEST = str(newest_version())
IP_FAMILIES = ".spec.ipFamilies: field not declared in schema"
PROTOCOL = 'associative list with keys has an element that omits key field "protocol"'


def prepared(emulator_factory: Callable[..., RunningEmulator], version: str) -> RunningEmulator:
    emu = emulator_factory(version, namespaces=("spark-jobs",))
    api = config.new_client_from_config(config_file=str(emu.kubeconfig_path))
    try:
        account = client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="spark"))
        client.CoreV1Api(api).create_namespaced_service_account("spark-jobs", account)
    finally:
        api.close()
    return emu


def submit(emu: RunningEmulator, spark: str) -> subprocess.CompletedProcess[str]:
    cmd = pyspark_env.spark_submit_command(spark, emu.url)
    return subprocess.run(
        cmd,
        env=pyspark_env.spark_env(spark, emu.kubeconfig_path),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def stored(emu: RunningEmulator) -> dict[str, list[str]]:
    api = config.new_client_from_config(config_file=str(emu.kubeconfig_path))
    try:
        core = client.CoreV1Api(api)
        return {
            "pods": [
                p.metadata.name
                for p in core.list_namespaced_pod(
                    "spark-jobs", label_selector="spark-role=driver"
                ).items
            ],
            "services": [s.metadata.name for s in core.list_namespaced_service("spark-jobs").items],
            "configmaps": [
                c.metadata.name
                for c in core.list_namespaced_config_map("spark-jobs").items
                if c.metadata.name.endswith("-conf-map")
            ],
            "phases": [
                p.status.phase
                for p in core.list_namespaced_pod(
                    "spark-jobs", label_selector="spark-role=driver"
                ).items
            ],
        }
    finally:
        api.close()


def assert_succeeded(emu: RunningEmulator, result: subprocess.CompletedProcess[str]) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "phase: Succeeded" in output
    objects = stored(emu)
    assert len(objects["pods"]) == 1 and objects["phases"] == ["Succeeded"]
    assert [s for s in objects["services"] if s.endswith("-driver-svc")]
    assert len(objects["configmaps"]) == 1


@pytest.mark.parametrize("k8s", [str(v) for v in known_versions()])
def test_spark_3_4_posts_and_succeeds_everywhere(
    emulator_factory: Callable[..., RunningEmulator], k8s: str
) -> None:
    emu = prepared(emulator_factory, k8s)
    assert_succeeded(emu, submit(emu, "3.4.4"))


@pytest.mark.parametrize("spark", ["3.5.1", "4.0.5"])
def test_spark_3_5_apply_fails_on_1_19(
    emulator_factory: Callable[..., RunningEmulator], spark: str
) -> None:
    emu = prepared(emulator_factory, "1.19")
    result = submit(emu, spark)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "code=500" in output and "failed to create typed patch object" in output
    assert IP_FAMILIES in output and PROTOCOL in output
    assert "?fieldManager=fabric8&force=true" in output
    assert stored(emu)["services"] == []


@pytest.mark.parametrize(
    ("spark", "k8s"), [("3.5.1", "1.20"), ("4.0.5", "1.20"), ("3.5.1", "1.20.5")]
)
def test_spark_3_5_apply_fails_on_1_20_before_the_backport(
    emulator_factory: Callable[..., RunningEmulator], spark: str, k8s: str
) -> None:
    # "--k8s 1.20" is v1.20.0: ipFamilies exists, the ServicePort protocol default does not yet.
    emu = prepared(emulator_factory, k8s)
    result = submit(emu, spark)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert PROTOCOL in output and IP_FAMILIES not in output


@pytest.mark.parametrize(
    ("spark", "k8s"), [("3.5.1", "1.21"), ("3.5.1", NEWEST), ("4.0.5", "1.21"), ("4.0.5", NEWEST)]
)
def test_spark_3_5_and_4_0_succeed_from_1_21(
    emulator_factory: Callable[..., RunningEmulator], spark: str, k8s: str
) -> None:
    emu = prepared(emulator_factory, k8s)
    assert_succeeded(emu, submit(emu, spark))


def test_spark_3_5_succeeds_on_1_20_from_the_backport(
    emulator_factory: Callable[..., RunningEmulator],
) -> None:
    # v1.20.6 carries the ServicePort protocol default backported by k8s PR 100714, and the
    # server has ipFamilies from 1.20, so the apply is typed.
    emu = prepared(emulator_factory, "1.20.6")
    assert_succeeded(emu, submit(emu, "3.5.1"))
