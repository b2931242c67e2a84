"""CustomResourceDefinitions: what they serve, and how their structural schemas treat objects.

Owns what apiextensions-apiserver does with a CRD: checking the definition (name, versions,
schemas), converting it between ``apiextensions.k8s.io/v1beta1`` and ``v1`` (stored as v1),
turning it into served resources, and applying a version's ``openAPIV3Schema`` to custom
objects: pruning unknown fields (``x-kubernetes-preserve-unknown-fields``, embedded resources)
and validating types, required fields, enums, ``x-kubernetes-int-or-string`` and the common
value constraints, with apiextensions' messages. No storage, no HTTP.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubespark.emulator.apiserver.registry import CustomVersion, ServedResource
from kubespark.emulator.apiserver.wire import FieldError
from kubespark.patch.values import json_kind

__all__ = [
    "apply_defaults",
    "crd_from_v1beta1",
    "crd_to_v1beta1",
    "prune_custom",
    "served_resources",
    "validate_crd",
    "validate_custom",
]

Schema = Mapping[str, Any]
_VERBS = frozenset(
    {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
)
_ROOT_KEEP = ("apiVersion", "kind", "metadata")


# --- the definition ---------------------------------------------------------------------------
def _versions(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    versions = spec.get("versions")
    return [v for v in versions if isinstance(v, Mapping)] if isinstance(versions, list) else []


def validate_crd(crd: Mapping[str, Any], *, v1: bool) -> list[FieldError]:
    """What apiextensions' validation rejects in a definition (stored v1 form)."""
    errs: list[FieldError] = []
    meta = crd.get("metadata") or {}
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    group = spec.get("group") or ""
    plural = names.get("plural") or ""
    if not group:
        errs.append(FieldError("Required", "spec.group"))
    if not plural:
        errs.append(FieldError("Required", "spec.names.plural"))
    if not names.get("kind"):
        errs.append(FieldError("Required", "spec.names.kind"))
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        errs.append(
            FieldError(
                "NotSupported",
                "spec.scope",
                value=spec.get("scope") or "",
                supported=("Cluster", "Namespaced"),
            )
        )
    if group and plural and meta.get("name") != f"{plural}.{group}":
        errs.append(
            FieldError(
                "Invalid",
                "metadata.name",
                'must be spec.names.plural+"."+spec.group',
                value=meta.get("name", ""),
            )
        )
    versions = _versions(spec)
    if not versions:
        errs.append(
            FieldError(
                "Invalid",
                "spec.versions",
                "must have exactly one version marked as storage version",
                value=None,
            )
        )
        return errs
    storage = [v for v in versions if v.get("storage")]
    if len(storage) != 1:
        errs.append(
            FieldError(
                "Invalid",
                "spec.versions",
                "must have exactly one version marked as storage version",
                value=[dict(v) for v in versions],
            )
        )
    for i, version in enumerate(versions):
        schema = (version.get("schema") or {}).get("openAPIV3Schema")
        if v1 and not isinstance(schema, Mapping):
            errs.append(
                FieldError(
                    "Required",
                    f"spec.versions[{i}].schema.openAPIV3Schema",
                    "schemas are required",
                )
            )
        elif isinstance(schema, Mapping) and v1 and schema.get("type") != "object":
            errs.append(
                FieldError(
                    "Required",
                    f"spec.versions[{i}].schema.openAPIV3Schema.type",
                    "must not be empty at the root",
                )
            )
    return errs


def crd_from_v1beta1(crd: dict[str, Any]) -> dict[str, Any]:
    """A v1beta1 definition in the v1 form the emulator stores."""
    spec = dict(crd.get("spec") or {})
    top_schema = (spec.pop("validation", None) or {}).get("openAPIV3Schema")
    top_sub = spec.pop("subresources", None)
    top_cols = spec.pop("additionalPrinterColumns", None)
    single = spec.pop("version", None)
    versions = [dict(v) for v in spec.get("versions") or []]
    if not versions and single:
        versions = [{"name": single, "served": True, "storage": True}]
    out_versions = []
    for version in versions:
        v = dict(version)
        if "schema" not in v and top_schema is not None:
            v["schema"] = {"openAPIV3Schema": top_schema}
        elif "schema" in v:
            v["schema"] = {"openAPIV3Schema": (v["schema"] or {}).get("openAPIV3Schema")}
        if "subresources" not in v and top_sub is not None:
            v["subresources"] = top_sub
        cols = v.pop("additionalPrinterColumns", None) or top_cols
        if cols:
            v["additionalPrinterColumns"] = [
                {("jsonPath" if k == "JSONPath" else k): val for k, val in c.items()} for c in cols
            ]
        out_versions.append(v)
    spec["versions"] = out_versions
    # v1beta1 kept unknown fields unless told otherwise; v1 has the flag per schema.
    preserve = spec.pop("preserveUnknownFields", True)
    spec["preserveUnknownFields"] = bool(preserve)
    return {**crd, "apiVersion": "apiextensions.k8s.io/v1", "spec": spec}


