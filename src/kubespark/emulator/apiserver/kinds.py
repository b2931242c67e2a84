"""What the API server does for particular built-in kinds beyond their schema.

Owns defaulting (``pkg/apis/core/v1/defaults.go`` and the admission plugins that fill fields:
service account, default tolerations, priority), the hand-written validation rules a schema
does not express (a container needs an image; a pod's spec is immutable; an immutable
ConfigMap keeps its data; a Service's clusterIP stays), and cluster-IP allocation. Version
differences come from the schema: a default is only set where the version's type has the field.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kubespark.apisurface.defaults import apply_defaults
from kubespark.apisurface.model import ApiSurface
from kubespark.emulator.apiserver.wire import FieldError

__all__ = ["KindRules", "rules_for"]

Obj = dict[str, Any]


@dataclass
class KindContext:
    """What kind rules may consult: the version's types, and the IP allocator's state."""

    surface: ApiSurface
    label_message: str  # the version's DNS-1123 label message (container names)
    job_selector_label: str = "controller-uid"
    job_template_labels: tuple[tuple[str, str], ...] = ()
    _next_ip: int = 10
    _next_node_port: int = 30000
    _used_ips: set[str] = field(default_factory=set)

    def has_field(self, type_name: str, prop: str) -> bool:
        typedef = self.surface.types.get(type_name)
        return typedef is not None and prop in typedef.properties

    def allocate_cluster_ip(self) -> str:
        net = ipaddress.ip_network("10.96.0.0/12")
        while True:
            self._next_ip += 1
            ip = str(net[self._next_ip])
            if ip not in self._used_ips:
                self._used_ips.add(ip)
                return ip

    def allocate_node_port(self) -> int:
        self._next_node_port += 1
        return self._next_node_port


Defaulter = Callable[[Obj, KindContext], None]
Validator = Callable[[Obj, KindContext], list[FieldError]]
UpdateValidator = Callable[[Obj, Obj, KindContext], list[FieldError]]


@dataclass(frozen=True)
class KindRules:
    default: Defaulter | None = None
    validate: Validator | None = None
    validate_update: UpdateValidator | None = None
    after_uid: Defaulter | None = None  # defaults that need the new object's uid (on create)


# --- Pod ------------------------------------------------------------------------------------
_CORE = "io.k8s.api.core.v1."


def _pull_policy(image: str) -> str:
    last = image.rsplit("/", 1)[-1]
    if "@" in last:
        return "IfNotPresent"
    tag = last.split(":", 1)[1] if ":" in last else "latest"
    return "Always" if tag == "latest" else "IfNotPresent"


def _qos_class(containers: list[Obj]) -> str:
    requests_any = limits_all = False
    guaranteed = True
    for c in containers:
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        if req or lim:
            requests_any = True
        for name in ("cpu", "memory"):
            if name not in lim or (name in req and req[name] != lim[name]):
                guaranteed = False
        limits_all = limits_all or bool(lim)
    if not requests_any:
        return "BestEffort"
    return "Guaranteed" if guaranteed and limits_all else "Burstable"


def _default_container(c: Obj, ctx: KindContext) -> None:
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    if isinstance(c.get("image"), str):
        c.setdefault("imagePullPolicy", _pull_policy(c["image"]))
    c.setdefault("resources", {})
    for port in c.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
    for env in c.get("env") or []:
        ref = (env.get("valueFrom") or {}).get("fieldRef") if isinstance(env, dict) else None
        if isinstance(ref, dict):
            ref.setdefault("apiVersion", "v1")


def default_pod(pod: Obj, ctx: KindContext) -> None:
    spec = pod.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    if ctx.has_field(_CORE + "PodSpec", "enableServiceLinks"):
        spec.setdefault("enableServiceLinks", True)
    account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    spec["serviceAccountName"] = account
    spec["serviceAccount"] = account
    spec.setdefault("priority", 0)
    if ctx.has_field(_CORE + "PodSpec", "preemptionPolicy"):
        spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    tolerations = spec.setdefault("tolerations", [])
    if isinstance(tolerations, list):
        keys = {t.get("key") for t in tolerations if isinstance(t, dict)}
        for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
            if key not in keys:
                tolerations.append(
                    {
                        "key": key,
                        "operator": "Exists",
                        "effect": "NoExecute",
                        "tolerationSeconds": 300,
                    }
                )
    containers = [c for c in spec.get("containers") or [] if isinstance(c, dict)]
    for c in containers + [c for c in spec.get("initContainers") or [] if isinstance(c, dict)]:
        _default_container(c, ctx)
    for vol in spec.get("volumes") or []:
        if not isinstance(vol, dict):
            continue
        for source in ("configMap", "secret"):
            if isinstance(vol.get(source), dict):
                vol[source].setdefault("defaultMode", 420)
    status = pod.setdefault("status", {})
    if isinstance(status, dict):
        status.setdefault("phase", "Pending")
        status.setdefault("qosClass", _qos_class(containers))


def validate_pod(pod: Obj, ctx: KindContext) -> list[FieldError]:
    errs: list[FieldError] = []
    spec = pod.get("spec") or {}
    if not spec.get("containers"):
        errs.append(FieldError("Required", "spec.containers"))
    seen: set[str] = set()
    for group in ("initContainers", "containers"):
        for i, c in enumerate(spec.get(group) or []):
            if not isinstance(c, dict):
                continue
            where = f"spec.{group}[{i}]"
            name = c.get("name") or ""
            if name and not _is_label(name):
                errs.append(FieldError("Invalid", f"{where}.name", ctx.label_message, value=name))
            if name in seen:
                errs.append(FieldError("Duplicate", f"{where}.name", value=name))
            seen.add(name)
            if not c.get("image"):
                errs.append(FieldError("Required", f"{where}.image"))
    policy = spec.get("restartPolicy")
    if policy not in (None, "Always", "OnFailure", "Never"):
        errs.append(
            FieldError(
                "NotSupported",
                "spec.restartPolicy",
                value=policy,
                supported=("Always", "OnFailure", "Never"),
            )
        )
    return errs


_POD_MUTABLE = (
    "pod updates may not change fields other than `spec.containers[*].image`, "
    "`spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` "
    "(only additions to existing tolerations) or `spec.terminationGracePeriodSeconds` "
    "(allow it to be set to 1 if it was previously negative)"
)


def _without_images(spec: Mapping[str, Any]) -> Obj:
    out = dict(spec)
    for group in ("containers", "initContainers"):
        out[group] = [
            {k: v for k, v in c.items() if k != "image"} if isinstance(c, dict) else c
            for c in spec.get(group) or []
        ]
    for key in ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds"):
        out.pop(key, None)
    return out


def validate_pod_update(old: Obj, new: Obj, ctx: KindContext) -> list[FieldError]:
    old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
    if _without_images(old_spec) != _without_images(new_spec):
        return [FieldError("Forbidden", "spec", _POD_MUTABLE)]
    return []


def _is_label(name: str) -> bool:
    import re

    return bool(re.match(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", name)) and len(name) <= 63


# --- Service ----------------------------------------------------------------------------------
def default_service(svc: Obj, ctx: KindContext) -> None:
    spec = svc.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    kind = spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    for port in spec.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
            if "port" in port and port.get("targetPort") in (None, 0, ""):
                port["targetPort"] = port["port"]
            if kind in ("NodePort", "LoadBalancer"):
                port.setdefault("nodePort", ctx.allocate_node_port())
    if kind != "ExternalName":
        if not spec.get("clusterIP"):
            spec["clusterIP"] = ctx.allocate_cluster_ip()
        if ctx.has_field(_CORE + "ServiceSpec", "clusterIPs"):
            spec.setdefault("clusterIPs", [spec["clusterIP"]])
        if ctx.has_field(_CORE + "ServiceSpec", "ipFamilies"):
            spec.setdefault("ipFamilies", ["IPv4"])
            spec.setdefault("ipFamilyPolicy", "SingleStack")
        if ctx.has_field(_CORE + "ServiceSpec", "internalTrafficPolicy"):
            spec.setdefault("internalTrafficPolicy", "Cluster")
    if kind in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    svc.setdefault("status", {"loadBalancer": {}})


def validate_service(svc: Obj, ctx: KindContext) -> list[FieldError]:
    errs: list[FieldError] = []
    spec = svc.get("spec") or {}
    ports = [p for p in spec.get("ports") or [] if isinstance(p, dict)]
    headless = spec.get("clusterIP") == "None"
    if not ports and spec.get("type") != "ExternalName" and not headless:
        errs.append(FieldError("Required", "spec.ports"))
    names: set[str] = set()
    for i, port in enumerate(ports):
        name = port.get("name") or ""
        if len(ports) > 1 and not name:
            errs.append(FieldError("Required", f"spec.ports[{i}].name"))
        if name and name in names:
            errs.append(FieldError("Duplicate", f"spec.ports[{i}].name", value=name))
        names.add(name)
        proto = port.get("protocol")
        if proto not in (None, "TCP", "UDP", "SCTP"):
            errs.append(
                FieldError(
                    "NotSupported",
                    f"spec.ports[{i}].protocol",
                    value=proto,
                    supported=("SCTP", "TCP", "UDP"),
                )
            )
    return errs


def validate_service_update(old: Obj, new: Obj, ctx: KindContext) -> list[FieldError]:
    before = (old.get("spec") or {}).get("clusterIP")
    after = (new.get("spec") or {}).get("clusterIP")
    if before and after != before and (new.get("spec") or {}).get("type") != "ExternalName":
        return [FieldError("Invalid", "spec.clusterIP", "field is immutable", value=after or "")]
    return []


# --- ConfigMap / Secret -----------------------------------------------------------------------
def validate_immutable_data(old: Obj, new: Obj, ctx: KindContext) -> list[FieldError]:
    if not old.get("immutable"):
        return []
    errs: list[FieldError] = []
    why = "field is immutable when `immutable` is set"
    if not new.get("immutable"):
        errs.append(FieldError("Forbidden", "immutable", why))
    for key in ("data", "binaryData", "stringData"):
        if (old.get(key) or {}) != (new.get(key) or {}):
            errs.append(FieldError("Forbidden", key, why))
    return errs


def default_secret(secret: Obj, ctx: KindContext) -> None:
    secret.setdefault("type", "Opaque")
    string_data = secret.pop("stringData", None)
    if isinstance(string_data, dict):
        import base64

        data = secret.setdefault("data", {})
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode()


# --- Namespace / Node ---------------------------------------------------------------------------
def default_namespace(ns: Obj, ctx: KindContext) -> None:
    spec = ns.setdefault("spec", {})
    if isinstance(spec, dict):
        spec.setdefault("finalizers", ["kubernetes"])
    status = ns.setdefault("status", {})
    if isinstance(status, dict):
        status.setdefault("phase", "Active")


# --- Workloads ------------------------------------------------------------------------------
def default_workload(obj: Obj, ctx: KindContext) -> None:
    """The version's field defaults (``apisurface`` data), pod templates included."""
    defaulted = apply_defaults(ctx.surface, obj)
    obj.clear()
    obj.update(defaulted)


