"""Checking a built-in object against the emulated version's types: unknown fields and errors.

Owns the two questions a write asks of the API surface: which fields of this body the version
does not know (dropped, warned about or refused, by field-validation mode), and what is wrong
with the rest (a wrong JSON type is a 400 decoding failure; a missing required field a 422).

ADAPTER (temporary): the API surface branch is to provide ``check_object`` and
``prune_unknown_fields``; until it lands, this module walks the surface's TypeDefs itself with
the same contract. Replace the walkers with those calls when they exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubespark.apisurface.model import ApiSurface, Schema, SchemaKind, TypeDef
from kubespark.emulator.wire import FieldError

__all__ = ["BuiltinChecks", "CheckResult"]


@dataclass
class CheckResult:
    decode_errors: list[str] = field(default_factory=list)  # -> 400, as a decoding failure
    field_errors: list[FieldError] = field(default_factory=list)  # -> 422


_JSON_OF = {
    SchemaKind.STRING: (str,),
    SchemaKind.TIME: (str,),
    SchemaKind.INTEGER: (int,),
    SchemaKind.NUMBER: (int, float),
    SchemaKind.BOOLEAN: (bool,),
    SchemaKind.INT_OR_STRING: (int, str),
    SchemaKind.QUANTITY: (int, float, str),
}
_GO_TYPE = {
    SchemaKind.STRING: "string",
    SchemaKind.TIME: "string",
    SchemaKind.INTEGER: "int32",
    SchemaKind.NUMBER: "float64",
    SchemaKind.BOOLEAN: "bool",
}


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _short(type_name: str) -> str:
    return type_name.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class BuiltinChecks:
    """Unknown-field pruning and type checks for one version's built-in kinds."""

    surface: ApiSurface

    def prune(self, obj: dict[str, Any], type_name: str) -> list[str]:
        """Drop, in place, the fields the version does not know; returns their paths."""
        dropped: list[str] = []
        typedef = self.surface.types.get(type_name)
        if typedef is not None:
            self._prune_object(obj, typedef, "", dropped)
        return dropped

    def _prune_object(
        self, obj: dict[str, Any], typedef: TypeDef, path: str, dropped: list[str]
    ) -> None:
        if typedef.preserve_unknown_fields:
            return
        for key in list(obj):
            schema = typedef.properties.get(key)
            sub = f"{path}.{key}" if path else key
            if schema is None:
                dropped.append(sub)
                del obj[key]
            else:
                self._prune_value(obj[key], schema, sub, dropped)

    def _prune_value(self, value: Any, schema: Schema, path: str, dropped: list[str]) -> None:
        if schema.kind is SchemaKind.OBJECT and isinstance(value, dict) and schema.ref:
            typedef = self.surface.types.get(schema.ref)
            if typedef is not None:
                self._prune_object(value, typedef, path, dropped)
        elif schema.kind is SchemaKind.ARRAY and isinstance(value, list) and schema.items:
            for i, item in enumerate(value):
                self._prune_value(item, schema.items, f"{path}[{i}]", dropped)
        elif schema.kind is SchemaKind.MAP and isinstance(value, dict) and schema.items:
            for key, item in value.items():
                self._prune_value(item, schema.items, f"{path}.{key}", dropped)

    def check(self, obj: dict[str, Any], type_name: str) -> CheckResult:
        result = CheckResult()
        typedef = self.surface.types.get(type_name)
        if typedef is not None:
            self._check_object(obj, typedef, "", result)
        return result

    def _check_object(
        self, obj: Mapping[str, Any], typedef: TypeDef, path: str, result: CheckResult
    ) -> None:
        for req in sorted(typedef.required):
            if req in ("apiVersion", "kind", "metadata"):
                continue
            value = obj.get(req)
            if value is None or value == "" or value == [] or value == {}:
                result.field_errors.append(FieldError("Required", f"{path}.{req}" if path else req))
        for key, value in obj.items():
            schema = typedef.properties.get(key)
            if schema is not None:
                sub = f"{path}.{key}" if path else key
                self._check_value(value, schema, sub, _short(typedef.name), result)

    def _check_value(
        self, value: Any, schema: Schema, path: str, parent: str, result: CheckResult
    ) -> None:
        if value is None or schema.kind is SchemaKind.ANY:
            return
        if schema.kind is SchemaKind.OBJECT:
            typedef = self.surface.types.get(schema.ref or "")
            if not isinstance(value, dict):
                go = f"v1.{_short(schema.ref or '')}"
                self._wrong(value, go, path, parent, result)
            elif typedef is not None:
                self._check_object(value, typedef, path, result)
        elif schema.kind in (SchemaKind.ARRAY, SchemaKind.MAP):
            want: type = list if schema.kind is SchemaKind.ARRAY else dict
            if not isinstance(value, want):
                self._wrong(value, "[]" if want is list else "map[string]", path, parent, result)
            elif schema.items is not None:
                entries = enumerate(value) if isinstance(value, list) else value.items()
                for key, item in entries:
                    sub = f"{path}[{key}]" if isinstance(value, list) else f"{path}.{key}"
                    self._check_value(item, schema.items, sub, parent, result)
        else:
            allowed = _JSON_OF.get(schema.kind, ())
            ok = isinstance(value, allowed) and not (
                isinstance(value, bool) and schema.kind is not SchemaKind.BOOLEAN
            )
            if allowed and not ok:
                self._wrong(value, _GO_TYPE.get(schema.kind, "string"), path, parent, result)

    @staticmethod
    def _wrong(value: Any, go_type: str, path: str, parent: str, result: CheckResult) -> None:
        field_path = path.split("[", 1)[0]
        result.decode_errors.append(
            f"json: cannot unmarshal {_json_kind(value)} into Go struct field "
            f"{parent}.{field_path} of type {go_type}"
        )
