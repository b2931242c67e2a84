"""The workload loops of kube-controller-manager, as clients see their results.

Owns the Deployment controller (a ReplicaSet per pod template, named and labelled by its
``pod-template-hash``, revision annotations, old ReplicaSets scaled down as the new one becomes
available, the status and conditions ``kubectl rollout status`` reads), the ReplicaSet
controller (pods from the template, owned by the set, its replica counts), the Job controller
(pods up to ``parallelism`` until ``completions`` succeed or ``backoffLimit`` failures, the
``Complete``/``Failed`` conditions ``kubectl wait`` reads), the StatefulSet controller (ordinal
pods, ordered or parallel, rolling replacement down to ``partition``), the DaemonSet controller
(a pod per node), the Endpoints and EndpointSlice controllers (a
Service's ready and not-ready pod addresses) and the root-CA publisher (``kube-root-ca.crt`` in
every namespace, where the version runs it). Each hears the store's events synchronously (cheap:
it only queues keys), and reconciles one key at a time through the API server's verbs. It must
not run pods (the kubelets do) or decide anything a real controller would not.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubespark.emulator.apiserver.api import ApiServer, DeleteOptions, WriteOptions
from kubespark.emulator.apiserver.objects import Clock, Obj, clone, core_event, peek_meta, rfc3339
from kubespark.emulator.apiserver.registry import ServedResource
from kubespark.emulator.apiserver.store import DELETED, BucketKey, Event
from kubespark.emulator.controllers.labelindex import LabelIndex, SelectorIndex, selects
from kubespark.emulator.controllers.loop import ControllerLoop
from kubespark.emulator.controllers.revisions import record_revision
from kubespark.kube import errors

__all__ = ["WorkloadControllers", "template_hash"]

log = logging.getLogger("kubespark.emulator")

_PODS: BucketKey = ("", "pods")
_SERVICES: BucketKey = ("", "services")
_ENDPOINTS: BucketKey = ("", "endpoints")
_CONFIGMAPS: BucketKey = ("", "configmaps")
_NAMESPACES: BucketKey = ("", "namespaces")
_DEPLOYMENTS: BucketKey = ("apps", "deployments")
_REPLICASETS: BucketKey = ("apps", "replicasets")
_JOBS: BucketKey = ("batch", "jobs")
_STATEFULSETS: BucketKey = ("apps", "statefulsets")
_DAEMONSETS: BucketKey = ("apps", "daemonsets")
_NODES: BucketKey = ("", "nodes")
_ACCOUNTS: BucketKey = ("", "serviceaccounts")
TOKEN_TYPE = "kubernetes.io/service-account-token"
REVISION_LABEL = "controller-revision-hash"
_SLICES: BucketKey = ("discovery.k8s.io", "endpointslices")
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
SLICE_MANAGER = "endpointslice-controller.k8s.io"
ROOT_CA = "kube-root-ca.crt"
REVISION = "deployment.kubernetes.io/revision"
HASH_LABEL = "pod-template-hash"
_SAFE = "bcdfghjklmnpqrstvwxz2456789"  # rand.SafeEncodeString's alphabet (no vowels)

Key = tuple[str, str, str]  # (controller, namespace, name)


@dataclass(frozen=True, slots=True)
class _Fetched:
    """What a reconcile starts from: the storage versions of the object's resource and of the
    ``children`` it makes, the object as stored now, and its parts every reconciler reads."""

    res: ServedResource
    children: ServedResource
    obj: Obj
    meta: dict[str, Any]
    spec: dict[str, Any]
    status: dict[str, Any]  # a copy: the Job reconciler fills it in

    @classmethod
    def of(cls, res: ServedResource, children: ServedResource, obj: Obj) -> _Fetched:
        status = dict(obj.get("status") or {})
        return cls(res, children, obj, peek_meta(obj), obj.get("spec") or {}, status)


def template_hash(template: Any) -> str:
    """A stable short name for a pod template, in the alphabet ``pod-template-hash`` uses.

    Real servers hash with FNV-32a over Go's printing of the object; the value differs, its
    form and its stability (same template, same hash) do not."""
    import orjson

    digest = hashlib.sha256(orjson.dumps(template, option=orjson.OPT_SORT_KEYS)).digest()
    number = int.from_bytes(digest[:8], "big")
    out = []
    for _ in range(10):
        number, rest = divmod(number, len(_SAFE))
        out.append(_SAFE[rest])
    return "".join(out)


def _controller_of(obj: Obj) -> dict[str, Any] | None:
    for ref in peek_meta(obj).get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("controller"):
            return ref
    return None


def _owned(items: list[Obj], uid: str) -> list[Obj]:
    return [o for o in items if (_controller_of(o) or {}).get("uid") == uid]


def _ready(pod: Obj) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


def _phase(pod: Obj) -> str:
    return str((pod.get("status") or {}).get("phase") or "Pending")


def _live(pod: Obj) -> bool:
    return not peek_meta(pod).get("deletionTimestamp") and _phase(pod) not in (
        "Succeeded",
        "Failed",
    )


def _owner_ref(owner: Obj, api_version: str, kind: str) -> dict[str, Any]:
    m = peek_meta(owner)
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": m["name"],
        "uid": m["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _condition(
    old: list[dict[str, Any]], kind: str, status: str, reason: str, message: str
) -> dict[str, Any]:
    """A condition keeping its lastTransitionTime while its status stays."""
    now = rfc3339()
    before = next((c for c in old if c.get("type") == kind), None)
    kept = before.get("lastTransitionTime", now) if before is not None else now
    return {
        "type": kind,
        "status": status,
        "lastTransitionTime": kept if before and before.get("status") == status else now,
        "reason": reason,
        "message": message,
    }


def _percent_or_int(value: Any, total: int, round_up: bool) -> int:
    if isinstance(value, int):
        return value
    text = str(value or "0")
    if text.endswith("%"):
        scaled = int(text[:-1]) * total
        return -(-scaled // 100) if round_up else scaled // 100
    return int(text) if text.isdigit() else 0


class WorkloadControllers(ControllerLoop):
    """Deployment, ReplicaSet, Job, Endpoints and root-CA controllers of one server."""

    def __init__(
        self,
        api: ApiServer,
        clock: Clock,
        ca_pem: Callable[[], bytes] | None = None,
        *,
        events: bool = True,
    ) -> None:
        self.api = api
        self.events = events
        self.clock = clock
        self.ca_pem = ca_pem
        self._pending: set[Key] = set()
        self._queue: asyncio.Queue[Key] = asyncio.Queue()
        # Services' selectors, pods' and EndpointSlices' labels: the Endpoints controller looks
        # them up instead of scanning the namespace on every pod event.
        self._selectors = SelectorIndex()
        self._pod_labels = LabelIndex()
        self._slice_labels = LabelIndex()
        for bucket in (_SERVICES, _PODS, _SLICES):
            for obj in api.store.items(bucket):
                self._index(bucket, obj, deleted=False)
        api.store.listen(self.on_event)

    def _index(self, bucket: BucketKey, obj: Obj, *, deleted: bool) -> None:
        m = peek_meta(obj)
        ns, name = str(m.get("namespace", "")), str(m.get("name", ""))
        if bucket == _SERVICES:
            selector = (obj.get("spec") or {}).get("selector") or {}
            if deleted or not selector:
                self._selectors.remove(ns, name)
            else:
                self._selectors.put(ns, name, selector)
            return
        index = self._pod_labels if bucket == _PODS else self._slice_labels
        if deleted:
            index.remove(ns, name)
        else:
            index.put(ns, name, m.get("labels") or {})

    # --- events (synchronous, cheap) -----------------------------------------------------------
    def _enqueue(self, key: Key) -> None:
        if key not in self._pending:
            self._pending.add(key)
            self._queue.put_nowait(key)

    def on_event(self, event: Event) -> None:
        bucket, obj = event.bucket, event.obj
        m = peek_meta(obj)
        ns, name = m.get("namespace", ""), m.get("name", "")
        if bucket in (_PODS, _SLICES):
            self._index(bucket, obj, deleted=event.type == DELETED)
        if bucket == _PODS:
            self._on_pod(event, ns)
        elif bucket == _DEPLOYMENTS:
            self._enqueue(("deployment", ns, name))
        elif bucket == _REPLICASETS:
            self._enqueue(("replicaset", ns, name))
            owner = _controller_of(obj)
            if owner is not None and owner.get("kind") == "Deployment":
                self._enqueue(("deployment", ns, str(owner.get("name"))))
        elif bucket == _JOBS:
            self._enqueue(("job", ns, name))
        elif bucket == _STATEFULSETS:
            self._enqueue(("statefulset", ns, name))
        elif bucket == _DAEMONSETS:
            self._enqueue(("daemonset", ns, name))
        elif bucket == _SERVICES:
            self._on_service(event, ns, name)
        elif bucket == _ACCOUNTS and event.type != DELETED:
            self._enqueue(("token", ns, name))
        elif bucket == _NAMESPACES and event.type == "ADDED":
            self._enqueue(("root-ca", name, ROOT_CA))
        elif bucket == _CONFIGMAPS and name == ROOT_CA and event.type == DELETED:
            self._enqueue(("root-ca", ns, ROOT_CA))

    def _on_pod(self, event: Event, ns: str) -> None:
        for obj in (event.obj, event.old):
            owner = _controller_of(obj) if obj is not None else None
            kind = _OWNER_KINDS.get(str((owner or {}).get("kind")))
            if owner is not None and kind is not None:
                self._enqueue((kind, ns, str(owner.get("name"))))
        labels = peek_meta(event.obj).get("labels") or {}
        old_labels = peek_meta(event.old).get("labels") or {} if event.old is not None else {}
        services = self._selectors.selecting(ns, labels)
        if old_labels != labels:
            services |= self._selectors.selecting(ns, old_labels)
        for svc in sorted(services):
            self._enqueue(("endpoints", ns, svc))

    def _on_service(self, event: Event, ns: str, name: str) -> None:
        self._index(_SERVICES, event.obj, deleted=event.type == DELETED)
        self._enqueue(("endpoints", ns, name))

    # --- loop ------------------------------------------------------------------------------------
    async def _run(self) -> None:
        handlers: dict[str, Callable[[str, str], None]] = {
            "deployment": self._deployment,
            "replicaset": self._replicaset,
            "job": self._job,
            "statefulset": self._statefulset,
            "daemonset": self._daemonset,
            "endpoints": self._endpoints,
            "root-ca": self._root_ca,
            "token": self._token_secret,
        }
        while True:
            key = await self._queue.get()
            self._pending.discard(key)
            try:
                handlers[key[0]](key[1], key[2])
            except errors.APIError as err:
                log.debug("controller %s: %s", key, err)
            except Exception:  # a controller bug must not stop the others
                log.exception("controller %s failed", key)
            await asyncio.sleep(0)  # let the server answer between reconciles

    # --- helpers ---------------------------------------------------------------------------------
    def _res(self, api_version: str, kind: str) -> ServedResource | None:
        return self.api.registry.for_kind(api_version, kind)

    def _storage(self, bucket: BucketKey) -> ServedResource | None:
        return self.api.registry.storage_version(*bucket)

    def _fetch(
        self, bucket: BucketKey, ns: str, name: str, children: BucketKey = _PODS
    ) -> _Fetched | None:
        """What a reconcile of ``ns/name`` in ``bucket`` starts from. None when the object is
        gone or the version serves neither resource (nothing to reconcile)."""
        res, children_res = self._storage(bucket), self._storage(children)
        obj = self.api.store.get(bucket, ns, name)
        if res is None or children_res is None or obj is None:
            return None
        return _Fetched.of(res, children_res, obj)

    def _create(self, res: ServedResource, ns: str, body: Obj) -> Obj | None:
        try:
            return self.api.create(res, ns, body, WriteOptions(field_manager=_MANAGER)).obj
        except errors.APIError as err:
            log.debug("cannot create %s in %s: %s", res.kind, ns, err)
            return None

    def _set_status(self, res: ServedResource, obj: Obj, status: dict[str, Any]) -> None:
        if (obj.get("status") or {}) != status:
            self.api.write_status(res, {**obj, "status": status})

    def _update(self, res: ServedResource, obj: Obj, new: Obj) -> Obj:
        return self.api.replace_object(res, obj, new, WriteOptions(field_manager=_MANAGER)).obj

    def _delete_pod(self, pod: Obj) -> None:
        res = self._storage(_PODS)
        if res is None or peek_meta(pod).get("deletionTimestamp"):
            return
        m = peek_meta(pod)
        with contextlib.suppress(errors.NotFound):
            self.api.delete(res, m["namespace"], m["name"], DeleteOptions())

    def record_event(
        self, obj: Obj, kind: str, reason: str, message: str, component: str, warn: bool
    ) -> None:
        """An Event for a controller that lives outside this module (the CronJob one)."""
        self._event(obj, kind, reason, message, component, warn)

    def _event(
        self, obj: Obj, kind: str, reason: str, message: str, component: str, warn: bool = False
    ) -> None:
        """A core/v1 Event about ``obj`` from ``component``, best effort as in clusters."""
        res = self._res("v1", "Event")
        if not self.events or res is None:
            return
        m = peek_meta(obj)
        api_version, version = str(obj.get("apiVersion", "")), m.get("resourceVersion", "")
        reference = {"kind": kind, "apiVersion": api_version, "resourceVersion": version}
        kind_of = "Warning" if warn else "Normal"
        source = {"component": component}
        body = core_event(obj, reference, reason, message, type_=kind_of, source=source)
        with contextlib.suppress(errors.APIError):
            self.api.create(
                res, m.get("namespace", ""), body, WriteOptions(), managed=True, trusted=True
            )

    def _pod_from(self, template: Obj, prefix: str, ns: str, owner_ref: dict[str, Any]) -> Obj:
        tmeta = template.get("metadata") or {}
        meta: dict[str, Any] = {
            "generateName": prefix,
            "namespace": ns,
            "ownerReferences": [owner_ref],
        }
        for key in ("labels", "annotations"):
            if tmeta.get(key):
                meta[key] = dict(tmeta[key])
        # A copy: the create path defaults the pod's spec in place, the owner's must stay as stored.
        spec = clone(template.get("spec") or {})
        return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}

    # --- ReplicaSet ------------------------------------------------------------------------------
    def _replicaset(self, ns: str, name: str) -> None:
        found = self._fetch(_REPLICASETS, ns, name)
        if found is None:
            return
        res, pods_res, rs, m, spec = found.res, found.children, found.obj, found.meta, found.spec
        pods = [p for p in _owned(self.api.store.items(_PODS, ns), m["uid"]) if _live(p)]
        want = int(spec.get("replicas", 1))
        if not m.get("deletionTimestamp"):
            if len(pods) < want:
                ref = _owner_ref(rs, "apps/v1", "ReplicaSet")
                for _ in range(want - len(pods)):
                    body = self._pod_from(spec.get("template") or {}, f"{name}-", ns, ref)
                    created = self._create(pods_res, ns, body)
                    if created is not None:
                        pods.append(created)
                        message = f"Created pod: {peek_meta(created)['name']}"
                        self._event(rs, "ReplicaSet", "SuccessfulCreate", message, _RS_CTL)
            elif len(pods) > want:
                doomed = sorted(pods, key=lambda p: (_ready(p), p["metadata"]["name"]))
                for pod in doomed[: len(pods) - want]:
                    self._delete_pod(pod)
                    message = f"Deleted pod: {peek_meta(pod)['name']}"
                    self._event(rs, "ReplicaSet", "SuccessfulDelete", message, _RS_CTL)
                pods = doomed[len(pods) - want :]
        ready = sum(1 for p in pods if _ready(p))
        status: dict[str, Any] = {
            "replicas": len(pods),
            "fullyLabeledReplicas": len(pods),
            "observedGeneration": m.get("generation", 1),
        }
        if ready:
            status["readyReplicas"] = ready
            status["availableReplicas"] = ready
        self._set_status(res, rs, status)

    # --- Deployment ------------------------------------------------------------------------------
    def _deployment(self, ns: str, name: str) -> None:
        found = self._fetch(_DEPLOYMENTS, ns, name, children=_REPLICASETS)
        if found is None or found.meta.get("deletionTimestamp"):
            return
        res, rs_res, dep, m, spec = found.res, found.children, found.obj, found.meta, found.spec
        want = int(spec.get("replicas", 1))
        template = spec.get("template") or {}
        digest = template_hash(template)
        sets = _owned(self.api.store.items(_REPLICASETS, ns), m["uid"])
        revisions = [int(peek_meta(s).get("annotations", {}).get(REVISION, "0")) for s in sets]
        # As EqualIgnoreHash: the set whose template is the Deployment's, its hash label aside
        # (`kubectl rollout undo` copies an old set's template back).
        new = next((s for s in sets if _same_template(s, template)), None)
        if new is None:
            new = self._new_replicaset(rs_res, dep, digest, max(revisions, default=0) + 1)
            if new is None:
                return
            sets.append(new)
        else:
            new = self._current_replicaset(rs_res, dep, new, want, max(revisions, default=0))
        revision = peek_meta(new).get("annotations", {}).get(REVISION, "1")
        new_available = int((new.get("status") or {}).get("availableReplicas", 0))
        room = max(0, want - new_available)
        for old in sets:
            if peek_meta(old)["uid"] == peek_meta(new)["uid"]:
                continue
            replicas = int((old.get("spec") or {}).get("replicas", 0))
            if replicas > room:
                self._scaled(dep, old, room)
                self._update(rs_res, old, {**old, "spec": {**old["spec"], "replicas": room}})
            room = max(0, room - replicas)
        if (m.get("annotations") or {}).get(REVISION) != revision:
            annotations = {**(m.get("annotations") or {}), REVISION: revision}
            dep = self._update(res, dep, {**dep, "metadata": {**m, "annotations": annotations}})
        self._deployment_status(res, dep, new, sets, want)

    def _current_replicaset(
        self, res: ServedResource, dep: Obj, rs: Obj, want: int, newest: int
    ) -> Obj:
        """The ReplicaSet of the Deployment's template at ``want`` replicas; an older one
        brought back (``kubectl rollout undo``) becomes the newest revision, as real ones do."""
        m = peek_meta(rs)
        annotations = dict(m.get("annotations") or {})
        spec = dict(rs.get("spec") or {})
        if int(annotations.get(REVISION, "0")) >= newest and spec.get("replicas") == want:
            return rs
        if int(annotations.get(REVISION, "0")) < newest:
            annotations[REVISION] = str(newest + 1)
        if spec.get("replicas") != want:
            self._scaled(dep, rs, want)
            spec["replicas"] = want
        return self._update(
            res, rs, {**rs, "metadata": {**m, "annotations": annotations}, "spec": spec}
        )

    def _scaled(self, dep: Obj, rs: Obj, to: int) -> None:
        before = int((rs.get("spec") or {}).get("replicas", 0))
        way = "up" if to > before else "down"
        message = f"Scaled {way} replica set {peek_meta(rs)['name']} to {to}"
        self._event(dep, "Deployment", "ScalingReplicaSet", message, "deployment-controller")

    def _new_replicaset(
        self, res: ServedResource, dep: Obj, digest: str, revision: int
    ) -> Obj | None:
        m = peek_meta(dep)
        spec = dep.get("spec") or {}
        template = clone(spec.get("template") or {})
        tmeta = dict(template.get("metadata") or {})
        labels = {**(tmeta.get("labels") or {}), HASH_LABEL: digest}
        tmeta["labels"] = labels
        template["metadata"] = tmeta
        selector = dict(spec.get("selector") or {})
        selector["matchLabels"] = {**(selector.get("matchLabels") or {}), HASH_LABEL: digest}
        want = int(spec.get("replicas", 1))
        surge = _percent_or_int(
            ((spec.get("strategy") or {}).get("rollingUpdate") or {}).get("maxSurge"), want, True
        )
        body = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"{m['name']}-{digest}",
                "namespace": m["namespace"],
                "labels": labels,
                "annotations": {
                    "deployment.kubernetes.io/desired-replicas": str(want),
                    "deployment.kubernetes.io/max-replicas": str(want + surge),
                    REVISION: str(revision),
                },
                "ownerReferences": [_owner_ref(dep, "apps/v1", "Deployment")],
            },
            "spec": {
                "replicas": want,
                "minReadySeconds": spec.get("minReadySeconds", 0),
                "selector": selector,
                "template": template,
            },
        }
        created = self._create(res, m["namespace"], body)
        if created is not None:
            message = f"Scaled up replica set {peek_meta(created)['name']} to {want}"
            self._event(dep, "Deployment", "ScalingReplicaSet", message, "deployment-controller")
        return created

    def _deployment_status(
        self, res: ServedResource, dep: Obj, new: Obj, sets: list[Obj], want: int
    ) -> None:
        def total(field: str, of: list[Obj]) -> int:
            return sum(int((s.get("status") or {}).get(field, 0)) for s in of)

        current = [self.api.store.get(_REPLICASETS, *_ns_name(s)) or s for s in sets]
        new_now = self.api.store.get(_REPLICASETS, *_ns_name(new)) or new
        replicas, ready = total("replicas", current), total("readyReplicas", current)
        available = total("availableReplicas", current)
        updated = total("replicas", [new_now])
        spec = dep.get("spec") or {}
        rolling = (spec.get("strategy") or {}).get("rollingUpdate") or {}
        floor = want - _percent_or_int(rolling.get("maxUnavailable"), want, False)
        old = (dep.get("status") or {}).get("conditions") or []
        rs_name = peek_meta(new)["name"]
        done = updated == want and replicas == want and available == want
        conditions = [
            _condition(
                old,
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
            )
            if available >= floor
            else _condition(
                old,
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
            ),
            _condition(
                old,
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                f'ReplicaSet "{rs_name}" has successfully progressed.',
            )
            if done
            else _condition(
                old,
                "Progressing",
                "True",
                "ReplicaSetUpdated",
                f'ReplicaSet "{rs_name}" is progressing.',
            ),
        ]
        for cond in conditions:
            before = next((c for c in old if c.get("type") == cond["type"]), None)
            same = before is not None and before.get("reason") == cond["reason"]
            cond["lastUpdateTime"] = before.get("lastUpdateTime") if same and before else rfc3339()
        status: dict[str, Any] = {
            "observedGeneration": peek_meta(dep).get("generation", 1),
            "replicas": replicas,
            "updatedReplicas": updated,
            "readyReplicas": ready,
            "availableReplicas": available,
            "unavailableReplicas": max(0, want - available),
            "conditions": conditions,
        }
        status = {k: v for k, v in status.items() if v != 0 or k == "observedGeneration"}
        self._set_status(res, self.api.store.get(_DEPLOYMENTS, *_ns_name(dep)) or dep, status)

    # --- Job -------------------------------------------------------------------------------------
    def _job(self, ns: str, name: str) -> None:
        found = self._fetch(_JOBS, ns, name)
        if found is None:
            return
        res, pods_res, job, m, spec = found.res, found.children, found.obj, found.meta, found.spec
        status = found.status
        if m.get("deletionTimestamp") or _finished(status):
            return
        pods = _owned(self.api.store.items(_PODS, ns), m["uid"])
        active = [p for p in pods if _live(p)]
        succeeded = sum(1 for p in pods if _phase(p) == "Succeeded")
        failed = sum(1 for p in pods if _phase(p) == "Failed")
        completions = spec.get("completions")
        parallelism = int(spec.get("parallelism", 1))
        conditions = list(status.get("conditions") or [])
        now = rfc3339()
        status.setdefault("startTime", now)
        if failed > int(spec.get("backoffLimit", 6)):
            for pod in active:
                self._delete_pod(pod)
            active = []
            conditions.append(
                _condition(
                    [],
                    "Failed",
                    "True",
                    "BackoffLimitExceeded",
                    "Job has reached the specified backoff limit",
                )
            )
            self._event(
                job,
                "Job",
                "BackoffLimitExceeded",
                "Job has reached the specified backoff limit",
                _JOB_CTL,
                warn=True,
            )
        elif (completions is not None and succeeded >= int(completions)) or (
            completions is None and succeeded > 0 and not active
        ):
            conditions.append(_condition([], "Complete", "True", "", ""))
            conditions[-1].pop("reason")
            conditions[-1].pop("message")
            status["completionTime"] = now
            self._event(job, "Job", "Completed", "Job completed", _JOB_CTL)
        elif not spec.get("suspend"):
            remaining = parallelism if completions is None else int(completions) - succeeded
            for _ in range(max(0, min(parallelism, remaining) - len(active))):
                ref = _owner_ref(job, "batch/v1", "Job")
                body = self._pod_from(spec.get("template") or {}, f"{name}-", ns, ref)
                created = self._create(pods_res, ns, body)
                if created is not None:
                    active.append(created)
                    message = f"Created pod: {peek_meta(created)['name']}"
                    self._event(job, "Job", "SuccessfulCreate", message, _JOB_CTL)
        for cond in conditions:
            cond.setdefault("lastProbeTime", cond["lastTransitionTime"])
        status.update({"active": len(active), "succeeded": succeeded, "failed": failed})
        status = {k: v for k, v in status.items() if v != 0}
        if conditions:
            status["conditions"] = conditions
        self._set_status(res, job, status)

    # --- StatefulSet -----------------------------------------------------------------------------
    def _statefulset(self, ns: str, name: str) -> None:
        found = self._fetch(_STATEFULSETS, ns, name)
        if found is None:
            return
        res, pods_res, sts, m, spec = found.res, found.children, found.obj, found.meta, found.spec
        want = int(spec.get("replicas", 1))
        revision = f"{name}-{template_hash(spec.get('template') or {})}"
        pods = {
            _ordinal(p, name): p
            for p in _owned(self.api.store.items(_PODS, ns), m["uid"])
            if not peek_meta(p).get("deletionTimestamp")
        }
        ordered = spec.get("podManagementPolicy", "OrderedReady") == "OrderedReady"
        if not m.get("deletionTimestamp"):
            in_use = {str(_labels(p).get(REVISION_LABEL)) for p in pods.values()}
            hash_ = revision.rsplit("-", 1)[1]
            record_revision(self.api, sts, "StatefulSet", revision, hash_, in_use)
            self._statefulset_step(sts, pods_res, pods, want, revision, ordered)
        ready = sum(1 for p in pods.values() if _ready(p))
        updated = sum(1 for p in pods.values() if _labels(p).get(REVISION_LABEL) == revision)
        previous = found.status.get("currentRevision", revision)
        current = revision if updated == len(pods) else previous
        current_count = sum(1 for p in pods.values() if _labels(p).get(REVISION_LABEL) == current)
        status: dict[str, Any] = {
            "observedGeneration": m.get("generation", 1),
            "replicas": len(pods),
            "readyReplicas": ready,
            "currentReplicas": current_count,
            "updatedReplicas": updated,
            "currentRevision": current,
            "updateRevision": revision,
            "collisionCount": 0,
        }
        if self.api.kind_ctx.has_field("io.k8s.api.apps.v1.StatefulSetStatus", "availableReplicas"):
            status["availableReplicas"] = ready
        status = {k: v for k, v in status.items() if v != 0 or k in ("replicas", "collisionCount")}
        self._set_status(res, sts, status)

    def _statefulset_step(
        self,
        sts: Obj,
        pods_res: ServedResource,
        pods: dict[int, Obj],
        want: int,
        revision: str,
        ordered: bool,
    ) -> None:
        """One move of the StatefulSet controller: delete above ``want`` (highest first), create
        missing ordinals (in order and one at a time under OrderedReady), then replace one
        outdated pod (highest first) once all are ready."""
        spec = sts.get("spec") or {}
        extra = sorted((o for o in pods if o >= want), reverse=True)
        for ordinal in extra[: 1 if ordered else len(extra)]:
            self._delete_pod(pods.pop(ordinal))
        if extra and ordered:
            return
        for ordinal in range(want):
            if ordinal in pods:
                if ordered and not _ready(pods[ordinal]):
                    return
                continue
            pods[ordinal] = self._statefulset_pod(sts, pods_res, ordinal, revision) or {}
            if ordered:
                return
        partition = int(
            ((spec.get("updateStrategy") or {}).get("rollingUpdate") or {}).get("partition", 0)
        )
        if (spec.get("updateStrategy") or {}).get("type", "RollingUpdate") != "RollingUpdate":
            return
        if not all(_ready(p) for p in pods.values()):
            return
        for ordinal in sorted(pods, reverse=True):
            if ordinal >= partition and _labels(pods[ordinal]).get(REVISION_LABEL) != revision:
                self._delete_pod(pods[ordinal])
                return

    def _statefulset_pod(
        self, sts: Obj, pods_res: ServedResource, ordinal: int, revision: str
    ) -> Obj | None:
        m = peek_meta(sts)
        spec = sts.get("spec") or {}
        pod_name = f"{m['name']}-{ordinal}"
        body = self._pod_from(
            spec.get("template") or {},
            "",
            m["namespace"],
            _owner_ref(sts, "apps/v1", "StatefulSet"),
        )
        meta = body["metadata"]
        meta.pop("generateName")
        meta["name"] = pod_name
        meta["labels"] = {
            **(meta.get("labels") or {}),
            REVISION_LABEL: revision,
            "statefulset.kubernetes.io/pod-name": pod_name,
        }
        pod_spec = dict(body.get("spec") or {})
        pod_spec["hostname"] = pod_name
        if spec.get("serviceName"):
            pod_spec["subdomain"] = spec["serviceName"]
        body["spec"] = pod_spec
        return self._create(pods_res, m["namespace"], body)

    # --- DaemonSet -------------------------------------------------------------------------------
    def _daemonset(self, ns: str, name: str) -> None:
        found = self._fetch(_DAEMONSETS, ns, name)
        if found is None:
            return
        res, pods_res, ds, m, spec = found.res, found.children, found.obj, found.meta, found.spec
        revision = template_hash(spec.get("template") or {})
        nodes = [peek_meta(n)["name"] for n in self.api.store.items(_NODES)]
        pods = [p for p in _owned(self.api.store.items(_PODS, ns), m["uid"]) if _live(p)]
        on_node = {(p.get("spec") or {}).get("nodeName") or _affinity_node(p): p for p in pods}
        if not m.get("deletionTimestamp"):
            in_use = {f"{name}-{_labels(p).get(REVISION_LABEL)}" for p in pods}
            record_revision(self.api, ds, "DaemonSet", f"{name}-{revision}", revision, in_use)
            for node in nodes:
                pod = on_node.get(node)
                if pod is not None and _labels(pod).get(REVISION_LABEL) != revision:
                    if all(_ready(p) for p in pods):
                        self._delete_pod(pod)  # replaced when its deletion is heard
                    continue
                if pod is None:
                    created = self._daemon_pod(ds, pods_res, node, revision)
                    if created is not None:
                        on_node[node] = created
        live = [on_node[n] for n in nodes if n in on_node]
        ready = sum(1 for p in live if _ready(p))
        updated = sum(1 for p in live if _labels(p).get(REVISION_LABEL) == revision)
        status = {
            "currentNumberScheduled": len(live),
            "desiredNumberScheduled": len(nodes),
            "numberMisscheduled": 0,
            "numberReady": ready,
            "numberAvailable": ready,
            "numberUnavailable": len(nodes) - ready,
            "updatedNumberScheduled": updated,
            "observedGeneration": m.get("generation", 1),
        }
        status = {k: v for k, v in status.items() if v != 0 or not k.startswith("numberUn")}
        self._set_status(res, ds, status)

    def _daemon_pod(
        self, ds: Obj, pods_res: ServedResource, node: str, revision: str
    ) -> Obj | None:
        m = peek_meta(ds)
        spec = ds.get("spec") or {}
        ref = _owner_ref(ds, "apps/v1", "DaemonSet")
        body = self._pod_from(spec.get("template") or {}, f"{m['name']}-", m["namespace"], ref)
        body["metadata"]["labels"] = {
            **(body["metadata"].get("labels") or {}),
            REVISION_LABEL: revision,
            "pod-template-generation": str(m.get("generation", 1)),
        }
        pod_spec = dict(body.get("spec") or {})
        # As the DaemonSet controller does: pin the pod to its node through node affinity.
        term = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}
        pod_spec["affinity"] = {
            **(pod_spec.get("affinity") or {}),
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}
            },
        }
        body["spec"] = pod_spec
        return self._create(pods_res, m["namespace"], body)

    # --- Endpoints -------------------------------------------------------------------------------
    def _endpoints(self, ns: str, name: str) -> None:
        res = self._storage(_ENDPOINTS)
        svc = self.api.store.get(_SERVICES, ns, name)
        current = self.api.store.get(_ENDPOINTS, ns, name)
        if res is None:
            return
        selector = ((svc or {}).get("spec") or {}).get("selector") or {}
        if svc is None or not selector:
            if current is not None and svc is None:
                self.api.delete(res, ns, name, DeleteOptions())
            return  # a Service's slices go with it (ownerReference, garbage collector)
        selected = (
            self.api.store.get(_PODS, ns, n) for n in self._pod_labels.matching(ns, selector)
        )
        pods = [
            p
            for p in selected
            if p is not None
            and selects(selector, peek_meta(p).get("labels") or {})
            and (p.get("status") or {}).get("podIP")
            and not peek_meta(p).get("deletionTimestamp")
            and _phase(p) not in ("Succeeded", "Failed")
        ]
        self._endpoint_slice(ns, svc, pods)
        subsets = _subsets(svc, pods)
        body: Obj = {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {"name": name, "namespace": ns},
        }
        labels = peek_meta(svc).get("labels")
        if labels:
            body["metadata"]["labels"] = dict(labels)
        if subsets:
            body["subsets"] = subsets
        if current is None:
            self._create(res, ns, body)
        elif current.get("subsets") != body.get("subsets") or peek_meta(current).get(
            "labels"
        ) != body["metadata"].get("labels"):
            new_meta = {**current["metadata"], "labels": body["metadata"].get("labels")}
            if new_meta["labels"] is None:
                new_meta.pop("labels")
            new = {k: v for k, v in current.items() if k != "subsets"}
            new["metadata"] = new_meta
            if subsets:
                new["subsets"] = subsets
            self._update(res, current, new)

    # --- EndpointSlices -------------------------------------------------------------------------
    def _endpoint_slice(self, ns: str, svc: Obj, pods: list[Obj]) -> None:
        res = self._storage(_SLICES)
        if res is None or not self.api.facts.endpoint_slices:
            return
        name = peek_meta(svc)["name"]
        owned = {SERVICE_NAME_LABEL: name, MANAGED_BY_LABEL: SLICE_MANAGER}
        mine = [
            s
            for s in (
                self.api.store.get(_SLICES, ns, n) for n in self._slice_labels.matching(ns, owned)
            )
            if s is not None
        ]
        body = _slice_body(svc, pods, res.version, self.api.facts.endpoint_slice_serving)
        if not mine:
            self._create(res, ns, body)
            return
        current = mine[0]
        fields = ("endpoints", "ports")
        if any(current.get(k) != body.get(k) for k in fields):
            new = {k: v for k, v in current.items() if k not in fields}
            new.update({k: body[k] for k in fields if k in body})
            self._update(res, current, new)

    # --- ServiceAccount token Secrets -----------------------------------------------------------
    def _token_secret(self, ns: str, name: str) -> None:
        accounts = self._storage(_ACCOUNTS)
        secrets = self._res("v1", "Secret")
        account = self.api.store.get(_ACCOUNTS, ns, name)
        if accounts is None or secrets is None or account is None:
            return
        if not self.api.facts.token_secrets or peek_meta(account).get("deletionTimestamp"):
            return
        listed = [s.get("name") for s in account.get("secrets") or [] if isinstance(s, dict)]
        if any(n and n.startswith(f"{name}-token-") for n in listed):
            return
        m = peek_meta(account)
        data = {"namespace": ns, "token": _unsigned_token(ns, name, m["uid"])}
        if self.ca_pem is not None:
            data["ca.crt"] = self.ca_pem().decode()
        body = {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": TOKEN_TYPE,
            "metadata": {
                "generateName": f"{name}-token-",
                "namespace": ns,
                "annotations": {
                    "kubernetes.io/service-account.name": name,
                    "kubernetes.io/service-account.uid": m["uid"],
                },
            },
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
        }
        secret = self._create(secrets, ns, body)
        if secret is not None:
            entry = {"name": peek_meta(secret)["name"]}
            self._update(accounts, account, {**account, "secrets": [*listed_refs(account), entry]})

    # --- kube-root-ca.crt ------------------------------------------------------------------------
    def _root_ca(self, ns: str, name: str) -> None:
        res = self._storage(_CONFIGMAPS)
        if res is None or self.ca_pem is None or not self.api.facts.root_ca_configmap:
            return
        namespace = self.api.store.get(_NAMESPACES, "", ns)
        if namespace is None or peek_meta(namespace).get("deletionTimestamp"):
            return
        if self.api.store.get(_CONFIGMAPS, ns, name) is not None:
            return
        body = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": ns},
            "data": {"ca.crt": self.ca_pem().decode()},
        }
        self._create(res, ns, body)


_MANAGER = "kube-controller-manager"
_RS_CTL = "replicaset-controller"
_JOB_CTL = "job-controller"
_OWNER_KINDS = {
    "ReplicaSet": "replicaset",
    "Job": "job",
    "StatefulSet": "statefulset",
    "DaemonSet": "daemonset",
}


def listed_refs(account: Obj) -> list[dict[str, Any]]:
    return [s for s in account.get("secrets") or [] if isinstance(s, dict)]


def _unsigned_token(ns: str, name: str, uid: str) -> str:
    """A token in the legacy service-account JWT's form; unsigned (the emulator checks no
    token signatures, and a real signing key is no test's business)."""
    import orjson

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(orjson.dumps(value)).decode().rstrip("=")

    claims = {
        "iss": "kubernetes/serviceaccount",
        "kubernetes.io/serviceaccount/namespace": ns,
        "kubernetes.io/serviceaccount/service-account.name": name,
        "kubernetes.io/serviceaccount/service-account.uid": uid,
        "sub": f"system:serviceaccount:{ns}:{name}",
    }
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def _labels(obj: Obj) -> dict[str, Any]:
    return peek_meta(obj).get("labels") or {}


