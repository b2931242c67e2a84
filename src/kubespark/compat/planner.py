"""``plan_writes``: objects in, the writes one server accepts out, every change explained.

Owns the decisions, per object and per server (an :class:`ApiSurface`, bundled or read from the
live server):

1. **apiVersion**: a group-version the server does not serve is mapped to one it does when a
   known conversion keeps the object's meaning (``kubespark.compat.conversions``); otherwise the
   object cannot be planned and :class:`PlanError` names the missing API and the first version
   that has it.
2. **method**: intent ``apply`` keeps server-side apply when the server has it and can type the
   body. When the only obstacle is a list-map key without a declared apply default (a Service
   port without ``protocol`` before 1.20.6/1.21), the key is filled with the value the API
   defaults it to on create (``TCP``), which changes nothing the server would store, and apply is
   kept. When the body has fields the server's schema lacks, apply would fail (HTTP 500, the
   version's own message is in the note) and the write falls back to ``POST`` of the body
   without those fields, with a JSON merge patch of the same body when the object exists: the
   same result as the apply for everything the server can hold, and nothing of an existing
   object is ever removed. Intents ``create`` and ``create-or-replace`` are ``POST``; the latter
   falls back to ``GET`` + ``PUT`` with the live resourceVersion.
3. **fields**: fields unknown to the server's version are dropped, one note each naming the
   version that added the field. A server without field validation drops them anyway; with it
   (1.25+) they would be warnings or, in Strict mode, errors.
4. **order**: ``kubespark.compat.order``.

Pure: no I/O; inputs are never modified. The plan is data; ``execute_plan`` runs it.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubespark.apisurface import history
from kubespark.apisurface.check import ProblemKind, check_object, prune_unknown_fields, resolve_kind
from kubespark.apisurface.load import known_versions, load_surface, newest_version
from kubespark.apisurface.model import ApiSurface, GroupVersionKind, Resource, SchemaKind
from kubespark.compat.applyability import ApplyPrediction, predict_apply
from kubespark.compat.conversions import Conversion, Converted, conversions_from, converted
from kubespark.compat.model import (
    ConflictAction,
    Intent,
    Note,
    NoteCode,
    ObjectRef,
    OnConflict,
    Plan,
    PlanError,
    PlannedWrite,
    WriteMethod,
)
from kubespark.compat.order import order_objects
from kubespark.kube.requests import APPLY_PATCH, JSON, MERGE_PATCH, KubeRequest, ResourcePath
from kubespark.versions import Version

__all__ = [
    "Lowered",
    "custom_resources",
    "fill_list_map_keys",
    "lower_object",
    "plan_writes",
]

Obj = dict[str, Any]

# Fields a Service's server allocates and (before patchAllocatedValues, kubernetes
# pkg/registry/core/service/storage/rest.go, 1.20) refuses to see cleared by a PUT:
# ValidateServiceUpdate answers "spec.clusterIP: field is immutable". A replace keeps the live
# values when the body has none, as that function does on newer servers.
_REPLACE_CARRY: Mapping[str, tuple[str, ...]] = {
    "Service": ("spec.clusterIP", "spec.clusterIPs", "spec.healthCheckNodePort"),
}


@dataclass(frozen=True, slots=True)
class Lowered:
    """One object made fit for one server: the body to write, how, and why it looks so."""

    ref: ObjectRef
    resource: Resource
    method: WriteMethod
    body: Obj
    notes: tuple[Note, ...] = ()
    apply: ApplyPrediction | None = None  # the prediction for the body as given (apply intent)
    unpruned: Obj | None = None  # the body before unknown fields were dropped (after mapping)


@dataclass(frozen=True, slots=True)
class _Blocked:
    ref: ObjectRef
    message: str
    fix: str


@dataclass(slots=True)
class _Context:
    surface: ApiSurface
    intent: Intent
    namespace: str
    custom: Mapping[tuple[str, str], Resource] = field(default_factory=dict)

    @property
    def server(self) -> Version:
        return self.surface.server_version or self.surface.version

    def prefix(self) -> str:
        return f"server {self.server}"


# --- public -------------------------------------------------------------------------------------


def plan_writes(
    objects: Iterable[Mapping[str, Any]],
    surface: ApiSurface,
    intent: Intent | str = Intent.APPLY,
    *,
    namespace: str = "default",
    field_manager: str = "kubespark",
    force: bool = True,
) -> Plan:
    """The ordered writes that make ``objects`` exist on a server of ``surface``.

    ``namespace`` is where namespaced objects without ``metadata.namespace`` go. Apply writes
    use ``field_manager`` and, with ``force``, take over fields other managers own (as
    spark-submit's ``?fieldManager=fabric8&force=true`` does). Raises :class:`PlanError`
    naming every object that cannot be written to this server, and why.
    """
    intent = Intent.parse(intent) if isinstance(intent, str) else intent
    bodies = [dict(o) if isinstance(o, Mapping) else o for o in objects]
    dicts = [b for b in bodies if isinstance(b, dict)]
    ctx = _Context(surface, intent, namespace, custom_resources(dicts, surface))
    results = [_lower_in(ctx, body) for body in bodies]
    blocked = tuple((r.ref, r.message, r.fix) for r in results if isinstance(r, _Blocked))
    if blocked:
        raise PlanError(blocked, ctx.server)
    lowered = [r for r in results if isinstance(r, Lowered)]
    ordered = order_objects(lowered, [lo.body for lo in lowered])
    writes = tuple(_write(lo, ctx, field_manager, force) for lo in ordered)
    return Plan(ctx.server, intent, writes)


def lower_object(
    surface: ApiSurface,
    obj: Mapping[str, Any],
    intent: Intent | str = Intent.APPLY,
    *,
    namespace: str = "default",
) -> Lowered | tuple[str, str]:
    """One object made fit for ``surface``; or (what is wrong, the fix) when it cannot be."""
    intent = Intent.parse(intent) if isinstance(intent, str) else intent
    ctx = _Context(surface, intent, namespace, custom_resources([obj], surface))
    result = _lower_in(ctx, dict(obj))
    return (result.message, result.fix) if isinstance(result, _Blocked) else result


# --- one object ---------------------------------------------------------------------------------


def _lower_in(ctx: _Context, body: Any) -> Lowered | _Blocked:
    if not isinstance(body, dict):
        what = f"a {type(body).__name__}"
        return _Blocked(
            ObjectRef("", "", ""), f"{what} is not a Kubernetes object", "give one mapping each"
        )
    ref = ObjectRef.of(body, None)
    resource, problem = resolve_kind(ctx.surface, body)
    if problem is not None and problem.kind is ProblemKind.MISSING_KIND:
        return _Blocked(ref, problem.message, problem.fix)
    if not isinstance(body.get("metadata"), dict) or not (
        body["metadata"].get("name") or body["metadata"].get("generateName")
    ):
        return _Blocked(ref, "the object has no metadata.name", "set metadata.name")
    notes: list[Note] = []
    if resource is None:
        custom = ctx.custom.get((str(body["apiVersion"]), str(body["kind"])))
        if custom is not None:
            ref = _with_namespace(ref, custom, ctx)
            note = (
                f"{ctx.prefix()}: {ref.kind} is defined by a CustomResourceDefinition of this plan"
            )
            notes.append(Note(NoteCode.CUSTOM_RESOURCE, ref, "", note))
            return _lower_custom(ctx, ref, custom, body, notes)
        mapped = _map_api_version(ctx, ref, body)
        if isinstance(mapped, _Blocked):
            return mapped
        resource, body, mapping_notes = mapped
        notes.extend(mapping_notes)
    ref = _with_namespace(ObjectRef.of(body, None), resource, ctx)
    if ctx.intent is Intent.APPLY:
        return _lower_for_apply(ctx, ref, resource, body, notes)
    pruned, pruned_notes = _pruned(ctx, ref, body)
    notes.extend(pruned_notes)
    return Lowered(ref, resource, WriteMethod.CREATE, pruned, tuple(notes), None, body)


def _with_namespace(ref: ObjectRef, resource: Resource, ctx: _Context) -> ObjectRef:
    if not resource.namespaced:
        return ObjectRef(ref.api_version, ref.kind, ref.name, None)
    return ObjectRef(ref.api_version, ref.kind, ref.name, ref.namespace or ctx.namespace)


def _lower_custom(
    ctx: _Context, ref: ObjectRef, resource: Resource, body: Obj, notes: list[Note]
) -> Lowered:
    # Its schema is the CRD's own, not in the surface: the server judges the fields.
    named = bool(body["metadata"].get("name"))
    if ctx.intent is Intent.APPLY and ctx.surface.behaviours.server_side_apply and named:
        return Lowered(ref, resource, WriteMethod.APPLY, body, tuple(notes))
    return Lowered(ref, resource, WriteMethod.CREATE, body, tuple(notes))


def _lower_for_apply(
    ctx: _Context, ref: ObjectRef, resource: Resource, body: Obj, notes: list[Note]
) -> Lowered:
    surface = ctx.surface
    if not surface.behaviours.server_side_apply:
        message = f"{ctx.prefix()}: server-side apply is not available"
        notes.append(Note(NoteCode.APPLY_UNAVAILABLE, ref, "", message))
        return _fallback(ctx, ref, resource, body, notes, None, "it has no server-side apply")
    if not body["metadata"].get("name"):
        reason = "apply needs metadata.name and the object has only generateName"
        return _fallback(ctx, ref, resource, body, notes, None, reason)
    prediction = predict_apply(surface, body, namespace=ref.namespace)
    if not prediction.fails:
        return Lowered(ref, resource, WriteMethod.APPLY, body, tuple(notes), prediction)
    if prediction.only_omitted_keys:
        filled, fill_notes = _fill_keys(ctx, ref, resource, body)
        if fill_notes and not predict_apply(surface, filled, namespace=ref.namespace).fails:
            notes.extend(fill_notes)
            return Lowered(ref, resource, WriteMethod.APPLY, filled, tuple(notes), prediction)
    # Every cause, not only those the server's message names (it stops at the first per list).
    message = (
        f"{ctx.prefix()}: server-side apply of this {ref.kind} would fail with HTTP "
        f"{prediction.http_status}: {prediction.causes()}"
    )
    notes.append(Note(NoteCode.APPLY_WOULD_FAIL, ref, "", message))
    return _fallback(ctx, ref, resource, body, notes, prediction, "")


def _fallback(
    ctx: _Context,
    ref: ObjectRef,
    resource: Resource,
    body: Obj,
    notes: list[Note],
    prediction: ApplyPrediction | None,
    reason: str,
) -> Lowered:
    pruned, pruned_notes = _pruned(ctx, ref, body)
    dropped = ", ".join(
        f"{n.path[1:]}" + (f" (added in {n.added_in})" if n.added_in else "") for n in pruned_notes
    )
    message = f"{ctx.prefix()}: created the {ref.kind} with POST instead of apply"
    if reason:
        message += f" ({reason})"
    if dropped:
        message += f"; dropped {dropped}"
    named = bool(body["metadata"].get("name"))
    if named:
        message += "; if it exists, the same body is sent as a JSON merge patch"
    notes.append(Note(NoteCode.FALLBACK_TO_CREATE, ref, "", message))
    notes.extend(pruned_notes)
    return Lowered(ref, resource, WriteMethod.CREATE, pruned, tuple(notes), prediction, body)


# --- pruning and filling ------------------------------------------------------------------------


def _pruned(ctx: _Context, ref: ObjectRef, body: Obj) -> tuple[Obj, list[Note]]:
    problems = [p for p in check_object(ctx.surface, body) if p.kind is ProblemKind.UNKNOWN_FIELD]
    if not problems:
        return body, []
    pruned, removed = prune_unknown_fields(ctx.surface, body)
    by_path = {p.path: p for p in problems}
    notes = []
    for path in removed:
        problem = by_path.get(path)
        added = _added_in(problem.type_name, problem.field, ctx.surface) if problem else None
        notes.append(
            Note(
                NoteCode.PRUNED_FIELD,
                ref,
                path,
                f"{ctx.prefix()}: dropped {path[1:]}, {_field_story(problem, added, ctx)}",
                added,
            )
        )
    return pruned, notes


def _added_in(type_name: str, field_name: str, surface: ApiSurface) -> Version | None:
    if not type_name:
        return None
    later = [
        v for v in history.field_history(type_name, field_name).present_in if v > surface.version
    ]
    return later[0] if later else None


def _field_story(problem: Any, added: Version | None, ctx: _Context) -> str:
    if added is not None:
        return f"added in {added}"
    if problem is not None and problem.type_name:
        present = history.field_history(problem.type_name, problem.field).present_in
        if present:
            return f"removed after {present[-1]}"
    return f"unknown to {ctx.server}'s schema"


@functools.cache
def _api_key_defaults() -> Mapping[str, Mapping[str, str]]:
    """Element type -> list-map key -> the value the API sets when a create omits it.

    The newest bundled version declares them for apply (``+default=`` markers); the same values
    are what every version's defaulting sets on create, so filling them changes nothing stored.
    """
    return load_surface(newest_version()).behaviours.key_defaults_by_element


def fill_list_map_keys(surface: ApiSurface, obj: Mapping[str, Any]) -> tuple[Obj, list[Note]]:
    """``obj`` with every list-map key this version cannot default in apply set to its API value.

    Only keys the API defaults on create (``protocol: TCP``) are filled, so a create stores the
    same object, and a server-side apply of the result can be typed. Returns a copy (or ``obj``
    itself when nothing was missing) and a note per filled key.
    """
    resource = surface.resource(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
    if resource is None:
        return dict(obj), []
    ctx = _Context(surface, Intent.APPLY, "default")
    filled, notes = _fill_keys(ctx, ObjectRef.of(obj), resource, dict(obj))
    return (filled, notes) if notes else (dict(obj), [])


def _fill_keys(
    ctx: _Context, ref: ObjectRef, resource: Resource, body: Obj
) -> tuple[Obj, list[Note]]:
    notes: list[Note] = []
    filled = copy.deepcopy(body)
    _fill(ctx, ref, resource.type_name, filled, "", notes)
    return filled, notes


def _fill(
    ctx: _Context, ref: ObjectRef, type_name: str, value: Any, path: str, notes: list[Note]
) -> None:
    typedef = ctx.surface.types.get(type_name)
    if typedef is None or not isinstance(value, dict):
        return
    for prop, schema in typedef.properties.items():
        child = value.get(prop)
        if child is None:
            continue
        where = f"{path}.{prop}"
        if schema.kind is SchemaKind.OBJECT and schema.ref:
            _fill(ctx, ref, schema.ref, child, where, notes)
        elif schema.kind is SchemaKind.ARRAY and schema.items and schema.items.ref:
            _fill_list(ctx, ref, (type_name, prop), schema, child, where, notes)
        elif schema.kind is SchemaKind.MAP and schema.items and isinstance(child, dict):
            for k, v in child.items():
                if schema.items.ref:
                    _fill(ctx, ref, schema.items.ref, v, f"{where}[{k}]", notes)


def _fill_list(
    ctx: _Context,
    ref: ObjectRef,
    holder: tuple[str, str],
    schema: Any,
    items: Any,
    path: str,
    notes: list[Note],
) -> None:
    if not isinstance(items, list):
        return
    element_type = schema.items.ref
    _, keys = schema.apply_list()
    declared = ctx.surface.behaviours.apply_key_defaults.get(holder, {})
    known = _api_key_defaults().get(element_type, {})
    fill = {k: v for k, v in known.items() if k in keys and k not in declared}
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        for key, default in fill.items():
            if item.get(key) is None:
                item[key] = default
                message = (
                    f"{ctx.prefix()}: filled {path[1:]}[{i}].{key}: {default}, the value the API "
                    f"defaults it to; this version's server-side apply has no default for the "
                    f"list-map key {key!r} and would fail without it"
                )
                notes.append(Note(NoteCode.FILLED_LIST_MAP_KEY, ref, f"{path}[{i}].{key}", message))
        _fill(ctx, ref, element_type, item, f"{path}[{i}]", notes)


# --- apiVersion mapping -------------------------------------------------------------------------


def _map_api_version(
    ctx: _Context, ref: ObjectRef, body: Obj
) -> tuple[Resource, Obj, list[Note]] | _Blocked:
    gvk = GroupVersionKind.from_api_version(str(body["apiVersion"]), str(body["kind"]))
    losses: list[str] = []
    for conversion in conversions_from(gvk.api_version, gvk.kind):
        resource = ctx.surface.resource(conversion.target, gvk.kind)
        if resource is None:
            continue
        result = converted(conversion, body, ctx.surface)
        if result.loss is not None:
            losses.append(f"as {conversion.target}: {result.loss}")
            continue
        return resource, result.body, _mapping_notes(ctx, ref, gvk, conversion, result)
    _, problem = resolve_kind(ctx.surface, body)
    message = problem.message if problem else f"{gvk} is not served by Kubernetes {ctx.server}"
    fix = problem.fix if problem else "target another version"
    first = history.introduced_in(gvk) if ctx.surface.version in known_versions() else None
    later = first is not None and first > ctx.surface.version
    if ctx.surface.version in known_versions() and not history.served_in(gvk):
        first_known, last_known = known_versions()[0], known_versions()[-1]
        message += f" (nor by any version from {first_known} to {last_known})"
    if losses:
        message += "; no lossless mapping: " + "; ".join(losses)
        fix = "rewrite the object without what the served apiVersions cannot express"
    if later:
        fix = f"{fix}; or run Kubernetes {first} or newer, the first to serve {gvk.api_version}"
    return _Blocked(ref, message, fix)


def _mapping_notes(
    ctx: _Context, ref: ObjectRef, gvk: GroupVersionKind, conversion: Conversion, result: Converted
) -> list[Note]:
    story = ""
    if ctx.surface.version in known_versions():
        removed = history.removed_in(gvk)
        first = history.introduced_in(gvk)
        if removed is not None and removed <= ctx.surface.version:
            story = f" (removed in {removed})"
        elif first is not None and first > ctx.surface.version:
            story = f" (served from {first})"
    message = (
        f"{ctx.prefix()}: does not serve {gvk.api_version} {gvk.kind}{story}; written as "
        f"{conversion.target}, which keeps its meaning"
    )
    target_gvk = GroupVersionKind.from_api_version(conversion.target, gvk.kind)
    first_target = (
        history.introduced_in(target_gvk) if ctx.surface.version in known_versions() else None
    )
    notes = [Note(NoteCode.MAPPED_API_VERSION, ref, ".apiVersion", message, first_target)]
    for path, what in result.changes:
        notes.append(
            Note(NoteCode.CONVERTED_FIELD, ref, path, f"{ctx.prefix()}: {path[1:]}: {what}")
        )
    return notes


# --- custom resources of CRDs in the same batch -------------------------------------------------


def custom_resources(
    bodies: Sequence[Mapping[str, Any]], surface: ApiSurface
) -> dict[tuple[str, str], Resource]:
    """(apiVersion, kind) -> Resource of each kind the CRDs among ``bodies`` define and the
    surface does not already serve."""
    out: dict[tuple[str, str], Resource] = {}
    for body in bodies:
        if body.get("kind") != "CustomResourceDefinition" or not isinstance(body.get("spec"), dict):
            continue
        spec = body["spec"]
        names = spec.get("names") if isinstance(spec.get("names"), dict) else {}
        assert isinstance(names, dict)
        group, kind, plural = spec.get("group"), names.get("kind"), names.get("plural")
        if not (isinstance(group, str) and isinstance(kind, str) and isinstance(plural, str)):
            continue
        versions = [v.get("name") for v in spec.get("versions") or [] if isinstance(v, dict)]
        versions += [spec["version"]] if isinstance(spec.get("version"), str) else []
        for version in versions:
            gvk = GroupVersionKind(group, str(version), kind)
            if surface.resource(gvk.api_version, kind) is None:
                out[(gvk.api_version, kind)] = Resource(
                    gvk=gvk,
                    plural=plural,
                    singular=str(names.get("singular") or kind.lower()),
                    namespaced=spec.get("scope", "Namespaced") != "Cluster",
                    verbs=frozenset(
                        {"create", "delete", "get", "list", "patch", "update", "watch"}
                    ),
                )
    return out


# --- requests -----------------------------------------------------------------------------------


def _write(lowered: Lowered, ctx: _Context, field_manager: str, force: bool) -> PlannedWrite:
    paths = ResourcePath(lowered.resource)
    ns = lowered.ref.namespace
    body = lowered.body
    if lowered.method is WriteMethod.APPLY:
        query = [("fieldManager", field_manager)] + ([("force", "true")] if force else [])
        request = KubeRequest(
            "PATCH", paths.item(lowered.ref.name, ns), tuple(query), APPLY_PATCH, body
        )
        return PlannedWrite(
            lowered.ref,
            lowered.resource,
            WriteMethod.APPLY,
            request,
            OnConflict(ConflictAction.FAIL),
            lowered.notes,
        )
    manager = (("fieldManager", field_manager),)
    create = KubeRequest("POST", paths.collection(ns), manager, JSON, body)
    name = str(body["metadata"].get("name") or "")
    if not name or ctx.intent is Intent.CREATE:
        on_conflict = OnConflict(ConflictAction.FAIL)
    elif ctx.intent is Intent.APPLY:
        patch = KubeRequest(
            "PATCH",
            paths.item(name, ns),
            manager,
            MERGE_PATCH,
            body,
        )
        on_conflict = OnConflict(ConflictAction.MERGE_PATCH, then=patch)
    else:
        on_conflict = OnConflict(
            ConflictAction.REPLACE,
            get=KubeRequest("GET", paths.item(name, ns)),
            then=KubeRequest("PUT", paths.item(name, ns), manager, JSON, body),
            carry=_REPLACE_CARRY.get(lowered.ref.kind, ()),
        )
    return PlannedWrite(
        lowered.ref, lowered.resource, WriteMethod.CREATE, create, on_conflict, lowered.notes
    )
