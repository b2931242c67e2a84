"""The resource metrics API, ``metrics.k8s.io/v1beta1``, as metrics-server serves it.

Owns the two read-only resources metrics-server registers through the aggregator
(``v1beta1.metrics.k8s.io`` APIService): ``pods`` (PodMetrics, namespaced) and ``nodes``
(NodeMetrics), with the verbs ``get`` and ``list`` only (metrics-server's
pkg/api/{pod,node}.go: no watch, no writes), their discovery entries and the answers
``kubectl top`` and the clients' ``utils.get_*_metrics`` read. Usage comes from a
:class:`UsageSource` (the kubelet): a pod has metrics while at least one of its containers
runs, as metrics-server has samples only for running containers; a node's usage is the sum of
its pods' plus a fixed system reserve. CPU is written in nanocores (``12345n``) and memory in
``Ki`` where it divides, as metrics-server's ``resource.NewScaledQuantity`` and
``NewQuantity(BinarySI)`` write them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from kubespark.emulator.apiserver.objects import Obj, rfc3339
from kubespark.emulator.apiserver.registry import ServedResource
from kubespark.emulator.apiserver.selectors import FieldSelector, LabelSelector
from kubespark.emulator.apiserver.store import Store
from kubespark.emulator.apiserver.wire import not_found

__all__ = [
    "GROUP",
    "RESOURCES",
    "SYSTEM_RESERVE",
    "VERSION",
    "Usage",
    "UsageSource",
    "answer",
    "cpu_quantity",
    "memory_quantity",
    "table_cells",
]

GROUP = "metrics.k8s.io"
VERSION = "v1beta1"
_VERBS = frozenset({"get", "list"})
RESOURCES = (
    ServedResource(GROUP, VERSION, "nodes", "", "NodeMetrics", False, _VERBS),
    ServedResource(GROUP, VERSION, "pods", "", "PodMetrics", True, _VERBS),
)


@dataclass(frozen=True)
class Usage:
    """One container's usage now: CPU in nanocores, memory in bytes, over ``window`` seconds."""

    cpu_nanocores: int
    memory_bytes: int
    window: float = 30.0


# What the node's system daemons (kubelet, container runtime, the OS) use beside its pods:
# node usage comes from the root cgroup, which holds them too.
SYSTEM_RESERVE = Usage(cpu_nanocores=50_000_000, memory_bytes=512 * 1024 * 1024)


class UsageSource(Protocol):
    """What the kubelet measures: each running container's usage, by container name."""

    def container_usage(self, pod: Obj) -> dict[str, Usage]: ...


def cpu_quantity(nanocores: int) -> str:
    """Nanocores as ``resource.NewScaledQuantity(n, -9).String()`` writes them: the largest
    exponent (a multiple of 3, at most 0) that keeps the number whole (``1500u``, ``2``)."""
    value, suffixes = nanocores, ("n", "u", "m", "")
    step = 0
    while value and value % 1000 == 0 and step < 3:
        value //= 1000
        step += 1
    return f"{value}{suffixes[step]}" if value else "0"


def memory_quantity(nbytes: int) -> str:
    """Bytes as ``NewQuantity(n, BinarySI).String()`` writes them: the largest power of 1024
    that divides them (``1536Ki``, ``2Gi``), plain bytes otherwise."""
    value, suffixes = nbytes, ("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")
    step = 0
    while value and value % 1024 == 0 and step < 6:
        value //= 1024
        step += 1
    return f"{value}{suffixes[step]}"


def table_cells(item: Obj) -> list[Any]:
    """A row of metrics-server's Table: name, cpu, memory (a pod's containers summed), window."""
    usages = [c.get("usage") or {} for c in item.get("containers") or []] or [
        item.get("usage") or {}
    ]
    cpu = sum(_nanocores(u.get("cpu")) for u in usages)
    memory = sum(_bytes(u.get("memory")) for u in usages)
    name = (item.get("metadata") or {}).get("name", "")
    return [name, cpu_quantity(cpu), memory_quantity(memory), item.get("window", "")]


def _nanocores(text: object) -> int:
    return _scaled(str(text or "0"), {"n": 1, "u": 10**3, "m": 10**6, "": 10**9})


