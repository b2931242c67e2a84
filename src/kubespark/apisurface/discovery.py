"""An API surface built from what a live server says about itself.

Owns turning ``/version``, discovery (``/api``, ``/apis`` and each group-version's
APIResourceList) and, when served, ``/openapi/v2`` into an :class:`ApiSurface`. The server's
own answers win over the bundled data (its CRDs, aggregated APIs and vendor changes are seen);
the bundled surface of the same minor fills in what it did not answer. Pure: the documents are
fetched by ``kubespark.kube.discovery``; nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from kubespark.apisurface.behaviours import behaviours_for
from kubespark.apisurface.load import known_versions, load_surface
from kubespark.apisurface.model import (
    ApiSurface,
    GroupVersionKind,
    Resource,
    SubResource,
    TypeDef,
)
from kubespark.apisurface.openapi import types_from_openapi_v2
from kubespark.errors import InputError
from kubespark.versions import Version, parse_kube_version

__all__ = [
    "DiscoveryDocs",
    "discovery_documents",
    "server_version",
    "surface_from_discovery",
    "version_document",
]

_NO_SCHEMA = "x-kubespark.no-schema."  # prefix of the stand-in type of a schemaless resource


@dataclass(frozen=True, slots=True)
class DiscoveryDocs:
    """The raw discovery documents of one server, as JSON objects."""

    core: Mapping[str, Any] | None = None  # GET /api (APIVersions)
    groups: Mapping[str, Any] | None = None  # GET /apis (APIGroupList)
    # group-version ("v1", "apps/v1") -> its APIResourceList
    resource_lists: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # group-versions discovery named but that did not answer (an aggregated API down, 503)
    failed: tuple[str, ...] = ()

    def group_versions(self) -> tuple[str, ...]:
        """Every group-version discovery names, core first, in the server's order."""
        out = [str(v) for v in (self.core or {}).get("versions", ())]
        for group in (self.groups or {}).get("groups", ()):
            out.extend(str(v["groupVersion"]) for v in group.get("versions", ()))
        return tuple(dict.fromkeys(out))


def server_version(version_info: Mapping[str, Any]) -> Version:
    """The version a ``/version`` document reports (``gitVersion``, else major/minor)."""
    git = version_info.get("gitVersion")
    if isinstance(git, str) and git:
        return parse_kube_version(git, what="server version")
    major = str(version_info.get("major", "")).rstrip("+")
    minor = str(version_info.get("minor", "")).rstrip("+")
    return parse_kube_version(f"{major}.{minor}", what="server version")


def _fallback(version: Version) -> ApiSurface:
    """The bundled surface of the server's minor, or the nearest bundled one."""
    known = known_versions()
    if version.minor_version < known[0]:
        raise InputError(
            f"the server runs Kubernetes {version}; kubespark supports {known[0]} and newer",
            where="server version",
            fix=f"upgrade the cluster to {known[0]} or newer",
        )
    minor = min(version.minor_version, known[-1])
    return load_surface(minor if version.minor_version > known[-1] else version)


def surface_from_discovery(
    version_info: Mapping[str, Any],
    discovery: DiscoveryDocs,
    openapi_v2: Mapping[str, Any] | None = None,
) -> ApiSurface:
    """The surface a live server serves, its own answers first, bundled data for the rest."""
    version = server_version(version_info)
    base = _fallback(version)
    types: dict[str, TypeDef] = dict(base.types)
    if openapi_v2:
        types.update(types_from_openapi_v2(openapi_v2))
    gvk_types = _gvk_index(types)
    resources = _resources(discovery, base, gvk_types, types)
    return ApiSurface(
        version=version.minor_version,
        resources=resources,
        types=MappingProxyType(types),
        behaviours=behaviours_for(version, types),
        server_version=version if version.patch is not None else None,
    )


def _gvk_index(types: Mapping[str, TypeDef]) -> dict[GroupVersionKind, str]:
    out: dict[GroupVersionKind, str] = {}
    for name, t in types.items():
        for gvk in t.gvks:
            # A kind's own definition, not a shared one such as DeleteOptions or WatchEvent.
            if len(t.gvks) == 1 or gvk not in out:
                out[gvk] = name
    return out


def _resources(
    discovery: DiscoveryDocs,
    base: ApiSurface,
    gvk_types: Mapping[GroupVersionKind, str],
    types: dict[str, TypeDef],
) -> tuple[Resource, ...]:
    named = discovery.group_versions()
    if not named and not discovery.resource_lists:
        return base.resources
    out: list[Resource] = []
    for gv in named or tuple(discovery.resource_lists):
        listing = discovery.resource_lists.get(gv)
        if listing is None:
            # Named but unanswered: what the bundled data knows of that group-version.
            out.extend(r for r in base.resources if r.gvk.group_version == gv)
            continue
        out.extend(_from_listing(gv, listing, gvk_types, types))
    return tuple(out)


