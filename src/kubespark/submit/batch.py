"""Gang scheduling with Volcano, as kubeflow's ``internal/scheduler/volcano`` does it.

Owns, for an application with ``batchScheduler: volcano``: the PodGroup ``spark-<app>-pg``
(``scheduling.volcano.sh/v1beta1``) with kubeflow's ``minMember`` (1), ``minResources`` (the
driver's plus every initial executor's request, or ``batchSchedulerOptions.resources``), queue
and priority class; the ``scheduling.k8s.io/group-name`` annotation on the driver and the
executors (the executors alone in client mode); and refusing, before anything is written, when
the server does not serve Volcano's PodGroup (kubeflow's scheduler factory: "CRD PodGroup does
not exist"). Shared by the operator and ``kubespark submit`` through ``submit_application``.

Resource sums follow kubeflow's ``pkg/util/sparkapplication.go`` (``GetDriverRequestResource``,
``GetExecutorRequestResource``, ``GetInitialExecutorNumber``) with Kubernetes quantity syntax:
a value that is no quantity (Spark's ``1g``) is left out, as ``resource.ParseQuantity`` fails
on it there. It must not build pods or talk to anything but the PodGroup endpoints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kubespark.errors import InputError
from kubespark.kube.client import KubeClient
from kubespark.kube.errors import APIError, Conflict, NotFound
from kubespark.kube.requests import JSON, KubeRequest
from kubespark.spark.model import SparkApplication
from kubespark.submit.errors import SubmissionFailed

__all__ = [
    "GROUP_ANNOTATION",
    "VOLCANO",
    "BatchPlan",
    "delete_pod_group",
    "ensure_served",
    "min_resources",
    "plan_batch",
    "write_pod_group",
]

VOLCANO = "volcano"
GROUP_ANNOTATION = "scheduling.k8s.io/group-name"  # volcano.sh/apis KubeGroupNameAnnotationKey
POD_GROUP_API = "/apis/scheduling.volcano.sh/v1beta1"
Obj = dict[str, Any]


@dataclass(frozen=True, slots=True)
class BatchPlan:
    """The application as submitted (group annotations added) and its PodGroup, if any."""

    app: SparkApplication
    pod_group: Obj | None = None


def plan_batch(app: SparkApplication) -> BatchPlan:
    """kubeflow's ``Schedule`` for ``app``: annotations and the PodGroup body (pure)."""
    spec = app.spec
    if spec.batch_scheduler != VOLCANO:
        return BatchPlan(app)
    name = f"spark-{app.metadata.name}-pg"
    client_mode = spec.mode == "client"
    if not client_mode and GROUP_ANNOTATION in spec.driver.annotations:
        return BatchPlan(app)  # the user grouped the pods already: kubeflow leaves them
    options = spec.batch_scheduler_options
    resources: dict[str, str] = (
        {k: str(v) for k, v in options.resources.items()}
        if options and options.resources
        else min_resources(app, driver=not client_mode)
    )
    group: Obj = {
        "apiVersion": "scheduling.volcano.sh/v1beta1",
        "kind": "PodGroup",
        "metadata": {"name": name, "namespace": app.metadata.namespace},
        "spec": {"minMember": 1, "minResources": resources},
    }
    if options and options.queue:
        group["spec"]["queue"] = options.queue
    if options and options.priority_class_name:
        group["spec"]["priorityClassName"] = options.priority_class_name
    if app.metadata.uid:
        group["metadata"]["ownerReferences"] = [_owner(app)]
    executor = spec.executor.model_copy(
        update={"annotations": {**spec.executor.annotations, GROUP_ANNOTATION: name}}
    )
    update: dict[str, Any] = {"executor": executor}
    if not client_mode:
        update["driver"] = spec.driver.model_copy(
            update={"annotations": {**spec.driver.annotations, GROUP_ANNOTATION: name}}
        )
    return BatchPlan(app.model_copy(update={"spec": spec.model_copy(update=update)}), group)


