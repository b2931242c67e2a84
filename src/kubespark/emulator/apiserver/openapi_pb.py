"""``/openapi/v2`` as protobuf: the gnostic ``openapi.v2.Document`` kubectl asks for.

client-go fetches the v2 document with ``Accept: application/com.github.proto-openapi.spec.v2@
v1.0+protobuf`` and decodes it with gnostic's ``OpenAPIv2.proto``; a JSON answer fails to
parse. This module owns encoding the JSON document into that message, for the parts readers
use (info, paths with their operations and parameters, definitions with types, references,
required fields, items, properties, additionalProperties, enums and ``x-`` extensions, which
gnostic carries as YAML text). Field numbers follow google/gnostic ``openapiv2/OpenAPIv2.proto``.
No I/O.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any

import yaml

__all__ = ["MEDIA_TYPE", "RESPONSE_MEDIA_TYPE", "encode_document"]

MEDIA_TYPE = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"  # as clients ask
# As servers answer: '@' is not allowed in a media type, so Go's mime parser would refuse it.
RESPONSE_MEDIA_TYPE = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"


def _varint(value: int) -> bytes:
    out = bytearray()
    value &= (1 << 64) - 1
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint((field << 3) | wire)


def _bytes(field: int, data: bytes) -> bytes:
    return _key(field, 2) + _varint(len(data)) + data


def _str(field: int, text: str) -> bytes:
    return _bytes(field, text.encode()) if text else b""


def _bool(field: int, value: bool) -> bytes:
    return _key(field, 0) + b"\x01" if value else b""


def _int(field: int, value: int) -> bytes:
    return _key(field, 0) + _varint(value) if value else b""


def _double(field: int, value: float) -> bytes:
    return _key(field, 1) + struct.pack("<d", float(value))


def _any(value: Any) -> bytes:
    # gnostic.Any: field 2 holds the YAML text of the value.
    text = yaml.safe_dump(value, default_flow_style=False, sort_keys=False)
    return _str(2, text)


def _named_any(name: str, value: Any) -> bytes:
    return _str(1, name) + _bytes(2, _any(value))


def _extensions(field: int, node: Mapping[str, Any]) -> bytes:
    return b"".join(_bytes(field, _named_any(k, v)) for k, v in node.items() if k.startswith("x-"))


def _schema(node: Mapping[str, Any]) -> bytes:
    out = bytearray()
    out += _str(1, node.get("$ref", ""))
    out += _str(2, node.get("format", ""))
    out += _str(3, node.get("title", ""))
    out += _str(4, node.get("description", ""))
    if "default" in node:
        out += _bytes(5, _any(node["default"]))
    for fld, key in ((7, "maximum"), (9, "minimum")):
        if isinstance(node.get(key), int | float):
            out += _double(fld, node[key])
    for fld, key in ((11, "maxLength"), (12, "minLength"), (14, "maxItems"), (15, "minItems")):
        if isinstance(node.get(key), int):
            out += _int(fld, node[key])
    out += _str(13, node.get("pattern", ""))
    for req in node.get("required") or []:
        out += _str(19, str(req))
    for value in node.get("enum") or []:
        out += _bytes(20, _any(value))
    additional = node.get("additionalProperties")
    if isinstance(additional, Mapping):
        out += _bytes(21, _bytes(1, _schema(additional)))
    elif isinstance(additional, bool):
        out += _bytes(21, _key(2, 0) + (b"\x01" if additional else b"\x00"))
    kind = node.get("type")
    if kind:
        types = kind if isinstance(kind, list) else [kind]
        out += _bytes(22, b"".join(_str(1, str(t)) for t in types))
    items = node.get("items")
    if isinstance(items, Mapping):
        out += _bytes(23, _bytes(1, _schema(items)))
    for sub in node.get("allOf") or []:
        out += _bytes(24, _schema(sub))
    props = node.get("properties")
    if isinstance(props, Mapping):
        named = b"".join(
            _bytes(1, _str(1, name) + _bytes(2, _schema(sub))) for name, sub in props.items()
        )
        out += _bytes(25, named)
    out += _bool(27, bool(node.get("readOnly")))
    out += _extensions(31, node)
    return bytes(out)


def _parameter(param: Mapping[str, Any]) -> bytes:
    if param.get("in") == "body":
        body = (
            _str(1, param.get("description", ""))
            + _str(2, param.get("name", ""))
            + _str(3, "body")
            + _bool(4, bool(param.get("required")))
            + _bytes(5, _schema(param.get("schema") or {}))
        )
        parameter = _bytes(1, body)
    else:
        sub = (
            _bool(1, bool(param.get("required")))
            + _str(2, param.get("in", "query"))
            + _str(3, param.get("description", ""))
            + _str(4, param.get("name", ""))
        )
        if param.get("in") == "path":
            sub += _str(5, param.get("type", "string"))
            oneof = _bytes(4, sub)
        else:
            sub += _str(6, param.get("type", "string"))
            sub += _bool(20, bool(param.get("uniqueItems")))
            oneof = _bytes(3, sub)
        parameter = _bytes(2, oneof)
    return _bytes(1, parameter)  # ParametersItem.parameter


def _operation(op: Mapping[str, Any]) -> bytes:
    out = bytearray()
    for tag in op.get("tags") or []:
        out += _str(1, tag)
    out += _str(3, op.get("description", ""))
    out += _str(5, op.get("operationId", ""))
    for media in op.get("produces") or []:
        out += _str(6, media)
    for media in op.get("consumes") or []:
        out += _str(7, media)
    for param in op.get("parameters") or []:
        out += _bytes(8, _parameter(param))
    responses = bytearray()
    for code, resp in (op.get("responses") or {}).items():
        response = _str(1, resp.get("description", ""))
        if isinstance(resp.get("schema"), Mapping):
            response += _bytes(2, _bytes(1, _schema(resp["schema"])))
        value = _bytes(1, response)
        responses += _bytes(1, _str(1, str(code)) + _bytes(2, value))
    out += _bytes(9, bytes(responses))
    out += _extensions(13, op)
    return bytes(out)


_OPERATION_FIELDS = {
    "get": 2,
    "put": 3,
    "post": 4,
    "delete": 5,
    "options": 6,
    "head": 7,
    "patch": 8,
}


def _path_item(item: Mapping[str, Any]) -> bytes:
    out = bytearray()
    for verb, fld in _OPERATION_FIELDS.items():
        if isinstance(item.get(verb), Mapping):
            out += _bytes(fld, _operation(item[verb]))
    for param in item.get("parameters") or []:
        out += _bytes(9, _parameter(param))
    out += _extensions(10, item)
    return bytes(out)


def encode_document(doc: Mapping[str, Any]) -> bytes:
    """The gnostic ``openapi.v2.Document`` encoding of a Swagger 2.0 document."""
    out = bytearray()
    out += _str(1, doc.get("swagger", "2.0"))
    info = doc.get("info") or {}
    out += _bytes(2, _str(1, info.get("title", "")) + _str(2, info.get("version", "")))
    paths = b"".join(
        _bytes(2, _str(1, path) + _bytes(2, _path_item(item)))
        for path, item in (doc.get("paths") or {}).items()
    )
    out += _bytes(8, paths)
    definitions = b"".join(
        _bytes(1, _str(1, name) + _bytes(2, _schema(schema)))
        for name, schema in (doc.get("definitions") or {}).items()
    )
    out += _bytes(9, definitions)
    return bytes(out)
