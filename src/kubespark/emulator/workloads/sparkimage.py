"""What an Apache Spark image would run for a container: its Spark version, command and env.

Owns telling a pod's Spark version (a ``--spark-image-map`` entry, an Apache Spark image tag
``apache/spark:V``, ``spark:V``, ``*/spark:V...``, or the ``kubespark.io/spark-version`` label),
the container's environment as a kubelet resolves it (values, ``fieldRef``, ConfigMap and Secret
keys, ``envFrom``, ``$(VAR)`` references), and the command the image's ``entrypoint.sh`` would
build for ``driver`` and ``executor`` (facts by release in ``data/spark_images.yaml``). It plans;
it starts nothing and writes nothing.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from kubespark.emulator.apiserver.objects import Obj, peek_meta

__all__ = [
    "VERSION_LABEL",
    "Lookup",
    "SparkRuntime",
    "container_command",
    "container_env",
    "is_spark_image",
    "spark_version",
]

VERSION_LABEL = "kubespark.io/spark-version"
_TAG = re.compile(r"(?:^|/)spark:v?(\d+\.\d+\.\d+)")
_VERSION = re.compile(r"^v?(\d+\.\d+\.\d+)")
_REFERENCE = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")

Lookup = Callable[[str, str], Obj | None]
"""``lookup(plural, name)``: a ConfigMap or Secret of the pod's namespace, or None."""


@dataclass(frozen=True)
class SparkRuntime:
    """Where a Spark release lives on this machine: its SPARK_HOME, Java and Python."""

    version: str
    spark_home: Path
    java_home: Path
    python_bin: Path  # the directory whose python3 has this pyspark
    # the interpreter PySpark's driver and workers run, when the venv's is too new for it
    pyspark_python: Path | None = None


@cache
def _facts() -> dict[str, Any]:
    text = resources.files("kubespark.emulator").joinpath("data/spark_images.yaml").read_text()
    facts: dict[str, Any] = yaml.safe_load(text)
    return facts


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def _since(entries: Sequence[Mapping[str, Any]], version: str) -> Mapping[str, Any]:
    return next(e for e in entries if _key(version) >= _key(str(e["since"])))


def java_major(version: str) -> int:
    """The Java major version the Apache Spark image of ``version`` runs on."""
    return int(_since(_facts()["java"], version)["major"])


def python_ceiling(version: str) -> tuple[int, int] | None:
    """The newest Python (major, minor) the PySpark of ``version`` runs on; None: no limit."""
    ceiling = _since(_facts()["python"], version).get("max")
    if not ceiling:
        return None
    major, minor = str(ceiling).split(".")
    return int(major), int(minor)


def image_work_dir() -> str:
    return str(_facts()["work_dir"])


def spark_version(
    image: str, labels: Mapping[str, str], image_map: Mapping[str, str]
) -> str | None:
    """The Spark release a container image runs, or None when it cannot be told."""
    if image in image_map:
        return image_map[image]
    found = _TAG.search(image)
    if found:
        return found.group(1)
    label = _VERSION.match(labels.get(VERSION_LABEL, ""))
    return label.group(1) if label else None


def is_spark_image(image: str) -> bool:
    """An Apache Spark image by name (``.../spark:TAG``), whatever its tag says."""
    repository = image.split("@", 1)[0].rsplit(":", 1)[0] if ":" in image else image
    return repository.rsplit("/", 1)[-1] == "spark"


# --- env ---------------------------------------------------------------------------------------
def _field(pod: Obj, path: str) -> str:
    meta = peek_meta(pod)
    status = pod.get("status") or {}
    spec = pod.get("spec") or {}
    simple = {
        "metadata.name": meta.get("name"),
        "metadata.namespace": meta.get("namespace"),
        "metadata.uid": meta.get("uid"),
        "spec.nodeName": spec.get("nodeName"),
        "spec.serviceAccountName": spec.get("serviceAccountName"),
        "status.podIP": status.get("podIP"),
        "status.hostIP": status.get("hostIP"),
    }
    if path in simple:
        return str(simple[path] or "")
    found = re.fullmatch(r"metadata\.(labels|annotations)\['(.+)'\]", path)
    if found:
        return str((meta.get(found.group(1)) or {}).get(found.group(2), ""))
    return ""


def _key_value(source: Obj | None, key: str, secret: bool) -> str | None:
    if source is None:
        return None
    value = (source.get("data") or {}).get(key)
    if value is None:
        return None
    return base64.b64decode(value).decode() if secret else str(value)


def _value_from(pod: Obj, ref: Obj, lookup: Lookup) -> str | None:
    if "fieldRef" in ref:
        return _field(pod, str(ref["fieldRef"].get("fieldPath", "")))
    for kind, plural, secret in (
        ("configMapKeyRef", "configmaps", False),
        ("secretKeyRef", "secrets", True),
    ):
        if kind in ref:
            sel = ref[kind]
            return _key_value(lookup(plural, sel.get("name", "")), sel.get("key", ""), secret)
    return None


