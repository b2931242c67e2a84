"""Typed records from parsed documents: frozen dataclasses checked field by field, and back.

Owns turning parsed YAML or JSON into frozen (slotted) dataclasses against their declarations,
and turning such records back into JSON-ready mappings. :func:`decode` checks every key (unknown
keys are refused unless the record has an :class:`Extras` field to keep them), every value of
its declared type, strictly as the API server is (``"2"`` is no integer, ``true`` no count, ``2``
no string): ``str``, ``bool``, ``int``, ``Literal`` choices, ``StrEnum`` members, lists, tuples,
dicts, nested records, ``X | Y``, ``Any``, a generic record's type parameter. Field rules are
``Annotated`` metadata: the JSON name (:class:`Alias`), bounds (:class:`Ge`, :class:`Le`,
:class:`MinLen`, :class:`MaxLen`), :class:`Pattern`, and :class:`Parse` / :class:`Before` for
values that need converting; then each record's own ``__post_init__`` rules. It collects every
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
check a few hundred lines of typed decoding do as well. Each type is compiled once per process
into a decoder closure, so a document costs one call per value (about 45 us for a SparkApplication,
where pydantic-core takes about 14: the price of a Python decoder, paid per document).
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
# Each type is compiled once per process into a decoder (a closure that knows its checks), so a
# document costs one call per value, not a walk of the type's annotations: the operator decodes
# every application again on each change.


class _Bad:
    """The value of a field that did not decode (its faults are already collected)."""


_BAD = _Bad()
Faults = list[Fault]
Decoder = Callable[[Any, Loc, Faults], Any]


def decode(record: type[T], data: Any) -> T:
    """``data`` (parsed YAML or JSON) as a ``record``, or :class:`DecodeError` with every fault."""
    faults: Faults = []
    value = _decoder(record)(data, (), faults)
    if faults:
        raise DecodeError(tuple(faults))
    return typing.cast(T, value)


def _compile(hint: Any) -> Decoder:
    origin = get_origin(hint)
    if origin is typing.Annotated:
        inner, *rules = get_args(hint)
        return _ruled(_decoder(inner), tuple(rules))
    if origin in (Union, types.UnionType):
        return _union(get_args(hint))
    if origin is Literal:
        return _literal(get_args(hint))
    if origin in (list, tuple):  # every tuple in a record is tuple[X, ...]
        return _sequence(origin, _decoder(get_args(hint)[0]))
    if origin is dict:
        key_hint, value_hint = get_args(hint)
        return _mapping(_decoder(key_hint), _decoder(value_hint))
    if hint is Any:
        return _as_is
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _record(hint)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return _enum(hint)
    if isinstance(hint, type):
        return _plain(hint)
    raise TypeError(f"no decoder for {hint!r}")  # a schema bug, caught by the loaders' tests


# Once per type and process (cast: see record_fields).
_decoder = typing.cast(Callable[[Any], Decoder], functools.cache(_compile))


def _as_is(raw: Any, loc: Loc, faults: Faults) -> Any:
    return raw


@dataclass(frozen=True, slots=True)
class _Plan:
    """How a record decodes: its declared fields (attribute, JSON name, required, decoder),
    their JSON names, and the attribute that keeps undeclared keys, if any."""

    fields: tuple[tuple[str, str, bool, Decoder], ...]
    known: frozenset[str]
    keeps: str | None


def _make_plan(record: type[Any]) -> _Plan:
    specs = record_fields(record)
    declared = [s for s in specs if not s.extras]
    return _Plan(
        fields=tuple((s.name, s.json, s.required, _field(s)) for s in declared),
        known=frozenset(s.json for s in declared),
        keeps=next((s.name for s in specs if s.extras), None),
    )


_plan = typing.cast(Callable[[type[Any]], _Plan], functools.cache(_make_plan))


def _field(spec: FieldSpec) -> Decoder:
    return _ruled(_decoder(spec.hint), spec.rules) if spec.rules else _decoder(spec.hint)


def _record(record: type[Any]) -> Decoder:
    # The plan is made on the first document, not here: a record may contain itself.
    def run(raw: Any, loc: Loc, faults: Faults) -> Any:
        if not isinstance(raw, dict):
            message = f"Input should be a mapping, not {_kind(raw)}"
            faults.append(Fault(loc, "model_type", message, raw))
            return _BAD
        plan = _plan(record)
        values: dict[str, Any] = {}
        complete = True
        for name, json, required, decoder in plan.fields:
            if json in raw:
                value = values[name] = decoder(raw[json], (*loc, json), faults)
                complete = complete and value is not _BAD
            elif required:
                faults.append(Fault((*loc, json), "missing", "Field required", raw))
                complete = False
        undeclared = len(values) < len(raw)  # when every key found its field, none is extra
        extra = {k: v for k, v in raw.items() if k not in plan.known} if undeclared else {}
        # After the declared fields, as pydantic reports them.
        complete = _extra_keys(extra, plan.keeps is not None, loc, faults) and complete
        if not complete:
            return _BAD
        set_names = values.keys() | ({plan.keeps} if plan.keeps and extra else set())
        if plan.keeps is not None:
            values[plan.keeps] = extra
        try:
            out = record(**values)
        except ValueError as err:  # the record's own rules (__post_init__)
            faults.append(Fault(loc, "value_error", str(err), raw))
            return _BAD
        if isinstance(out, Tracked):
            _mark(out, frozenset(set_names))
        return out

    return run


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


def _ruled(inner: Decoder, rules: tuple[Any, ...]) -> Decoder:
    """``inner`` with the rules: transforms first, then the type (or a parser), then the checks;
    the first check it fails is its one fault."""
    befores = tuple(r.transform for r in rules if isinstance(r, Before))
    parse = next((r.parse for r in rules if isinstance(r, Parse)), None)
    checks = tuple(r for r in rules if isinstance(r, Ge | Le | MinLen | MaxLen | Pattern))

    def run(raw: Any, loc: Loc, faults: Faults) -> Any:
        for transform in befores:
            raw = transform(raw)
        if parse is None:
            value = inner(raw, loc, faults)
        else:
            try:
                value = parse(raw)
            except ValueError as err:
                faults.append(Fault(loc, "value_error", str(err), raw))
                return _BAD
        if value is _BAD or value is None:
            return value
        for rule in checks:
            broken = _rule(rule, value, loc)
            if broken is not None:
                faults.append(broken)
                return _BAD
        return value

    return run


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


def _union(options: tuple[Any, ...]) -> Decoder:
    nullable = type(None) in options
    decoders = tuple(_decoder(o) for o in options if o is not type(None))
    if len(decoders) == 1:  # X | None
        only = decoders[0]
        return lambda raw, loc, faults: None if raw is None else only(raw, loc, faults)

    def run(raw: Any, loc: Loc, faults: Faults) -> Any:
        if raw is None and nullable:
            return None
        best: Faults | None = None
        for decoder in decoders:
            found: Faults = []
            value = decoder(raw, loc, found)
            if not found:
                return value
            # The deepest fault says most (a bad item inside a list, not "not a mapping").
            if best is None or len(found[0].loc) > len(best[0].loc):
                best = found
        assert best is not None
        faults.extend(best)
        return _BAD

    return run


def _literal(choices: tuple[Any, ...]) -> Decoder:
    # By type too: 1 is not the choice True, nor "2" the choice 2.
    allowed = frozenset((type(c), c) for c in choices)
    expected = _alternatives(choices)
    message = f"Input should be {expected}"

    def run(raw: Any, loc: Loc, faults: Faults) -> Any:
        try:
            if (type(raw), raw) in allowed:
                return raw
        except TypeError:  # a list or a mapping: no choice
            pass
        faults.append(Fault(loc, "literal_error", message, raw, {"expected": expected}))
        return _BAD

    return run


def _sequence(origin: Any, item: Decoder) -> Decoder:
    def run(raw: Any, loc: Loc, faults: Faults) -> Any:
        if not isinstance(raw, list | tuple):
            faults.append(Fault(loc, "list_type", f"Input should be a list, not {_kind(raw)}", raw))
            return _BAD
        items = [item(value, (*loc, index), faults) for index, value in enumerate(raw)]
        if any(v is _BAD for v in items):
            return _BAD
        return tuple(items) if origin is tuple else items

    return run


def _mapping(key: Decoder, value: Decoder) -> Decoder:
    def run(raw: Any, loc: Loc, faults: Faults) -> Any:
        if not isinstance(raw, dict):
            message = f"Input should be a mapping, not {_kind(raw)}"
            faults.append(Fault(loc, "dict_type", message, raw))
            return _BAD
        out = {}
        bad = False
        for name, item in raw.items():
            where = (*loc, _key(name))
            checked = key(name, where, faults)  # the key's fault first, as pydantic's
            decoded = out[checked] = value(item, where, faults)
            bad = bad or checked is _BAD or decoded is _BAD
        return _BAD if bad else out

    return run


def _enum(hint: type[Enum]) -> Decoder:
    expected = _alternatives(tuple(member.value for member in hint))

    def run(raw: Any, loc: Loc, faults: Faults) -> Any:
        try:
            return hint(raw)
        except ValueError:
            message = f"Input should be {expected}"
            faults.append(Fault(loc, "enum", message, raw, {"expected": expected}))
            return _BAD

    return run


def _plain(hint: type[Any]) -> Decoder:
    kind, name = _TYPES.get(hint, ("value_error", hint.__name__))
    message = f"Input should be a valid {name}"

    def run(raw: Any, loc: Loc, faults: Faults) -> Any:
        # bool is an int in Python, never in a document: a YAML `true` is no count, `1` no flag.
        if isinstance(raw, hint) and not (hint is int and isinstance(raw, bool)):
            return raw
        faults.append(Fault(loc, kind, message, raw))
        return _BAD

    return run


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
