"""CustomResourceDefinitions: served resources, discovery, pruning, validation, status, tables."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import pytest
from emu_helpers import Served, eventually

CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
APPS = "/apis/sparkoperator.k8s.io/v1beta2/namespaces/default/sparkapplications"

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "required": ["type", "sparkVersion"],
            "properties": {
                "type": {"type": "string", "enum": ["Java", "Scala", "Python", "R"]},
                "sparkVersion": {"type": "string"},
                "executors": {"type": "integer", "minimum": 0},
                "memory": {"x-kubernetes-int-or-string": True},
                "sparkConf": {"type": "object", "additionalProperties": {"type": "string"}},
                "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            },
        },
        "status": {"type": "object", "properties": {"state": {"type": "string"}}},
    },
}


def crd(schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "sparkapplications.sparkoperator.k8s.io"},
        "spec": {
            "group": "sparkoperator.k8s.io",
            "scope": "Namespaced",
            "names": {
                "plural": "sparkapplications",
                "singular": "sparkapplication",
                "kind": "SparkApplication",
                "shortNames": ["sparkapp"],
            },
            "versions": [
                {
                    "name": "v1beta2",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": schema or SCHEMA},
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [
                        {"name": "Status", "type": "string", "jsonPath": ".status.state"},
                        {
                            "name": "Version",
                            "type": "string",
                            "jsonPath": ".spec.sparkVersion",
                            "priority": 1,
                        },
                    ],
                }
            ],
        },
    }


def app(name: str = "pi", **spec: Any) -> dict[str, Any]:
    body = {"type": "Scala", "sparkVersion": "3.5.1", **spec}
    return {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": "SparkApplication",
        "metadata": {"name": name},
        "spec": body,
    }


async def established(client: httpx.AsyncClient) -> dict[str, Any]:
    name = "sparkapplications.sparkoperator.k8s.io"
    resp = await eventually(client, f"{CRDS}/{name}", lambda r: '"Established"' in r.text)
    body: dict[str, Any] = resp.json()
    return body


async def test_a_crd_serves_its_resource(api: Served) -> None:
    _, client = api
    created = await client.post(CRDS, json=crd())
    assert created.status_code == 201, created.text
    body = await established(client)
    conditions = {c["type"]: c["status"] for c in body["status"]["conditions"]}
    assert conditions["Established"] == "True" and conditions["NamesAccepted"] == "True"
    assert body["status"]["acceptedNames"]["kind"] == "SparkApplication"
    resources = (await client.get("/apis/sparkoperator.k8s.io/v1beta2")).json()["resources"]
    names = {r["name"]: r for r in resources}
    assert names["sparkapplications"]["shortNames"] == ["sparkapp"]
    assert "sparkapplications/status" in names
    groups = [g["name"] for g in (await client.get("/apis")).json()["groups"]]
    assert "sparkoperator.k8s.io" in groups
    stored = await client.post(APPS, json=app())
    assert stored.status_code == 201, stored.text
    assert stored.json()["apiVersion"] == "sparkoperator.k8s.io/v1beta2"
    listed = (await client.get(APPS)).json()
    assert listed["kind"] == "SparkApplicationList"
    assert [i["metadata"]["name"] for i in listed["items"]] == ["pi"]


async def test_structural_pruning(api: Served) -> None:
    _, client = api
    await client.post(CRDS, json=crd())
    await established(client)
    body = app(unknownField=1, extra={"anything": {"goes": True}}, sparkConf={"a": "b"})
    body["topLevel"] = "dropped"
    stored = (await client.post(APPS, json=body)).json()
    assert "unknownField" not in stored["spec"] and "topLevel" not in stored
    assert stored["spec"]["extra"] == {"anything": {"goes": True}}
    assert stored["spec"]["sparkConf"] == {"a": "b"}


async def test_validation_messages(api: Served) -> None:
    _, client = api
    await client.post(CRDS, json=crd())
    await established(client)
    wrong_type = await client.post(APPS, json=app(executors="two"))
    assert wrong_type.status_code == 422
    assert wrong_type.json()["message"] == (
        'SparkApplication.sparkoperator.k8s.io "pi" is invalid: spec.executors: Invalid value: '
        '"string": spec.executors in body must be of type integer: "string"'
    )
    bad_enum = await client.post(APPS, json=app(type="Go"))
    assert bad_enum.json()["message"] == (
        'SparkApplication.sparkoperator.k8s.io "pi" is invalid: spec.type: Unsupported value: '
        '"Go": supported values: "Java", "Scala", "Python", "R"'
    )
    missing = app()
    del missing["spec"]["sparkVersion"]
    resp = await client.post(APPS, json=missing)
    assert resp.json()["message"] == (
        'SparkApplication.sparkoperator.k8s.io "pi" is invalid: spec.sparkVersion: Required value'
    )
    too_small = await client.post(APPS, json=app(executors=-1))
    assert "should be greater than or equal to 0" in too_small.json()["message"]
    for memory in ("512m", 512):
        ok = await client.post(APPS, json=app(name=f"m{memory}".lower(), memory=memory))
        assert ok.status_code == 201, ok.text
    not_int_or_string = await client.post(APPS, json=app(name="f", memory=[1]))
    assert not_int_or_string.status_code == 422


async def test_status_subresource_of_a_custom_resource(api: Served) -> None:
    _, client = api
    await client.post(CRDS, json=crd())
    await established(client)
    created = (await client.post(APPS, json=dict(app(), status={"state": "ignored"}))).json()
    assert "status" not in created
    with_status = dict(created, status={"state": "RUNNING"})
    resp = await client.put(f"{APPS}/pi/status", json=with_status)
    assert resp.status_code == 200 and resp.json()["status"] == {"state": "RUNNING"}
    assert resp.json()["metadata"]["generation"] == 1
    spec_change = copy.deepcopy(resp.json())
    spec_change["spec"]["sparkVersion"] = "3.4.1"
    spec_change["status"] = {"state": "lost"}
    updated = (await client.put(f"{APPS}/pi", json=spec_change)).json()
    assert updated["status"] == {"state": "RUNNING"}
    assert updated["metadata"]["generation"] == 2


async def test_printer_columns_in_tables(api: Served) -> None:
    _, client = api
    await client.post(CRDS, json=crd())
    await established(client)
    created = (await client.post(APPS, json=app())).json()
    await client.put(f"{APPS}/pi/status", json=dict(created, status={"state": "COMPLETED"}))
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    table = (await client.get(APPS, headers={"Accept": accept})).json()
    columns = [(c["name"], c["priority"]) for c in table["columnDefinitions"]]
    assert columns == [("Name", 0), ("Status", 0), ("Version", 1), ("Age", 0)]
    cells = table["rows"][0]["cells"]
    assert cells[:3] == ["pi", "COMPLETED", "3.5.1"]


async def test_deleting_the_crd_removes_its_objects_and_endpoints(api: Served) -> None:
    _, client = api
    await client.post(CRDS, json=crd())
    await established(client)
    await client.post(APPS, json=app())
    await client.delete(f"{CRDS}/sparkapplications.sparkoperator.k8s.io")
    gone = await eventually(client, APPS, lambda r: r.status_code == 404)
    assert gone.status_code == 404
    assert (await client.get(f"{CRDS}/sparkapplications.sparkoperator.k8s.io")).status_code == 404


async def test_crd_definition_checks(api: Served) -> None:
    _, client = api
    bad = crd()
    bad["metadata"]["name"] = "wrong.name"
    resp = await client.post(CRDS, json=bad)
    assert resp.status_code == 422
    assert (
        'metadata.name: Invalid value: "wrong.name": must be spec.names.plural+"."+spec.group'
        in resp.json()["message"]
    )
    no_schema = crd()
    del no_schema["spec"]["versions"][0]["schema"]
    resp = await client.post(CRDS, json=no_schema)
    assert (
        "spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required"
        in resp.json()["message"]
    )


async def test_v1beta1_definitions_where_served(serve: Any) -> None:
    legacy = {
        "apiVersion": "apiextensions.k8s.io/v1beta1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "version": "v1",
            "scope": "Cluster",
            "names": {"plural": "widgets", "kind": "Widget"},
            "validation": {
                "openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "spec": {"type": "object", "properties": {"size": {"type": "integer"}}}
                    },
                }
            },
            "additionalPrinterColumns": [
                {"name": "Size", "type": "integer", "JSONPath": ".spec.size"}
            ],
        },
    }
    async with serve("1.19") as (_, client):
        created = await client.post(
            "/apis/apiextensions.k8s.io/v1beta1/customresourcedefinitions", json=legacy
        )
        assert created.status_code == 201, created.text
        assert created.json()["spec"]["version"] == "v1"
        as_v1 = (await client.get(f"{CRDS}/widgets.example.com")).json()
        version = as_v1["spec"]["versions"][0]
        assert version["schema"]["openAPIV3Schema"]["properties"]["spec"]
        assert version["additionalPrinterColumns"][0]["jsonPath"] == ".spec.size"
        widget = {
            "apiVersion": "example.com/v1",
            "kind": "Widget",
            "metadata": {"name": "w"},
            "spec": {"size": 3, "color": "kept: v1beta1 preserves unknown fields"},
        }
        stored = await client.post("/apis/example.com/v1/widgets", json=widget)
        assert stored.status_code == 201, stored.text
        assert stored.json()["spec"]["color"].startswith("kept")
    async with serve("1.22") as (_, client):
        resp = await client.post(
            "/apis/apiextensions.k8s.io/v1beta1/customresourcedefinitions", json=legacy
        )
        assert resp.status_code == 404


async def test_structural_defaults(api: Served) -> None:
    _, client = api
    schema = copy.deepcopy(SCHEMA)
    spec = schema["properties"]["spec"]["properties"]
    spec["mode"] = {"type": "string", "default": "cluster"}
    spec["driver"] = {"type": "object", "properties": {"cores": {"type": "integer", "default": 1}}}
    spec["executors"]["default"] = 2
    await client.post(CRDS, json=crd(schema))
    await established(client)
    stored = (await client.post(APPS, json=app(driver={}))).json()
    assert stored["spec"]["mode"] == "cluster" and stored["spec"]["executors"] == 2
    assert stored["spec"]["driver"] == {"cores": 1}
    given = (await client.post(APPS, json=app(name="given", mode="client"))).json()
    assert given["spec"]["mode"] == "client" and "driver" not in given["spec"]


@pytest.mark.parametrize(
    ("version", "wording"),
    [
        # structured-merge-diff printed the Go type of an unstructured value until a later 1.19
        # patch; the emulator speaks as the patch it reports.
        ("1.19", "got *value.valueUnstructured"),
        ("1.19.16", "got string"),
    ],
)
async def test_apply_to_a_custom_resource(
    serve: Callable[..., AbstractAsyncContextManager[Served]], version: str, wording: str
) -> None:
    async with serve(version) as (_, client):
        await _apply_to_a_custom_resource(client, wording)


async def _apply_to_a_custom_resource(client: httpx.AsyncClient, wording: str) -> None:
    await client.post(CRDS, json=crd())
    await established(client)
    body = json.dumps(app())
    headers = {"Content-Type": "application/apply-patch+yaml"}
    created = await client.patch(
        f"{APPS}/pi", content=body, headers=headers, params={"fieldManager": "operator"}
    )
    assert created.status_code == 201, created.text
    entry = created.json()["metadata"]["managedFields"][0]
    assert (entry["manager"], entry["operation"]) == ("operator", "Apply")
    bad = json.dumps(app(executors="many"))
    refused = await client.patch(
        f"{APPS}/pi", content=bad, headers=headers, params={"fieldManager": "operator"}
    )
    assert refused.status_code == 500  # the typed conversion refuses it before validation
    assert refused.json()["message"] == (
        "failed to create typed patch object: .spec.executors: expected numeric (int or float), "
        + wording
    )


async def test_metadata_declared_as_a_bare_object_is_not_pruned(api: Served) -> None:
    # kubeflow's CRDs (and most generated ones) declare `metadata: {type: object}`; a real
    # server keeps the object's metadata whatever its schema says.
    _, client = api
    schema = {**SCHEMA, "properties": {**SCHEMA["properties"], "metadata": {"type": "object"}}}
    await client.post(CRDS, json=crd(schema))
    await established(client)
    body = app()
    body["metadata"]["labels"] = {"team": "data"}
    stored = await client.post(APPS, json=body)
    assert stored.status_code == 201, stored.text
    meta = stored.json()["metadata"]
    assert meta["name"] == "pi" and meta["labels"] == {"team": "data"} and meta["uid"]


BOUNDED: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "title": {"type": "string", "minLength": 2, "maxLength": 4},
                "cores": {"type": "number", "minimum": 1, "maximum": 8},
                "args": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 2,
                    "items": {"type": "string"},
                },
                "memory": {"x-kubernetes-int-or-string": True},
                "note": {"type": "string", "nullable": True},
                "label": {"type": "string"},
            },
        },
    },
}


async def test_size_range_and_type_bounds(api: Served) -> None:
    """Each bound keyword breaks with apiextensions' own cause; values inside pass."""
    _, client = api
    await client.post(CRDS, json=crd(BOUNDED))
    await established(client)

    async def causes(name: str, **spec: Any) -> list[tuple[str, str, str]]:
        resp = await client.post(APPS, json={**app(name=name), "spec": spec})
        if resp.status_code == 201:
            return []
        assert resp.status_code == 422, resp.text
        found = resp.json()["details"]["causes"]
        return [(c["reason"], c["field"], c["message"]) for c in found]

    assert await causes("ok", title="ab", cores=8, args=["a"], memory=1, note=None) == []
    assert await causes("long", title="abcde", cores=0.5, args=["a", "b", "c"]) == [
        ("FieldValueTooLong", "spec.title", "Too long: may not be longer than 4"),
        (
            "FieldValueInvalid",
            "spec.cores",
            "Invalid value: 0.5: spec.cores in body should be greater than or equal to 1",
        ),
        ("FieldValueTooMany", "spec.args", "Too many: must have at most 2 items"),
    ]
    short = await causes("short", title="a", cores=9, args=[])
    assert [(reason, field) for reason, field, _ in short] == [
        ("FieldValueInvalid", "spec.title"),
        ("FieldValueInvalid", "spec.cores"),
        ("FieldValueInvalid", "spec.args"),
    ]
    assert "spec.title in body should be at least 2 chars long" in short[0][2]
    assert "spec.cores in body should be less than or equal to 8" in short[1][2]
    assert "spec.args in body should have at least 1 items" in short[2][2]
    assert await causes("types", memory=True, label=None) == [
        (
            "FieldValueInvalid",
            "spec.memory",
            'Invalid value: "boolean": spec.memory in body must be of type integer,string: '
            '"boolean"',
        ),
        (
            "FieldValueInvalid",
            "spec.label",
            'Invalid value: "null": spec.label in body must be of type string: "null"',
        ),
    ]