def crd_to_v1beta1(crd: dict[str, Any]) -> dict[str, Any]:
    """The stored v1 definition as a v1beta1 client reads it."""
    spec = dict(crd.get("spec") or {})
    versions = []
    for version in spec.get("versions") or []:
        v = dict(version)
        cols = v.pop("additionalPrinterColumns", None)
        if cols:
            v["additionalPrinterColumns"] = [
                {("JSONPath" if k == "jsonPath" else k): val for k, val in c.items()} for c in cols
            ]
        versions.append(v)
    spec["versions"] = versions
    if versions:
        spec["version"] = versions[0].get("name")
    return {**crd, "apiVersion": "apiextensions.k8s.io/v1beta1", "spec": spec}


def served_resources(crd: Mapping[str, Any]) -> list[ServedResource]:
    """The resources a (v1-form) definition serves, one per served version."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    kind = names.get("kind", "")
    out: list[ServedResource] = []
    legacy_preserve = bool(spec.get("preserveUnknownFields", False))
    for version in _versions(spec):
        if not version.get("served", True):
            continue
        schema = (version.get("schema") or {}).get("openAPIV3Schema")
        sub = version.get("subresources") or {}
        subresources = tuple(s for s in ("status", "scale") if s in sub)
        out.append(
            ServedResource(
                group=spec.get("group", ""),
                version=str(version.get("name", "")),
                plural=names.get("plural", ""),
                singular=names.get("singular") or kind.lower(),
                kind=kind,
                namespaced=spec.get("scope") == "Namespaced",
                verbs=_VERBS,
                subresources=subresources,
                short_names=tuple(names.get("shortNames") or ()),
                categories=tuple(names.get("categories") or ()),
                custom=CustomVersion(
                    crd_name=(crd.get("metadata") or {}).get("name", ""),
                    schema=schema if isinstance(schema, Mapping) else None,
                    preserve_unknown=legacy_preserve or not isinstance(schema, Mapping),
                    status_subresource="status" in sub,
                    scale=sub.get("scale"),
                    printer_columns=tuple(version.get("additionalPrinterColumns") or ()),
                    storage=bool(version.get("storage")),
                ),
            )
        )
    return out


# --- custom objects ---------------------------------------------------------------------------
def _preserves(schema: Schema) -> bool:
    return bool(schema.get("x-kubernetes-preserve-unknown-fields"))


def prune_custom(obj: Any, schema: Schema, path: str = "", *, root: bool = True) -> list[str]:
    """Drop, in place, every field the structural schema does not declare; returns their paths."""
    dropped: list[str] = []
    if isinstance(obj, dict):
        props = schema.get("properties")
        additional = schema.get("additionalProperties")
        embedded = bool(schema.get("x-kubernetes-embedded-resource"))
        keep = set(_ROOT_KEEP) if (root or embedded) else set()
        if isinstance(props, Mapping):
            for key in list(obj):
                sub = props.get(key)
                # apiVersion, kind and metadata of the object (and of embedded resources) are
                # the server's, whatever the schema says of them: `metadata: {type: object}`, as
                # most CRDs declare it, must not empty it (apiextensions' pruning skips them).
                if key in keep:
                    continue
                if isinstance(sub, Mapping):
                    dropped += prune_custom(obj[key], sub, _join(path, key), root=False)
                elif isinstance(additional, Mapping):
                    dropped += prune_custom(obj[key], additional, _join(path, key), root=False)
                elif not _preserves(schema) and additional is not True:
                    dropped.append(_join(path, key))
                    del obj[key]
        elif isinstance(additional, Mapping):
            for key in list(obj):
                dropped += prune_custom(obj[key], additional, _join(path, key), root=False)
        elif not _preserves(schema) and additional is not True and schema.get("type") == "object":
            for key in list(obj):
                if key not in keep:
                    dropped.append(_join(path, key))
                    del obj[key]
    elif isinstance(obj, list):
        items = schema.get("items")
        if isinstance(items, Mapping):
            for i, item in enumerate(obj):
                dropped += prune_custom(item, items, f"{path}[{i}]", root=False)
    return dropped


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def apply_defaults(obj: Any, schema: Schema) -> None:
    """Structural defaulting, in place: a missing property with a ``default`` gets a copy of it.

    As apiextensions does after pruning (GA with apiextensions v1): into objects that exist,
    list items and additionalProperties values; a default is not applied under a missing parent.
    """
    if isinstance(obj, dict):
        props = schema.get("properties")
        if isinstance(props, Mapping):
            for key, sub in props.items():
                if not isinstance(sub, Mapping):
                    continue
                if key not in obj and "default" in sub:
                    obj[key] = copy.deepcopy(sub["default"])
                if key in obj:
                    apply_defaults(obj[key], sub)
        additional = schema.get("additionalProperties")
        if isinstance(additional, Mapping):
            for key in list(obj):
                if not isinstance(props, Mapping) or key not in props:
                    apply_defaults(obj[key], additional)
    elif isinstance(obj, list):
        items = schema.get("items")
        if isinstance(items, Mapping):
            for item in obj:
                apply_defaults(item, items)


# OpenAPI's words for the JSON kinds: integers apart from other numbers, as a schema's ``type``.
_OPENAPI_TYPES = {
    "null": "null",
    "bool": "boolean",
    "int": "integer",
    "float": "number",
    "str": "string",
    "list": "array",
    "map": "object",
}


def _json_type(value: Any) -> str:
    return _OPENAPI_TYPES[json_kind(value)]


def _type_ok(value: Any, want: str) -> bool:
    have = _json_type(value)
    if want == "number":
        return have in ("number", "integer")
    if want == "integer" and have == "number":
        return float(value).is_integer()
    return have == want


def _unmet_type(obj: Any, schema: Schema) -> str | None:
    """The type ``schema`` asks for when ``obj`` is not of it; None when it is or none is asked."""
    if obj is None:
        want = schema.get("type")
        return None if schema.get("nullable") or not want else str(want)
    if schema.get("x-kubernetes-int-or-string"):
        ok = isinstance(obj, int | str) and not isinstance(obj, bool)
        return None if ok else "integer,string"
    want = schema.get("type")
    return str(want) if want and not _type_ok(obj, str(want)) else None


def validate_custom(obj: Any, schema: Schema, path: str = "") -> list[FieldError]:
    """apiextensions' schema validation of a custom object (or any value under a schema)."""
    where = path or "<root>"
    wanted = _unmet_type(obj, schema)
    if wanted is not None:
        have = _json_type(obj)
        detail = f'{where} in body must be of type {wanted}: "{have}"'
        return [FieldError("Invalid", path, detail, value=have)]
    if obj is None or schema.get("x-kubernetes-int-or-string"):
        return []  # nothing more to check of a null or an int-or-string
    errs: list[FieldError] = []
    enum = schema.get("enum")
    if isinstance(enum, list) and obj not in enum:
        errs.append(
            FieldError("NotSupported", path, value=obj, supported=tuple(str(e) for e in enum))
        )
    errs += _constraints(obj, schema, path, where)
    if isinstance(obj, dict):
        errs += _validate_object(obj, schema, path)
    elif isinstance(obj, list):
        items = schema.get("items")
        if isinstance(items, Mapping):
            for i, item in enumerate(obj):
                errs += validate_custom(item, items, f"{path}[{i}]")
    return errs


