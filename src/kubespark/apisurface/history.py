"""Cross-version history of the bundled API surface: when a field or a group-version arrived/left.

Owns answering "which minors have X" over every bundled minor, so notes can say "dropped
.spec.ipFamilies: added in 1.20" or "extensions/v1beta1 Ingress: removed in 1.22, use
networking.k8s.io/v1". It reads the compact bundled data directly (type hashes and raw
definitions), so it answers without building every version's surface. No I/O beyond the
bundled files; answers are cached per question.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubespark.apisurface.load import bundled_types, known_versions, raw_index
from kubespark.apisurface.model import GroupVersionKind
from kubespark.versions import Version

__all__ = [
    "FieldHistory",
    "field_history",
    "first_version_with",
    "introduced_in",
    "optional_in",
    "removed_in",
    "served_in",
]


@dataclass(frozen=True, slots=True)
class FieldHistory:
    """The bundled minors whose definition of ``type_name`` has ``field``."""

    type_name: str
    field: str
    present_in: tuple[Version, ...]

    @property
    def added_in(self) -> Version | None:
        """The first minor that has it (None: no bundled minor does)."""
        return self.present_in[0] if self.present_in else None

    @property
    def removed_in(self) -> Version | None:
        """The first minor after the last that has it, if the newest lacks it."""
        if not self.present_in or self.present_in[-1] == known_versions()[-1]:
            return None
        return self.present_in[-1].next_minor()

    def in_version(self, version: Version) -> bool:
        return version.minor_version in self.present_in


def _raw_type(version: Version, type_name: str) -> Mapping[str, Any] | None:
    h = raw_index(version.major, version.minor)[0].get(type_name)
    if h is None:
        return None
    compact: Mapping[str, Any] = bundled_types()[h][1]
    return compact


@functools.cache
def field_history(type_name: str, field: str) -> FieldHistory:
    """Which bundled minors' ``type_name`` has property ``field``."""
    present = []
    for v in known_versions():
        raw = _raw_type(v, type_name)
        if raw is not None and field in raw["p"]:
            present.append(v)
    return FieldHistory(type_name, field, tuple(present))


def _ref(schema: Any) -> str | None:
    """The type a compact property schema leads to, through arrays and maps."""
    while True:
        kind = schema if isinstance(schema, str) else schema["k"]
        if kind.startswith("#"):
            return str(kind[1:])
        if isinstance(schema, dict) and "i" in schema:
            schema = schema["i"]
            continue
        return None


def _has_path(version: Version, type_name: str, parts: tuple[str, ...]) -> bool:
    current: str | None = type_name
    for part in parts:
        raw = _raw_type(version, current) if current else None
        if raw is None or part not in raw["p"]:
            return False
        current = _ref(raw["p"][part])
    return True


def _type_of(version: Version, gvk: GroupVersionKind, *, optional: bool = False) -> str | None:
    """The body type of a kind the minor serves (by default, or also once enabled)."""
    for r in raw_index(version.major, version.minor)[1]:
        if tuple(r["g"]) == (gvk.group, gvk.version, gvk.kind) and (optional or "off" not in r):
            return str(r["t"])
    return None


@functools.cache
def first_version_with(what: GroupVersionKind | str, path: str) -> Version | None:
    """The first bundled minor where ``path`` (``spec.ipFamilies``) exists in a kind or type.

    ``what`` is a served kind or a type name (``io.k8s.api.core.v1.ServiceSpec``); list items
    and map values are stepped through, so ``spec.ports.protocol`` works.
    """
    parts = tuple(p for p in path.replace("[]", "").split(".") if p)
    for v in known_versions():
        type_name = _type_of(v, what, optional=True) if isinstance(what, GroupVersionKind) else what
        if type_name is not None and _has_path(v, type_name, parts):
            return v
    return None


@functools.cache
def served_in(gvk: GroupVersionKind) -> tuple[Version, ...]:
    """The bundled minors that serve a group-version-kind with their default configuration."""
    return tuple(v for v in known_versions() if _type_of(v, gvk) is not None)


@functools.cache
def optional_in(gvk: GroupVersionKind) -> tuple[Version, ...]:
    """The bundled minors that can serve it only once enabled (alpha, new betas)."""
    return tuple(
        v
        for v in known_versions()
        if _type_of(v, gvk) is None and _type_of(v, gvk, optional=True) is not None
    )


def introduced_in(gvk: GroupVersionKind) -> Version | None:
    served = served_in(gvk)
    return served[0] if served else None


def removed_in(gvk: GroupVersionKind) -> Version | None:
    """The first minor that no longer serves it, after the last that did (None: still served)."""
    served = served_in(gvk)
    if not served or served[-1] == known_versions()[-1]:
        return None
    return served[-1].next_minor()
