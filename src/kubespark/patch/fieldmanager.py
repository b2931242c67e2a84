"""The API server's field manager: server-side apply and the ownership every write records.

Owns the chain of ``k8s.io/apimachinery/pkg/util/managedfields`` and the structured-merge-diff
``merge.Updater`` it drives, over plain objects:

- :func:`apply` -- an apply configuration onto the live object (or onto an empty object: create
  via apply): the version check, the client-side-apply migration for ``kubectl``
  (lastappliedmanager.go / lastappliedupdater.go), ``before-first-apply`` ownership for objects
  that have none (skipnonapplied.go), the typed conversion with the version's failure text,
  merge, pruning of fields the applier stopped applying, conflicts (or taking ownership with
  ``force``), a no-op that changes nothing, the applier's time;
- :func:`update` -- what a create, update or non-apply patch records: the fields the write
  changed go to its manager (an ``Update`` entry), fields it removed leave every owner.

Both strip metadata nobody owns, cap updaters at ten, and write ``metadata.managedFields``
sorted as the server sorts it. Errors are exceptions of this module; :mod:`kubespark.patch.api`
turns them into the Status a server answers. Versions of one kind are treated as one shape (the
converter between served versions is the identity).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from kubespark.apisurface.model import GroupVersionKind, typing_failure_of
from kubespark.patch.created import created_fields_v1
from kubespark.patch.fieldpath import FieldSet, Path, PathElement
from kubespark.patch.managed import (
    APPLY,
    UPDATE,
    Managed,
    ManagedFieldsError,
    VersionedSet,
    cap_update_managers,
    decode_managed_fields,
    encode_managed_fields,
    format_time,
    is_reset,
    manager_identifier,
    strip_meta,
)
from kubespark.patch.rules import TypingRules
from kubespark.patch.schema import SchemaIndex, TypeRef
from kubespark.patch.typed import (
    TypingError,
    compare,
    ensure_named_fields_are_members,
    merge,
    remove_items,
    to_field_set,
    validate,
)
from kubespark.patch.values import JSON, MISSING, deep_copy, json_compact, values_equal

__all__ = [
    "ApplyFailed",
    "Conflicts",
    "ObjectType",
    "TypedPatchFailed",
    "apply",
    "update",
    "updater_apply",
    "updater_update",
]

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
BEFORE_FIRST_APPLY = "before-first-apply"
_CURRENT_OPERATION = "current-operation"
_MAX_ANNOTATIONS_BYTES = (
    256 * 1024
)  # apimachinery ValidateAnnotationsSize (TotalAnnotationSizeLimitB)

_UNTYPED = ("__untyped_deduced_", "__untyped_atomic_")
# The prefixes of the other two typing failures (structuredmerge.go); the same in every version
# that has server-side apply, unlike the typed-patch prefix, which is behaviours.yaml's.
_LIVE_PREFIX = "failed to create typed live object ({namespace}/{name}; {gvk}): "
_NEW_PREFIX = "failed to convert new object ({namespace}/{name}; {gvk}) to smd typed: "

Prepare = Callable[[dict[str, JSON]], dict[str, JSON]]


class ApplyFailed(Exception):
    """An apply the server refuses; ``code`` is the HTTP status, the message the server's."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class TypedPatchFailed(ApplyFailed):
    """The 500 "failed to create typed patch object": the body does not fit the schema."""

    def __init__(self, message: str, errors: tuple[TypingError, ...]) -> None:
        super().__init__(500, message)
        self.errors = errors


@dataclass(frozen=True, slots=True)
class Conflict:
    manager: str  # the manager identifier (JSON)
    path: Path


class Conflicts(Exception):
    """Fields other managers own that an apply without force would change."""

    def __init__(self, conflicts: tuple[Conflict, ...]) -> None:
        super().__init__(f"{len(conflicts)} conflicts")
        self.conflicts = conflicts


