"""Loading the bundled API surface of a Kubernetes version.

Owns reading ``data/`` (written by ``tools/gen_apisurface.py``, format in docs/apisurface.md):
the content-addressed type store, the per-minor indexes and the manifest. Types are decoded
once per content hash and shared by every minor that has the same definition; a surface is
built once per minor (types, resources) and once per patch (behaviours). Everything returned
is immutable. It does no network I/O.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from kubespark.apisurface.behaviours import behaviours_for
from kubespark.apisurface.minor_cache import cached_minor
from kubespark.apisurface.model import (
    ApiSurface,
    GroupVersionKind,
    ListType,
    Resource,
    Schema,
    SchemaKind,
    SubResource,
    TypeDef,
)
from kubespark.errors import DataError, InputError
from kubespark.packagedata import package_files
from kubespark.versions import Version, parse_kube_version

__all__ = [
    "bundled_types",
    "known_versions",
    "load_surface",
    "manifest",
    "newest_version",
    "parse_surface_version",
    "raw_index",
    "type_hashes",
]


def _data_dir() -> Path:
    return Path(str(package_files(__file__, "kubespark.apisurface").joinpath("data")))


def _read_json(name: str) -> Any:
    path = _data_dir() / name
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise DataError(f"bundled API surface file {name} is unreadable: {exc}") from exc


@functools.cache
def manifest() -> Mapping[str, Any]:
    """What the generator read: package versions, their sha256, the files per minor."""
    return MappingProxyType(_read_json("manifest.json"))


@functools.cache
def known_versions() -> tuple[Version, ...]:
    """Every minor with bundled data, oldest first."""
    return tuple(sorted(parse_kube_version(v) for v in manifest()["minors"]))


def newest_version() -> Version:
    return known_versions()[-1]


def parse_surface_version(version: Version | str) -> Version:
    """A version as given (``"1.19"``, ``"v1.19.16-eks-x"``, a Version), checked against data."""
    v = parse_kube_version(version) if isinstance(version, str) else version
    known = known_versions()
    if v.minor_version not in known:
        first, last = known[0], known[-1]
        raise InputError(
            f"Kubernetes {v} is outside the bundled API surface ({first} to {last})",
            where="Kubernetes version",
            fix=f"give a version from {first} to {last}; for a newer or vendor server, read its "
            "own capabilities (kubespark asks the live server for discovery and /openapi/v2)",
        )
    return v


def load_surface(version: Version | str) -> ApiSurface:
    """The API surface of a Kubernetes version; the patch, when given, shapes the behaviours."""
    v = parse_surface_version(version)
    return _surface(v.major, v.minor, v.patch)


@functools.cache
def _surface(major: int, minor: int, patch: int | None) -> ApiSurface:
    served, optional, types = _minor(major, minor)
    server = Version(major, minor, patch)
    return ApiSurface(
        version=Version(major, minor),
        resources=served,
        types=types,
        behaviours=behaviours_for(server, types),
        server_version=server if patch is not None else None,
        optional_resources=optional,
    )


def type_hashes(version: Version | str) -> Mapping[str, str]:
    """Type name -> content hash for a minor: equal hashes mean identical definitions."""
    v = parse_surface_version(version)
    return raw_index(v.major, v.minor)[0]


@functools.cache
def raw_index(major: int, minor: int) -> tuple[Mapping[str, str], tuple[Any, ...]]:
    """A minor's raw index: type name -> content hash, and its compact resource entries."""
    doc = _read_json(f"versions/{major}.{minor}.json")
    return MappingProxyType(doc["types"]), tuple(doc["resources"])


@functools.cache
def _minor(
    major: int, minor: int
) -> tuple[tuple[Resource, ...], tuple[Resource, ...], Mapping[str, TypeDef]]:
    """(served by default, served once enabled, types) of a minor, from the disk cache if built
    before from the same data (a zipped install builds it every time)."""
    data = _data_dir()
    if not data.is_dir():
        return _build_minor(major, minor)
    sources = (data / "types.json", data / "versions" / f"{major}.{minor}.json")
    served, optional, types = cached_minor(
        f"{major}.{minor}", sources, lambda: _build_minor(major, minor)
    )
    hashes = raw_index(major, minor)[0]
    # A minor read from the disk cache brings its own copies: adopt them so that identical
    # definitions stay one object across minors, as the build makes them.
    shared = {name: _DEFINITIONS.adopted(hashes[name], t) for name, t in types.items()}
    return served, optional, MappingProxyType(shared)


