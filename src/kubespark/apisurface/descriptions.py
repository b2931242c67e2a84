"""Field descriptions of each minor's types: what ``kubectl explain`` prints.

Owns reading ``data/descriptions.json.gz`` (written by ``tools/gen_descriptions.py`` from the
same schemas as the surface): per minor, each type's own description and its properties'. The
surface itself leaves them out to stay small; this file is read only when a description is
asked for (an OpenAPI document is built), once, and shared by every minor. No network I/O.
"""

from __future__ import annotations

import functools
import gzip
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any

from kubespark.errors import DataError
from kubespark.versions import Version

__all__ = ["TypeDescription", "descriptions"]


@dataclass(frozen=True, slots=True)
class TypeDescription:
    """A type's description and its properties' (empty when the schema has none)."""

    text: str
    properties: Mapping[str, str]


@functools.cache
def _document() -> Mapping[str, Any]:
    path = resources.files("kubespark.apisurface").joinpath("data/descriptions.json.gz")
    try:
        loaded: dict[str, Any] = json.loads(gzip.decompress(path.read_bytes()))
    except (OSError, ValueError) as exc:
        raise DataError(f"bundled descriptions file is unreadable: {exc}") from exc
    return loaded


@functools.cache
def _type(key: str) -> TypeDescription:
    doc = _document()
    texts = doc["texts"]
    own, props = doc["types"][key]
    return TypeDescription(
        texts[own] if own >= 0 else "",
        MappingProxyType({name: texts[index] for name, index in props.items()}),
    )


@functools.cache
def descriptions(version: Version) -> Mapping[str, TypeDescription]:
    """Type name -> its descriptions, for the minor of ``version`` (empty if unknown)."""
    index = _document()["minors"].get(f"{version.major}.{version.minor}", {})
    return MappingProxyType({name: _type(key) for name, key in index.items()})
