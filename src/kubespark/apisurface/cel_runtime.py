"""What CEL's operators, functions and macros do to JSON values, for compiled rules to call.

Owns the semantics the Python that :mod:`kubespark.apisurface.cel_compile` writes relies on, on
plain JSON values (``None``, ``bool``, ``int``, ``float``, ``str``, ``list``, ``dict``), as the
API server's CEL (cel-go) evaluates them:

- an error is a value, :data:`ERR`, that every operator propagates, except that ``&&`` and
  ``||`` absorb it commutatively (``false && error`` and ``error && false`` are false,
  ``true || error`` and ``error || true`` true), as do ``all`` and ``exists``; ``exists_one``
  and ``filter`` are strict;
- ``has(e.f)`` is false when ``e`` is missing or not a map (celpy's reading, see :func:`has`);
- a missing key read without ``has()``, an operator applied to types it has no overload for
  (``!1``, ``'a' + 1``, ``'a' < 1``, ``size(1)``, a macro over a string) give :data:`ERR`:
  no Python truthiness, no ``bool``-is-an-``int`` (``true`` is no number);
- equality is heterogeneous: ``1 == 1.0`` is true, ``1 == true`` and ``'1' == 1`` are false;
  ordering compares numbers across int and double, strings by code point, booleans, and
  nothing else;
- ``string()`` of a bool is ``true``/``false``, of a double Go's ``%g`` (``3``, ``1.5``,
  ``1e+06``); of null, a list or a map it is an error.

It must not parse CEL, nor know any rule: it is the library compiled rules run against, and it
imports nothing heavier than the standard library's ``re`` so a warm command never loads celpy.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, Final

__all__ = [
    "ERR",
    "CelError",
    "add",
    "all_",
    "and_",
    "eq",
    "exists",
    "exists_one",
    "field",
    "filter_",
    "ge",
    "gt",
    "has",
    "in_",
    "index",
    "is_plain",
    "le",
    "list_",
    "lt",
    "matches",
    "ne",
    "not_",
    "or_",
    "size",
    "string",
]

_INT64: Final = 1 << 63


class CelError:
    """CEL's error value: what a failed operation gives, and what ``&&``/``||`` may absorb."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<CEL error>"


ERR: Final = CelError()


def is_plain(value: Any) -> bool:
    """Whether ``value`` is JSON CEL can bind: the types above, ints within int64, str keys.

    Anything else (a YAML timestamp, a number beyond int64) is for celpy to judge: the server
    refuses such a document while decoding it, before any rule runs.
    """
    kind = type(value)
    if kind is str or kind is bool or kind is float or value is None:
        return True
    if kind is int:
        return bool(-_INT64 <= value < _INT64)
    if kind is list:
        return all(is_plain(item) for item in value)
    if kind is dict:
        return all(type(k) is str and is_plain(v) for k, v in value.items())
    return False


def _number(value: Any) -> bool:
    return type(value) is int or type(value) is float


def _equal(a: Any, b: Any) -> bool:
    """Heterogeneous equality of two (error-free) values."""
    if _number(a) and _number(b):
        return bool(a == b)
    if type(a) is not type(b):
        return False
    if type(a) is list:
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is dict:
        return a.keys() == b.keys() and all(_equal(v, b[k]) for k, v in a.items())
    return bool(a == b)


def eq(a: Any, b: Any) -> Any:
    """``a == b``."""
    if a is ERR or b is ERR:
        return ERR
    return _equal(a, b)


def ne(a: Any, b: Any) -> Any:
    """``a != b``."""
    if a is ERR or b is ERR:
        return ERR
    return not _equal(a, b)


def _comparable(a: Any, b: Any) -> bool:
    if _number(a) and _number(b):
        return True
    return type(a) is type(b) and type(a) in (str, bool)


def lt(a: Any, b: Any) -> Any:
    """``a < b``."""
    return bool(a < b) if _comparable(a, b) else ERR


def le(a: Any, b: Any) -> Any:
    """``a <= b``."""
    return bool(a <= b) if _comparable(a, b) else ERR


def gt(a: Any, b: Any) -> Any:
    """``a > b``."""
    return bool(a > b) if _comparable(a, b) else ERR


def ge(a: Any, b: Any) -> Any:
    """``a >= b``."""
    return bool(a >= b) if _comparable(a, b) else ERR


def add(a: Any, b: Any) -> Any:
    """``a + b``: strings and lists concatenate, ints (within int64) and doubles add."""
    kind = type(a)
    if kind is not type(b) or kind not in (str, list, int, float):
        return ERR
    total = a + b
    if kind is int and not -_INT64 <= total < _INT64:
        return ERR  # CEL's int overflow is an error, never a wider int
    return total


def not_(a: Any) -> Any:
    """``!a``."""
    return (a is False) if type(a) is bool else ERR


def and_(a: Any, b: Any) -> Any:
    """``a && b`` once ``a`` is known not to be false (the caller short-circuits that)."""
    if b is False:
        return False
    return True if a is True and b is True else ERR


