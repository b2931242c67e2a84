"""What the kubeflow operator adds around spark-submit, without a webhook.

Owns three things the kubeflow spark-operator does besides running spark-submit:

- the patches its mutating webhook applies to Spark pods
  (``internal/webhook/sparkpod_defaulter.go``: volumes, env, sidecars, tolerations, security
  contexts, GPUs, ...). kubespark applies them to the driver pod when building it, and writes
  them into the executor pod template, so no webhook runs;
- the pod templates it hands spark-submit (``submission.go`` ``build*PodTemplate``), with the owner
  reference to the SparkApplication;
- the web UI Service and Ingresses it creates after submission (``web_ui.go``,
  ``driveringress.go``).

Pure functions over plain dicts; the input application is never modified.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import urlsplit

from kubespark.driver.monitoring import metrics_volume
from kubespark.spark.model import DriverIngressConfiguration, SparkApplication, _PodSpecFields

__all__ = [
    "LABEL_APP_NAME",
    "LABEL_LAUNCHED_BY",
    "LABEL_SUBMISSION_ID",
    "apply_pod_patches",
    "driver_pod_template",
    "executor_pod_template",
    "owner_reference",
    "ui_resources",
]

Role = Literal["driver", "executor"]
Obj = dict[str, Any]

LABEL_PREFIX = "sparkoperator.k8s.io/"
LABEL_APP_NAME = LABEL_PREFIX + "app-name"
LABEL_LAUNCHED_BY = LABEL_PREFIX + "launched-by-spark-operator"
LABEL_SUBMISSION_ID = LABEL_PREFIX + "submission-id"
LABEL_CREATED_BY = LABEL_PREFIX + "created-by-spark-operator"
CONTAINER = {"driver": "spark-kubernetes-driver", "executor": "spark-kubernetes-executor"}
_LOCAL_DIR_PREFIX = "spark-local-dir-"
_MAX_NAME = 63


def owner_reference(app: SparkApplication, *, controller: bool) -> Obj | None:
    """The reference to the SparkApplication (``util.GetOwnerReference``); None without a uid."""
    if not app.metadata.uid:
        return None
    ref: Obj = {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": "SparkApplication",
        "name": app.metadata.name,
        "uid": app.metadata.uid,
    }
    if controller:
        ref |= {"controller": True, "blockOwnerDeletion": True}
    return ref


def driver_pod_template(app: SparkApplication) -> Obj:
    """``buildDriverPodTemplate``: the user's template (or one container), owned by the app."""
    return _template(app.spec.driver.template, "driver", owner_reference(app, controller=True))


def executor_pod_template(app: SparkApplication) -> Obj:
    """``buildExecutorPodTemplate`` plus every webhook patch for executors, as one template.

    The owner reference is not a controller one, as in the operator: other controllers (Kueue)
    then see executors as the application's children.
    """
    template = _template(
        app.spec.executor.template, "executor", owner_reference(app, controller=False)
    )
    return apply_pod_patches(template, app, "executor")


def _template(user: Obj | None, role: Role, owner: Obj | None) -> Obj:
    template = (
        copy.deepcopy(user) if user else {"spec": {"containers": [{"name": CONTAINER[role]}]}}
    )
    if owner is not None:
        refs = template.setdefault("metadata", {}).setdefault("ownerReferences", [])
        if owner not in refs:
            refs.append(owner)
    return template


def apply_pod_patches(pod: Obj, app: SparkApplication, role: Role) -> Obj:
    """The webhook's ``mutateSparkPod``, in its order, on a copy of ``pod``."""
    out = copy.deepcopy(pod)
    out.setdefault("spec", {}).setdefault("containers", [])
    for patch in _PATCHES:
        patch(out, app, role)
    return out


def _spec(app: SparkApplication, role: Role) -> _PodSpecFields:
    return app.spec.driver if role == "driver" else app.spec.executor


