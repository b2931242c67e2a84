"""JSON patch (RFC 6902 Appendix A) and merge patch (RFC 7386 Appendix A), as servers apply them.

Server answers from k8s.io/apiserver pkg/endpoints/handlers/patch.go: a JSON patch that does
not apply is a 422 with the generic "the server rejected our request due to an error in our
request" (NewGenericServerResponse keeps no detail; kubectl prints "The request is invalid"),
an undecodable one a 400 with Go's decoder text, more than 10,000 operations a 413; a merge
patch that is not an object is "Invalid JSON Patch" (evanphx/json-patch ErrBadJSONPatch).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from kubespark.apisurface import load_surface
from kubespark.kube.errors import BadRequest, Invalid, RequestEntityTooLarge
from kubespark.patch import PatchTarget, apply_patch
from kubespark.patch.json_patch import JSONPatchError, apply_json_patch, decode_json_patch
from kubespark.patch.merge_patch import apply_merge_patch

# RFC 6902 Appendix A: (document, patch, result or None when the patch must fail).
RFC6902: list[tuple[Any, list[dict[str, Any]], Any]] = [
    (
        {"foo": "bar"},
        [{"op": "add", "path": "/baz", "value": "qux"}],
        {"baz": "qux", "foo": "bar"},
    ),  # A.1
    (
        {"foo": ["bar", "baz"]},
        [{"op": "add", "path": "/foo/1", "value": "qux"}],
        {"foo": ["bar", "qux", "baz"]},
    ),  # A.2
    ({"baz": "qux", "foo": "bar"}, [{"op": "remove", "path": "/baz"}], {"foo": "bar"}),  # A.3
    (
        {"foo": ["bar", "qux", "baz"]},
        [{"op": "remove", "path": "/foo/1"}],
        {"foo": ["bar", "baz"]},
    ),  # A.4
    (
        {"baz": "qux", "foo": "bar"},
        [{"op": "replace", "path": "/baz", "value": "boo"}],
        {"baz": "boo", "foo": "bar"},
    ),  # A.5
    (
        {"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
        [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}],
        {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}},
    ),  # A.6
    (
        {"foo": ["all", "grass", "cows", "eat"]},
        [{"op": "move", "from": "/foo/1", "path": "/foo/3"}],
        {"foo": ["all", "cows", "eat", "grass"]},
    ),  # A.7
    (
        {"baz": "qux", "foo": ["a", 2, "c"]},
        [
            {"op": "test", "path": "/baz", "value": "qux"},
            {"op": "test", "path": "/foo/1", "value": 2},
        ],
        {"baz": "qux", "foo": ["a", 2, "c"]},
    ),  # A.8
    ({"baz": "qux"}, [{"op": "test", "path": "/baz", "value": "bar"}], None),  # A.9
    (
        {"foo": "bar"},
        [{"op": "add", "path": "/child", "value": {"grandchild": {}}}],
        {"foo": "bar", "child": {"grandchild": {}}},
    ),  # A.10
    (
        {"foo": "bar"},
        [{"op": "add", "path": "/baz", "value": "qux", "xyz": 123}],
        {"foo": "bar", "baz": "qux"},
    ),  # A.11
    ({"foo": "bar"}, [{"op": "add", "path": "/baz/bat", "value": "qux"}], None),  # A.12
    ({"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": 10}], {"/": 9, "~1": 10}),  # A.14
    ({"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": "10"}], None),  # A.15
    (
        {"foo": ["bar"]},
        [{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}],
        {"foo": ["bar", ["abc", "def"]]},
    ),  # A.16
]


@pytest.mark.parametrize(("doc", "patch", "expected"), RFC6902)
def test_rfc6902_appendix_a(doc: Any, patch: list[dict[str, Any]], expected: Any) -> None:
    if expected is None:
        with pytest.raises(JSONPatchError):
            apply_json_patch(doc, patch)
    else:
        assert apply_json_patch(doc, patch) == expected


def test_json_patch_library_quirks_servers_keep() -> None:
    # evanphx/json-patch v4: replacing an absent member adds it; negative indexes count back;
    # removing an absent member fails; the document is never modified in place.
    doc = {"a": [1, 2, 3]}
    assert apply_json_patch(doc, [{"op": "replace", "path": "/b", "value": 1}]) == {
        "a": [1, 2, 3],
        "b": 1,
    }
    assert apply_json_patch(doc, [{"op": "remove", "path": "/a/-1"}]) == {"a": [1, 2]}
    with pytest.raises(JSONPatchError):
        apply_json_patch(doc, [{"op": "remove", "path": "/b"}])
    with pytest.raises(JSONPatchError, match="Unexpected kind: jump"):
        apply_json_patch(doc, [{"op": "jump", "path": "/a"}])
    assert doc == {"a": [1, 2, 3]}


# RFC 7386 Appendix A, for object documents and object patches (what reaches the server).
RFC7386 = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    ({"a": "b"}, ["c"], ["c"]),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("doc", "patch", "expected"), RFC7386)
def test_rfc7386_appendix_a(doc: Any, patch: Any, expected: Any) -> None:
    assert apply_merge_patch(doc, patch) == expected


def _target() -> tuple[Any, PatchTarget, dict[str, Any]]:
    surface = load_surface("1.21")
    resource = surface.resource("v1", "ConfigMap")
    assert resource is not None
    live = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "namespace": "default", "uid": "u"},
        "data": {"a": "1"},
    }
    return surface, PatchTarget.for_resource(resource, "c", "default"), live


def test_json_patch_through_the_server(now: datetime) -> None:
    surface, target, live = _target()
    kwargs: dict[str, Any] = {"content_type": "application/json-patch+json", "now": now}
    ok = apply_patch(
        surface, target, live, '[{"op": "add", "path": "/data/b", "value": "2"}]', **kwargs
    )
    assert ok.object["data"] == {"a": "1", "b": "2"}
    with pytest.raises(Invalid) as failed:
        apply_patch(surface, target, live, '[{"op": "remove", "path": "/data/zzz"}]', **kwargs)
    assert failed.value.status.to_wire() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "the server rejected our request due to an error in our request",
        "reason": "Invalid",
        "details": {},
        "code": 422,
    }
    with pytest.raises(BadRequest) as undecodable:
        apply_patch(surface, target, live, '{"op": "add"}', **kwargs)
    assert undecodable.value.status.message == (
        "json: cannot unmarshal object into Go value of type jsonpatch.Patch"
    )
    with pytest.raises(BadRequest) as syntax:
        apply_patch(surface, target, live, "[{]", **kwargs)
    assert syntax.value.status.message == (
        "invalid character ']' looking for beginning of object key string"
    )
    many = json.dumps([{"op": "test", "path": "/kind", "value": "ConfigMap"}] * 10001)
    with pytest.raises(RequestEntityTooLarge) as large:
        apply_patch(surface, target, live, many, **kwargs)
    assert large.value.status.message == (
        "Request entity too large: The allowed maximum operations in a JSON patch is 10000, "
        "got 10001"
    )


def test_merge_patch_through_the_server(now: datetime) -> None:
    surface, target, live = _target()
    kwargs: dict[str, Any] = {"content_type": "application/merge-patch+json", "now": now}
    result = apply_patch(surface, target, live, '{"data": {"a": null, "b": "2"}}', **kwargs)
    assert result.object["data"] == {"b": "2"}
    for body in ("null", '"text"', "{nope"):
        with pytest.raises(BadRequest) as caught:
            apply_patch(surface, target, live, body, **kwargs)
        assert caught.value.status.message == "Invalid JSON Patch"


def test_decode_json_patch_takes_null_as_no_operations() -> None:
    assert decode_json_patch("null") == []
