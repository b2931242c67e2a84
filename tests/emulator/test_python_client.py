"""The official ``kubernetes`` Python client against emulated servers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

from kubespark.emulator.testing import RunningEmulator


@pytest.fixture
def core(emulator: RunningEmulator) -> Iterator[client.CoreV1Api]:
    api_client = config.new_client_from_config(config_file=str(emulator.kubeconfig_path))
    try:
        yield client.CoreV1Api(api_client)
    finally:
        api_client.close()


def _pod(name: str, **annotations: str) -> client.V1Pod:
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels={"app": "demo"}, annotations=annotations),
        spec=client.V1PodSpec(
            restart_policy="Never",
            containers=[client.V1Container(name="main", image="busybox:1.36")],
        ),
    )


def test_create_and_list(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_pod("default", _pod("one"))
    assert created.metadata.uid and created.metadata.namespace == "default"
    pods = core.list_namespaced_pod("default", label_selector="app=demo")
    assert [p.metadata.name for p in pods.items] == ["one"]
    everywhere = core.list_pod_for_all_namespaces()
    assert "one" in [p.metadata.name for p in everywhere.items]
    namespaces = [n.metadata.name for n in core.list_namespace().items]
    assert "kube-system" in namespaces


def test_errors_are_api_exceptions_with_the_status(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_pod("ghost", "default")
    assert missing.value.status == 404
    assert '"message":"pods \\"ghost\\" not found"' in missing.value.body
    core.create_namespaced_pod("default", _pod("dup"))
    with pytest.raises(ApiException) as dup:
        core.create_namespaced_pod("default", _pod("dup"))
    assert dup.value.status == 409


def test_watch_follows_a_pod_to_completion(core: client.CoreV1Api) -> None:
    phases: list[str] = []
    started = threading.Event()

    def follow() -> None:
        w = watch.Watch()
        started.set()
        for event in w.stream(
            core.list_namespaced_pod,
            "default",
            field_selector="metadata.name=job",
            timeout_seconds=20,
        ):
            obj: Any = event["object"]
            phases.append(f"{event['type']}:{obj.status.phase}")
            if obj.status.phase == "Succeeded":
                w.stop()

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    started.wait(5)
    time.sleep(0.3)
    core.create_namespaced_pod("default", _pod("job", **{"kubespark.io/emulate-run-seconds": "2"}))
    thread.join(timeout=30)
    assert phases[0] == "ADDED:Pending"
    assert "MODIFIED:Running" in phases
    assert phases[-1] == "MODIFIED:Succeeded"


def test_read_log(core: client.CoreV1Api) -> None:
    core.create_namespaced_pod(
        "default",
        _pod(
            "talker",
            **{"kubespark.io/emulate-run-seconds": "1", "kubespark.io/emulate-log": "line one"},
        ),
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if core.read_namespaced_pod("talker", "default").status.phase == "Succeeded":
            break
        time.sleep(0.1)
    assert core.read_namespaced_pod_log("talker", "default") == "line one\n"


def test_delete_with_propagation(core: client.CoreV1Api) -> None:
    cm = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="c"), data={"a": "b"})
    core.create_namespaced_config_map("default", cm)
    core.delete_namespaced_config_map(
        "c", "default", body=client.V1DeleteOptions(propagation_policy="Foreground")
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            core.read_namespaced_config_map("c", "default")
        except ApiException as err:
            assert err.status == 404
            return
        time.sleep(0.05)
    raise AssertionError("the config map was not deleted")


def test_patch_strategic_merge_and_json_patch(core: client.CoreV1Api) -> None:
    core.create_namespaced_pod("default", _pod("patched"))
    strategic = core.patch_namespaced_pod(
        "patched", "default", {"metadata": {"labels": {"tier": "web"}}}
    )
    assert strategic.metadata.labels == {"app": "demo", "tier": "web"}
    json_patch = core.patch_namespaced_pod(
        "patched", "default", [{"op": "remove", "path": "/metadata/labels/tier"}]
    )
    assert json_patch.metadata.labels == {"app": "demo"}
    with pytest.raises(ApiException) as bad:
        core.patch_namespaced_pod(
            "patched", "default", [{"op": "test", "path": "/metadata/name", "value": "other"}]
        )
    assert bad.value.status == 422


def test_patch_of_a_missing_object_is_a_404(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as missing:
        core.patch_namespaced_config_map("ghost", "default", {"data": {"a": "b"}})
    assert missing.value.status == 404


def test_patch_status_subresource(core: client.CoreV1Api) -> None:
    namespace = client.V1Namespace(metadata=client.V1ObjectMeta(name="patchy"))
    core.create_namespace(namespace)
    patched = core.patch_namespace_status("patchy", {"status": {"phase": "Terminating"}})
    assert patched.status.phase == "Terminating"
    assert patched.spec.finalizers == ["kubernetes"]
