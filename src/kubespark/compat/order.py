"""The order in which a plan writes objects.

Owns one policy: what must exist before what. Namespaces first (everything namespaced lives in
one), then CustomResourceDefinitions (their custom resources come last), cluster-wide policy,
service accounts and RBAC (pods refuse to start without their service account), configuration
(Secrets, ConfigMaps, volumes that pods mount), workloads, Services, then what routes to or
guards them (Ingress, NetworkPolicy, autoscalers, disruption budgets), admission webhooks (last
of the built-in kinds, so a webhook never blocks the creation of its own backend), and custom
resources. The sort is stable: within one rank the given order holds. An object owned by another
object of the same batch (``metadata.ownerReferences``, e.g. spark-submit's driver Service and
ConfigMaps owned by the driver Pod) follows its owner directly, in the given order, whatever its
own rank: its owner must exist first (the reference carries the owner's uid), and the group
stays together as its creator wrote it.

The ranks follow Helm's install order (helm pkg/release/util/kind_sorter.go, ``InstallOrder``),
with workloads before Services as a Spark submission writes them. No I/O, no version facts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

__all__ = ["RANKS", "order_objects", "rank_of"]

T = TypeVar("T")

_GROUPS: tuple[tuple[str, ...], ...] = (
    ("Namespace",),
    ("CustomResourceDefinition",),
    (
        "PriorityClass",
        "StorageClass",
        "RuntimeClass",
        "IngressClass",
        "ResourceQuota",
        "LimitRange",
        "PodSecurityPolicy",
    ),
    ("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"),
    ("Secret", "ConfigMap", "PersistentVolume", "PersistentVolumeClaim"),
    (
        "Pod",
        "ReplicationController",
        "ReplicaSet",
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "Job",
        "CronJob",
    ),
    ("Service", "Endpoints", "EndpointSlice"),
    ("Ingress", "NetworkPolicy", "HorizontalPodAutoscaler", "PodDisruptionBudget"),
    ("APIService", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"),
)

RANKS: Mapping[str, int] = {kind: rank for rank, kinds in enumerate(_GROUPS) for kind in kinds}
_LAST = len(_GROUPS)  # custom resources and kinds not listed


def rank_of(kind: str) -> int:
    return RANKS.get(kind, _LAST)


def _key(obj: Mapping[str, Any]) -> tuple[str, str, str]:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    assert isinstance(meta, dict)
    return (str(obj.get("kind", "")), str(meta.get("namespace") or ""), str(meta.get("name") or ""))


def _owner_index(
    objects: Sequence[Mapping[str, Any]],
) -> dict[int, int]:
    """Object index -> index of its owner in the batch (same namespace, kind and name)."""
    by_key = {_key(o): i for i, o in enumerate(objects)}
    owners: dict[int, int] = {}
    for i, obj in enumerate(objects):
        meta = obj.get("metadata")
        refs = meta.get("ownerReferences") if isinstance(meta, dict) else None
        for ref in refs or []:
            if not isinstance(ref, dict):
                continue
            ns = _key(obj)[1]
            for owner_ns in (ns, ""):  # namespaced owner, or a cluster-scoped one
                j = by_key.get((str(ref.get("kind", "")), owner_ns, str(ref.get("name", ""))))
                if j is not None and j != i:
                    owners[i] = j
                    break
            if i in owners:
                break
    return owners


def order_objects(objects: Sequence[T], bodies: Sequence[Mapping[str, Any]]) -> list[T]:
    """``objects`` in write order; ``bodies[i]`` is the Kubernetes object of ``objects[i]``."""
    owners = _owner_index(bodies)
    children: dict[int, list[int]] = {}
    for child, owner in owners.items():
        children.setdefault(owner, []).append(child)
    roots = [i for i in range(len(bodies)) if i not in owners or _cyclic(i, owners)]
    roots.sort(key=lambda i: rank_of(str(bodies[i].get("kind", ""))))
    out: list[int] = []
    seen: set[int] = set()

    def visit(i: int) -> None:
        if i in seen:
            return
        seen.add(i)
        out.append(i)
        for child in sorted(children.get(i, ())):
            visit(child)

    for i in roots:
        visit(i)
    for i in range(len(bodies)):  # anything left (owners in a cycle) keeps its given order
        visit(i)
    return [objects[i] for i in out]


def _cyclic(i: int, owners: Mapping[int, int]) -> bool:
    seen = {i}
    j = owners.get(i)
    while j is not None:
        if j in seen:
            return True
        seen.add(j)
        j = owners.get(j)
    return False
