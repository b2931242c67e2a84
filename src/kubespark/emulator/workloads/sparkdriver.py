"""What a Spark driver pod does once its container runs, simulated for the emulated kubelet.

Owns the driver's side of a Spark-on-Kubernetes application as Spark's
``KubernetesClusterSchedulerBackend`` and ``ExecutorPodsAllocator`` behave: read
``spark.properties`` from the ConfigMap mounted as ``spark-conf-volume-driver``, create
``spark.executor.instances`` executor pods (``<prefix>-exec-<N>``, labels ``spark-role=executor``,
``spark-app-selector``, ``spark-exec-id``, an ownerReference to the driver pod) through the API
server's create path, wait for them to run, "compute", then delete them and exit. It writes
Spark-like log lines. The driver's run time and exit code come from the pod's annotations.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Mapping
from typing import Any

from kubespark.emulator.apiserver.api import DeleteOptions, WriteOptions
from kubespark.emulator.apiserver.objects import Obj, peek_meta
from kubespark.emulator.apiserver.selectors import parse_field_selector, parse_label_selector
from kubespark.emulator.workloads.context import PodContext
from kubespark.emulator.workloads.steering import number
from kubespark.kube import errors

__all__ = [
    "PodLogger",
    "executor_pod",
    "is_driver",
    "parse_properties",
    "run_driver",
    "wait_running",
]

CONF_VOLUME = "spark-conf-volume-driver"
CONF_VOLUME_SPARK_3_0 = "spark-conf-volume"  # the name before Spark 3.1 (trace 3.0.3)
PROPERTIES_KEY = "spark.properties"
DEFAULT_RUN_SECONDS = 5.0
_DRIVER_CONTAINER = "spark-kubernetes-driver"


def is_driver(pod: Obj) -> bool:
    return (peek_meta(pod).get("labels") or {}).get("spark-role") == "driver"


def parse_properties(text: str) -> dict[str, str]:
    """Java ``.properties`` as Spark writes them (``#`` comments, ``\\:`` escapes)."""
    out: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        key_chars: list[str] = []
        i = 0
        while i < len(line):
            ch = line[i]
            if ch == "\\" and i + 1 < len(line):
                key_chars.append(line[i + 1])
                i += 2
                continue
            if ch in "=: \t":
                break
            key_chars.append(ch)
            i += 1
        rest = line[i:].lstrip(" \t")
        if rest[:1] in ("=", ":"):
            rest = rest[1:].lstrip(" \t")
        value: list[str] = []
        j = 0
        while j < len(rest):
            if rest[j] == "\\" and j + 1 < len(rest):
                nxt = rest[j + 1]
                value.append({"n": "\n", "t": "\t", "r": "\r"}.get(nxt, nxt))
                j += 2
            else:
                value.append(rest[j])
                j += 1
        out["".join(key_chars)] = "".join(value)
    return out


def _log_time() -> str:
    return time.strftime("%y/%m/%d %H:%M:%S", time.gmtime())


def _properties(ctx: PodContext, pod: Obj) -> dict[str, str] | None:
    namespace = peek_meta(pod).get("namespace", "")
    for vol in (pod.get("spec") or {}).get("volumes") or []:
        if vol.get("name") in (CONF_VOLUME, CONF_VOLUME_SPARK_3_0) and isinstance(
            vol.get("configMap"), dict
        ):
            cm = ctx.api.store.get(("", "configmaps"), namespace, vol["configMap"].get("name", ""))
            if cm is not None:
                return parse_properties((cm.get("data") or {}).get(PROPERTIES_KEY, ""))
    return None


def _memory_mib(text: str) -> int:
    units = {"k": 1 / 1024, "m": 1, "g": 1024, "t": 1024 * 1024}
    text = text.strip().lower().removesuffix("b")
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(float(text or "1024"))


def executor_pod(
    driver: Obj, conf: Mapping[str, str], exec_id: int, prefix: str, app_id: str
) -> Obj:
    dm = peek_meta(driver)
    driver_spec = driver.get("spec") or {}
    driver_container = (driver_spec.get("containers") or [{}])[0]
    image = (
        conf.get("spark.kubernetes.executor.container.image")
        or conf.get("spark.kubernetes.container.image")
        or driver_container.get("image", "apache/spark")
    )
    memory = _memory_mib(conf.get("spark.executor.memory", "1g"))
    overhead = max(
        384, int(memory * float(conf.get("spark.kubernetes.memoryOverheadFactor", "0.1")))
    )
    cores = conf.get("spark.executor.cores", "1")
    name = f"{prefix}-exec-{exec_id}"
    driver_host = conf.get("spark.driver.host", f"{dm.get('name')}-svc")
    driver_port = conf.get("spark.driver.port", "7078")
    labels = {
        "spark-app-selector": app_id,
        "spark-exec-id": str(exec_id),
        "spark-exec-resourceprofile-id": "0",
        "spark-role": "executor",
    }
    if conf.get("spark.app.name"):
        labels["spark-app-name"] = _label_value(conf["spark.app.name"])
    for key, value in conf.items():
        if key.startswith("spark.kubernetes.executor.label."):
            labels[key.removeprefix("spark.kubernetes.executor.label.")] = value
    # As Spark's BasicExecutorFeatureStep: spark.kubernetes.executor.annotation.* on the pod (so
    # an emulate- annotation given there steers the executors too).
    annotations = {
        key.removeprefix("spark.kubernetes.executor.annotation."): value
        for key, value in conf.items()
        if key.startswith("spark.kubernetes.executor.annotation.")
    }
    account = conf.get("spark.kubernetes.authenticate.executor.serviceAccountName")
    spec: dict[str, Any] = {
        "hostname": name[:63].rstrip("-."),
        "restartPolicy": "Never",
        "containers": [
            {
                "name": "spark-kubernetes-executor",
                "image": image,
                "imagePullPolicy": driver_container.get("imagePullPolicy", "IfNotPresent"),
                "args": ["executor"],
                "env": [
                    {"name": "SPARK_USER", "value": "root"},
                    {
                        "name": "SPARK_DRIVER_URL",
                        "value": f"spark://CoarseGrainedScheduler@{driver_host}:{driver_port}",
                    },
                    {"name": "SPARK_EXECUTOR_CORES", "value": cores},
                    {"name": "SPARK_EXECUTOR_MEMORY", "value": f"{memory}m"},
                    {"name": "SPARK_APPLICATION_ID", "value": app_id},
                    {"name": "SPARK_CONF_DIR", "value": "/opt/spark/conf"},
                    {"name": "SPARK_EXECUTOR_ID", "value": str(exec_id)},
                    {"name": "SPARK_RESOURCE_PROFILE_ID", "value": "0"},
                    {
                        "name": "SPARK_EXECUTOR_POD_IP",
                        "valueFrom": {
                            "fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}
                        },
                    },
                    {
                        "name": "SPARK_EXECUTOR_POD_NAME",
                        "valueFrom": {
                            "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}
                        },
                    },
                ],
                "ports": [{"containerPort": 7079, "name": "blockmanager", "protocol": "TCP"}],
                "resources": {
                    "requests": {"cpu": cores, "memory": f"{memory + overhead}Mi"},
                    "limits": {"memory": f"{memory + overhead}Mi"},
                },
            }
        ],
    }
    if account:
        spec["serviceAccountName"] = account
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": dm.get("namespace"),
            "labels": labels,
            **({"annotations": annotations} if annotations else {}),
            "ownerReferences": [
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "name": dm.get("name"),
                    "uid": dm.get("uid"),
                    "controller": True,
                }
            ],
        },
        "spec": spec,
    }


