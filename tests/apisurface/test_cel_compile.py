"""CEL compiled to Python: CEL's answers (the spec's, not Python's), refusals, RE2, the cache.

What each case expects is CEL's (cel-spec langdef, cel-go as the API server runs it); where
celpy differs it says so. The rules of webhook_rules.yaml are compared with celpy on generated
documents in tests/spark/test_webhook_rules_compiled.py.
"""

from __future__ import annotations

import datetime
import pickle
import re
from pathlib import Path
from typing import Any

import pytest
import re2

from kubespark.apisurface import cel, cel_compile
from kubespark.apisurface.cel_compile import Refused, compiled, python_source
from kubespark.apisurface.cel_runtime import ERR
from kubespark.spark.rules import webhook_rules

pytestmark = pytest.mark.usefixtures("own_caches")


def _value(expression: str, value: Any = None) -> Any:
    program = compiled("test", [("t", expression)])
    assert program.refused == {}
    return program.evaluate(expression, value)


SELF = {"a": 1, "s": "x", "l": [1, "a"], "m": {"k": None}, "t": True, "d": 1.5}

CEL = [
    # && and || absorb an error from either side when the other decides, and only then.
    ("false && self.missing", False),
    ("self.missing && false", False),
    ("true || self.missing", True),
    ("self.missing || true", True),
    ("self.missing && true", ERR),
    ("false || self.missing", ERR),
    ("self.missing || self.missing", ERR),
    ("false || self.a", ERR),  # no truthiness: an int is no bool (celpy gives 1)
    ("!self.a", ERR),
    ("!self.s", ERR),
    ("self.a ? 1 : 2", ERR),
    ("self.t ? self.missing : 2", ERR),
    ("!self.t ? self.missing : 2", 2),
    # Heterogeneous equality: a bool is no number (celpy: true == 1), 1 == 1.0.
    ("self.a == true", False),
    ("self.t == 1", False),
    ("self.a == 1.0", True),
    ("self.s == 1", False),
    ("self.m.k == null", True),
    ("self.l == [1, 'a']", True),
    ("self.l == ['a', 1]", False),
    ("self.m == {'k': null}".replace("{'k': null}", "self.m"), True),
    ("self.missing == 1", ERR),
    # Ordering: numbers across int and double, strings, bools; nothing else.
    ("self.a < 1.5", True),
    ("self.t < 2", ERR),  # celpy: true (bool is an int in Python)
    ("'a' < 'b'", True),
    ("'a' < 1", ERR),
    ("self.m.k <= 1", ERR),
    ("false < true", True),
    # + concatenates strings and lists, adds ints (overflow is an error) or doubles.
    ("'a' + 'b'", "ab"),
    ("'a' + self.a", ERR),
    ("self.a + 1.0", ERR),
    ("9223372036854775807 + self.a", ERR),
    ("[1] + [2]", [1, 2]),
    # in: a list's element, a map's key; not a substring (celpy: 'a' in 'abc' holds).
    ("'a' in self.l", True),
    ("1.0 in self.l", True),
    ("'k' in self.m", True),
    ("'x' in self.s", ERR),
    # Access: a missing key or a non-map is an error; has() is false there (celpy's reading).
    ("self.missing", ERR),
    ("self.s.x", ERR),
    ("has(self.a)", True),
    ("has(self.missing)", False),
    ("has(self.missing.x)", False),
    ("has(self.s.x)", False),
    ("self.l[1]", "a"),
    ("self.l[2]", ERR),
    ("self.l[-1]", ERR),  # celpy: 'a' (Python's negative index)
    ("self.l[true]", ERR),
    ("self['a']", 1),
    ("self.m['x']", ERR),
    ("[self.missing, 1]", ERR),
    # size() counts code points.
    ("size('héllo')", 5),
    ("size(self.l)", 2),
    ("size(self.a)", ERR),
    ("size(self.m.k)", ERR),  # celpy: 0
    # string() as cel-go: true, not True; a double as Go's %g; no string of null or a list.
    ("string(self.t)", "true"),
    ("string(self.a)", "1"),
    ("string(self.d)", "1.5"),
    ("string(3.0)", "3"),
    ("string(1e20)", "1e+20"),
    ("string(1234567.0)", "1.234567e+06"),
    ("string(0.00001)", "1e-05"),
    ("string(self.m.k)", ERR),  # celpy: 'None'
    ("string(self.l)", ERR),  # celpy: 'ListType([...])'
    # Macros: all/exists fold as &&/||, exists_one and filter are strict, strings are no range.
    ("self.l.all(x, x == 1)", False),
    ("[1, 'a'].all(x, x > 0)", ERR),
    ("['a', 0].all(x, x > 0)", False),
    ("['a', 2].exists(x, x > 1)", True),
    ("['a', 0].exists(x, x > 1)", ERR),
    ("[1, 2, 1].exists_one(x, x == 2)", True),
    ("[1, 'a'].exists_one(x, x > 0)", ERR),
    ("[1, 'a'].filter(x, x > 0)", ERR),
    ("[3, 1, 2].filter(x, x > 1)", [3, 2]),
    ("self.m.all(k, k == 'k')", True),
    ("self.s.all(c, true)", ERR),  # celpy: true (a string's characters)
    ("self.l.exists(o, self.l.exists_one(p, p == o))", True),
    # matches: RE2 search (unanchored), on strings only.
    ("'xabcx'.matches('abc')", True),
    ("'abc\\n'.matches('^abc$')", False),  # Python's $ would match before the newline
    ("' 1\\v'.matches('^\\\\s*1\\\\s*$')", False),  # RE2's \\s has no \\v
    ("self.a.matches('1')", ERR),
]