@dataclass(frozen=True, slots=True)
class ObjectType:
    """What the field manager needs to know about the resource a request writes."""

    index: SchemaIndex
    type_name: str
    gvk: GroupVersionKind  # the served version the request uses
    rules: TypingRules
    subresource: str = ""
    has_spec: bool = True
    has_status: bool = True
    custom_resource: bool = False

    @property
    def ref(self) -> TypeRef:
        return TypeRef(self.type_name)

    @property
    def reset(self) -> FieldSet:
        """Fields writes to this (sub)resource neither own nor conflict on (resetFields).

        The main resource resets ``.status`` and the status subresource ``.spec`` (the field
        each strategy's ``GetResetFields`` names for every kind; some kinds reset a few
        metadata fields more, which this does not model).
        """
        if not self.rules.ignore_status or not self.has_status:
            return FieldSet()
        if not self.subresource:
            return FieldSet.of((PathElement.field("status"),))
        if self.subresource == "status" and self.has_spec:
            return FieldSet.of((PathElement.field("spec"),))
        return FieldSet()

    @property
    def recorded_subresource(self) -> str:
        """The entries' ``subresource`` (a field servers write from 1.22)."""
        return self.subresource if self.rules.subresource_entries else ""

    def zero_object(self) -> dict[str, JSON]:
        """``scope.Creater.New(kind)`` as unstructured: non-pointer structs present, empty.

        A custom resource's is an Unstructured that knows only its apiVersion and kind.
        """
        if self.custom_resource:
            return {"apiVersion": self.gvk.api_version, "kind": self.gvk.kind}
        obj: dict[str, JSON] = {"metadata": {"creationTimestamp": None}}
        if self.has_spec:
            obj["spec"] = {}
        if self.has_status:
            obj["status"] = {}
        return obj


@dataclass
class _State:
    managed: Managed
    now: str
    prepare: Prepare | None = None
    changed: bool = False
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _ApplyRequest:
    """One apply as the manager chain hands it on, each layer to the next (Go's
    ``Apply(liveObj, appliedObj, managed, fieldManager, force)``; the managed fields are the
    mutable ``_State`` beside it)."""

    ot: ObjectType
    live: dict[str, JSON]
    config: dict[str, JSON]
    identifier: str
    force: bool


# --- the structured-merge-diff updater ------------------------------------------------------


def _typed_set(ot: ObjectType, value: JSON) -> FieldSet:
    return to_field_set(value, ot.ref, ot.index, optional_keys=ot.rules.optional_keys)


def _smd_update(
    ot: ObjectType,
    old: JSON,
    new: JSON,
    managers: dict[str, VersionedSet],
    workflow: str,
    force: bool,
) -> tuple[dict[str, VersionedSet], FieldSet, FieldSet, FieldSet]:
    """``Updater.update``: moves changed fields away from their owners, or reports conflicts."""
    cmp = compare(old, new, ot.ref, ot.index, optional_keys=ot.rules.optional_keys)
    cmp = cmp.excluding(ot.reset)
    changed = cmp.modified.union(cmp.added)
    conflicts: dict[str, FieldSet] = {}
    removed: dict[str, FieldSet] = {}
    for manager, versioned in managers.items():
        if manager == workflow:
            continue
        clash = versioned.fields.intersection(changed)
        if not clash.empty():
            conflicts[manager] = clash
        if not cmp.removed.empty():
            removed[manager] = cmp.removed
    if not force and conflicts:
        found = tuple(
            Conflict(manager, path)
            for manager in sorted(conflicts)
            for path in conflicts[manager].paths()
        )
        raise Conflicts(found)
    out = dict(managers)
    for manager, fields in [*conflicts.items(), *removed.items()]:
        vs = out[manager]
        out[manager] = VersionedSet(vs.fields.difference(fields), vs.api_version, vs.applied)
    out = {m: vs for m, vs in out.items() if not vs.fields.empty()}
    return out, cmp.added, cmp.modified, cmp.removed


def updater_update(
    ot: ObjectType, live: JSON, new: JSON, managers: dict[str, VersionedSet], workflow: str
) -> dict[str, VersionedSet]:
    """structured-merge-diff's ``Updater.Update``: the writer takes what it added or changed.

    Managers are plain identifiers here; :func:`update` is the API server's chain around it.
    """
    out, added, modified, removed = _smd_update(ot, live, new, managers, workflow, force=True)
    previous = out.get(workflow, VersionedSet(FieldSet(), ot.gvk.api_version, False))
    fields = previous.fields.difference(removed).union(modified).union(added)
    fields = fields.recursive_difference(ot.reset)
    if fields.empty():
        out.pop(workflow, None)
    else:
        out[workflow] = VersionedSet(fields, ot.gvk.api_version, False)
    return out


