"""Surfaces from a live server's documents, and fetching them over HTTP (kube.discovery)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from kubespark.apisurface import GroupVersionKind, SchemaKind, load_surface
from kubespark.apisurface.check import ProblemKind, check_object, prune_unknown_fields
from kubespark.apisurface.discovery import (
    DiscoveryDocs,
    discovery_documents,
    server_version,
    surface_from_discovery,
    version_document,
)
from kubespark.errors import InputError
from kubespark.kube.client import KubeClient
from kubespark.kube.discovery import fetch_discovery, read_capabilities
from kubespark.versions import Version

SPARK_GV = "sparkoperator.k8s.io/v1beta2"
SPARK_LISTING = {
    "kind": "APIResourceList",
    "apiVersion": "v1",
    "groupVersion": SPARK_GV,
    "resources": [
        {
            "name": "sparkapplications",
            "singularName": "sparkapplication",
            "namespaced": True,
            "kind": "SparkApplication",
            "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
            "shortNames": ["sparkapp"],
        },
        {
            "name": "sparkapplications/status",
            "singularName": "",
            "namespaced": True,
            "kind": "SparkApplication",
            "verbs": ["get", "patch", "update"],
        },
    ],
}
# How /openapi/v2 publishes a CRD's structural schema: one definition, nested objects inline.
SPARK_OPENAPI = {
    "swagger": "2.0",
    "definitions": {
        "io.k8s.sparkoperator.v1beta2.SparkApplication": {
            "type": "object",
            "required": ["spec"],
            "x-kubernetes-group-version-kind": [
                {"group": "sparkoperator.k8s.io", "kind": "SparkApplication", "version": "v1beta2"}
            ],
            "properties": {
                "apiVersion": {"type": "string"},
                "kind": {"type": "string"},
                "metadata": {
                    "$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
                },
                "spec": {
                    "type": "object",
                    "required": ["type", "sparkVersion"],
                    "properties": {
                        "type": {"type": "string", "enum": ["Java", "Python", "Scala", "R"]},
                        "sparkVersion": {"type": "string"},
                        "sparkConf": {
                            "type": "object",
                            "additionalProperties": {"type": "string"},
                        },
                        "driver": {
                            "type": "object",
                            "properties": {
                                "cores": {"type": "integer", "format": "int32"},
                                "coreLimit": {"type": "string"},
                                "labels": {
                                    "type": "object",
                                    "additionalProperties": {"type": "string"},
                                },
                            },
                        },
                        "arguments": {"type": "array", "items": {"type": "string"}},
                        "batchSchedulerOptions": {
                            "type": "object",
                            "properties": {
                                "resources": {
                                    "type": "object",
                                    "additionalProperties": {
                                        "anyOf": [{"type": "integer"}, {"type": "string"}],
                                        "x-kubernetes-int-or-string": True,
                                    },
                                }
                            },
                        },
                    },
                },
                "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            },
        }
    },
}


def live_docs(version: str) -> tuple[dict[str, Any], DiscoveryDocs]:
    """What a server of a bundled version answers, plus the spark-operator CRD's group."""
    docs = discovery_documents(load_surface(version))
    groups = dict(docs.groups or {})
    groups["groups"] = [
        *groups["groups"],
        {
            "name": "sparkoperator.k8s.io",
            "versions": [{"groupVersion": SPARK_GV, "version": "v1beta2"}],
            "preferredVersion": {"groupVersion": SPARK_GV, "version": "v1beta2"},
        },
    ]
    lists = {**docs.resource_lists, SPARK_GV: SPARK_LISTING}
    return version_document(parse(version)), DiscoveryDocs(docs.core, groups, lists)


def parse(text: str) -> Version:
    major, minor, *patch = (int(p) for p in text.split("."))
    return Version(major, minor, patch[0] if patch else None)


def test_round_trip_of_a_bundled_surface_through_discovery() -> None:
    bundled = load_surface("1.19")
    rebuilt = surface_from_discovery(
        version_document(Version(1, 19, 16)), discovery_documents(bundled)
    )
    assert rebuilt.version == Version(1, 19)
    assert rebuilt.server_version == Version(1, 19, 16)
    assert {r.gvk for r in rebuilt.resources} == {r.gvk for r in bundled.resources}
    for r in bundled.resources:
        again = rebuilt.resource(r.gvk.api_version, r.gvk.kind)
        assert again is not None
        assert (again.plural, again.namespaced, again.verbs, again.short_names) == (
            r.plural,
            r.namespaced,
            r.verbs,
            r.short_names,
        )
        assert again.subresources == r.subresources and again.type_name == r.type_name
    pod = rebuilt.resource("v1", "Pod")
    assert pod is not None
    exec_ = next(s for s in pod.subresource_details if s.name == "exec")
    assert exec_.gvk == GroupVersionKind("", "v1", "PodExecOptions")


