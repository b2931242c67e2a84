"""Field defaults a server of one version sets on create/update, from ``data/defaults.yaml``.

Owns applying those defaults to an object (what the emulator stores and answers, and what a
planner can expect back): plain field defaults per type, and the few conditional ones
(``rule:`` in the data) implemented here. Pure: returns a new object, never mutates its input;
parts without defaults are shared with the input. Version facts live in the data file.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from kubespark.apisurface.check import resolve_kind
from kubespark.apisurface.model import ApiSurface, Schema, SchemaKind
from kubespark.errors import DataError
from kubespark.packagedata import package_files
from kubespark.versions import Version, VersionRange

__all__ = ["apply_defaults"]

_FILE = "defaults.yaml"
_Rule = Callable[[dict[str, Any]], None]


def _unset(value: Any, zero_is_unset: bool) -> bool:
    return value is None or value == "" or (zero_is_unset and value == 0 and value is not False)


def _image_pull_policy(container: dict[str, Any]) -> None:
    if _unset(container.get("imagePullPolicy"), False):
        container["imagePullPolicy"] = (
            "Always" if _image_tag(container) == "latest" else ("IfNotPresent")
        )


def _image_tag(container: dict[str, Any]) -> str:
    """The tag as Docker references parse it; no tag and no digest means "latest"."""
    image = str(container.get("image") or "")
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else ""
    return tag or ("" if digest else "latest")


def _target_port_from_port(port: dict[str, Any]) -> None:
    if port.get("targetPort") in (None, 0, "") and isinstance(port.get("port"), int):
        port["targetPort"] = port["port"]


def _external_traffic_policy(spec: dict[str, Any]) -> None:
    if spec.get("type") in ("NodePort", "LoadBalancer") and _unset(
        spec.get("externalTrafficPolicy"), False
    ):
        spec["externalTrafficPolicy"] = "Cluster"


def _internal_traffic_policy(spec: dict[str, Any]) -> None:
    if spec.get("type") in ("ClusterIP", "NodePort", "LoadBalancer") and _unset(
        spec.get("internalTrafficPolicy"), False
    ):
        spec["internalTrafficPolicy"] = "Cluster"


def _load_balancer_node_ports(spec: dict[str, Any]) -> None:
    if spec.get("type") == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is None:
        spec["allocateLoadBalancerNodePorts"] = True


def _requests_from_limits(pod: dict[str, Any]) -> None:
    spec = pod.get("spec")
    if not isinstance(spec, dict):
        return
    for key in ("containers", "initContainers"):
        containers = spec.get(key)
        if not isinstance(containers, list):
            continue
        spec[key] = [_container_requests(c) for c in containers]


def _container_requests(container: Any) -> Any:
    if not isinstance(container, dict):
        return container
    res = container.get("resources")
    if not isinstance(res, dict) or not isinstance(res.get("limits"), dict):
        return container
    requests = dict(res.get("requests") or {})
    missing = {k: v for k, v in res["limits"].items() if k not in requests}
    if not missing:
        return container
    return {**container, "resources": {**res, "requests": {**requests, **missing}}}


def _copied(parent: dict[str, Any], key: str) -> dict[str, Any]:
    """``parent[key]`` as a fresh dict (set on ``parent``), so the input is never mutated."""
    child = parent.get(key)
    parent[key] = dict(child) if isinstance(child, dict) else {}
    return parent[key]  # type: ignore[no-any-return]


def _deployment_strategy(spec: dict[str, Any]) -> None:
    strategy = _copied(spec, "strategy")
    if _unset(strategy.get("type"), False):
        strategy["type"] = "RollingUpdate"
    if strategy["type"] == "RollingUpdate":
        rolling = _copied(strategy, "rollingUpdate")
        rolling.setdefault("maxUnavailable", "25%")
        rolling.setdefault("maxSurge", "25%")


def _statefulset_strategy(spec: dict[str, Any]) -> None:
    strategy = _copied(spec, "updateStrategy")
    if _unset(strategy.get("type"), False):
        strategy["type"] = "RollingUpdate"
        strategy.setdefault("rollingUpdate", {})
    if strategy["type"] == "RollingUpdate" and isinstance(strategy.get("rollingUpdate"), dict):
        _copied(strategy, "rollingUpdate").setdefault("partition", 0)


def _daemonset_rolling(spec: dict[str, Any]) -> dict[str, Any] | None:
    strategy = _copied(spec, "updateStrategy")
    if _unset(strategy.get("type"), False):
        strategy["type"] = "RollingUpdate"
    return _copied(strategy, "rollingUpdate") if strategy["type"] == "RollingUpdate" else None


def _daemonset_strategy(spec: dict[str, Any]) -> None:
    rolling = _daemonset_rolling(spec)
    if rolling is not None:
        rolling.setdefault("maxUnavailable", 1)


def _daemonset_max_surge(spec: dict[str, Any]) -> None:
    rolling = _daemonset_rolling(spec)
    if rolling is not None:
        rolling.setdefault("maxSurge", 0)


def _job_labels(job: dict[str, Any]) -> None:
    template = (job.get("spec") or {}).get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") if isinstance(template, dict) else None
    meta = job.get("metadata")
    if labels and isinstance(meta, dict) and not meta.get("labels"):
        job["metadata"] = {**meta, "labels": dict(labels)}


def _job_completions(spec: dict[str, Any]) -> None:
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
    if spec.get("parallelism") is None:
        spec["parallelism"] = 1


def _job_pod_replacement_policy(spec: dict[str, Any]) -> None:
    if spec.get("podReplacementPolicy") is None:
        failure_policy = spec.get("podFailurePolicy") is not None
        spec["podReplacementPolicy"] = "Failed" if failure_policy else "TerminatingOrFailed"


_RULES: Mapping[str, _Rule] = {
    "image-pull-policy": _image_pull_policy,
    "target-port-from-port": _target_port_from_port,
    "external-traffic-policy": _external_traffic_policy,
    "internal-traffic-policy": _internal_traffic_policy,
    "load-balancer-node-ports": _load_balancer_node_ports,
    "requests-from-limits": _requests_from_limits,
    "deployment-strategy": _deployment_strategy,
    "statefulset-strategy": _statefulset_strategy,
    "daemonset-strategy": _daemonset_strategy,
    "daemonset-max-surge": _daemonset_max_surge,
    "job-labels": _job_labels,
    "job-completions": _job_completions,
    "job-pod-replacement-policy": _job_pod_replacement_policy,
}


@dataclass(frozen=True, slots=True)
class _Default:
    type_name: str
    at: str
    values: Mapping[str, Any]
    zero_is_unset: bool
    rule: _Rule | None
    versions: VersionRange
    source: str

    def fill(self, obj: dict[str, Any]) -> None:
        target = obj.get(self.at) if self.at else obj
        if not isinstance(target, dict):
            return
        if self.at:
            target = obj[self.at] = dict(target)
        for field, value in self.values.items():
            if _unset(target.get(field), self.zero_is_unset):
                target[field] = copy.deepcopy(value)


@functools.cache
def _entries() -> tuple[_Default, ...]:
    text = package_files(__file__, "kubespark.apisurface").joinpath("data", _FILE).read_text()
    doc = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    out = []
    for n, raw in enumerate(doc.get("defaults", [])):
        rule_name = raw.get("rule")
        if "type" not in raw or "source" not in raw or (rule_name and rule_name not in _RULES):
            raise DataError(f"{_FILE}: defaults[{n}] needs type, source and a known rule")
        out.append(
            _Default(
                type_name=str(raw["type"]),
                at=str(raw.get("at", "")),
                values=raw.get("set") or {},
                zero_is_unset=bool(raw.get("zero_is_unset", False)),
                rule=_RULES[rule_name] if rule_name else None,
                versions=VersionRange.parse(str(raw.get("versions", ""))),
                source=str(raw["source"]),
            )
        )
    return tuple(out)


@dataclass(frozen=True, slots=True)
class _Table:
    by_type: Mapping[str, tuple[_Default, ...]]
    reaches: frozenset[str]  # types from which some defaulted type can be reached


def _table(surface: ApiSurface) -> _Table:
    version = surface.server_version or surface.version
    by_type: dict[str, list[_Default]] = {}
    for entry in _entries():
        if entry.type_name in surface.types and entry.versions.contains(version):
            by_type.setdefault(entry.type_name, []).append(entry)
    return _Table({k: tuple(v) for k, v in by_type.items()}, _reaching(surface, set(by_type)))


def _reaching(surface: ApiSurface, targets: set[str]) -> frozenset[str]:
    """Every type whose values can contain one of ``targets`` (fixpoint over references)."""
    refs = {
        name: {r for s in t.properties.values() if (r := _ref(s))}
        for name, t in surface.types.items()
    }
    reach = set(targets)
    changed = True
    while changed:
        changed = False
        for name, out in refs.items():
            if name not in reach and out & reach:
                reach.add(name)
                changed = True
    return frozenset(reach)


def _ref(schema: Schema | None) -> str | None:
    while schema is not None:
        if schema.kind is SchemaKind.OBJECT:
            return schema.ref
        schema = schema.items
    return None


def apply_defaults(surface: ApiSurface, obj: Any) -> Any:
    """The object with the server's defaults filled in, as ``surface``'s version stores it.

    An object whose kind the version does not serve is returned unchanged. Example: a Service
    port without protocol and targetPort gets ``protocol: TCP`` and ``targetPort: <port>``.
    """
    if not isinstance(obj, dict):
        return obj
    resource, _ = resolve_kind(surface, obj)
    if resource is None:
        return obj
    table = surface.memo("defaults.table", lambda: _table(surface))
    return _object(surface, table, resource.type_name, obj)


def _object(surface: ApiSurface, table: _Table, type_name: str, value: Any) -> Any:
    if not isinstance(value, dict) or type_name not in table.reaches:
        return value
    typedef = surface.types[type_name]
    out = dict(value)
    entries = table.by_type.get(type_name, ())
    for entry in entries:
        entry.fill(out)
    for key, child in out.items():
        schema = typedef.properties.get(key)
        if schema is not None and child is not None:
            out[key] = _value(surface, table, schema, child)
    for entry in entries:
        if entry.rule is not None:
            entry.rule(out)
    return out


def _value(surface: ApiSurface, table: _Table, schema: Schema, value: Any) -> Any:
    if schema.kind is SchemaKind.OBJECT and schema.ref:
        return _object(surface, table, schema.ref, value)
    if schema.items is None or _ref(schema.items) not in table.reaches:
        return value
    if schema.kind is SchemaKind.ARRAY and isinstance(value, list):
        return [_value(surface, table, schema.items, v) for v in value]
    if schema.kind is SchemaKind.MAP and isinstance(value, dict):
        return {k: _value(surface, table, schema.items, v) for k, v in value.items()}
    return value


def defaults_sources(surface: ApiSurface) -> tuple[str, ...]:
    """Where each default applied for this surface comes from (for notes and docs)."""
    version: Version = surface.server_version or surface.version
    return tuple(
        f"{e.type_name}: {e.source}"
        for e in _entries()
        if e.type_name in surface.types and e.versions.contains(version)
    )
