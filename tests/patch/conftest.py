"""Shared helpers for the patch tests: the real spark-submit bodies, surfaces, a fixed clock."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kubespark.apisurface import ApiSurface, apply_defaults, load_surface
from kubespark.patch import PatchTarget

DATA = Path(__file__).parent / "data"
NOW = datetime(2026, 11, 27, 6, 6, 9, tzinfo=UTC)
NOW_TEXT = "2026-11-27T06:06:09Z"


def spark_requests(release: str) -> dict[str, dict[str, Any]]:
    """The apply PATCH requests spark-submit of ``release`` sent, by kind."""
    out: dict[str, dict[str, Any]] = {}
    for line in (DATA / "spark_apply_requests.jsonl").read_text().splitlines():
        request = json.loads(line)
        if request["spark"] == release:
            out[request["body"]["kind"]] = request
    return out


@pytest.fixture(scope="session")
def spark351() -> dict[str, dict[str, Any]]:
    return spark_requests("3.5.1")


@pytest.fixture(scope="session")
def spark430() -> dict[str, dict[str, Any]]:
    return spark_requests("4.3.0")


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def target() -> Callable[..., PatchTarget]:
    return _target_for


@pytest.fixture
def defaulting() -> Callable[[ApiSurface], Callable[[dict[str, Any]], dict[str, Any]]]:
    return defaulter


def _target_for(surface: ApiSurface, body: dict[str, Any], namespace: str = "") -> PatchTarget:
    resource = surface.resource(body["apiVersion"], body["kind"])
    assert resource is not None, f"{surface.version} does not serve {body['kind']}"
    name = body["metadata"]["name"]
    ns = namespace or body["metadata"].get("namespace", "")
    return PatchTarget.for_resource(resource, name, ns)


def defaulter(surface: ApiSurface) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The server's defaulting step, from the API surface (what the emulator stores)."""

    def prepare(obj: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = apply_defaults(surface, obj)
        return out

    return prepare


@pytest.fixture(scope="session")
def newest() -> ApiSurface:
    from kubespark.apisurface import newest_version

    return load_surface(newest_version())
