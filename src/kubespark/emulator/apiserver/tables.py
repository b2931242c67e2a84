"""Server-side printing: objects as ``meta.k8s.io`` Tables, the way ``kubectl get`` asks for them.

Owns the cells of the built-in printers kubectl users see (``pkg/printers/internalversion``:
pods, services, config maps, namespaces, nodes, ...; their columns are data,
``emulator/data/printer_columns.yaml``), the
default table (Name, Created At) of other kinds, and custom resources' additionalPrinterColumns
(simple JSONPath). Ages are rendered with apimachinery's ``HumanDuration``. No storage, no HTTP.
"""

from __future__ import annotations

import contextlib
import functools
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from kubespark.emulator.apiserver import metrics
from kubespark.emulator.apiserver.objects import Obj, parse_rfc3339, peek_meta
from kubespark.emulator.apiserver.registry import ServedResource

__all__ = ["human_duration", "to_table"]


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str = "string"
    format: str = ""
    description: str = ""
    priority: int = 0

    def wire(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        }


Cells = Callable[[Obj, float], list[Any]]


_DAY, _YEAR = 86400, 365 * 86400
# HumanDuration's steps: below so many seconds, the count of a unit, then the count of the next
# smaller unit when the step shows one and it is not zero ("5m", "5m30s").
_HUMAN_STEPS: tuple[tuple[float, str, int, tuple[str, int] | None], ...] = (
    (120, "s", 1, None),
    (10 * 60, "m", 60, ("s", 1)),
    (180 * 60, "m", 60, None),
    (8 * 3600, "h", 3600, ("m", 60)),
    (48 * 3600, "h", 3600, None),
    (8 * _DAY, "d", _DAY, ("h", 3600)),
    (2 * _YEAR, "d", _DAY, None),
    (8 * _YEAR, "y", _YEAR, ("d", _DAY)),
    (math.inf, "y", _YEAR, None),
)


