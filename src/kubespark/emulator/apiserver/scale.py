"""The ``scale`` subresource: GET, PUT and PATCH of an ``autoscaling/v1`` Scale.

Owns turning a workload (Deployment, ReplicaSet, StatefulSet, ReplicationController, a custom
resource with a scale subresource) into its Scale and a changed Scale back into the workload's
replica count, as the registries' ``ScaleREST`` do. It writes through the API server's update
path (resourceVersion, generation, managedFields) and must not decide anything about the
workload beyond its replica count; the controllers act on the change.
"""

from __future__ import annotations

from typing import Any

from kubespark.emulator.apiserver.api import ApiServer, WriteOptions
from kubespark.emulator.apiserver.objects import Obj
from kubespark.emulator.apiserver.registry import ServedResource
from kubespark.emulator.apiserver.wire import bad_request, modified_conflict
from kubespark.patch.decode import BodyError, decode_yaml
from kubespark.patch.json_patch import JSONPatchError, apply_json_patch, decode_json_patch
from kubespark.patch.merge_patch import apply_merge_patch, decode_merge_patch

__all__ = ["get_scale", "patch_scale", "update_scale"]

_META_KEYS = ("name", "namespace", "uid", "resourceVersion", "creationTimestamp", "selfLink")


def _paths(res: ServedResource) -> tuple[list[str], list[str], str | None]:
    """spec replicas path, status replicas path, label selector path (None: the built-in's)."""
    if res.custom is not None and res.custom.scale:
        scale = res.custom.scale
        spec = str(scale.get("specReplicasPath", ".spec.replicas")).lstrip(".").split(".")
        status = str(scale.get("statusReplicasPath", ".status.replicas")).lstrip(".").split(".")
        selector = scale.get("labelSelectorPath")
        return spec, status, str(selector).lstrip(".") if selector else None
    return ["spec", "replicas"], ["status", "replicas"], None


def _dig(obj: Any, path: list[str]) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _selector_string(selector: Any) -> str:
    """``metav1.FormatLabelSelector`` for the common forms (matchLabels, In/NotIn/Exists)."""
    if not isinstance(selector, dict):
        return ""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key", ""), expr.get("operator", ""), expr.get("values") or []
        if op in ("In", "NotIn"):
            parts.append(f"{key} {op.lower()} ({','.join(sorted(values))})")
        elif op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts)


def to_scale(res: ServedResource, obj: Obj) -> Obj:
    spec_path, status_path, selector_path = _paths(res)
    status: dict[str, Any] = {"replicas": _dig(obj, status_path) or 0}
    if selector_path is not None:
        selector = _dig(obj, selector_path.split("."))
        if selector:
            status["selector"] = selector
    else:
        selector = _selector_string(_dig(obj, ["spec", "selector"]))
        if selector:
            status["selector"] = selector
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {k: v for k, v in obj["metadata"].items() if k in _META_KEYS},
        "spec": {"replicas": _dig(obj, spec_path) or 0},
        "status": status,
    }


def get_scale(api: ApiServer, res: ServedResource, ns: str, name: str) -> Obj:
    return to_scale(res, api.get(res, ns, name))


def update_scale(
    api: ApiServer, res: ServedResource, ns: str, name: str, body: Any, opts: WriteOptions
) -> Obj:
    """PUT: the Scale's ``spec.replicas`` becomes the workload's (its resourceVersion guards)."""
    obj = api.get(res, ns, name)
    if not isinstance(body, dict):
        raise bad_request("the body of a Scale must be a JSON object")
    replicas = (body.get("spec") or {}).get("replicas")
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        raise bad_request("spec.replicas: Required value: a non-negative integer")
    rv = (body.get("metadata") or {}).get("resourceVersion")
    if rv and rv != obj["metadata"].get("resourceVersion"):
        raise modified_conflict(
            res.group,
            res.plural,
            name,
            "the object has been modified; please apply your changes to the latest version and "
            "try again",
        )
    spec_path, _, _ = _paths(res)
    new = _with(obj, spec_path, replicas)
    return to_scale(res, api.replace_object(res, obj, new, opts).obj)


def patch_scale(
    api: ApiServer,
    res: ServedResource,
    ns: str,
    name: str,
    body: bytes,
    media: str,
    opts: WriteOptions,
) -> Obj:
    """PATCH: the patch applies to the Scale (JSON, merge, strategic or apply), then as PUT."""
    current = get_scale(api, res, ns, name)
    try:
        if media == "application/json-patch+json":
            patched = apply_json_patch(current, decode_json_patch(body))
        elif media == "application/apply-patch+yaml":
            # Scale has no lists or maps with keys: an apply's intent is a merge of its fields.
            patched = apply_merge_patch(current, decode_yaml(body))
        else:  # merge and strategic merge are the same on a Scale (no lists)
            patched = apply_merge_patch(current, decode_merge_patch(body))
    except (BodyError, JSONPatchError) as err:
        raise bad_request(str(err)) from None
    if isinstance(patched, dict):
        patched.setdefault("metadata", {}).pop("resourceVersion", None)
    return update_scale(api, res, ns, name, patched, opts)


def _with(obj: Obj, path: list[str], value: Any) -> Obj:
    """``obj`` with the field at ``path`` set to ``value`` (maps on the way are copied)."""
    head, rest = path[0], path[1:]
    if not rest:
        return {**obj, head: value}
    child = obj.get(head)
    return {**obj, head: _with(child if isinstance(child, dict) else {}, rest, value)}