def _build_minor(
    major: int, minor: int
) -> tuple[tuple[Resource, ...], tuple[Resource, ...], Mapping[str, TypeDef]]:
    hashes, raw_resources = raw_index(major, minor)
    types = MappingProxyType({name: _DEFINITIONS.built(h) for name, h in hashes.items()})
    served = tuple(_resource(r) for r in raw_resources if "off" not in r)
    optional = tuple(_resource(r) for r in raw_resources if "off" in r)
    return served, optional, types


@functools.cache
def bundled_types() -> Mapping[str, Any]:
    """The raw type store: content hash -> [name, compact definition]."""
    return MappingProxyType(_read_json("types.json"))


class _Definitions:
    """One :class:`TypeDef` per content hash in this process: the minors share identical
    definitions (most of each minor's 500-odd types), in memory and by identity."""

    def __init__(self) -> None:
        self._by_hash: dict[str, TypeDef] = {}

    def built(self, type_hash: str) -> TypeDef:
        found = self._by_hash.get(type_hash)
        if found is None:
            found = self._by_hash.setdefault(type_hash, _typedef(type_hash))
        return found

    def adopted(self, type_hash: str, typedef: TypeDef) -> TypeDef:
        """The process's object for ``type_hash``; ``typedef`` (an equal copy) if it is the
        first."""
        return self._by_hash.setdefault(type_hash, typedef)


_DEFINITIONS = _Definitions()


def _typedef(type_hash: str) -> TypeDef:
    name, compact = bundled_types()[type_hash]
    return TypeDef(
        name=name,
        properties=MappingProxyType({p: _schema(s) for p, s in compact["p"].items()}),
        required=frozenset(compact.get("r", ())),
        gvks=tuple(GroupVersionKind(*g) for g in compact.get("g", ())),
        preserve_unknown_fields=bool(compact.get("u", False)),
        map_type=compact.get("mt"),
    )


def _schema(compact: str | dict[str, Any]) -> Schema:
    if isinstance(compact, str):
        return _scalar(compact)
    base = _scalar(compact["k"]) if compact["k"] not in ("array", "map") else None
    kind = SchemaKind.ARRAY if compact["k"] == "array" else SchemaKind.MAP
    enum = compact.get("e")
    return Schema(
        kind=base.kind if base else kind,
        ref=base.ref if base else None,
        items=_schema(compact["i"]) if "i" in compact else None,
        list_type=ListType(compact["lt"]) if "lt" in compact else None,
        list_map_keys=tuple(compact.get("lk", ())),
        patch_strategy=compact.get("ps"),
        patch_merge_key=compact.get("pk"),
        enum=tuple(str(e) for e in enum) if enum else None,
        format=base.format if base else None,
        map_type=compact.get("mt"),
    )


@functools.cache
def _scalar(text: str) -> Schema:
    """A schema without extras: shared by every property spelled the same way."""
    if text.startswith("#"):
        return Schema(SchemaKind.OBJECT, ref=text[1:])
    kind, _, fmt = text.partition(":")
    try:
        return Schema(SchemaKind(kind), format=fmt or None)
    except ValueError as exc:
        raise DataError(f"bundled API surface has an unknown value kind {text!r}") from exc


def _resource(raw: Mapping[str, Any]) -> Resource:
    details = tuple(
        SubResource(
            name=s["n"],
            gvk=GroupVersionKind(*s["g"]) if s["g"] else None,
            verbs=frozenset(s["v"]),
        )
        for s in raw.get("s", ())
    )
    gvk = GroupVersionKind(*raw["g"])
    return Resource(
        gvk=gvk,
        plural=raw["p"],
        singular=gvk.kind.lower(),
        namespaced=bool(raw["ns"]),
        verbs=frozenset(raw["v"]),
        subresources=tuple(d.name for d in details),
        short_names=tuple(raw.get("sn", ())),
        type_name=raw["t"],
        categories=tuple(raw.get("c", ())),
        subresource_details=details,
    )
