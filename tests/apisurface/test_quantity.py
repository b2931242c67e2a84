"""resource.Quantity as apimachinery reads and writes it (cases from its quantity_test.go)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kubespark.apisurface.quantity import Quantity, format_quantity, is_quantity, parse_quantity


@pytest.mark.parametrize(
    ("text", "value", "binary"),
    [
        ("500m", "0.5", False),
        ("2", "2", False),
        (".5", "0.5", False),
        ("1.", "1", False),
        ("+1", "1", False),
        ("-300m", "-0.3", False),
        ("1Gi", str(2**30), True),
        ("1.5Gi", str(3 * 2**29), True),
        ("100M", str(10**8), False),
        ("12345n", "0.000012345", False),
        ("1e3", "1000", False),
        ("1E3", "1000", False),  # an exponent, not the exa suffix
        ("2E", str(2 * 10**18), False),  # the exa suffix
        (" 2Gi ", str(2 * 2**30), True),
    ],
)
def test_a_quantity_reads_as_apimachinery_reads_it(text: str, value: str, binary: bool) -> None:
    assert parse_quantity(text) == Quantity(Decimal(value), binary)


def test_numbers_as_yaml_gives_them_are_quantities() -> None:
    assert parse_quantity(1) == Quantity(Decimal(1), False)
    assert parse_quantity(0.5) == Quantity(Decimal("0.5"), False)


@pytest.mark.parametrize("text", ["", "lots", "1.5.3", "Ki", "1i", "1 Ki", "1KiB", "1e", "e3"])
def test_what_is_not_a_quantity(text: str) -> None:
    assert parse_quantity(text) is None
    assert not is_quantity(text)
    assert parse_quantity(None) is None


@pytest.mark.parametrize(
    ("value", "binary", "text"),
    [
        ("0", True, "0"),
        (str(3 * 2**30), True, "3Gi"),
        (str(1536 * 2**20), True, "1536Mi"),
        ("0.5", False, "500m"),
        ("1500", False, "1500"),  # String() keeps the number whole: 1500, not 1.5k
        ("2000", False, "2k"),
        (str(2**30 + 1), True, str(2**30 + 1)),  # no binary suffix divides it
    ],
)
def test_quantities_are_written_as_quantity_string_writes_them(
    value: str, binary: bool, text: str
) -> None:
    assert format_quantity(Decimal(value), binary) == text