def _ensure(ot: ObjectType, fields: FieldSet) -> FieldSet:
    return ensure_named_fields_are_members(fields, ot.ref, ot.index)


def _prune(
    ot: ObjectType,
    merged: JSON,
    managers: Mapping[str, VersionedSet],
    last: VersionedSet | None,
) -> JSON:
    """Removes what the applier applied last time and no longer does, unless others own it."""
    if last is None or last.fields.empty():
        return merged
    opt = ot.rules.optional_keys
    last_fields = _ensure(ot, last.fields)
    pruned = remove_items(merged, last_fields, ot.ref, ot.index, optional_keys=opt)
    # addBackOwnedItems: whatever any manager (the applier's new set included) owns stays.
    owned = FieldSet()
    for versioned in managers.values():
        owned = owned.union(versioned.fields)
    merged_set = _ensure(ot, _typed_set(ot, merged))
    keep = _ensure(ot, _typed_set(ot, pruned)).union(_ensure(ot, owned))
    pruned = remove_items(merged, merged_set.difference(keep), ot.ref, ot.index, optional_keys=opt)
    # addBackDanglingItems: only what the applier itself owned may go.
    gone = merged_set.difference(_ensure(ot, _typed_set(ot, pruned))).intersection(last_fields)
    return remove_items(merged, gone, ot.ref, ot.index, optional_keys=opt)


def updater_apply(
    ot: ObjectType,
    live: JSON,
    config: JSON,
    managers: dict[str, VersionedSet],
    manager: str,
    force: bool,
) -> tuple[JSON, dict[str, VersionedSet]]:
    """structured-merge-diff's ``Updater.Apply``: the merged object (MISSING when nothing
    changes) and the new ownership; :class:`Conflicts` unless ``force``. :func:`apply` is the
    API server's chain around it."""
    opt = ot.rules.optional_keys
    merged = merge(live, config, ot.ref, ot.index, optional_keys=opt)
    last = managers.get(manager)
    applied = _typed_set(ot, config).recursive_difference(ot.reset)
    working = dict(managers)
    working[manager] = VersionedSet(applied, ot.gvk.api_version, True)
    merged = _prune(ot, merged, working, last)
    if merged is None:
        merged = {}
    out, *_ = _smd_update(ot, live, merged, working, manager, force)
    if values_equal(live, merged):
        return MISSING, out
    return merged, out


# --- the manager chain ----------------------------------------------------------------------


def _meta(obj: Mapping[str, JSON]) -> Mapping[str, JSON]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _without_managed_fields(obj: Mapping[str, JSON]) -> dict[str, JSON]:
    out = dict(obj)
    meta = dict(_meta(obj))
    meta.pop("managedFields", None)
    out["metadata"] = meta
    return out


def _with_managed_fields(obj: Mapping[str, JSON], managed: Managed) -> dict[str, JSON]:
    return _with_entries(obj, encode_managed_fields(managed))


def _with_entries(obj: Mapping[str, JSON], entries: list[dict[str, Any]] | None) -> dict[str, JSON]:
    out = dict(obj)
    meta = dict(_meta(obj))
    if entries is None:
        meta.pop("managedFields", None)
    else:
        meta["managedFields"] = entries
    out["metadata"] = meta
    return out


def _has_uid(obj: Mapping[str, JSON]) -> bool:
    return bool(_meta(obj).get("uid"))


def _typing_errors(ot: ObjectType, value: JSON, *, live: bool) -> list[TypingError]:
    errors = validate(value, ot.ref, ot.index, ot.rules)
    if live:
        # Live objects are typed with AllowDuplicates.
        errors = [e for e in errors if e.kind.value != "duplicate-key"]
    return errors


