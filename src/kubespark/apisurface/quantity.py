"""``resource.Quantity`` (k8s.io/apimachinery/pkg/api/resource): its syntax, value and string.

Owns the one reading of quantities kubespark's parts share: the schema checker (is a string
one?), kubeflow's batch-scheduler resource sums (submit) and the emulator's usage model (its
kubelets). It must not know who asks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["Quantity", "format_quantity", "is_quantity", "parse_quantity"]

# ParseQuantity's grammar: a signed decimal, then an exponent or one suffix (binary or decimal).
_QUANTITY = re.compile(
    r"^(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+))"
    r"(?:(?P<exponent>[eE][+-]?\d+)|(?P<suffix>[KMGTPE]i|[numkMGTPE]))?$"
)
_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}  # powers of 1024
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}


@dataclass(frozen=True, slots=True)
class Quantity:
    """A quantity's value (``500m`` is 0.5, ``1Gi`` 2**30) and whether it was written in a
    binary suffix, which ``Quantity.String()`` keeps for sums of it."""

    value: Decimal
    binary: bool


def is_quantity(text: str) -> bool:
    """Whether ``text`` is a quantity as the API server parses one."""
    return _QUANTITY.match(text) is not None


def parse_quantity(text: object) -> Quantity | None:
    """``text`` (a string, or a number as YAML gives ``cpu: 1``) as a quantity; None if not one."""
    match = _QUANTITY.match(str(text).strip()) if text is not None else None
    if match is None:
        return None
    number = Decimal(match["number"] + (match["exponent"] or ""))
    suffix = match["suffix"] or ""
    if suffix in _BINARY:
        return Quantity(number * Decimal(1024) ** _BINARY[suffix], True)
    return Quantity(number * Decimal(10) ** _DECIMAL[suffix], False)


def format_quantity(value: Decimal, binary: bool) -> str:
    """``resource.Quantity.String()``: the largest suffix that keeps the number whole."""
    if value == 0:
        return "0"
    if binary and value == value.to_integral_value():
        for suffix, power in sorted(_BINARY.items(), key=lambda s: -s[1]):
            unit = Decimal(1024) ** power
            if value % unit == 0:
                return f"{int(value // unit)}{suffix}"
    for suffix, exponent in sorted(_DECIMAL.items(), key=lambda s: -s[1]):
        scaled = value / (Decimal(10) ** exponent)
        if scaled == scaled.to_integral_value():
            return f"{int(scaled)}{suffix}"
    return str(value)