def _container(pod: Obj, role: Role) -> Obj:
    containers: list[Obj] = pod["spec"]["containers"]
    if not containers:
        containers.append({"name": CONTAINER[role]})
    # findContainer: the Spark container by name, else the first one.
    return next((c for c in containers if c.get("name") == CONTAINER[role]), containers[0])


def _append(obj: Obj, key: str, items: list[Any]) -> None:
    if items:
        obj.setdefault(key, []).extend(copy.deepcopy(items))


def _env(pod: Obj, app: SparkApplication, role: Role) -> None:
    _append(_container(pod, role), "env", _spec(app, role).env)


def _env_from(pod: Obj, app: SparkApplication, role: Role) -> None:
    _append(_container(pod, role), "envFrom", _spec(app, role).env_from)


def _config_map_volume(pod: Obj, role: Role, config_map: str, volume: str, path: str) -> None:
    pod["spec"].setdefault("volumes", []).append(
        {"name": volume, "configMap": {"name": config_map}}
    )
    _container(pod, role).setdefault("volumeMounts", []).append(
        {"name": volume, "readOnly": True, "mountPath": path}
    )


def _hadoop_config_map(pod: Obj, app: SparkApplication, role: Role) -> None:
    _conf_dir(pod, role, app.spec.hadoop_config_map, "hadoop", "/etc/hadoop/conf")


def _spark_config_map(pod: Obj, app: SparkApplication, role: Role) -> None:
    _conf_dir(pod, role, app.spec.spark_config_map, "spark", "/etc/spark/conf")


def _conf_dir(pod: Obj, role: Role, config_map: str | None, kind: str, path: str) -> None:
    """``add{Hadoop,Spark}ConfigMap``: the ConfigMap mounted at ``path``, named by its env var."""
    if config_map is not None:
        _config_map_volume(pod, role, config_map, f"{kind}-configmap-volume", path)
        _container(pod, role).setdefault("env", []).append(
            {"name": f"{kind.upper()}_CONF_DIR", "value": path}
        )


def config_map_volume_name(config_map: str) -> str:
    """``getConfigMapVolumeName``: ``<name>-vol``, hashed when too long or dotted."""
    preferred = config_map + "-vol"
    if len(preferred) <= _MAX_NAME and "." not in preferred:
        return preferred
    suffix = "-" + hashlib.sha256(config_map.encode()).hexdigest()[:8] + "-vol"
    prefix = config_map.replace(".", "-")[: _MAX_NAME - len(suffix)].rstrip("-")
    return prefix + suffix


def _general_config_maps(pod: Obj, app: SparkApplication, role: Role) -> None:
    for name_path in _spec(app, role).config_maps:
        volume = config_map_volume_name(name_path.name)
        _config_map_volume(pod, role, name_path.name, volume, name_path.path)


def _volumes(pod: Obj, app: SparkApplication, role: Role) -> None:
    # spark-local-dir-* volumes reach Spark as confs (submit_command.py); the rest are patched in.
    by_name = {v.get("name"): v for v in app.spec.volumes}
    added: set[str] = set()
    for mount in _spec(app, role).volume_mounts:
        name = mount.get("name", "")
        if name.startswith(_LOCAL_DIR_PREFIX) or name not in by_name:
            continue
        if name not in added:
            pod["spec"].setdefault("volumes", []).append(copy.deepcopy(by_name[name]))
            added.add(name)
        _container(pod, role).setdefault("volumeMounts", []).append(copy.deepcopy(mount))


def _ports(pod: Obj, app: SparkApplication, role: Role) -> None:
    for port in _spec(app, role).ports:
        _container(pod, role).setdefault("ports", []).append(
            {"name": port.name, "containerPort": port.container_port, "protocol": port.protocol}
        )


def _host_network(pod: Obj, app: SparkApplication, role: Role) -> None:
    if _spec(app, role).host_network:
        pod["spec"]["hostNetwork"] = True
        pod["spec"]["dnsPolicy"] = "ClusterFirstWithHostNet"