def _env_from(container: Obj, lookup: Lookup) -> dict[str, str]:
    out: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        prefix = source.get("prefix", "")
        for kind, plural, secret in (
            ("configMapRef", "configmaps", False),
            ("secretRef", "secrets", True),
        ):
            if kind in source:
                obj = lookup(plural, source[kind].get("name", ""))
                for key in (obj or {}).get("data") or {}:
                    out[prefix + key] = _key_value(obj, key, secret) or ""
    return out


def container_env(
    pod: Obj, container: Obj, lookup: Lookup, base: Mapping[str, str]
) -> dict[str, str]:
    """The container's environment as a kubelet gives it, on top of ``base`` (the image's)."""
    env = dict(base) | _env_from(container, lookup)
    for var in container.get("env") or []:
        name = str(var.get("name", ""))
        if "valueFrom" in var:
            value = _value_from(pod, var["valueFrom"], lookup)
            if value is not None:
                env[name] = value
            continue
        text = str(var.get("value", ""))
        env[name] = _REFERENCE.sub(lambda m: env.get(m.group(1), m.group(0)), text)
    return env


# --- command -----------------------------------------------------------------------------------
def _java_options(env: Mapping[str, str]) -> list[str]:
    numbered = [
        (int(k.rsplit("_", 1)[1]), v)
        for k, v in env.items()
        if re.fullmatch(r"SPARK_JAVA_OPT_\d+", k)
    ]
    return [v for _, v in sorted(numbered)]


def _executor(runtime: SparkRuntime, env: Mapping[str, str]) -> list[str]:
    backend = _since(_facts()["executor_backends"], runtime.version)
    memory = env.get("SPARK_EXECUTOR_MEMORY", "1g")
    conf_dir = env.get("SPARK_CONF_DIR", f"{runtime.spark_home}/conf")
    cmd = [str(runtime.java_home / "bin" / "java"), *_java_options(env)]
    cmd += [f"-Xms{memory}", f"-Xmx{memory}"]
    cmd += ["-cp", f"{conf_dir}:{runtime.spark_home}/jars/*", str(backend["class"])]
    cmd += ["--driver-url", env.get("SPARK_DRIVER_URL", "")]
    cmd += ["--executor-id", env.get("SPARK_EXECUTOR_ID", "")]
    cmd += ["--cores", env.get("SPARK_EXECUTOR_CORES", "1")]
    cmd += ["--app-id", env.get("SPARK_APPLICATION_ID", "")]
    cmd += ["--hostname", env.get("SPARK_EXECUTOR_POD_IP", "")]
    if "resource_profile" in backend["arguments"]:
        cmd += ["--resourceProfileId", env.get("SPARK_RESOURCE_PROFILE_ID", "0")]
    if "pod_name" in backend["arguments"]:
        cmd += ["--podName", env.get("SPARK_EXECUTOR_POD_NAME", "")]
    return cmd


def _connect_server(args: list[str], api_url: str) -> list[str]:
    """``bash -c`` args running the image's ``start-connect-server.sh``, as the script would.

    The server is a client-mode driver: its Kubernetes client talks to ``--master``, so the
    emulator's address goes last (spark-submit takes the last ``--master`` given).
    """
    facts = _facts()["connect_server"]
    script = str(facts["script"])
    if len(args) != 1 or not args[0].lstrip().startswith(script):
        return args
    submit = f'"${{SPARK_HOME}}/bin/spark-submit" --class {facts["class"]} --name "{facts["name"]}"'
    line = args[0].replace(script, submit, 1)
    return [f"{line} --master k8s://{api_url}"]


def container_command(
    container: Obj, runtime: SparkRuntime, env: Mapping[str, str], api_url: str
) -> list[str]:
    """What the image runs: the container's own command, else its entrypoint on its args.

    The driver gets one conf the image would not pass: ``spark.kubernetes.driver.master`` set to
    the emulator, since ``kubernetes.default.svc:443`` cannot reach it from this machine.
    """
    args = [
        _REFERENCE.sub(lambda m: env.get(m.group(1), m.group(0)), a)
        for a in (container.get("args") or [])
    ]
    if container.get("command"):
        return [*container["command"], *_connect_server(args, api_url)]
    role = args[0] if args else ""
    if role == "driver":
        submit = str(runtime.spark_home / "bin" / "spark-submit")
        bind = env.get("SPARK_DRIVER_BIND_ADDRESS", "")
        return [
            submit,
            "--conf",
            f"spark.driver.bindAddress={bind}",
            "--conf",
            f"spark.kubernetes.driver.master={api_url}",
            "--deploy-mode",
            "client",
            *args[1:],
        ]
    if role == "executor":
        return _executor(runtime, env)
    return args
