"""The control-plane loops a real cluster runs beside the API server, as the emulator needs them.

Owns the garbage collector (ownerReferences: background deletion of dependents whose owners are
gone, foreground deletion with ``blockOwnerDeletion``, orphaning), the namespace controller
(deleting a namespace's contents, then the namespace), the service-account controller (a
``default`` ServiceAccount in every namespace) and the CRD controller (serving a definition's
resources, its status conditions, and removing its objects when it goes). Each loop hears the
store's events synchronously, queues work, and acts through the API server's verbs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from kubespark.emulator.apiserver import crd as crds
from kubespark.emulator.apiserver.api import (
    FOREGROUND,
    ORPHAN,
    ApiServer,
    DeleteOptions,
    WriteOptions,
)
from kubespark.emulator.apiserver.objects import Clock, Obj, peek_meta, rfc3339
from kubespark.emulator.apiserver.registry import ServedResource
from kubespark.emulator.apiserver.store import DELETED, BucketKey, Event
from kubespark.kube import errors

__all__ = ["ControllerSet"]

log = logging.getLogger("kubespark.emulator")

ObjRef = tuple[BucketKey, str, str]  # (bucket, namespace, name)
CRD_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"
_CRD_BUCKET = ("apiextensions.k8s.io", "customresourcedefinitions")
_NS_BUCKET = ("", "namespaces")


def _owner_uids(obj: Obj) -> list[str]:
    return [
        r.get("uid", "") for r in peek_meta(obj).get("ownerReferences") or [] if isinstance(r, dict)
    ]


def _ref(bucket: BucketKey, obj: Obj) -> ObjRef:
    m = peek_meta(obj)
    return (bucket, m.get("namespace", ""), m.get("name", ""))


class ControllerSet:
    """The emulated kube-controller-manager and apiextensions controllers of one server."""

    def __init__(self, api: ApiServer, clock: Clock) -> None:
        self.api = api
        self.clock = clock
        self._dependents: dict[str, set[ObjRef]] = defaultdict(set)
        self._queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        api.store.listen(self.on_event)

    # --- events ------------------------------------------------------------------------------
    def on_event(self, event: Event) -> None:
        obj, bucket = event.obj, event.bucket
        ref = _ref(bucket, obj)
        m = peek_meta(obj)
        uid = m.get("uid", "")
        if event.old is not None:
            for owner in _owner_uids(event.old):
                self._dependents[owner].discard(ref)
        if event.type == DELETED:
            self._queue.put_nowait(("owner-gone", uid))
            for owner in _owner_uids(event.old or obj):
                self._queue.put_nowait(("owner", owner))
        else:
            owners = _owner_uids(obj)
            for owner in owners:
                self._dependents[owner].add(ref)
            if owners and event.type == "ADDED":
                self._queue.put_nowait(("dangling", ref))
            finalizers = m.get("finalizers") or []
            if m.get("deletionTimestamp") and (FOREGROUND in finalizers or ORPHAN in finalizers):
                self._queue.put_nowait(("owner", uid))
        if bucket == _NS_BUCKET:
            self._on_namespace(event)
        elif bucket == _CRD_BUCKET:
            self._on_crd(event)

    def _on_namespace(self, event: Event) -> None:
        name = peek_meta(event.obj).get("name", "")
        if event.type == "ADDED":
            self._ensure_default_account(name)
        elif event.type != DELETED and peek_meta(event.obj).get("deletionTimestamp"):
            self._queue.put_nowait(("namespace", name))

    def _ensure_default_account(self, namespace: str) -> None:
        res = self.api.registry.for_kind("v1", "ServiceAccount")
        if res is None or self.api.store.get(res.bucket, namespace, "default") is not None:
            return
        body = {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "default", "namespace": namespace},
        }
        try:
            self.api.create(res, namespace, body, WriteOptions())
        except errors.APIError as err:  # pragma: no cover - logged, not fatal
            log.warning("cannot create the default service account in %s: %s", namespace, err)

    def _on_crd(self, event: Event) -> None:
        name = peek_meta(event.obj).get("name", "")
        if event.type == DELETED:
            self.api.registry.set_custom(name, [])
            return
        self.api.registry.set_custom(name, crds.served_resources(event.obj))
        if peek_meta(event.obj).get("deletionTimestamp"):
            self._queue.put_nowait(("crd-delete", name))
        elif not _established(event.obj):
            self._queue.put_nowait(("crd-status", name))

    # --- loop -------------------------------------------------------------------------------
    def start(self) -> None:
        self._tasks.append(asyncio.ensure_future(self._run()))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def _run(self) -> None:
        while True:
            kind, arg = await self._queue.get()
            try:
                await self._handle(kind, arg)
            except errors.APIError as err:
                log.debug("controller %s %s: %s", kind, arg, err)
            except Exception:  # a controller bug must not stop the others
                log.exception("controller %s %s failed", kind, arg)

    async def _handle(self, kind: str, arg: Any) -> None:
        if kind == "owner-gone":
            self._owner_gone(arg)
        elif kind == "owner":
            self._process_owner(arg)
        elif kind == "dangling":
            self._check_dangling(arg)
        elif kind == "namespace":
            await self._finish_namespace(arg)
        elif kind == "crd-status":
            self._crd_status(arg)
        elif kind == "crd-delete":
            await self._crd_cleanup(arg)

    # --- garbage collection -------------------------------------------------------------------
    def _resource(self, bucket: BucketKey) -> ServedResource | None:
        return self.api.registry.storage_version(*bucket)

    def _live(self, refs: Iterable[ObjRef]) -> list[tuple[ServedResource, Obj]]:
        out = []
        for bucket, ns, name in list(refs):
            obj = self.api.store.get(bucket, ns, name)
            res = self._resource(bucket)
            if obj is not None and res is not None:
                out.append((res, obj))
        return out

    def _delete(self, res: ServedResource, obj: Obj, propagation: str) -> None:
        m = peek_meta(obj)
        if m.get("deletionTimestamp"):
            return
        with contextlib.suppress(errors.NotFound):
            self.api.delete(
                res, m.get("namespace", ""), m["name"], DeleteOptions(propagation=propagation)
            )

    def _drop_owner_ref(self, res: ServedResource, obj: Obj, owner_uid: str) -> None:
        refs = [r for r in peek_meta(obj).get("ownerReferences") or [] if r.get("uid") != owner_uid]
        new_meta = {**obj["metadata"], "ownerReferences": refs}
        if not refs:
            new_meta.pop("ownerReferences")
        self.api.write_object(res, {**obj, "metadata": new_meta})

    def _owner_exists(self, uid: str) -> bool:
        return self.api.store.by_uid_get(uid) is not None

    def _owner_gone(self, uid: str) -> None:
        for res, dep in self._live(self._dependents.pop(uid, set())):
            others = [o for o in _owner_uids(dep) if o != uid and self._owner_exists(o)]
            if others:
                self._drop_owner_ref(res, dep, uid)
            else:
                self._delete(res, dep, "Background")

    def _check_dangling(self, ref: ObjRef) -> None:
        for res, obj in self._live([ref]):
            owners = _owner_uids(obj)
            if owners and not any(self._owner_exists(o) for o in owners):
                self._delete(res, obj, "Background")

    def _process_owner(self, uid: str) -> None:
        found = self.api.store.by_uid_get(uid)
        if found is None:
            return
        bucket, owner = found
        res = self._resource(bucket)
        m = peek_meta(owner)
        if res is None or not m.get("deletionTimestamp"):
            return
        finalizers = m.get("finalizers") or []
        dependents = self._live(self._dependents.get(uid, set()))
        if ORPHAN in finalizers:
            for dep_res, dep in dependents:
                self._drop_owner_ref(dep_res, dep, uid)
            self.api.remove_finalizer(res, owner, ORPHAN)
            return
        if FOREGROUND in finalizers:
            for dep_res, dep in dependents:
                self._delete(dep_res, dep, "Foreground")
            blocking = [
                dep
                for _, dep in self._live(self._dependents.get(uid, set()))
                if any(
                    r.get("uid") == uid and r.get("blockOwnerDeletion")
                    for r in peek_meta(dep).get("ownerReferences") or []
                )
            ]
            if not blocking:
                self.api.remove_finalizer(res, owner, FOREGROUND)

    # --- namespaces ----------------------------------------------------------------------------
    async def _finish_namespace(self, name: str) -> None:
        ns_res = self.api.registry.for_kind("v1", "Namespace")
        if ns_res is None:
            return
        for _ in range(100_000):  # bounded: a namespace whose objects never go stays Terminating
            ns = self.api.store.get(_NS_BUCKET, "", name)
            if ns is None or not peek_meta(ns).get("deletionTimestamp"):
                return
            remaining = list(self.api.store.in_namespace(name))
            for bucket, obj in remaining:
                res = self._resource(bucket)
                if res is not None:
                    self._delete(res, obj, "Background")
            if not list(self.api.store.in_namespace(name)):
                spec = {**(ns.get("spec") or {}), "finalizers": []}
                finished = {**ns, "spec": spec}
                if not peek_meta(ns).get("finalizers"):
                    self.api._finish_delete(ns_res, finished)
                else:
                    self.api.write_object(ns_res, finished)
                return
            await self.clock.sleep(0.2)

    # --- CRDs ------------------------------------------------------------------------------
    def _crd_status(self, name: str) -> None:
        crd = self.api.store.get(_CRD_BUCKET, "", name)
        res = self._resource(_CRD_BUCKET)
        if crd is None or res is None or _established(crd):
            return
        now = rfc3339()
        spec = crd.get("spec") or {}
        conditions = [
            {
                "type": "NamesAccepted",
                "status": "True",
                "lastTransitionTime": now,
                "reason": "NoConflicts",
                "message": "no conflicts found",
            },
            {
                "type": "Established",
                "status": "True",
                "lastTransitionTime": now,
                "reason": "InitialNamesAccepted",
                "message": "the initial names have been accepted",
            },
        ]
        stored = [v.get("name") for v in spec.get("versions") or [] if v.get("storage")]
        status = {
            "conditions": conditions,
            "acceptedNames": spec.get("names") or {},
            "storedVersions": stored,
        }
        finalizers = list(peek_meta(crd).get("finalizers") or [])
        if CRD_FINALIZER not in finalizers:
            finalizers.append(CRD_FINALIZER)
        self.api.write_object(
            res,
            {**crd, "status": status, "metadata": {**crd["metadata"], "finalizers": finalizers}},
        )

    async def _crd_cleanup(self, name: str) -> None:
        crd = self.api.store.get(_CRD_BUCKET, "", name)
        res = self._resource(_CRD_BUCKET)
        if crd is None or res is None:
            return
        spec = crd.get("spec") or {}
        bucket = (spec.get("group", ""), (spec.get("names") or {}).get("plural", ""))
        for _ in range(100_000):
            items = self.api.store.items(bucket)
            if not items:
                break
            for obj in items:
                custom = self._resource(bucket)
                if custom is not None:
                    self._delete(custom, obj, "Background")
            await self.clock.sleep(0.2)
        current = self.api.store.get(_CRD_BUCKET, "", name)
        if current is not None:
            self.api.remove_finalizer(res, current, CRD_FINALIZER)


def _established(crd: Obj) -> bool:
    return any(
        c.get("type") == "Established" and c.get("status") == "True"
        for c in (crd.get("status") or {}).get("conditions") or []
    )
