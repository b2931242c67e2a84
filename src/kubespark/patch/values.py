"""Plain JSON values as the API server's Go code sees them: identity, order, and printing.

Owns three things every patch algorithm needs and Python does not give for free:

- identity: ``True == 1`` in Python but not in JSON; :func:`hashable` gives each value a key that
  treats ``1`` and ``1.0`` as equal (structured-merge-diff's ``value.Equals``) and ``true`` and
  ``1`` as different;
- order: structured-merge-diff's total order over values (``value.Compare``: numbers < strings <
  booleans < lists < maps < null), which decides how field sets serialize;
- printing: the Go verbs (``%v``, ``%#v``, ``%q``, ``%T``) that end up inside error messages a
  real server writes, so messages match byte for byte.

Values are what ``json.loads`` returns. Nothing here does I/O or knows about schemas.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

__all__ = [
    "JSON",
    "MISSING",
    "compare_values",
    "deep_copy",
    "go_quote",
    "go_sharp_v",
    "go_type_name",
    "go_v",
    "hashable",
    "is_list",
    "is_map",
    "json_compact",
    "json_kind",
    "values_equal",
]

JSON: TypeAlias = Any  # dict[str, JSON] | list[JSON] | str | int | float | bool | None


class _Missing:
    """An absent value, distinct from JSON ``null`` (None)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


def is_map(value: object) -> bool:
    return isinstance(value, dict)


def is_list(value: object) -> bool:
    return isinstance(value, list)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def hashable(value: JSON) -> object:
    """A hashable stand-in with JSON equality: ``1 == 1.0``, ``True != 1``, maps unordered."""
    if value is None:
        return ("n",)
    if isinstance(value, bool):
        return ("b", value)
    if _is_number(value):
        number = float(value)
        if math.isfinite(number) and number == int(number):
            return ("#", int(number))
        return ("#", number)
    if isinstance(value, str):
        return ("s", value)
    if isinstance(value, list):
        return ("l", tuple(hashable(v) for v in value))
    if isinstance(value, dict):
        return ("m", frozenset((k, hashable(v)) for k, v in value.items()))
    raise TypeError(f"not a JSON value: {value!r}")


def values_equal(lhs: JSON, rhs: JSON) -> bool:
    """structured-merge-diff's ``value.Equals``: numbers compare numerically, maps unordered."""
    if isinstance(lhs, dict):
        if not isinstance(rhs, dict) or len(lhs) != len(rhs):
            return False
        for key, value in lhs.items():
            if key not in rhs or not values_equal(value, rhs[key]):
                return False
        return True
    if isinstance(lhs, list):
        if not isinstance(rhs, list) or len(lhs) != len(rhs):
            return False
        return all(values_equal(a, b) for a, b in zip(lhs, rhs, strict=True))
    if isinstance(lhs, bool) or isinstance(rhs, bool):
        return type(lhs) is type(rhs) and lhs == rhs
    if _is_number(lhs) and _is_number(rhs):
        return bool(lhs == rhs)
    return type(lhs) is type(rhs) and bool(lhs == rhs)


def _rank(value: JSON) -> int:
    if _is_number(value):
        return 0
    if isinstance(value, str):
        return 2
    if isinstance(value, bool):
        return 3
    if isinstance(value, list):
        return 4
    if isinstance(value, dict):
        return 5
    return 6  # null


def _cmp(a: Any, b: Any) -> int:
    return int((a > b) - (a < b))


def compare_values(lhs: JSON, rhs: JSON) -> int:
    """structured-merge-diff's ``value.Compare``: a total order across types."""
    lr, rr = _rank(lhs), _rank(rhs)
    if lr != rr:
        return _cmp(lr, rr)
    if lr == 0:
        return _cmp(float(lhs), float(rhs))
    if lr == 2:
        # Go compares strings bytewise; UTF-8 keeps code point order, so str order matches.
        return _cmp(lhs, rhs)
    if lr == 3:
        return _cmp(lhs, rhs)
    if lr == 4:
        for a, b in zip(lhs, rhs, strict=False):
            c = compare_values(a, b)
            if c:
                return c
        return _cmp(len(lhs), len(rhs))
    if lr == 5:
        return _compare_maps(lhs, rhs)
    return 0


