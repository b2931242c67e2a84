"""The simulated scheduler and kubelet: phases, statuses, annotations, logs, Spark drivers."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from emu_helpers import Served, eventually, phase, pod

from kubespark.emulator.workloads.sparkdriver import parse_properties

PODS = "/api/v1/namespaces/default/pods"
RUN = "kubespark.io/emulate-run-seconds"


def once(**annotations: str) -> dict[str, Any]:
    body = pod("job", **annotations)
    body["spec"]["restartPolicy"] = "Never"
    return body


async def settled(client: httpx.AsyncClient, name: str, *phases: str) -> dict[str, Any]:
    resp = await eventually(client, f"{PODS}/{name}", lambda r: phase(r) in phases)
    assert phase(resp) in phases, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def test_node_exists_and_pods_are_scheduled_and_run(api: Served) -> None:
    _, client = api
    node = (await client.get("/api/v1/nodes/emulated-node-1")).json()
    ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
    assert ready[0]["status"] == "True"
    assert node["status"]["nodeInfo"]["kubeletVersion"] == "v1.19.0"
    await client.post(PODS, json=pod("web"))
    running = await settled(client, "web", "Running")
    assert running["spec"]["nodeName"] == "emulated-node-1"
    status = running["status"]
    assert status["podIP"].startswith("10.244.") and status["startTime"]
    assert {c["type"]: c["status"] for c in status["conditions"]} == {
        "Initialized": "True",
        "Ready": "True",
        "ContainersReady": "True",
        "PodScheduled": "True",
    }
    (container,) = status["containerStatuses"]
    assert container["ready"] is True and "running" in container["state"]
    assert container["containerID"].startswith("containerd://")


async def test_run_seconds_and_exit_code(api: Served) -> None:
    _, client = api
    await client.post(PODS, json=once(**{RUN: "1"}))
    done = await settled(client, "job", "Succeeded")
    term = done["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (term["exitCode"], term["reason"]) == (0, "Completed")
    failing = once(**{RUN: "1", "kubespark.io/emulate-exit-code": "3"})
    failing["metadata"]["name"] = "fails"
    await client.post(PODS, json=failing)
    failed = await settled(client, "fails", "Failed")
    term = failed["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (term["exitCode"], term["reason"]) == (3, "Error")


async def test_oom_killed(api: Served) -> None:
    _, client = api
    await client.post(PODS, json=once(**{RUN: "1", "kubespark.io/emulate-oom-killed": "true"}))
    failed = await settled(client, "job", "Failed")
    term = failed["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (term["exitCode"], term["reason"]) == (137, "OOMKilled")


async def test_evicted(api: Served) -> None:
    _, client = api
    await client.post(PODS, json=once(**{RUN: "1", "kubespark.io/emulate-evicted": "true"}))
    failed = await settled(client, "job", "Failed")
    assert failed["status"]["reason"] == "Evicted"
    assert failed["status"]["message"].startswith("The node was low on resource: memory.")


async def test_image_pull_failure_stays_pending(api: Served) -> None:
    _, client = api
    await client.post(PODS, json=once(**{"kubespark.io/emulate-image-pull-failure": "true"}))
    resp = await eventually(client, f"{PODS}/job", lambda r: "ImagePullBackOff" in r.text)
    status = resp.json()["status"]
    assert status["phase"] == "Pending"
    waiting = status["containerStatuses"][0]["state"]["waiting"]
    assert waiting["reason"] == "ImagePullBackOff"


async def test_unschedulable(api: Served) -> None:
    _, client = api
    await client.post(PODS, json=once(**{"kubespark.io/emulate-unschedulable": "true"}))
    resp = await eventually(client, f"{PODS}/job", lambda r: "Unschedulable" in r.text)
    body = resp.json()
    assert "nodeName" not in body["spec"]
    (cond,) = body["status"]["conditions"]
    assert (cond["type"], cond["status"], cond["reason"]) == (
        "PodScheduled",
        "False",
        "Unschedulable",
    )


async def test_restart_policy_always_restarts(api: Served) -> None:
    _, client = api
    body = pod("loop", **{RUN: "0.5", "kubespark.io/emulate-exit-code": "1"})
    await client.post(PODS, json=body)
    resp = await eventually(
        client,
        f"{PODS}/loop",
        lambda r: any(
            c.get("restartCount", 0) >= 1 for c in r.json()["status"].get("containerStatuses", [])
        ),
    )
    assert resp.json()["status"]["containerStatuses"][0]["restartCount"] >= 1


async def test_missing_configmap_volume_keeps_the_pod_creating(api: Served) -> None:
    _, client = api
    body = once()
    body["spec"]["volumes"] = [{"name": "conf", "configMap": {"name": "later"}}]
    await client.post(PODS, json=body)
    resp = await eventually(client, f"{PODS}/job", lambda r: "ContainerCreating" in r.text)
    assert resp.json()["status"]["phase"] == "Pending"
    events = (await client.get("/api/v1/namespaces/default/events")).json()["items"]
    assert any(
        e["reason"] == "FailedMount" and 'configmap "later" not found' in e["message"]
        for e in events
    )
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "later"}}
    await client.post("/api/v1/namespaces/default/configmaps", json=cm)
    await settled(client, "job", "Running")


async def test_each_missing_volume_source_is_reported_in_turn(api: Served) -> None:
    """As a real kubelet retries the mount: once one source appears, the next missing one shows."""
    _, client = api
    body = once()
    body["spec"]["volumes"] = [
        {"name": "first", "configMap": {"name": "one"}},
        {"name": "metrics", "configMap": {"name": "app-prom-conf"}},
    ]
    await client.post(PODS, json=body)

    async def failed_mounts() -> list[str]:
        events = (await client.get("/api/v1/namespaces/default/events")).json()["items"]
        return [e["message"] for e in events if e["reason"] == "FailedMount"]

    await eventually(client, f"{PODS}/job", lambda r: "ContainerCreating" in r.text)
    assert await failed_mounts() == [
        'MountVolume.SetUp failed for volume "first" : configmap "one" not found'
    ]
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "one"}}
    await client.post("/api/v1/namespaces/default/configmaps", json=cm)
    second = 'MountVolume.SetUp failed for volume "metrics" : configmap "app-prom-conf" not found'
    for _ in range(100):
        if second in await failed_mounts():
            break
        await asyncio.sleep(0.05)
    assert second in await failed_mounts()
    assert (await client.get(f"{PODS}/job")).json()["status"]["phase"] == "Pending"
    cm["metadata"]["name"] = "app-prom-conf"
    await client.post("/api/v1/namespaces/default/configmaps", json=cm)
    await settled(client, "job", "Running")


async def test_logs(api: Served) -> None:
    _, client = api
    body = once(**{RUN: "1", "kubespark.io/emulate-log": "hello\nworld"})
    await client.post(PODS, json=body)
    waiting = await client.get(f"{PODS}/job/log")
    assert waiting.status_code in (200, 400)
    await settled(client, "job", "Succeeded")
    logs = await client.get(f"{PODS}/job/log")
    assert logs.status_code == 200
    assert logs.text == "hello\nworld\n"
    tail = await client.get(f"{PODS}/job/log", params={"tailLines": "1"})
    assert tail.text == "world\n"
    wrong = await client.get(f"{PODS}/job/log", params={"container": "nope"})
    assert wrong.status_code == 400


async def test_graceful_deletion_by_the_kubelet(api: Served) -> None:
    _, client = api
    await client.post(PODS, json=pod("web"))
    await settled(client, "web", "Running")
    resp = await client.delete(f"{PODS}/web")
    body = resp.json()
    assert body["metadata"]["deletionTimestamp"]
    assert body["metadata"]["deletionGracePeriodSeconds"] == 30
    gone = await eventually(client, f"{PODS}/web", lambda r: r.status_code == 404)
    assert gone.status_code == 404


def test_java_properties_as_spark_writes_them() -> None:
    text = (
        "#Java properties built from Kubernetes config map\n"
        "spark.master=k8s\\://http\\://127.0.0.1\\:18101\n"
        "spark.executor.instances=2\n"
        "spark.app.name = spark-pi\n"
        "spark.submit.pyFiles=\n"
    )
    props = parse_properties(text)
    assert props["spark.master"] == "k8s://http://127.0.0.1:18101"
    assert props["spark.executor.instances"] == "2"
    assert props["spark.app.name"] == "spark-pi"
    assert props["spark.submit.pyFiles"] == ""


async def test_spark_driver_creates_executors_then_finishes(api: Served) -> None:
    _, client = api
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "spark"}}
    await client.post("/api/v1/namespaces/default/serviceaccounts", json=account)
    conf = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "app-conf-map"},
        "data": {
            "spark.properties": "spark.executor.instances=3\n"
            "spark.app.id=spark-0123\nspark.app.name=pi\n"
            "spark.kubernetes.executor.podNamePrefix=pi-abc\n"
        },
    }
    await client.post("/api/v1/namespaces/default/configmaps", json=conf)
    driver = pod("pi-abc-driver", **{RUN: "2"})
    driver["metadata"]["labels"] = {
        "spark-role": "driver",
        "spark-app-selector": "spark-0123",
        "spark-version": "3.5.1",
    }
    driver["spec"].update(
        serviceAccountName="spark",
        restartPolicy="Never",
        volumes=[{"name": "spark-conf-volume-driver", "configMap": {"name": "app-conf-map"}}],
    )
    driver["spec"]["containers"][0]["name"] = "spark-kubernetes-driver"
    created = (await client.post(PODS, json=driver)).json()
    executors = await eventually(
        client, PODS + "?labelSelector=spark-role%3Dexecutor", lambda r: len(r.json()["items"]) == 3
    )
    items = executors.json()["items"]
    assert sorted(i["metadata"]["name"] for i in items) == [
        "pi-abc-exec-1",
        "pi-abc-exec-2",
        "pi-abc-exec-3",
    ]
    first = items[0]
    assert first["metadata"]["labels"]["spark-app-selector"] == "spark-0123"
    assert first["metadata"]["labels"]["spark-exec-id"] in ("1", "2", "3")
    (ref,) = first["metadata"]["ownerReferences"]
    assert (ref["kind"], ref["name"], ref["uid"]) == (
        "Pod",
        "pi-abc-driver",
        created["metadata"]["uid"],
    )
    await settled(client, "pi-abc-driver", "Succeeded")
    left = await eventually(
        client, PODS + "?labelSelector=spark-role%3Dexecutor", lambda r: r.json()["items"] == []
    )
    assert left.json()["items"] == []
    log = (await client.get(f"{PODS}/pi-abc-driver/log")).text
    assert "Running Spark version 3.5.1" in log and "Pi is roughly 3.14" in log


async def test_spark_driver_without_its_configmap_waits(api: Served) -> None:
    _, client = api
    driver = pod("lonely-driver")
    driver["metadata"]["labels"] = {"spark-role": "driver"}
    driver["spec"]["volumes"] = [
        {"name": "spark-conf-volume-driver", "configMap": {"name": "never-made"}}
    ]
    await client.post(PODS, json=driver)
    resp = await eventually(
        client, f"{PODS}/lonely-driver", lambda r: "ContainerCreating" in r.text
    )
    assert phase(resp) == "Pending"
    executors = (await client.get(PODS, params={"labelSelector": "spark-role=executor"})).json()
    assert executors["items"] == []