def _host_aliases(pod: Obj, app: SparkApplication, role: Role) -> None:
    _append(pod["spec"], "hostAliases", _spec(app, role).host_aliases)


def _add_containers(key: str, field: Callable[[_PodSpecFields], list[Obj]]) -> Callable[..., None]:
    def patch(pod: Obj, app: SparkApplication, role: Role) -> None:
        existing = pod["spec"].get(key, [])
        for container in field(_spec(app, role)):
            same = any(
                c.get("name") == container.get("name") and c.get("image") == container.get("image")
                for c in existing
            )
            if not same:
                existing = [*existing, copy.deepcopy(container)]
        if existing:
            pod["spec"][key] = existing

    return patch


def _set_pod(key: str, field: Callable[[_PodSpecFields], Any]) -> Callable[..., None]:
    def patch(pod: Obj, app: SparkApplication, role: Role) -> None:
        value = field(_spec(app, role))
        if value is not None and value != "":
            pod["spec"][key] = copy.deepcopy(value)

    return patch


def _set_container(key: str, field: Callable[[_PodSpecFields], Any]) -> Callable[..., None]:
    def patch(pod: Obj, app: SparkApplication, role: Role) -> None:
        value = field(_spec(app, role))
        if value is not None:
            _container(pod, role)[key] = copy.deepcopy(value)

    return patch


def _priority_class(pod: Obj, app: SparkApplication, role: Role) -> None:
    name = _spec(app, role).priority_class_name
    if name:
        pod["spec"]["priorityClassName"] = name
        pod["spec"].pop("priority", None)
        pod["spec"].pop("preemptionPolicy", None)


def _scheduler_name(pod: Obj, app: SparkApplication, role: Role) -> None:
    name = app.spec.batch_scheduler or _spec(app, role).scheduler_name
    if name:
        pod["spec"]["schedulerName"] = name


def _node_selector(pod: Obj, app: SparkApplication, role: Role) -> None:
    selector = _spec(app, role).node_selector
    if selector:
        pod["spec"].setdefault("nodeSelector", {}).update(selector)


def _tolerations(pod: Obj, app: SparkApplication, role: Role) -> None:
    _append(pod["spec"], "tolerations", _spec(app, role).tolerations)


_JAVA_TO_KUBE_UNITS = {"kb": "Ki", "mb": "Mi", "gb": "Gi", "tb": "Ti", "pb": "Pi"}
_JAVA_TO_KUBE_UNITS |= {k[0]: v for k, v in _JAVA_TO_KUBE_UNITS.items()}


def kube_memory(java_memory: str) -> str:
    """``ConvertJavaMemoryStringToK8sMemoryString``: ``512m`` -> ``512Mi``."""
    lower = java_memory.strip().lower()
    for unit in sorted(_JAVA_TO_KUBE_UNITS, key=len, reverse=True):
        if lower.endswith(unit) and lower[: -len(unit)].isdigit():
            return lower[: -len(unit)] + _JAVA_TO_KUBE_UNITS[unit]
    return java_memory.strip()


def _memory_limit(pod: Obj, app: SparkApplication, role: Role) -> None:
    limit = _spec(app, role).memory_limit
    if limit is not None:
        limits = _container(pod, role).setdefault("resources", {}).setdefault("limits", {})
        limits["memory"] = kube_memory(limit)


def _gpu(pod: Obj, app: SparkApplication, role: Role) -> None:
    gpu = _spec(app, role).gpu
    if gpu is not None and gpu.name and gpu.quantity > 0:
        limits = _container(pod, role).setdefault("resources", {}).setdefault("limits", {})
        limits[gpu.name] = str(gpu.quantity)


def _prometheus(pod: Obj, app: SparkApplication, role: Role) -> None:
    """``addPrometheusConfig``: the metrics ConfigMap's volume and the JMX exporter's port."""
    metrics = metrics_volume(app, role)
    if metrics is None:
        return
    pod["spec"].setdefault("volumes", []).append(metrics.volume)
    container = _container(pod, role)
    container.setdefault("volumeMounts", []).append(metrics.mount)
    container.setdefault("ports", []).append(metrics.port)


