"""Typed records from parsed documents: frozen dataclasses checked field by field, and back.

Owns turning parsed YAML or JSON into frozen (slotted) dataclasses against their declarations,
and turning such records back into JSON-ready mappings. :func:`decode` checks every key (unknown
keys are refused unless the record has an :class:`Extras` field to keep them), every value of
its declared type, strictly as the API server is (``"2"`` is no integer, ``true`` no count, ``2``
no string): ``str``, ``bool``, ``int``, ``Literal`` choices, ``StrEnum`` members, lists, tuples,
dicts, nested records, ``X | Y``, ``Any``, a generic record's type parameter. Field rules are
``Annotated`` metadata: the JSON name (:class:`Alias`), bounds (:class:`Ge`, :class:`Le`,
:class:`MinLen`, :class:`MaxLen`), :class:`Pattern`, and :class:`Parse` / :class:`Before` for
values that need converting; then each record's own ``__post_init__`` rules. It COLLECTS every
problem as a :class:`Fault` (location, kind, message, the input, context) in one
:class:`DecodeError`, so a loader can report them all, in its own words: the kinds and messages
are pydantic's (``extra_forbidden``, ``int_type``, "Input should be greater than or equal to 1"),
which kubespark's messages were written against. :func:`encode` is the way back (JSON names,
``None`` left out, optionally only what the document set); :func:`replace` changes fields of a
:class:`Tracked` record and remembers them as set.

It must not know any record type, any file, or how a problem is shown to a user: the knowledge
base's loader and the Spark model's loader own their messages.

Why not pydantic: the knowledge base's records are read back from a disk cache by every command
that judges a version, and the SparkApplication model is read by every ``submit``, ``validate``
and dry-run plan of an application. pydantic costs each such process its import (pydantic,
pydantic_core, annotated_types, typing_inspection, importlib.metadata: about 37 ms) and the
build of each model's validator (about 1 ms a model, some 30 models for the Spark kinds), for a
check a few hundred lines of typed decoding do as well.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

__all__ = [
    "Alias",
    "Before",
    "DecodeError",
    "Extras",
    "Fault",
    "FaultKind",
    "FieldSpec",
    "Ge",
    "Le",
    "MaxLen",
    "MinLen",
    "Parse",
    "Pattern",
    "Tracked",
    "decode",
    "encode",
    "fields_set",
    "record_fields",
    "replace",
]

T = TypeVar("T")
Loc = tuple[int | str, ...]

FaultKind = Literal[
    "extra_forbidden",
    "missing",
    "model_type",
    "dict_type",
    "list_type",
    "int_type",
    "string_type",
    "bool_type",
    "literal_error",
    "invalid_key",
    "enum",
    "greater_than_equal",
    "less_than_equal",
    "string_pattern_mismatch",
    "string_too_short",
    "string_too_long",
    "too_short",
    "too_long",
    "value_error",
]
"""What is wrong, named as pydantic names it (the messages users see were written against it)."""


# ---- field rules (Annotated metadata) ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Alias:
    """The field's name in the document (``coreLimit`` for ``core_limit``)."""

    name: str


@dataclass(frozen=True, slots=True)
class Ge:
    """A number field must be at least this."""

    bound: int


@dataclass(frozen=True, slots=True)
class Le:
    """A number field must be at most this."""

    bound: int


@dataclass(frozen=True, slots=True)
class MinLen:
    """A string needs at least this many characters, a list or tuple this many items."""

    length: int


@dataclass(frozen=True, slots=True)
class MaxLen:
    """A string has at most this many characters, a list or tuple this many items."""

    length: int


@dataclass(frozen=True, slots=True)
class Pattern:
    """A string field must match this regular expression."""

    regex: str


@dataclass(frozen=True, slots=True)
class Parse:
    """The field's value is ``parse(raw)``; a ValueError is the field's error."""

    parse: Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Before:
    """``transform(raw)`` runs before the field's type is checked (e.g. one item to a list)."""

    transform: Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Extras:
    """Marks a ``dict[str, Any]`` field that keeps the keys the record does not declare."""


