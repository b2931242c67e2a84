"""The workload controllers seen through real clients: kubectl's rollout status, scale, wait
and create job, and the official Python client reading what the controllers wrote."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from emu_helpers import kubectl, kubectl_get, needs_kubectl
from kubernetes import client, config

from kubespark.emulator.testing import RunningEmulator

pytestmark = needs_kubectl

DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web"},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "containers": [
                    {"name": "c", "image": "nginx:1.25", "ports": [{"containerPort": 80}]}
                ]
            },
        },
    },
}


def _job(name: str, completions: int, exit_code: int = 0, backoff: int = 6) -> dict[str, Any]:
    annotations = {
        "kubespark.io/emulate-run-seconds": "1",
        "kubespark.io/emulate-exit-code": str(exit_code),
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "completions": completions,
            "backoffLimit": backoff,
            "template": {
                "metadata": {"annotations": annotations},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "c", "image": "busybox:1.36"}],
                },
            },
        },
    }


def _eventually(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.1)


@pytest.mark.emulator(version="1.29", speed=20)
def test_rollout_status_set_image_and_scale(emulator: RunningEmulator, tmp_path: Path) -> None:
    kubectl(emulator, tmp_path, "apply", "-f", "-", stdin=json.dumps(DEPLOYMENT))
    status = kubectl(
        emulator, tmp_path, "rollout", "status", "deployment/web", "--timeout=60s"
    ).stdout
    assert 'deployment "web" successfully rolled out' in status
    kubectl(emulator, tmp_path, "set", "image", "deployment/web", "c=nginx:1.26")
    kubectl(emulator, tmp_path, "rollout", "status", "deployment/web", "--timeout=60s")
    sets = kubectl_get(emulator, tmp_path, "rs")["items"]
    by_revision = {
        s["metadata"]["annotations"]["deployment.kubernetes.io/revision"]: s for s in sets
    }
    assert set(by_revision) == {"1", "2"}
    assert by_revision["1"]["spec"]["replicas"] == 0 and by_revision["2"]["spec"]["replicas"] == 2
    image = by_revision["2"]["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "nginx:1.26"
    hash_label = by_revision["2"]["metadata"]["labels"]["pod-template-hash"]
    assert by_revision["2"]["metadata"]["name"] == f"web-{hash_label}"
    kubectl(emulator, tmp_path, "scale", "deployment/web", "--replicas=3")
    kubectl(emulator, tmp_path, "rollout", "status", "deployment/web", "--timeout=60s")
    dep = kubectl_get(emulator, tmp_path, "deployment/web")
    assert dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    status_now = dep["status"]
    assert status_now["observedGeneration"] == dep["metadata"]["generation"]
    assert (status_now["updatedReplicas"], status_now["availableReplicas"]) == (3, 3)
    assert {c["type"]: c["reason"] for c in status_now["conditions"]} == {
        "Available": "MinimumReplicasAvailable",
        "Progressing": "NewReplicaSetAvailable",
    }
    pods = kubectl_get(emulator, tmp_path, "pods", "-l", "app=web")
    assert len([p for p in pods["items"] if not p["metadata"].get("deletionTimestamp")]) == 3
    events = kubectl_get(emulator, tmp_path, "events")["items"]
    scaling = [
        e["message"]
        for e in events
        if e["involvedObject"]["kind"] == "Deployment" and e["reason"] == "ScalingReplicaSet"
    ]
    assert f"Scaled up replica set web-{hash_label} to 2" in scaling
    assert f"Scaled up replica set web-{hash_label} to 3" in scaling
    kubectl(emulator, tmp_path, "rollout", "undo", "deployment/web")
    kubectl(emulator, tmp_path, "rollout", "status", "deployment/web", "--timeout=60s")
    sets = kubectl_get(emulator, tmp_path, "rs")["items"]
    assert len(sets) == 2  # the first set came back as revision 3, as real controllers do
    back = by_revision["1"]["metadata"]["name"]
    now = {s["metadata"]["name"]: s for s in sets}[back]
    assert now["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    assert now["spec"]["replicas"] == 3


@pytest.mark.parametrize("version", ["1.19", "1.29"])
def test_wait_for_a_job_to_complete_and_create_job(
    emulator_factory: Callable[..., RunningEmulator], version: str, tmp_path: Path
) -> None:
    emu = emulator_factory(version=version, speed=20)
    kubectl(emu, tmp_path, "apply", "-f", "-", stdin=json.dumps(_job("pi", 2)))
    waited = kubectl(emu, tmp_path, "wait", "--for=condition=complete", "job/pi", "--timeout=60s")
    assert waited.stdout.strip() == "job.batch/pi condition met"
    job = kubectl_get(emu, tmp_path, "job/pi")
    assert job["status"]["succeeded"] == 2 and "completionTime" in job["status"]
    events = kubectl_get(emu, tmp_path, "events")["items"]
    reasons = [e["reason"] for e in events if e["involvedObject"]["name"] == "pi"]
    assert reasons.count("SuccessfulCreate") == 2 and "Completed" in reasons
    created = next(e for e in events if e["reason"] == "SuccessfulCreate")
    about = created["involvedObject"]
    assert (about["kind"], about["apiVersion"], about["uid"]) == (
        "Job",
        "batch/v1",
        job["metadata"]["uid"],
    )
    assert about["resourceVersion"] and created["source"] == {"component": "job-controller"}
    assert created["metadata"]["name"].startswith("pi.") and created["count"] == 1
    started = next(e for e in events if e["reason"] == "Started")
    assert started["source"]["component"] == "kubelet" and started["source"]["host"]
    scheduled = next(e for e in events if e["reason"] == "Scheduled")
    assert scheduled["source"]["component"] == "default-scheduler"
    assert (scheduled["involvedObject"]["kind"], scheduled["type"]) == ("Pod", "Normal")
    kubectl(emu, tmp_path, "create", "job", "j2", "--image=busybox:1.36")
    pods = kubectl_get(emu, tmp_path, "pods", "-l", "job-name=j2")
    owner = pods["items"][0]["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("Job", "j2", True)


@pytest.mark.emulator(version="1.29", speed=20)
def test_a_job_past_its_backoff_limit_fails(emulator: RunningEmulator, tmp_path: Path) -> None:
    failing = _job("bad", 1, exit_code=1, backoff=1)
    kubectl(emulator, tmp_path, "apply", "-f", "-", stdin=json.dumps(failing))
    waited = kubectl(
        emulator, tmp_path, "wait", "--for=condition=failed", "job/bad", "--timeout=60s"
    )
    assert waited.stdout.strip() == "job.batch/bad condition met"
    job = kubectl_get(emulator, tmp_path, "job/bad")
    assert job["status"]["failed"] == 2
    assert job["status"]["conditions"][0]["reason"] == "BackoffLimitExceeded"


@pytest.mark.emulator(version="1.29", speed=20)
def test_endpoints_follow_the_services_pods(emulator: RunningEmulator) -> None:
    api = config.new_client_from_config(config_file=str(emulator.kubeconfig_path))
    try:
        core = client.CoreV1Api(api)
        core.create_namespaced_service(
            "default",
            client.V1Service(
                metadata=client.V1ObjectMeta(name="web"),
                spec=client.V1ServiceSpec(
                    selector={"app": "web"},
                    ports=[client.V1ServicePort(name="http", port=80, target_port=8080)],
                ),
            ),
        )
        pod = client.V1Pod(
            metadata=client.V1ObjectMeta(name="p1", labels={"app": "web"}),
            spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="nginx")]),
        )
        core.create_namespaced_pod("default", pod)

        def ready_address() -> bool:
            subsets = core.read_namespaced_endpoints("web", "default").subsets or []
            return bool(subsets and subsets[0].addresses)

        _eventually(ready_address)
        subset = core.read_namespaced_endpoints("web", "default").subsets[0]
        assert subset.addresses[0].target_ref.name == "p1"
        assert subset.addresses[0].ip == core.read_namespaced_pod("p1", "default").status.pod_ip
        assert (subset.ports[0].name, subset.ports[0].port) == ("http", 8080)
        core.delete_namespaced_pod("p1", "default", grace_period_seconds=0)
        _eventually(lambda: not core.read_namespaced_endpoints("web", "default").subsets)
        core.delete_namespaced_service("web", "default")

        def endpoints_gone() -> bool:
            names = [e.metadata.name for e in core.list_namespaced_endpoints("default").items]
            return "web" not in names

        _eventually(endpoints_gone)
    finally:
        api.close()


@pytest.mark.parametrize(("version", "published"), [("1.19", False), ("1.21", True)])
def test_kube_root_ca_is_published_where_the_version_does(
    emulator_factory: Callable[..., RunningEmulator], version: str, published: bool
) -> None:
    emu = emulator_factory(version=version)
    api = config.new_client_from_config(config_file=str(emu.kubeconfig_path))
    try:
        core = client.CoreV1Api(api)
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="team")))

        def names() -> list[str]:
            return [c.metadata.name for c in core.list_namespaced_config_map("team").items]

        if published:
            _eventually(lambda: "kube-root-ca.crt" in names())
            cm = core.read_namespaced_config_map("kube-root-ca.crt", "team")
            assert cm.data["ca.crt"].startswith("-----BEGIN CERTIFICATE-----")
        else:
            time.sleep(0.5)
            assert "kube-root-ca.crt" not in names()
    finally:
        api.close()


@pytest.mark.parametrize(("version", "api_version"), [("1.19", "v1beta1"), ("1.29", "v1")])
def test_endpoint_slices_follow_the_services_pods(
    emulator_factory: Callable[..., RunningEmulator],
    version: str,
    api_version: str,
    tmp_path: Path,
) -> None:
    emu = emulator_factory(version=version, speed=20)
    api = config.new_client_from_config(config_file=str(emu.kubeconfig_path))
    try:
        core = client.CoreV1Api(api)
        core.create_namespaced_service(
            "default",
            client.V1Service(
                metadata=client.V1ObjectMeta(name="web"),
                spec=client.V1ServiceSpec(
                    selector={"app": "web"}, ports=[client.V1ServicePort(name="http", port=80)]
                ),
            ),
        )
        core.create_namespaced_pod(
            "default",
            client.V1Pod(
                metadata=client.V1ObjectMeta(name="p1", labels={"app": "web"}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="nginx")]),
            ),
        )
        path = f"/apis/discovery.k8s.io/{api_version}/namespaces/default/endpointslices"
        selector = "kubernetes.io%2Fservice-name%3Dweb"

        def slices() -> list[dict[str, Any]]:
            raw = kubectl(emu, tmp_path, "get", "--raw", f"{path}?labelSelector={selector}").stdout
            return list(json.loads(raw)["items"])

        def ready() -> bool:
            found = slices()
            return bool(found and found[0].get("endpoints"))

        _eventually(ready)
        piece = slices()[0]
        assert piece["addressType"] == "IPv4" and piece["ports"][0]["port"] == 80
        endpoint = piece["endpoints"][0]
        assert endpoint["conditions"]["ready"] is True
        assert endpoint["targetRef"]["name"] == "p1"
        owner = piece["metadata"]["ownerReferences"][0]
        assert (owner["kind"], owner["name"]) == ("Service", "web")
        assert piece["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"] == (
            "endpointslice-controller.k8s.io"
        )
    finally:
        api.close()


@pytest.mark.emulator(version="1.29", speed=20)
def test_statefulset_and_daemonset_roll_out(emulator: RunningEmulator, tmp_path: Path) -> None:
    template = {
        "metadata": {"labels": {"app": "db"}},
        "spec": {"containers": [{"name": "c", "image": "postgres:16"}]},
    }
    sts = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db"},
        "spec": {
            "serviceName": "db",
            "replicas": 2,
            "selector": {"matchLabels": {"app": "db"}},
            "template": template,
        },
    }
    ds = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent"},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {
                "metadata": {"labels": {"app": "agent"}},
                "spec": {"containers": [{"name": "c", "image": "fluentd:1"}]},
            },
        },
    }
    for obj in (sts, ds):
        kubectl(emulator, tmp_path, "apply", "-f", "-", stdin=json.dumps(obj))
    kubectl(emulator, tmp_path, "set", "image", "statefulset/db", "c=postgres:17")
    kubectl(emulator, tmp_path, "set", "image", "daemonset/agent", "c=fluentd:2")
    for target in ("statefulset/db", "daemonset/agent"):
        kubectl(emulator, tmp_path, "rollout", "status", target, "--timeout=60s")
    pods = kubectl_get(emulator, tmp_path, "pods")["items"]
    live = {p["metadata"]["name"]: p for p in pods if not p["metadata"].get("deletionTimestamp")}
    assert {n for n in live if n.startswith("db-")} == {"db-0", "db-1"}
    assert live["db-1"]["spec"]["containers"][0]["image"] == "postgres:17"
    assert live["db-1"]["spec"]["hostname"] == "db-1"
    assert live["db-1"]["spec"]["subdomain"] == "db"
    agents = [p for n, p in live.items() if n.startswith("agent-")]
    assert len(agents) == 1 and agents[0]["spec"]["containers"][0]["image"] == "fluentd:2"
    sts_status = kubectl_get(emulator, tmp_path, "sts/db")
    assert sts_status["status"]["currentRevision"] == sts_status["status"]["updateRevision"]


@pytest.mark.parametrize(("version", "made"), [("1.19", True), ("1.29", False)])
def test_service_account_token_secrets_until_1_24(
    emulator_factory: Callable[..., RunningEmulator], version: str, made: bool
) -> None:
    emu = emulator_factory(version=version)
    api = config.new_client_from_config(config_file=str(emu.kubeconfig_path))
    try:
        core = client.CoreV1Api(api)
        core.create_namespaced_service_account(
            "default", client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="spark"))
        )
        if made:
            _eventually(
                lambda: bool(core.read_namespaced_service_account("spark", "default").secrets)
            )
            ref = core.read_namespaced_service_account("spark", "default").secrets[0].name
            assert ref.startswith("spark-token-")
            secret = core.read_namespaced_secret(ref, "default")
            assert secret.type == "kubernetes.io/service-account-token"
            assert secret.metadata.annotations["kubernetes.io/service-account.name"] == "spark"
            assert {"token", "namespace", "ca.crt"} <= set(secret.data)
        else:
            time.sleep(0.5)
            assert not core.read_namespaced_service_account("spark", "default").secrets
            types = {s.type for s in core.list_namespaced_secret("default").items}
            assert "kubernetes.io/service-account-token" not in types
    finally:
        api.close()
