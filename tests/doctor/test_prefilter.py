"""Fragments are found in escaped and plain text, and every regex match contains one."""

from __future__ import annotations

import re

import pytest

from kubespark.doctor.prefilter import Automaton, fragments_of_literal, fragments_of_regex
from kubespark.errors import DataError


def test_literal_fragment_avoids_characters_json_escapes() -> None:
    (frag,) = fragments_of_literal('omits key field "protocol"')
    assert frag == "omits key field "
    (frag,) = fragments_of_literal("?fieldManager=fabric8&force=true")
    assert frag == "?fieldManager=fabric8"
    assert frag in r"svc?fieldManager=fabric8\u0026force=true"


@pytest.mark.parametrize(
    ("pattern", "texts"),
    [
        (
            r'associative list with keys has an element that omits key field \\?"protocol\\?"',
            [
                ".spec.ports: element 0: associative list with keys has an element that omits key "
                'field "protocol"'
            ],
        ),
        (r"415|Unsupported Media Type", ["HTTP 415", "Unsupported Media Type"]),
        (r"^\s*\.?immutable: field not declared", ["  .immutable: field not declared in schema"]),
        (r"exit(?:ed with)? code (?:137|143)", ["exited with exit code 137", "exit code 143"]),
    ],
)
def test_every_match_of_a_regex_contains_one_of_its_fragments(
    pattern: str, texts: list[str]
) -> None:
    frags = fragments_of_regex(pattern)
    for text in texts:
        m = re.search(pattern, text)
        assert m, text
        assert any(f in m.group(0) for f in frags), (frags, text)


def test_a_regex_with_no_required_literal_is_refused() -> None:
    with pytest.raises(DataError, match="requires no literal"):
        fragments_of_regex(r"(?:foo)?\d+")
    with pytest.raises(DataError, match="requires no literal"):
        fragments_of_regex(r"abc|\d+")


def test_a_case_insensitive_regex_is_refused() -> None:
    with pytest.raises(DataError, match="case-insensitive"):
        fragments_of_regex(r"(?i)oomkilled")


def test_automaton_reports_every_owner_of_overlapping_fragments() -> None:
    pairs = [("failed", 1), ("failed to create typed patch object", 2), ("failed", 3)]
    auto = Automaton.build(pairs)
    assert auto.owners_in(b"x failed to create typed patch object") == {1, 2, 3}
    assert auto.owners_in(b"nothing here") == set()