def _structured_update(
    ot: ObjectType, live: dict[str, JSON], new: dict[str, JSON], state: _State, manager: str
) -> None:
    """structuredmerge.go Update, under managedfieldsupdater.go and stripmeta.go."""
    live_t = _without_managed_fields(live)
    new_t = _without_managed_fields(new)
    # The live object was typed when it was stored; the new one is typed here, as the server
    # does, and a failure drops managedFields (UpdateNoErrors).
    errors = _typing_errors(ot, new_t, live=True)
    if errors:
        raise ApplyFailed(500, typing_failure_of(_NEW_PREFIX, [str(e) for e in errors], new_t))
    fields = updater_update(ot, live_t, new_t, dict(state.managed.fields), _CURRENT_OPERATION)
    state.managed.fields = fields
    strip_meta(state.managed, _CURRENT_OPERATION)
    taken = state.managed.fields.pop(_CURRENT_OPERATION, None)
    if taken is not None:
        previous = state.managed.fields.get(manager)
        if previous is not None:
            taken = VersionedSet(
                taken.fields.union(previous.fields), taken.api_version, taken.applied
            )
        state.managed.fields[manager] = taken
        state.managed.times[manager] = state.now
    cap_update_managers(state.managed)


def _updater_identifier(ot: ObjectType, manager: str) -> str:
    sub = ot.recorded_subresource
    return manager_identifier(manager or "unknown", UPDATE, ot.gvk.api_version, sub)


def _applier_identifier(ot: ObjectType, manager: str) -> str:
    sub = ot.recorded_subresource
    return manager_identifier(manager or "unknown", APPLY, ot.gvk.api_version, sub)


def update(
    ot: ObjectType,
    live: Mapping[str, JSON] | None,
    new: Mapping[str, JSON],
    manager: str,
    now: datetime,
) -> dict[str, JSON]:
    """``FieldManager.UpdateNoErrors``: ``new`` with the managed fields this write leaves.

    ``live`` is None for a create. ``new`` is the object as it will be stored (decoded and
    defaulted); its own ``managedFields`` are honoured when they decode (a client may set or
    reset them), else the live object's carry over.
    """
    if live is None:
        created = _created(ot, new, manager, now)
        if created is not None:
            return created
    return _update(ot, live, new, manager, now)


def _update(
    ot: ObjectType,
    live: Mapping[str, JSON] | None,
    new: Mapping[str, JSON],
    manager: str,
    now: datetime,
) -> dict[str, JSON]:
    """:func:`update` by comparing the objects, as the server does: the general path."""
    live_obj = dict(live) if live is not None else ot.zero_object()
    new_obj = dict(new)
    managed = _decode_live_or_new(live_obj, new_obj, ignore_new=bool(ot.subresource))
    if not managed.fields and _has_uid(live_obj):
        # skipnonapplied.go: an existing object nobody tracks stays untracked until an apply.
        return _with_managed_fields(new_obj, Managed())
    state = _State(managed.copy(), format_time(now))
    try:
        _structured_update(ot, live_obj, new_obj, state, _updater_identifier(ot, manager))
    except ApplyFailed:
        # UpdateNoErrors: "[SHOULD NOT HAPPEN]" -- the object is stored without managedFields.
        return _with_managed_fields(new_obj, Managed())
    return _with_managed_fields(new_obj, state.managed)


def _created(
    ot: ObjectType, new: Mapping[str, JSON], manager: str, now: datetime
) -> dict[str, JSON] | None:
    """What :func:`update` records for a create, straight from the object (see
    :mod:`kubespark.patch.created`); None when only the general path can tell."""
    entries = _meta(new).get("managedFields")
    if not (ot.subresource or entries is None or is_reset(entries)):
        return None  # the client's own managedFields may decode: they would be honoured
    reset = ot.reset
    if reset.children or any(pe.kind != "f" for pe in reset.members):
        return None
    fields = created_fields_v1(
        _without_managed_fields(new),
        _without_managed_fields(ot.zero_object()),
        ot.ref,
        ot.index,
        ot.rules,
        frozenset(pe.name for pe in reset.members),
    )
    if fields is None:
        return None
    if not fields:
        return _with_entries(new, None)
    # encode_managed_fields of the one Update entry the writer gets.
    entry: dict[str, JSON] = {
        "manager": manager or "unknown",
        "operation": UPDATE,
        "apiVersion": ot.gvk.api_version,
        "time": format_time(now),
        "fieldsType": "FieldsV1",
        "fieldsV1": fields,
    }
    if ot.recorded_subresource:
        entry["subresource"] = ot.recorded_subresource
    return _with_entries(new, [entry])


