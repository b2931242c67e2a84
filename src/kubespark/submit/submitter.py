"""``submit_application``: build a SparkApplication's resources and write them to one server.

Owns one submission from start to end, shared by the operator and ``kubespark submit``:

1. the driver builder makes what spark-submit of the application's own Spark version creates,
   named deterministically from (namespace, name, submission id, attempt);
2. each object is planned through the compat planner for the server's capabilities, with the
   write method that Spark version's spark-submit uses (the knowledge base's ``writes``: POST for
   the pod, server-side apply for the Service and ConfigMaps since 3.5), which the planner turns
   into what this server accepts and explains in notes;
3. the driver pod is created first; a 409 AlreadyExists is *adopted* when the existing pod
   carries this submission's id (a retry after a crash or a lost answer), and is a
   :class:`SubmissionConflict` otherwise; then the pod's dependents are written owned by the pod
   (its uid, as spark-submit does) so garbage collection removes them with it; then the web UI
   Service and Ingresses;
4. a permanent failure part-way deletes what the attempt wrote and raises
   :class:`SubmissionFailed` with the typed API error and the doctor's diagnosis; a temporary
   one (overload, no connection) leaves them for the retry of the same attempt to adopt.

It holds no version facts: those are the builder's, the planner's and the knowledge base's.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubespark import records
from kubespark.apisurface import ApiSurface
from kubespark.compat import (
    Intent,
    Note,
    ObjectRef,
    Plan,
    PlanError,
    PlanExecutionFailed,
    PlannedWrite,
    execute_plan,
    live_capabilities,
    notes_for_people,
    plan_writes,
)
from kubespark.driver import BuildOptions, DriverResources, build_driver_resources
from kubespark.driver.kubeflow import LABEL_SUBMISSION_ID
from kubespark.errors import InputError
from kubespark.knowledge.write_methods import write_methods
from kubespark.kube.client import KubeClient
from kubespark.kube.errors import APIError, Conflict, NotFound, TemporaryAPIError
from kubespark.kube.requests import JSON, KubeRequest, ResourcePath
from kubespark.spark.executor_fidelity import executor_fields_lost
from kubespark.spark.model import SparkApplication
from kubespark.submit.batch import ensure_served, plan_batch, pod_group_write, write_pod_group
from kubespark.submit.errors import SubmissionConflict, SubmissionFailed
from kubespark.versions import Version

__all__ = [
    "FIELD_MANAGER",
    "Submission",
    "SubmissionPlan",
    "plan_submission",
    "server_capabilities",
    "submit_application",
]

FIELD_MANAGER = "kubespark"
Obj = dict[str, Any]


@dataclass(frozen=True)
class SubmissionPlan:
    """The planned writes of one submission, before any is sent (``--dry-run`` prints this)."""

    resources: DriverResources
    pod: PlannedWrite
    dependents: tuple[PlannedWrite, ...]
    extras: tuple[PlannedWrite, ...]  # the web UI Service and Ingresses
    # The batch scheduler's PodGroup: right after the driver pod that owns it (kubespark
    # submit), or first when a SparkApplication owns it (the operator).
    batch: tuple[PlannedWrite, ...] = ()

    @property
    def writes(self) -> tuple[PlannedWrite, ...]:
        owned_by_app = any(
            r.get("kind") == "SparkApplication"
            for w in self.batch
            for r in w.body["metadata"].get("ownerReferences") or []
        )
        if owned_by_app:
            return (*self.batch, self.pod, *self.dependents, *self.extras)
        return (self.pod, *self.batch, *self.dependents, *self.extras)

    @property
    def notes(self) -> tuple[Note, ...]:
        return tuple(n for w in self.writes for n in w.notes)

    def render(self) -> str:
        lines = []
        for n, write in enumerate(self.writes, 1):
            lines.append(f"{n}. {write.describe()}")
            lines.extend(f"   - {note.message}" for note in write.notes)
        return "\n".join(lines)


@dataclass(frozen=True)
class Submission:
    """What one submission wrote (or adopted) and every compat note about it."""

    namespace: str
    app_name: str
    submission_id: str
    attempt: int
    spark_version: Version
    spark_application_id: str  # spark.app.id, the spark-app-selector label
    driver_pod: str
    driver_uid: str
    written: tuple[ObjectRef, ...]
    adopted: tuple[ObjectRef, ...]
    notes: tuple[Note, ...]
    ui_service: str = ""
    ui_port: int = 0
    ui_address: str = ""
    ui_ingress: str = ""
    messages: tuple[str, ...] = field(default=())
    # The driver pod as the server answered the create (or as read when adopted): the operator
    # caches it, so it follows the driver from its watch without reading the pod back.
    driver_body: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def note_lines(self) -> tuple[str, ...]:
        """Every compat note and adoption, as one sentence each, without repeats."""
        return (*(n.message for n in notes_for_people(self.notes)), *self.messages)


# ---- capabilities, cached per client -----------------------------------------------------------

# One discovery per client: keyed by the client object itself (weakly, so a closed client's entry
# goes with it), holding the task so concurrent first callers share one discovery.
_CAPABILITIES: weakref.WeakKeyDictionary[KubeClient, asyncio.Task[ApiSurface]] = (
    weakref.WeakKeyDictionary()
)


async def server_capabilities(client: KubeClient, *, openapi: bool = False) -> ApiSurface:
    """The API surface of ``client``'s server, discovered once per client.

    ``openapi=False`` reads discovery and ``/version`` and takes types from the bundled surface
    of that version (what the planner needs for built-in kinds); True also reads /openapi/v2.
    """
    task = _CAPABILITIES.get(client)
    if task is None or (task.done() and task.exception() is not None):
        task = asyncio.ensure_future(live_capabilities(client, openapi=openapi))
        _CAPABILITIES[client] = task
    return await asyncio.shield(task)


# ---- planning -----------------------------------------------------------------------------------


def _one(
    objects: Sequence[Obj], surface: ApiSurface, intent: Intent, namespace: str
) -> tuple[PlannedWrite, ...]:
    if not objects:
        return ()
    plan = plan_writes(objects, surface, intent, namespace=namespace, field_manager=FIELD_MANAGER)
    return plan.writes


def _plan_pod(resources: DriverResources, surface: ApiSurface, namespace: str) -> PlannedWrite:
    return _one([resources.pod], surface, Intent.CREATE, namespace)[0]


def _plan_owned(
    resources: DriverResources,
    surface: ApiSurface,
    namespace: str,
    owner_uid: str,
    app_uid: str | None,
) -> tuple[tuple[PlannedWrite, ...], tuple[PlannedWrite, ...]]:
    """The pod's dependents (owned by it) and the web UI objects, planned once its uid is known."""
    methods = write_methods(resources.spark_version)
    dependents: list[PlannedWrite] = []
    for obj in resources.owned_by(owner_uid).dependents:
        intent = Intent.APPLY if methods.get(obj["kind"]) == "apply" else Intent.CREATE
        dependents.extend(_one([obj], surface, intent, namespace))
    extras_bodies = [
        _owned_extra(o, resources, owner_uid, app_uid) for o in resources.operator_resources
    ]
    return tuple(dependents), _one(extras_bodies, surface, Intent.CREATE, namespace)


