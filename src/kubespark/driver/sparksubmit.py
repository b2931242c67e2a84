"""What ``spark-submit --deploy-mode cluster`` on Kubernetes creates, for a given Spark version.

Owns a faithful, JVM-free model of spark-submit's client side: ``SparkSubmit`` turning flags into a
SparkConf, then ``KubernetesClientApplication`` running the driver feature steps (basic, service
account, service, network policy, secrets, volumes, command, pod-template ConfigMap, local dirs) and
``Client`` adding the spark.properties ConfigMap. Version differences come from ``spark_behaviours``
(data), never from comparisons here. Generated ids are inputs, so the output is a pure function of
the command.

It does not upload files, resolve Maven packages or log in to Kerberos: inputs needing those are
refused with a message saying what to use instead.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from kubespark.driver.javaprops import mebibytes, store_properties
from kubespark.driver.names import GeneratedIds
from kubespark.driver.spark_behaviours import SparkSubmitBehaviours, defaults
from kubespark.driver.submit_command import SubmitCommand
from kubespark.errors import InputError

__all__ = ["SparkSubmitOutput", "parse_submit_args", "run_spark_submit"]

Obj = dict[str, Any]
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML has it
AppKind = Literal["java", "python", "r"]


@dataclass(frozen=True)
class SubmitArgs:
    """``SparkSubmitArguments`` after parsing: flags, confs, the primary resource and its args."""

    master: str
    deploy_mode: str
    main_class: str | None
    name: str | None
    flags: Mapping[str, str]  # --jars, --files, ... by their conf keys
    conf: Mapping[str, str]
    proxy_user: str | None
    primary: str
    app_args: tuple[str, ...]


_FLAG_CONF = {
    "--jars": "spark.jars",
    "--files": "spark.files",
    "--archives": "spark.archives",
    "--py-files": "spark.submit.pyFiles",
    "--packages": "spark.jars.packages",
    "--exclude-packages": "spark.jars.excludes",
    "--repositories": "spark.jars.repositories",
    "--driver-memory": "spark.driver.memory",
    "--driver-cores": "spark.driver.cores",
    "--executor-memory": "spark.executor.memory",
    "--executor-cores": "spark.executor.cores",
    "--num-executors": "spark.executor.instances",
}


def parse_submit_args(args: tuple[str, ...]) -> SubmitArgs:
    values: dict[str, str] = {}
    conf: dict[str, str] = {}
    flags: dict[str, str] = {}
    rest = list(args)
    while rest and rest[0].startswith("--"):
        flag = rest.pop(0)
        if flag == "--load-spark-defaults":
            continue
        if not rest:
            raise InputError(
                f"{flag} needs a value", where="spark-submit arguments", fix=f"give {flag} VALUE"
            )
        value = rest.pop(0)
        if flag == "--conf":
            key, sep, val = value.partition("=")
            if not sep:
                raise InputError(
                    f"--conf {value!r} is not KEY=VALUE",
                    where="spark-submit arguments",
                    fix="write --conf key=value",
                )
            conf[key] = val
        elif flag in _FLAG_CONF:
            flags[_FLAG_CONF[flag]] = value
        else:
            values[flag] = value
    if not rest:
        raise InputError(
            "no application file",
            where="spark-submit arguments",
            fix="end the arguments with the jar, .py or .R file",
        )
    return SubmitArgs(
        master=values.get("--master", ""),
        deploy_mode=values.get("--deploy-mode", "client"),
        main_class=values.get("--class"),
        name=values.get("--name"),
        flags=flags,
        conf=conf,
        proxy_user=values.get("--proxy-user"),
        primary=rest[0],
        app_args=tuple(rest[1:]),
    )


@dataclass(frozen=True)
class SparkSubmitOutput:
    """The driver pod and the objects created after it, in spark-submit's order, unowned."""

    pod: Obj
    dependents: tuple[Obj, ...]
    properties: Mapping[str, str]


def run_spark_submit(
    command: SubmitCommand,
    *,
    behaviours: SparkSubmitBehaviours,
    ids: GeneratedIds,
    spark_user: str,
    submit_time_ms: int | None,
) -> SparkSubmitOutput:
    args = parse_submit_args(command.args)
    if args.deploy_mode != "cluster":
        raise InputError(
            f"deploy mode {args.deploy_mode!r}: kubespark builds cluster-mode drivers only",
            where="spec.mode",
            fix="set spec.mode: cluster",
        )
    kind = _app_kind(args.primary)
    conf = _submit_conf(args, kind, behaviours, submit_time_ms)
    return _KubernetesDriver(args, conf, kind, behaviours, ids, spark_user, command.files).build()


