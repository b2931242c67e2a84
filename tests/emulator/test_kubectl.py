"""The installed kubectl, unmodified, against emulated servers."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from emu_helpers import kubectl, kubectl_command, needs_kubectl

from kubespark.emulator.testing import RunningEmulator

pytestmark = needs_kubectl

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
  - name: nginx
    image: nginx:1.25
    ports: [{containerPort: 80}]
"""
SERVICE_WITHOUT_PROTOCOL = """\
apiVersion: v1
kind: Service
metadata:
  name: driver-svc
spec:
  clusterIP: None
  ports:
  - name: driver-rpc-port
    port: 7078
    targetPort: 7078
  selector: {app: web}
"""


def test_create_get_yaml_and_delete(emulator: RunningEmulator, tmp_path: Path) -> None:
    created = kubectl(emulator, tmp_path, "create", "-f", "-", stdin=POD)
    assert created.stdout.strip() == "pod/web created"
    got = yaml.safe_load(kubectl(emulator, tmp_path, "get", "pod", "web", "-o", "yaml").stdout)
    assert got["metadata"]["name"] == "web" and got["kind"] == "Pod"
    assert got["spec"]["containers"][0]["image"] == "nginx:1.25"
    table = kubectl(emulator, tmp_path, "get", "pods").stdout.splitlines()
    assert table[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert table[1].split()[0] == "web"
    again = kubectl(emulator, tmp_path, "create", "-f", "-", stdin=POD, check=False)
    assert again.returncode == 1
    assert (
        'Error from server (AlreadyExists): error when creating "STDIN": pods "web" already '
        "exists" in again.stderr
    )
    deleted = kubectl(emulator, tmp_path, "delete", "pod", "web", "--wait=true")
    assert deleted.stdout.strip() == 'pod "web" deleted'
    missing = kubectl(emulator, tmp_path, "get", "pod", "web", check=False)
    assert 'Error from server (NotFound): pods "web" not found' in missing.stderr


def test_client_side_validation_uses_the_served_openapi(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    bad = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nfoo: bar\n"
    resp = kubectl(emulator, tmp_path, "create", "-f", "-", stdin=bad, check=False)
    assert resp.returncode == 1
    assert 'unknown field "foo"' in resp.stderr


@pytest.mark.emulator(version="1.27")
def test_server_side_field_validation_on_1_27(emulator: RunningEmulator, tmp_path: Path) -> None:
    bad = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nfoo: bar\n"
    resp = kubectl(emulator, tmp_path, "create", "-f", "-", stdin=bad, check=False)
    assert resp.returncode == 1
    assert 'strict decoding error: unknown field "foo"' in resp.stderr


def test_get_watch(emulator: RunningEmulator, tmp_path: Path) -> None:
    cmd = kubectl_command(emulator, tmp_path, "get", "pods", "-w", "--request-timeout=30s")
    lines: list[str] = []
    with subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as watcher:

        def read() -> None:
            assert watcher.stdout is not None
            for line in watcher.stdout:
                lines.append(line)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            time.sleep(1.0)
            kubectl(emulator, tmp_path, "create", "-f", "-", stdin=POD)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not any("Running" in ln for ln in lines):
                time.sleep(0.1)
            kubectl(emulator, tmp_path, "delete", "pod", "web", "--wait=false")
            while time.monotonic() < deadline and not any("Terminating" in ln for ln in lines):
                time.sleep(0.1)
        finally:
            watcher.terminate()
            watcher.wait(timeout=10)
            reader.join(timeout=10)
    rows = [line.split() for line in lines]
    assert rows[0][:3] == ["NAME", "READY", "STATUS"]
    statuses = [row[2] for row in rows[1:] if row and row[0] == "web"]
    assert "Running" in statuses and "Terminating" in statuses


def test_api_resources_and_version(emulator: RunningEmulator, tmp_path: Path) -> None:
    version = kubectl(emulator, tmp_path, "version", "-o", "yaml").stdout
    assert yaml.safe_load(version)["serverVersion"]["gitVersion"] == "v1.19.0"
    resources = kubectl(emulator, tmp_path, "api-resources", "--api-group=policy").stdout
    assert "policy/v1beta1" in resources and "policy/v1 " not in resources


@pytest.mark.emulator(version="1.30")
def test_aggregated_discovery_with_kubectl(emulator: RunningEmulator, tmp_path: Path) -> None:
    resources = kubectl(emulator, tmp_path, "api-resources", "--api-group=apps").stdout
    assert "deployments" in resources and "apps/v1" in resources


def test_crd_then_custom_objects_with_printer_columns(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    crd: dict[str, Any] = {
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
                    "additionalPrinterColumns": [
                        {"name": "Size", "type": "integer", "jsonPath": ".spec.size"}
                    ],
                }
            ],
        },
    }
    kubectl(emulator, tmp_path, "create", "-f", "-", stdin=yaml.safe_dump(crd))
    kubectl(
        emulator,
        tmp_path,
        "wait",
        "--for=condition=Established",
        "crd/widgets.example.com",
        "--timeout=20s",
    )
    widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 3}\n"
    kubectl(emulator, tmp_path, "create", "-f", "-", stdin=widget)
    table = kubectl(emulator, tmp_path, "get", "widgets").stdout.splitlines()
    assert table[0].split() == ["NAME", "SIZE", "AGE"]
    assert table[1].split()[:2] == ["w", "3"]