def _compare_maps(lhs: Mapping[str, JSON], rhs: Mapping[str, JSON]) -> int:
    # value.MapCompare: sorted keys pairwise, then by length.
    lk, rk = sorted(lhs), sorted(rhs)
    for a, b in zip(lk, rk, strict=False):
        if a != b:
            return _cmp(a, b)
        c = compare_values(lhs[a], rhs[b])
        if c:
            return c
    return _cmp(len(lk), len(rk))


def deep_copy(value: JSON) -> JSON:
    """A copy sharing nothing mutable with ``value`` (faster than copy.deepcopy for JSON)."""
    if isinstance(value, dict):
        return {k: deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [deep_copy(v) for v in value]
    return value


def json_compact(value: JSON) -> str:
    """JSON as Go's encoding/json writes it: no spaces, object keys sorted, ``<>&`` escaped."""
    text = json.dumps(_for_json(value), separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _for_json(value: JSON) -> JSON:
    # Go writes integral float64 values without a fraction (7078, not 7078.0).
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        return int(value)
    if isinstance(value, dict):
        return {k: _for_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_for_json(v) for v in value]
    return value


# --- Go's fmt verbs -------------------------------------------------------------------------


def go_quote(text: str) -> str:
    """Go's ``%q`` of a string (strconv.Quote): printable runes kept, others escaped."""
    return '"' + "".join(_go_rune(ch) for ch in text) + '"'


# strconv's short escapes; other unprintable runes get \x, \u or \U by their size.
_GO_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\t": "\\t",
    "\r": "\\r",
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\v": "\\v",
}


def _go_rune(ch: str) -> str:
    escaped = _GO_ESCAPES.get(ch)
    if escaped is not None:
        return escaped
    if ch.isprintable() or ch == " ":
        return ch
    code = ord(ch)
    if code < 0x80:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _go_float(number: float) -> str:
    # Go's %v of float64 is strconv.FormatFloat(f, 'g', -1, 64) with exponent for large values.
    if math.isinf(number):
        return "+Inf" if number > 0 else "-Inf"
    if math.isnan(number):
        return "NaN"
    if number == int(number) and abs(number) < 1e21:
        return str(int(number))
    text = repr(number)
    if "e" in text:
        mantissa, exponent = text.split("e")
        sign = "-" if exponent.startswith("-") else "+"
        digits = exponent.lstrip("+-").rjust(2, "0")
        return f"{mantissa}e{sign}{digits}"
    return text


def _go_number(value: int | float) -> str:
    return str(value) if isinstance(value, int) else _go_float(value)


def _same_scalar(go_type: str, printed: str) -> str:
    return printed


def _bad_s_verb(go_type: str, printed: str) -> str:
    return f"%!s({go_type}={printed})"


@dataclass(frozen=True, slots=True)
class _Printer:
    """How one Go formatting of a decoded JSON value writes each kind of value.

    Booleans and numbers print alike everywhere (``true``, Go's float format); nil, strings,
    lists and maps differ per verb or library, and so are the fields.
    """

    nil: str
    string: Callable[[str], str]
    list_parts: tuple[str, str, str]  # open, separator, close
    map_parts: tuple[str, str, str]
    entry: Callable[[str, str], str]  # key, printed value -> one map entry
    sorted_keys: bool  # Go's fmt sorts map keys; structured-merge-diff keeps their order
    other: Callable[[object], str] = str
    scalar: Callable[[str, str], str] = _same_scalar  # Go type, printed -> how a bool/number shows

    def print(self, value: JSON) -> str:
        if value is None:
            return self.nil
        if isinstance(value, bool):
            return self.scalar("bool", "true" if value else "false")
        if _is_number(value):
            return self.scalar(go_type_name(value), _go_number(value))
        if isinstance(value, str):
            return self.string(value)
        if isinstance(value, list):
            start, sep, end = self.list_parts
            return start + sep.join(self.print(v) for v in value) + end
        if isinstance(value, dict):
            start, sep, end = self.map_parts
            keys = sorted(value) if self.sorted_keys else list(value)
            return start + sep.join(self.entry(k, self.print(value[k])) for k in keys) + end
        return self.other(value)


def _same(text: str) -> str:
    return text


def _key_value(key: str, printed: str) -> str:
    return f"{key}={printed}"


_GO_V = _Printer("<nil>", _same, ("[", " ", "]"), ("map[", " ", "]"), lambda k, v: f"{k}:{v}", True)
# %s of a value that is not a string: fmt's bad-verb form for bools and numbers, inside
# maps and lists too (mergepatch.ErrBadPatchType formats the directive with %s).
_GO_S = _Printer(
    "%!s(<nil>)",
    _same,
    ("[", " ", "]"),
    ("map[", " ", "]"),
    lambda k, v: f"{k}:{v}",
    True,
    scalar=_bad_s_verb,
)
_GO_SHARP_V = _Printer(
    "interface {}(nil)",
    go_quote,
    ("[]interface {}{", ", ", "}"),
    ("map[string]interface {}{", ", ", "}"),
    lambda k, v: f"{go_quote(k)}:{v}",
    True,
    repr,
)
_SMD_V1 = _Printer("null", go_quote, ("[", ",", "]"), ("{", ";", "}"), _key_value, False)
_SMD_V3 = _Printer("null", go_quote, ("[", ",", "]"), ("", "", ""), _key_value, False)


def go_v(value: JSON) -> str:
    """Go's ``%v`` of a decoded JSON value (``map[a:1 b:x]``, ``[a 1]``, ``<nil>``)."""
    return _GO_V.print(value)


def go_s(value: JSON) -> str:
    """Go's ``%s`` of a decoded JSON value (``x``, ``%!s(int64=5)``, ``%!s(<nil>)``)."""
    return _GO_S.print(value)


def go_sharp_v(value: JSON) -> str:
    """Go's ``%#v`` of a decoded JSON value inside an ``interface{}``."""
    return _GO_SHARP_V.print(value)


def json_kind(value: JSON) -> str:
    """Which JSON kind a decoded value is: null, bool, int, float, str, list or map.

    Booleans first: Python's ``True`` is also an ``int``. Each vocabulary of kinds (Go's ``%T``,
    JSON Patch's, the typed converter's) is a table over these names.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    for kind, name in _KINDS:
        if isinstance(value, kind):
            return name
    return "map"


_KINDS: tuple[tuple[type, str], ...] = (
    (int, "int"),
    (float, "float"),
    (str, "str"),
    (list, "list"),
)
_GO_TYPES = {
    "null": "<nil>",
    "bool": "bool",
    "int": "int64",
    "float": "float64",
    "str": "string",
    "list": "[]interface {}",
    "map": "map[string]interface {}",
}


def go_type_name(value: JSON) -> str:
    """Go's ``%T`` of a decoded JSON value (as Kubernetes decodes JSON: integers are int64)."""
    return _GO_TYPES[json_kind(value)]


def smd_v1_string(value: JSON) -> str:
    """``value.Value.String()`` of structured-merge-diff v1 (Kubernetes 1.16 and 1.17)."""
    return _SMD_V1.print(value)


def smd_to_string(value: JSON) -> str:
    """``value.ToString`` (structured-merge-diff v3+): how keys print in paths and messages."""
    return _SMD_V3.print(value)


def sequence_of_str(values: Sequence[str]) -> str:
    """Go's ``%q`` of a ``[]string``: ``["port" "protocol"]``."""
    return "[" + " ".join(go_quote(v) for v in values) + "]"