def _bytes(text: object) -> int:
    return _scaled(str(text or "0"), {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "": 1})


def _scaled(text: str, units: dict[str, int]) -> int:
    for suffix, factor in units.items():
        if suffix and text.endswith(suffix):
            return int(text[: -len(suffix)]) * factor
    return int(text) * units[""]


def _window(seconds: float) -> str:
    return f"{seconds:g}s"


def _pod_metrics(pod: Obj, usage: dict[str, Usage], now: str) -> Obj:
    meta = pod.get("metadata") or {}
    window = max((u.window for u in usage.values()), default=30.0)
    return {
        "metadata": {
            "name": meta.get("name", ""),
            "namespace": meta.get("namespace", ""),
            "creationTimestamp": now,
            "labels": dict(meta.get("labels") or {}),
        },
        "timestamp": now,
        "window": _window(window),
        "containers": [
            {
                "name": name,
                "usage": {
                    "cpu": cpu_quantity(u.cpu_nanocores),
                    "memory": memory_quantity(u.memory_bytes),
                },
            }
            for name, u in usage.items()
        ],
    }


def _node_metrics(node: Obj, pods: Iterable[dict[str, Usage]], now: str) -> Obj:
    meta = node.get("metadata") or {}
    cpu, memory = SYSTEM_RESERVE.cpu_nanocores, SYSTEM_RESERVE.memory_bytes
    for usage in pods:
        cpu += sum(u.cpu_nanocores for u in usage.values())
        memory += sum(u.memory_bytes for u in usage.values())
    return {
        "metadata": {
            "name": meta.get("name", ""),
            "creationTimestamp": now,
            "labels": dict(meta.get("labels") or {}),
        },
        "timestamp": now,
        "window": _window(SYSTEM_RESERVE.window),
        "usage": {"cpu": cpu_quantity(cpu), "memory": memory_quantity(memory)},
    }


def answer(
    store: Store,
    source: UsageSource,
    res: ServedResource,
    namespace: str | None,
    name: str | None,
    labels: LabelSelector,
    fields: FieldSelector,
) -> Obj:
    """A PodMetrics/NodeMetrics (``name`` given) or its list, as metrics-server answers.

    A get of a pod (node) that does not exist is the lister's 404 (``pod "x" not found``); of
    one without metrics, metrics-server's own (``podmetrics.metrics.k8s.io "ns/x" not found``).
    Lists hold only what has metrics, pods in (namespace, name) order.
    """
    now = rfc3339()
    pods = store.items(("", "pods"), namespace if res.plural == "pods" else None)
    if res.plural == "pods":
        if name is not None:
            pods = [p for p in pods if _name(p) == name]
            if not pods:
                raise not_found("", "pod", name)
        pods.sort(key=lambda p: (p["metadata"].get("namespace", ""), _name(p)))
        items = [
            _pod_metrics(pod, usage, now)
            for pod in pods
            if _phase(pod) == "Running" and (usage := source.container_usage(pod))
        ]
        missing = f"{namespace}/{name}"
    else:
        nodes = store.items(("", "nodes"))
        if name is not None:
            nodes = [n for n in nodes if _name(n) == name]
            if not nodes:
                raise not_found("", "node", name)
        measured = [(pod, u) for pod in pods if (u := source.container_usage(pod))]
        items = [
            _node_metrics(node, (u for pod, u in measured if _node_of(pod) == _name(node)), now)
            for node in nodes
        ]
        missing = str(name)
    if name is not None:
        if not items:
            raise not_found(GROUP, f"{res.kind.lower()}", missing)
        return {"kind": res.kind, "apiVersion": f"{GROUP}/{VERSION}", **items[0]}
    chosen = [
        item
        for item in items
        if labels.matches(item["metadata"].get("labels")) and fields.matches(item)
    ]
    return {
        "kind": f"{res.kind}List",
        "apiVersion": f"{GROUP}/{VERSION}",
        "metadata": {},
        "items": chosen,
    }


def _phase(pod: Obj) -> str:
    return str((pod.get("status") or {}).get("phase") or "")


def _name(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def _node_of(pod: Obj) -> str:
    return str((pod.get("spec") or {}).get("nodeName") or "")