def _app_kind(primary: str) -> AppKind:
    if primary.endswith(".py"):
        return "python"
    if primary.endswith((".R", ".r")):
        return "r"
    return "java"


_REMOTE_OK = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


def _check_uri(uri: str, where: str) -> str:
    """Client-side files would need uploading (spark.kubernetes.file.upload.path): not done here."""
    if uri.startswith("local://") or (_REMOTE_OK.match(uri) and not uri.startswith("file:")):
        return uri
    raise InputError(
        f"{uri!r} is a file on the submitting machine; spark-submit would upload it, "
        "kubespark does not",
        where=where,
        fix="put it in the image and write local:///path, or give a URL the driver can fetch "
        "(s3a://, https://, hdfs://)",
    )


def _submit_conf(
    args: SubmitArgs, kind: AppKind, behaviours: SparkSubmitBehaviours, submit_time_ms: int | None
) -> dict[str, str]:
    """``SparkSubmit.prepareSubmitEnvironment`` for Kubernetes cluster mode."""
    conf = dict(args.conf)
    for key, value in args.flags.items():
        conf[key] = value
    for key in ("spark.jars", "spark.files", "spark.archives", "spark.submit.pyFiles"):
        if conf.get(key):
            conf[key] = ",".join(_check_uri(u, f"spark-submit {key}") for u in conf[key].split(","))
    if "spark.archives" in conf and not behaviours.has("archives"):
        raise InputError(
            f"spark.archives needs Spark 3.1 or later, the application runs {behaviours.version}",
            where="spec.deps.archives",
            fix="use spec.deps.files, or a newer Spark",
        )
    _check_uri(args.primary, "spec.mainApplicationFile")
    conf["spark.master"] = args.master
    conf["spark.submit.deployMode"] = "cluster"
    conf["spark.app.name"] = (
        args.name or conf.get("spark.app.name") or args.main_class or args.primary
    )
    if kind == "java":
        jars = [j for j in conf.get("spark.jars", "").split(",") if j]
        conf["spark.jars"] = ",".join([*jars, args.primary])
    conf["spark.submit.pyFiles"] = conf.get("spark.submit.pyFiles", "")
    conf["spark.kubernetes.submitInDriver"] = "true"
    if submit_time_ms is not None and behaviours.has("submit_time_property"):
        conf["spark.app.submitTime"] = str(submit_time_ms)
    return conf


def _prefixed(conf: Mapping[str, str], prefix: str) -> dict[str, str]:
    return {k[len(prefix) :]: v for k, v in conf.items() if k.startswith(prefix)}


def _java_double(value: float) -> str:
    # Double.toString for the factors people write (0.1, 0.4, 0.25, 1.0).
    text = repr(float(value))
    return text if "e" not in text else f"{value:.1E}".replace("E-0", "E-").replace("E+0", "E")


def _sanitise(name: str) -> str:
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9\-]", "-", name.strip().lower()))


