"""Whether writing an object without the fields a server lacks loses anything the client set.

Owns the proxy's one rule for refusing a rewrite. A rewritten apply sends the object without the
fields the upstream's version does not know (the planner's ``PRUNED_FIELD`` notes); dropping a
field's value is *not* a loss when

1. the value is empty (``null``, ``""``, ``[]``, ``{}``): nothing was asked for;
2. it equals the default the newest bundled Kubernetes sets when the field is absent
   (``kubespark.apisurface.apply_defaults``): a newer server would store the same without it;
3. ``data/dropped_fields.yaml`` lists it as meaning, on a server without the field, the same as
   its absence (Service ``ipFamilyPolicy: SingleStack``, ``ipFamilies: [IPv4]``), with sources.

Any other dropped value is a :class:`Loss`: the client explicitly asked for something the server
cannot do, and the proxy refuses rather than pretend. Pure; reads the data file once.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from kubespark.apisurface import ApiSurface, apply_defaults, check_object, load_surface
from kubespark.apisurface.check import ProblemKind
from kubespark.apisurface.load import newest_version
from kubespark.errors import DataError
from kubespark.versions import Version

__all__ = ["Dropped", "Loss", "dropped_fields", "losses", "show"]

_FILE = "dropped_fields.yaml"
Part = str | int


@dataclass(frozen=True, slots=True)
class Dropped:
    """One value the rewrite leaves out, where it was, and what type held it."""

    parts: tuple[Part, ...]
    value: Any
    type_name: str = ""  # the OpenAPI type lacking the field ("" when unknown)
    added_in: Version | None = None

    @property
    def path(self) -> str:
        """``.spec.ipFamilies``, ``.spec.ports[0].appProtocol`` (the API surface's notation)."""
        return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in self.parts)

    @property
    def field(self) -> str:
        return str(self.parts[-1]) if self.parts else ""


@dataclass(frozen=True, slots=True)
class Loss:
    """A dropped value the client set that the server would not have behaved as."""

    dropped: Dropped
    behaves: str  # what a server without the field does instead ("behaves as X only")
    instead: tuple[Any, ...] = ()  # values the client could set instead (lossless ones)
    detail: str = ""  # the longer story, with its source, when the data file has one


@dataclass(frozen=True, slots=True)
class _Equivalence:
    type_name: str
    field: str
    values: tuple[Any, ...]
    why: str
    source: str


@functools.cache
def _equivalences() -> Mapping[tuple[str, str], _Equivalence]:
    text = resources.files("kubespark.proxy").joinpath("data", _FILE).read_text()
    doc = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    out: dict[tuple[str, str], _Equivalence] = {}
    for n, raw in enumerate((doc or {}).get("fields") or []):
        needed = ("type", "field", "same_as_absent", "why", "source")
        if not isinstance(raw, dict) or any(k not in raw for k in needed):
            raise DataError(f"{_FILE}: fields[{n}] needs {', '.join(needed)}")
        entry = _Equivalence(
            str(raw["type"]),
            str(raw["field"]),
            tuple(raw["same_as_absent"]),
            " ".join(str(raw["why"]).split()),
            " ".join(str(raw["source"]).split()),
        )
        out[(entry.type_name, entry.field)] = entry
    return out


def dropped_fields(
    surface: ApiSurface,
    original: Mapping[str, Any],
    written: Mapping[str, Any],
    added_in: Mapping[str, Version | None] | None = None,
) -> list[Dropped]:
    """The values in ``original`` that ``written`` (its pruned form) leaves out.

    ``added_in`` maps a path to the version that added its field (from the planner's notes).
    """
    holders = {
        p.path: p.type_name
        for p in check_object(surface, dict(original))
        if p.kind is ProblemKind.UNKNOWN_FIELD
    }
    found = []
    for parts, value in _missing(original, written, ()):
        item = Dropped(parts, value)
        found.append(
            Dropped(parts, value, holders.get(item.path, ""), (added_in or {}).get(item.path))
        )
    return found


def _missing(original: Any, written: Any, parts: tuple[Part, ...]) -> Iterator[tuple[Any, Any]]:
    if isinstance(original, dict) and isinstance(written, dict):
        for key, value in original.items():
            if key not in written:
                yield (*parts, key), value
            else:
                yield from _missing(value, written[key], (*parts, key))
    elif isinstance(original, list) and isinstance(written, list) and len(original) == len(written):
        for i, (a, b) in enumerate(zip(original, written, strict=True)):
            yield from _missing(a, b, (*parts, i))


def losses(original: Mapping[str, Any], dropped: Sequence[Dropped]) -> list[Loss]:
    """The dropped values that are losses, each with why (see the module's rule)."""
    out = []
    for item in dropped:
        loss = _loss(original, item)
        if loss is not None:
            out.append(loss)
    return out


def _loss(original: Mapping[str, Any], item: Dropped) -> Loss | None:
    if item.value in (None, "", [], {}):
        return None
    known = _equivalences().get((item.type_name, item.field))
    if known is not None:
        if item.value in known.values:
            return None
        allowed = " or ".join(show(v) for v in known.values)
        detail = f"{known.why} (source: {known.source})"
        return Loss(item, f"behaves as {allowed} only", known.values, detail)
    default = _default_when_absent(original, item.parts)
    if default is not _ABSENT and default == item.value:
        return None
    if default is not _ABSENT:
        return Loss(item, f"behaves as its default {show(default)} only", (default,))
    return Loss(item, "has no such setting at all")


_ABSENT = object()


def _default_when_absent(original: Mapping[str, Any], parts: tuple[Part, ...]) -> Any:
    """What the newest bundled version stores at ``parts`` when the object lacks the field."""
    probe = copy.deepcopy(dict(original))
    parent: Any = probe
    for part in parts[:-1]:
        parent = parent[part]
    del parent[parts[-1]]
    defaulted = apply_defaults(_newest(), probe)
    value: Any = defaulted
    for part in parts:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return _ABSENT
    return value


@functools.cache
def _newest() -> ApiSurface:
    return load_surface(newest_version())


def show(value: Any) -> str:
    """A value as JSON on one line, as messages quote it."""
    return json.dumps(value, separators=(",", ":"))
