"""The README's "Use from Python" block, run as written against the real operator.

The block is read from the README (so the test follows the text), run from the repository's root
(it names ``examples/spark-pi.yaml``) with ``KUBECONFIG`` pointing at an emulated 1.21 server,
after ``examples/spark-rbac.yaml`` created the ``spark`` service account the example runs as.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from operator_harness import running_cluster

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def python_block() -> str:
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Use from Python") :]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "the README's Use from Python section has no python block"
    return match.group(1)


def _apply(url: str, path: Path) -> None:
    with httpx.Client(base_url=url, timeout=10) as client:
        for doc in yaml.safe_load_all(path.read_text()):
            group = "/api/v1" if doc["apiVersion"] == "v1" else f"/apis/{doc['apiVersion']}"
            plural = doc["kind"].lower() + "s"
            response = client.post(f"{group}/namespaces/default/{plural}", json=doc)
            assert response.status_code == 201, response.text


def _run_block(kubeconfig: Path) -> None:
    previous = (os.environ.get("KUBECONFIG"), Path.cwd())
    os.environ["KUBECONFIG"] = str(kubeconfig)
    os.chdir(REPO)
    try:
        exec(compile(python_block(), "README.md", "exec"), {})
    finally:
        if previous[0] is None:
            os.environ.pop("KUBECONFIG", None)
        else:
            os.environ["KUBECONFIG"] = previous[0]
        os.chdir(previous[1])


async def test_the_readme_python_block_runs_as_written(
    emulator_factory: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    async with running_cluster(emulator_factory, "1.21") as cluster:
        _apply(cluster.emulator.url, REPO / "examples" / "spark-rbac.yaml")
        await asyncio.to_thread(_run_block, cluster.kubeconfig)