class _KubernetesDriver:
    """``KubernetesDriverBuilder`` + ``Client.run`` for one submission."""

    def __init__(
        self,
        args: SubmitArgs,
        conf: dict[str, str],
        kind: AppKind,
        behaviours: SparkSubmitBehaviours,
        ids: GeneratedIds,
        spark_user: str,
        files: Mapping[str, str],
    ) -> None:
        self.args, self.conf, self.kind, self.has = args, conf, kind, behaviours.has
        self.version = behaviours.version
        self.ids, self.spark_user, self.files = ids, spark_user, files
        self.d = defaults()
        self.namespace = conf.get("spark.kubernetes.namespace", "default")
        self.app_name = conf["spark.app.name"]
        self.prefix = f"{_sanitise(self.app_name)}-{ids.resource_id}".replace("--", "-")
        self.pod_name = conf.get("spark.kubernetes.driver.pod.name") or f"{self.prefix}-driver"
        self.props: dict[str, str] = dict(conf)
        self.resources: list[Obj] = []

    # -- entry ------------------------------------------------------------------------------

    def build(self) -> SparkSubmitOutput:
        pod, container = self._initial_pod()
        for step in (
            self._basic,
            self._credentials,
            self._service,
            self._network_policy,
            self._mount_secrets,
            self._env_secrets,
            self._mount_volumes,
            self._command,
            self._pod_template_config_map,
            self._local_dirs,
        ):
            step(pod, container)
        config_map = self._client(pod, container)
        pod["spec"]["containers"].append(container)
        dependents = (*self.resources, config_map)
        return SparkSubmitOutput(pod=pod, dependents=dependents, properties=dict(self.props))

    # -- the template -----------------------------------------------------------------------

    def _initial_pod(self) -> tuple[Obj, Obj]:
        path = self.conf.get("spark.kubernetes.driver.podTemplateFile")
        if path is None:
            return {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {},
                "spec": {"containers": []},
            }, {}
        if path not in self.files:
            raise InputError(
                f"driver pod template {path} is not among the command's files",
                where="spark.kubernetes.driver.podTemplateFile",
                fix="set spec.driver.template instead of the conf",
            )
        template = yaml.load(self.files[path], Loader=_LOADER) or {}
        pod: Obj = {"apiVersion": "v1", "kind": "Pod"}
        pod["metadata"] = copy.deepcopy(template.get("metadata") or {})
        pod["spec"] = copy.deepcopy(template.get("spec") or {})
        containers = pod["spec"].get("containers") or []
        wanted = self.conf.get("spark.kubernetes.driver.podTemplateContainerName")
        named = [c for c in containers if c.get("name") == wanted]
        chosen = named[0] if len(named) == 1 else (containers[0] if containers else {})
        pod["spec"]["containers"] = [c for c in containers if c is not chosen]
        return pod, chosen

    # -- feature steps ----------------------------------------------------------------------

    def _substituted(self, value: str) -> str:
        """A label or annotation value with {{APP_ID}} replaced, where this Spark does that."""
        return _substitute(value, self.ids.app_id) if self.has("app_id_substitution") else value

    def _labels(self) -> dict[str, str]:
        custom = {
            k: self._substituted(v)
            for k, v in _prefixed(self.conf, "spark.kubernetes.driver.label.").items()
        }
        preset = {
            "spark-version": str(self.version),
            "spark-app-selector": self.ids.app_id,
            "spark-role": "driver",
        }
        if not self.has("version_label"):
            del preset["spark-version"]
        if self.has("app_name_label"):
            preset = {
                "spark-app-name": _sanitise(self.app_name)[: self.d["label_max_length"]],
                **preset,
            }
        for key in preset:
            if key in custom:
                raise InputError(
                    f"label {key} is reserved for Spark",
                    where=f"spark.kubernetes.driver.label.{key}",
                    fix="remove this label; Spark sets it",
                )
        return {**custom, **preset}

    def _memory(self) -> tuple[int, float]:
        conf, d = self.conf, self.d
        memory = mebibytes(
            conf.get("spark.driver.memory", d["driver_memory"]), what="spark.driver.memory"
        )
        non_jvm = self.kind != "java"
        factor_key = "spark.kubernetes.memoryOverheadFactor"
        if non_jvm and factor_key not in conf:
            default_factor = float(d["non_jvm_memory_overhead_factor"])
        else:
            default_factor = float(conf.get(factor_key, d["memory_overhead_factor"]))
        factor = default_factor
        if (
            self.has("driver_memory_overhead_factor")
            and "spark.driver.memoryOverheadFactor" in conf
        ):
            factor = float(conf["spark.driver.memoryOverheadFactor"])
        floor = d["min_memory_overhead_mib"]
        if self.has("min_memory_overhead_conf") and "spark.driver.minMemoryOverhead" in conf:
            floor = mebibytes(
                conf["spark.driver.minMemoryOverhead"], what="spark.driver.minMemoryOverhead"
            )
        if "spark.driver.memoryOverhead" in conf:
            overhead = mebibytes(
                conf["spark.driver.memoryOverhead"], what="spark.driver.memoryOverhead"
            )
        else:
            overhead = max(int(factor * memory), floor)
        return memory + overhead, default_factor

    def _ports(self) -> tuple[int, int, int]:
        conf, d = self.conf, self.d
        driver_port = int(conf.get("spark.driver.port", d["driver_port"]))
        block = int(
            conf.get(
                "spark.driver.blockManager.port",
                conf.get("spark.blockManager.port", d["block_manager_port"]),
            )
        )
        ui = int(conf.get("spark.ui.port", d["ui_port"]))
        return driver_port, block, ui

    def _basic(self, pod: Obj, c: Obj) -> None:
        conf, d = self.conf, self.d
        image = conf.get("spark.kubernetes.driver.container.image") or conf.get(
            "spark.kubernetes.container.image"
        )
        if not image:
            raise InputError(
                "no driver image", where="spec.image", fix="set spec.image (or spec.driver.image)"
            )
        total_mib, default_factor = self._memory()
        driver_port, block, ui = self._ports()
        c.setdefault("name", d["driver_container_name"])
        c["image"] = image
        c["imagePullPolicy"] = conf.get(
            "spark.kubernetes.container.image.pullPolicy", d["image_pull_policy"]
        )
        ports = [("driver-rpc-port", driver_port), ("blockmanager", block), ("spark-ui", ui)]
        if self.has("spark_connect_port"):
            ports.append(
                (
                    "spark-connect",
                    int(conf.get("spark.connect.grpc.binding.port", d["spark_connect_port"])),
                )
            )
        c.setdefault("ports", []).extend(
            {"containerPort": p, "name": n, "protocol": "TCP"} for n, p in ports
        )
        env = c.setdefault("env", [])
        env.append({"name": "SPARK_USER", "value": self.spark_user})
        env.append({"name": "SPARK_APPLICATION_ID", "value": self.ids.app_id})
        env.extend(
            {"name": k, "value": v}
            for k, v in _prefixed(conf, "spark.kubernetes.driverEnv.").items()
        )
        env.append(
            {
                "name": "SPARK_DRIVER_BIND_ADDRESS",
                "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}},
            }
        )
        resources = c.setdefault("resources", {})
        requests = resources.setdefault("requests", {})
        limits = resources.setdefault("limits", {})
        requests["cpu"] = conf.get("spark.kubernetes.driver.request.cores") or str(
            int(conf.get("spark.driver.cores", d["driver_cores"]))
        )
        if conf.get("spark.kubernetes.driver.limit.cores"):
            limits["cpu"] = conf["spark.kubernetes.driver.limit.cores"]
        requests["memory"] = limits["memory"] = f"{total_mib}Mi"
        limits.update(self._custom_resources())
        if self.has("driver_no_privilege_escalation"):
            c.setdefault("securityContext", {}).setdefault("allowPrivilegeEscalation", False)
        meta = pod.setdefault("metadata", {})
        meta["name"] = self.pod_name
        meta.setdefault("labels", {}).update(self._labels())
        annotations = {
            k: self._substituted(v)
            for k, v in _prefixed(conf, "spark.kubernetes.driver.annotation.").items()
        }
        if annotations or self.has("empty_maps_serialised"):
            meta.setdefault("annotations", {}).update(annotations)
        spec = pod["spec"]
        spec["restartPolicy"] = "Never"
        selector = _prefixed(conf, "spark.kubernetes.node.selector.")
        if self.has("driver_node_selector"):
            selector |= _prefixed(conf, "spark.kubernetes.driver.node.selector.")
        if selector or self.has("empty_maps_serialised"):
            spec.setdefault("nodeSelector", {}).update(selector)
        secrets = [
            s.strip()
            for s in conf.get("spark.kubernetes.container.image.pullSecrets", "").split(",")
            if s.strip()
        ]
        if secrets:
            spec.setdefault("imagePullSecrets", []).extend({"name": s} for s in secrets)
        if self.has("scheduler_name"):
            scheduler = conf.get("spark.kubernetes.driver.scheduler.name") or conf.get(
                "spark.kubernetes.scheduler.name"
            )
            if scheduler:
                spec["schedulerName"] = scheduler
        self.props["spark.kubernetes.driver.pod.name"] = self.pod_name
        self.props["spark.app.id"] = self.ids.app_id
        self.props["spark.kubernetes.submitInDriver"] = "true"
        self.props["spark.kubernetes.memoryOverheadFactor"] = _java_double(default_factor)

    def _custom_resources(self) -> dict[str, str]:
        out = {}
        for key, amount in _prefixed(self.conf, "spark.driver.resource.").items():
            name, _, field = key.rpartition(".")
            if field == "amount":
                vendor = self.conf.get(f"spark.driver.resource.{name}.vendor")
                if vendor:
                    out[f"{vendor}/{name}"] = amount
        return out

    def _credentials(self, pod: Obj, c: Obj) -> None:
        account = self.conf.get("spark.kubernetes.authenticate.driver.serviceAccountName")
        spec = pod["spec"]
        if account and not spec.get("serviceAccount") and not spec.get("serviceAccountName"):
            spec["serviceAccount"] = spec["serviceAccountName"] = account

    def _service_name(self) -> str:
        preferred = f"{self.prefix}-driver-svc"
        if len(preferred) <= self.d["label_max_length"]:
            return preferred
        return f"spark-{self.ids.service_id}-driver-svc"

    def _service(self, pod: Obj, c: Obj) -> None:
        for key in ("spark.driver.bindAddress", "spark.driver.host"):
            if key in self.conf:
                raise InputError(
                    f"{key} is managed by Spark on Kubernetes",
                    where=f"spec.sparkConf[{key!r}]",
                    fix="remove it",
                )
        name = self._service_name()
        driver_port, block, ui = self._ports()
        meta: Obj = {"name": name}
        if self.has("namespace_in_other_resources"):
            meta["namespace"] = self.namespace
        annotations = {
            k: self._substituted(v)
            for k, v in _prefixed(self.conf, "spark.kubernetes.driver.service.annotation.").items()
        }
        if annotations or self.has("empty_maps_serialised"):
            meta["annotations"] = annotations
        if self.has("service_app_selector_label"):
            meta["labels"] = {"spark-app-selector": self.ids.app_id}
        if self.has("service_labels"):
            meta["labels"] |= _prefixed(self.conf, "spark.kubernetes.driver.service.label.")
        ports: list[Obj] = [
            {"name": "driver-rpc-port", "port": driver_port, "targetPort": driver_port},
            {"name": "blockmanager", "port": block, "targetPort": block},
            {"name": "spark-ui", "port": ui, "targetPort": ui},
        ]
        if self.has("spark_connect_port"):
            connect = int(
                self.conf.get("spark.connect.grpc.binding.port", self.d["spark_connect_port"])
            )
            port: Obj = {"name": "spark-connect", "port": connect, "targetPort": connect}
            if self.has("spark_connect_app_protocol"):
                port = {"appProtocol": "grpc", **port}
            ports.append(port)
        spec: Obj = {"clusterIP": "None"}
        if self.has("service_ip_families"):
            families = self.conf.get("spark.kubernetes.driver.service.ipFamilies", "IPv4")
            spec["ipFamilies"] = [f.strip() for f in families.split(",")]
            spec["ipFamilyPolicy"] = self.conf.get(
                "spark.kubernetes.driver.service.ipFamilyPolicy", "SingleStack"
            )
        spec["ports"] = ports
        if self.has("service_publish_not_ready_addresses"):
            spec["publishNotReadyAddresses"] = False
        # The conf's labels, not the template's: template labels stay off the selector.
        spec["selector"] = self._labels()
        self.resources.append(
            {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec}
        )
        self.props["spark.driver.host"] = f"{name}.{self.namespace}.svc"
        self.props["spark.driver.port"] = str(driver_port)
        self.props["spark.driver.blockManager.port"] = str(block)

    def _network_policy(self, pod: Obj, c: Obj) -> None:
        if not self.has("network_policy"):
            return
        app = {"spark-app-selector": self.ids.app_id}
        self.resources.append(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {
                    "labels": dict(app),
                    "name": f"{self.prefix}-policy",
                    "namespace": self.namespace,
                },
                "spec": {
                    "ingress": [{"from": [{"podSelector": {"matchLabels": dict(app)}}]}],
                    "podSelector": {"matchLabels": {"spark-role": "executor", **app}},
                },
            }
        )

    def _mount_secrets(self, pod: Obj, c: Obj) -> None:
        for secret, path in _prefixed(self.conf, "spark.kubernetes.driver.secrets.").items():
            volume = f"{secret}-volume"
            pod["spec"].setdefault("volumes", []).append(
                {"name": volume, "secret": {"secretName": secret}}
            )
            c.setdefault("volumeMounts", []).append({"mountPath": path, "name": volume})

    def _env_secrets(self, pod: Obj, c: Obj) -> None:
        for env, ref in _prefixed(self.conf, "spark.kubernetes.driver.secretKeyRef.").items():
            name, _, key = ref.partition(":")
            c.setdefault("env", []).append(
                {"name": env, "valueFrom": {"secretKeyRef": {"key": key, "name": name}}}
            )

    def _mount_volumes(self, pod: Obj, c: Obj) -> None:
        specs: dict[tuple[str, str], dict[str, str]] = {}
        for key, value in _prefixed(self.conf, "spark.kubernetes.driver.volumes.").items():
            parts = key.split(".", 2)
            if len(parts) == 3:
                specs.setdefault((parts[0], parts[1]), {})[parts[2]] = value
        for (kind, name), fields in specs.items():
            volume = _volume(kind, name, fields)
            pod["spec"].setdefault("volumes", []).append(volume)
            mount: Obj = {
                "mountPath": fields.get("mount.path", ""),
                "name": name,
                "readOnly": fields.get("mount.readOnly", "false") == "true",
            }
            # Spark sets these even when empty, and fabric8 sends the empty strings.
            mount["subPath"] = fields.get("mount.subPath", "")
            if self.has("volume_mount_sub_path_expr"):
                mount["subPathExpr"] = fields.get("mount.subPathExpr", "")
            c.setdefault("volumeMounts", []).append(mount)

    def _command(self, pod: Obj, c: Obj) -> None:
        conf, args = self.conf, self.args
        main_class = {
            "python": "org.apache.spark.deploy.PythonRunner",
            "r": "org.apache.spark.deploy.RRunner",
        }.get(self.kind) or args.main_class
        if main_class is None:
            raise InputError(
                "no main class",
                where="spec.mainClass",
                fix="set spec.mainClass for a Java/Scala application",
            )
        command = ["driver"]
        if args.proxy_user:
            command += ["--proxy-user", args.proxy_user]
        command += [
            "--properties-file",
            f"{self.d['conf_dir']}/spark.properties",
            "--class",
            main_class,
            args.primary,
            *args.app_args,
        ]
        c.setdefault("args", []).extend(command)
        if self.kind == "python":
            env = c.setdefault("env", [])
            python = conf.get("spark.pyspark.python")
            driver_python = conf.get("spark.pyspark.driver.python") or python
            if python:
                env.append({"name": "PYSPARK_PYTHON", "value": python})
            if driver_python:
                env.append({"name": "PYSPARK_DRIVER_PYTHON", "value": driver_python})
            if self.has("pyspark_major_python_version"):
                version = conf.get(
                    "spark.kubernetes.pyspark.pythonVersion", self.d["python_version"]
                )
                env.append({"name": "PYSPARK_MAJOR_PYTHON_VERSION", "value": version})
        self.props["spark.kubernetes.resource.type"] = self.kind

    def _pod_template_config_map(self, pod: Obj, c: Obj) -> None:
        path = self.conf.get("spark.kubernetes.executor.podTemplateFile")
        if path is None:
            return
        if path not in self.files:
            raise InputError(
                f"executor pod template {path} is not among the command's files",
                where="spark.kubernetes.executor.podTemplateFile",
                fix="set spec.executor.template instead of the conf",
            )
        d = self.d
        name = f"{self.prefix}-driver-podspec-conf-map"
        pod["spec"].setdefault("volumes", []).append(
            {
                "configMap": {
                    "items": [{"key": d["pod_template_key"], "path": d["pod_template_file_name"]}],
                    "name": name,
                },
                "name": d["pod_template_volume"],
            }
        )
        c.setdefault("volumeMounts", []).append(
            {"mountPath": d["pod_template_mount_path"], "name": d["pod_template_volume"]}
        )
        config_map: Obj = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name},
            "data": {d["pod_template_key"]: self.files[path]},
        }
        if self.has("namespace_in_other_resources"):
            config_map["metadata"]["namespace"] = self.namespace
        if self.has("configmap_immutable"):
            config_map["immutable"] = True
        self.resources.append(config_map)
        self.props["spark.kubernetes.executor.podTemplateFile"] = (
            f"{d['pod_template_mount_path']}/{d['pod_template_file_name']}"
        )

    def _local_dirs(self, pod: Obj, c: Obj) -> None:
        mounts = [
            m
            for m in c.get("volumeMounts", [])
            if str(m.get("name", "")).startswith("spark-local-dir-")
        ]
        dirs = [m["mountPath"] for m in mounts]
        if not dirs:
            configured = (
                self.conf.get("spark.local.dir")
                or f"{self.d['local_dir_root']}/spark-{self.ids.local_dir_uuid}"
            )
            dirs = configured.split(",")
            tmpfs = self.conf.get("spark.kubernetes.local.dirs.tmpfs", "false") == "true"
            for index, path in enumerate(dirs, start=1):
                empty_dir: Obj = {"medium": "Memory"} if tmpfs else {}
                pod["spec"].setdefault("volumes", []).append(
                    {"emptyDir": empty_dir, "name": f"spark-local-dir-{index}"}
                )
                c.setdefault("volumeMounts", []).append(
                    {"mountPath": path, "name": f"spark-local-dir-{index}"}
                )
        c.setdefault("env", []).append({"name": "SPARK_LOCAL_DIRS", "value": ",".join(dirs)})

    # -- Client.run ---------------------------------------------------------------------------

    def _client(self, pod: Obj, c: Obj) -> Obj:
        d = self.d
        name = (
            f"spark-drv-{self.ids.configmap_id}-conf-map"
            if self.has("random_configmap_name")
            else f"{self.prefix}-driver-conf-map"
        )
        text = store_properties(
            self.props,
            comment=f"Java properties built from Kubernetes config map with name: {name}",
            epoch_ms=_int_or_none(self.props.get("spark.app.submitTime")),
        )
        c.setdefault("env", []).append({"name": "SPARK_CONF_DIR", "value": d["conf_dir"]})
        items = self.has("conf_volume_items")
        volume = d["conf_volume"] if items else d["conf_volume_before_3_1"]
        c.setdefault("volumeMounts", []).append({"mountPath": d["conf_dir"], "name": volume})
        source: Obj = {"name": name}
        if items:
            entry = {"key": "spark.properties", "mode": 420, "path": "spark.properties"}
            source = {"items": [entry], "name": name}
        pod["spec"].setdefault("volumes", []).append({"configMap": source, "name": volume})
        meta: Obj = {"name": name, "namespace": self.namespace}
        if self.has("empty_maps_serialised") and self.has("configmap_empty_labels"):
            meta["labels"] = {}
        config_map: Obj = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": meta,
            "data": {"spark.properties": text},
        }
        if self.has("configmap_namespace_key"):
            config_map["data"]["spark.kubernetes.namespace"] = self.namespace
        if self.has("configmap_immutable"):
            config_map["immutable"] = True
        return config_map


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _substitute(value: str, app_id: str) -> str:
    # Utils.substituteAppNExecIds with no executor id.
    return value.replace("{{APP_ID}}", app_id).replace("{{EXECUTOR_ID}}", "")


def _volume(kind: str, name: str, fields: Mapping[str, str]) -> Obj:
    options = {k[len("options.") :]: v for k, v in fields.items() if k.startswith("options.")}
    if kind == "hostPath":
        return {
            "hostPath": {"path": options.get("path", ""), "type": options.get("type", "")},
            "name": name,
        }
    if kind == "emptyDir":
        source: Obj = {}
        if options.get("medium"):
            source["medium"] = options["medium"]
        if options.get("sizeLimit"):
            source["sizeLimit"] = options["sizeLimit"]
        return {"emptyDir": source, "name": name}
    if kind == "nfs":
        return {
            "name": name,
            "nfs": {
                "path": options.get("path", ""),
                "readOnly": options.get("readOnly") == "true",
                "server": options.get("server", ""),
            },
        }
    if kind == "persistentVolumeClaim":
        return {
            "name": name,
            "persistentVolumeClaim": {
                "claimName": options.get("claimName", ""),
                "readOnly": options.get("readOnly") == "true",
            },
        }
    raise InputError(
        f"volume type {kind!r} is not one Spark mounts",
        where=f"spark.kubernetes.driver.volumes.{kind}.{name}",
        fix="use hostPath, emptyDir, nfs or persistentVolumeClaim",
    )
