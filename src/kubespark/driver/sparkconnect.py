"""The objects kubeflow's SparkConnect reconciler writes, built from a SparkConnect.

Owns the shapes of ``internal/controller/sparkconnect/`` (reconciler.go, options.go, util.go):
the ConfigMap ``<name>-conf`` holding the executor pod template, the server pod
``<name>-server`` (the user's server template, its ``spark-kubernetes-driver`` container
running ``start-connect-server.sh`` with kubeflow's ``--conf`` options, TCP probes on 15002, the
template mounted from the ConfigMap) and the Service (``<name>-server`` or the user's
``server.service``) with the driver-rpc, blockmanager, web-ui and spark-connect-server ports.
Each is owned by the SparkConnect (controller reference), so deleting it collects them.

Beyond kubeflow: the Spark release decides how the server starts (``data/spark_connect.yaml``):
releases without Spark Connect (before 3.4) are refused naming ``spec.sparkVersion``, and 3.x,
whose distribution does not bundle the server, gets ``--packages`` with its spark-connect
artifact. It must not talk to a server.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from kubespark.driver.kubeflow import LABEL_CREATED_BY, LABEL_LAUNCHED_BY, LABEL_PREFIX
from kubespark.errors import DataError, InputError
from kubespark.spark.connect import CONNECT_API_VERSION, SparkConnect
from kubespark.versions import Version, parse_spark_version

__all__ = [
    "CONNECT_PORT",
    "EXECUTOR_TEMPLATE_FILE",
    "LABEL_CONNECT_NAME",
    "ROLE_SERVER",
    "ConnectObjects",
    "ConnectRelease",
    "connect_objects",
    "connect_release",
    "executor_selector",
    "server_pod_name",
    "service_name",
    "start_arguments",
]

Obj = dict[str, Any]
CONNECT_PORT = 15002
EXECUTOR_TEMPLATE_FILE = "executor-pod-template.yaml"
LABEL_CONNECT_NAME = LABEL_PREFIX + "connect-name"
ROLE_SERVER = "connect-server"  # common.SparkRoleConnectServer
_SERVER_CONTAINER = "spark-kubernetes-driver"
_EXECUTOR_CONTAINER = "spark-kubernetes-executor"
_CONF_VOLUME = "spark-conf"  # common.SparkConfigMapVolumeMountName
_MASTER = "k8s://https://kubernetes.default.svc:443"
# options.go driverConfOption: POD_IP, bracketed when it is an IPv6 address.
_DRIVER_HOST = (
    '$(host=${POD_IP}; if [[ $host == *:* ]] && [[ $host != \\[* ]]; then echo "[$host]"; '
    'else echo "$host"; fi)'
)


@dataclass(frozen=True, slots=True)
class ConnectRelease:
    """How one Spark release runs the Spark Connect server (an entry of the data file)."""

    since: Version
    available: bool
    server_class: str
    package: str
    scala: str

    def packages(self, version: Version) -> str:
        return self.package.format(scala=self.scala, version=version) if self.package else ""


@functools.cache
def _releases() -> tuple[ConnectRelease, ...]:
    text = resources.files("kubespark.driver").joinpath("data", "spark_connect.yaml").read_text()
    doc = yaml.safe_load(text)
    if not isinstance(doc, dict) or not doc.get("source"):
        raise DataError("spark_connect.yaml needs a source and releases")
    out = []
    for raw in doc["releases"]:
        major, minor, patch = (int(p) for p in str(raw["since"]).split("."))
        out.append(
            ConnectRelease(
                since=Version(major, minor, patch),
                available=bool(raw["available"]),
                server_class=str(raw["class"]),
                package=str(raw["package"]),
                scala=str(raw["scala"]),
            )
        )
    return tuple(sorted(out, key=lambda r: (r.since.major, r.since.minor, r.since.patch or 0)))


def connect_release(version: Version) -> ConnectRelease:
    """The newest entry not after ``version``."""
    key = (version.major, version.minor, version.patch or 0)
    found = [r for r in _releases() if (r.since.major, r.since.minor, r.since.patch or 0) <= key]
    return found[-1]


@dataclass(frozen=True, slots=True)
class ConnectObjects:
    """What the reconciler writes for one SparkConnect, in kubeflow's order."""

    config_map: Obj
    server_pod: Obj
    service: Obj


def server_pod_name(conn: SparkConnect) -> str:
    return f"{conn.metadata.name}-server"


def service_name(conn: SparkConnect) -> str:
    """``GetServerServiceName``: the user's ``server.service`` name, else ``<name>-server``."""
    service = conn.spec.server.service or {}
    # kubeflow would send a nameless Service (refused); its default name serves better.
    return str((service.get("metadata") or {}).get("name") or f"{conn.metadata.name}-server")


def executor_selector(name: str) -> dict[str, str]:
    """``GetExecutorSelectorLabels``: the labels the server of SparkConnect ``name`` gives its
    executors."""
    return {
        LABEL_LAUNCHED_BY: "true",
        LABEL_CONNECT_NAME: name,
        "spark-role": "executor",
    }


