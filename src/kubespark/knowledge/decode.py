"""Turning parsed YAML into the knowledge base's frozen dataclasses, checked field by field.

Owns the typed loading of :mod:`kubespark.knowledge.schema`'s records: every key known (unknown
keys are refused, not ignored), every value of its declared type (``str``, ``bool``, ``int``,
``Literal`` choices, ``StrEnum`` members, tuples, dicts, nested records, ``X | None``), the field
rules declared as ``Annotated`` metadata (:class:`Parse`, :class:`Before`, :class:`MinLen`,
:class:`Pattern`), then each record's own ``__post_init__`` rules. The first failure is a
:class:`DecodeError` naming the field path (``reasons[3].affects.spark[0]``), which the loader
turns into a :class:`kubespark.errors.DataError` naming the file.

Why not pydantic: the records are read back from the disk cache by every command that judges a
version, and a pydantic model costs each of those processes pydantic's import (tens of ms of
start-up) for nothing: validation happens once, when the cache misses. This module runs only
then.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

__all__ = ["Before", "DecodeError", "MinLen", "Parse", "Pattern", "decode"]

T = TypeVar("T")
Loc = tuple[int | str, ...]


class DecodeError(Exception):
    """A value that does not fit its field: where (the field path) and what is wrong."""

    def __init__(self, loc: Loc, message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message

    @property
    def path(self) -> str:
        """``reasons[3].affects.spark[0]``: keys joined by dots, list indexes in brackets."""
        text = ""
        for part in self.loc:
            text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
        return text


@dataclass(frozen=True, slots=True)
class Parse:
    """The field's value is ``parse(raw)``; a ValueError is the field's error."""

    parse: Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Before:
    """``transform(raw)`` runs before the field's type is checked (e.g. one item to a list)."""

    transform: Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class MinLen:
    """A tuple field needs at least this many items."""

    length: int


@dataclass(frozen=True, slots=True)
class Pattern:
    """A string field must match this regular expression."""

    regex: str


def decode(record: type[T], data: Any) -> T:
    """``data`` (parsed YAML) as a ``record`` dataclass, or :class:`DecodeError`."""
    return typing.cast(T, _record(record, data, ()))


def _record(record: type[Any], data: Any, loc: Loc) -> Any:
    if not isinstance(data, dict):
        raise DecodeError(loc, f"Input should be a mapping, not {_kind(data)}")
    hints = _hints(record)
    fields = {f.name: f for f in dataclasses.fields(record)}
    for key in data:
        if key not in fields:
            raise DecodeError((*loc, str(key)), "Extra inputs are not permitted")
    values: dict[str, Any] = {}
    for name, spec in fields.items():
        if name in data:
            values[name] = _value(hints[name], data[name], (*loc, name))
        elif spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
            raise DecodeError((*loc, name), "Field required")
    try:
        return record(**values)
    except ValueError as err:  # the record's own rules (__post_init__)
        raise DecodeError(loc, str(err)) from None


_HINTS: dict[type[Any], dict[str, Any]] = {}


def _hints(record: type[Any]) -> dict[str, Any]:
    # Resolving string annotations is the costly part; one load asks for each record many times.
    found = _HINTS.get(record)
    if found is None:
        found = _HINTS[record] = typing.get_type_hints(record, include_extras=True)
    return found


def _value(hint: Any, raw: Any, loc: Loc) -> Any:
    origin = get_origin(hint)
    if origin is typing.Annotated:
        return _annotated(hint, raw, loc)
    if origin in (Union, types.UnionType):
        return _union(get_args(hint), raw, loc)
    if origin is Literal:
        choices = get_args(hint)
        if raw not in choices:
            raise DecodeError(loc, f"Input should be {_alternatives(choices)}")
        return raw
    if origin is tuple:
        return _tuple(get_args(hint), raw, loc)
    if origin is dict:
        return _dict(get_args(hint), raw, loc)
    if isinstance(hint, type):
        return _plain(hint, raw, loc)
    raise TypeError(f"no decoder for {hint!r}")  # a schema bug, caught by the loader's tests


def _annotated(hint: Any, raw: Any, loc: Loc) -> Any:
    inner, *meta = get_args(hint)
    for item in meta:
        if isinstance(item, Before):
            raw = item.transform(raw)
    parse = next((m for m in meta if isinstance(m, Parse)), None)
    if parse is None:
        value = _value(inner, raw, loc)
    else:
        try:
            value = parse.parse(raw)
        except ValueError as err:
            raise DecodeError(loc, str(err)) from None
    for item in meta:
        if isinstance(item, MinLen) and len(value) < item.length:
            raise DecodeError(loc, f"List should have at least {item.length} item")
        if isinstance(item, Pattern) and not re.match(item.regex, value):
            raise DecodeError(loc, f"String should match pattern '{item.regex}'")
    return value


def _union(options: tuple[Any, ...], raw: Any, loc: Loc) -> Any:
    if raw is None and type(None) in options:
        return None
    candidates = [o for o in options if o is not type(None)]
    first: DecodeError | None = None
    for option in candidates:
        try:
            return _value(option, raw, loc)
        except DecodeError as err:
            # The deepest error says most (a bad item inside a list, not "not a mapping").
            if first is None or len(err.loc) > len(first.loc):
                first = err
    assert first is not None
    raise first


def _tuple(args: tuple[Any, ...], raw: Any, loc: Loc) -> tuple[Any, ...]:
    if not isinstance(raw, list | tuple):
        raise DecodeError(loc, f"Input should be a list, not {_kind(raw)}")
    item = args[0]  # every tuple in the schema is tuple[X, ...]
    return tuple(_value(item, value, (*loc, index)) for index, value in enumerate(raw))


def _dict(args: tuple[Any, ...], raw: Any, loc: Loc) -> dict[Any, Any]:
    if not isinstance(raw, dict):
        raise DecodeError(loc, f"Input should be a mapping, not {_kind(raw)}")
    key_hint, value_hint = args
    return {
        _value(key_hint, key, (*loc, str(key))): _value(value_hint, value, (*loc, str(key)))
        for key, value in raw.items()
    }


def _plain(hint: type[Any], raw: Any, loc: Loc) -> Any:
    if dataclasses.is_dataclass(hint):
        return _record(hint, raw, loc)
    if issubclass(hint, Enum):
        try:
            return hint(raw)
        except ValueError:
            choices = tuple(member.value for member in hint)
            raise DecodeError(loc, f"Input should be {_alternatives(choices)}") from None
    # bool is an int in Python, never in the data: a YAML `true` is no count, `1` no flag.
    if isinstance(raw, hint) and not (hint is int and isinstance(raw, bool)):
        return raw
    raise DecodeError(loc, f"Input should be a valid {_NAMES.get(hint, hint.__name__)}")


_NAMES = {str: "string", bool: "boolean", int: "integer"}


def _alternatives(choices: tuple[Any, ...]) -> str:
    quoted = [f"'{c}'" for c in choices]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def _kind(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__
