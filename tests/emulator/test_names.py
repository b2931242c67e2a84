"""ObjectMeta's name checks as apimachinery makes them: the rule per kind, and generateName."""

from __future__ import annotations

import pytest

from kubespark.emulator.apiserver.facts import server_facts
from kubespark.emulator.apiserver.names import check_name
from kubespark.versions import parse_kube_version

FACTS = server_facts(parse_kube_version("1.30"))


def _fields(name: str, prefix: str, rule: str) -> list[tuple[str, str]]:
    return [(e.field, e.detail) for e in check_name(name, prefix, rule, FACTS)]


@pytest.mark.parametrize(
    ("prefix", "rule", "bad"),
    [
        ("ok-", "dns1123-subdomain", False),  # the trailing dash a suffix follows is fine
        ("-", "dns1123-subdomain", True),  # too short to mask: still a lone dash
        ("a.-", "dns1123-subdomain", False),  # maskTrailingDash's quirk: "a.-" is judged as "aa"
        ("x/-", "path-segment", True),  # path segments are not masked: the '/' stays
        (".", "path-segment", False),  # a prefix may be "." (the suffix follows it)
        ("Upper-", "dns1123-label", True),
    ],
)
def test_generate_name_prefixes(prefix: str, rule: str, bad: bool) -> None:
    generated = prefix + "abcde" if not bad else "okname"
    found = [f for f, _ in _fields(generated, prefix, rule)]
    assert ("metadata.generateName" in found) is bad


def test_no_name_and_no_prefix_is_required() -> None:
    assert _fields("", "", "dns1123-subdomain") == [
        ("metadata.name", "name or generateName is required")
    ]


def test_a_bad_prefix_fails_both_fields() -> None:
    found = _fields("UPPERabcde", "UPPER-", "dns1123-subdomain")
    assert [f for f, _ in found] == ["metadata.generateName", "metadata.name"]