def _share_process_namespace(pod: Obj, app: SparkApplication, role: Role) -> None:
    if _spec(app, role).share_process_namespace:
        pod["spec"]["shareProcessNamespace"] = True


_PATCHES: tuple[Callable[[Obj, SparkApplication, Role], None], ...] = (
    _env,
    _env_from,
    _hadoop_config_map,
    _spark_config_map,
    _general_config_maps,
    _volumes,
    _ports,
    _host_network,
    _host_aliases,
    _add_containers("initContainers", lambda s: s.init_containers),
    _add_containers("containers", lambda s: s.sidecars),
    _set_pod("dnsConfig", lambda s: s.dns_config),
    _priority_class,
    _scheduler_name,
    _node_selector,
    _set_pod("affinity", lambda s: s.affinity),
    _tolerations,
    _memory_limit,
    _gpu,
    _prometheus,
    _set_container("securityContext", lambda s: s.security_context),
    _set_pod("securityContext", lambda s: s.pod_security_context),
    _set_pod("terminationGracePeriodSeconds", lambda s: s.termination_grace_period_seconds),
    _set_container("lifecycle", lambda s: s.lifecycle),
    _share_process_namespace,
)


# ---- the web UI Service and Ingresses ---------------------------------------------------------


def generated_name(name: str, suffix: str) -> str:
    """``util.generateName``: ``<name>-<suffix>``, truncated with an md5 when over 63."""
    preferred = f"{name}-{suffix}"
    if len(preferred) <= _MAX_NAME:
        return preferred
    digest = hashlib.md5(preferred.encode(), usedforsecurity=False).hexdigest()[:8]
    return f"{name[: _MAX_NAME - len(suffix) - 10]}-{digest}-{suffix}"


def _resource_labels(app: SparkApplication, submission_id: str) -> dict[str, str]:
    labels = {LABEL_APP_NAME: app.metadata.name}
    if submission_id:
        labels[LABEL_SUBMISSION_ID] = submission_id
    return labels


def _ui_service(
    app: SparkApplication,
    submission_id: str,
    *,
    name: str,
    port_name: str,
    port: int,
    target_port: int,
    service_type: str,
    labels: dict[str, str],
    annotations: dict[str, str],
) -> Obj:
    meta: Obj = {
        "name": name,
        "namespace": app.metadata.namespace,
        # Custom labels replace the resource labels, as createDriverIngressService does.
        "labels": dict(labels) if labels else _resource_labels(app, submission_id),
    }
    meta["labels"][LABEL_CREATED_BY] = "true"
    if annotations:
        meta["annotations"] = dict(annotations)
    owner = owner_reference(app, controller=True)
    if owner is not None:
        meta["ownerReferences"] = [owner]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta,
        "spec": {
            "ports": [{"name": port_name, "port": port, "targetPort": target_port}],
            "selector": {LABEL_APP_NAME: app.metadata.name, "spark-role": "driver"},
            "type": service_type,
        },
    }


_URL_VARS = {
    "appName": re.compile(r"{{\s*[$]appName\s*}}"),
    "appNamespace": re.compile(r"{{\s*[$]appNamespace\s*}}"),
    "appId": re.compile(r"{{\s*[$]appId\s*}}"),
}


def ingress_url(url_format: str, app: SparkApplication, app_id: str) -> tuple[str, str]:
    """``getDriverIngressURL``: the host and path of an ingress URL format."""
    url = _URL_VARS["appName"].sub(app.metadata.name, url_format)
    url = _URL_VARS["appNamespace"].sub(app.metadata.namespace, url)
    url = _URL_VARS["appId"].sub(app_id, url)
    parts = urlsplit(url if "://" in url else "http://" + url)
    return parts.netloc, parts.path