def or_(a: Any, b: Any) -> Any:
    """``a || b`` once ``a`` is known not to be true (the caller short-circuits that)."""
    if b is True:
        return True
    return False if a is False and b is False else ERR


def in_(item: Any, container: Any) -> Any:
    """``item in container``: a list's element, a map's key."""
    if item is ERR:
        return ERR
    if type(container) is list:
        return any(_equal(item, element) for element in container)
    if type(container) is dict:
        if type(item) is str:
            return item in container
        return any(_equal(item, key) for key in container)
    return ERR


def list_(items: tuple[Any, ...]) -> Any:
    """A list literal: an error when any element is one."""
    return ERR if any(item is ERR for item in items) else list(items)


def field(value: Any, name: str) -> Any:
    """``value.name``: a map's entry, else an error (a missing key too)."""
    if type(value) is dict:
        return value.get(name, ERR)
    return ERR


def has(value: Any, name: str) -> bool:
    """``has(value.name)``: whether ``value`` is a map with the key.

    False, not an error, when ``value`` is an error or not a map: celpy's reading, which the
    rule files rely on (``has(self.metadata.namespace)`` with no ``metadata``); cel-go would
    give an error, but its servers see only documents their schema admitted.
    """
    return type(value) is dict and name in value


def index(value: Any, key: Any) -> Any:
    """``value[key]``: a list's element by an int in range, a map's entry; else an error."""
    if type(value) is list:
        if type(key) is int and 0 <= key < len(value):
            return value[key]
        return ERR
    if type(value) is dict:
        if type(key) is str:
            return value.get(key, ERR)
        for candidate, item in value.items():
            if key is not ERR and _equal(key, candidate):
                return item
    return ERR


def size(value: Any) -> Any:
    """``size(value)``: a string's code points, a list's or a map's entries."""
    return len(value) if type(value) in (str, list, dict) else ERR


def string(value: Any) -> Any:
    """``string(value)`` for a string, an int, a bool or a double."""
    kind = type(value)
    if kind is str:
        return value
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        return _go_g(value)
    return ERR


def _go_g(number: float) -> str:
    """Go's ``%g`` of a float64 (cel-go's ``string(double)``): shortest digits, e from 1e+06."""
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "+Inf" if number > 0 else "-Inf"
    sign, digits, exponent = Decimal(repr(number)).as_tuple()
    assert isinstance(exponent, int)  # a finite float's
    text = "".join(map(str, digits)).rstrip("0")
    minus = "-" if sign else ""
    if not text:
        return minus + "0"
    point = len(digits) + exponent  # digits before the decimal point
    exp = point - 1
    if exp < -4 or exp >= 6:  # strconv's rule for the shortest form: eprec 6
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{minus}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if point <= 0:
        return f"{minus}0.{'0' * -point}{text}"
    if point >= len(text):
        return minus + text + "0" * (point - len(text))
    return f"{minus}{text[:point]}.{text[point:]}"


def matches(value: Any, pattern: re.Pattern[str]) -> Any:
    """``value.matches(pattern)``: RE2's unanchored search (the pattern is translated)."""
    if type(value) is not str:
        return ERR
    return pattern.search(value) is not None


def _items(value: Any) -> Iterable[Any] | None:
    """What a macro ranges over: a list's elements, a map's keys."""
    return value if type(value) in (list, dict) else None


def all_(value: Any, predicate: Callable[[Any], Any]) -> Any:
    """``value.all(x, predicate)``: false wins over errors, as ``&&`` folds."""
    return _quantified(value, predicate, decisive=False)


def exists(value: Any, predicate: Callable[[Any], Any]) -> Any:
    """``value.exists(x, predicate)``: true wins over errors, as ``||`` folds."""
    return _quantified(value, predicate, decisive=True)


def _quantified(value: Any, predicate: Callable[[Any], Any], *, decisive: bool) -> Any:
    """``decisive`` from the first item giving it; else an error if any item erred (or gave a
    non-bool); else the other bool."""
    items = _items(value)
    if items is None:
        return ERR
    failed = False
    for item in items:
        result = predicate(item)
        if result is decisive:
            return decisive
        failed = failed or result is not (not decisive)
    return ERR if failed else not decisive


def exists_one(value: Any, predicate: Callable[[Any], Any]) -> Any:
    """``value.exists_one(x, predicate)``: exactly one true; any error is the result."""
    items = _items(value)
    if items is None:
        return ERR
    count = 0
    for item in items:
        result = predicate(item)
        if type(result) is not bool:
            return ERR
        count += result
    return count == 1


def filter_(value: Any, predicate: Callable[[Any], Any]) -> Any:
    """``value.filter(x, predicate)``: the items it holds for; any error is the result."""
    items = _items(value)
    if items is None:
        return ERR
    kept = []
    for item in items:
        result = predicate(item)
        if type(result) is not bool:
            return ERR
        if result:
            kept.append(item)
    return kept