def _owner(app: SparkApplication) -> Obj:
    return {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": "SparkApplication",
        "name": app.metadata.name,
        "uid": app.metadata.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


async def ensure_served(client: KubeClient, plan: BatchPlan) -> None:
    """Refuse (permanently) when the server does not serve Volcano's PodGroup."""
    if plan.pod_group is None:
        return
    try:
        listing = await client.send(KubeRequest("GET", POD_GROUP_API))
    except NotFound:
        listing = {}
    plurals = {r.get("name") for r in (listing or {}).get("resources") or []}
    if "podgroups" not in plurals:
        # An InputError cause: ``kubespark submit`` exits 2; the operator fails the application.
        problem = InputError(
            "batch scheduler volcano: CRD PodGroup does not exist "
            "(podgroups.scheduling.volcano.sh/v1beta1 is not served)",
            fix="install Volcano (its CRDs) in the cluster, or remove spec.batchScheduler",
            where="spec.batchScheduler",
        )
        raise SubmissionFailed(problem.message, cause=problem, where=problem.where)


async def write_pod_group(client: KubeClient, plan: BatchPlan, owner: Obj | None) -> None:
    """Create the PodGroup (kept when it exists, its ``minMember`` put back to 1 as kubeflow).

    ``owner`` (the driver pod, for ``kubespark submit``) owns it when no SparkApplication does.
    """
    group = plan.pod_group
    if group is None:
        return
    body = {**group, "metadata": dict(group["metadata"])}
    if owner is not None and "ownerReferences" not in body["metadata"]:
        body["metadata"]["ownerReferences"] = [owner]
    path = f"{POD_GROUP_API}/namespaces/{body['metadata']['namespace']}/podgroups"
    try:
        await client.send(KubeRequest("POST", path, (), JSON, body))
    except Conflict:
        await _keep_min_member(client, f"{path}/{body['metadata']['name']}")
    except APIError as err:
        raise SubmissionFailed.from_api_error(err, what="creating the Volcano PodGroup") from err


async def _keep_min_member(client: KubeClient, path: str) -> None:
    live = await client.send(KubeRequest("GET", path))
    if (live.get("spec") or {}).get("minMember") != 1:
        patch = {"spec": {"minMember": 1}}
        await client.send(KubeRequest("PATCH", path, (), "application/merge-patch+json", patch))


async def delete_pod_group(client: KubeClient, namespace: str, app_name: str) -> None:
    """kubeflow's ``Cleanup`` once the application terminates (gone already is fine)."""
    path = f"{POD_GROUP_API}/namespaces/{namespace}/podgroups/spark-{app_name}-pg"
    try:
        await client.send(KubeRequest("DELETE", path))
    except NotFound:
        return


# ---- kubeflow's resource sums ------------------------------------------------------------------


def min_resources(app: SparkApplication, *, driver: bool = True) -> dict[str, str]:
    """The driver's request (cluster mode) plus every initial executor's, as quantities."""
    totals: dict[str, tuple[Decimal, bool]] = {}
    pods = [(_pod_request(app, "driver"), 1)] if driver else []
    pods.append((_pod_request(app, "executor"), _initial_executors(app)))
    for request, count in pods:
        for name, (value, binary) in request.items():
            have = totals.get(name)
            total = value * count + (have[0] if have else 0)
            totals[name] = (total, have[1] if have else binary)
    return {name: _format(value, binary) for name, (value, binary) in sorted(totals.items())}


def _pod_request(app: SparkApplication, role: str) -> dict[str, tuple[Decimal, bool]]:
    pod = app.spec.driver if role == "driver" else app.spec.executor
    out: dict[str, tuple[Decimal, bool]] = {}
    cpu_texts = [str(pod.cores) if pod.cores is not None else None, pod.core_limit]
    if role == "executor":  # the executor's coreRequest comes first
        cpu_texts.insert(0, pod.core_request)
    for text in cpu_texts:
        parsed = _quantity(text)
        if parsed is not None and "cpu" not in out:
            out["cpu"] = parsed
    memory = _quantity(pod.memory)
    overhead = _quantity(pod.memory_overhead)
    if memory is not None:
        out["memory"] = (memory[0] + (overhead[0] if overhead else 0), memory[1])
    return out


def _initial_executors(app: SparkApplication) -> int:
    spec = app.spec
    allocation = spec.dynamic_allocation
    if allocation is not None and allocation.enabled:
        counts = (spec.executor.instances, allocation.initial_executors, allocation.min_executors)
        return max([0, *(c for c in counts if c is not None)])
    return spec.executor.instances if spec.executor.instances is not None else 2


_QUANTITY = re.compile(r"^([+-]?[0-9.]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$")
_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}


def _quantity(text: str | None) -> tuple[Decimal, bool] | None:
    """A Kubernetes quantity's value and whether its suffix is binary; None if it is none."""
    match = _QUANTITY.match(text or "")
    if match is None or match.group(1).count(".") > 1:
        return None
    number, suffix = Decimal(match.group(1)), match.group(2) or ""
    if suffix in _BINARY:
        return number * (Decimal(1024) ** _BINARY[suffix]), True
    return number * (Decimal(10) ** _DECIMAL[suffix]), False


def _format(value: Decimal, binary: bool) -> str:
    """``resource.Quantity.String()``: the largest suffix that keeps the number whole."""
    if value == 0:
        return "0"
    if binary and value == value.to_integral_value():
        for suffix, power in sorted(_BINARY.items(), key=lambda s: -s[1]):
            unit = Decimal(1024) ** power
            if value % unit == 0:
                return f"{int(value // unit)}{suffix}"
    for suffix, exponent in sorted(_DECIMAL.items(), key=lambda s: -s[1]):
        scaled = value / (Decimal(10) ** exponent)
        if scaled == scaled.to_integral_value():
            return f"{int(scaled)}{suffix}"
    return str(value)
