"""Object builders and small helpers shared by the emulator's tests."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from kubespark.emulator import Emulator
from kubespark.emulator.testing import RunningEmulator

# An emulator and an HTTP client of it, as the fixtures in conftest.py yield them.
Served = tuple[Emulator, httpx.AsyncClient]

KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")


def kubectl_command(emu: RunningEmulator, tmp: Path, *args: str) -> list[str]:
    """kubectl's command line against ``emu``, its discovery cache under ``tmp``."""
    assert KUBECTL is not None
    cache = str(tmp / "kubectl-cache")
    return [KUBECTL, "--kubeconfig", str(emu.kubeconfig_path), "--cache-dir", cache, *args]


def kubectl(
    emu: RunningEmulator, tmp: Path, *args: str, stdin: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run kubectl against ``emu``; unless ``check`` is off, a failure fails the test."""
    cmd = kubectl_command(emu, tmp, *args)
    proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=90, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed: {proc.stderr}")
    return proc


def pod(name: str, **annotations: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": name}, "annotations": annotations},
        "spec": {"containers": [{"name": "main", "image": "busybox:1.36"}]},
    }


def configmap(name: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels},
        "data": {"k": "v"},
    }


async def eventually(
    client: httpx.AsyncClient,
    path: str,
    check: Callable[[httpx.Response], bool],
    seconds: float = 10.0,
) -> httpx.Response:
    """GET ``path`` until ``check`` holds (bounded), returning the last answer."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        resp = await client.get(path)
        if check(resp) or loop.time() > deadline:
            return resp
        await asyncio.sleep(0.02)


def phase(resp: httpx.Response) -> str:
    return (
        str(((resp.json() or {}).get("status") or {}).get("phase", "")) if resp.is_success else ""
    )


def kubectl_get(emu: RunningEmulator, tmp: Path, *args: str) -> Any:
    """``kubectl get ARGS -o json``, decoded."""
    return json.loads(kubectl(emu, tmp, "get", *args, "-o", "json").stdout)