def _decode_live_or_new(
    live: Mapping[str, JSON], new: Mapping[str, JSON], *, ignore_new: bool
) -> Managed:
    def decoded(obj: Mapping[str, JSON]) -> Managed:
        try:
            return decode_managed_fields(_meta(obj).get("managedFields"))
        except ManagedFieldsError:
            return Managed()

    if ignore_new:
        return decoded(live)
    entries = _meta(new).get("managedFields")
    if is_reset(entries):
        return Managed()
    managed = decoded(new)
    return managed if managed.fields else decoded(live)


@dataclass(frozen=True, slots=True)
class ApplyOutcome:
    object: dict[str, JSON]
    changed: bool


def apply(
    ot: ObjectType,
    live: Mapping[str, JSON] | None,
    config: Mapping[str, JSON],
    manager: str,
    force: bool,
    now: datetime,
    prepare: Prepare | None = None,
) -> ApplyOutcome:
    """``FieldManager.Apply``: the object a server stores after applying ``config``.

    ``live`` None means create via apply. ``prepare`` is the server's decoding and defaulting
    of the merged object (the emulator's); it runs only when the apply changes something.
    Raises :class:`ApplyFailed` (400/500 with the server's message) or :class:`Conflicts`.
    """
    live_obj = deep_copy(dict(live)) if live is not None else ot.zero_object()
    try:
        managed = decode_managed_fields(_meta(live_obj).get("managedFields"))
    except ManagedFieldsError as exc:
        raise ApplyFailed(500, f"failed to decode managed fields: {exc}") from exc
    _version_check(ot, config)
    state = _State(managed, format_time(now), prepare)
    identifier = _applier_identifier(ot, manager)
    request = _ApplyRequest(ot, live_obj, dict(config), identifier, force)
    result = _last_applied_manager(request, state, manager)
    if manager == "kubectl" and _last_applied(result):
        result = _set_last_applied(result, _build_last_applied(config))
    return ApplyOutcome(_with_managed_fields(result, state.managed), state.changed)


def _version_check(ot: ObjectType, config: Mapping[str, JSON]) -> None:
    if not ot.rules.version_check:
        return
    api_version = str(config.get("apiVersion") or "")
    kind = str(config.get("kind") or "")
    if (api_version, kind) != (ot.gvk.api_version, ot.gvk.kind):
        group, _, version = api_version.rpartition("/")
        raise ApplyFailed(400, f"invalid object type: {group}/{version}, Kind={kind}")


def _last_applied(obj: Mapping[str, JSON]) -> str:
    annotations = _meta(obj).get("annotations")
    if isinstance(annotations, dict):
        value = annotations.get(LAST_APPLIED)
        return value if isinstance(value, str) else ""
    return ""


def _build_last_applied(config: Mapping[str, JSON]) -> str:
    obj = deep_copy(dict(config))
    meta = obj.get("metadata")
    if isinstance(meta, dict) and isinstance(meta.get("annotations"), dict):
        meta["annotations"].pop(LAST_APPLIED, None)
    return json_compact(obj) + "\n"


def _set_last_applied(obj: dict[str, JSON], value: str) -> dict[str, JSON]:
    out = dict(obj)
    meta = dict(_meta(obj))
    annotations = dict(meta.get("annotations") or {})
    annotations[LAST_APPLIED] = value
    if sum(len(k) + len(str(v)) for k, v in annotations.items()) > _MAX_ANNOTATIONS_BYTES:
        del annotations[LAST_APPLIED]
    meta["annotations"] = annotations
    out["metadata"] = meta
    return out