def test_a_live_servers_crd_schema_is_seen() -> None:
    info, docs = live_docs("1.19.16")
    surface = surface_from_discovery(info, docs, SPARK_OPENAPI)
    app = surface.resource(SPARK_GV, "SparkApplication")
    assert app is not None and app.short_names == ("sparkapp",) and app.subresources == ("status",)
    spec = surface.types["io.k8s.sparkoperator.v1beta2.SparkApplication.spec"]
    assert spec.properties["type"].enum == ("Java", "Python", "Scala", "R")
    assert spec.properties["sparkConf"].kind is SchemaKind.MAP
    resources = surface.types[
        "io.k8s.sparkoperator.v1beta2.SparkApplication.spec.batchSchedulerOptions"
    ].properties["resources"]
    assert resources.items is not None and resources.items.kind is SchemaKind.INT_OR_STRING
    good = {
        "apiVersion": SPARK_GV,
        "kind": "SparkApplication",
        "metadata": {"name": "pi"},
        "spec": {"type": "Scala", "sparkVersion": "3.5.1", "driver": {"cores": 1}},
        "status": {"anything": {"goes": 1}},
    }
    assert check_object(surface, good) == []
    bad = {**good, "spec": {"type": "Go", "driver": {"cores": "1", "gpu": 1}}}
    got = {(p.path, p.kind) for p in check_object(surface, bad)}
    assert got == {
        (".spec.type", ProblemKind.NOT_IN_ENUM),
        (".spec.sparkVersion", ProblemKind.MISSING_REQUIRED),
        (".spec.driver.cores", ProblemKind.WRONG_TYPE),
        (".spec.driver.gpu", ProblemKind.UNKNOWN_FIELD),
    }
    # Built-in types still come from the bundled data of that minor.
    assert "ipFamilies" not in surface.types["io.k8s.api.core.v1.ServiceSpec"].properties


def test_a_crd_without_published_schema_accepts_any_body() -> None:
    info, docs = live_docs("1.22.3")
    surface = surface_from_discovery(info, docs, None)
    body = {"apiVersion": SPARK_GV, "kind": "SparkApplication", "spec": {"whatever": [1]}}
    assert check_object(surface, body) == []
    assert prune_unknown_fields(surface, body) == (body, [])


def test_behaviours_follow_the_reported_patch() -> None:
    info, docs = live_docs("1.20.6")
    assert surface_from_discovery(info, docs).behaviours.apply_key_defaults
    info = {**info, "gitVersion": "v1.20.5-gke.1"}
    surface = surface_from_discovery(info, docs)
    assert ("io.k8s.api.core.v1.ServiceSpec", "ports") not in surface.behaviours.apply_key_defaults


def test_unanswered_group_versions_fall_back_to_bundled_data() -> None:
    info, docs = live_docs("1.21.0")
    lists = {gv: doc for gv, doc in docs.resource_lists.items() if gv != "apps/v1"}
    surface = surface_from_discovery(info, DiscoveryDocs(docs.core, docs.groups, lists))
    assert surface.resource("apps/v1", "Deployment") is not None


def test_server_versions_newer_and_older_than_the_data() -> None:
    newest = load_surface("1.37")
    docs = discovery_documents(newest)
    future = surface_from_discovery({"gitVersion": "v1.40.2"}, docs)
    assert future.version == Version(1, 40) and future.types is not None
    assert future.behaviours.server_side_apply
    assert server_version({"major": "1", "minor": "27+"}) == Version(1, 27)
    with pytest.raises(InputError) as err:
        surface_from_discovery({"gitVersion": "v1.15.3"}, docs)
    assert "1.16" in err.value.message


def _app(version: str, *, broken: str = "") -> Starlette:
    info, docs = live_docs(version)

    async def serve(request: Request) -> JSONResponse:
        path = request.url.path
        if path == "/version":
            return JSONResponse(info)
        if path == "/api":
            return JSONResponse(dict(docs.core or {}))
        if path == "/apis":
            return JSONResponse(dict(docs.groups or {}))
        if path == "/openapi/v2":
            return JSONResponse(SPARK_OPENAPI)
        gv = path.removeprefix("/apis/").removeprefix("/api/")
        if gv == broken:
            return JSONResponse({"kind": "Status", "code": 503}, status_code=503)
        if gv in docs.resource_lists:
            return JSONResponse(dict(docs.resource_lists[gv]))
        return JSONResponse({"kind": "Status", "code": 404}, status_code=404)

    return Starlette(routes=[Route("/{path:path}", serve)])


async def test_fetch_discovery_over_http() -> None:
    # apps/v1 answers 503, as an aggregated API that is down does: recorded, not fatal.
    transport = httpx.ASGITransport(app=_app("1.19.16", broken="apps/v1"))
    async with httpx.AsyncClient(transport=transport, base_url="http://server") as http:
        docs = await fetch_discovery(http)
        surface = await read_capabilities(http)
    assert docs.version_info["gitVersion"] == "v1.19.16"
    assert docs.openapi_v2 is not None
    assert SPARK_GV in docs.discovery.resource_lists
    assert docs.discovery.failed == ("apps/v1",)
    assert "apps/v1" not in docs.discovery.resource_lists
    assert surface.resource("apps/v1", "Deployment") is not None  # from the bundled 1.19
    assert surface.resource(SPARK_GV, "SparkApplication") is not None
    assert surface.server_version == Version(1, 19, 16)


async def test_read_capabilities_through_kube_client() -> None:
    transport = httpx.ASGITransport(app=_app("1.27.3"))
    async with httpx.AsyncClient(transport=transport, base_url="http://server") as http:
        surface = await read_capabilities(KubeClient(http), openapi=False)
    assert surface.server_version == Version(1, 27, 3)
    assert surface.resource(SPARK_GV, "SparkApplication") is not None
    assert surface.resource("authentication.k8s.io/v1beta1", "SelfSubjectReview") is None