def test_apply_server_side_fails_on_1_19_without_protocol(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    resp = kubectl(
        emulator,
        tmp_path,
        "apply",
        "--server-side",
        "-f",
        "-",
        stdin=SERVICE_WITHOUT_PROTOCOL,
        check=False,
    )
    assert resp.returncode == 1
    assert "failed to create typed patch object" in resp.stderr
    assert (
        ".spec.ports: element 0: associative list with keys has an element that omits key "
        'field "protocol"'
    ) in resp.stderr
    missing = kubectl(emulator, tmp_path, "get", "service", "driver-svc", check=False)
    assert missing.returncode == 1


@pytest.mark.emulator(version="1.21")
def test_apply_server_side_succeeds_on_1_21(emulator: RunningEmulator, tmp_path: Path) -> None:
    resp = kubectl(
        emulator, tmp_path, "apply", "--server-side", "-f", "-", stdin=SERVICE_WITHOUT_PROTOCOL
    )
    assert resp.stdout.strip() == "service/driver-svc serverside-applied"
    svc = yaml.safe_load(
        kubectl(
            emulator,
            tmp_path,
            "get",
            "service",
            "driver-svc",
            "-o",
            "yaml",
            "--show-managed-fields",
        ).stdout
    )
    assert svc["spec"]["ports"][0]["protocol"] == "TCP"
    managers = {(e["manager"], e["operation"]) for e in svc["metadata"]["managedFields"]}
    assert ("kubectl", "Apply") in managers
    again = kubectl(
        emulator,
        tmp_path,
        "apply",
        "--server-side",
        "-f",
        "-",
        stdin=SERVICE_WITHOUT_PROTOCOL.replace("7078", "7079"),
    )
    assert again.stdout.strip() == "service/driver-svc serverside-applied"
    ports = yaml.safe_load(
        kubectl(emulator, tmp_path, "get", "service", "driver-svc", "-o", "yaml").stdout
    )["spec"]["ports"]
    assert [p["port"] for p in ports] == [7079]


@pytest.mark.emulator(version="1.21")
def test_client_side_apply_and_label(emulator: RunningEmulator, tmp_path: Path) -> None:
    kubectl(emulator, tmp_path, "apply", "-f", "-", stdin=POD)
    kubectl(emulator, tmp_path, "label", "pod", "web", "tier=frontend")
    pod = yaml.safe_load(kubectl(emulator, tmp_path, "get", "pod", "web", "-o", "yaml").stdout)
    assert pod["metadata"]["labels"] == {"app": "web", "tier": "frontend"}
    assert "kubectl.kubernetes.io/last-applied-configuration" in pod["metadata"]["annotations"]
    changed = POD.replace("labels: {app: web}", "labels: {app: web, release: two}")
    kubectl(emulator, tmp_path, "apply", "-f", "-", stdin=changed)
    pod = yaml.safe_load(kubectl(emulator, tmp_path, "get", "pod", "web", "-o", "yaml").stdout)
    assert pod["metadata"]["labels"] == {"app": "web", "tier": "frontend", "release": "two"}


def test_typed_create_commands_send_protobuf(emulator: RunningEmulator, tmp_path: Path) -> None:
    commands = [
        ["create", "namespace", "spark-jobs"],
        ["create", "serviceaccount", "spark", "-n", "spark-jobs"],
        [
            "create",
            "clusterrolebinding",
            "spark-role",
            "--clusterrole=edit",
            "--serviceaccount=spark-jobs:spark",
        ],
        ["create", "secret", "generic", "creds", "--from-literal=token=s3cr3t"],
        ["create", "configmap", "conf", "--from-literal=a=b"],
        ["create", "deployment", "web", "--image=nginx:1.25", "--replicas=0"],
    ]
    for args in commands:
        kubectl(emulator, tmp_path, *args)
    secret = yaml.safe_load(
        kubectl(emulator, tmp_path, "get", "secret", "creds", "-o", "yaml").stdout
    )
    assert secret["data"] == {"token": "czNjcjN0"} and secret["type"] == "Opaque"
    binding = yaml.safe_load(
        kubectl(emulator, tmp_path, "get", "clusterrolebinding", "spark-role", "-o", "yaml").stdout
    )
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "spark", "namespace": "spark-jobs"}
    ]
    assert binding["roleRef"]["name"] == "edit"
    deployment = yaml.safe_load(
        kubectl(emulator, tmp_path, "get", "deployment", "web", "-o", "yaml").stdout
    )
    assert deployment["spec"]["replicas"] == 0  # a pointer's zero survives
    assert "minReadySeconds" not in deployment["spec"]  # a plain zero is omitted, as in JSON
    account = yaml.safe_load(
        kubectl(emulator, tmp_path, "get", "sa", "spark", "-n", "spark-jobs", "-o", "yaml").stdout
    )
    assert account["metadata"]["namespace"] == "spark-jobs"
