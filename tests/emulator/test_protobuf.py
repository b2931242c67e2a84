"""Reading Kubernetes protobuf request bodies (what kubectl's typed commands send)."""

from __future__ import annotations

import pytest

from kubespark.emulator.apiserver.protobuf import decode_object
from kubespark.kube.errors import BadRequest


def _varint(value: int) -> bytes:
    out = bytearray()
    value &= (1 << 64) - 1
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _bytes(number: int, data: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _int(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    type_meta = _bytes(1, api_version.encode()) + _bytes(2, kind.encode())
    return b"k8s\x00" + _bytes(1, type_meta) + _bytes(2, raw)


def test_a_namespace_with_labels_and_a_zero_time() -> None:
    label = _bytes(1, b"team") + _bytes(2, b"data")
    meta = _bytes(1, b"jobs") + _bytes(2, b"") + _int(7, 0) + _bytes(8, b"") + _bytes(11, label)
    obj = decode_object(_envelope("v1", "Namespace", _bytes(1, meta)))
    assert obj == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "jobs", "labels": {"team": "data"}},
    }


def test_quantities_int_or_string_bytes_and_negative_numbers() -> None:
    quantity = _bytes(1, b"500m")
    requests = _bytes(1, b"cpu") + _bytes(2, quantity)
    resources = _bytes(2, requests)
    container = _bytes(1, b"main") + _bytes(2, b"busybox") + _bytes(8, resources)
    spec = _bytes(2, container) + _int(4, (1 << 64) - 5)  # terminationGracePeriodSeconds=-5
    obj = decode_object(_envelope("v1", "Pod", _bytes(2, spec)))
    assert obj["spec"]["containers"][0]["resources"] == {"requests": {"cpu": "500m"}}
    assert obj["spec"]["terminationGracePeriodSeconds"] == -5
    target = _int(1, 1) + _bytes(3, b"http")
    port = _bytes(1, b"web") + _int(3, 80) + _bytes(4, target)
    svc = decode_object(_envelope("v1", "Service", _bytes(2, _bytes(1, port))))
    assert svc["spec"]["ports"] == [{"name": "web", "port": 80, "targetPort": "http"}]
    data = _bytes(1, b"k") + _bytes(2, b"\x00\xff")
    secret = decode_object(_envelope("v1", "Secret", _bytes(2, data)))
    assert secret["data"] == {"k": "AP8="}


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"junk",
        b"k8s\x00\xff\xff\xff",
        _envelope("v9", "Pod", b""),
        _envelope("v1", "NoSuchKind", b""),
        b"k8s\x00" + _bytes(2, b"\x0a\xff"),
    ],
)
def test_malformed_bodies_are_400(body: bytes) -> None:
    with pytest.raises(BadRequest):
        decode_object(body)