def _validate_object(obj: Mapping[str, Any], schema: Schema, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for req in schema.get("required") or ():
        if req not in obj:
            errs.append(FieldError("Required", _join(path, req)))
    props = schema.get("properties")
    additional = schema.get("additionalProperties")
    for key, value in obj.items():
        if isinstance(props, Mapping) and isinstance(props.get(key), Mapping):
            errs += validate_custom(value, props[key], _join(path, key))
        elif isinstance(additional, Mapping):
            errs += validate_custom(value, additional, _join(path, key))
    return errs


@dataclass(frozen=True, slots=True)
class _Bound:
    """One of the schema's size and range keywords: which way it bounds, and the error."""

    upper: bool  # broken when the measure is above the limit (else below)
    kind: str
    detail: str  # formatted with ``where`` and ``limit``


_BOUNDS = {
    "maxLength": _Bound(True, "TooLong", "may not be longer than {limit}"),
    "minLength": _Bound(False, "Invalid", "{where} in body should be at least {limit} chars long"),
    "minimum": _Bound(
        False, "Invalid", "{where} in body should be greater than or equal to {limit}"
    ),
    "maximum": _Bound(True, "Invalid", "{where} in body should be less than or equal to {limit}"),
    "maxItems": _Bound(True, "TooMany", "must have at most {limit} items"),
    "minItems": _Bound(False, "Invalid", "{where} in body should have at least {limit} items"),
}


def _constraints(obj: Any, schema: Schema, path: str, where: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if isinstance(obj, str):
        pattern = schema.get("pattern")
        if isinstance(pattern, str) and not re.search(pattern, obj):
            errs.append(
                FieldError("Invalid", path, f"{where} in body should match '{pattern}'", value=obj)
            )
        errs += _bounded(obj, len(obj), schema, ("maxLength", "minLength"), path, where)
    elif isinstance(obj, int | float) and not isinstance(obj, bool):
        errs += _bounded(obj, obj, schema, ("minimum", "maximum"), path, where)
    elif isinstance(obj, list):
        errs += _bounded(obj, len(obj), schema, ("maxItems", "minItems"), path, where)
    return errs


def _bounded(
    obj: Any, measure: float, schema: Schema, keys: tuple[str, ...], path: str, where: str
) -> list[FieldError]:
    """The errors of the bounds ``keys`` that ``measure`` (``obj``'s length, count or value)
    breaks, in the order apiextensions reports them."""
    errs: list[FieldError] = []
    for key in keys:
        limit, bound = schema.get(key), _BOUNDS[key]
        if not isinstance(limit, int | float) or isinstance(limit, bool):
            continue
        if measure > limit if bound.upper else measure < limit:
            detail = bound.detail.format(where=where, limit=limit)
            value = obj if bound.kind == "Invalid" else None
            errs.append(FieldError(bound.kind, path, detail, value=value))
    return errs