def human_duration(seconds: float) -> str:
    """``k8s.io/apimachinery/pkg/util/duration.HumanDuration``."""
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    s = int(seconds)
    _, unit, size, smaller = next(step for step in _HUMAN_STEPS if s < step[0])
    text = f"{s // size}{unit}"
    if smaller is not None and (rest := s // smaller[1] % (size // smaller[1])):
        text += f"{rest}{smaller[0]}"
    return text


def _age(obj: Obj, now: float) -> str:
    created = peek_meta(obj).get("creationTimestamp")
    if not created:
        return "<unknown>"
    try:
        return human_duration(now - parse_rfc3339(created))
    except ValueError:
        return "<unknown>"


def _name(obj: Obj) -> str:
    return str(peek_meta(obj).get("name", ""))


# --- built-in printers --------------------------------------------------------------------------
def _pod_status(pod: Obj) -> str:
    status = pod.get("status") or {}
    reason = status.get("reason") or status.get("phase") or ""
    for cs in status.get("containerStatuses") or []:
        state = cs.get("state") or {}
        if state.get("waiting", {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif state.get("terminated"):
            term = state["terminated"]
            reason = term.get("reason") or (
                f"Signal:{term['signal']}"
                if term.get("signal")
                else f"ExitCode:{term.get('exitCode', 0)}"
            )
    if peek_meta(pod).get("deletionTimestamp"):
        reason = "Unknown" if status.get("reason") == "NodeLost" else "Terminating"
    return str(reason)


def _pod_cells(pod: Obj, now: float) -> list[Any]:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    statuses = status.get("containerStatuses") or []
    ready = sum(1 for cs in statuses if cs.get("ready"))
    restarts = sum(int(cs.get("restartCount", 0)) for cs in statuses)
    gates = spec.get("readinessGates") or []
    return [
        _name(pod),
        f"{ready}/{len(spec.get('containers') or [])}",
        _pod_status(pod),
        restarts,
        _age(pod, now),
        status.get("podIP") or "<none>",
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        f"{len(gates)}" if gates else "<none>",
    ]


def _ports(ports: Sequence[Mapping[str, Any]]) -> str:
    if not ports:
        return "<none>"
    out = []
    for p in ports:
        text = f"{p.get('port')}"
        if p.get("nodePort"):
            text += f":{p['nodePort']}"
        out.append(f"{text}/{p.get('protocol', 'TCP')}")
    return ",".join(out)


def _selector(selector: Mapping[str, str] | None) -> str:
    if not selector:
        return "<none>"
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items()))


def _service_cells(svc: Obj, now: float) -> list[Any]:
    spec = svc.get("spec") or {}
    ingress = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    external = ",".join(i.get("ip") or i.get("hostname", "") for i in ingress) or (
        "<pending>" if spec.get("type") == "LoadBalancer" else "<none>"
    )
    if spec.get("type") == "ExternalName":
        external = spec.get("externalName", "<none>")
    return [
        _name(svc),
        spec.get("type", ""),
        spec.get("clusterIP") or "<none>",
        external,
        _ports(spec.get("ports") or []),
        _age(svc, now),
        _selector(spec.get("selector")),
    ]


def _data_cells(obj: Obj, now: float) -> list[Any]:
    count = len(obj.get("data") or {}) + len(obj.get("binaryData") or {})
    return [_name(obj), count, _age(obj, now)]


def _secret_cells(obj: Obj, now: float) -> list[Any]:
    return [_name(obj), obj.get("type", ""), len(obj.get("data") or {}), _age(obj, now)]


def _namespace_cells(obj: Obj, now: float) -> list[Any]:
    return [_name(obj), (obj.get("status") or {}).get("phase", ""), _age(obj, now)]


def _node_cells(node: Obj, now: float) -> list[Any]:
    status = node.get("status") or {}
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    state = "Ready" if ready and ready.get("status") == "True" else "NotReady"
    if (node.get("spec") or {}).get("unschedulable"):
        state += ",SchedulingDisabled"
    info = status.get("nodeInfo") or {}
    addresses = {a.get("type"): a.get("address") for a in status.get("addresses") or []}
    return [
        _name(node),
        state,
        "<none>",
        _age(node, now),
        info.get("kubeletVersion", ""),
        addresses.get("InternalIP", "<none>"),
        addresses.get("ExternalIP", "<none>"),
        info.get("osImage", ""),
        info.get("kernelVersion", ""),
        info.get("containerRuntimeVersion", ""),
    ]


def _sa_cells(obj: Obj, now: float) -> list[Any]:
    return [_name(obj), len(obj.get("secrets") or []), _age(obj, now)]


def _event_cells(ev: Obj, now: float) -> list[Any]:
    involved = ev.get("involvedObject") or {}
    last = ev.get("lastTimestamp") or ev.get("eventTime") or peek_meta(ev).get("creationTimestamp")
    age = human_duration(now - parse_rfc3339(last[:19] + "Z")) if last else "<unknown>"
    return [
        age,
        ev.get("type", ""),
        ev.get("reason", ""),
        f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}",
        ev.get("message", ""),
    ]


def _crd_cells(obj: Obj, now: float) -> list[Any]:
    return [_name(obj), peek_meta(obj).get("creationTimestamp", "")]


def _containers_images(template: Mapping[str, Any]) -> list[str]:
    """The wide columns every workload printer ends with: its template's containers, images."""
    containers = ((template.get("spec") or {}).get("containers")) or []
    return [
        ",".join(str(c.get("name", "")) for c in containers),
        ",".join(str(c.get("image", "")) for c in containers),
    ]


def format_label_selector(selector: Mapping[str, Any] | None) -> str:
    """``metav1.FormatLabelSelector``: ``<none>`` for none, ``<error>`` never arises here."""
    if not selector:
        return "<none>"
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        op, key, values = expr.get("operator", ""), expr.get("key", ""), expr.get("values") or []
        if op == "In":
            parts.append(f"{key} in ({','.join(values)})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(values)})")
        elif op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts) if parts else "<none>"


def _workload_wide(obj: Obj, with_selector: bool = True) -> list[Any]:
    spec = obj.get("spec") or {}
    wide = _containers_images(spec.get("template") or {})
    return [*wide, format_label_selector(spec.get("selector"))] if with_selector else wide