def _from_listing(
    gv: str,
    listing: Mapping[str, Any],
    gvk_types: Mapping[GroupVersionKind, str],
    types: dict[str, TypeDef],
) -> list[Resource]:
    group, _, version = gv.rpartition("/")
    entries = [e for e in listing.get("resources", ()) if isinstance(e, dict) and "name" in e]
    subs: dict[str, list[SubResource]] = {}
    for e in entries:
        parent, slash, sub = str(e["name"]).partition("/")
        if slash:
            kind = e.get("kind")
            sub_gvk = (
                GroupVersionKind(
                    str(e.get("group", group)), str(e.get("version", version)), str(kind)
                )
                if kind
                else None
            )
            subs.setdefault(parent, []).append(
                SubResource(sub, sub_gvk, frozenset(str(v) for v in e.get("verbs", ())))
            )
    out = []
    for e in entries:
        name = str(e["name"])
        if "/" in name:
            continue
        gvk = GroupVersionKind(group, version, str(e.get("kind", "")))
        type_name = gvk_types.get(gvk) or _stand_in(gvk, types)
        details = tuple(sorted(subs.get(name, ()), key=lambda s: s.name))
        out.append(
            Resource(
                gvk=gvk,
                plural=name,
                singular=str(e.get("singularName") or gvk.kind.lower()),
                namespaced=bool(e.get("namespaced", False)),
                verbs=frozenset(str(v) for v in e.get("verbs", ())),
                subresources=tuple(s.name for s in details),
                short_names=tuple(str(s) for s in e.get("shortNames", ())),
                type_name=type_name,
                categories=tuple(str(c) for c in e.get("categories", ())),
                subresource_details=details,
            )
        )
    return out


def _stand_in(gvk: GroupVersionKind, types: dict[str, TypeDef]) -> str:
    """A type that accepts any body, for a resource the server published no schema of."""
    name = f"{_NO_SCHEMA}{gvk.group or 'core'}.{gvk.version}.{gvk.kind}"
    types.setdefault(name, TypeDef(name, MappingProxyType({}), preserve_unknown_fields=True))
    return name


# --- the other direction: what a server of a surface answers (the emulator serves these) -------


def version_document(version: Version) -> dict[str, Any]:
    """``/version`` as a server of ``version`` answers it."""
    patch = version.patch if version.patch is not None else 0
    return {
        "major": str(version.major),
        "minor": str(version.minor),
        "gitVersion": f"v{version.major}.{version.minor}.{patch}",
        "gitCommit": "",
        "gitTreeState": "clean",
        "buildDate": "",
        "goVersion": "",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def discovery_documents(surface: ApiSurface) -> DiscoveryDocs:
    """``/api``, ``/apis`` and every APIResourceList a server of ``surface`` answers.

    Group-versions are listed in the surface's order (GA before beta before alpha), and the
    first is each group's preferred version.
    """
    lists: dict[str, dict[str, Any]] = {}
    for r in surface.resources:
        gv = r.gvk.group_version
        listing = lists.setdefault(
            gv,
            {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": []},
        )
        listing["resources"].extend(_resource_entries(r))
    group_versions: dict[str, list[str]] = {}
    for gv in lists:
        group, _, version = gv.rpartition("/")
        if group:
            group_versions.setdefault(group, []).append(version)
    groups = [
        {
            "name": group,
            "versions": [{"groupVersion": f"{group}/{v}", "version": v} for v in versions],
            "preferredVersion": {"groupVersion": f"{group}/{versions[0]}", "version": versions[0]},
        }
        for group, versions in group_versions.items()
    ]
    core_versions = [gv for gv in lists if "/" not in gv]
    return DiscoveryDocs(
        core={"kind": "APIVersions", "versions": core_versions},
        groups={"kind": "APIGroupList", "apiVersion": "v1", "groups": groups},
        resource_lists=lists,
    )


def _resource_entries(r: Resource) -> list[dict[str, Any]]:
    main: dict[str, Any] = {
        "name": r.plural,
        "singularName": r.singular,
        "namespaced": r.namespaced,
        "kind": r.gvk.kind,
        "verbs": sorted(r.verbs),
    }
    if r.short_names:
        main["shortNames"] = list(r.short_names)
    if r.categories:
        main["categories"] = list(r.categories)
    out = [main]
    for sub in r.subresource_details:
        entry: dict[str, Any] = {
            "name": f"{r.plural}/{sub.name}",
            "singularName": "",
            "namespaced": r.namespaced,
            "kind": sub.gvk.kind if sub.gvk else r.gvk.kind,
            "verbs": sorted(sub.verbs),
        }
        if sub.gvk is not None and sub.gvk.group_version != r.gvk.group_version:
            entry["group"], entry["version"] = sub.gvk.group, sub.gvk.version
        out.append(entry)
    return out