def _owned_extra(obj: Obj, resources: DriverResources, pod_uid: str, app_uid: str | None) -> Obj:
    """UI objects are the SparkApplication's; without one (a bare submit) the driver pod's."""
    if app_uid:
        return obj
    out = copy.deepcopy(obj)
    out["metadata"]["ownerReferences"] = [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "name": resources.pod["metadata"]["name"],
            "uid": pod_uid,
            "controller": True,
        }
    ]
    return out


def plan_submission(
    app: SparkApplication,
    *,
    surface: ApiSurface,
    submission_id: str,
    attempt: int = 0,
    options: BuildOptions | None = None,
    kube_schedulers: tuple[str, ...] = (),
) -> SubmissionPlan:
    """Every write of the submission, planned for ``surface`` (the pod's uid left empty).

    The batch scheduler's changes are in (group annotations, queue labels, task groups) and
    its PodGroup is one of the writes, as :func:`submit_application` sends them.
    """
    batch = plan_batch(app, kube_schedulers)
    app = batch.app
    resources = build_driver_resources(
        app, submission_id=submission_id, attempt=attempt, options=options
    )
    namespace = app.metadata.namespace
    pod = _plan_pod(resources, surface, namespace)
    dependents, extras = _plan_owned(resources, surface, namespace, "", app.metadata.uid)
    owner = (
        None if app.metadata.uid else _pod_owner({"metadata": {**pod.body["metadata"], "uid": ""}})
    )
    return SubmissionPlan(
        resources, pod, dependents, extras, pod_group_write(batch, surface, owner)
    )


