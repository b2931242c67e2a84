"""Fixtures of the compat tests: what real spark-submit releases send."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

TRACES = Path(__file__).parent / "traces"


def trace_requests(release: str) -> list[dict[str, Any]]:
    lines = (TRACES / f"spark-{release}.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="session")
def spark351_applied() -> dict[str, dict[str, Any]]:
    """The bodies spark-submit 3.5.1 writes with server-side apply, by kind."""
    return {r["body"]["kind"]: r["body"] for r in trace_requests("3.5.1") if r["method"] == "PATCH"}


@pytest.fixture(scope="session")
def spark351_all() -> list[dict[str, Any]]:
    """Every body spark-submit 3.5.1 writes, in its order (Pod, Service, ConfigMap)."""
    return [r["body"] for r in trace_requests("3.5.1")]
