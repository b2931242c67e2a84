"""``execute_plan``: send a plan's writes with a :class:`KubeClient`, following their fallbacks.

Owns running a :class:`~kubespark.compat.model.Plan` in order: each write's request, and when a
create answers 409 AlreadyExists, the write's ``on_conflict`` (GET + PUT with the live
resourceVersion, retried if the object changes in between; or the merge patch). It also fills
the ``uid`` of an owner reference that names an object written earlier in the same plan and has
none (the planner cannot know uids; spark-submit's Service and ConfigMaps are owned by the driver
Pod it creates first). It decides nothing else: what to send is the plan's.

A failure stops the run with :class:`PlanExecutionFailed`, which carries the objects written so
far (so a caller can clean them up) and the typed API error.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from kubespark.compat.model import ConflictAction, Plan, PlannedWrite
from kubespark.errors import KubesparkError
from kubespark.kube.client import KubeClient
from kubespark.kube.errors import APIError, Conflict
from kubespark.kube.requests import KubeRequest

__all__ = ["PlanExecutionFailed", "execute_plan"]

Obj = dict[str, Any]
_Key = tuple[str, str, str]  # kind, namespace, name


class PlanExecutionFailed(KubesparkError):
    """A write of the plan failed; ``completed`` holds what was written before it."""

    def __init__(self, write: PlannedWrite, cause: APIError, completed: list[Obj]) -> None:
        super().__init__(
            f"{write.object}: {cause.message}",
            where=cause.where,
            fix=cause.fix or "see the server's message; the objects written before it remain",
        )
        self.write = write
        self.cause = cause
        self.completed = completed


async def execute_plan(client: KubeClient, plan: Plan) -> list[Obj]:
    """Run the plan's writes in order; returns the objects the server answered with."""
    written: list[Obj] = []
    uids: dict[_Key, str] = {}
    for write in plan.writes:
        try:
            obj = await _run(client, write, uids)
        except APIError as err:
            raise PlanExecutionFailed(write, err, written) from err
        if isinstance(obj, dict):
            written.append(obj)
            meta = obj.get("metadata") or {}
            if meta.get("uid"):
                key = (write.object.kind, write.object.namespace or "", write.object.name)
                uids[key] = str(meta["uid"])
    return written


async def _run(client: KubeClient, write: PlannedWrite, uids: Mapping[_Key, str]) -> Any:
    request = _with_owner_uids(write.request, write.object.namespace or "", uids)
    try:
        return await client.send(request)
    except Conflict as err:
        action = write.on_conflict.action
        if not err.already_exists or action is ConflictAction.FAIL:
            raise
    then = write.on_conflict.then
    assert then is not None, "a fallback other than FAIL carries its request"
    then = _with_owner_uids(then, write.object.namespace or "", uids)
    if action is ConflictAction.MERGE_PATCH:
        return await client.send(then)
    return await _replace(client, write, then)


async def _replace(client: KubeClient, write: PlannedWrite, put: KubeRequest) -> Any:
    get = write.on_conflict.get
    assert get is not None, "a REPLACE fallback carries its GET"
    attempts = max(1, write.on_conflict.attempts)
    for attempt in range(attempts):
        live = await client.send(get)
        body = _replacement(put.body, live, write.on_conflict.carry)
        try:
            return await client.send(
                KubeRequest(put.method, put.path, put.query, put.content_type, body)
            )
        except Conflict as err:
            # The object changed between the GET and the PUT: read it again.
            if err.already_exists or attempt + 1 >= attempts:
                raise
    raise AssertionError("unreachable: the loop returns or raises")


def _replacement(body: Any, live: Any, carry: tuple[str, ...]) -> Obj:
    out: Obj = copy.deepcopy(body)
    live_meta = live.get("metadata") if isinstance(live, dict) else None
    version = live_meta.get("resourceVersion") if isinstance(live_meta, dict) else None
    if version:
        out.setdefault("metadata", {})["resourceVersion"] = version
    for path in carry:
        value = _get(live, path)
        if value is not None and _get(out, path) is None:
            _set(out, path, copy.deepcopy(value))
    return out


def _get(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def _set(obj: Obj, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        obj = obj.setdefault(part, {})
    obj[last] = value


def _with_owner_uids(request: KubeRequest, namespace: str, uids: Mapping[_Key, str]) -> KubeRequest:
    body = request.body
    meta = body.get("metadata") if isinstance(body, dict) else None
    refs = meta.get("ownerReferences") if isinstance(meta, dict) else None
    if not refs or not uids:
        return request
    missing = [
        i
        for i, ref in enumerate(refs)
        if isinstance(ref, dict) and not ref.get("uid") and _owner_uid(ref, namespace, uids)
    ]
    if not missing:
        return request
    new_body = copy.deepcopy(body)
    for i in missing:
        ref = new_body["metadata"]["ownerReferences"][i]
        ref["uid"] = _owner_uid(ref, namespace, uids)
    return KubeRequest(request.method, request.path, request.query, request.content_type, new_body)


def _owner_uid(ref: Mapping[str, Any], namespace: str, uids: Mapping[_Key, str]) -> str | None:
    kind, name = str(ref.get("kind", "")), str(ref.get("name", ""))
    return uids.get((kind, namespace, name)) or uids.get((kind, "", name))