def _workload_row(obj: Obj, now: float, own: list[Any], with_selector: bool = True) -> list[Any]:
    """A workload printer's row: name, the kind's own cells, age, then the -o wide ones."""
    return [_name(obj), *own, _age(obj, now), *_workload_wide(obj, with_selector)]


def _deployment_cells(obj: Obj, now: float) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    ready = f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}"
    own = [ready, status.get("updatedReplicas", 0), status.get("availableReplicas", 0)]
    return _workload_row(obj, now, own)


def _replicaset_cells(obj: Obj, now: float) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    counts = (status.get("replicas", 0), status.get("readyReplicas", 0))
    return _workload_row(obj, now, [spec.get("replicas", 1), *counts])


def _statefulset_cells(obj: Obj, now: float) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    ready = f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}"
    return _workload_row(obj, now, [ready], with_selector=False)


_DAEMONSET_COUNTS = (
    "desiredNumberScheduled",
    "currentNumberScheduled",
    "numberReady",
    "updatedNumberScheduled",
    "numberAvailable",
)


def _daemonset_cells(obj: Obj, now: float) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    node_selector = ((spec.get("template") or {}).get("spec") or {}).get("nodeSelector")
    counts = [status.get(field, 0) for field in _DAEMONSET_COUNTS]
    return _workload_row(obj, now, [*counts, _selector(node_selector)])


def _since(start: str | None, end: float) -> str:
    return human_duration(end - parse_rfc3339(start)) if start else "<none>"


def _job_cells(obj: Obj, now: float) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    succeeded = status.get("succeeded", 0)
    parallelism = spec.get("parallelism")
    if spec.get("completions") is not None:
        completions = f"{succeeded}/{spec['completions']}"
    elif parallelism is not None and parallelism > 1:
        completions = f"{succeeded}/1 of {parallelism}"
    else:
        completions = f"{succeeded}/1"
    start, end = status.get("startTime"), status.get("completionTime")
    duration = ""
    if start:
        duration = human_duration((parse_rfc3339(end) if end else now) - parse_rfc3339(start))
    return _workload_row(obj, now, [completions, duration])


def _cronjob_cells(obj: Obj, now: float) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    job_spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    suspend = spec.get("suspend")
    return [
        _name(obj),
        spec.get("schedule", ""),
        "<unset>" if suspend is None else str(bool(suspend)),
        len(status.get("active") or []),
        _since(status.get("lastScheduleTime"), now),
        _age(obj, now),
        *_containers_images(job_spec.get("template") or {}),
        format_label_selector(job_spec.get("selector")),
    ]


def _endpoints_cells(obj: Obj, now: float) -> list[Any]:
    """formatEndpoints: up to three ip:port pairs, then how many more."""
    pairs = [
        f"{address.get('ip', '')}:{port.get('port')}" if port else str(address.get("ip", ""))
        for subset in obj.get("subsets") or []
        for port in (subset.get("ports") or [None])
        for address in subset.get("addresses") or []
    ]
    text = ",".join(pairs[:3]) if pairs else "<none>"
    if len(pairs) > 3:
        text += f" + {len(pairs) - 3} more..."
    return [_name(obj), text, _age(obj, now)]


# Each built-in printer's cells, by group/plural as data/printer_columns.yaml keys its columns.
_CELLS: Mapping[str, Cells] = {
    "pods": _pod_cells,
    "services": _service_cells,
    "configmaps": _data_cells,
    "secrets": _secret_cells,
    "namespaces": _namespace_cells,
    "nodes": _node_cells,
    "serviceaccounts": _sa_cells,
    "events": _event_cells,
    "apiextensions.k8s.io/customresourcedefinitions": _crd_cells,
    "endpoints": _endpoints_cells,
    "apps/deployments": _deployment_cells,
    "apps/replicasets": _replicaset_cells,
    "apps/statefulsets": _statefulset_cells,
    "apps/daemonsets": _daemonset_cells,
    "batch/jobs": _job_cells,
    "batch/cronjobs": _cronjob_cells,
    "metrics.k8s.io/pods": lambda obj, now: metrics.table_cells(obj),
    "metrics.k8s.io/nodes": lambda obj, now: metrics.table_cells(obj),
}


