#!/usr/bin/env python3
"""Measure the patch engine: writes per second, side by side with a peer where one exists.

Run: ``.venv/bin/python bench/bench_patch.py``. Prints, per operation, the rate on one core and
the ratio to its yardstick: for JSON patch the ``jsonpatch`` package (the Python client
ecosystem's RFC 6902 implementation) on the same document and operations; for everything else
the emulator's target of 1,000 creates/s (issue 4), since each create or patch runs exactly one
of these. The corpus is the spark-submit driver Service and ConfigMap (tests/patch/data) and a
Deployment. No assertion: a benchmark reports, tests judge behaviour.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonpatch  # type: ignore[import-untyped]

from kubespark.apisurface import apply_defaults, load_surface
from kubespark.patch import PatchTarget, apply_patch, apply_typing_errors, record_update
from kubespark.patch.json_patch import apply_json_patch
from kubespark.patch.merge_patch import apply_merge_patch
from kubespark.patch.strategic import SmpSchema, strategic_merge

DATA = Path(__file__).resolve().parents[1] / "tests" / "patch" / "data"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
TARGET = 1000.0
SECONDS = 1.0


def rate(fn: Callable[[], Any]) -> float:
    """Calls per second over about a second (after a warm-up call)."""
    fn()
    count = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < SECONDS:
        for _ in range(20):
            fn()
        count += 20
    return count / elapsed


def spark_bodies() -> dict[str, dict[str, Any]]:
    out = {}
    for line in (DATA / "spark_apply_requests.jsonl").read_text().splitlines():
        request = json.loads(line)
        if request["spark"] == "3.5.1":
            out[request["body"]["kind"]] = request["body"]
    return out


def deployment(replicas: int) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "nginx",
                            "image": "nginx:1.25",
                            "ports": [{"containerPort": 80}],
                            "env": [{"name": f"E{i}", "value": str(i)} for i in range(5)],
                        }
                    ]
                },
            },
        },
    }


def main() -> None:
    surface = load_surface("1.21")
    bodies = spark_bodies()
    service = bodies["Service"]
    svc_resource = surface.resource("v1", "Service")
    dep_resource = surface.resource("apps/v1", "Deployment")
    assert svc_resource is not None and dep_resource is not None
    svc_target = PatchTarget.for_resource(svc_resource, service["metadata"]["name"], "spark-jobs")
    dep_target = PatchTarget.for_resource(dep_resource, "web", "default")

    def prepare(obj: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = apply_defaults(surface, obj)
        return out

    service_text = json.dumps(service)

    def apply_create() -> Any:
        return apply_patch(
            surface,
            svc_target,
            None,
            service_text,
            content_type="application/apply-patch+yaml",
            field_manager="fabric8",
            force=True,
            now=NOW,
            prepare=prepare,
        )

    stored = apply_create().object
    stored["metadata"]["uid"] = "u1"

    def apply_again() -> Any:
        return apply_patch(
            surface,
            svc_target,
            stored,
            service_text,
            content_type="application/apply-patch+yaml",
            field_manager="fabric8",
            force=True,
            now=NOW,
        )

    created = prepare(deployment(3))

    def create_deployment() -> Any:
        return record_update(surface, dep_target, None, created, now=NOW, field_manager="kubectl")

    live = create_deployment()
    live["metadata"]["uid"] = "u1"
    scaled = json.loads(json.dumps(live))
    scaled["spec"]["replicas"] = 5

    def update_deployment() -> Any:
        return record_update(surface, dep_target, live, scaled, now=NOW, field_manager="hpa")

    old_surface = load_surface("1.19")

    def predict() -> Any:
        return apply_typing_errors(old_surface, service)

    ops = [
        {"op": "replace", "path": "/spec/replicas", "value": 5},
        {"op": "add", "path": "/metadata/labels/tier", "value": "front"},
        {"op": "remove", "path": "/spec/template/spec/containers/0/env/0"},
        {"op": "test", "path": "/kind", "value": "Deployment"},
    ]
    doc = deployment(3)
    peer_patch = jsonpatch.JsonPatch(ops)
    merge = {"metadata": {"labels": {"tier": "front", "app": None}}, "spec": {"replicas": 5}}
    schema = SmpSchema.of(surface.types, "io.k8s.api.apps.v1.Deployment")
    smp = {"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "n:2"}]}}}}

    print("patch engine, one core (rate/s; ratio to the yardstick)")
    mine = rate(lambda: apply_json_patch(doc, ops))
    peer = rate(lambda: peer_patch.apply(doc))
    print(
        f"  JSON patch, 4 ops      {mine:10,.0f}/s   jsonpatch {peer:10,.0f}/s   x{mine / peer:.2f}"
    )
    rows = [
        ("merge patch", lambda: apply_merge_patch(doc, merge)),
        ("strategic merge patch", lambda: strategic_merge(doc, smp, schema)),
        ("apply: create Service", apply_create),
        ("apply: no-op re-apply", apply_again),
        ("create: managedFields", create_deployment),
        ("update: managedFields", update_deployment),
        ("apply_typing_errors (1.19)", predict),
    ]
    for name, fn in rows:
        value = rate(fn)
        print(f"  {name:22} {value:10,.0f}/s   target {TARGET:,.0f}/s        x{value / TARGET:.2f}")


if __name__ == "__main__":
    main()
