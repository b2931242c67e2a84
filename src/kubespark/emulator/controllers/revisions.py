"""ControllerRevisions: the template history of StatefulSets and DaemonSets.

Owns what ``k8s.io/kubernetes/pkg/controller/history`` does for those two controllers: one
``apps/v1`` ControllerRevision per distinct pod template, named ``<owner>-<hash>``, labelled with
the template's labels and ``controller.kubernetes.io/hash``, owned by the set, holding the
template as the patch ``kubectl rollout undo`` applies (``{"spec": {"template": {...,
"$patch": "replace"}}}``) and a ``revision`` number; a template that returns to an earlier one
takes that revision's object with the next number (as ``FindEqualRevisions`` then
``UpdateControllerRevision`` do); revisions beyond ``revisionHistoryLimit`` (default 10) that no
pod uses are deleted, oldest first. It acts through the API server's verbs only.
"""

from __future__ import annotations

import contextlib
from typing import Any

from kubespark.emulator.apiserver.api import ApiServer, DeleteOptions, WriteOptions
from kubespark.emulator.apiserver.objects import Obj, clone, peek_meta
from kubespark.emulator.apiserver.store import BucketKey
from kubespark.kube import errors

__all__ = ["HASH_LABEL", "record_revision"]

_REVISIONS: BucketKey = ("apps", "controllerrevisions")
HASH_LABEL = "controller.kubernetes.io/hash"
_MANAGER = "kube-controller-manager"


def _patch(template: Obj) -> dict[str, Any]:
    data = clone(template)
    data["$patch"] = "replace"
    return {"spec": {"template": data}}


def _template_of(revision: Obj) -> Obj:
    template = dict(((revision.get("data") or {}).get("spec") or {}).get("template") or {})
    template.pop("$patch", None)
    return template


def record_revision(
    api: ApiServer, owner: Obj, kind: str, name: str, hash_: str, in_use: set[str]
) -> None:
    """Make sure the owner's current template is its newest ControllerRevision, trim history.

    ``name`` is the revision's object name, ``in_use`` the revision names pods still carry."""
    res = api.registry.storage_version(*_REVISIONS)
    if res is None:
        return
    m = peek_meta(owner)
    ns, uid = str(m["namespace"]), m["uid"]
    template = (owner.get("spec") or {}).get("template") or {}
    owned = [
        r
        for r in api.store.items(_REVISIONS, ns)
        if any(o.get("uid") == uid for o in peek_meta(r).get("ownerReferences") or [])
    ]
    newest = max((int(r.get("revision", 0)) for r in owned), default=0)
    current = next((r for r in owned if peek_meta(r)["name"] == name), None)
    opts = WriteOptions(field_manager=_MANAGER)
    if current is None:
        body = {
            "apiVersion": "apps/v1",
            "kind": "ControllerRevision",
            "metadata": {
                "name": name,
                "namespace": ns,
                "labels": {
                    **((template.get("metadata") or {}).get("labels") or {}),
                    HASH_LABEL: hash_,
                },
                "ownerReferences": [
                    {
                        "apiVersion": str(owner.get("apiVersion", "apps/v1")),
                        "kind": kind,
                        "name": m["name"],
                        "uid": uid,
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
            },
            "data": _patch(template),
            "revision": newest + 1,
        }
        with contextlib.suppress(errors.Conflict):
            api.create(res, ns, body, opts)
    elif int(current.get("revision", 0)) < newest and _template_of(current) == template:
        api.replace_object(res, current, {**current, "revision": newest + 1}, opts)
    _trim(api, owner, owned, name, in_use)


def _trim(api: ApiServer, owner: Obj, owned: list[Obj], current: str, in_use: set[str]) -> None:
    res = api.registry.storage_version(*_REVISIONS)
    limit = int((owner.get("spec") or {}).get("revisionHistoryLimit", 10))
    old = sorted(
        (r for r in owned if peek_meta(r)["name"] not in in_use | {current}),
        key=lambda r: int(r.get("revision", 0)),
    )
    if res is None:
        return
    for revision in old[: max(0, len(old) - limit)]:
        rm = peek_meta(revision)
        with contextlib.suppress(errors.NotFound):
            api.delete(res, rm["namespace"], rm["name"], DeleteOptions())
