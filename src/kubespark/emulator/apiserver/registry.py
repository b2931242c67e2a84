"""What the emulated server serves right now: the version's built-in resources plus CRDs'.

Owns the lookup from a REST path (group, version, plural) or an object's apiVersion and kind to
a :class:`ServedResource`, the group-versions in discovery order, and adding or removing the
resources a CustomResourceDefinition serves. Built-ins come from the API surface; nothing here
decides what a version serves.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kubespark.apisurface.model import ApiSurface

__all__ = ["CustomVersion", "Registry", "ServedResource"]


@dataclass(frozen=True, slots=True)
class CustomVersion:
    """What a CRD says about one served version of its resource."""

    crd_name: str
    schema: Mapping[str, Any] | None  # openAPIV3Schema, or None (v1beta1 without validation)
    preserve_unknown: bool  # v1beta1 without a structural schema keeps every field
    status_subresource: bool
    scale: Mapping[str, Any] | None
    printer_columns: tuple[Mapping[str, Any], ...]
    storage: bool


@dataclass(frozen=True, slots=True)
class ServedResource:
    """A REST resource this server answers, built-in or from a CRD."""

    group: str
    version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool
    verbs: frozenset[str]
    subresources: tuple[str, ...] = ()
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    type_name: str = ""  # the API surface TypeDef of its body (built-ins)
    custom: CustomVersion | None = None
    # Subresource name -> (group, version, kind) of its body, or None for the parent's kind,
    # and its verbs; built-ins take this from the API surface.
    subresource_shapes: Mapping[str, tuple[tuple[str, str, str] | None, tuple[str, ...]]] = field(
        default_factory=dict
    )

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def bucket(self) -> tuple[str, str]:
        """Where its objects are stored: every version of a resource shares one bucket."""
        return (self.group, self.plural)

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def has_status(self) -> bool:
        return "status" in self.subresources


def _from_surface(surface: ApiSurface) -> list[ServedResource]:
    out: list[ServedResource] = []
    for res in surface.resources:
        if "/" in res.plural:  # a subresource listed on its own
            continue
        out.append(
            ServedResource(
                group=res.gvk.group,
                version=res.gvk.version,
                plural=res.plural,
                singular=res.singular or res.gvk.kind.lower(),
                kind=res.gvk.kind,
                namespaced=res.namespaced,
                verbs=frozenset(res.verbs),
                subresources=tuple(res.subresources),
                short_names=tuple(res.short_names),
                categories=tuple(res.categories),
                type_name=res.type_name,
                subresource_shapes={
                    sub.name: (
                        (sub.gvk.group, sub.gvk.version, sub.gvk.kind) if sub.gvk else None,
                        tuple(sorted(sub.verbs)),
                    )
                    for sub in res.subresource_details
                },
            )
        )
    return out


@dataclass
class Registry:
    """The served resources, changing as CRDs come and go."""

    builtin: list[ServedResource]
    _custom: dict[str, list[ServedResource]] = field(default_factory=dict)  # by CRD name
    _index: dict[tuple[str, str, str], ServedResource] = field(default_factory=dict)
    _by_kind: dict[tuple[str, str], ServedResource] = field(default_factory=dict)
    # (group, version) -> its resources, in order: every request asks, so no scan per request
    _by_group_version: dict[tuple[str, str], list[ServedResource]] = field(default_factory=dict)
    generation: int = 0  # bumped on every change, so discovery answers can be cached

    @classmethod
    def from_surface(cls, surface: ApiSurface) -> Registry:
        reg = cls(builtin=_from_surface(surface))
        reg._reindex()
        return reg

    def _all(self) -> Iterable[ServedResource]:
        yield from self.builtin
        for resources in self._custom.values():
            yield from resources

    def _reindex(self) -> None:
        self._index = {(r.group, r.version, r.plural): r for r in self._all()}
        self._by_kind = {}
        self._by_group_version = {}
        for r in self._all():
            self._by_kind.setdefault((r.api_version, r.kind), r)
            self._by_group_version.setdefault((r.group, r.version), []).append(r)
        self.generation += 1

    def lookup(self, group: str, version: str, plural: str) -> ServedResource | None:
        return self._index.get((group, version, plural))

    def for_kind(self, api_version: str, kind: str) -> ServedResource | None:
        return self._by_kind.get((api_version, kind))

    def resources(self) -> list[ServedResource]:
        return list(self._all())

    def group_versions(self) -> list[tuple[str, str]]:
        """(group, version) pairs in discovery order (first appearance)."""
        return list(self._by_group_version)

    def in_group_version(self, group: str, version: str) -> list[ServedResource]:
        return list(self._by_group_version.get((group, version), ()))

    def serves(self, group: str, version: str) -> bool:
        return (group, version) in self._by_group_version

    def versions_of_group(self, group: str) -> list[str]:
        return [v for g, v in self.group_versions() if g == group]

    def storage_version(self, group: str, plural: str) -> ServedResource | None:
        """The version objects of a resource are stored in (a CRD's storage version)."""
        candidates = [r for r in self._all() if r.group == group and r.plural == plural]
        for r in candidates:
            if r.custom is not None and r.custom.storage:
                return r
        return candidates[0] if candidates else None

    def add_aggregated(self, resources: Iterable[ServedResource]) -> None:
        """Serve resources an aggregated API server would (metrics.k8s.io), once each."""
        new = [r for r in resources if (r.group, r.version, r.plural) not in self._index]
        if new:
            self.builtin.extend(new)
            self._reindex()

    def set_custom(self, crd_name: str, resources: list[ServedResource]) -> None:
        if resources:
            self._custom[crd_name] = resources
        else:
            self._custom.pop(crd_name, None)
        self._reindex()

    def custom_for(self, crd_name: str) -> list[ServedResource]:
        return list(self._custom.get(crd_name, ()))
