"""Kubernetes protobuf request bodies, read into the JSON objects the rest of the server handles.

Owns decoding ``application/vnd.kubernetes.protobuf`` writes (the ``k8s\\x00`` envelope, the
``runtime.Unknown`` wrapper, then the object by its message's field table from
``data/protobuf.json.gz``, generated from Kubernetes' ``generated.proto`` files by
``tools/gen_emulator_protobuf.py``), with the JSON forms the Go types have: Time as RFC 3339,
Quantity as a string, IntOrString as a number or string, bytes as base64, RawExtension and
FieldsV1 as embedded JSON. kubectl's typed commands (``kubectl create namespace``, ``create
serviceaccount``, ``create secret``, ...) send these. Answers stay JSON, which every client
accepts. Pure, no I/O beyond reading the bundled table once.
"""

from __future__ import annotations

import base64
import functools
import gzip
import json
import struct
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from kubespark.emulator.apiserver.wire import bad_request

__all__ = ["MEDIA_TYPE", "decode_object"]

MEDIA_TYPE = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"
_META = "k8s.io.apimachinery.pkg.apis.meta.v1."
_ZERO_TIME = -62135596800  # time.Time{}.Unix(): a zero Go time, omitted in JSON
_VARINT_TYPES = frozenset({"int32", "int64", "uint32", "uint64", "bool", "sint32", "sint64"})

Field = tuple[str, str, str, str, bool]  # name, label, type, map value type, omit zero


@functools.cache
def _tables() -> tuple[dict[str, str], dict[str, dict[int, Field]]]:
    raw = resources.files("kubespark.emulator").joinpath("data/protobuf.json.gz").read_bytes()
    data = json.loads(gzip.decompress(raw))
    messages = {
        name: {int(f[0]): (str(f[1]), str(f[2]), str(f[3]), str(f[4]), bool(f[5])) for f in fields}
        for name, fields in data["messages"].items()
    }
    return dict(data["groups"]), messages