def _ordinal(pod: Obj, set_name: str) -> int:
    suffix = peek_meta(pod).get("name", "")[len(set_name) + 1 :]
    return int(suffix) if suffix.isdigit() else -1


def _affinity_node(pod: Obj) -> str | None:
    affinity = ((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {}
    required = affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or {}
    for term in required.get("nodeSelectorTerms") or []:
        for field in term.get("matchFields") or []:
            if field.get("key") == "metadata.name" and field.get("values"):
                return str(field["values"][0])
    return None


def _ns_name(obj: Obj) -> tuple[str, str]:
    m = peek_meta(obj)
    return m.get("namespace", ""), m.get("name", "")


def _same_template(rs: Obj, template: Obj) -> bool:
    ours = dict((rs.get("spec") or {}).get("template") or {})
    meta = dict(ours.get("metadata") or {})
    meta["labels"] = {k: v for k, v in (meta.get("labels") or {}).items() if k != HASH_LABEL}
    return _typed_equal({**ours, "metadata": meta}, template)


def _typed_equal(a: Any, b: Any) -> bool:
    """Equality as of Go structs: an absent field, null and an empty struct or map are alike
    (``kubectl rollout undo`` sends ``resources: {}`` and ``creationTimestamp: null``)."""
    return bool(_pruned(a) == _pruned(b))


def _pruned(value: Any) -> Any:
    if isinstance(value, dict):
        out = {k: _pruned(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, {})}
    if isinstance(value, list):
        return [_pruned(v) for v in value]
    return value


def _finished(status: dict[str, Any]) -> bool:
    return any(
        c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
        for c in status.get("conditions") or []
    )


def _target_port(port: dict[str, Any], pod: Obj) -> int | None:
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, int):
        return target
    for container in (pod.get("spec") or {}).get("containers") or []:
        for cport in container.get("ports") or []:
            if cport.get("name") == target:
                return int(cport.get("containerPort", 0))
    return None


def _subsets(svc: Obj, pods: list[Obj]) -> list[dict[str, Any]]:
    """One subset of every pod's address (ready or not) and the Service's ports."""
    if not pods:
        return []
    ready: list[dict[str, Any]] = []
    not_ready: list[dict[str, Any]] = []
    for pod in sorted(pods, key=lambda p: str((p.get("status") or {}).get("podIP"))):
        m = peek_meta(pod)
        address: dict[str, Any] = {"ip": pod["status"]["podIP"]}
        node = (pod.get("spec") or {}).get("nodeName")
        if node:
            address["nodeName"] = node
        address["targetRef"] = {
            "kind": "Pod",
            "namespace": m["namespace"],
            "name": m["name"],
            "uid": m["uid"],
        }
        (ready if _ready(pod) else not_ready).append(address)
    ports = []
    for port in (svc.get("spec") or {}).get("ports") or []:
        number = _target_port(port, pods[0])
        if number is None:
            continue
        entry: dict[str, Any] = {"port": number, "protocol": port.get("protocol", "TCP")}
        if port.get("name"):
            entry["name"] = port["name"]
        ports.append(entry)
    subset: dict[str, Any] = {}
    if ready:
        subset["addresses"] = ready
    if not_ready:
        subset["notReadyAddresses"] = not_ready
    subset["ports"] = ports
    return [subset]


def _slice_body(svc: Obj, pods: list[Obj], version: str, serving: bool) -> Obj:
    """The EndpointSlice the controller keeps for a Service (one slice: IPv4, <= 100 pods)."""
    m = peek_meta(svc)
    endpoints = []
    for pod in sorted(pods, key=lambda p: str((p.get("status") or {}).get("podIP"))):
        pm = peek_meta(pod)
        ready = _ready(pod)
        conditions: dict[str, Any] = {"ready": ready}
        if serving:
            conditions.update({"serving": ready, "terminating": False})
        endpoint: dict[str, Any] = {
            "addresses": [pod["status"]["podIP"]],
            "conditions": conditions,
            "targetRef": {
                "kind": "Pod",
                "namespace": pm["namespace"],
                "name": pm["name"],
                "uid": pm["uid"],
            },
        }
        node = (pod.get("spec") or {}).get("nodeName")
        if node and version == "v1":
            endpoint["nodeName"] = node
        elif node:
            endpoint["topology"] = {"kubernetes.io/hostname": node}
        endpoints.append(endpoint)
    ports = []
    for port in (svc.get("spec") or {}).get("ports") or [] if pods else []:
        number = _target_port(port, pods[0])
        if number is not None:
            ports.append(
                {"name": port.get("name", ""), "protocol": port.get("protocol"), "port": number}
            )
    labels = {**(m.get("labels") or {}), SERVICE_NAME_LABEL: m["name"]}
    labels[MANAGED_BY_LABEL] = SLICE_MANAGER
    body: Obj = {
        "apiVersion": f"discovery.k8s.io/{version}",
        "kind": "EndpointSlice",
        "metadata": {
            "generateName": f"{m['name']}-",
            "namespace": m["namespace"],
            "labels": labels,
            "ownerReferences": [_owner_ref(svc, "v1", "Service")],
        },
        "addressType": "IPv4",
        "endpoints": endpoints,
    }
    if ports:  # a Service without pods gets a placeholder slice without ports
        body["ports"] = ports
    return body