# ---- executing ----------------------------------------------------------------------------------


@dataclass
class _Progress:
    written: list[ObjectRef] = field(default_factory=list)
    adopted: list[ObjectRef] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    bodies: dict[ObjectRef, Obj] = field(default_factory=dict)
    paths: dict[ObjectRef, str] = field(default_factory=dict)

    def record(self, write: PlannedWrite, body: Obj, adopted: bool) -> None:
        ref = write.object
        (self.adopted if adopted else self.written).append(ref)
        self.bodies[ref] = body
        self.paths[ref] = _item(write)
        if adopted:
            self.messages.append(f"adopted the existing {ref} of this submission")


def _labels(obj: Mapping[str, Any]) -> Mapping[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}


def _owner_uids(obj: Mapping[str, Any]) -> set[str]:
    refs = (obj.get("metadata") or {}).get("ownerReferences") or []
    return {str(r.get("uid")) for r in refs if isinstance(r, dict) and r.get("uid")}


def _with_owner_uid(write: PlannedWrite, uid: str) -> PlannedWrite:
    """The write with ``uid`` in every owner reference planned without one (the driver pod's)."""

    def filled(request: KubeRequest | None) -> KubeRequest | None:
        body = request.body if request is not None else None
        refs = (
            (body.get("metadata") or {}).get("ownerReferences") if isinstance(body, dict) else None
        )
        if request is None or not refs or all(r.get("uid") for r in refs):
            return request
        new_body = dict(body)  # type: ignore[arg-type]
        meta = dict(new_body["metadata"])
        meta["ownerReferences"] = [r if r.get("uid") else {**r, "uid": uid} for r in refs]
        new_body["metadata"] = meta
        return dataclasses.replace(request, body=new_body)

    request = filled(write.request)
    assert request is not None
    on_conflict = dataclasses.replace(write.on_conflict, then=filled(write.on_conflict.then))
    return dataclasses.replace(write, request=request, on_conflict=on_conflict)


def _item(write: PlannedWrite) -> str:
    return ResourcePath(write.resource).item(write.object.name, write.object.namespace)


async def _get(client: KubeClient, write: PlannedWrite) -> Obj:
    body = await client.send(KubeRequest("GET", _item(write)))
    return body if isinstance(body, dict) else {}


async def _post(client: KubeClient, write: PlannedWrite) -> Obj | None:
    """Send a create; None when the object already exists (the caller decides about it)."""
    try:
        body = await client.send(write.request)
    except Conflict as err:
        if not err.already_exists:
            raise
        return None
    return body if isinstance(body, dict) else {}


async def _create_pod(
    client: KubeClient, write: PlannedWrite, submission_id: str
) -> tuple[Obj, bool]:
    """POST the driver pod; adopt it when it exists with this submission's id."""
    created = await _post(client, write)
    if created is not None:
        return created, False
    live = await _get(client, write)
    theirs = _labels(live).get(LABEL_SUBMISSION_ID, "")
    if theirs != submission_id:
        raise SubmissionConflict(
            write.object,
            f"belongs to submission {theirs or '(none)'}, not {submission_id}",
            terminating=bool(live.get("metadata", {}).get("deletionTimestamp")),
            existing=live,
        )
    if live.get("metadata", {}).get("deletionTimestamp"):
        raise SubmissionConflict(write.object, "is being deleted", terminating=True, existing=live)
    return live, True


