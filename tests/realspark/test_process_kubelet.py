"""Real Spark on the emulated cluster: a PySpark job in a ConfigMap, driver and 2 executors.

The driver is Spark's own (spark-submit in client mode inside the driver pod, as the image's
entrypoint runs it); it creates its executor pods through the emulator with fabric8, and they
run as processes too. The job's answer comes back in the driver's log.
"""

from __future__ import annotations

import copy
import os
import signal
import ssl
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from realspark_support import need_python_for, need_spark
from typer.testing import CliRunner

from kubespark.apisurface.load import newest_version
from kubespark.cli.app import app as cli
from kubespark.emulator.testing import RunningEmulator
from kubespark.spark.executor_fidelity import executor_fields_lost
from kubespark.versions import parse_spark_version

pytestmark = [pytest.mark.realspark, pytest.mark.slow]

JOB = (Path(__file__).parent / "jobs" / "squares.py").read_text()
ANSWER = sum(x * x for x in range(1, 100_001))
NS = "spark-jobs"
NEWEST = str(newest_version())

APP: dict[str, Any] = {
    "apiVersion": "sparkoperator.k8s.io/v1beta2",
    "kind": "SparkApplication",
    "metadata": {"name": "squares", "namespace": NS},
    "spec": {
        "type": "Python",
        "mode": "cluster",
        "image": "apache/spark:3.5.1",
        "sparkVersion": "3.5.1",
        "mainApplicationFile": "local:///mnt/job/job.py",
        "sparkConf": {
            "spark.ui.enabled": "false",
            # keep the executor pods after the job, to read what the real driver made of them
            "spark.kubernetes.executor.deleteOnTermination": "false",
        },
        "volumes": [{"name": "job", "configMap": {"name": "squares-job"}}],
        "driver": {
            "cores": 1,
            "memory": "512m",
            "serviceAccount": "spark",
            "volumeMounts": [{"name": "job", "mountPath": "/mnt/job"}],
        },
        "executor": {
            "instances": 2,
            "cores": 1,
            "memory": "512m",
            "labels": {"team": "squares"},
            "annotations": {"example.com/owner": "data"},
            "env": [{"name": "JOB_COLOUR", "value": "blue"}],
            "tolerations": [{"key": "spark", "operator": "Exists", "effect": "NoSchedule"}],
            "volumeMounts": [{"name": "job", "mountPath": "/mnt/job"}],
        },
    },
}


def _client(emu: RunningEmulator) -> httpx.Client:
    certificates = emu.emulator.certificates
    verify = ssl.create_default_context(cafile=certificates.ca_file) if certificates else True
    return httpx.Client(base_url=emu.url, timeout=10, verify=verify)


def _app(spark: str, job: str = "squares") -> dict[str, Any]:
    app = copy.deepcopy(APP)
    app["spec"]["image"] = f"apache/spark:{spark}"
    app["spec"]["sparkVersion"] = spark
    app["spec"]["volumes"][0]["configMap"]["name"] = f"{job}-job"
    return app


def _prepare(emu: RunningEmulator, job: str = "squares", code: str = JOB) -> None:
    with _client(emu) as client:
        client.post("/api/v1/namespaces", json={"metadata": {"name": NS}})
        client.post(
            f"/api/v1/namespaces/{NS}/serviceaccounts", json={"metadata": {"name": "spark"}}
        )
        answer = client.post(
            f"/api/v1/namespaces/{NS}/configmaps",
            json={"metadata": {"name": f"{job}-job"}, "data": {"job.py": code}},
        )
        assert answer.status_code == 201, answer.text


def _pods(emu: RunningEmulator, selector: str) -> list[dict[str, Any]]:
    with _client(emu) as client:
        answer = client.get(f"/api/v1/namespaces/{NS}/pods", params={"labelSelector": selector})
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def _log(emu: RunningEmulator, pod: str) -> str:
    with _client(emu) as client:
        return client.get(f"/api/v1/namespaces/{NS}/pods/{pod}/log").text


def _submit(emu: RunningEmulator, tmp_path: Path, app: dict[str, Any]) -> Any:
    path = tmp_path / "app.yaml"
    path.write_text(yaml.safe_dump(app))
    args = ["submit", str(path), "--wait", "--timeout", "240"]
    args += ["--kubeconfig", str(emu.kubeconfig_path)]
    return CliRunner().invoke(cli, args)


