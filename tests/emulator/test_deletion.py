"""Deletion: finalizers, propagation policies, ownerReference garbage collection, namespaces."""

from __future__ import annotations

from typing import Any

import httpx
from emu_helpers import Served, configmap, eventually, pod

CMS = "/api/v1/namespaces/default/configmaps"
PODS = "/api/v1/namespaces/default/pods"
SVCS = "/api/v1/namespaces/default/services"


def owned(body: dict[str, Any], owner: dict[str, Any], block: bool = False) -> dict[str, Any]:
    ref = {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
    }
    if block:
        ref["blockOwnerDeletion"] = True
    body["metadata"]["ownerReferences"] = [ref]
    return body


async def gone(client: httpx.AsyncClient, path: str) -> bool:
    return (await eventually(client, path, lambda r: r.status_code == 404)).status_code == 404


async def test_finalizers_hold_an_object_until_removed(api: Served) -> None:
    _, client = api
    body = configmap("held")
    body["metadata"]["finalizers"] = ["example.com/keep"]
    await client.post(CMS, json=body)
    deleting = await client.delete(f"{CMS}/held")
    assert deleting.status_code == 200
    obj = deleting.json()
    assert obj["metadata"]["deletionTimestamp"]
    assert (await client.get(f"{CMS}/held")).status_code == 200
    obj["metadata"]["finalizers"] = ["example.com/keep", "example.com/new"]
    refused = await client.put(f"{CMS}/held", json=obj)
    assert refused.status_code == 422
    obj["metadata"]["finalizers"] = []
    released = await client.put(f"{CMS}/held", json=obj)
    assert released.status_code == 200
    assert (await client.get(f"{CMS}/held")).status_code == 404


async def test_background_deletion_collects_dependents(api: Served) -> None:
    _, client = api
    owner = (await client.post(CMS, json=configmap("owner"))).json()
    owner["apiVersion"], owner["kind"] = "v1", "ConfigMap"
    for name in ("dep-a", "dep-b"):
        await client.post(CMS, json=owned(configmap(name), owner))
    await client.delete(f"{CMS}/owner", params={"propagationPolicy": "Background"})
    assert await gone(client, f"{CMS}/dep-a") and await gone(client, f"{CMS}/dep-b")


async def test_orphan_deletion_keeps_dependents_without_the_reference(api: Served) -> None:
    _, client = api
    owner = (await client.post(CMS, json=configmap("owner"))).json()
    owner["apiVersion"], owner["kind"] = "v1", "ConfigMap"
    await client.post(CMS, json=owned(configmap("kept"), owner))
    body = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Orphan"}
    resp = await client.request("DELETE", f"{CMS}/owner", json=body)
    assert resp.status_code == 200
    assert await gone(client, f"{CMS}/owner")
    kept = (await client.get(f"{CMS}/kept")).json()
    assert "ownerReferences" not in kept["metadata"]


async def test_foreground_deletion_waits_for_blocking_dependents(api: Served) -> None:
    _, client = api
    owner = (await client.post(CMS, json=configmap("owner"))).json()
    owner["apiVersion"], owner["kind"] = "v1", "ConfigMap"
    blocker = owned(configmap("blocker"), owner, block=True)
    blocker["metadata"]["finalizers"] = ["example.com/slow"]
    await client.post(CMS, json=blocker)
    resp = await client.delete(f"{CMS}/owner", params={"propagationPolicy": "Foreground"})
    assert resp.status_code == 202
    assert "foregroundDeletion" in resp.json()["metadata"]["finalizers"]
    dep = (
        await eventually(
            client, f"{CMS}/blocker", lambda r: bool(r.json()["metadata"].get("deletionTimestamp"))
        )
    ).json()
    assert (await client.get(f"{CMS}/owner")).status_code == 200  # still blocked
    dep["metadata"]["finalizers"] = []
    await client.put(f"{CMS}/blocker", json=dep)
    assert await gone(client, f"{CMS}/owner")


async def test_dependent_with_a_live_second_owner_survives(api: Served) -> None:
    _, client = api
    first = (await client.post(CMS, json=configmap("first"))).json()
    second = (await client.post(CMS, json=configmap("second"))).json()
    body = configmap("shared")
    body["metadata"]["ownerReferences"] = [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "name": o["metadata"]["name"],
            "uid": o["metadata"]["uid"],
        }
        for o in (first, second)
    ]
    await client.post(CMS, json=body)
    await client.delete(f"{CMS}/first")
    resp = await eventually(
        client, f"{CMS}/shared", lambda r: len(r.json()["metadata"]["ownerReferences"]) == 1
    )
    assert resp.json()["metadata"]["ownerReferences"][0]["name"] == "second"


