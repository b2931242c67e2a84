"""The bounded reader: each limit refuses with file:line and the limit, and admits real input."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kubespark import bounded
from kubespark.bounded import LimitError, Limits

from .make_corpus import app, bomb


def refusal(text: str, limits: Limits = bounded.DEFAULT) -> LimitError:
    with pytest.raises(LimitError) as caught:
        list(bounded.load_all(text, "in.yaml", limits))
    return caught.value


def test_an_application_loads_with_its_nodes() -> None:
    [(value, node)] = list(bounded.load_all(app(), "app.yaml"))
    assert value["spec"]["executor"] == {"instances": 2, "cores": 1, "memory": "512m"}
    assert node.start_mark.line == 0


def test_a_billion_laughs_is_refused_by_its_expansion_not_its_size() -> None:
    err = refusal(bomb(9, 9))
    assert err.where == "in.yaml:7" and "expand to more than 1,000,000 nodes" in err.message


def test_anchors_used_sparingly_are_admitted() -> None:
    text = "base: &b {cpu: 1, memory: 1Gi}\na: *b\nb: {<<: *b, cpu: 2}\n"
    [(value, _)] = list(bounded.load_all(text, "in.yaml"))
    assert value["a"] == {"cpu": 1, "memory": "1Gi"} and value["b"]["cpu"] == 2


def test_too_many_aliases_are_refused() -> None:
    text = "a: &a x\nb: [" + ", ".join(["*a"] * 20) + "]\n"
    err = refusal(text, Limits(max_aliases=10))
    assert "more than 10 YAML aliases" in err.message


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("[" * 100_000 + "]" * 100_000, 1),  # crashes libyaml's composer (C stack) unchecked
        ("{a: " * 300 + "1" + "}" * 300, 1),
        ("".join(" " * i + "a:\n" for i in range(300)) + " " * 300 + "b\n", 201),
        ("- " * 300 + "x\n", 1),
    ],
)
def test_deep_nesting_is_refused_at_its_line(text: str, line: int) -> None:
    err = refusal(text)
    assert err.where == f"in.yaml:{line}" and "nested deeper than 200 levels" in err.message


def test_nesting_as_deep_as_a_crd_schema_is_admitted() -> None:
    text = "x: " + "{properties: {a: " * 60 + "{type: string}" + "}}" * 60 + "\n"
    assert len(list(bounded.load_all(text, "crd.yaml"))) == 1


@pytest.mark.parametrize(
    "digits", ["9" * 5_001, "-" + "1" * 100, "1_" * 5_000 + "1", "1" + ":59" * 40]
)
def test_long_integers_are_refused(digits: str) -> None:
    err = refusal(f"a: 1\nb: {digits}\n")
    assert err.where == "in.yaml:2" and "digits (limit 64)" in err.message


def test_a_long_quoted_number_is_a_string() -> None:
    [(value, _)] = list(bounded.load_all(f'a: "{"9" * 5_001}"\n', "in.yaml"))
    assert value["a"] == "9" * 5_001


def test_too_many_documents_are_refused() -> None:
    err = refusal("a: 1\n---\n" * 20, Limits(max_documents=10))
    assert "more than 10 documents" in err.message


def test_a_long_line_is_refused_before_parsing() -> None:
    with pytest.raises(LimitError) as caught:
        bounded.decode(b"a: 1\nb: " + b"x" * 2_000 + b"\n", "in.yaml", Limits(max_line=1_000))
    assert caught.value.where == "in.yaml:2" and "line longer than" in caught.value.message


def test_a_large_file_is_refused_reading_one_byte_past_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"# x\n" * 1_000)
    with pytest.raises(LimitError) as caught:
        bounded.read_bytes(path, Limits(max_bytes=100))
    assert caught.value.where == str(path) and "larger than 100 bytes" in caught.value.message


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ("a: é\n".encode(), "a: é\n"),
        (b"\xef\xbb\xbfa: 1\n", "a: 1\n"),
        ("a: é\n".encode("utf-16"), "a: é\n"),
        (b"\xfe\xff" + "a: é\n".encode("utf-16-be"), "a: é\n"),
    ],
)
def test_utf8_and_utf16_with_a_bom_are_read(data: bytes, text: str) -> None:
    assert bounded.decode(data, "in.yaml") == text


def test_other_bytes_are_refused_at_their_line() -> None:
    with pytest.raises(LimitError) as caught:
        bounded.decode(b"a: 1\nb: \xff\n", "in.yaml")
    assert caught.value.where == "in.yaml:2"
    assert "not UTF-8 text (byte 0xff)" in caught.value.message


def test_json_integers_and_depth_are_bounded() -> None:
    assert bounded.load_json('{"a": [1, 2]}', "in.json") == {"a": [1, 2]}
    with pytest.raises(LimitError, match="digits"):
        bounded.load_json('{"a": ' + "1" * 65 + "}", "in.json")
    with pytest.raises(LimitError, match="nested deeper"):
        bounded.load_json("[" * 100_000 + "]" * 100_000, "in.json")


def test_syntax_errors_are_left_to_the_parser() -> None:
    with pytest.raises(yaml.YAMLError):
        list(bounded.load_all("a: [1, 2\n" + "&x " * 10, "in.yaml"))
