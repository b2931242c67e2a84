"""PATCH over HTTP: dispatch by content type, managed fields, apply conflicts and failures."""

from __future__ import annotations

import json
from typing import Any

import yaml
from emu_helpers import Served, configmap

CMS = "/api/v1/namespaces/default/configmaps"
SVCS = "/api/v1/namespaces/default/services"
APPLY = {"Content-Type": "application/apply-patch+yaml"}

SPARK_SERVICE = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "spark-pi-driver-svc"},
    "spec": {
        "clusterIP": "None",
        "ipFamilies": ["IPv4"],
        "ipFamilyPolicy": "SingleStack",
        "ports": [{"name": "driver-rpc-port", "port": 7078, "targetPort": 7078}],
        "selector": {"spark-role": "driver"},
    },
}


async def test_managed_fields_recorded_on_create_and_update(api: Served) -> None:
    _, client = api
    created = (await client.post(CMS, json=configmap("m"), params={"fieldManager": "me"})).json()
    (entry,) = created["metadata"]["managedFields"]
    assert (entry["manager"], entry["operation"]) == ("me", "Update")
    assert "f:data" in entry["fieldsV1"]
    by_agent = (
        await client.post(CMS, json=configmap("n"), headers={"User-Agent": "tool/1.0 (linux)"})
    ).json()
    assert by_agent["metadata"]["managedFields"][0]["manager"] == "tool"


async def test_merge_and_json_patch(api: Served) -> None:
    _, client = api
    await client.post(CMS, json=configmap("p"))
    merged = await client.patch(
        f"{CMS}/p",
        content=json.dumps({"data": {"x": "1"}}),
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert merged.status_code == 200 and merged.json()["data"] == {"k": "v", "x": "1"}
    ops = [{"op": "replace", "path": "/data/k", "value": "w"}]
    patched = await client.patch(
        f"{CMS}/p", content=json.dumps(ops), headers={"Content-Type": "application/json-patch+json"}
    )
    assert patched.json()["data"] == {"k": "w", "x": "1"}
    assert int(patched.json()["metadata"]["resourceVersion"]) > int(
        merged.json()["metadata"]["resourceVersion"]
    )


async def test_apply_creates_then_conflicts_then_forces(api: Served) -> None:
    _, client = api
    body = yaml.safe_dump(configmap("owned"))
    first = await client.patch(
        f"{CMS}/owned", content=body, headers=APPLY, params={"fieldManager": "alpha"}
    )
    assert first.status_code == 201, first.text
    changed = configmap("owned")
    changed["data"] = {"k": "other"}
    clash = await client.patch(
        f"{CMS}/owned",
        content=yaml.safe_dump(changed),
        headers=APPLY,
        params={"fieldManager": "beta"},
    )
    assert clash.status_code == 409
    status = clash.json()
    assert status["reason"] == "Conflict"
    assert 'conflict with "alpha"' in status["message"] and ".data.k" in status["message"]
    forced = await client.patch(
        f"{CMS}/owned",
        content=yaml.safe_dump(changed),
        headers=APPLY,
        params={"fieldManager": "beta", "force": "true"},
    )
    assert forced.status_code == 200 and forced.json()["data"] == {"k": "other"}
    missing_manager = await client.patch(f"{CMS}/owned", content=body, headers=APPLY)
    assert missing_manager.status_code == 422


async def test_apply_typed_failure_on_1_19(api: Served) -> None:
    _, client = api
    resp = await client.patch(
        f"{SVCS}/spark-pi-driver-svc",
        content=json.dumps(SPARK_SERVICE),
        headers=APPLY,
        params={"fieldManager": "fabric8", "force": "true"},
    )
    assert resp.status_code == 500
    message = resp.json()["message"]
    assert message.startswith("failed to create typed patch object: errors:\n  ")
    assert ".spec.ipFamilies: field not declared in schema" in message
    assert (await client.get(f"{SVCS}/spark-pi-driver-svc")).status_code == 404


async def test_apply_succeeds_on_1_21(serve: Any) -> None:
    async with serve("1.21") as (_, client):
        resp = await client.patch(
            f"{SVCS}/spark-pi-driver-svc",
            content=json.dumps(SPARK_SERVICE),
            headers=APPLY,
            params={"fieldManager": "fabric8", "force": "true"},
        )
        assert resp.status_code == 201, resp.text
        svc = resp.json()
    assert svc["spec"]["ports"][0]["protocol"] == "TCP"
    assert svc["metadata"]["managedFields"][0]["manager"] == "fabric8"


async def test_custom_resources_refuse_strategic_merge(api: Served) -> None:
    _, client = api
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "kind": "Widget"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "properties": {"size": {"type": "integer"}},
                                }
                            },
                        }
                    },
                }
            ],
        },
    }
    await client.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json=crd)
    path = "/apis/example.com/v1/namespaces/default/widgets"
    widget = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": {"size": 1},
    }
    assert (await client.post(path, json=widget)).status_code == 201
    smp = await client.patch(
        f"{path}/w",
        content=b'{"spec": {"size": 2}}',
        headers={"Content-Type": "application/strategic-merge-patch+json"},
    )
    assert smp.status_code == 415
    merge = await client.patch(
        f"{path}/w",
        content=b'{"spec": {"size": 2}}',
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert merge.status_code == 200 and merge.json()["spec"] == {"size": 2}
    wrong = await client.patch(
        f"{path}/w",
        content=b'{"spec": {"size": "big"}}',
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert wrong.status_code == 422
