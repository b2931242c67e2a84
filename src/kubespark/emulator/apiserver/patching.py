"""PATCH requests and managed fields: the emulator's side of the patch engine.

Owns what the server does around ``kubespark.patch``: naming the target (built-in types from
the API surface; a custom resource's type from its CRD schema), handing the engine the live
object, the body and the request's options, letting it call back into the API server's decoding
and defaulting (``prepare``), and storing its result through the same write pipeline as every
other write (or creating the object, for an apply of something that does not exist). It also
records ``managedFields`` for creates and updates. What a patch *does* is the engine's.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from kubespark.apisurface.model import GroupVersionKind, TypeDef
from kubespark.apisurface.openapi import types_from_openapi_v2
from kubespark.emulator.apiserver.api import ApiServer, WriteOptions, WriteResult
from kubespark.emulator.apiserver.objects import Obj
from kubespark.emulator.apiserver.registry import ServedResource
from kubespark.patch import DEDUCED_TYPE, PatchTarget, apply_patch, record_update
from kubespark.patch import accepted_patch_types as _engine_accepted

__all__ = ["PATCH_TYPES", "Patcher", "accepted_patch_types"]

PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
)


def accepted_patch_types(res: ServedResource, server_side_apply: bool) -> list[str]:
    return _engine_accepted(
        custom_resource=res.custom is not None, server_side_apply=server_side_apply
    )


def _custom_type_name(res: ServedResource) -> str:
    reversed_group = ".".join(reversed(res.group.split(".")))
    return f"{reversed_group}.{res.version}.{res.kind}"


@functools.lru_cache(maxsize=256)
def _custom_types(key: tuple[str, str, str, str], schema_json: str) -> Mapping[str, TypeDef]:
    """A CRD version's schema as TypeDefs (the surface's reader of inline CRD schemas)."""

    group, version, kind, name = key
    schema = dict(orjson.loads(schema_json) or {"type": "object"})
    props = dict(schema.get("properties") or {})
    props.setdefault("apiVersion", {"type": "string"})
    props.setdefault("kind", {"type": "string"})
    props["metadata"] = {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
    schema["properties"] = props
    schema["x-kubernetes-group-version-kind"] = [{"group": group, "version": version, "kind": kind}]
    return types_from_openapi_v2({"definitions": {name: schema}})


class Patcher:
    """The PATCH verb and the field manager of one API server."""

    def __init__(self, api: ApiServer) -> None:
        self.api = api
        # A served custom resource version's schema as TypeDefs, by resource, for the registry
        # generation it came from (a CRD change serves new ServedResources).
        self._custom: dict[tuple[str, str, str], tuple[object, Mapping[str, TypeDef]]] = {}
        self._custom_generation = -1

    def _custom_extra(self, res: ServedResource, type_name: str) -> Mapping[str, TypeDef]:
        """The TypeDefs of ``res``'s CRD schema; the same mapping while its CRD is unchanged
        (so the patch engine keeps one schema index for it)."""
        custom = res.custom
        assert custom is not None and custom.schema is not None
        generation = self.api.registry.generation
        if generation != self._custom_generation:
            self._custom.clear()
            self._custom_generation = generation
        key = (res.group, res.version, res.plural)
        hit = self._custom.get(key)
        if hit is not None and hit[0] is custom:
            return hit[1]
        schema_json = orjson.dumps(custom.schema, option=orjson.OPT_SORT_KEYS).decode()
        extra = _custom_types((res.group, res.version, res.kind, type_name), schema_json)
        self._custom[key] = (custom, extra)
        return extra

    def _target(
        self, res: ServedResource, name: str, namespace: str, subresource: str
    ) -> PatchTarget:
        gvk = GroupVersionKind(res.group, res.version, res.kind)
        if res.custom is None:
            return PatchTarget(
                gvk,
                res.plural,
                res.type_name,
                name,
                namespace if res.namespaced else "",
                subresource,
            )
        ns = namespace if res.namespaced else ""
        if res.custom.schema is None or res.custom.preserve_unknown:
            # No structural schema: apply deduces the field types from the values.
            return PatchTarget(
                gvk, res.plural, DEDUCED_TYPE, name, ns, subresource, custom_resource=True
            )
        type_name = _custom_type_name(res)
        extra = self._custom_extra(res, type_name)
        return PatchTarget(
            gvk,
            res.plural,
            type_name,
            name,
            ns,
            subresource,
            custom_resource=True,
            extra_types=extra,
        )

    def record(
        self, res: ServedResource, live: Obj | None, new: Obj, opts: WriteOptions, subresource: str
    ) -> Obj:
        """``new`` with the managedFields this create or update leaves."""
        m = new.get("metadata") or {}
        target = self._target(res, str(m.get("name", "")), str(m.get("namespace", "")), subresource)
        return record_update(
            self.api.surface,
            target,
            live,
            new,
            now=datetime.now(UTC),
            field_manager=opts.field_manager or "",
            user_agent=opts.user_agent,
        )

    def patch(
        self,
        res: ServedResource,
        namespace: str,
        name: str,
        body: bytes,
        media_type: str,
        opts: WriteOptions,
        subresource: str = "",
    ) -> WriteResult:
        """Apply a PATCH body to the stored object (or create it, for an apply)."""
        stored = self.api.store.get(res.bucket, namespace if res.namespaced else "", name)
        live = self.api.present(res, stored) if stored is not None else None
        warnings: list[str] = []

        def prepare(obj: dict[str, Any]) -> dict[str, Any]:
            prepared, found = self.api.prepare(res, obj, opts)
            warnings.extend(w for w in found if w not in warnings)
            return prepared

        result = apply_patch(
            self.api.surface,
            self._target(res, name, namespace, subresource),
            live,
            body,
            content_type=media_type,
            now=datetime.now(UTC),
            field_manager=opts.field_manager or "",
            user_agent=opts.user_agent,
            force=opts.force,
            prepare=prepare,
        )
        if result.created:
            created = self.api.create(res, namespace, result.object, opts, managed=True)
            created.warnings[:0] = warnings
            return created
        assert stored is not None and live is not None
        if not result.changed:
            return WriteResult(live, warnings)
        replaced = self.api.replace_object(
            res, stored, result.object, opts, subresource, managed=True
        )
        replaced.warnings[:0] = warnings
        return replaced