def _server_selector(conn: SparkConnect) -> dict[str, str]:
    return {
        LABEL_LAUNCHED_BY: "true",
        LABEL_CONNECT_NAME: conn.metadata.name,
        "spark-role": ROLE_SERVER,
        "spark-version": conn.spec.spark_version,
    }


def _common_labels(conn: SparkConnect) -> dict[str, str]:
    return {LABEL_CREATED_BY: "true", LABEL_CONNECT_NAME: conn.metadata.name}


def _owner(conn: SparkConnect) -> Obj:
    return {
        "apiVersion": CONNECT_API_VERSION,
        "kind": "SparkConnect",
        "name": conn.metadata.name,
        "uid": conn.metadata.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def connect_objects(conn: SparkConnect) -> ConnectObjects:
    """The ConfigMap, server pod and Service (InputError naming the field when it cannot run)."""
    version = parse_spark_version(conn.spec.spark_version, what="spec.sparkVersion")
    release = connect_release(version)
    if not release.available:
        raise InputError(
            f"Spark {version} has no Spark Connect server (it arrived in Spark 3.4.0)",
            where="spec.sparkVersion",
            fix="use Spark 3.4 or later (sparkVersion and the images)",
        )
    return ConnectObjects(_config_map(conn), _server_pod(conn, version, release), _service(conn))


def _config_map(conn: SparkConnect) -> Obj:
    # mutateConfigMap marshals the executor template as it is, ``null`` when there is none.
    given = conn.spec.executor.template
    template = "null\n" if given is None else yaml.safe_dump(given, sort_keys=True)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": f"{conn.metadata.name}-conf",
            "namespace": conn.metadata.namespace,
            "labels": _common_labels(conn),
            "ownerReferences": [_owner(conn)],
        },
        "data": {EXECUTOR_TEMPLATE_FILE: template},
    }


def _selected(containers: list[Obj], name: str) -> int:
    """The container kubeflow picks: the first named ``name``, else the first one."""
    return next((i for i, c in enumerate(containers) if c.get("name") == name), 0)


def _executor_image(conn: SparkConnect) -> str:
    image = conn.spec.image or ""
    template = conn.spec.executor.template or {}
    containers = list((template.get("spec") or {}).get("containers") or [])
    if containers:
        image = containers[_selected(containers, _EXECUTOR_CONTAINER)].get("image") or image
    if not image:
        raise InputError(
            "image is not specified",
            where="spec.image",
            fix="set spec.image, or an image on the executor template's container",
        )
    return str(image)


def _quoted(key: str, value: str) -> str:
    """``shellQuoteSparkConfig``: the pair in single quotes, safe inside ``bash -c``."""
    return "'" + f"{key}={value}".replace("'", "'\"'\"'") + "'"


def start_arguments(conn: SparkConnect, version: Version, release: ConnectRelease) -> list[str]:
    """``buildStartConnectServerArgs``, plus ``--packages`` where the release needs it."""
    name = conn.metadata.name
    image = _executor_image(conn)
    args = ["${SPARK_HOME}/sbin/start-connect-server.sh", "--master", _MASTER]
    packages = release.packages(version)
    if packages:
        args += ["--packages", packages]

    def conf(pair: str) -> None:
        args.extend(("--conf", pair))

    conf(f"spark.kubernetes.namespace={conn.metadata.namespace}")
    conf(f"spark.kubernetes.container.image={image}")
    conf(f"spark.kubernetes.executor.container.image={image}")
    for key, value in conn.spec.spark_conf.items():
        if key != "spark.kubernetes.driver.pod.name":
            conf(_quoted(key, value))
    for key, value in conn.spec.hadoop_conf.items():
        full = key if key.startswith("spark.hadoop.") else f"spark.hadoop.{key}"
        conf(_quoted(full, value))
    for role in ("driver", "executor"):
        conf(f"spark.kubernetes.{role}.label.{LABEL_LAUNCHED_BY}=true")
        conf(f"spark.kubernetes.{role}.label.{LABEL_CONNECT_NAME}={name}")
        for key, value in conn.metadata.labels.items():
            conf(f"spark.kubernetes.{role}.label.{key}={value}")
        if role == "driver":
            server = conn.spec.server
            if server.cores is not None:
                conf(f"spark.driver.cores={server.cores}")
            if server.memory is not None:
                conf(f"spark.driver.memory={server.memory}")
            conf("spark.driver.bindAddress=0.0.0.0")
            conf(f"spark.driver.host={_DRIVER_HOST}")
            conf("spark.driver.port=7078")
            conf("spark.driver.blockManager.port=7079")
            conf(f"spark.kubernetes.driver.pod.name={name}-server")
    executor = conn.spec.executor
    if executor.instances is not None:
        conf(f"spark.executor.instances={executor.instances}")
    if executor.cores is not None:
        conf(f"spark.executor.cores={executor.cores}")
    if executor.memory is not None:
        conf(f"spark.executor.memory={executor.memory}")
    conf(f"spark.kubernetes.executor.podNamePrefix={name}")
    if executor.template is not None:
        conf(f"spark.kubernetes.executor.podTemplateFile=/tmp/spark/{EXECUTOR_TEMPLATE_FILE}")
        conf(f"spark.kubernetes.executor.podTemplateContainerName={_EXECUTOR_CONTAINER}")
    args += _dynamic_allocation(conn)
    return args


