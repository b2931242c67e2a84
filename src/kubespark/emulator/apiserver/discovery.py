"""Discovery documents: /api, /apis, /api/v1, /apis/G, /apis/G/V and aggregated discovery.

Owns rendering what the registry serves in the shapes clients parse: ``APIVersions``,
``APIGroupList``, ``APIGroup``, ``APIResourceList`` (subresources as ``pods/status`` entries)
and, for versions that serve it, ``APIGroupDiscoveryList`` (apidiscovery.k8s.io v2beta1/v2).
What is served comes from the registry; which discovery forms exist comes from the facts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from kubespark.emulator.apiserver.registry import Registry, ServedResource

__all__ = [
    "aggregated",
    "api_group",
    "api_group_list",
    "api_versions",
    "resource_list",
]

# Subresources' body kinds and verbs when the API surface does not say (custom resources'
# status and scale); (group, version, kind) None means the parent's kind.
_SUBRESOURCE_SHAPES: Mapping[str, tuple[tuple[str, str, str] | None, tuple[str, ...]]] = {
    "status": (None, ("get", "patch", "update")),
    "scale": (("autoscaling", "v1", "Scale"), ("get", "patch", "update")),
    "log": (None, ("get",)),
    "exec": (("", "v1", "PodExecOptions"), ("create", "get")),
    "attach": (("", "v1", "PodAttachOptions"), ("create", "get")),
    "portforward": (("", "v1", "PodPortForwardOptions"), ("create", "get")),
    "proxy": (("", "v1", "PodProxyOptions"), ("create", "delete", "get", "patch", "update")),
    "binding": (("", "v1", "Binding"), ("create",)),
    "eviction": (("policy", "v1beta1", "Eviction"), ("create",)),
    "ephemeralcontainers": (None, ("get", "patch", "update")),
    "finalize": (None, ("update",)),
    "token": (("authentication.k8s.io", "v1", "TokenRequest"), ("create",)),
    "approval": (None, ("get", "patch", "update")),
    "resize": (None, ("get", "patch", "update")),
}


def _hash(res: ServedResource) -> str:
    digest = hashlib.sha256(f"{res.group}/{res.version}/{res.plural}".encode()).digest()
    import base64

    return base64.b64encode(digest[:8]).decode()


def _sub_shape(res: ServedResource, sub: str) -> tuple[str, str, str, tuple[str, ...]]:
    shape = res.subresource_shapes.get(sub) or _SUBRESOURCE_SHAPES.get(sub, (None, ("get",)))
    gvk, verbs = shape
    if gvk is None:
        return res.group, res.version, res.kind, verbs
    return gvk[0], gvk[1], gvk[2], verbs


def _aliases(res: ServedResource) -> dict[str, Any]:
    """``shortNames`` and ``categories`` where the resource has them (both discovery forms)."""
    out: dict[str, Any] = {}
    if res.short_names:
        out["shortNames"] = list(res.short_names)
    if res.categories:
        out["categories"] = list(res.categories)
    return out


def _api_resource(res: ServedResource) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": res.plural,
        "singularName": res.singular,
        "namespaced": res.namespaced,
        "kind": res.kind,
        "verbs": sorted(res.verbs),
    }
    entry.update(_aliases(res))
    if res.custom is None:
        entry["storageVersionHash"] = _hash(res)
    return entry


def resource_list(registry: Registry, group: str, version: str) -> dict[str, Any] | None:
    """``APIResourceList`` of one group-version, or None when it is not served."""
    served = registry.in_group_version(group, version)
    if not served:
        return None
    resources: list[dict[str, Any]] = []
    for res in served:
        resources.append(_api_resource(res))
        for sub in res.subresources:
            g, v, kind, verbs = _sub_shape(res, sub)
            entry: dict[str, Any] = {
                "name": f"{res.plural}/{sub}",
                "singularName": "",
                "namespaced": res.namespaced,
                "kind": kind,
                "verbs": list(verbs),
            }
            if (g, v) != (res.group, res.version):
                entry["group"] = g
                entry["version"] = v
            resources.append(entry)
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": resources,
    }


def api_versions(address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": address}],
    }


def _group(registry: Registry, group: str) -> dict[str, Any]:
    versions = [
        {"groupVersion": f"{group}/{v}", "version": v} for v in registry.versions_of_group(group)
    ]
    return {"name": group, "versions": versions, "preferredVersion": versions[0]}


def api_group_list(registry: Registry) -> dict[str, Any]:
    groups: dict[str, None] = {}
    for g, _ in registry.group_versions():
        if g:
            groups.setdefault(g, None)
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group(registry, g) for g in groups],
    }


def api_group(registry: Registry, group: str) -> dict[str, Any] | None:
    if not group or not registry.versions_of_group(group):
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(registry, group)}


def _discovery_resource(res: ServedResource) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource": res.plural,
        "responseKind": {"group": res.group, "version": res.version, "kind": res.kind},
        "scope": "Namespaced" if res.namespaced else "Cluster",
        "singularResource": res.singular,
        "verbs": sorted(res.verbs),
    }
    entry.update(_aliases(res))
    subs = []
    for sub in res.subresources:
        g, v, kind, verbs = _sub_shape(res, sub)
        subs.append(
            {
                "subresource": sub,
                "responseKind": {"group": g, "version": v, "kind": kind},
                "verbs": list(verbs),
            }
        )
    if subs:
        entry["subresources"] = subs
    return entry


def aggregated(registry: Registry, *, core: bool, version: str) -> dict[str, Any]:
    """``APIGroupDiscoveryList`` for /api (core) or /apis, in apidiscovery ``version``."""
    by_group: dict[str, list[str]] = {}
    for g, v in registry.group_versions():
        if (g == "") == core:
            by_group.setdefault(g, []).append(v)
    items = []
    for g, versions in by_group.items():
        items.append(
            {
                "metadata": {"name": g} if g else {},
                "versions": [
                    {
                        "version": v,
                        "resources": [
                            _discovery_resource(r) for r in registry.in_group_version(g, v)
                        ],
                        "freshness": "Current",
                    }
                    for v in versions
                ],
            }
        )
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": f"apidiscovery.k8s.io/{version}",
        "metadata": {},
        "items": items,
    }
