"""Reading manifests: streams, Lists, JSON, lines of objects and fields, bad input."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from kubespark.compat.manifests import (
    Document,
    InputProblem,
    expand_paths,
    read_documents,
    read_inputs,
)

STREAM = """\
# Source: chart/templates/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  when: 2020-01-01T00:00:00Z
  octal: 010
  answer: yes
  quoted: "yes"
  number: '5'
---
# Source: chart/templates/svc.yaml
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports:
  - name: http
    port: 80
  - name: https
    port: 443
---
---
"""


def docs(text: str, **kw: Any) -> list[Document | InputProblem]:
    return list(read_documents(text, "in.yaml", **kw))


def test_a_stream_gives_each_object_with_its_first_line() -> None:
    out = docs(STREAM)
    assert [(d.line, d.obj["kind"]) for d in out if isinstance(d, Document)] == [
        (2, "ConfigMap"),
        (14, "Service"),
    ]
    assert len(out) == 2, "empty documents (a trailing ---) are skipped, not reported"


def test_values_read_as_kubectl_reads_them() -> None:
    (config_map, _) = docs(STREAM)
    assert isinstance(config_map, Document)
    assert config_map.obj["data"] == {
        "when": "2020-01-01T00:00:00Z",  # timestamps stay strings (sigs.k8s.io/yaml)
        "octal": 8,  # YAML 1.1, as go-yaml v2 reads it
        "answer": True,
        "quoted": "yes",
        "number": "5",
    }


def test_field_lines_follow_the_path() -> None:
    (_, service) = docs(STREAM)
    assert isinstance(service, Document)
    assert service.line_of(".metadata.name") == 17
    assert service.line_of(".spec.ports[1].port") == 23
    assert service.line_of(".spec.ports[1]") == 22
    assert service.line_of('.spec.ports[name="https"].port') == 23  # server-side apply paths
    assert service.line_of(".spec.nothing.here") == 18  # the deepest part that exists: .spec
    assert service.line_of("") == 14


def test_list_items_are_objects_with_their_own_lines() -> None:
    text = """\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Secret
  metadata:
    name: a
- apiVersion: v1
  kind: ServiceAccount
  metadata:
    name: b
"""
    out = docs(text)
    assert [(d.line, d.obj["kind"]) for d in out if isinstance(d, Document)] == [
        (4, "Secret"),
        (8, "ServiceAccount"),
    ]
    second = out[1]
    assert isinstance(second, Document)
    assert second.line_of(".metadata.name") == 11


def test_a_syntax_error_is_reported_at_its_line_and_reading_goes_on() -> None:
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n"
        "---\napiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"
    )
    out = docs(text)
    problem, secret = out
    assert isinstance(problem, InputProblem)
    assert problem.line == 4 and "YAML syntax error" in problem.message
    assert "started at line 3" in problem.message
    assert isinstance(secret, Document) and secret.obj["kind"] == "Secret" and secret.line == 5


def test_a_syntax_error_in_the_last_document_ends_the_file_cleanly() -> None:
    out = docs("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n---\nkey: [unclosed\n")
    assert [type(d).__name__ for d in out] == ["Document", "InputProblem"]


def test_documents_that_are_not_objects_are_problems_with_their_line() -> None:
    out = docs("- a\n- b\n---\njust text\n---\n42\n")
    assert [(p.line, p.message.split(", got ")[1]) for p in out if isinstance(p, InputProblem)] == [
        (1, "a list"),
        (4, "a string"),
        (6, "a int"),
    ]


def test_duplicate_keys_are_named() -> None:
    (doc,) = docs("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n")
    assert isinstance(doc, Document)
    assert doc.obj["metadata"]["name"] == "b"
    assert doc.duplicates == (".metadata.name",)
    assert doc.line_of(".metadata.name") == 5  # the one that counts


def test_merge_keys_merge_and_are_not_duplicates() -> None:
    text = "base: &b {a: 1, b: 2}\nobj:\n  <<: *b\n  b: 3\n"
    (doc,) = docs(text)
    assert isinstance(doc, Document)
    assert doc.obj["obj"] == {"a": 1, "b": 3}
    assert doc.duplicates == ()


def test_json_documents_objects_lists_and_arrays() -> None:
    one = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}
    (doc,) = docs(json.dumps(one, indent=2), as_json=True)
    assert isinstance(doc, Document) and doc.obj == one
    assert doc.line_of(".metadata.name") == 5  # located lazily from the JSON text
    listed = {"apiVersion": "v1", "kind": "List", "items": [one, one]}
    assert len(docs(json.dumps(listed), as_json=True)) == 2
    assert len(docs(json.dumps([one, one, one]), as_json=True)) == 3
    (bad,) = docs('{"apiVersion": "v1",\n "kind": }', as_json=True)
    assert isinstance(bad, InputProblem) and bad.line == 2 and "JSON syntax error" in bad.message


def test_files_directories_and_stdin(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.yaml").write_text("apiVersion: v1\nkind: Secret\nmetadata: {name: a}\n")
    (tmp_path / "a" / "two.json").write_text(
        '{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "b"}}'
    )
    (tmp_path / "a" / "notes.txt").write_text("not a manifest")
    (tmp_path / "b.yml").write_text("apiVersion: v1\nkind: Secret\nmetadata: {name: c}\n")
    (tmp_path / "empty").mkdir()
    files, problems = expand_paths(
        [
            str(tmp_path / "a"),
            str(tmp_path / "b.yml"),
            "-",
            str(tmp_path / "missing.yaml"),
            str(tmp_path / "empty"),
        ]
    )
    assert files == [
        str(tmp_path / "a" / "one.yaml"),
        str(tmp_path / "a" / "two.json"),
        str(tmp_path / "b.yml"),
        "-",
    ]
    assert [p.message for p in problems] == [
        "no such file or directory",
        "the directory has no *.yaml, *.yml or *.json files",
    ]
    stdin = io.BytesIO(b"apiVersion: v1\nkind: Secret\nmetadata: {name: d}\n")
    names = [
        d.obj["metadata"]["name"] for d in read_inputs(files, stdin) if isinstance(d, Document)
    ]
    assert names == ["a", "b", "c", "d"]


def test_binary_and_non_utf8_input_are_one_problem_each(tmp_path: Path) -> None:
    (tmp_path / "junk.yaml").write_bytes(b"\x7fELF\x00\x01\x02\x03")
    (tmp_path / "latin1.yaml").write_bytes(b"apiVersion: v1\nkind: ConfigMap\ndata: {a: caf\xe9}\n")
    (tmp_path / "utf16.yaml").write_bytes(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: u}\n".encode("utf-16")
    )
    out = list(read_inputs([str(tmp_path / n) for n in ("junk.yaml", "latin1.yaml", "utf16.yaml")]))
    junk, latin1, utf16 = out
    assert isinstance(junk, InputProblem) and "binary data" in junk.message
    assert isinstance(latin1, InputProblem) and latin1.line == 3 and "not UTF-8" in latin1.message
    assert isinstance(utf16, Document) and utf16.obj["metadata"]["name"] == "u"


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=12),
)
_json = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=4),
    ),
    max_leaves=25,
)


@given(st.dictionaries(st.text(min_size=1, max_size=8), _json, min_size=1, max_size=5))
def test_the_fast_reader_reads_what_pyyaml_reads(value: dict[str, Any]) -> None:
    text = yaml.safe_dump(value, sort_keys=False)
    (doc,) = docs(text)
    assert isinstance(doc, Document)
    assert doc.obj == yaml.safe_load(text)