async def test_object_with_only_missing_owners_is_collected(api: Served) -> None:
    _, client = api
    body = configmap("dangling")
    body["metadata"]["ownerReferences"] = [
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "name": "ghost",
            "uid": "00000000-0000-0000-0000-000000000000",
        }
    ]
    assert (await client.post(CMS, json=body)).status_code == 201
    assert await gone(client, f"{CMS}/dangling")


async def test_a_driver_pods_service_and_configmap_go_with_it(api: Served) -> None:
    _, client = api
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "spark"}}
    await client.post("/api/v1/namespaces/default/serviceaccounts", json=account)
    driver_body = pod("app-driver")
    driver_body["spec"]["serviceAccountName"] = "spark"
    driver = (await client.post(PODS, json=driver_body)).json()
    driver["apiVersion"], driver["kind"] = "v1", "Pod"
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "app-driver-svc"},
        "spec": {"clusterIP": "None", "ports": [{"port": 7078, "name": "rpc"}]},
    }
    await client.post(SVCS, json=owned(svc, driver))
    await client.post(CMS, json=owned(configmap("app-conf"), driver))
    deleted = await client.delete(f"{PODS}/app-driver")
    assert deleted.status_code == 200
    assert deleted.json()["kind"] == "Pod"  # pods answer with the object being deleted
    assert await gone(client, f"{PODS}/app-driver")
    assert await gone(client, f"{SVCS}/app-driver-svc")
    assert await gone(client, f"{CMS}/app-conf")


async def test_preconditions(api: Served) -> None:
    _, client = api
    await client.post(CMS, json=configmap("pre"))
    body = {"preconditions": {"uid": "not-the-uid"}}
    resp = await client.request("DELETE", f"{CMS}/pre", json=body)
    assert resp.status_code == 409
    assert "Precondition failed: UID in precondition: not-the-uid" in resp.json()["message"]


async def test_deleting_a_namespace_deletes_its_objects(api: Served) -> None:
    _, client = api
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "doomed"}}
    await client.post("/api/v1/namespaces", json=ns)
    await client.post("/api/v1/namespaces/doomed/configmaps", json=configmap("a"))
    await client.post("/api/v1/namespaces/doomed/pods", json=pod("p"))
    slow = configmap("slow")
    slow["metadata"]["finalizers"] = ["example.com/slow"]
    await client.post("/api/v1/namespaces/doomed/configmaps", json=slow)
    resp = await client.delete("/api/v1/namespaces/doomed")
    assert resp.status_code == 200
    assert resp.json()["status"]["phase"] == "Terminating"
    refused = await client.post("/api/v1/namespaces/doomed/configmaps", json=configmap("b"))
    assert refused.status_code == 403
    assert refused.json()["message"] == (
        'configmaps "b" is forbidden: unable to create new content in namespace doomed because '
        "it is being terminated"
    )
    held = await eventually(
        client,
        "/api/v1/namespaces/doomed/configmaps/slow",
        lambda r: bool(r.json()["metadata"].get("deletionTimestamp")),
    )
    assert (await client.get("/api/v1/namespaces/doomed")).status_code == 200
    released = dict(held.json())
    released["metadata"] = dict(released["metadata"], finalizers=[])
    await client.put("/api/v1/namespaces/doomed/configmaps/slow", json=released)
    assert await gone(client, "/api/v1/namespaces/doomed")
    assert (await client.get("/api/v1/namespaces/doomed/configmaps/a")).status_code == 404


async def test_default_namespaces_cannot_be_deleted(api: Served) -> None:
    _, client = api
    resp = await client.delete("/api/v1/namespaces/kube-system")
    assert resp.status_code == 403
    assert resp.json()["message"] == (
        'namespaces "kube-system" is forbidden: this namespace may not be deleted'
    )


async def test_delete_collection_by_label(api: Served) -> None:
    _, client = api
    for name, tier in (("a", "x"), ("b", "x"), ("c", "y")):
        await client.post(CMS, json=configmap(name, tier=tier))
    resp = await client.delete(CMS, params={"labelSelector": "tier=x"})
    assert resp.status_code == 200
    assert sorted(i["metadata"]["name"] for i in resp.json()["items"]) == ["a", "b"]
    left = (await client.get(CMS)).json()["items"]
    assert [i["metadata"]["name"] for i in left] == ["c"]