@pytest.mark.parametrize(
    ("k8s", "spark"),
    [("1.21", "3.5.1"), ("1.19", "3.4.4"), (NEWEST, "4.0.5"), ("1.21", "3.2.4")],
    ids=[
        "k8s1.21-spark3.5.1",
        "k8s1.19-spark3.4.4",
        f"k8s{NEWEST}-spark4.0.5",
        "k8s1.21-spark3.2.4-java11",
    ],
)
def test_a_pyspark_job_in_a_configmap_computes_its_answer_with_two_real_executors(
    emulator_factory: Callable[..., RunningEmulator], tmp_path: Path, k8s: str, spark: str
) -> None:
    need_spark(spark)
    need_python_for(spark)
    emulator = emulator_factory(version=k8s, kubelet="process", tls=True, speed=1)
    _prepare(emulator)
    result = _submit(emulator, tmp_path, _app(spark))
    driver = _pods(emulator, "spark-role=driver")[0]
    log = _log(emulator, driver["metadata"]["name"])
    assert result.exit_code == 0, f"{result.output}\n--- driver log ---\n{log[-4000:]}"
    assert f"kubespark-answer {ANSWER}" in log
    # Spark 3.2's PySpark (its lambdas pickled by its own cloudpickle) runs on Python 3.9 at most
    python = "3.9" if spark.startswith("3.2.") else f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert f"kubespark-python {python}" in log
    lines = log.splitlines()
    assert "kubespark-stdout-part whole" in lines, [x for x in lines if "kubespark-" in x]
    assert driver["status"]["phase"] == "Succeeded"
    assert driver["status"]["podIP"].startswith("127.")
    executors = _pods(emulator, "spark-role=executor")
    assert len(executors) == 2
    for pod in executors:
        meta, spec = pod["metadata"], pod["spec"]
        # created by the real driver: fabric8's write, owned by the driver pod
        assert meta["ownerReferences"][0]["uid"] == driver["metadata"]["uid"]
        assert meta["labels"]["team"] == "squares"
        assert meta["annotations"]["example.com/owner"] == "data"
        container = spec["containers"][0]
        assert {"name": "JOB_COLOUR", "value": "blue"} in container["env"]
        assert {"name": "job", "mountPath": "/mnt/job"} in [
            {k: m[k] for k in ("name", "mountPath")} for m in container["volumeMounts"]
        ]
        assert {"key": "spark", "operator": "Exists", "effect": "NoSchedule"} in spec["tolerations"]
        assert "Successfully registered with driver" in _log(emulator, meta["name"])


FAILING_JOB = """
from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()
spark.sparkContext.parallelize(range(4), 2).count()
raise ValueError("kubespark-boom: the job gave up")
"""