def job_selector(job: Obj, ctx: KindContext) -> None:
    """jobStrategy's generateSelector: unless ``manualSelector``, the selector matches the
    Job's uid and the pod template carries the uid and name labels the version adds."""
    spec = job.get("spec")
    meta = job.get("metadata") or {}
    if not isinstance(spec, dict) or spec.get("manualSelector") is True:
        return
    values = {"uid": meta.get("uid", ""), "name": meta.get("name", "")}
    template = spec.setdefault("template", {})
    if not isinstance(template, dict):
        return
    tmeta = template.setdefault("metadata", {})
    labels = tmeta.setdefault("labels", {}) if isinstance(tmeta, dict) else None
    if isinstance(labels, dict):
        for key, source in ctx.job_template_labels:
            labels.setdefault(key, values[source])
    if spec.get("selector") is None:
        spec["selector"] = {"matchLabels": {ctx.job_selector_label: values["uid"]}}
    if isinstance(labels, dict) and isinstance(meta, dict) and not meta.get("labels"):
        # SetDefaults_Job runs again when the object is read back from etcd: a Job created
        # without labels shows its template's, generated ones included.
        meta["labels"] = dict(labels)


_WORKLOAD = KindRules(default_workload)

_RULES: Mapping[tuple[str, str], KindRules] = {
    ("apps", "deployments"): _WORKLOAD,
    ("apps", "replicasets"): _WORKLOAD,
    ("apps", "statefulsets"): _WORKLOAD,
    ("apps", "daemonsets"): _WORKLOAD,
    ("batch", "cronjobs"): _WORKLOAD,
    ("batch", "jobs"): KindRules(default_workload, after_uid=job_selector),
    ("", "pods"): KindRules(default_pod, validate_pod, validate_pod_update),
    ("", "services"): KindRules(default_service, validate_service, validate_service_update),
    ("", "configmaps"): KindRules(validate_update=validate_immutable_data),
    ("", "secrets"): KindRules(default_secret, validate_update=validate_immutable_data),
    ("", "namespaces"): KindRules(default_namespace),
}
_NONE = KindRules()


def rules_for(group: str, plural: str) -> KindRules:
    return _RULES.get((group, plural), _NONE)