# ---- problems ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fault:
    """One value that does not fit its field: where, what kind of problem, and the input."""

    loc: Loc
    kind: FaultKind
    message: str
    input: Any = None
    ctx: Mapping[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> str:
        """``reasons[3].affects.spark[0]``: keys joined by dots, list indexes in brackets."""
        text = ""
        for part in self.loc:
            text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
        return text


class DecodeError(Exception):
    """Every fault of a document; ``loc``, ``message`` and ``path`` are the first one's."""

    def __init__(self, faults: tuple[Fault, ...]) -> None:
        super().__init__(faults[0].message)
        self.faults = faults

    @property
    def loc(self) -> Loc:
        return self.faults[0].loc

    @property
    def message(self) -> str:
        return self.faults[0].message

    @property
    def path(self) -> str:
        return self.faults[0].path


# ---- fields set ------------------------------------------------------------------------------


class Tracked:
    """Base of records that remember which fields their document set (pydantic's
    ``model_fields_set``): ``encode(..., only_set=True)`` writes back what a user wrote, and a
    reader can tell ``namespace: default`` written from the default. A slot outside the
    dataclass's fields, so equality, ``repr`` and the fields a schema lists ignore it."""

    __slots__ = ("_fields_set",)


def fields_set(record: Any) -> frozenset[str]:
    """The attribute names ``record``'s document or :func:`replace` set.

    A record built in Python (or copied by ``dataclasses.replace``) has no such memory: its set
    fields are then those whose value is not the default.
    """
    known = getattr(record, "_fields_set", None)
    if known is not None:
        return typing.cast(frozenset[str], known)
    return frozenset(f.name for f in record_fields(type(record)) if _differs(record, f))


def replace(record: T, **changes: Any) -> T:
    """``dataclasses.replace`` that counts ``changes`` (attribute names) as set, as pydantic's
    ``model_copy(update=...)`` did."""
    out = dataclasses.replace(record, **changes)  # type: ignore[type-var]
    if isinstance(record, Tracked) and getattr(record, "_fields_set", None) is not None:
        _mark(out, fields_set(record) | changes.keys())
    return out


def _mark(record: Any, names: frozenset[str]) -> None:
    # A frozen dataclass refuses attribute writes; this one is the record's construction.
    object.__setattr__(record, "_fields_set", names)


def _differs(record: Any, spec: FieldSpec) -> bool:
    value = getattr(record, spec.name)
    if spec.default is not dataclasses.MISSING:
        return bool(value != spec.default)
    if spec.default_factory is not None:
        return bool(value != spec.default_factory())
    return True


# ---- the fields of a record ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a record: its attribute and JSON names, type (rules apart), and rules."""

    name: str
    json: str
    hint: Any
    rules: tuple[Any, ...]
    default: Any
    default_factory: Callable[[], Any] | None
    extras: bool

    @property
    def required(self) -> bool:
        return self.default is dataclasses.MISSING and self.default_factory is None


def _record_fields(record: type[Any]) -> tuple[FieldSpec, ...]:
    """The fields of a dataclass record, in declaration order, type parameters resolved."""
    # Resolving string annotations is the costly part: once per record type and process.
    hints = typing.get_type_hints(record, include_extras=True)
    params = _type_arguments(record)
    out = []
    for spec in dataclasses.fields(record):
        hint, rules = _split(hints[spec.name])
        hint = params.get(hint, hint)
        alias = next((r.name for r in rules if isinstance(r, Alias)), spec.name)
        factory = spec.default_factory
        out.append(
            FieldSpec(
                name=spec.name,
                json=alias,
                hint=hint,
                rules=rules,
                default=spec.default,
                default_factory=None if factory is dataclasses.MISSING else factory,
                extras=any(isinstance(r, Extras) for r in rules),
            )
        )
    return tuple(out)


# Once per record type and process. (Cast: typeshed's cache wants Hashable arguments, and mypy
# does not count a dataclass type, whose instances may be unhashable, as one.)
record_fields = typing.cast(
    Callable[[type[Any]], tuple[FieldSpec, ...]], functools.cache(_record_fields)
)


def _split(hint: Any) -> tuple[Any, tuple[Any, ...]]:
    if get_origin(hint) is typing.Annotated:
        inner, *rules = get_args(hint)
        return inner, tuple(rules)
    return hint, ()


def _type_arguments(record: type[Any]) -> dict[Any, Any]:
    """``KubeflowResource[SparkApplicationSpec]`` as a base: ``SpecT`` -> the spec's type."""
    out: dict[Any, Any] = {}
    for klass in reversed(record.__mro__):
        for base in getattr(klass, "__orig_bases__", ()):
            origin = get_origin(base)
            params = getattr(origin, "__parameters__", ())
            out.update(zip(params, get_args(base), strict=False))
    return out


# ---- decoding --------------------------------------------------------------------------------


class _Bad:
    """The value of a field that did not decode (its faults are already collected)."""


_BAD = _Bad()
Faults = list[Fault]


def decode(record: type[T], data: Any) -> T:
    """``data`` (parsed YAML or JSON) as a ``record``, or :class:`DecodeError` with every fault."""
    faults: Faults = []
    value = _record(record, data, (), faults)
    if faults:
        raise DecodeError(tuple(faults))
    return typing.cast(T, value)


def _record(record: type[Any], raw: Any, loc: Loc, faults: Faults) -> Any:
    if not isinstance(raw, dict):
        faults.append(Fault(loc, "model_type", f"Input should be a mapping, not {_kind(raw)}", raw))
        return _BAD
    specs = record_fields(record)
    known = {s.json for s in specs if not s.extras}
    extra = {k: v for k, v in raw.items() if k not in known}
    values: dict[str, Any] = {}
    complete = True
    for spec in specs:
        if spec.extras:
            values[spec.name] = extra
        elif spec.json in raw:
            values[spec.name] = _field(spec, raw[spec.json], (*loc, spec.json), faults)
        elif spec.required:
            faults.append(Fault((*loc, spec.json), "missing", "Field required", raw))
            complete = False
    # After the declared fields, as pydantic reports them.
    complete &= _extra_keys(extra, any(s.extras for s in specs), loc, faults)
    if not complete or any(v is _BAD for v in values.values()):
        return _BAD
    try:
        out = record(**values)
    except ValueError as err:  # the record's own rules (__post_init__)
        faults.append(Fault(loc, "value_error", str(err), raw))
        return _BAD
    if isinstance(out, Tracked):
        _mark(out, frozenset(s.name for s in specs if s.json in raw or (s.extras and extra)))
    return out


def _extra_keys(extra: dict[Any, Any], kept: bool, loc: Loc, faults: Faults) -> bool:
    """Faults for undeclared keys (any, unless the record keeps them; not text, always)."""
    before = len(faults)
    for key, value in extra.items():
        where = (*loc, _key(key))
        if not isinstance(key, str):
            faults.append(Fault(where, "invalid_key", "Keys should be strings", key))
        elif not kept:
            faults.append(Fault(where, "extra_forbidden", "Extra inputs are not permitted", value))
    return len(faults) == before


def _field(spec: FieldSpec, raw: Any, loc: Loc, faults: Faults) -> Any:
    return _checked(spec.hint, spec.rules, raw, loc, faults)


def _checked(hint: Any, rules: tuple[Any, ...], raw: Any, loc: Loc, faults: Faults) -> Any:
    """``raw`` as ``hint``, then the rules: the first rule it breaks is its one fault."""
    for rule in rules:
        if isinstance(rule, Before):
            raw = rule.transform(raw)
    parse = next((r for r in rules if isinstance(r, Parse)), None)
    if parse is None:
        value = _value(hint, raw, loc, faults)
    else:
        try:
            value = parse.parse(raw)
        except ValueError as err:
            faults.append(Fault(loc, "value_error", str(err), raw))
            return _BAD
    if value is _BAD or value is None:
        return value
    broken = next((f for f in (_rule(r, value, loc) for r in rules) if f is not None), None)
    if broken is not None:
        faults.append(broken)
        return _BAD
    return value


def _rule(rule: Any, value: Any, loc: Loc) -> Fault | None:
    if isinstance(rule, Ge) and value < rule.bound:
        return Fault(
            loc,
            "greater_than_equal",
            f"Input should be greater than or equal to {rule.bound}",
            value,
            {"ge": rule.bound},
        )
    if isinstance(rule, Le) and value > rule.bound:
        return Fault(
            loc,
            "less_than_equal",
            f"Input should be less than or equal to {rule.bound}",
            value,
            {"le": rule.bound},
        )
    if isinstance(rule, MinLen) and len(value) < rule.length:
        return _length(loc, value, "at least", "too_short", rule.length, "min_length")
    if isinstance(rule, MaxLen) and len(value) > rule.length:
        return _length(loc, value, "at most", "too_long", rule.length, "max_length")
    if isinstance(rule, Pattern) and not re.match(rule.regex, value):
        message = f"String should match pattern '{rule.regex}'"
        return Fault(loc, "string_pattern_mismatch", message, value, {"pattern": rule.regex})
    return None


def _length(
    loc: Loc,
    value: Any,
    bound: str,
    kind: Literal["too_short", "too_long"],
    length: int,
    ctx: str,
) -> Fault:
    plural = "" if length == 1 else "s"
    if isinstance(value, str):
        message = f"String should have {bound} {length} character{plural}"
        string_kind: FaultKind = "string_too_short" if kind == "too_short" else "string_too_long"
        return Fault(loc, string_kind, message, value, {ctx: length})
    return Fault(loc, kind, f"List should have {bound} {length} item{plural}", value, {ctx: length})


def _value(hint: Any, raw: Any, loc: Loc, faults: Faults) -> Any:
    origin = get_origin(hint)
    if origin is typing.Annotated:
        inner, *rules = get_args(hint)
        return _checked(inner, tuple(rules), raw, loc, faults)
    if origin in (Union, types.UnionType):
        return _union(get_args(hint), raw, loc, faults)
    if origin is Literal:
        return _literal(get_args(hint), raw, loc, faults)
    if origin in (list, tuple):
        return _sequence(origin, get_args(hint)[0], raw, loc, faults)
    if origin is dict:
        return _dict(get_args(hint), raw, loc, faults)
    if hint is Any:
        return raw
    if isinstance(hint, type):
        return _plain(hint, raw, loc, faults)
    raise TypeError(f"no decoder for {hint!r}")  # a schema bug, caught by the loaders' tests


def _union(options: tuple[Any, ...], raw: Any, loc: Loc, faults: Faults) -> Any:
    if raw is None and type(None) in options:
        return None
    best: Faults | None = None
    for option in (o for o in options if o is not type(None)):
        found: Faults = []
        value = _value(option, raw, loc, found)
        if not found:
            return value
        # The deepest fault says most (a bad item inside a list, not "not a mapping").
        if best is None or len(found[0].loc) > len(best[0].loc):
            best = found
    assert best is not None
    faults.extend(best)
    return _BAD


def _literal(choices: tuple[Any, ...], raw: Any, loc: Loc, faults: Faults) -> Any:
    # By type too: 1 is not the choice True, nor "2" the choice 2.
    if any(type(raw) is type(c) and raw == c for c in choices):
        return raw
    expected = _alternatives(choices)
    faults.append(
        Fault(loc, "literal_error", f"Input should be {expected}", raw, {"expected": expected})
    )
    return _BAD


def _sequence(origin: Any, item: Any, raw: Any, loc: Loc, faults: Faults) -> Any:
    if not isinstance(raw, list | tuple):
        faults.append(Fault(loc, "list_type", f"Input should be a list, not {_kind(raw)}", raw))
        return _BAD
    # Every tuple in a record is tuple[X, ...].
    items = [_value(item, value, (*loc, index), faults) for index, value in enumerate(raw)]
    if any(v is _BAD for v in items):
        return _BAD
    return tuple(items) if origin is tuple else items


def _dict(args: tuple[Any, ...], raw: Any, loc: Loc, faults: Faults) -> Any:
    if not isinstance(raw, dict):
        faults.append(Fault(loc, "dict_type", f"Input should be a mapping, not {_kind(raw)}", raw))
        return _BAD
    key_hint, value_hint = args
    out = {}
    for key, value in raw.items():
        where = (*loc, _key(key))
        checked = _value(key_hint, key, where, faults)  # the key's fault first, as pydantic's
        out[checked] = _value(value_hint, value, where, faults)
    if any(k is _BAD or v is _BAD for k, v in out.items()):
        return _BAD
    return out


def _plain(hint: type[Any], raw: Any, loc: Loc, faults: Faults) -> Any:
    if dataclasses.is_dataclass(hint):
        return _record(hint, raw, loc, faults)
    if issubclass(hint, Enum):
        try:
            return hint(raw)
        except ValueError:
            choices = tuple(member.value for member in hint)
            expected = _alternatives(choices)
            faults.append(
                Fault(loc, "enum", f"Input should be {expected}", raw, {"expected": expected})
            )
            return _BAD
    # bool is an int in Python, never in a document: a YAML `true` is no count, `1` no flag.
    if isinstance(raw, hint) and not (hint is int and isinstance(raw, bool)):
        return raw
    kind, name = _TYPES.get(hint, ("value_error", hint.__name__))
    faults.append(Fault(loc, kind, f"Input should be a valid {name}", raw))
    return _BAD


_TYPES: dict[type[Any], tuple[FaultKind, str]] = {
    str: ("string_type", "string"),
    bool: ("bool_type", "boolean"),
    int: ("int_type", "integer"),
}


def _key(key: Any) -> int | str:
    """A mapping key as a location part: strings and integers as they are."""
    return key if isinstance(key, str | int) and not isinstance(key, bool) else str(key)


def _alternatives(choices: tuple[Any, ...]) -> str:
    quoted = [f"'{c}'" if isinstance(c, str) else repr(c) for c in choices]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def _kind(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__


# ---- encoding --------------------------------------------------------------------------------


def encode(record: Any, *, only_set: bool = False) -> dict[str, Any]:
    """``record`` as a JSON-ready mapping: JSON names, ``None`` fields left out, containers
    copied. ``only_set``: only the fields the document (or :func:`replace`) set, at every
    level (pydantic's ``exclude_unset``)."""
    chosen = fields_set(record) if only_set else None
    out: dict[str, Any] = {}
    for spec in record_fields(type(record)):
        value = getattr(record, spec.name)
        if spec.extras:
            out.update({str(k): _json(v, only_set) for k, v in value.items()})
        elif value is not None and (chosen is None or spec.name in chosen):
            out[spec.json] = _json(value, only_set)
    return out


def _json(value: Any, only_set: bool) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return encode(value, only_set=only_set)
    if isinstance(value, dict):
        return {str(k): _json(v, only_set) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v, only_set) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime.date | datetime.time):  # YAML timestamps inside free mappings
        return value.isoformat()
    return value
