"""REST as real clients use it: CRUD, Status bodies, resourceVersion, selectors, pagination."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from emu_helpers import Served, configmap, eventually, pod

PODS = "/api/v1/namespaces/default/pods"
CMS = "/api/v1/namespaces/default/configmaps"


async def test_a_minor_alone_is_its_first_release(api: Served) -> None:
    _, client = api
    body = (await client.get("/version")).json()
    assert (body["major"], body["minor"], body["gitVersion"]) == ("1", "19", "v1.19.0")


async def test_a_full_version_is_reported_as_given(
    serve: Callable[..., AbstractAsyncContextManager[Served]],
) -> None:
    async with serve("v1.20.15") as (_, client):
        body = (await client.get("/version")).json()
    assert (body["minor"], body["gitVersion"]) == ("20", "v1.20.15")


async def test_health_endpoints(api: Served) -> None:
    _, client = api
    for path in ("/healthz", "/readyz", "/livez"):
        resp = await client.get(path)
        assert (resp.status_code, resp.text) == (200, "ok")


async def test_create_get_list_update_delete(api: Served) -> None:
    _, client = api
    created = await client.post(CMS, json=configmap("one", team="a"))
    assert created.status_code == 201
    obj = created.json()
    meta = obj["metadata"]
    assert meta["namespace"] == "default" and meta["uid"] and meta["creationTimestamp"]
    got = (await client.get(f"{CMS}/one")).json()
    assert got == obj
    listed = (await client.get(CMS)).json()
    assert listed["kind"] == "ConfigMapList"
    assert [i["metadata"]["name"] for i in listed["items"]] == ["one"]
    assert int(listed["metadata"]["resourceVersion"]) >= int(meta["resourceVersion"])
    obj["data"] = {"k": "changed"}
    updated = await client.put(f"{CMS}/one", json=obj)
    assert updated.status_code == 200
    assert int(updated.json()["metadata"]["resourceVersion"]) > int(meta["resourceVersion"])
    deleted = await client.delete(f"{CMS}/one")
    assert deleted.status_code == 200
    assert deleted.json()["status"] == "Success"
    assert deleted.json()["details"] == {"name": "one", "kind": "configmaps", "uid": meta["uid"]}
    assert (await client.get(f"{CMS}/one")).status_code == 404


async def test_not_found_and_already_exists_bodies(api: Served) -> None:
    _, client = api
    missing = await client.get(f"{PODS}/x")
    assert missing.status_code == 404
    assert missing.json() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'pods "x" not found',
        "reason": "NotFound",
        "details": {"name": "x", "kind": "pods"},
        "code": 404,
    }
    await client.post(CMS, json=configmap("dup"))
    again = await client.post(CMS, json=configmap("dup"))
    assert again.status_code == 409
    assert again.json()["message"] == 'configmaps "dup" already exists'
    assert again.json()["reason"] == "AlreadyExists"
    apps = await client.get("/apis/apps/v1/namespaces/default/deployments/nope")
    assert apps.json()["message"] == 'deployments.apps "nope" not found'
    assert apps.json()["details"]["group"] == "apps"


async def test_invalid_pod_is_a_422_naming_the_field(api: Served) -> None:
    _, client = api
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}, "spec": {}}
    resp = await client.post(PODS, json=body)
    assert resp.status_code == 422
    status = resp.json()
    assert status["message"] == 'Pod "x" is invalid: spec.containers: Required value'
    assert status["reason"] == "Invalid"
    assert status["details"]["causes"] == [
        {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.containers"}
    ]


async def test_several_field_errors_are_listed_in_brackets(api: Served) -> None:
    _, client = api
    body = pod("Bad_Name")
    body["spec"]["containers"][0].pop("image")
    status = (await client.post(PODS, json=body)).json()
    assert status["code"] == 422
    assert status["message"].startswith('Pod "Bad_Name" is invalid: [metadata.name: Invalid value:')
    assert "spec.containers[0].image: Required value" in status["message"]
    assert status["message"].endswith("]")


@pytest.mark.parametrize(
    ("version", "wording"),
    [("1.19", "a DNS-1123 subdomain must consist"), ("1.21", "a lowercase RFC 1123 subdomain")],
)
async def test_name_message_follows_the_version(serve: Any, version: str, wording: str) -> None:
    async with serve(version) as (_, client):
        status = (await client.post(CMS, json=configmap("Not_Valid"))).json()
    assert status["message"].startswith(
        f'ConfigMap "Not_Valid" is invalid: metadata.name: Invalid value: "Not_Valid": {wording}'
    )


async def test_service_names_are_dns_1035_labels(api: Served) -> None:
    _, client = api
    body = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "1svc"},
        "spec": {"ports": [{"port": 80}]},
    }
    status = (await client.post("/api/v1/namespaces/default/services", json=body)).json()
    assert "a DNS-1035 label must consist" in status["message"]


async def test_generate_name(api: Served) -> None:
    _, client = api
    body = configmap("")
    body["metadata"] = {"generateName": "job-"}
    first = (await client.post(CMS, json=body)).json()["metadata"]["name"]
    second = (await client.post(CMS, json=body)).json()["metadata"]["name"]
    assert first != second
    for name in (first, second):
        assert name.startswith("job-") and len(name) == len("job-") + 5


async def test_missing_namespace_is_a_404_for_namespaces(api: Served) -> None:
    _, client = api
    resp = await client.post("/api/v1/namespaces/ghost/configmaps", json=configmap("a"))
    assert resp.status_code == 404
    assert resp.json()["message"] == 'namespaces "ghost" not found'


async def test_stale_update_is_a_409_conflict(api: Served) -> None:
    _, client = api
    first = (await client.post(CMS, json=configmap("c"))).json()
    fresh = dict(first, data={"k": "1"})
    assert (await client.put(f"{CMS}/c", json=fresh)).status_code == 200
    stale = dict(first, data={"k": "2"})
    resp = await client.put(f"{CMS}/c", json=stale)
    assert resp.status_code == 409
    assert resp.json()["message"] == (
        'Operation cannot be fulfilled on configmaps "c": the object has been modified; please '
        "apply your changes to the latest version and try again"
    )
    assert resp.json()["reason"] == "Conflict"


async def test_resource_version_is_one_global_counter(api: Served) -> None:
    _, client = api
    rvs = []
    for name in ("a", "b"):
        rvs.append(
            int(
                (await client.post(CMS, json=configmap(name))).json()["metadata"]["resourceVersion"]
            )
        )
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s"},
        "spec": {"ports": [{"port": 80}]},
    }
    created = (await client.post("/api/v1/namespaces/default/services", json=svc)).json()
    rvs.append(int(created["metadata"]["resourceVersion"]))
    assert rvs == sorted(rvs) and len(set(rvs)) == 3


async def test_label_selectors(api: Served) -> None:
    _, client = api
    for name, labels in (
        ("a", {"tier": "web", "env": "prod"}),
        ("b", {"tier": "db"}),
        ("c", {"env": "dev"}),
    ):
        await client.post(CMS, json=configmap(name, **labels))

    async def names(selector: str) -> list[str]:
        resp = await client.get(CMS, params={"labelSelector": selector})
        assert resp.status_code == 200, resp.text
        return [i["metadata"]["name"] for i in resp.json()["items"]]

    assert await names("tier=web") == ["a"]
    assert await names("tier==web") == ["a"]
    assert await names("tier!=web") == ["b", "c"]
    assert await names("tier in (web,db)") == ["a", "b"]
    assert await names("tier notin (web)") == ["b", "c"]
    assert await names("env") == ["a", "c"]
    assert await names("!env") == ["b"]
    assert await names("tier=web,env=prod") == ["a"]
    bad = await client.get(CMS, params={"labelSelector": "tier in web"})
    assert bad.status_code == 400
    assert bad.json()["message"].startswith("unable to parse requirement")


async def test_field_selectors(api: Served) -> None:
    _, client = api
    for name in ("a", "b"):
        await client.post(CMS, json=configmap(name))
    resp = await client.get("/api/v1/configmaps", params={"fieldSelector": "metadata.name=b"})
    assert [i["metadata"]["name"] for i in resp.json()["items"]] == ["b"]
    resp = await client.get(CMS, params={"fieldSelector": "metadata.namespace!=default"})
    assert resp.json()["items"] == []
    unsupported = await client.get(CMS, params={"fieldSelector": "spec.nodeName=x"})
    assert unsupported.status_code == 400
    assert unsupported.json()["message"] == "field label not supported: spec.nodeName"


async def test_pod_field_selectors_node_and_phase(api: Served) -> None:
    _, client = api
    await client.post(PODS, json=pod("runner"))
    await eventually(
        client, f"{PODS}/runner", lambda r: r.json().get("status", {}).get("phase") == "Running"
    )
    on_node = await client.get(PODS, params={"fieldSelector": "spec.nodeName=emulated-node-1"})
    assert [i["metadata"]["name"] for i in on_node.json()["items"]] == ["runner"]
    running = await client.get(PODS, params={"fieldSelector": "status.phase=Running"})
    assert len(running.json()["items"]) == 1
    pending = await client.get(PODS, params={"fieldSelector": "status.phase=Pending"})
    assert pending.json()["items"] == []


async def test_pagination_with_limit_and_continue(api: Served) -> None:
    _, client = api
    for i in range(7):
        await client.post(CMS, json=configmap(f"cm-{i}"))
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 3}
    for _ in range(5):
        page = (await client.get(CMS, params=params)).json()
        seen += [i["metadata"]["name"] for i in page["items"]]
        token = page["metadata"].get("continue")
        if not token:
            break
        assert page["metadata"]["remainingItemCount"] == 7 - len(seen)
        params = {"limit": 3, "continue": token}
    assert seen == [f"cm-{i}" for i in range(7)]


async def test_cluster_scoped_resources(api: Served) -> None:
    _, client = api
    body = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "reader"},
        "rules": [],
    }
    created = await client.post("/apis/rbac.authorization.k8s.io/v1/clusterroles", json=body)
    assert created.status_code == 201
    assert "namespace" not in created.json()["metadata"]
    got = await client.get("/apis/rbac.authorization.k8s.io/v1/clusterroles/reader")
    assert got.status_code == 200


async def test_namespaces_exist_and_are_created_and_listed(api: Served) -> None:
    _, client = api
    names = [
        i["metadata"]["name"] for i in (await client.get("/api/v1/namespaces")).json()["items"]
    ]
    assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= set(names)
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}
    created = (await client.post("/api/v1/namespaces", json=ns)).json()
    assert created["status"]["phase"] == "Active"
    assert created["spec"]["finalizers"] == ["kubernetes"]
    account = await client.get("/api/v1/namespaces/team-a/serviceaccounts/default")
    assert account.status_code == 200


async def test_status_subresource_only_touches_status(api: Served) -> None:
    # A suspended CronJob: a kind with a status subresource and generation whose controller
    # leaves a suspended object's status alone (a Deployment's status is its controller's).
    _, client = api
    cronjobs = "/apis/batch/v1beta1/namespaces/default/cronjobs"
    t1, t2, t9 = (f"2026-01-01T00:00:0{n}Z" for n in (1, 2, 9))
    body = {
        "apiVersion": "batch/v1beta1",
        "kind": "CronJob",
        "metadata": {"name": "d"},
        "spec": {
            "schedule": "*/5 * * * *",
            "suspend": True,
            "jobTemplate": {"spec": {"template": {"spec": pod("d")["spec"]}}},
        },
        "status": {"lastScheduleTime": t9},
    }
    created = (await client.post(cronjobs, json=body)).json()
    assert created["metadata"]["generation"] == 1
    assert "status" not in created or created["status"] == {}  # what /status owns stays unset
    changed = dict(created, status={"lastScheduleTime": t1})
    changed["metadata"] = dict(created["metadata"], labels={"app": "other"})
    resp = await client.put(f"{cronjobs}/d/status", json=changed)
    assert resp.status_code == 200, resp.text
    after = resp.json()
    assert after["status"]["lastScheduleTime"] == t1
    assert "labels" not in after["metadata"]
    main = dict(after, status={"lastScheduleTime": t2})
    main["metadata"] = dict(after["metadata"], labels={"app": "relabelled"})
    main["spec"] = dict(after["spec"], suspend=False)
    updated = (await client.put(f"{cronjobs}/d", json=main)).json()
    assert updated["status"]["lastScheduleTime"] == t1
    assert updated["metadata"]["labels"] == {"app": "relabelled"}
    assert updated["metadata"]["generation"] == 2


async def test_defaults_filled_as_the_server_fills_them(api: Served) -> None:
    _, client = api
    created = (await client.post(PODS, json=pod("d"))).json()
    spec = created["spec"]
    assert spec["restartPolicy"] == "Always" and spec["dnsPolicy"] == "ClusterFirst"
    assert spec["serviceAccountName"] == "default"
    assert spec["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {"ports": [{"port": 80}]},
    }
    service = (await client.post("/api/v1/namespaces/default/services", json=svc)).json()
    assert service["spec"]["ports"][0] == {"port": 80, "protocol": "TCP", "targetPort": 80}
    assert service["spec"]["clusterIP"].startswith("10.")
    # 1.19 ServiceSpec has no ipFamilies: the default exists only where the field does
    assert "ipFamilies" not in service["spec"]


async def test_ipfamilies_defaulted_where_the_version_has_them(serve: Any) -> None:
    async with serve("1.21") as (_, client):
        svc = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web"},
            "spec": {"ports": [{"port": 80}]},
        }
        resp = await client.post("/api/v1/namespaces/default/services", json=svc)
    assert resp.json()["spec"]["ipFamilies"] == ["IPv4"]
    assert resp.json()["spec"]["ipFamilyPolicy"] == "SingleStack"


async def test_service_account_admission(api: Served) -> None:
    _, client = api
    body = pod("p")
    body["spec"]["serviceAccountName"] = "spark"
    resp = await client.post(PODS, json=body)
    assert resp.status_code == 403
    assert resp.json()["message"] == (
        'pods "p" is forbidden: error looking up service account default/spark: '
        'serviceaccount "spark" not found'
    )
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "spark"}}
    await client.post("/api/v1/namespaces/default/serviceaccounts", json=account)
    assert (await client.post(PODS, json=body)).status_code == 201


async def test_immutable_configmap_keeps_its_data(api: Served) -> None:
    _, client = api
    body = configmap("frozen")
    body["immutable"] = True
    created = (await client.post(CMS, json=body)).json()
    resp = await client.put(f"{CMS}/frozen", json=dict(created, data={"k": "new"}))
    assert resp.status_code == 422
    assert resp.json()["message"] == (
        'ConfigMap "frozen" is invalid: data: Forbidden: field is immutable when `immutable` is set'
    )


async def test_yaml_bodies_and_answers(api: Served) -> None:
    _, client = api
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\ndata:\n  when: 2024-01-01\n"
    resp = await client.post(CMS, content=text, headers={"Content-Type": "application/yaml"})
    assert resp.status_code == 201
    assert resp.json()["data"]["when"] == "2024-01-01"
    yaml_answer = await client.get(f"{CMS}/y", headers={"Accept": "application/yaml"})
    assert yaml_answer.headers["content-type"] == "application/yaml"
    assert "name: y" in yaml_answer.text


async def test_dry_run_stores_nothing(api: Served) -> None:
    _, client = api
    resp = await client.post(CMS, json=configmap("dry"), params={"dryRun": "All"})
    assert resp.status_code == 201
    assert (await client.get(f"{CMS}/dry")).status_code == 404


async def test_verbs_the_resource_lacks_are_405(api: Served) -> None:
    _, client = api
    resp = await client.delete("/api/v1/componentstatuses/etcd-0")
    assert resp.status_code == 405
    assert resp.json()["reason"] == "MethodNotAllowed"