class _Malformed(Exception):
    pass


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise _Malformed("truncated varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _fields(data: bytes) -> list[tuple[int, int, Any]]:
    """(number, wire type, raw value) of every field of one message, in order."""
    out = []
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        value: Any
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 1:
            value, pos = data[pos : pos + 8], pos + 8
        elif wire == 2:
            size, pos = _varint(data, pos)
            if pos + size > len(data):
                raise _Malformed("truncated field")
            value, pos = data[pos : pos + size], pos + size
        elif wire == 5:
            value, pos = data[pos : pos + 4], pos + 4
        else:
            raise _Malformed(f"wire type {wire}")
        out.append((number, wire, value))
    return out


def _signed(value: int, bits: int) -> int:
    value &= (1 << 64) - 1
    if value >= 1 << 63:
        value -= 1 << 64
    if bits == 32:
        value = ((value + (1 << 31)) % (1 << 32)) - (1 << 31)
    return value


def _scalar(ftype: str, wire: int, raw: Any) -> Any:
    if ftype == "string":
        return bytes(raw).decode("utf-8", errors="replace")
    if ftype == "bytes":
        return base64.b64encode(bytes(raw)).decode()
    if ftype == "bool":
        return bool(raw)
    if ftype in ("int32", "sint32"):
        return _signed(raw, 32)
    if ftype in ("int64", "sint64"):
        return _signed(raw, 64)
    if ftype in ("uint32", "uint64"):
        return int(raw)
    if ftype in ("double", "fixed64"):
        return struct.unpack("<d", raw)[0] if ftype == "double" else int.from_bytes(raw, "little")
    if ftype in ("float", "fixed32"):
        return struct.unpack("<f", raw)[0] if ftype == "float" else int.from_bytes(raw, "little")
    raise _Malformed(f"scalar type {ftype}")


def _special(name: str, data: bytes) -> tuple[bool, Any]:
    """Messages whose JSON form is not an object of their fields."""
    short = name.rsplit(".", 1)[-1]
    if name in (_META + "Time", _META + "MicroTime"):
        seconds = nanos = 0
        for number, _, raw in _fields(data):
            if number == 1:
                seconds = _signed(raw, 64)
            elif number == 2:
                nanos = _signed(raw, 32)
        if seconds == _ZERO_TIME or not data:  # an empty message is Go's zero time
            return True, None
        moment = datetime.fromtimestamp(seconds, UTC)
        if short == "MicroTime":
            return True, moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos // 1000:06d}Z"
        return True, moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if name == "k8s.io.apimachinery.pkg.api.resource.Quantity":
        text = next((bytes(raw).decode() for n, _, raw in _fields(data) if n == 1), "")
        return True, text
    if name == "k8s.io.apimachinery.pkg.util.intstr.IntOrString":
        kind, int_val, str_val = 0, 0, ""
        for number, _, raw in _fields(data):
            if number == 1:
                kind = raw
            elif number == 2:
                int_val = _signed(raw, 32)
            elif number == 3:
                str_val = bytes(raw).decode()
        return True, (str_val if kind == 1 else int_val)
    if name in ("k8s.io.apimachinery.pkg.runtime.RawExtension", _META + "FieldsV1"):
        raw_json = next((bytes(raw) for n, _, raw in _fields(data) if n == 1), b"")
        return True, json.loads(raw_json) if raw_json else None
    if name == _META + "Duration":
        nanos = next((_signed(raw, 64) for n, _, raw in _fields(data) if n == 1), 0)
        return True, f"{nanos / 1e9:g}s"
    return False, None


def _message(name: str, data: bytes) -> Any:
    special, value = _special(name, data)
    if special:
        return value
    _, messages = _tables()
    table = messages.get(name)
    if table is None:
        raise _Malformed(f"no protobuf message {name}")
    out: dict[str, Any] = {}
    for number, wire, raw in _fields(data):
        spec = table.get(number)
        if spec is None:
            continue  # a field this table does not know: dropped, like an unknown JSON field
        fname, label, ftype, vtype, omit_zero = spec
        if label == "m":
            entry = {n: (w, r) for n, w, r in _fields(raw)}
            key = _decode(ftype, *entry[1]) if 1 in entry else ""
            val = _decode(vtype, *entry[2]) if 2 in entry else _empty(vtype)
            out.setdefault(fname, {})[str(key)] = val
        elif label == "r":
            if wire == 2 and ftype in _VARINT_TYPES:  # packed
                pos, items = 0, []
                while pos < len(raw):
                    item, pos = _varint(raw, pos)
                    items.append(_scalar(ftype, 0, item))
                out.setdefault(fname, []).extend(items)
            else:
                out.setdefault(fname, []).append(_decode(ftype, wire, raw))
        else:
            value = _decode(ftype, wire, raw)
            if value is None or (omit_zero and value in ("", 0, False)):
                continue  # omitempty: Go writes zero values and zero times on the wire
            out[fname] = value
    return out


def _empty(ftype: str) -> Any:
    return "" if ftype in ("string", "bytes") else ({} if "." in ftype else 0)


def _decode(ftype: str, wire: int, raw: Any) -> Any:
    if "." in ftype:
        return _message(ftype, bytes(raw))
    return _scalar(ftype, wire, raw)


def decode_object(body: bytes) -> dict[str, Any]:
    """The JSON object a protobuf request body carries; a 400 when it cannot be read."""
    if not body.startswith(MAGIC):
        raise bad_request(
            "provided object is not a valid protobuf message: missing 'k8s\\x00' prefix"
        )
    try:
        envelope = {n: raw for n, _, raw in _fields(body[len(MAGIC) :])}
        type_meta = {n: bytes(raw).decode() for n, _, raw in _fields(envelope.get(1, b""))}
        api_version, kind = type_meta.get(1, ""), type_meta.get(2, "")
        groups, _ = _tables()
        package = groups.get(api_version)
        if package is None or not kind:
            raise bad_request(f'no kind "{kind}" is registered for version "{api_version}"')
        obj = _message(f"{package}.{kind}", bytes(envelope.get(2, b"")))
    except _Malformed as err:
        raise bad_request(f"unable to decode protobuf body: {err}") from None
    if not isinstance(obj, dict):
        raise bad_request("unable to decode protobuf body: not an object")
    return {"apiVersion": api_version, "kind": kind, **obj}