@pytest.mark.parametrize(("expression", "expected"), CEL, ids=[c[0] for c in CEL])
def test_compiled_cel_answers_as_cel(expression: str, expected: Any) -> None:
    got = _value(expression, SELF)
    assert got == expected and type(got) is type(expected)


REFUSED = [
    ("1 - 2", "addition_sub"),
    ("2 * 3", "multiplication"),
    ("-self.a", "unary_neg"),
    ("self.s.startsWith('a')", "startsWith"),
    ("{'a': 1}", "map_lit"),
    ("1u", "UINT_LIT"),
    ("b'x'", "BYTES_LIT"),
    ("r'x'", "r'x'"),
    ("int(self.s)", "int()"),
    ("other", "'other'"),
    ("self.l.map(x, x)", "map()"),
    ("self.l.all(self, true)", "macro variable"),
    ("self.s.matches(self.p)", "not a literal"),
    ("self.s.matches('\\\\w')", "escape \\w"),
    ("self.s.matches('a{2}')", "counted repetition"),
    ("self.s.matches('[^a]')", "negated"),
    ("self.s.matches('(?m)^a')", "group flag"),
    ("has(self)", "field selection"),
    ("self.", "not CEL"),
]


@pytest.mark.parametrize(("expression", "what"), REFUSED, ids=[c[0] for c in REFUSED])
def test_constructs_outside_the_subset_are_refused_naming_the_rule(
    expression: str, what: str
) -> None:
    with pytest.raises(Refused) as refused:
        python_source(expression, "my-rule")
    assert str(refused.value).startswith("my-rule: ")
    assert what in str(refused.value)


def test_a_refused_expression_is_left_to_celpy() -> None:
    refused, fine = "self.s.startsWith('x')", "has(self.s)"
    program = compiled("test", [("starts", refused), ("has", fine)])
    assert set(program.functions) == {fine}
    assert "starts: the method startsWith()" in program.refused[refused]
    assert program.holds(refused, {"s": "xy"}) and not program.holds(refused, {"s": "yx"})
    assert program.message("self.s + string(size(self.s))", {"s": "a"}) == "a1"  # not compiled


def test_values_celpy_binds_differently_go_to_celpy() -> None:
    program = compiled("test", [("t", "string(self.a) == 'x'")])
    stamp = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    for value in ({"a": stamp}, {"a": 2**64}):
        assert program.holds("string(self.a) == 'x'", value) == cel.holds(
            "string(self.a) == 'x'", value
        )


def test_a_message_is_one_nonempty_line_or_none() -> None:
    program = compiled("test", [("m", "self")])
    assert program.message("self", "refused: x") == "refused: x"
    for value in ("", "  ", "two\nlines", 1, None, ["a"]):
        assert program.message("self", value) is None


def _patterns() -> set[str]:
    found = set()
    for rule in webhook_rules():
        for expression in (rule.rule, rule.message_expression):
            found |= set(re.findall(r"matches\('((?:[^'\\]|\\.)*)'\)", expression))
    return {p.replace("\\\\", "\\") for p in found}


TRICKY = [
    "", "a", "abc", "abc\n", "a\nb", "\nabc", "Abc", "a-b", "a-", "-a", "a" * 64, "é", "ａ",
    "3", "3.5.1", "v3.0", "v30", "2.4", "10", "3\n", "٣", "3x", "v", ".3",
    "1g", " 1G ", "1gb", "1GB", "1 g", "1\v", "1\t", "1\n", "\n1\n", "1\u212a", "1\u212ab", "１g",
    "1ſ", "1\u00a0", "1\u2028", "10pb", "1bb", "1k\r",
]  # fmt: skip


@pytest.mark.parametrize("pattern", sorted(_patterns()))
def test_the_data_files_patterns_search_as_re2_does(pattern: str) -> None:
    literal = pattern.replace("\\", "\\\\")  # as a CEL string literal writes it
    program = compiled("test", [("p", f"self.matches('{literal}')")])
    expression = next(iter(program.functions))
    for text in TRICKY:
        assert program.evaluate(expression, text) is (re2.search(pattern, text) is not None), text


def test_the_cache_entry_is_read_without_compiling(monkeypatch: pytest.MonkeyPatch) -> None:
    first = compiled("test", [("t", "self.a == 1")])
    directory = Path(cel_compile.user_cache_dir("cel"))
    entries = sorted(directory.glob("test-*.pickle"))
    assert len(entries) == 1

    def no_build(*_: object) -> object:
        raise AssertionError("compiled again")

    with monkeypatch.context() as patch:
        patch.setattr(cel_compile, "_build", no_build)
        again = compiled("test", [("t", "self.a == 1")])
    assert again.holds("self.a == 1", {"a": 1}) and first.holds("self.a == 1", {"a": 1})
    compiled("test", [("t", "self.a == 2")])  # other expressions: another entry
    assert len(sorted(directory.glob("test-*.pickle"))) == 2


def test_an_entry_that_is_no_code_of_ours_is_compiled_again() -> None:
    compiled("test", [("t", "self.a == 1")])
    (entry,) = Path(cel_compile.user_cache_dir("cel")).glob("test-*.pickle")
    entry.write_bytes(pickle.dumps((b"not marshalled code", {})))
    assert compiled("test", [("t", "self.a == 1")]).holds("self.a == 1", {"a": 1})
