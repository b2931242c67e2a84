"""The process kubelet's pod lifecycle, with cheap commands in an Apache Spark image pod.

A container with its own ``command`` runs that command (no JVM), so these tests see the kubelet's
part alone: logs, exit codes, mounts, deletion (SIGTERM, then SIGKILL after the grace period, to
the whole process tree), a stopping emulator leaving no process, and failures with a reason.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from realspark_support import need_spark

from kubespark.emulator.testing import RunningEmulator

pytestmark = pytest.mark.realspark

NS = "default"


def _pod(name: str, command: list[str], **spec: Any) -> dict[str, Any]:
    container = {"name": "main", "image": "apache/spark:3.5.1", "command": command}
    container |= spec.pop("container", {})
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"restartPolicy": "Never", "containers": [container], **spec},
    }


def _create(emu: RunningEmulator, body: dict[str, Any], kind: str = "pods") -> None:
    with httpx.Client(base_url=emu.url, timeout=10) as client:
        answer = client.post(f"/api/v1/namespaces/{NS}/{kind}", json=body)
    assert answer.status_code == 201, answer.text


def _get(emu: RunningEmulator, name: str) -> dict[str, Any] | None:
    with httpx.Client(base_url=emu.url, timeout=10) as client:
        answer = client.get(f"/api/v1/namespaces/{NS}/pods/{name}")
    return answer.json() if answer.status_code == 200 else None


def _until(check: Callable[[], Any], timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def _phase(emu: RunningEmulator, name: str, *phases: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        pod = _get(emu, name)
        return pod if pod and pod.get("status", {}).get("phase") in phases else None

    result: dict[str, Any] = _until(check)
    return result


def _log(emu: RunningEmulator, name: str) -> str:
    with httpx.Client(base_url=emu.url, timeout=10) as client:
        return client.get(f"/api/v1/namespaces/{NS}/pods/{name}/log").text


def _alive(pid: int) -> bool:
    """Running (a zombie is dead: only its parent's bookkeeping is left)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _processes_with(mark: str) -> list[int]:
    """PIDs whose environment carries ``mark`` (the pod's processes, children included)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            environ = (proc / "environ").read_bytes()
        except OSError:
            continue
        if mark.encode() in environ and _alive(int(proc.name)):
            found.append(int(proc.name))
    return found


@pytest.fixture(autouse=True)
def _spark() -> None:
    need_spark("3.5.1")


@pytest.mark.emulator(version="1.21", kubelet="process")
def test_output_is_the_log_and_the_exit_code_the_container_state(
    emulator: RunningEmulator,
) -> None:
    _create(emulator, _pod("fails", ["sh", "-c", "echo to-out; echo to-err >&2; exit 3"]))
    pod = _phase(emulator, "fails", "Failed")
    state = pod["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (state["exitCode"], state["reason"]) == (3, "Error")
    assert _log(emulator, "fails").splitlines() == ["to-out", "to-err"]


@pytest.mark.emulator(version="1.21", kubelet="process")
def test_a_pod_sees_its_volumes_env_and_address_at_their_real_paths(
    emulator: RunningEmulator,
) -> None:
    cm = {"metadata": {"name": "files"}, "data": {"a.txt": "alpha", "b.txt": "beta"}}
    _create(emulator, cm, "configmaps")
    volumes = [
        {"name": "cm", "configMap": {"name": "files", "items": [{"key": "b.txt", "path": "x/b"}]}},
        {"name": "scratch", "emptyDir": {}},
    ]
    container = {
        "volumeMounts": [
            {"name": "cm", "mountPath": "/opt/spark/conf"},
            {"name": "cm", "mountPath": "/etc/kubespark-b", "subPath": "x/b"},
            {"name": "scratch", "mountPath": "/mnt/scratch"},
        ],
        "env": [
            {"name": "MY_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "MY_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "GREETING", "value": "hi $(MY_NAME)"},
        ],
    }
    script = (
        "cat /opt/spark/conf/x/b; echo; cat /etc/kubespark-b; echo; "
        "echo $MY_IP $GREETING $(hostname) $(pwd); touch /mnt/scratch/ok && echo writable; "
        "cat /var/run/secrets/kubernetes.io/serviceaccount/namespace; echo; "
        "echo $KUBERNETES_SERVICE_HOST"
    )
    _create(emulator, _pod("looks", ["sh", "-c", script], volumes=volumes, container=container))
    pod = _phase(emulator, "looks", "Succeeded")
    ip = pod["status"]["podIP"]
    assert ip.startswith("127.1.")
    assert _log(emulator, "looks").splitlines() == [
        "beta",
        "beta",
        f"{ip} hi looks looks /opt/spark/work-dir",
        "writable",
        "default",
        "127.0.0.1",
    ]
    assert not Path("/opt/spark/conf/x").exists()  # the mounts stayed in the pod's namespace


@pytest.mark.emulator(version="1.21", kubelet="process")
def test_deleting_a_pod_terms_then_kills_its_whole_process_tree(
    emulator: RunningEmulator,
) -> None:
    mark = f"KUBESPARK_TEST_{uuid.uuid4().hex}"
    # The shell ignores SIGTERM, so only the SIGKILL after the grace period ends it.
    script = "trap '' TERM; sleep 300 & sleep 300 & wait"
    container = {"env": [{"name": mark, "value": "1"}]}
    body = _pod("stubborn", ["sh", "-c", script], container=container)
    _create(emulator, body)
    _phase(emulator, "stubborn", "Running")
    pids = _until(lambda: len(_processes_with(mark)) >= 3 and _processes_with(mark))
    started = time.monotonic()
    with httpx.Client(base_url=emulator.url, timeout=10) as client:
        client.request(
            "DELETE",
            f"/api/v1/namespaces/{NS}/pods/stubborn",
            json={"gracePeriodSeconds": 2},
        )
    _until(lambda: _get(emulator, "stubborn") is None, timeout=30)
    assert time.monotonic() - started >= 1.5  # it waited out the grace period
    assert [pid for pid in pids if _alive(pid)] == []


def test_stopping_the_emulator_leaves_no_process_behind(
    emulator_factory: Callable[..., RunningEmulator],
) -> None:
    mark = f"KUBESPARK_TEST_{uuid.uuid4().hex}"
    emu = emulator_factory(version="1.21", kubelet="process")
    for name in ("one", "two"):
        container = {"env": [{"name": mark, "value": "1"}]}
        _create(emu, _pod(name, ["sh", "-c", "sleep 300 & wait"], container=container))
        _phase(emu, name, "Running")
    pids = _until(lambda: len(_processes_with(mark)) >= 4 and _processes_with(mark))
    emu.runner.stop()
    assert [pid for pid in pids if _alive(pid)] == []
    assert not Path(emu.emulator.kubelet.root).exists()  # type: ignore[union-attr]


@pytest.mark.emulator(version="1.21", kubelet="process")
def test_what_the_image_would_hold_fails_the_container_with_what_to_do(
    emulator: RunningEmulator,
) -> None:
    jar = "local:///opt/spark/examples/jars/spark-examples_2.12-3.5.1.jar"
    body = _pod("examples", ["x"])
    del body["spec"]["containers"][0]["command"]
    body["spec"]["containers"][0]["args"] = ["driver", "--class", "SparkPi", jar]
    _create(emulator, body)
    pod = _phase(emulator, "examples", "Failed")
    state = pod["status"]["containerStatuses"][0]["state"]["terminated"]
    assert state["message"].startswith(f"{jar}: no such file in the pod")
    assert "mainApplicationFile" in state["message"]


@pytest.mark.emulator(version="1.21", kubelet="process")
def test_pods_of_other_images_keep_their_simulated_life(emulator: RunningEmulator) -> None:
    body = _pod("busy", ["sh", "-c", "exit 9"])
    body["spec"]["containers"][0]["image"] = "busybox:1.36"
    body["metadata"]["annotations"] = {"kubespark.io/emulate-run-seconds": "0.2"}
    _create(emulator, body)
    pod = _phase(emulator, "busy", "Succeeded")  # the simulated life: exit code 0, not 9
    assert pod["status"]["podIP"].startswith("127.1.")


@pytest.mark.emulator(version="1.21", kubelet="process")
def test_a_spark_image_whose_release_cannot_be_told_fails_with_what_to_do(
    emulator: RunningEmulator,
) -> None:
    body = _pod("untagged", ["sh", "-c", "exit 0"])
    body["spec"]["containers"][0]["image"] = "apache/spark:latest"
    _create(emulator, body)
    pod = _phase(emulator, "untagged", "Failed")
    message = pod["status"]["containerStatuses"][0]["state"]["terminated"]["message"]
    assert message.startswith("cannot tell the Spark release of image apache/spark:latest")
    assert "--spark-image-map apache/spark:latest=VERSION" in message


@pytest.mark.emulator(version="1.21", kubelet="process", spark_image_map=(("corp/etl:7", "3.5.1"),))
def test_a_mapped_custom_image_runs_as_that_release(emulator: RunningEmulator) -> None:
    body = _pod("custom", ["sh", "-c", "echo $SPARK_HOME"])
    body["spec"]["containers"][0]["image"] = "corp/etl:7"
    _create(emulator, body)
    _phase(emulator, "custom", "Succeeded")
    assert _log(emulator, "custom").strip().endswith("pyspark")


@pytest.mark.emulator(version="1.21", kubelet="process", speed=10)
def test_a_restarted_container_keeps_its_previous_log_for_kubectl_logs_previous(
    emulator: RunningEmulator,
) -> None:
    # The first instance fails; the restarted one keeps running (the emptyDir outlives it).
    script = (
        "if [ -e /mnt/state/ran ]; then echo second instance; sleep 300; "
        "else touch /mnt/state/ran; echo first instance; echo it fails >&2; exit 3; fi"
    )
    container = {"volumeMounts": [{"name": "state", "mountPath": "/mnt/state"}]}
    body = _pod(
        "flaky",
        ["sh", "-c", script],
        container=container,
        volumes=[{"name": "state", "emptyDir": {}}],
    )
    body["spec"]["restartPolicy"] = "OnFailure"
    never = _pod("steady", ["sh", "-c", "echo only; sleep 300"])
    _create(emulator, body)
    _create(emulator, never)

    def restarted() -> dict[str, Any] | None:
        pod = _get(emulator, "flaky")
        status = ((pod or {}).get("status", {}).get("containerStatuses") or [{}])[0]
        running = "running" in (status.get("state") or {})
        return status if running and status.get("restartCount") == 1 else None

    status = _until(restarted)
    assert status["lastState"]["terminated"]["exitCode"] == 3
    _until(lambda: _log(emulator, "flaky") == "second instance\n")
    kubectl = ["kubectl", "--kubeconfig", str(emulator.kubeconfig_path), "-n", NS, "logs"]
    previous = subprocess.run(
        [*kubectl, "flaky", "--previous"], capture_output=True, text=True, timeout=30
    )
    assert (previous.returncode, previous.stdout) == (0, "first instance\nit fails\n")
    _phase(emulator, "steady", "Running")
    none = subprocess.run(
        [*kubectl, "steady", "--previous"], capture_output=True, text=True, timeout=30
    )
    assert none.returncode == 1
    assert 'previous terminated container "main" in pod "steady" not found' in none.stderr


@pytest.mark.emulator(version="1.21", kubelet="process")
def test_metrics_of_a_process_pod_are_its_measured_usage(emulator: RunningEmulator) -> None:
    """The Spark container's usage is its process group's (busy CPU, 100 MiB resident); a
    sidecar of another image keeps the model (a fraction of the scheduler's defaults)."""
    spin = "import time\nx = b'x' * (100 << 20)\nwhile True: pass\n"
    body = _pod("spin", ["python3", "-c", spin])
    body["spec"]["containers"].append({"name": "sidecar", "image": "busybox:1.36"})
    _create(emulator, body)
    _phase(emulator, "spin", "Running")
    path = f"/apis/metrics.k8s.io/v1beta1/namespaces/{NS}/pods/spin"

    def busy() -> dict[str, Any] | None:
        with httpx.Client(base_url=emulator.url, timeout=10) as client:
            answer = client.get(path)
        if answer.status_code != 200:
            return None
        usage = {c["name"]: c["usage"] for c in answer.json()["containers"]}
        main = usage.get("main", {})
        memory = int(str(main.get("memory", "0Ki")).removesuffix("Ki") or 0) * 1024
        return usage if memory > 100 << 20 else None

    usage = _until(busy, timeout=30)
    time.sleep(1.0)  # a second read: the rate between the two
    with httpx.Client(base_url=emulator.url, timeout=10) as client:
        usage = {c["name"]: c["usage"] for c in client.get(path).json()["containers"]}
    assert int(usage["main"]["cpu"].removesuffix("n")) > 300_000_000  # a busy loop, ~1 core
    sidecar_cpu = int(usage["sidecar"]["cpu"].removesuffix("n"))
    assert 20_000_000 <= sidecar_cpu < 80_000_000  # the model: 20-80% of 100m