@functools.cache
def _column_data() -> dict[str, Any]:
    path = resources.files("kubespark.emulator").joinpath("data/printer_columns.yaml")
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


@functools.cache
def _shared(name: str) -> Column:
    return Column(**_column_data()["shared"][name])


@functools.cache
def _columns(key: str) -> tuple[Column, ...]:
    return tuple(Column(**c) for c in _column_data()["printers"][key])


def _default_cells(obj: Obj, now: float) -> list[Any]:
    return [_name(obj), peek_meta(obj).get("creationTimestamp", "")]


# --- custom resources -------------------------------------------------------------------------
def json_path(obj: Any, path: str) -> Any:
    """The simple JSONPath printer columns use: ``.spec.x``, ``.status.list[0].y``."""
    node = obj
    text = path.strip().removeprefix("{").removesuffix("}").lstrip("$")
    for part in [p for p in text.replace("]", "").split(".") if p]:
        name, _, index = part.partition("[")
        if name:
            if not isinstance(node, Mapping):
                return None
            node = node.get(name)
        if index:
            if not isinstance(node, list):
                return None
            try:
                node = node[int(index)]
            except (ValueError, IndexError):
                return None
    return node


def _custom_printer(res: ServedResource) -> tuple[tuple[Column, ...], Cells]:
    assert res.custom is not None
    specs = res.custom.printer_columns
    columns = [_shared("name")] + [
        Column(
            str(c.get("name", "")),
            type=str(c.get("type", "string")),
            format=str(c.get("format", "")),
            description=str(c.get("description", "")),
            priority=int(c.get("priority", 0)),
        )
        for c in specs
    ]
    if not any(c.get("jsonPath") == ".metadata.creationTimestamp" for c in specs):
        columns.append(_shared("age"))

    def cells(obj: Obj, now: float) -> list[Any]:
        out: list[Any] = [_name(obj)]
        for spec in specs:
            value = json_path(obj, str(spec.get("jsonPath", "")))
            if spec.get("type") == "date" and isinstance(value, str):
                with contextlib.suppress(ValueError):
                    value = human_duration(now - parse_rfc3339(value))
            out.append(value)
        if len(out) < len(columns):
            out.append(_age(obj, now))
        return out

    return tuple(columns), cells


def _printer(res: ServedResource) -> tuple[tuple[Column, ...], Cells]:
    if res.custom is not None:
        return _custom_printer(res)
    key = f"{res.group}/{res.plural}" if res.group else res.plural
    cells = _CELLS.get(key)
    return (_columns("default"), _default_cells) if cells is None else (_columns(key), cells)


def _row_object(obj: Obj, include: str, table_version: str) -> Any:
    if include == "None":
        return None
    if include == "Object":
        return obj
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": f"meta.k8s.io/{table_version}",
        "metadata": obj.get("metadata", {}),
    }


def to_table(
    res: ServedResource,
    objects: Sequence[Obj],
    list_meta: Mapping[str, Any],
    *,
    include_object: str = "Metadata",
    table_version: str = "v1",
    with_columns: bool = True,
) -> dict[str, Any]:
    """A ``meta.k8s.io/<version>`` Table of ``objects`` (a watch event omits the columns)."""
    columns, cells = _printer(res)
    now = time.time()
    rows = []
    for obj in objects:
        row: dict[str, Any] = {"cells": cells(obj, now)}
        included = _row_object(obj, include_object, table_version)
        if included is not None:
            row["object"] = included
        rows.append(row)
    table: dict[str, Any] = {
        "kind": "Table",
        "apiVersion": f"meta.k8s.io/{table_version}",
        "metadata": dict(list_meta),
        "columnDefinitions": [c.wire() for c in columns] if with_columns else None,
        "rows": rows,
    }
    return table
