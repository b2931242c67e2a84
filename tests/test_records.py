"""kubespark.records: parsed documents as frozen dataclasses, every fault collected, and back."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, Literal, TypeVar

import pytest

from kubespark.records import (
    Alias,
    DecodeError,
    Extras,
    Ge,
    Le,
    MaxLen,
    MinLen,
    Pattern,
    Tracked,
    decode,
    encode,
    fields_set,
    record_fields,
    replace,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Port(Tracked):
    name: Annotated[str, MinLen(1), MaxLen(5), Pattern(r"^[a-z]+$")]
    number: Annotated[int, Alias("containerPort"), Ge(1), Le(65535)]
    protocol: Literal["TCP", "UDP"] = "TCP"


@dataclass(frozen=True, slots=True, kw_only=True)
class Pod(Tracked):
    image: str | None = None
    ports: list[Port] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    size: str | int | None = None
    debug: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Meta(Tracked):
    name: str
    namespace: str = "default"
    extra: Annotated[dict[str, Any], Extras()] = field(default_factory=dict)


SpecT = TypeVar("SpecT")


@dataclass(frozen=True, slots=True, kw_only=True)
class Resource(Tracked, Generic[SpecT]):
    metadata: Meta
    spec: SpecT


@dataclass(frozen=True, slots=True, kw_only=True)
class PodResource(Resource[Pod]):
    pass


def _faults(record: type[Any], data: Any) -> list[tuple[Any, ...]]:
    with pytest.raises(DecodeError) as caught:
        decode(record, data)
    return [(f.loc, f.kind, f.input, dict(f.ctx)) for f in caught.value.faults]


def test_a_document_decodes_by_json_names_into_nested_records() -> None:
    pod = decode(Pod, {"ports": [{"name": "ui", "containerPort": 4040}], "size": 2})
    assert pod == Pod(ports=[Port(name="ui", number=4040)], size=2)
    assert pod.ports[0].protocol == "TCP"
    with pytest.raises(dataclasses.FrozenInstanceError):
        pod.image = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("value", "kind"),
    [("2", "int_type"), (True, "int_type"), (2.0, "int_type"), (None, "int_type")],
)
def test_integers_are_strict(value: Any, kind: str) -> None:
    assert _faults(Port, {"name": "ui", "containerPort": value}) == [
        (("containerPort",), kind, value, {})
    ]


def test_strings_and_flags_are_strict() -> None:
    assert _faults(Pod, {"image": 2, "debug": 1, "labels": {"a": True}}) == [
        (("image",), "string_type", 2, {}),
        (("labels", "a"), "string_type", True, {}),
        (("debug",), "bool_type", 1, {}),
    ]


def test_every_fault_is_collected_with_its_context() -> None:
    data = {"ports": [{"name": "", "containerPort": 0, "protocol": "SCTP"}, {"name": "Ab"}]}
    assert _faults(Pod, data) == [
        (("ports", 0, "name"), "string_too_short", "", {"min_length": 1}),
        (("ports", 0, "containerPort"), "greater_than_equal", 0, {"ge": 1}),
        (("ports", 0, "protocol"), "literal_error", "SCTP", {"expected": "'TCP' or 'UDP'"}),
        (("ports", 1, "name"), "string_pattern_mismatch", "Ab", {"pattern": "^[a-z]+$"}),
        (("ports", 1, "containerPort"), "missing", {"name": "Ab"}, {}),
    ]


def test_messages_are_worded_as_pydantic_words_them() -> None:
    with pytest.raises(DecodeError) as caught:
        decode(Port, {"name": "abcdefg", "containerPort": 70000, "extra": 1})
    assert [f.message for f in caught.value.faults] == [
        "String should have at most 5 characters",
        "Input should be less than or equal to 65535",
        "Extra inputs are not permitted",
    ]
    assert caught.value.path == "name" and caught.value.message.startswith("String")


def test_unknown_keys_are_refused_or_kept_where_a_record_keeps_them() -> None:
    assert _faults(Pod, {"imag": "x", 3: "y"}) == [
        (("imag",), "extra_forbidden", "x", {}),
        ((3,), "invalid_key", 3, {}),
    ]
    meta = decode(Meta, {"name": "a", "generateName": "a-"})
    assert meta.extra == {"generateName": "a-"}
    assert encode(meta) == {"name": "a", "namespace": "default", "generateName": "a-"}
    assert "extra" not in {f.json for f in record_fields(Meta) if not f.extras}


def test_a_union_takes_the_first_member_that_fits() -> None:
    assert decode(Pod, {"size": "1Gi"}).size == "1Gi"
    assert decode(Pod, {"size": 3}).size == 3
    assert _faults(Pod, {"size": [1]}) == [(("size",), "string_type", [1], {})]


def test_a_generic_record_decodes_its_type_parameter() -> None:
    resource = decode(PodResource, {"metadata": {"name": "p"}, "spec": {"image": "busybox"}})
    assert resource.spec == Pod(image="busybox")
    assert _faults(PodResource, {"metadata": {"name": "p"}, "spec": {"imag": "x"}}) == [
        (("spec", "imag"), "extra_forbidden", "x", {})
    ]


def test_fields_set_are_what_the_document_and_replace_set() -> None:
    meta = decode(Meta, {"name": "a", "namespace": "default"})
    assert fields_set(meta) == {"name", "namespace"}
    assert fields_set(decode(Meta, {"name": "a"})) == {"name"}
    moved = replace(decode(Meta, {"name": "a"}), namespace="jobs")
    assert fields_set(moved) == {"name", "namespace"}
    # Built in Python (no document): the fields that differ from their defaults.
    assert fields_set(Meta(name="a")) == {"name"}
    assert fields_set(Meta(name="a", namespace="jobs")) == {"name", "namespace"}


def test_encode_writes_json_names_without_none_and_only_what_was_set() -> None:
    pod = decode(Pod, {"ports": [{"name": "ui", "containerPort": 4040}]})
    assert encode(pod) == {
        "ports": [{"name": "ui", "containerPort": 4040, "protocol": "TCP"}],
        "labels": {},
        "debug": False,
    }
    assert encode(pod, only_set=True) == {"ports": [{"name": "ui", "containerPort": 4040}]}
    changed = replace(pod, debug=True)
    assert encode(changed, only_set=True) == {**encode(pod, only_set=True), "debug": True}
    out = encode(pod)
    out["ports"][0]["name"] = "changed"
    assert pod.ports[0].name == "ui"  # containers are copies