def _label_value(text: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "-" for c in text.lower())
    return cleaned.strip("-_.")[:63]


def _prefix(pod: Obj, conf: Mapping[str, str]) -> str:
    """Executor names' prefix: the conf's, else ``<app name>-<16 hex>`` fresh per driver.

    Spark's driver calls KubernetesConf.getResourceNamePrefix(spark.app.name) when no
    spark.kubernetes.executor.podNamePrefix is set, so a rerun's executors never share names with
    the previous run's (which may still be terminating). The id here is derived from the driver
    pod's uid: unique per run, and the same for a given pod.
    """
    explicit = conf.get("spark.kubernetes.executor.podNamePrefix")
    if explicit:
        return explicit
    app = conf.get("spark.app.name") or str(peek_meta(pod).get("name", "spark"))
    app = "".join(c if c.isalnum() else "-" for c in app.lower()).strip("-") or "spark"
    unique = hashlib.sha256(str(peek_meta(pod).get("uid", "")).encode()).hexdigest()[:16]
    return f"{app}-{unique}"


async def run_driver(ctx: PodContext, pod: Obj) -> int:
    """The driver's life once its container runs; returns its exit code."""
    key = ctx.key
    containers = (pod.get("spec") or {}).get("containers") or [{}]
    say = PodLogger(ctx, str(containers[0].get("name") or _DRIVER_CONTAINER))
    conf = _properties(ctx, pod)
    if conf is None:
        say(
            "ERROR SparkContext: Error initializing SparkContext: spark.properties not found "
            f"in volume {CONF_VOLUME}"
        )
        return 1
    app_id = conf.get("spark.app.id") or (peek_meta(pod).get("labels") or {}).get(
        "spark-app-selector", "spark-application"
    )
    version = (peek_meta(pod).get("labels") or {}).get("spark-version", "")
    say(f"INFO SparkContext: Running Spark version {version}".rstrip())
    say(f"INFO SparkContext: Submitted application: {conf.get('spark.app.name', 'spark')}")
    count = int(conf.get("spark.executor.instances", "2") or 0)
    prefix = _prefix(pod, conf)
    pods = ctx.pods
    created: list[str] = []
    for exec_id in range(1, count + 1):
        body = executor_pod(pod, conf, exec_id, prefix, app_id)
        try:
            ctx.api.create(pods, key[0], body, WriteOptions(field_manager="fabric8"))
        except errors.APIError as err:
            say(
                "ERROR ExecutorPodsSnapshotsStoreImpl: Going to stop due to "
                "IllegalArgumentException"
                f" Failure executing: POST at: /api/v1/namespaces/{key[0]}/pods. Message: "
                f"{err.message}."
            )
            return 1
        created.append(body["metadata"]["name"])
        say(
            f"INFO ExecutorPodsAllocator: Going to request 1 executors from Kubernetes for "
            f"ResourceProfile Id: 0, target: {count}, known: {exec_id - 1}, "
            "sharedSlotFromPendingPods: 2147483647."
        )
    await wait_running(ctx, key[0], created)
    say(
        "INFO KubernetesClusterSchedulerBackend: SchedulerBackend is ready for scheduling "
        "beginning after reached minRegisteredResourcesRatio: 0.8"
    )
    await ctx.clock.sleep(number(pod, "run-seconds", DEFAULT_RUN_SECONDS))
    if ctx.current() is None:
        return 0
    say(f"Pi is roughly {3.14159 + random.uniform(-0.001, 0.001):.5f}")
    say("INFO SparkUI: Stopped Spark web UI")
    if conf.get("spark.kubernetes.executor.deleteOnTermination", "true").lower() != "false":
        say("INFO KubernetesClusterSchedulerBackend: Shutting down all executors")
        _delete_executors(ctx, key[0], app_id)
    say("INFO SparkContext: Successfully stopped SparkContext")
    return int(number(pod, "exit-code", 0))


async def wait_running(ctx: PodContext, namespace: str, names: list[str]) -> None:
    for _ in range(200):  # bounded: the driver proceeds after ~20 emulated seconds regardless
        pending = [
            n
            for n in names
            if ((ctx.api.store.get(ctx.pods.bucket, namespace, n) or {}).get("status") or {}).get(
                "phase"
            )
            not in ("Running", "Succeeded", "Failed")
            and ctx.api.store.get(ctx.pods.bucket, namespace, n) is not None
        ]
        if not pending:
            return
        await ctx.clock.sleep(0.1)


def _delete_executors(ctx: PodContext, namespace: str, app_id: str) -> None:
    labels = parse_label_selector(f"spark-app-selector={app_id},spark-role=executor")
    fields = parse_field_selector("", "Pod")
    ctx.api.delete_collection(ctx.pods, namespace, labels, fields, DeleteOptions())


class PodLogger:
    """Lines of one container's log, stamped as Spark's log4j layout stamps them."""

    def __init__(self, ctx: PodContext, container: str) -> None:
        self.ctx = ctx
        self.container = container

    def __call__(self, text: str) -> None:
        line = text if text.startswith("Pi is") else f"{_log_time()} {text}"
        self.ctx.append_log(self.container, line)
