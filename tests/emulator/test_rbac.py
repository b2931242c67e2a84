"""RBAC on the emulator (``authorization="rbac"``): the operator's own RBAC manifests decide what
its service accounts may do, seen through kubectl ``auth can-i`` and ``--as``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubespark.emulator.testing import RunningEmulator

KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
MANIFEST = Path(__file__).parents[2] / "deploy" / "manifests" / "kubespark-operator.yaml"
OPERATOR = "system:serviceaccount:kubespark:kubespark-operator"
SPARK = "system:serviceaccount:kubespark:kubespark-operator-spark"
RBAC_KINDS = {
    "Namespace",
    "ServiceAccount",
    "ClusterRole",
    "ClusterRoleBinding",
    "Role",
    "RoleBinding",
}


def kubectl(emu: RunningEmulator, tmp: Path, *args: str, stdin: str | None = None) -> Any:
    assert KUBECTL is not None
    cmd = [KUBECTL, "--kubeconfig", str(emu.kubeconfig_path), "--cache-dir", str(tmp), *args]
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=60)


def can_i(emu: RunningEmulator, tmp: Path, *args: str) -> str:
    return str(kubectl(emu, tmp, "auth", "can-i", *args).stdout.strip())


@pytest.mark.emulator(version="1.29", authorization="rbac")
def test_the_operator_charts_rbac_decides(emulator: RunningEmulator, tmp_path: Path) -> None:
    docs = [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d and d["kind"] in RBAC_KINDS]
    applied = kubectl(emulator, tmp_path, "apply", "-f", "-", stdin=yaml.safe_dump_all(docs))
    assert applied.returncode == 0, applied.stderr
    # the kubeconfig's own user is a cluster admin (system:masters)
    assert can_i(emulator, tmp_path, "delete", "nodes") == "yes"
    as_operator = f"--as={OPERATOR}"
    assert can_i(emulator, tmp_path, "create", "pods", "-n", "jobs", as_operator) == "yes"
    assert can_i(emulator, tmp_path, "watch", "namespaces", as_operator) == "yes"
    assert can_i(emulator, tmp_path, "list", "secrets", "-n", "jobs", as_operator) == "no"
    assert can_i(emulator, tmp_path, "delete", "services", "-n", "jobs", as_operator) == "yes"
    assert can_i(emulator, tmp_path, "list", "services", "-n", "jobs", as_operator) == "no"
    as_spark = f"--as={SPARK}"
    assert can_i(emulator, tmp_path, "create", "pods", "-n", "kubespark", as_spark) == "yes"
    assert can_i(emulator, tmp_path, "create", "pods", "-n", "default", as_spark) == "no"

    denied = kubectl(emulator, tmp_path, "get", "secrets", "-n", "jobs", as_operator)
    assert denied.returncode == 1
    assert (
        f'Error from server (Forbidden): secrets is forbidden: User "{OPERATOR}" cannot list '
        'resource "secrets" in API group "" in the namespace "jobs"'
    ) in denied.stderr
    named = kubectl(emulator, tmp_path, "get", "secret", "x", "-n", "jobs", as_operator)
    assert 'secrets "x" is forbidden: User' in named.stderr
    allowed = kubectl(emulator, tmp_path, "get", "pods", "-n", "kubespark", as_operator)
    assert allowed.returncode == 0, allowed.stderr

    listed = kubectl(emulator, tmp_path, "auth", "can-i", "--list", "-n", "kubespark", as_spark)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert any(line.split()[0] == "pods" and "deletecollection" in line for line in lines[1:])
    assert any(line.split()[0] == "selfsubjectaccessreviews.authorization.k8s.io" for line in lines)


def test_always_allow_is_the_default(emulator: RunningEmulator, tmp_path: Path) -> None:
    assert can_i(emulator, tmp_path, "list", "secrets", f"--as={OPERATOR}") == "yes"
