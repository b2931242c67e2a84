"""The OpenAPI documents the emulated server publishes, generated from what it serves.

Owns ``/openapi/v2`` (Swagger 2.0: definitions from the API surface's types plus each CRD's
schema, and a PATCH path per resource whose parameters tell clients such as kubectl whether
the server honours ``fieldValidation`` and ``dryRun``) and the ``/openapi/v3`` root and
per-group-version documents for versions that serve them. Descriptions (``kubectl explain``)
come from the surface's separate descriptions file, for the types and fields of that minor.
No HTTP framing; ``openapi_pb`` encodes v2 as protobuf.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from kubespark.apisurface.descriptions import TypeDescription, descriptions
from kubespark.apisurface.model import ApiSurface, FieldValidation, Schema, SchemaKind, TypeDef
from kubespark.emulator.apiserver.registry import Registry, ServedResource

__all__ = ["v2_document", "v3_group_version", "v3_root"]

# Wire forms of the scalar kinds the surface names without a definition of their own.
_SCALAR_DEFS: Mapping[SchemaKind, tuple[str, dict[str, Any]]] = {
    SchemaKind.INT_OR_STRING: (
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
        {"type": "string", "format": "int-or-string"},
    ),
    SchemaKind.QUANTITY: (
        "io.k8s.apimachinery.pkg.api.resource.Quantity",
        {"type": "string"},
    ),
    SchemaKind.TIME: (
        "io.k8s.apimachinery.pkg.apis.meta.v1.Time",
        {"type": "string", "format": "date-time"},
    ),
}
_PRIMITIVE = {
    SchemaKind.STRING: "string",
    SchemaKind.INTEGER: "integer",
    SchemaKind.NUMBER: "number",
    SchemaKind.BOOLEAN: "boolean",
}


def _schema(schema: Schema, prefix: str) -> dict[str, Any]:
    out: dict[str, Any]
    kind = schema.kind
    if kind is SchemaKind.OBJECT:
        out = {"$ref": f"{prefix}{schema.ref}"}
    elif kind is SchemaKind.ARRAY:
        out = {"type": "array", "items": _schema(schema.items, prefix) if schema.items else {}}
    elif kind is SchemaKind.MAP:
        out = {
            "type": "object",
            "additionalProperties": _schema(schema.items, prefix) if schema.items else {},
        }
    elif kind in _SCALAR_DEFS:
        out = {"$ref": f"{prefix}{_SCALAR_DEFS[kind][0]}"}
    elif kind is SchemaKind.ANY:
        out = {"type": "object"}
    else:
        out = {"type": _PRIMITIVE[kind]}
    if schema.format and "$ref" not in out:
        out["format"] = schema.format
    if schema.enum:
        out["enum"] = list(schema.enum)
    if schema.list_type is not None:
        out["x-kubernetes-list-type"] = schema.list_type.value
    if schema.list_map_keys:
        out["x-kubernetes-list-map-keys"] = list(schema.list_map_keys)
    if schema.patch_strategy:
        out["x-kubernetes-patch-strategy"] = schema.patch_strategy
    if schema.patch_merge_key:
        out["x-kubernetes-patch-merge-key"] = schema.patch_merge_key
    return out


def _described(schema: dict[str, Any], text: str | None) -> dict[str, Any]:
    # Kubernetes' own documents put a field's description beside its $ref or type.
    return {"description": text, **schema} if text else schema


def _gvk_ext(gvks: Any) -> list[dict[str, str]]:
    return [{"group": g.group, "kind": g.kind, "version": g.version} for g in gvks]


def _definition(
    typedef: TypeDef, prefix: str, described: TypeDescription | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object"}
    if described is not None and described.text:
        out["description"] = described.text
    if typedef.properties:
        texts = described.properties if described is not None else {}
        out["properties"] = {
            k: _described(_schema(v, prefix), texts.get(k)) for k, v in typedef.properties.items()
        }
    if typedef.required:
        out["required"] = sorted(typedef.required)
    if typedef.gvks:
        out["x-kubernetes-group-version-kind"] = _gvk_ext(typedef.gvks)
    if typedef.preserve_unknown_fields:
        out["x-kubernetes-preserve-unknown-fields"] = True
    if typedef.map_type:
        out["x-kubernetes-map-type"] = typedef.map_type
    return out


def _custom_definition_name(res: ServedResource) -> str:
    reversed_group = ".".join(reversed(res.group.split(".")))
    return f"{reversed_group}.{res.version}.{res.kind}"


def _custom_definition(res: ServedResource, meta_ref: str) -> dict[str, Any]:
    assert res.custom is not None
    schema = dict(res.custom.schema or {"type": "object"})
    props = dict(schema.get("properties") or {})
    props.setdefault("apiVersion", {"type": "string"})
    props.setdefault("kind", {"type": "string"})
    props["metadata"] = {"$ref": meta_ref}
    schema["properties"] = props
    schema["x-kubernetes-group-version-kind"] = [
        {"group": res.group, "kind": res.kind, "version": res.version}
    ]
    if res.custom.preserve_unknown and "x-kubernetes-preserve-unknown-fields" not in schema:
        schema["x-kubernetes-preserve-unknown-fields"] = True
    return schema


def _definitions(surface: ApiSurface, registry: Registry, prefix: str) -> dict[str, Any]:
    defs: dict[str, Any] = {}
    texts = descriptions(surface.version)
    for name in sorted(surface.types):
        defs[name] = _definition(surface.types[name], prefix, texts.get(name))
    for name, body in _SCALAR_DEFS.values():
        defs.setdefault(name, body)
    meta_ref = f"{prefix}io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    for res in registry.resources():
        if res.custom is not None:
            defs[_custom_definition_name(res)] = _custom_definition(res, meta_ref)
    return defs


def _query(name: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "type": "string", "uniqueItems": True}


def _patch_parameters(surface: ApiSurface) -> list[dict[str, Any]]:
    params = [_query("dryRun"), _query("fieldManager")]
    if surface.behaviours.field_validation is not FieldValidation.NONE:
        params.append(_query("fieldValidation"))
    if surface.behaviours.server_side_apply:
        params.append({**_query("force"), "type": "boolean"})
    return params


def _item_path(res: ServedResource) -> str:
    base = f"/apis/{res.group}/{res.version}" if res.group else "/api/v1"
    ns = "/namespaces/{namespace}" if res.namespaced else ""
    return f"{base}{ns}/{res.plural}/{{name}}"


def _operation(
    res: ServedResource, action: str, params: list[dict[str, Any]], ref: str
) -> dict[str, Any]:
    return {
        "operationId": f"{action}{res.kind}",
        "consumes": [
            "application/json-patch+json",
            "application/merge-patch+json",
            "application/strategic-merge-patch+json",
            "application/apply-patch+yaml",
        ]
        if action == "patch"
        else ["*/*"],
        "produces": ["application/json", "application/yaml"],
        "parameters": params,
        "responses": {"200": {"description": "OK", "schema": {"$ref": ref}}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {
            "group": res.group,
            "kind": res.kind,
            "version": res.version,
        },
    }


def _type_ref(res: ServedResource, prefix: str) -> str:
    if res.custom is not None:
        return f"{prefix}{_custom_definition_name(res)}"
    return f"{prefix}{res.type_name}"


def _paths(
    surface: ApiSurface, resources: list[ServedResource], prefix: str, v3: bool
) -> dict[str, Any]:
    patch_params = _patch_parameters(surface)
    if v3:
        patch_params = [
            {"name": p["name"], "in": "query", "schema": {"type": p["type"], "uniqueItems": True}}
            for p in patch_params
        ]
    paths: dict[str, Any] = {}
    for res in resources:
        if res.custom is None and res.type_name not in surface.types:
            continue  # an aggregated API's (metrics.k8s.io): its server's OpenAPI is not bundled
        ref = _type_ref(res, prefix)
        item: dict[str, Any] = {}
        if "get" in res.verbs:
            item["get"] = _operation(res, "get", [], ref)
        if "patch" in res.verbs:
            item["patch"] = _operation(res, "patch", patch_params, ref)
        if item:
            paths[_item_path(res)] = item
    return paths


def v2_document(surface: ApiSurface, registry: Registry, git_version: str) -> dict[str, Any]:
    prefix = "#/definitions/"
    return {
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": git_version},
        "paths": _paths(surface, registry.resources(), prefix, v3=False),
        "definitions": _definitions(surface, registry, prefix),
    }


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def v3_group_version(
    surface: ApiSurface, registry: Registry, git_version: str, path: str
) -> dict[str, Any] | None:
    """The OpenAPI 3.0 document of one group-version (``apis/apps/v1``), or None."""
    for group, version in registry.group_versions():
        if _gv_path(group, version) == path:
            prefix = "#/components/schemas/"
            resources = registry.in_group_version(group, version)
            return {
                "openapi": "3.0.0",
                "info": {"title": "Kubernetes", "version": git_version},
                "paths": _paths(surface, resources, prefix, v3=True),
                "components": {"schemas": _definitions(surface, registry, prefix)},
            }
    return None


def v3_root(registry: Registry, generation: int) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for group, version in registry.group_versions():
        path = _gv_path(group, version)
        digest = hashlib.sha512(f"{path}@{generation}".encode()).hexdigest()[:128].upper()
        paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
    return {"paths": paths}
