"""Behaviours schemas do not show, for one server version, read from ``data/behaviours.yaml``.

Owns interpreting that file: which entry holds for a version (patch included, so backports such
as the ServicePort protocol default in 1.20.6 count), and expanding element-type key defaults to
the (type, property) pairs that hold such lists. It holds no facts itself and does no I/O beyond
reading the bundled file once.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from kubespark.apisurface.model import (
    Behaviours,
    FieldValidation,
    FieldValidationFormat,
    SchemaKind,
    TypeDef,
    TypedPatchErrorFormat,
)
from kubespark.errors import DataError
from kubespark.packagedata import package_files
from kubespark.versions import Version, VersionRange

__all__ = ["behaviours_for"]

_FILE = "behaviours.yaml"


@dataclass(frozen=True, slots=True)
class _Entry:
    ranges: tuple[VersionRange, ...]
    fields: Mapping[str, Any]
    source: str

    def holds(self, version: Version) -> bool:
        return any(r.contains(version) for r in self.ranges)


@functools.cache
def _document() -> Mapping[str, Any]:
    text = package_files(__file__, "kubespark.apisurface").joinpath("data", _FILE).read_text()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    doc = yaml.load(text, Loader=loader)
    if not isinstance(doc, dict):
        raise DataError(f"{_FILE} is not a mapping")
    return doc


def _entries(section: list[Any] | None, where: str) -> tuple[_Entry, ...]:
    out = []
    for n, raw in enumerate(section or []):
        if not isinstance(raw, dict) or "versions" not in raw or "source" not in raw:
            raise DataError(f"{_FILE}: {where}[{n}] needs versions and source")
        spec = raw["versions"]
        texts = spec if isinstance(spec, list) else [spec]
        ranges = tuple(VersionRange.parse(str(t)) for t in texts)
        out.append(_Entry(ranges, raw, str(raw["source"])))
    return tuple(out)


def _one(entries: tuple[_Entry, ...], version: Version, where: str) -> _Entry:
    hits = [e for e in entries if e.holds(version)]
    if len(hits) != 1:
        raise DataError(f"{_FILE}: {len(hits)} entries of {where} hold for {version}, want 1")
    return hits[0]


@functools.cache
def _sections() -> Mapping[str, tuple[_Entry, ...]]:
    doc = _document()
    tpe = doc.get("typed_patch_error", {})
    return {
        "server_side_apply": _entries(doc.get("server_side_apply"), "server_side_apply"),
        "apply_key_defaults": _entries(doc.get("apply_key_defaults"), "apply_key_defaults"),
        "field_validation": _entries(doc.get("field_validation"), "field_validation"),
        "prefix": _entries(tpe.get("prefix"), "typed_patch_error.prefix"),
        "unknown_field": _entries(tpe.get("unknown_field"), "typed_patch_error.unknown_field"),
        "omitted_key": _entries(tpe.get("omitted_key"), "typed_patch_error.omitted_key"),
        "walk": _entries(tpe.get("walk"), "typed_patch_error.walk"),
        "value_style": _entries(tpe.get("value_style"), "typed_patch_error.value_style"),
        "apply_resets_status": _entries(doc.get("apply_resets_status"), "apply_resets_status"),
        "subresource_entries": _entries(
            doc.get("managed_fields_record_subresource"), "managed_fields_record_subresource"
        ),
        "object_type_check": _entries(
            doc.get("apply_checks_object_type"), "apply_checks_object_type"
        ),
        "crd_rules": _entries(doc.get("crd_validation_rules"), "crd_validation_rules"),
    }


def behaviours_for(version: Version, types: Mapping[str, TypeDef]) -> Behaviours:
    """The behaviours of a server of ``version`` (a minor alone counts as its .0 patch)."""
    s = _sections()
    ssa = _one(s["server_side_apply"], version, "server_side_apply")
    fv = _one(s["field_validation"], version, "field_validation")
    prefix = _one(s["prefix"], version, "typed_patch_error.prefix")
    unknown = _one(s["unknown_field"], version, "typed_patch_error.unknown_field")
    omitted = _one(s["omitted_key"], version, "typed_patch_error.omitted_key")
    walk = _one(s["walk"], version, "typed_patch_error.walk")
    values = _one(s["value_style"], version, "typed_patch_error.value_style")
    resets = _one(s["apply_resets_status"], version, "apply_resets_status")
    subresources = _one(s["subresource_entries"], version, "managed_fields_record_subresource")
    type_check = _one(s["object_type_check"], version, "apply_checks_object_type")
    crd_rules = _one(s["crd_rules"], version, "crd_validation_rules")
    key_defaults: dict[str, dict[str, str]] = {}
    used = [ssa, fv, prefix, unknown, omitted, walk, values, resets, subresources, type_check]
    used.append(crd_rules)
    extra_sources = [str(fv.fields["messages_source"])] if "messages_source" in fv.fields else []
    for entry in s["apply_key_defaults"]:
        if entry.holds(version):
            f = entry.fields
            key_defaults.setdefault(str(f["type"]), {})[str(f["field"])] = str(f["default"])
            used.append(entry)
    return Behaviours(
        server_side_apply=bool(ssa.fields["enabled"]),
        server_side_apply_stage=str(ssa.fields["stage"]),
        apply_key_defaults=_holders(key_defaults, types),
        key_defaults_by_element=key_defaults,
        field_validation=FieldValidation(str(fv.fields["modes"])),
        default_field_validation=str(fv.fields["default"]),
        typed_patch_error=TypedPatchErrorFormat(
            prefix=str(prefix.fields["text"]),
            unknown_field=str(unknown.fields["text"]),
            omitted_key=str(omitted.fields["text"]),
            optional_keys=bool(omitted.fields.get("optional_keys", False)),
            walk=str(walk.fields["text"]),
            value_style=str(values.fields["text"]),
        ),
        apply_resets_status=bool(resets.fields["value"]),
        managed_fields_record_subresource=bool(subresources.fields["value"]),
        apply_checks_object_type=bool(type_check.fields["value"]),
        crd_validation_rules=bool(crd_rules.fields["value"]),
        field_validation_format=_field_validation_format(fv.fields),
        sources=(*(e.source for e in used), *extra_sources),
    )


def _field_validation_format(fields: Mapping[str, Any]) -> FieldValidationFormat | None:
    if "strict_error" not in fields:
        return None
    return FieldValidationFormat(
        strict_error=str(fields["strict_error"]),
        strict_item=str(fields["strict_item"]),
        warning=str(fields["warning"]),
    )


def _holders(
    by_element: Mapping[str, Mapping[str, str]], types: Mapping[str, TypeDef]
) -> Mapping[tuple[str, str], Mapping[str, str]]:
    """(type, property) of every list of a defaulted element type whose keys include the field."""
    out: dict[tuple[str, str], Mapping[str, str]] = {}
    if not by_element:
        return out
    for typedef in types.values():
        for prop, schema in typedef.properties.items():
            ref = schema.items.ref if schema.items is not None else None
            if schema.kind is not SchemaKind.ARRAY or ref is None or ref not in by_element:
                continue
            _, keys = schema.apply_list()
            defaults = {k: v for k, v in by_element[ref].items() if k in keys}
            if defaults:
                out[(typedef.name, prop)] = defaults
    return out