def _ingress(
    app: SparkApplication,
    submission_id: str,
    *,
    name: str,
    service: Obj,
    url: tuple[str, str],
    class_name: str | None,
    tls: list[Obj],
    annotations: dict[str, str],
) -> Obj:
    host, path = url
    rule_path = path + "(/|$)(.*)" if path not in ("", "/") else path
    meta: Obj = {
        "name": name,
        "namespace": app.metadata.namespace,
        "labels": _resource_labels(app, submission_id),
    }
    owner = owner_reference(app, controller=True)
    if owner is not None:
        meta["ownerReferences"] = [owner]
    notes = dict(annotations)
    if path not in ("", "/"):
        notes["nginx.ingress.kubernetes.io/rewrite-target"] = "/$2"
    if notes:
        meta["annotations"] = notes
    backend = {
        "service": {
            "name": service["metadata"]["name"],
            "port": {"number": service["spec"]["ports"][0]["port"]},
        }
    }
    http_path: Obj = {"backend": backend, "pathType": "ImplementationSpecific"}
    if rule_path:
        http_path["path"] = rule_path
    rule: Obj = {"http": {"paths": [http_path]}}
    if host:
        rule["host"] = host
    spec: Obj = {"rules": [rule]}
    if tls:
        spec["tls"] = copy.deepcopy(tls)
    if class_name:
        spec["ingressClassName"] = class_name
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta, "spec": spec}


def ui_resources(
    app: SparkApplication,
    *,
    submission_id: str,
    app_id: str,
    ui_service: bool,
    ingress_url_format: str | None,
    ingress_class_name: str | None,
) -> tuple[Obj, ...]:
    """The web UI Service (and Ingress), then each driverIngressOptions Service (and Ingress)."""
    out: list[Obj] = []
    options = app.spec.spark_ui_options
    if ui_service:
        target = int(app.spec.spark_conf.get("spark.ui.port", "4040") or 4040)
        service = _ui_service(
            app,
            submission_id,
            name=generated_name(app.metadata.name, "ui-svc"),
            port_name=(options.service_port_name if options else None) or "spark-driver-ui-port",
            port=(options.service_port if options and options.service_port else None)
            or (4040 if options else target),
            target_port=target,
            service_type=(options.service_type if options else None) or "ClusterIP",
            labels=options.service_labels if options else {},
            annotations=options.service_annotations if options else {},
        )
        out.append(service)
        if ingress_url_format:
            out.append(
                _ingress(
                    app,
                    submission_id,
                    name=generated_name(app.metadata.name, "ui-ingress"),
                    service=service,
                    url=ingress_url(ingress_url_format, app, app_id),
                    class_name=ingress_class_name,
                    tls=options.ingress_tls if options else [],
                    annotations=options.ingress_annotations if options else {},
                )
            )
    for config in app.spec.driver_ingress_options:
        out += _driver_ingress(app, submission_id, app_id, config, ingress_class_name)
    return tuple(out)


def _driver_ingress(
    app: SparkApplication,
    submission_id: str,
    app_id: str,
    config: DriverIngressConfiguration,
    class_name: str | None,
) -> list[Obj]:
    port = config.service_port
    service = _ui_service(
        app,
        submission_id,
        name=f"{app.metadata.name}-driver-{port}",
        port_name=config.service_port_name or f"driver-ing-{port}",
        port=port,
        target_port=port,
        service_type=config.service_type or "ClusterIP",
        labels=config.service_labels,
        annotations=config.service_annotations,
    )
    if not config.ingress_url_format:
        return [service]
    ingress = _ingress(
        app,
        submission_id,
        name=f"{app.metadata.name}-ing-{port}",
        service=service,
        url=ingress_url(config.ingress_url_format, app, app_id),
        class_name=class_name,
        tls=config.ingress_tls,
        annotations=config.ingress_annotations,
    )
    return [service, ingress]