def _last_applied_manager(request: _ApplyRequest, state: _State, manager: str) -> dict[str, JSON]:
    """lastappliedmanager.go: ``kubectl`` may take over fields client-side apply set."""
    saved = state.managed.copy()
    try:
        return _skip_non_applied(request, state)
    except Conflicts as conflicts:
        if manager != "kubectl":
            raise
        allowed = _allowed_from_last_applied(request.ot, request.live)
        if allowed is None:
            raise
        rest = tuple(c for c in conflicts.conflicts if not allowed.has(c.path))
        if rest:
            raise Conflicts(rest) from None
        state.managed = saved
        return _skip_non_applied(replace(request, force=True), state)


def _allowed_from_last_applied(ot: ObjectType, live: Mapping[str, JSON]) -> FieldSet | None:
    text = _last_applied(live)
    if not text:
        return None
    try:
        last = json.loads(text)
    except ValueError:
        return None
    if not isinstance(last, dict) or last.get("apiVersion") != ot.gvk.api_version:
        return None
    if validate(last, ot.ref, ot.index, ot.rules):
        return None
    opt = ot.rules.optional_keys
    cmp = compare(last, live, ot.ref, ot.index, optional_keys=opt)
    fields = to_field_set(last, ot.ref, ot.index, optional_keys=opt)
    return fields.difference(cmp.modified).difference(cmp.added).difference(cmp.removed)


def _skip_non_applied(request: _ApplyRequest, state: _State) -> dict[str, JSON]:
    """skipnonapplied.go: an object nobody owns yet gets a ``before-first-apply`` owner."""
    ot, live = request.ot, request.live
    if not state.managed.fields:
        before = _updater_identifier(ot, BEFORE_FIRST_APPLY)
        try:
            _structured_update(ot, ot.zero_object(), live, state, before)
        except ApplyFailed as exc:
            raise ApplyFailed(
                500, f"failed to create manager for existing fields: {exc.message}"
            ) from exc
    result = _structured_apply(request, state)
    cap_update_managers(state.managed)
    return result


def _structured_apply(request: _ApplyRequest, state: _State) -> dict[str, JSON]:
    """structuredmerge.go Apply, under managedfieldsupdater.go and stripmeta.go."""
    ot, live, config, identifier = request.ot, request.live, request.config, request.identifier
    group_version = str(config.get("apiVersion") or "")
    if group_version != ot.gvk.api_version:
        raise ApplyFailed(
            400,
            "Incorrect version specified in apply patch. Specified patch version: "
            f"{group_version}, expected: {ot.gvk.api_version}",
        )
    if _meta(config).get("managedFields") is not None:
        raise ApplyFailed(400, "metadata.managedFields must be nil")
    errors = _typing_errors(ot, config, live=False)
    if errors:
        message = typing_failure_of(ot.rules.prefix, [str(e) for e in errors], config)
        raise TypedPatchFailed(message, tuple(errors))
    live_t = _without_managed_fields(live)
    live_errors = _typing_errors(ot, live_t, live=True)
    if live_errors:
        raise ApplyFailed(
            500, typing_failure_of(_LIVE_PREFIX, [str(e) for e in live_errors], live_t)
        )
    merged, fields = updater_apply(
        ot, live_t, config, dict(state.managed.fields), identifier, request.force
    )
    state.managed.fields = fields
    strip_meta(state.managed, identifier)
    if merged is MISSING:
        return live_t
    state.changed = True
    state.managed.times[identifier] = state.now
    dropped = _drop_nulls(merged, ot.ref, ot.index)
    stored: dict[str, JSON] = dropped if isinstance(dropped, dict) else {}
    if state.prepare is not None:
        stored = state.prepare(stored)
    return stored


def _drop_nulls(value: JSON, ref: TypeRef, index: SchemaIndex) -> JSON:
    """Nulls at typed positions vanish when the server converts to its Go types."""
    atom = index.resolve(ref)
    if isinstance(value, dict) and atom.map is not None and not atom.map.atomic:
        m = atom.map
        out: dict[str, JSON] = {}
        for key, child in value.items():
            sub = m.fields.get(key) or m.element
            opaque = sub.is_empty or sub.name in _UNTYPED
            if child is None and (key in m.fields or not opaque):
                continue
            out[key] = child if sub.is_empty else _drop_nulls(child, sub, index)
        return out
    if isinstance(value, list) and atom.list is not None:
        return [_drop_nulls(v, atom.list.element, index) for v in value]
    return value
