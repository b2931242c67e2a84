"""Bad input gets the Status a real server gives, and the server keeps serving."""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest
from emu_helpers import Served, configmap

CMS = "/api/v1/namespaces/default/configmaps"


async def test_malformed_json_is_a_400(api: Served) -> None:
    _, client = api
    resp = await client.post(CMS, content=b"hello", headers={"Content-Type": "application/json"})
    assert resp.status_code == 400
    assert resp.json()["message"] == (
        "couldn't get version/kind; json parse error: invalid character 'h' looking for "
        "beginning of value"
    )
    assert resp.json()["reason"] == "BadRequest"


async def test_wrong_content_type_is_a_415(api: Served) -> None:
    _, client = api
    resp = await client.post(CMS, content=b"{}", headers={"Content-Type": "text/plain"})
    assert resp.status_code == 415
    assert resp.json()["message"] == (
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json, application/yaml, application/vnd.kubernetes.protobuf"
    )
    patch = await client.patch(
        f"{CMS}/x", content=b"{}", headers={"Content-Type": "application/json"}
    )
    assert patch.status_code == 415
    assert "application/strategic-merge-patch+json" in patch.json()["message"]


async def test_oversized_body_is_a_413(api: Served) -> None:
    _, client = api
    big = configmap("big")
    big["data"] = {"k": "x" * (3 * 1024 * 1024)}
    resp = await client.post(CMS, json=big)
    assert resp.status_code == 413
    assert resp.json()["message"] == "Request entity too large: limit is 3145728"
    assert resp.json()["reason"] == "RequestEntityTooLarge"


async def test_unknown_paths_and_verbs(api: Served) -> None:
    _, client = api
    plain = await client.get("/no/such/thing")
    assert (plain.status_code, plain.text) == (404, "404 page not found\n")
    resource = await client.get("/api/v1/namespaces/default/widgets")
    assert resource.status_code == 404
    assert resource.json()["message"] == "the server could not find the requested resource"
    group = await client.get("/apis/example.com/v1")
    assert group.status_code == 404
    put_collection = await client.put(CMS, json=configmap("a"))
    assert put_collection.status_code == 405
    assert put_collection.json()["message"] == (
        "the server does not allow this method on the requested resource"
    )
    post_item = await client.post(f"{CMS}/a", json=configmap("a"))
    assert post_item.status_code == 405


async def test_kind_and_version_mismatches_are_400(api: Served) -> None:
    _, client = api
    wrong_kind = dict(configmap("a"), kind="Secret")
    resp = await client.post(CMS, json=wrong_kind)
    assert resp.status_code == 400
    wrong_version = dict(configmap("a"), apiVersion="apps/v1")
    resp = await client.post(CMS, json=wrong_version)
    assert resp.status_code == 400
    assert "does not match the expected API version (v1)" in resp.json()["message"]
    other_ns = configmap("a")
    other_ns["metadata"]["namespace"] = "kube-system"
    resp = await client.post(CMS, json=other_ns)
    assert resp.json()["message"] == (
        "the namespace of the provided object does not match the namespace sent on the request"
    )


async def test_wrong_value_types_fail_decoding(api: Served) -> None:
    _, client = api
    body = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": "not a list"},
    }
    resp = await client.post("/api/v1/namespaces/default/pods", json=body)
    assert resp.status_code == 400
    assert resp.json()["message"].startswith('Pod in version "v1" cannot be handled as a Pod:')
    assert "spec.containers" in resp.json()["message"]


async def test_not_acceptable(api: Served) -> None:
    _, client = api
    resp = await client.get(CMS, headers={"Accept": "application/vnd.kubernetes.protobuf"})
    assert resp.status_code == 406


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"null",
        b"[]",
        b"[1,2]",
        b"42",
        b'"s"',
        b"{",
        b"\xff\xfe\x00",
        b'{"metadata": 5}',
        b'{"metadata": {"name": 5}}',
        b'{"metadata": {"labels": [1]}}',
        b"{" * 5000,
        b'{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "z"}, "data": [1]}',
    ],
)
async def test_junk_bodies_never_crash_the_server(api: Served, body: bytes) -> None:
    _, client = api
    resp = await client.post(CMS, content=body, headers={"Content-Type": "application/json"})
    assert 400 <= resp.status_code < 500, resp.text
    assert resp.json()["kind"] == "Status"
    assert (await client.get("/version")).status_code == 200


async def test_random_requests_keep_the_server_serving(api: Served) -> None:
    _, client = api
    rng = random.Random(7)
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]
    paths = [
        CMS,
        f"{CMS}/x",
        "/api/v1/pods",
        "/apis/apps/v1/deployments",
        "/api/v1/namespaces",
        "/apis",
        "/openapi/v2",
        "/api/v1/namespaces/default/pods/x/log",
        "/%00",
        "/api/v9",
    ]
    media = [
        "application/json",
        "application/yaml",
        "text/plain",
        "application/merge-patch+json",
        "application/apply-patch+yaml",
        "",
    ]
    for _ in range(200):
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(64)))
        resp = await client.request(
            rng.choice(methods),
            rng.choice(paths),
            content=body,
            headers={
                "Content-Type": rng.choice(media),
                "Accept": rng.choice(["*/*", "application/json", "text/html", "application/yaml"]),
            },
            params={
                "watch": rng.choice(["", "x"]),
                "labelSelector": rng.choice(["", "a in"]),
                "timeoutSeconds": "1",
            },
        )
        assert resp.status_code < 500 or (resp.status_code == 500 and _is_status(resp))
    assert (await client.get("/version")).status_code == 200


def _is_status(resp: httpx.Response) -> bool:
    try:
        body: Any = resp.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("kind") == "Status"


async def test_unknown_fields_dropped_silently_before_field_validation(api: Served) -> None:
    _, client = api
    body = dict(configmap("u"), extra="field")
    body["metadata"]["bogus"] = 1
    resp = await client.post(CMS, json=body, params={"fieldValidation": "Strict"})
    assert resp.status_code == 201  # 1.19 does not know the parameter
    assert "extra" not in resp.json() and "bogus" not in resp.json()["metadata"]
    assert "warning" not in resp.headers


async def test_field_validation_strict_warn_ignore(serve: Any) -> None:
    async with serve("1.27") as (_, client):
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p"},
            "spec": {"foo": 1, "containers": [{"name": "c", "image": "i", "bar": 2}]},
        }
        strict = await client.post(
            "/api/v1/namespaces/default/pods", json=pod, params={"fieldValidation": "Strict"}
        )
        assert strict.status_code == 400
        # The decode error the apiserver wraps, as behaviours.yaml words it (with its source).
        head = 'Pod in version "v1" cannot be handled as a Pod: strict decoding error: '
        assert strict.json()["message"] in (
            head + 'unknown field "spec.containers[0].bar", unknown field "spec.foo"',
            head + 'unknown field "spec.foo", unknown field "spec.containers[0].bar"',
        )
        warn = await client.post(
            "/api/v1/namespaces/default/pods", json=pod, params={"fieldValidation": "Warn"}
        )
        assert warn.status_code == 201
        assert '299 - "unknown field \\"spec.foo\\""' in warn.headers.get_list("warning")
        cm = dict(configmap("i"), extra=1)
        ignore = await client.post(CMS, json=cm, params={"fieldValidation": "Ignore"})
        assert ignore.status_code == 201 and "warning" not in ignore.headers
        default = await client.post(CMS, json=dict(configmap("d"), extra=1))
        assert default.headers.get("warning") == '299 - "unknown field \\"extra\\""'
