"""What the emulator, the compat planner and the proxy call: a server's answer to a write.

- :func:`apply_patch` -- a PATCH of any content type against the live object (None when it does
  not exist): the new object with its ``managedFields``, or the API error the server of that
  version answers, with its Status (415, 422 for bad options, 400, 404, 409 conflicts, 413, 422,
  and the 500 "failed to create typed patch object" worded as that version words it).
- :func:`record_update` -- the ``managedFields`` a create or update leaves (an ``Update`` entry
  for the writer's manager, named from the User-Agent when the client names none).
- :func:`apply_typing_errors` -- every reason the server would refuse to type an apply body, with
  paths and JSON locations, for the planner; :func:`typed_patch_failure` -- the exact message it
  would answer, or None.

The server's own decoding and defaulting of a stored object is the caller's (``prepare``);
this package decides what a patch means and who owns what. Pure: ``now`` is an argument.

For an API server (the emulator): build a :class:`PatchTarget` per request
(``PatchTarget.for_resource``; custom resources set ``custom_resource`` and pass their CRD
schema as ``extra_types``, e.g. from ``kubespark.apisurface.openapi.types_from_openapi_v2``, or
use :data:`DEDUCED_TYPE` for a resource without a structural schema); call
:func:`record_update` on every create and update, :func:`apply_patch` on every PATCH, and store
``PatchResult.object`` when ``changed``. ``force`` must be None when the query has no
``force`` (a non-apply patch with ``force=false`` is still refused).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from kubespark.apisurface.model import (
    ApiSurface,
    GroupVersionKind,
    Resource,
    TypeDef,
    typing_failure_of,
)
from kubespark.errors import InputError
from kubespark.kube.errors import APIError
from kubespark.patch import fieldmanager, responses
from kubespark.patch.decode import BodyError, decode_json, decode_yaml
from kubespark.patch.fieldmanager import ApplyFailed, Conflicts, ObjectType
from kubespark.patch.json_patch import (
    MAX_OPERATIONS,
    JSONPatchError,
    apply_json_patch,
    decode_json_patch,
)
from kubespark.patch.merge_patch import apply_merge_patch, decode_merge_patch
from kubespark.patch.options import (
    PatchType,
    accepted_patch_types,
    manager_from_user_agent,
    patch_type_of,
    validate_patch_options,
)
from kubespark.patch.rules import TypingRules, rules_for
from kubespark.patch.schema import UNTYPED_DEDUCED, SchemaIndex, TypeRef
from kubespark.patch.strategic import SMPError, SmpSchema, strategic_merge
from kubespark.patch.typed import TypingError, validate
from kubespark.patch.values import JSON, go_quote, json_compact

__all__ = [
    "DEDUCED_TYPE",
    "PatchResult",
    "PatchTarget",
    "Prepare",
    "apply_patch",
    "apply_typing_errors",
    "record_update",
    "typed_patch_failure",
]

Prepare = Callable[[dict[str, JSON]], dict[str, JSON]]

# The type of a custom resource without a structural schema: every value typed by its shape
# (the API server's DeducedTypeConverter). Use it as ``PatchTarget.type_name``.
DEDUCED_TYPE = UNTYPED_DEDUCED


@dataclass(frozen=True, slots=True)
class PatchTarget:
    """The object a request names and the type its body has."""

    gvk: GroupVersionKind  # the served group-version-kind of the URL
    resource: str  # plural ("services"), for 404 messages
    type_name: str  # the TypeDef of the body
    name: str
    namespace: str = ""  # "" for cluster-scoped resources
    subresource: str = ""  # "status", "scale", ... ("" for the resource itself)
    custom_resource: bool = False
    # Types a custom resource adds (its CRD schema as TypeDefs), merged over the surface's.
    # Never change these mappings once a target is built: an index of them is reused for
    # targets with the same mappings.
    extra_types: Mapping[str, TypeDef] = field(default_factory=dict)
    # List-map keys its schema defaults ((TypeDef, property) -> {key: default}): a CRD's
    # `default`s, which let an apply body omit those keys as built-in defaults do.
    extra_key_defaults: Mapping[tuple[str, str], Mapping[str, str]] = field(default_factory=dict)

    @classmethod
    def for_resource(
        cls,
        resource: Resource,
        name: str,
        namespace: str = "",
        *,
        subresource: str = "",
        custom_resource: bool = False,
        extra_types: Mapping[str, TypeDef] | None = None,
        extra_key_defaults: Mapping[tuple[str, str], Mapping[str, str]] | None = None,
    ) -> PatchTarget:
        return cls(
            gvk=resource.gvk,
            resource=resource.plural,
            type_name=resource.type_name,
            name=name,
            namespace=namespace if resource.namespaced else "",
            subresource=subresource,
            custom_resource=custom_resource,
            extra_types=dict(extra_types or {}),
            extra_key_defaults=dict(extra_key_defaults or {}),
        )


@dataclass(frozen=True, slots=True)
class PatchResult:
    object: dict[str, JSON]  # what the server stores, with metadata.managedFields
    created: bool  # an apply that created the object
    changed: bool  # False for a no-op (nothing to store, resourceVersion unchanged)


def _rules(surface: ApiSurface) -> TypingRules:
    return surface.memo("patch.rules", lambda: rules_for(surface))


_EXTRA_INDEXES = 64  # custom resource schemas whose atoms stay built


def _index(surface: ApiSurface, target: PatchTarget) -> SchemaIndex:
    types, defaults = target.extra_types or None, target.extra_key_defaults or None
    if types is None and defaults is None:
        return surface.memo("patch.schema-index", lambda: SchemaIndex.for_surface(surface))
    # A custom resource's index, kept while the caller passes the same (unchanging) mappings,
    # as the emulator does for every request to one CRD version: building the index again
    # would convert its whole schema to atoms per request. The entries hold the mappings, so
    # their ids cannot be reused while cached.
    cache: dict[tuple[int, int], tuple[object, object, SchemaIndex]] = surface.memo(
        "patch.extra-schema-indexes", dict
    )
    key = (id(types), id(defaults))
    hit = cache.get(key)
    if hit is not None and hit[0] is types and hit[1] is defaults:
        return hit[2]
    index = SchemaIndex.for_surface(surface, types, defaults)
    if len(cache) >= _EXTRA_INDEXES:
        del cache[next(iter(cache))]
    cache[key] = (types, defaults, index)
    return index


def _object_type(surface: ApiSurface, target: PatchTarget) -> ObjectType:
    index = _index(surface, target)
    typedef = index.typedef(target.type_name)
    props = typedef.properties if typedef is not None else {}
    return ObjectType(
        index=index,
        type_name=target.type_name,
        gvk=target.gvk,
        rules=_rules(surface),
        subresource=target.subresource,
        has_spec="spec" in props,
        has_status="status" in props,
        custom_resource=target.custom_resource,
    )


def apply_patch(
    surface: ApiSurface,
    target: PatchTarget,
    live: Mapping[str, JSON] | None,
    body: bytes | str,
    *,
    content_type: str,
    now: datetime,
    field_manager: str = "",
    user_agent: str = "",
    force: bool | None = None,
    prepare: Prepare | None = None,
) -> PatchResult:
    """The object a server of ``surface``'s version stores after this PATCH, or its error.

    ``live`` is the stored object or None; ``force`` is the ``force`` query parameter (None
    when absent); ``prepare`` is the server's decoding and defaulting of a changed object.
    Raises a :class:`kubespark.kube.errors.APIError` carrying the server's Status.
    """
    patch_type = patch_type_of(content_type)
    accepted = accepted_patch_types(
        custom_resource=target.custom_resource,
        server_side_apply=surface.behaviours.server_side_apply,
    )
    if patch_type not in accepted:
        raise responses.unsupported_media_type(accepted)
    problems = validate_patch_options(patch_type, field_manager, force)
    if problems:
        raise responses.invalid("meta.k8s.io", "PatchOptions", "", problems)
    ot = _object_type(surface, target)
    if patch_type == PatchType.APPLY.value:
        return _apply(ot, target, live, body, field_manager, bool(force), now, prepare)
    if live is None:
        raise responses.not_found(target.gvk.group, target.resource, target.name)
    patched = _patched(ot, dict(live), body, patch_type)
    stored = prepare(patched) if prepare is not None else patched
    stored = _check_name(stored, target)
    manager = manager_from_user_agent(field_manager, user_agent)
    result = fieldmanager.update(ot, live, stored, manager, now)
    return PatchResult(result, created=False, changed=result != dict(live))


def _apply(
    ot: ObjectType,
    target: PatchTarget,
    live: Mapping[str, JSON] | None,
    body: bytes | str,
    manager: str,
    force: bool,
    now: datetime,
    prepare: Prepare | None,
) -> PatchResult:
    try:
        config = decode_yaml(body)
    except BodyError as exc:
        raise responses.bad_request(f"error decoding YAML: {exc.message}") from exc
    if config is None:
        config = {}
    if not isinstance(config, dict):
        kind = "array" if isinstance(config, list) else "string"
        raise responses.bad_request(
            "error decoding YAML: error unmarshaling JSON: while decoding JSON: json: cannot "
            f"unmarshal {kind} into Go value of type map[string]interface {{}}"
        )
    try:
        outcome = fieldmanager.apply(ot, live, config, manager, force, now, prepare)
    except Conflicts as conflicts:
        raise responses.conflict(conflicts) from None
    except ApplyFailed as exc:
        raise _failure(exc) from None
    stored = _check_name(outcome.object, target)
    return PatchResult(stored, created=live is None, changed=outcome.changed)


def _failure(exc: ApplyFailed) -> APIError:
    if exc.code == 400:
        return responses.bad_request(exc.message)
    return responses.internal(exc.message)


def _patched(
    ot: ObjectType, live: dict[str, JSON], body: bytes | str, patch_type: str
) -> dict[str, JSON]:
    """The live object with a JSON, merge or strategic merge patch applied."""
    result: JSON
    if patch_type == PatchType.JSON.value:
        try:
            operations = decode_json_patch(body)
        except BodyError as exc:
            raise responses.bad_request(exc.message) from exc
        if len(operations) > MAX_OPERATIONS:
            raise responses.too_large(
                f"The allowed maximum operations in a JSON patch is {MAX_OPERATIONS}, "
                f"got {len(operations)}"
            )
        try:
            result = apply_json_patch(live, operations)
        except JSONPatchError:
            raise responses.json_patch_failed() from None
    elif patch_type == PatchType.MERGE.value:
        try:
            patch = decode_merge_patch(body)
        except BodyError as exc:
            raise responses.bad_request(exc.message) from exc
        result = apply_merge_patch(live, patch)
    else:
        result = _strategic(ot, live, body)
    if not isinstance(result, dict):
        raise responses.invalid(
            "",
            "",
            "",
            [
                responses.FieldError(
                    "FieldValueInvalid",
                    "patch",
                    f"Invalid value: {go_quote(json_compact(result))}: couldn't get version/kind; "
                    "json parse error: json: cannot unmarshal array into Go value of type "
                    'struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind '
                    'string "json:\\"kind,omitempty\\"" }',
                )
            ],
        )
    return result


def _strategic(ot: ObjectType, live: dict[str, JSON], body: bytes | str) -> JSON:
    try:
        patch = decode_json(body)
    except BodyError as exc:
        raise responses.bad_request(exc.message) from exc
    if not isinstance(patch, dict):
        kind = "array" if isinstance(patch, list) else "string"
        raise responses.bad_request(
            f"json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}"
        )
    schema = SmpSchema.of(ot.index.types, ot.type_name)
    try:
        return strategic_merge(live, patch, schema)
    except SMPError as exc:
        if exc.code == 400:
            raise responses.bad_request(exc.message) from None
        if exc.code == 422:
            raise responses.json_patch_failed() from None
        raise responses.internal(exc.message) from None


def _check_name(obj: dict[str, JSON], target: PatchTarget) -> dict[str, JSON]:
    """EnsureObjectNamespaceMatchesRequestNamespace, then checkName (patch.go applyPatch)."""
    meta = dict(obj.get("metadata") or {})
    namespace = str(meta.get("namespace") or "")
    if namespace != target.namespace:
        if not namespace or not target.namespace:
            meta["namespace"] = target.namespace
            if not target.namespace:
                meta.pop("namespace", None)
        else:
            raise responses.bad_request(
                "the namespace of the provided object does not match the namespace sent on "
                "the request"
            )
    name = str(meta.get("name") or "")
    if name != target.name:
        raise responses.bad_request(
            f"the name of the object ({name}) does not match the name on the URL ({target.name})"
        )
    out = dict(obj)
    out["metadata"] = meta
    return out


def record_update(
    surface: ApiSurface,
    target: PatchTarget,
    live: Mapping[str, JSON] | None,
    new: Mapping[str, JSON],
    *,
    now: datetime,
    field_manager: str = "",
    user_agent: str = "",
) -> dict[str, JSON]:
    """``new`` with the ``managedFields`` a create (``live`` None) or update leaves.

    ``new`` is the object as stored (decoded, defaulted); the writer is ``field_manager``, or
    the User-Agent's product name (``kubectl``, ``Go-http-client``) when the client names none.
    """
    ot = _object_type(surface, target)
    manager = manager_from_user_agent(field_manager, user_agent)
    return fieldmanager.update(ot, live, new, manager, now)


def _body_type(surface: ApiSurface, body: Mapping[str, JSON]) -> str:
    api_version = str(body.get("apiVersion") or "")
    kind = str(body.get("kind") or "")
    resource = surface.resource(api_version, kind)
    if resource is None:
        raise InputError(
            f"Kubernetes {surface.version} does not serve {api_version or '?'} {kind or '?'}",
            where="apiVersion/kind",
            fix="use a group-version this version serves (see kubespark.apisurface.served_in)",
        )
    return resource.type_name


def apply_typing_errors(
    surface: ApiSurface, body: Mapping[str, JSON], *, type_name: str | None = None
) -> list[TypingError]:
    """Every reason a server of this version cannot type ``body`` as an apply configuration.

    All of them, not just those the server would print (it stops at the first per list and
    object from 1.18); each with its path, JSON location and the field or key it names. Empty
    when the apply would be typed. Raises InputError when the version does not serve the kind.
    """
    name = type_name or _body_type(surface, body)
    index = surface.memo("patch.schema-index", lambda: SchemaIndex.for_surface(surface))
    return validate(dict(body), TypeRef(name), index, _rules(surface), complete=True)


def typed_patch_failure(
    surface: ApiSurface, body: Mapping[str, JSON], *, type_name: str | None = None
) -> str | None:
    """The exact 500 message a server of this version answers to applying ``body``, or None."""
    name = type_name or _body_type(surface, body)
    index = surface.memo("patch.schema-index", lambda: SchemaIndex.for_surface(surface))
    rules = _rules(surface)
    errors = validate(dict(body), TypeRef(name), index, rules)
    if not errors:
        return None
    return typing_failure_of(rules.prefix, [str(e) for e in errors], body)
