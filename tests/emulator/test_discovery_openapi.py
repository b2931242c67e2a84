"""Discovery and OpenAPI as each version served them."""

from __future__ import annotations

from typing import Any

import pytest
from emu_helpers import Served

AGGREGATED = (
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"
)


async def test_legacy_discovery(api: Served) -> None:
    _, client = api
    assert (await client.get("/api")).json()["versions"] == ["v1"]
    groups = {g["name"]: g for g in (await client.get("/apis")).json()["groups"]}
    assert groups["apps"]["preferredVersion"] == {"groupVersion": "apps/v1", "version": "v1"}
    # 1.19 serves policy/v1beta1 only (policy/v1 arrived in 1.21)
    assert [v["version"] for v in groups["policy"]["versions"]] == ["v1beta1"]
    core = {r["name"]: r for r in (await client.get("/api/v1")).json()["resources"]}
    assert core["pods"]["namespaced"] is True and "po" in core["pods"]["shortNames"]
    assert core["pods/status"]["verbs"] == ["get", "patch", "update"]
    assert core["pods/log"]["kind"] == "Pod"
    assert core["namespaces"]["namespaced"] is False
    group = (await client.get("/apis/apps")).json()
    assert group["kind"] == "APIGroup" and group["name"] == "apps"


async def test_discovery_follows_the_version(serve: Any) -> None:
    async with serve("1.21") as (_, client):
        groups = {g["name"]: g for g in (await client.get("/apis")).json()["groups"]}
        assert "v1" in [v["version"] for v in groups["policy"]["versions"]]
        assert (await client.get("/apis/policy/v1")).status_code == 200
    async with serve("1.19") as (_, client):
        assert (await client.get("/apis/policy/v1")).status_code == 404


@pytest.mark.parametrize(
    ("version", "aggregated"), [("1.19", None), ("1.27", "v2beta1"), ("1.30", "v2")]
)
async def test_aggregated_discovery_only_where_served(
    serve: Any, version: str, aggregated: str | None
) -> None:
    async with serve(version) as (_, client):
        resp = await client.get("/apis", headers={"Accept": AGGREGATED})
        core = await client.get("/api", headers={"Accept": AGGREGATED})
    if aggregated is None:
        assert resp.headers["content-type"] == "application/json"
        assert resp.json()["kind"] == "APIGroupList"
        return
    assert resp.headers["content-type"] == (
        f"application/json;g=apidiscovery.k8s.io;v={aggregated};as=APIGroupDiscoveryList"
    )
    body = resp.json()
    assert body["kind"] == "APIGroupDiscoveryList"
    apps = next(i for i in body["items"] if i["metadata"].get("name") == "apps")
    deployments = next(
        r for r in apps["versions"][0]["resources"] if r["resource"] == "deployments"
    )
    assert deployments["scope"] == "Namespaced"
    assert {
        "subresource": "scale",
        "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
        "verbs": ["get", "patch", "update"],
    } in deployments["subresources"]
    pods = next(
        r for r in core.json()["items"][0]["versions"][0]["resources"] if r["resource"] == "pods"
    )
    assert pods["responseKind"] == {"group": "", "version": "v1", "kind": "Pod"}


async def test_aggregated_only_accept_is_406_before_it_existed(api: Served) -> None:
    _, client = api
    only = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    resp = await client.get("/apis", headers={"Accept": only})
    assert resp.status_code == 406
    assert resp.json()["message"].startswith("only the following media types are accepted")


async def test_openapi_v2_json_describes_the_version(api: Served) -> None:
    _, client = api
    doc = (await client.get("/openapi/v2")).json()
    assert doc["swagger"] == "2.0" and doc["info"]["version"] == "v1.19.0"
    spec = doc["definitions"]["io.k8s.api.core.v1.ServiceSpec"]
    assert "ipFamily" in spec["properties"] and "ipFamilies" not in spec["properties"]
    pod = doc["definitions"]["io.k8s.api.core.v1.Pod"]
    assert pod["x-kubernetes-group-version-kind"] == [{"group": "", "kind": "Pod", "version": "v1"}]
    patch = doc["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"]
    assert "fieldValidation" not in [p["name"] for p in patch["parameters"]]


async def test_openapi_v2_protobuf_is_the_gnostic_document(api: Served) -> None:
    _, client = api
    accept = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
    resp = await client.get("/openapi/v2", headers={"Accept": accept})
    assert resp.headers["content-type"] == (
        "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
    )
    fields = _fields(resp.content)
    assert fields[1] == [b"2.0"]  # swagger
    names = [_fields(named)[1][0].decode() for named in _fields(fields[9][0])[1]]
    assert "io.k8s.api.core.v1.Pod" in names and len(names) > 500


@pytest.mark.parametrize(("version", "served"), [("1.23", False), ("1.24", True)])
async def test_openapi_v3_from_1_24(serve: Any, version: str, served: bool) -> None:
    async with serve(version) as (_, client):
        root = await client.get("/openapi/v3")
        if not served:
            assert root.status_code == 404
            return
        paths = root.json()["paths"]
        url = paths["api/v1"]["serverRelativeURL"]
        doc = (await client.get(url)).json()
    assert doc["openapi"].startswith("3.")
    assert "io.k8s.api.core.v1.Pod" in doc["components"]["schemas"]
    patch = doc["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"]["kind"] == "Pod"


async def test_field_validation_advertised_from_1_25(serve: Any) -> None:
    async with serve("1.25") as (_, client):
        url = (await client.get("/openapi/v3")).json()["paths"]["api/v1"]["serverRelativeURL"]
        doc = (await client.get(url)).json()
    patch = doc["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"]
    assert "fieldValidation" in [p["name"] for p in patch["parameters"]]


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _fields(data: bytes) -> dict[int, list[bytes]]:
    """Length-delimited fields of a protobuf message (what these tests need to read)."""
    out: dict[int, list[bytes]] = {}
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 2:
            size, pos = _varint(data, pos)
            out.setdefault(number, []).append(data[pos : pos + size])
            pos += size
        elif wire == 0:
            _, pos = _varint(data, pos)
        elif wire == 1:
            pos += 8
        else:
            raise AssertionError(f"unexpected wire type {wire}")
    return out