@pytest.mark.emulator(version="1.21", kubelet="process", tls=True, speed=1)
def test_a_driver_that_throws_ends_failed_with_its_exception_in_the_diagnosis(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    need_spark("3.5.1")
    _prepare(emulator, "boom", FAILING_JOB)
    app = _app("3.5.1", "boom")
    app["metadata"]["name"] = "boom"
    result = _submit(emulator, tmp_path, app)
    assert result.exit_code == 1, result.output
    assert "failed" in result.output
    assert "ValueError: kubespark-boom: the job gave up" in result.output, result.output
    driver = _pods(emulator, "spark-role=driver")[0]
    assert driver["status"]["phase"] == "Failed"


SLOW_JOB = """
import time
from pyspark.sql import SparkSession

def slow(x):
    time.sleep(0.5)
    return x * x

spark = SparkSession.builder.getOrCreate()
total = spark.sparkContext.parallelize(range(1, 41), 8).map(slow).sum()
print(f"kubespark-answer {total}", flush=True)
spark.stop()
"""


def _processes_of(pod: str) -> list[int]:
    """PIDs of the executor pod's processes (its env names the pod)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"SPARK_EXECUTOR_POD_NAME={pod}".encode() in environ:
            found.append(int(proc.name))
    return found


def test_an_executor_killed_mid_job_is_replaced_by_the_real_driver(
    emulator_factory: Callable[..., RunningEmulator], tmp_path: Path
) -> None:
    need_spark("3.5.1")
    emulator = emulator_factory(version="1.21", kubelet="process", tls=True, speed=1)
    _prepare(emulator, "slow", SLOW_JOB)
    app = _app("3.5.1", "slow")
    app["metadata"]["name"] = "slow"
    with ThreadPoolExecutor(1) as pool:
        submitted = pool.submit(_submit, emulator, tmp_path, app)
        deadline = time.monotonic() + 120
        victim = ""
        while time.monotonic() < deadline and not victim:
            drivers = _pods(emulator, "spark-role=driver")
            log = _log(emulator, drivers[0]["metadata"]["name"]) if drivers else ""
            running = [
                p["metadata"]["name"]
                for p in _pods(emulator, "spark-role=executor")
                if p["status"].get("phase") == "Running"
            ]
            if "Starting task" in log and running and _processes_of(running[0]):
                victim = running[0]
            time.sleep(0.2)
        assert victim, f"the job never started on a running executor: {running} {log[-2000:]}"
        for pid in _processes_of(victim):
            os.kill(pid, signal.SIGKILL)
        result = submitted.result(timeout=240)
    driver = _pods(emulator, "spark-role=driver")[0]
    log = _log(emulator, driver["metadata"]["name"])
    assert result.exit_code == 0, f"{result.output}\n{log[-3000:]}"
    assert "kubespark-answer 22140" in log
    executors = {p["metadata"]["name"]: p for p in _pods(emulator, "spark-role=executor")}
    assert executors[victim]["status"]["phase"] == "Failed"
    assert len(executors) >= 3  # the driver asked for a replacement


SCALING_JOB = """
import time
from pyspark.sql import SparkSession

def slow(x):
    time.sleep(0.5)
    return x * x

spark = SparkSession.builder.getOrCreate()
total = spark.sparkContext.parallelize(range(1, 41), 8).map(slow).sum()
time.sleep(15)  # idle: dynamic allocation gives the executors back
print(f"kubespark-answer {total}", flush=True)
spark.stop()
"""


def test_dynamic_allocation_scales_real_executors_up_and_down(
    emulator_factory: Callable[..., RunningEmulator], tmp_path: Path
) -> None:
    need_spark("3.5.1")
    emulator = emulator_factory(version="1.21", kubelet="process", tls=True, speed=1)
    _prepare(emulator, "scaling", SCALING_JOB)
    app = _app("3.5.1", "scaling")
    app["metadata"]["name"] = "scaling"
    app["spec"]["sparkConf"] = {
        "spark.ui.enabled": "false",
        "spark.kubernetes.allocation.batch.delay": "1s",
    }
    app["spec"]["dynamicAllocation"] = {
        "enabled": True,
        "initialExecutors": 0,
        "minExecutors": 0,
        "maxExecutors": 2,
        "shuffleTrackingTimeout": 1,
    }
    app["spec"]["sparkConf"] |= {
        "spark.dynamicAllocation.executorIdleTimeout": "2s",
        "spark.dynamicAllocation.schedulerBacklogTimeout": "1s",
    }
    running_counts: list[int] = []
    with ThreadPoolExecutor(1) as pool:
        submitted = pool.submit(_submit, emulator, tmp_path, app)
        while not submitted.done():
            executors = _pods(emulator, "spark-role=executor")
            running_counts.append(
                sum(1 for p in executors if p["status"].get("phase") == "Running")
            )
            time.sleep(0.3)
        result = submitted.result()
    driver = _pods(emulator, "spark-role=driver")[0]
    log = _log(emulator, driver["metadata"]["name"])
    assert result.exit_code == 0, f"{result.output}\n{log[-3000:]}"
    assert "kubespark-answer 22140" in log
    peak = running_counts.index(max(running_counts))
    assert max(running_counts) == 2  # scaled up to maxExecutors for the backlog
    assert 0 in running_counts[peak:]  # and down to none while the driver idled


# Executor fields kubeflow's webhook sets, asked for in the application; what the executor pods
# the real driver creates carry, per Spark release (docs/driver-conformance.md, "Executor
# fidelity"; the releases whose Spark overwrites a field are facts in
# src/kubespark/driver/data/executor_fidelity.yaml, which the compat note reads).
FIDELITY_EXECUTOR: dict[str, Any] = {
    "ports": [{"name": "jmx", "containerPort": 8090, "protocol": "TCP"}],
    "memoryLimit": "1500m",
    "schedulerName": "kubespark-test-scheduler",
    "priorityClassName": "kubespark-test-priority",
    "terminationGracePeriodSeconds": 45,
    "shareProcessNamespace": True,
    "hostAliases": [{"ip": "10.1.2.3", "hostnames": ["metrics.example"]}],
    "dnsConfig": {"options": [{"name": "ndots", "value": "2"}]},
    "securityContext": {"runAsNonRoot": False},
    "nodeSelector": {"kubernetes.io/os": "linux"},
    "affinity": {
        "nodeAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 1,
                    "preference": {
                        "matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]
                    },
                }
            ]
        }
    },
    "sidecars": [{"name": "logger", "image": "busybox:1.36", "command": ["sleep", "3600"]}],
    "initContainers": [{"name": "prepare", "image": "busybox:1.36", "command": ["true"]}],
    "hostNetwork": True,
    "gpu": {"name": "nvidia.com/gpu", "quantity": 1},
    "lifecycle": {"preStop": {"exec": {"command": ["/bin/sh", "-c", "echo bye"]}}},
    "envFrom": [{"configMapRef": {"name": "fidelity-env"}}],
}

POD_FIELDS = (
    "schedulerName",
    "priorityClassName",
    "terminationGracePeriodSeconds",
    "shareProcessNamespace",
    "hostAliases",
    "dnsConfig",
    "nodeSelector",
    "affinity",
    "hostNetwork",
)
CONTAINER_FIELDS = ("securityContext", "lifecycle", "envFrom")


def _fidelity(pod: dict[str, Any]) -> dict[str, str]:
    """Per asked-for field: ``survives``, or what the executor pod has instead."""
    spec = pod["spec"]
    container = next(c for c in spec["containers"] if c["name"] != "logger")
    out = {
        key: "survives" if spec.get(key) == FIDELITY_EXECUTOR[key] else f"{spec.get(key)!r}"
        for key in POD_FIELDS
    }
    out |= {
        key: "survives"
        if container.get(key) == FIDELITY_EXECUTOR[key]
        else repr(container.get(key))
        for key in CONTAINER_FIELDS
    }
    names = [c["name"] for c in spec["containers"]]
    out["sidecars"] = "survives" if "logger" in names else repr(names)
    init = [c["name"] for c in spec.get("initContainers") or []]
    out["initContainers"] = "survives" if init == ["prepare"] else repr(init)
    ports = [p["containerPort"] for p in container.get("ports") or []]
    out["ports"] = "survives" if 8090 in ports else f"overwritten: {ports}"
    limits = (container.get("resources") or {}).get("limits") or {}
    gpu = str(limits.get("nvidia.com/gpu"))
    out["gpu"] = "survives" if gpu == "1" else f"overwritten: {gpu}"
    memory = str(limits.get("memory"))
    out["memoryLimit"] = "survives" if memory == "1500m" else f"overwritten: {memory}"
    return out


# What the driver puts instead of a field it overwrites: the limit is the request (512m + 384m
# overhead); the block-manager port alone.
INSTEAD = {"memoryLimit": "overwritten: 896Mi", "ports": "overwritten: [7079]"}
EXECUTOR = "spark-kubernetes-executor"


def _expected(spark: str) -> dict[str, str]:
    """Every field survives but those the data file says this release overwrites."""
    lost = executor_fields_lost({"executor": FIDELITY_EXECUTOR}, parse_spark_version(spark))
    overwritten = {item.path.removeprefix("executor.") for item in lost}
    assert overwritten <= set(INSTEAD)
    return dict.fromkeys(FIDELITY_EXECUTOR, "survives") | {k: INSTEAD[k] for k in overwritten}


@pytest.mark.parametrize("spark", ["3.2.4", "3.3.4", "3.4.4", "3.5.1", "4.0.5"])
def test_what_the_real_driver_keeps_of_webhook_executor_fields(
    emulator_factory: Callable[..., RunningEmulator], tmp_path: Path, spark: str
) -> None:
    need_spark(spark)
    need_python_for(spark)
    emulator = emulator_factory(version="1.21", kubelet="process", tls=True, speed=1)
    _prepare(emulator, "fidelity")
    with _client(emulator) as client:
        client.post(
            f"/api/v1/namespaces/{NS}/configmaps",
            json={"metadata": {"name": "fidelity-env"}, "data": {"FROM_CONFIGMAP": "yes"}},
        )
    app = _app(spark, "fidelity")
    app["metadata"]["name"] = "fidelity"
    app["spec"]["executor"] |= FIDELITY_EXECUTOR
    app["spec"]["executor"]["instances"] = 1
    result = _submit(emulator, tmp_path, app)
    assert result.exit_code == 0, result.output
    pod = _pods(emulator, "spark-role=executor")[0]
    assert _fidelity(pod) == _expected(spark)
    containers = pod["spec"]["containers"]
    # Spark puts the executor container after the template's others (the sidecar comes first).
    assert [c["name"] for c in containers] == ["logger", EXECUTOR]
    container = next(c for c in containers if c["name"] == EXECUTOR)
    assert container["resources"]["requests"]["memory"] == "896Mi"
    # Spark 3.4+ append their block-manager port to the template's; 3.2 and 3.3 replace them.
    ports = [p["containerPort"] for p in container["ports"]]
    assert ports == ([7079] if _expected(spark)["ports"] != "survives" else [8090, 7079])