def _dynamic_allocation(conn: SparkConnect) -> list[str]:
    allocation = conn.spec.dynamic_allocation
    if allocation is None or not allocation.enabled:
        return []
    pairs = ["spark.dynamicAllocation.enabled=true"]
    for key, value in (
        ("initialExecutors", allocation.initial_executors),
        ("minExecutors", allocation.min_executors),
        ("maxExecutors", allocation.max_executors),
    ):
        if value is not None:
            pairs.append(f"spark.dynamicAllocation.{key}={value}")
    tracking = allocation.shuffle_tracking_enabled
    pairs.append(
        "spark.dynamicAllocation.shuffleTracking.enabled="
        + ("false" if tracking is False else "true")
    )
    if allocation.shuffle_tracking_timeout is not None:
        pairs.append(
            f"spark.dynamicAllocation.shuffleTracking.timeout={allocation.shuffle_tracking_timeout}"
        )
    return [item for pair in pairs for item in ("--conf", pair)]


def _probe(*, startup: bool) -> Obj:
    probe: Obj = {"tcpSocket": {"port": CONNECT_PORT}, "periodSeconds": 10, "timeoutSeconds": 1}
    if startup:
        probe |= {"initialDelaySeconds": 5, "failureThreshold": 30}
    else:
        probe["failureThreshold"] = 3
    return probe


def _server_pod(conn: SparkConnect, version: Version, release: ConnectRelease) -> Obj:
    """``mutateServerPod`` for a pod not created yet."""
    template = copy.deepcopy(conn.spec.server.template or {})
    meta = template.get("metadata") or {}
    spec: Obj = dict(template.get("spec") or {})
    containers = [dict(c) for c in spec.get("containers") or []] or [{"name": _SERVER_CONTAINER}]
    index = _selected(containers, _SERVER_CONTAINER)
    container = containers[index]
    if not container.get("image"):
        if not conn.spec.image:
            raise InputError(
                "image is not specified",
                where="spec.image",
                fix="set spec.image, or an image on the server template's container",
            )
        container["image"] = conn.spec.image
    command = " ".join(start_arguments(conn, version, release))
    container["command"] = ["bash", "-c"]
    container["args"] = [command]
    container.setdefault("startupProbe", _probe(startup=True))
    container.setdefault("readinessProbe", _probe(startup=False))
    container["env"] = [
        *(container.get("env") or []),
        {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        {"name": "SPARK_NO_DAEMONIZE", "value": "true"},
    ]
    container["volumeMounts"] = [
        *(container.get("volumeMounts") or []),
        {
            "name": _CONF_VOLUME,
            "subPath": EXECUTOR_TEMPLATE_FILE,
            "mountPath": f"/tmp/spark/{EXECUTOR_TEMPLATE_FILE}",
            "readOnly": True,
        },
    ]
    container["lifecycle"] = {
        "preStop": {
            "exec": {"command": ["bash", "-c", "${SPARK_HOME}/sbin/stop-connect-server.sh"]}
        }
    }
    containers[index] = container
    spec["containers"] = containers
    spec["volumes"] = [
        *(spec.get("volumes") or []),
        {
            "name": _CONF_VOLUME,
            "configMap": {
                "name": f"{conn.metadata.name}-conf",
                "items": [{"key": EXECUTOR_TEMPLATE_FILE, "path": EXECUTOR_TEMPLATE_FILE}],
            },
        },
    ]
    labels = {**(meta.get("labels") or {}), **_server_selector(conn)}
    metadata: Obj = {
        "name": server_pod_name(conn),
        "namespace": conn.metadata.namespace,
        "labels": labels,
        "ownerReferences": [_owner(conn)],
    }
    if meta.get("annotations"):
        metadata["annotations"] = dict(meta["annotations"])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}


def _service(conn: SparkConnect) -> Obj:
    """``mutateServerService`` for a Service not created yet (the user's, when given)."""
    given: Mapping[str, Any] = conn.spec.server.service or {}
    service = copy.deepcopy(dict(given))
    meta = dict(service.get("metadata") or {})
    spec = dict(service.get("spec") or {})
    ports = [
        ("driver-rpc", 7078, "tcp"),
        ("blockmanager", 7079, "tcp"),
        ("web-ui", 4040, "http"),
        ("spark-connect-server", CONNECT_PORT, "grpc"),
    ]
    spec["ports"] = [
        {"name": n, "port": p, "targetPort": p, "protocol": "TCP", "appProtocol": a}
        for n, p, a in ports
    ]
    spec["selector"] = {**(spec.get("selector") or {}), **_server_selector(conn)}
    meta["name"] = service_name(conn)
    meta["namespace"] = conn.metadata.namespace  # "Namespace provided by user will be ignored."
    meta["labels"] = {**(meta.get("labels") or {}), **_common_labels(conn)}
    meta["ownerReferences"] = [_owner(conn)]
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec}
