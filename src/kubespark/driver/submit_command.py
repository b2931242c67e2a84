"""SparkApplication -> the spark-submit command the kubeflow operator would run.

Owns the mapping of ``internal/controller/sparkapplication/submission.go``
(``buildSparkSubmitArgs``): the option functions in the operator's order, each field to the
``--conf`` or flag it becomes. Go iterates maps in random order; here map-derived confs are sorted
by key, so one application gives one command. The pod templates the operator writes to files are
returned as text with the paths the operator uses, so the command can be replayed with the real
spark-submit (the conformance tests do) or read by the builder.

kubespark's differences from the operator, each for a reason (docs/driver-conformance.md):
- no ``sparkoperator.k8s.io/mutated-by-spark-operator`` label: nothing is left for a webhook to
  patch, and a webhook that is installed must not patch a second time;
- the executor pod template also carries every executor patch of the webhook.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import yaml

from kubespark.driver.kubeflow import (
    CONTAINER,
    LABEL_APP_NAME,
    LABEL_LAUNCHED_BY,
    LABEL_SUBMISSION_ID,
    driver_pod_template,
    executor_pod_template,
)
from kubespark.driver.monitoring import with_monitoring
from kubespark.errors import InputError
from kubespark.spark.model import SparkApplication, _PodSpecFields

__all__ = ["DEFAULT_MASTER", "SubmitCommand", "spark_submit_command"]

DEFAULT_MASTER = "k8s://https://kubernetes.default.svc:443"
_LOCAL_DIR_PREFIX = "spark-local-dir-"
_KUEUE_PREFIX = "kueue.x-k8s.io/"


@dataclass(frozen=True)
class SubmitCommand:
    """``spark-submit`` arguments (without the program) and the files they name."""

    args: tuple[str, ...]
    files: Mapping[str, str] = field(default_factory=dict)

    def confs(self) -> dict[str, str]:
        """The ``--conf`` pairs, later ones winning, as spark-submit reads them."""
        out: dict[str, str] = {}
        for flag, value in zip(self.args, self.args[1:], strict=False):
            if flag == "--conf":
                key, _, val = value.partition("=")
                out[key] = val
        return out


def spark_submit_command(
    app: SparkApplication, *, submission_id: str, master: str = DEFAULT_MASTER
) -> SubmitCommand:
    """The arguments ``buildSparkSubmitArgs`` builds for ``app`` (templates included).

    ``app`` first gets the changes the operator's controller makes in memory before submitting
    (``spec.monitoring``: metrics confs, the JMX agent's java options, prometheus annotations).
    """
    app = with_monitoring(app)
    spec = app.spec
    args: list[str] = ["--master", master, "--deploy-mode", spec.mode]
    if spec.main_class is not None:
        args += ["--class", spec.main_class]
    args += ["--name", app.metadata.name]
    args += _dependencies(app)
    conf: list[tuple[str, str]] = [("spark.kubernetes.namespace", app.metadata.namespace)]
    conf += _image(app)
    if spec.python_version:
        conf.append(("spark.kubernetes.pyspark.pythonVersion", spec.python_version))
    if spec.memory_overhead_factor:
        conf.append(("spark.kubernetes.memoryOverheadFactor", spec.memory_overhead_factor))
    conf.append(("spark.kubernetes.submission.waitAppCompletion", "false"))
    conf += sorted(
        (k, v) for k, v in spec.spark_conf.items() if k != "spark.kubernetes.driver.pod.name"
    )
    conf += sorted((f"spark.hadoop.{k}", v) for k, v in spec.hadoop_conf.items())
    conf.append(("spark.kubernetes.driver.pod.name", driver_pod_name(app)))
    conf += _role_confs(app, "driver", submission_id)
    conf += sorted(_env_vars(spec.driver, "spark.kubernetes.driverEnv."))
    conf += _secrets(spec.driver, "driver")
    conf += _local_dir_volumes(app, "driver")
    conf += _role_confs(app, "executor", submission_id)
    conf += sorted(_env_vars(spec.executor, "spark.executorEnv."))
    conf += _secrets(spec.executor, "executor")
    conf += _local_dir_volumes(app, "executor")
    conf += sorted(
        (f"spark.kubernetes.node.selector.{k}", v) for k, v in spec.node_selector.items()
    )
    conf += _dynamic_allocation(app)
    files = _pod_templates(app, submission_id)
    for path, role in zip(files, ("driver", "executor"), strict=True):
        conf += [
            (f"spark.kubernetes.{role}.podTemplateFile", path),
            (f"spark.kubernetes.{role}.podTemplateContainerName", CONTAINER[role]),
        ]
    for key, value in conf:
        args += ["--conf", f"{key}={value}"]
    if spec.proxy_user:
        args += ["--proxy-user", spec.proxy_user]
    args.append(spec.main_application_file or "")
    args += spec.arguments
    return SubmitCommand(tuple(args), files)


def driver_pod_name(app: SparkApplication) -> str:
    """``util.GetDriverPodName``: spec.driver.podName, the sparkConf one, else ``<app>-driver``."""
    return (
        app.spec.driver.pod_name
        or app.spec.spark_conf.get("spark.kubernetes.driver.pod.name")
        or f"{app.metadata.name}-driver"
    )


def _dependencies(app: SparkApplication) -> list[str]:
    deps = app.spec.deps
    out: list[str] = []
    for flag, values in (
        ("--jars", deps.jars),
        ("--packages", deps.packages),
        ("--exclude-packages", deps.exclude_packages),
        ("--repositories", deps.repositories),
        ("--py-files", deps.py_files),
        ("--files", deps.files),
        ("--archives", deps.archives),
    ):
        if values:
            out += [flag, ",".join(values)]
    return out


def _image(app: SparkApplication) -> list[tuple[str, str]]:
    spec = app.spec
    out = []
    if spec.image:
        out.append(("spark.kubernetes.container.image", spec.image))
    if spec.image_pull_policy:
        out.append(("spark.kubernetes.container.image.pullPolicy", spec.image_pull_policy))
    if spec.image_pull_secrets:
        out.append(
            ("spark.kubernetes.container.image.pullSecrets", ",".join(spec.image_pull_secrets))
        )
    return out


def _role_confs(app: SparkApplication, role: str, submission_id: str) -> list[tuple[str, str]]:
    """``driverConfOption`` / ``executorConfOption``."""
    spec = app.spec
    pod: _PodSpecFields = spec.driver if role == "driver" else spec.executor
    k8s = f"spark.kubernetes.{role}"
    out = [
        (f"{k8s}.label.{LABEL_APP_NAME}", app.metadata.name),
        (f"{k8s}.label.{LABEL_LAUNCHED_BY}", "true"),
        (f"{k8s}.label.{LABEL_SUBMISSION_ID}", submission_id),
    ]
    if role == "executor" and spec.executor.instances is not None:
        out.append(("spark.executor.instances", str(spec.executor.instances)))
    image = pod.image or spec.image
    if image:
        out.append((f"{k8s}.container.image", image))
    if pod.cores is not None:
        out.append((f"spark.{role}.cores", str(pod.cores)))
    if pod.core_request is not None:
        out.append((f"{k8s}.request.cores", pod.core_request))
    if pod.core_limit is not None:
        out.append((f"{k8s}.limit.cores", pod.core_limit))
    if pod.memory is not None:
        out.append((f"spark.{role}.memory", pod.memory))
    if pod.memory_overhead is not None:
        out.append((f"spark.{role}.memoryOverhead", pod.memory_overhead))
    if pod.service_account is not None:
        out.append(
            (f"spark.kubernetes.authenticate.{role}.serviceAccountName", pod.service_account)
        )
    if role == "driver":
        out += _driver_only(app)
    else:
        if spec.executor.delete_on_termination is not None:
            value = str(spec.executor.delete_on_termination).lower()
            out.append(("spark.kubernetes.executor.deleteOnTermination", value))
    out += sorted(
        (f"{k8s}.label.{k}", v)
        for k, v in app.metadata.labels.items()
        if not k.startswith(_KUEUE_PREFIX)
    )
    out += sorted((f"{k8s}.label.{k}", v) for k, v in pod.labels.items())
    out += sorted((f"{k8s}.annotation.{k}", v) for k, v in pod.annotations.items())
    if role == "driver":
        out += sorted(
            (f"{k8s}.service.label.{k}", v) for k, v in spec.driver.service_labels.items()
        )
        out += sorted(
            (f"{k8s}.service.annotation.{k}", v) for k, v in spec.driver.service_annotations.items()
        )
    out += sorted(
        (f"{k8s}.secretKeyRef.{k}", f"{ref.name}:{ref.key}")
        for k, ref in pod.env_secret_key_refs.items()
    )
    if role == "executor" and pod.java_options is not None:
        out.append(("spark.executor.extraJavaOptions", pod.java_options))
    return out


def _driver_only(app: SparkApplication) -> list[tuple[str, str]]:
    driver = app.spec.driver
    out = []
    if driver.java_options is not None:
        out.append(("spark.driver.extraJavaOptions", driver.java_options))
    if driver.kubernetes_master is not None:
        out.append(("spark.kubernetes.driver.master", driver.kubernetes_master))
    return out


def _env_vars(pod: _PodSpecFields, prefix: str) -> Iterator[tuple[str, str]]:
    for key, value in pod.env_vars.items():
        yield f"{prefix}{key}", value


_SECRET_ENV = {
    "GCPServiceAccount": ("GOOGLE_APPLICATION_CREDENTIALS", "key.json"),
    "HadoopDelegationToken": ("HADOOP_TOKEN_FILE_LOCATION", "hadoop.token"),
}


def _secrets(pod: _PodSpecFields, role: str) -> list[tuple[str, str]]:
    env_prefix = "spark.kubernetes.driverEnv." if role == "driver" else "spark.executorEnv."
    out = []
    for secret in pod.secrets:
        out.append((f"spark.kubernetes.{role}.secrets.{secret.name}", secret.path))
        if secret.secret_type in _SECRET_ENV:
            env, file = _SECRET_ENV[secret.secret_type]
            out.append((env_prefix + env, secret.path.rstrip("/") + "/" + file))
    return out


_VOLUME_TYPES = ("emptyDir", "hostPath", "nfs", "persistentVolumeClaim")


def _local_dir_volumes(app: SparkApplication, role: str) -> list[tuple[str, str]]:
    """``driverVolumeMountsOption`` / ``executorVolumeMountsOption``: spark-local-dir-* only."""
    volumes = {
        v.get("name"): v
        for v in app.spec.volumes
        if str(v.get("name", "")).startswith(_LOCAL_DIR_PREFIX)
    }
    pod: _PodSpecFields = app.spec.driver if role == "driver" else app.spec.executor
    out: list[tuple[str, str]] = []
    for index, mount in enumerate(pod.volume_mounts):
        name = str(mount.get("name", ""))
        if not name.startswith(_LOCAL_DIR_PREFIX):
            continue
        volume = volumes.get(name)
        if volume is None:
            raise InputError(
                f"volume {name!r} is mounted but not declared",
                where=f"spec.{role}.volumeMounts[{index}].name",
                fix=f"add a volume named {name} to spec.volumes",
            )
        kind = next((t for t in _VOLUME_TYPES if t in volume), None)
        if kind is None:
            raise InputError(
                f"local-dir volume {name!r} has a type Spark cannot mount",
                where="spec.volumes",
                fix="use emptyDir, hostPath, nfs or persistentVolumeClaim for spark-local-dir-* "
                "volumes",
            )
        base = f"spark.kubernetes.{role}.volumes.{kind}.{name}"
        out += _mount_confs(base, mount)
        out += _volume_options(base, kind, volume[kind] or {})
    return out


def _mount_confs(base: str, mount: Mapping[str, object]) -> list[tuple[str, str]]:
    out = []
    if mount.get("mountPath"):
        out.append((f"{base}.mount.path", str(mount["mountPath"])))
    if mount.get("subPath"):
        out.append((f"{base}.mount.subPath", str(mount["subPath"])))
    if mount.get("readOnly"):
        out.append((f"{base}.mount.readOnly", "true"))
    return out


def _volume_options(base: str, kind: str, source: Mapping[str, object]) -> list[tuple[str, str]]:
    out = []
    if kind == "emptyDir":
        if source.get("sizeLimit"):
            out.append((f"{base}.options.sizeLimit", str(source["sizeLimit"])))
        if source.get("medium"):
            out.append((f"{base}.options.medium", str(source["medium"])))
    elif kind == "hostPath":
        out.append((f"{base}.options.path", str(source.get("path", ""))))
        if source.get("type") is not None:
            out.append((f"{base}.options.type", str(source["type"])))
    elif kind == "nfs":
        out.append((f"{base}.options.path", str(source.get("path", ""))))
        out.append((f"{base}.options.server", str(source.get("server", ""))))
        if source.get("readOnly"):
            out.append((f"{base}.options.readOnly", "true"))
    else:
        out.append((f"{base}.options.claimName", str(source.get("claimName", ""))))
        if source.get("readOnly"):
            out.append((f"{base}.options.readOnly", "true"))
    return out


def _dynamic_allocation(app: SparkApplication) -> list[tuple[str, str]]:
    allocation = app.spec.dynamic_allocation
    if allocation is None or not allocation.enabled:
        return []
    out = [("spark.dynamicAllocation.enabled", "true")]
    for key, value in (
        ("initialExecutors", allocation.initial_executors),
        ("minExecutors", allocation.min_executors),
        ("maxExecutors", allocation.max_executors),
    ):
        if value is not None:
            out.append((f"spark.dynamicAllocation.{key}", str(value)))
    tracking = allocation.shuffle_tracking_enabled is not False
    out.append(("spark.dynamicAllocation.shuffleTracking.enabled", str(tracking).lower()))
    if allocation.shuffle_tracking_timeout is not None:
        out.append(
            (
                "spark.dynamicAllocation.shuffleTracking.timeout",
                str(allocation.shuffle_tracking_timeout),
            )
        )
    return out


def _pod_templates(app: SparkApplication, submission_id: str) -> dict[str, str]:
    """The files ``driverPodTemplateOption`` / ``executorPodTemplateOption`` write."""
    base = f"/tmp/spark/{submission_id}"
    return {
        f"{base}/driver-pod-template.yaml": _yaml(driver_pod_template(app)),
        f"{base}/executor-pod-template.yaml": _yaml(executor_pod_template(app)),
    }


# libyaml's emitter when PyYAML has it: the same text, ten times faster than the Python one.
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _yaml(obj: object) -> str:
    return yaml.dump(obj, Dumper=_DUMPER, sort_keys=False, default_flow_style=False)