async def _create_owned(
    client: KubeClient, write: PlannedWrite, owner_uids: set[str]
) -> tuple[Obj, bool]:
    """POST an object owned by the pod (or the application); adopt or replace stale copies."""
    created = await _post(client, write)
    if created is not None:
        return created, False
    live = await _get(client, write)
    if _owner_uids(live) & owner_uids:
        return await _refreshed(client, write, live), True
    stale_owner = any(
        ref.get("kind") == "Pod"
        for ref in (live.get("metadata") or {}).get("ownerReferences") or []
    )
    if not stale_owner:
        raise SubmissionConflict(write.object, "is owned by something else", existing=live)
    # Left by an earlier pod of the same name (being garbage-collected): replace it.
    uid = str(live["metadata"].get("uid", ""))
    delete = KubeRequest(
        "DELETE",
        _item(write),
        (),
        JSON,
        {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": uid}},
    )
    with contextlib.suppress(NotFound, Conflict):
        await client.send(delete)
    return await client.send(write.request), False


async def _refreshed(client: KubeClient, write: PlannedWrite, live: Obj) -> Obj:
    """An adopted ConfigMap of the application with the data this attempt planned.

    The metrics ConfigMap is one per application, not per attempt: after a spec change the next
    attempt finds the old one and, as kubeflow's controller does, replaces its data.
    Deterministic per-attempt ConfigMaps (immutable since Spark 3.2) always match already.
    """
    body = write.request.body
    wanted = body.get("data") if isinstance(body, dict) else None
    if wanted is None or live.get("data") == wanted or live.get("immutable"):
        return live
    updated = await client.send(
        KubeRequest("PUT", _item(write), (), JSON, {**live, "data": wanted})
    )
    return updated if isinstance(updated, dict) else live


async def _apply(client: KubeClient, write: PlannedWrite, server: Version) -> Obj:
    written = await execute_plan(client, Plan(server, Intent.APPLY, (write,)))
    return written[0] if written else {}


async def _dependent(
    client: KubeClient, write: PlannedWrite, owners: set[str], server: Version
) -> tuple[Obj, bool]:
    if write.request.method == "POST" and write.on_conflict.action.value == "fail":
        return await _create_owned(client, write, owners)
    try:
        return await _apply(client, write, server), False
    except PlanExecutionFailed as failed:
        raise failed.cause from None


async def submit_application(
    client: KubeClient,
    app: SparkApplication,
    *,
    surface: ApiSurface,
    submission_id: str,
    attempt: int = 0,
    options: BuildOptions | None = None,
    kube_schedulers: tuple[str, ...] = (),
) -> Submission:
    """Write everything submitting ``app`` creates; see the module docstring for the rules.

    ``kube_schedulers``: scheduler names that get the coscheduling plugin's PodGroup.
    """
    namespace = app.metadata.namespace
    try:
        batch = plan_batch(app, kube_schedulers)
    except InputError as err:
        raise SubmissionFailed(err.message, cause=err, where=err.where) from err
    await ensure_served(client, batch)
    app = batch.app
    if app.metadata.uid:  # owned by the SparkApplication: written before its pods, as kubeflow
        await write_pod_group(client, batch, None)
    try:
        resources = build_driver_resources(
            app, submission_id=submission_id, attempt=attempt, options=options
        )
        first = _plan_pod(resources, surface, namespace)
        dependents, extras = _plan_owned(resources, surface, namespace, "", app.metadata.uid)
    except (PlanError, InputError) as err:
        raise SubmissionFailed(
            f"cannot submit {namespace}/{app.metadata.name}: {err.message}",
            cause=err,
            where=err.where,
        ) from err
    server = surface.server_version or surface.version
    progress = _Progress()
    try:
        pod, adopted = await _create_pod(client, first, submission_id)
        progress.record(first, pod, adopted)
        pod_uid = str(pod["metadata"]["uid"])
        if not app.metadata.uid:  # kubespark submit: the driver pod owns the PodGroup
            await write_pod_group(client, batch, _pod_owner(pod))
        dependents = tuple(_with_owner_uid(w, pod_uid) for w in dependents)
        extras = tuple(_with_owner_uid(w, pod_uid) for w in extras)
        owners = {pod_uid} | ({app.metadata.uid} if app.metadata.uid else set())
        await _write_all(client, dependents, owners, server, progress)
        await _write_all(client, extras, owners, server, progress)
    except SubmissionConflict as err:
        err.written = tuple(progress.written + progress.adopted)
        if progress.paths and not err.temporary:  # a dependent's name is taken: undo the pod too
            err.deleted = await delete_written(client, progress)
        raise
    except APIError as err:
        raise await _failed(
            client, err, progress, f"submitting {namespace}/{app.metadata.name}"
        ) from err
    ui = _ui_facts(extras, progress)
    return Submission(
        namespace=namespace,
        app_name=app.metadata.name,
        submission_id=submission_id,
        attempt=attempt,
        spark_version=resources.spark_version,
        spark_application_id=resources.ids.app_id,
        driver_pod=str(pod["metadata"]["name"]),
        driver_uid=pod_uid,
        written=tuple(progress.written),
        adopted=tuple(progress.adopted),
        notes=tuple(n for w in (first, *dependents, *extras) for n in w.notes),
        messages=(*progress.messages, *executor_notes(app, resources.spark_version)),
        driver_body=pod,
        **ui,
    )


def executor_notes(app: SparkApplication, spark: Version) -> tuple[str, ...]:
    """A compat note per field set in the application that Spark overwrites in executors."""
    spec = records.encode(app.spec)
    return tuple(
        f"{lost.message}; instead, {lost.fix}" for lost in executor_fields_lost(spec, spark)
    )


def _pod_owner(pod: Obj) -> Obj:
    meta = pod["metadata"]
    return {"apiVersion": "v1", "kind": "Pod", "name": meta["name"], "uid": meta["uid"]}


async def _write_all(
    client: KubeClient,
    writes: Iterable[PlannedWrite],
    owners: set[str],
    server: Version,
    progress: _Progress,
) -> None:
    """Write independent objects concurrently; the first error is raised after all settle."""
    writes = list(writes)
    results = await asyncio.gather(
        *(_dependent(client, w, owners, server) for w in writes), return_exceptions=True
    )
    first_error: BaseException | None = None
    for write, result in zip(writes, results, strict=True):
        if isinstance(result, BaseException):
            first_error = first_error or result
        else:
            body, adopted = result
            progress.record(write, body, adopted)
    if first_error is not None:
        raise first_error


def _ui_facts(extras: Sequence[PlannedWrite], progress: _Progress) -> dict[str, Any]:
    service = next((w for w in extras if w.object.kind == "Service"), None)
    ingress = next((w for w in extras if w.object.kind == "Ingress"), None)
    out: dict[str, Any] = {}
    if service is not None:
        live = progress.bodies.get(service.object, {})
        spec = live.get("spec") or service.body.get("spec") or {}
        port = int((spec.get("ports") or [{}])[0].get("port") or 0)
        ip = spec.get("clusterIP") or ""
        out.update(
            ui_service=service.object.name, ui_port=port, ui_address=f"{ip}:{port}" if ip else ""
        )
    if ingress is not None:
        out["ui_ingress"] = ingress.object.name
    return out


async def _failed(
    client: KubeClient, err: APIError, progress: _Progress, what: str
) -> SubmissionFailed:
    written = tuple(progress.written + progress.adopted)
    if isinstance(err, TemporaryAPIError):
        return SubmissionFailed.from_api_error(err, what=what, written=written)
    deleted = await delete_written(client, progress)
    return SubmissionFailed.from_api_error(err, what=what, written=written, deleted=deleted)


async def delete_written(client: KubeClient, progress: _Progress) -> tuple[ObjectRef, ...]:
    """Delete what an attempt wrote, last first (best effort: what fails to go is left)."""
    deleted: list[ObjectRef] = []
    for ref in reversed(list(progress.paths)):
        try:
            await client.send(KubeRequest("DELETE", progress.paths[ref], (), JSON, _BACKGROUND))
        except NotFound:
            pass
        except APIError:
            continue
        deleted.append(ref)
    return tuple(deleted)


_BACKGROUND = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
