"""Batch schedulers as kubeflow's ``internal/scheduler`` does them: Volcano and YuniKorn.

The kube-scheduler coscheduling plugin (``internal/scheduler/kubescheduler``, for the scheduler
names the operator is given as kube-schedulers): PodGroup ``<app>-pg``
(``scheduling.x-k8s.io/v1alpha1``, ``minMember: 1``, the same minimum resources) and its
``scheduling.x-k8s.io/pod-group`` label on the application, which its pods inherit.

YuniKorn (``internal/scheduler/yunikorn``) needs no object: the driver and executors get
``schedulerName: yunikorn``, the ``queue`` label of ``batchSchedulerOptions.queue``, and the
task-group annotations (``spark-driver`` with min member 1, ``spark-executor`` with the initial
executor count, each with its pod's request computed as kubeflow's ``resourceusage`` does, Java
byte strings and memory overhead factors included).

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

import json
import re
from dataclasses import dataclass
from typing import Any

from kubespark import records
from kubespark.apisurface import ApiSurface
from kubespark.apisurface.model import GroupVersionKind, Resource
from kubespark.apisurface.quantity import Quantity, format_quantity, parse_quantity
from kubespark.compat.model import (
    ConflictAction,
    Note,
    NoteCode,
    ObjectRef,
    OnConflict,
    PlannedWrite,
    WriteMethod,
)
from kubespark.errors import InputError
from kubespark.kube.client import KubeClient
from kubespark.kube.errors import APIError, Conflict, NotFound
from kubespark.kube.requests import JSON, KubeRequest
from kubespark.spark.model import SparkApplication
from kubespark.submit.errors import SubmissionFailed

__all__ = [
    "GROUP_ANNOTATION",
    "POD_GROUP_LABEL",
    "QUEUE_LABEL",
    "TASK_GROUPS",
    "TASK_GROUP_NAME",
    "VOLCANO",
    "YUNIKORN",
    "BatchPlan",
    "delete_pod_group",
    "ensure_served",
    "min_resources",
    "plan_batch",
    "pod_group_write",
    "write_pod_group",
]

VOLCANO = "volcano"
YUNIKORN = "yunikorn"
TASK_GROUP_NAME = "yunikorn.apache.org/task-group-name"
TASK_GROUPS = "yunikorn.apache.org/task-groups"
QUEUE_LABEL = "queue"
GROUP_ANNOTATION = "scheduling.k8s.io/group-name"  # volcano.sh/apis KubeGroupNameAnnotationKey
POD_GROUP_API = "/apis/scheduling.volcano.sh/v1beta1"
COSCHEDULING_API = "scheduling.x-k8s.io/v1alpha1"
POD_GROUP_LABEL = "scheduling.x-k8s.io/pod-group"  # scheduler-plugins PodGroupLabel
Obj = dict[str, Any]


@dataclass(frozen=True, slots=True)
class BatchPlan:
    """The application as submitted (group annotations added) and its PodGroup, if any."""

    app: SparkApplication
    pod_group: Obj | None = None


def plan_batch(app: SparkApplication, kube_schedulers: tuple[str, ...] = ()) -> BatchPlan:
    """kubeflow's ``Schedule`` for ``app``: labels, annotations and the PodGroup body (pure).

    ``kube_schedulers`` are the scheduler names that are kube-schedulers with the coscheduling
    plugin (kubeflow's ``--kube-scheduler-names``).
    """
    spec = app.spec
    if spec.batch_scheduler and spec.batch_scheduler in kube_schedulers:
        return _coscheduling(app)
    if spec.batch_scheduler == YUNIKORN:
        return BatchPlan(_yunikorn(app))
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
    executor = records.replace(
        spec.executor, annotations={**spec.executor.annotations, GROUP_ANNOTATION: name}
    )
    update: dict[str, Any] = {"executor": executor}
    if not client_mode:
        update["driver"] = records.replace(
            spec.driver, annotations={**spec.driver.annotations, GROUP_ANNOTATION: name}
        )
    return BatchPlan(records.replace(app, spec=records.replace(spec, **update)), group)


def _coscheduling(app: SparkApplication) -> BatchPlan:
    """kubeflow's kube-scheduler ``Schedule``: the plugin's PodGroup and its label."""
    name = f"{app.metadata.name}-pg"
    group: Obj = {
        "apiVersion": COSCHEDULING_API,
        "kind": "PodGroup",
        "metadata": {"name": name, "namespace": app.metadata.namespace},
        "spec": {"minMember": 1, "minResources": min_resources(app)},
    }
    if app.metadata.uid:
        group["metadata"]["ownerReferences"] = [_owner(app)]
    labels = {**app.metadata.labels, POD_GROUP_LABEL: name}
    metadata = records.replace(app.metadata, labels=labels)
    return BatchPlan(records.replace(app, metadata=metadata), group)


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
    """Refuse (permanently) when the server does not serve the plan's PodGroup."""
    if plan.pod_group is None:
        return
    api_version = str(plan.pod_group["apiVersion"])
    try:
        listing = await client.send(KubeRequest("GET", f"/apis/{api_version}"))
    except NotFound:
        listing = {}
    plurals = {r.get("name") for r in (listing or {}).get("resources") or []}
    if "podgroups" not in plurals:
        group = api_version.split("/")[0]
        who = "volcano" if api_version == POD_GROUP_API[len("/apis/") :] else "kube-scheduler"
        # An InputError cause: ``kubespark submit`` exits 2; the operator fails the application.
        problem = InputError(
            f"batch scheduler {who}: CRD PodGroup does not exist "
            f"(podgroups.{group}/{api_version.split('/')[1]} is not served)",
            fix=f"install the scheduler's CRDs ({group}) in the cluster, "
            "or remove spec.batchScheduler",
            where="spec.batchScheduler",
        )
        raise SubmissionFailed(problem.message, cause=problem, where=problem.where)


def pod_group_write(
    plan: BatchPlan, surface: ApiSurface, owner: Obj | None
) -> tuple[PlannedWrite, ...]:
    """The PodGroup as one planned write (none without one), for ``--dry-run`` to list.

    The compat planner knows built-in kinds only, and the scheduler's CRD is the cluster's: the
    write is planned here, as :func:`write_pod_group` sends it (a POST; when it exists, its
    ``minMember`` reset to 1), with a note when ``surface`` does not show the CRD served.
    """
    group = plan.pod_group
    if group is None:
        return ()
    body = {**group, "metadata": dict(group["metadata"])}
    if owner is not None and "ownerReferences" not in body["metadata"]:
        body["metadata"]["ownerReferences"] = [owner]
    api_version = str(body["apiVersion"])
    group_name, version = api_version.split("/")
    namespace = str(body["metadata"]["namespace"])
    path = f"/apis/{api_version}/namespaces/{namespace}/podgroups"
    ref = ObjectRef(api_version, "PodGroup", str(body["metadata"]["name"]), namespace)
    served = surface.resource(api_version, "PodGroup")
    resource = served or Resource(
        GroupVersionKind(group_name, version, "PodGroup"),
        "podgroups",
        "podgroup",
        True,
        frozenset({"create", "get", "patch"}),
    )
    notes: tuple[Note, ...] = ()
    if served is None:
        notes = (
            Note(
                NoteCode.CUSTOM_RESOURCE,
                ref,
                "",
                f"PodGroup is the batch scheduler's custom resource (podgroups.{group_name}): "
                "kubespark submit refuses (exit 2) when the server does not serve it",
            ),
        )
    patch = KubeRequest(
        "PATCH",
        f"{path}/{ref.name}",
        (),
        "application/merge-patch+json",
        {"spec": {"minMember": 1}},
    )
    return (
        PlannedWrite(
            ref,
            resource,
            WriteMethod.CREATE,
            KubeRequest("POST", path, (), JSON, body),
            OnConflict(ConflictAction.MERGE_PATCH, then=patch),
            notes,
        ),
    )


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
    api = f"/apis/{body['apiVersion']}"
    path = f"{api}/namespaces/{body['metadata']['namespace']}/podgroups"
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
    totals: dict[str, Quantity] = {}
    pods = [(_pod_request(app, "driver"), 1)] if driver else []
    pods.append((_pod_request(app, "executor"), _initial_executors(app)))
    for request, count in pods:
        for name, quantity in request.items():
            have = totals.get(name)
            total = quantity.value * count + (have.value if have else 0)
            totals[name] = Quantity(total, have.binary if have else quantity.binary)
    return {name: format_quantity(q.value, q.binary) for name, q in sorted(totals.items())}


def _pod_request(app: SparkApplication, role: str) -> dict[str, Quantity]:
    pod = app.spec.driver if role == "driver" else app.spec.executor
    out: dict[str, Quantity] = {}
    cpu_texts = [str(pod.cores) if pod.cores is not None else None, pod.core_limit]
    if role == "executor":  # the executor's coreRequest comes first
        cpu_texts.insert(0, pod.core_request)
    for text in cpu_texts:
        parsed = parse_quantity(text)
        if parsed is not None and "cpu" not in out:
            out["cpu"] = parsed
    memory = parse_quantity(pod.memory)
    overhead = parse_quantity(pod.memory_overhead)
    if memory is not None:
        out["memory"] = Quantity(memory.value + (overhead.value if overhead else 0), memory.binary)
    return out


def _initial_executors(app: SparkApplication) -> int:
    spec = app.spec
    allocation = spec.dynamic_allocation
    if allocation is not None and allocation.enabled:
        counts = (spec.executor.instances, allocation.initial_executors, allocation.min_executors)
        return max([0, *(c for c in counts if c is not None)])
    return spec.executor.instances if spec.executor.instances is not None else 2


# ---- YuniKorn ----------------------------------------------------------------------------------

# pkg/common/spark.go: DefaultJVMMemoryOverheadFactor, DefaultNonJVMMemoryOverheadFactor,
# MinMemoryOverhead (384 Mi).
_JVM_OVERHEAD, _NON_JVM_OVERHEAD, _MIN_OVERHEAD = 0.1, 0.4, 384 * (1 << 20)
_JAVA_BYTES = re.compile(r"^([0-9]+)([a-z]+)?$")
_JAVA_SUFFIX = {"b": 0, "k": 10, "kb": 10, "m": 20, "mb": 20, "g": 30, "gb": 30}
_JAVA_SUFFIX |= {"t": 40, "tb": 40, "p": 50, "pb": 50}


def _yunikorn(app: SparkApplication) -> SparkApplication:
    """kubeflow's YuniKorn ``Schedule``: scheduler names, queue labels, task-group annotations."""
    spec = app.spec
    groups = [_task_group(app, "driver", 1)]
    executors = _initial_executors(app)
    if executors > 0:
        groups.append(_task_group(app, "executor", executors))
    queue = spec.batch_scheduler_options.queue if spec.batch_scheduler_options else None
    if queue:
        # Go shares a non-nil labels map with the driver's task group, so the queue shows there.
        for group, pod in zip(groups, (spec.driver, spec.executor), strict=False):
            if pod.labels:
                group["labels"] = dict(sorted({**pod.labels, QUEUE_LABEL: queue}.items()))
    text = json.dumps(groups, separators=(",", ":"))
    driver = _yunikorn_pod(spec.driver, queue, {TASK_GROUP_NAME: "spark-driver", TASK_GROUPS: text})
    executor = _yunikorn_pod(spec.executor, queue, {TASK_GROUP_NAME: "spark-executor"})
    return records.replace(app, spec=records.replace(spec, driver=driver, executor=executor))


def _yunikorn_pod(pod: Any, queue: str | None, annotations: dict[str, str]) -> Any:
    update: dict[str, Any] = {
        "scheduler_name": YUNIKORN,
        "annotations": {**pod.annotations, **annotations},
    }
    if queue:
        update["labels"] = {**pod.labels, QUEUE_LABEL: queue}
    return records.replace(pod, **update)


def _task_group(app: SparkApplication, role: str, members: int) -> Obj:
    spec = app.spec
    pod = spec.driver if role == "driver" else spec.executor
    group: Obj = {
        "name": f"spark-{role}",
        "minMember": members,
        "minResource": {"cpu": _yunikorn_cpu(pod, role), "memory": _yunikorn_memory(app, role)},
    }
    selector = {**spec.node_selector, **pod.node_selector}
    if selector:
        group["nodeSelector"] = dict(sorted(selector.items()))
    if pod.tolerations:
        group["tolerations"] = pod.tolerations
    if pod.affinity:
        group["affinity"] = pod.affinity
    if pod.labels:
        group["labels"] = dict(sorted(pod.labels.items()))
    return group


def _yunikorn_cpu(pod: Any, role: str) -> str:
    if pod.core_request:
        if parse_quantity(pod.core_request) is None:
            raise InputError(
                f"coreRequest {pod.core_request!r} is not a Kubernetes quantity",
                where=f"spec.{role}.coreRequest",
                fix='write a quantity such as "500m" or "2"',
            )
        return str(pod.core_request)
    return str(pod.cores) if pod.cores is not None else "1"


def _java_bytes(text: str, where: str) -> int:
    match = _JAVA_BYTES.match(text.lower())
    if match is None or (match.group(2) or "b") not in _JAVA_SUFFIX:
        raise InputError(
            f"unable to parse byte string: {text}",
            where=where,
            fix='write a Spark memory size such as "512m" or "2g"',
        )
    return int(match.group(1)) << _JAVA_SUFFIX[match.group(2) or "b"]


def _yunikorn_memory(app: SparkApplication, role: str) -> str:
    spec = app.spec
    pod = spec.driver if role == "driver" else spec.executor
    where = f"spec.{role}"
    factor = (
        float(spec.memory_overhead_factor)
        if spec.memory_overhead_factor
        else (_JVM_OVERHEAD if spec.type in ("Java", "Scala") else _NON_JVM_OVERHEAD)
    )
    memory = _java_bytes(pod.memory, f"{where}.memory") if pod.memory else 0
    overhead = (
        _java_bytes(pod.memory_overhead, f"{where}.memoryOverhead")
        if pod.memory_overhead
        else int(max(memory * factor, _MIN_OVERHEAD))
    )
    total = memory + overhead
    if role == "executor":
        total += _executor_extra_bytes(app)
    return f"{total // 1024 // 1024}Mi"


def _executor_extra_bytes(app: SparkApplication) -> int:
    """PySpark worker memory and off-heap memory, as kubeflow adds them to each executor."""
    conf = app.spec.spark_conf
    extra = 0
    pyspark = conf.get("spark.executor.pyspark.memory")
    if app.spec.type == "Python" and pyspark:
        extra += _java_bytes(pyspark + "m" if pyspark.isdigit() else pyspark, "spec.sparkConf")
    off_heap = conf.get("spark.memory.offHeap.size")
    if conf.get("spark.memory.offHeap.enabled", "false") != "false" and off_heap:
        extra += _java_bytes(off_heap, "spec.sparkConf")
    return extra
