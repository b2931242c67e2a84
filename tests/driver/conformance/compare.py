"""Comparing what the builder makes with what the real spark-submit sent.

A trace's generated values (application id, resource and ConfigMap ids, local-dir UUID, submit
time, the recording server's uids) are read back from the trace and given to the builder, so the
bodies can be compared exactly. The intended differences (docs/driver-conformance.md) are applied
to the trace side explicitly, one function each, and nothing else is normalised except:
- the spark.properties text: Java writes entries in hash-table order with the wall-clock date;
  it is compared as a parsed map plus its header line.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

from kubespark.driver import BuildOptions, DriverResources, GeneratedIds, build_driver_resources
from kubespark.driver.javaprops import load_properties
from kubespark.driver.kubeflow import apply_pod_patches
from kubespark.spark import SparkApplication

Obj = dict[str, Any]


def read_trace(path: Path) -> tuple[Obj, list[Obj]]:
    """The capture settings (first line) and the write requests of a trace file."""
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    settings = lines[0].get("capture", {})
    writes = [r for r in lines if r.get("method") in ("POST", "PATCH", "PUT")]
    return settings, writes


def properties_config_map(writes: list[Obj]) -> Obj:
    """The spark.properties ConfigMap of a trace (the last write from Spark 3.3 on; 3.0-3.2
    write it before the pod-template ConfigMap)."""
    return next(
        w["body"]
        for w in writes
        if w["body"].get("kind") == "ConfigMap" and "spark.properties" in w["body"].get("data", {})
    )


def ids_from_trace(writes: list[Obj]) -> GeneratedIds:
    pod = writes[0]["body"]
    service = next(w["body"] for w in writes if w["body"]["kind"] == "Service")
    config_map = properties_config_map(writes)
    resource_id = re.search(r"-([0-9a-f]{16})-driver-svc$", service["metadata"]["name"])
    config_id = re.fullmatch(
        r"spark-drv-([0-9a-f]{16})-conf-map|.*-driver-conf-map",  # the second: Spark 3.0
        config_map["metadata"]["name"],
    )
    env = {e["name"]: e.get("value") for e in _driver_container(pod)["env"]}
    local_dir = re.search(r"/spark-([0-9a-f-]{36})$", env.get("SPARK_LOCAL_DIRS") or "")
    assert resource_id and config_id, "trace names are not spark-submit's"
    return GeneratedIds(
        app_id=pod["metadata"]["labels"]["spark-app-selector"],
        resource_id=resource_id.group(1),
        configmap_id=config_id.group(1) or "unused",
        local_dir_uuid=local_dir.group(1) if local_dir else "unused",
        service_id="unused",
    )


def _driver_container(pod: Obj) -> Obj:
    containers = pod["spec"]["containers"]
    return next((c for c in containers if c["name"] == "spark-kubernetes-driver"), containers[-1])


def build_like_trace(app: SparkApplication, settings: Obj, writes: list[Obj]) -> DriverResources:
    props = load_properties(properties_config_map(writes)["data"]["spark.properties"])
    options = BuildOptions(
        master=props["spark.master"],
        spark_user=settings.get("spark_user", "root"),
        submit_time_ms=int(props["spark.app.submitTime"])
        if "spark.app.submitTime" in props
        else None,
    )
    built = build_driver_resources(
        app,
        submission_id=settings["submission_id"],
        options=options,
        ids=ids_from_trace(writes),
    )
    owner = writes[1]["body"]["metadata"].get("ownerReferences", [{}])[0]
    return built.owned_by(owner["uid"]) if owner else built


# ---- intended differences, applied to the trace side --------------------------------------------


def with_webhook_patches(pod: Obj, app: SparkApplication) -> Obj:
    """Difference 1: kubeflow's webhook patches the created pod; kubespark creates it patched."""
    return apply_pod_patches(pod, app, "driver")


def with_service_links_off(pod: Obj) -> Obj:
    """Difference 2: kubespark drivers default to enableServiceLinks: false."""
    out = copy.deepcopy(pod)
    out["spec"].setdefault("enableServiceLinks", False)
    return out


def expected_pod(trace_pod: Obj, app: SparkApplication) -> Obj:
    return with_service_links_off(with_webhook_patches(trace_pod, app))


_SPARK_ENV = {
    "SPARK_USER",
    "SPARK_APPLICATION_ID",
    "SPARK_DRIVER_BIND_ADDRESS",
    "SPARK_LOCAL_DIRS",
    "SPARK_CONF_DIR",
}


def with_map_order_sorted(pod: Obj) -> Obj:
    """Spark adds driverEnv and secretKeyRef variables in a Java hash map's order; sort each run.

    A run is a stretch of entries between Spark's own fixed variables; the order of the fixed
    variables themselves is still compared.
    """
    out = copy.deepcopy(pod)
    for container in out["spec"]["containers"]:
        env, runs, run = container.get("env", []), [], []
        for entry in env:
            if entry["name"] in _SPARK_ENV:
                runs += [*sorted(run, key=lambda e: e["name"]), entry]
                run = []
            else:
                run.append(entry)
        if env:
            container["env"] = runs + run
    return out


def split_properties(config_map: Obj) -> tuple[Obj, str, dict[str, str]]:
    """A spark.properties ConfigMap without its text, the text's first line, and its entries."""
    out = copy.deepcopy(config_map)
    text = out["data"].pop("spark.properties")
    return out, text.splitlines()[0], load_properties(text)


def differences(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Readable paths where two JSON values differ."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for key in sorted(set(expected) | set(actual)):
            if key not in actual:
                out.append(f"{path}.{key}: missing (trace has {expected[key]!r})")
            elif key not in expected:
                out.append(f"{path}.{key}: extra {actual[key]!r}")
            else:
                out += differences(expected[key], actual[key], f"{path}.{key}")
        return out
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [
            d
            for i, (e, a) in enumerate(zip(expected, actual, strict=True))
            for d in differences(e, a, f"{path}[{i}]")
        ]
    return [] if expected == actual else [f"{path}: trace {expected!r} != built {actual!r}"]


def _in_trace_order(writes: list[Obj], built: list[Obj]) -> list[Obj]:
    """The built objects in the trace's order, matched by kind and name.

    Spark 3.0-3.2 create the driver's other resources with fabric8 5.x's createOrReplace of a
    resource list, which writes them in no fixed order (the 17 applications' traces 3.2.4 have
    the two ConfigMaps either way round); the builder keeps 3.3+'s order.
    """
    by_name = {(o["kind"], o["metadata"].get("name")): o for o in built}
    keys = [(w["body"].get("kind"), w["body"].get("metadata", {}).get("name")) for w in writes]
    if len(keys) != len(built) or set(keys) != set(by_name):
        return built
    return [by_name[key] for key in keys]


def compare(app: SparkApplication, settings: Obj, writes: list[Obj]) -> list[str]:
    """Every difference between the trace and the builder, beyond the intended ones."""
    built = build_like_trace(app, settings, writes)
    mine = [built.pod, *built.dependents]
    problems = (
        [] if len(writes) == len(mine) else [f"trace has {len(writes)} writes, built {len(mine)}"]
    )
    for index, (write, obj) in enumerate(zip(writes, _in_trace_order(writes, mine), strict=False)):
        trace = write["body"]
        where = f"[{index}] {trace['kind']}"
        if index == 0:
            expected = with_map_order_sorted(expected_pod(trace, app))
            problems += differences(expected, with_map_order_sorted(obj), where)
        elif "spark.properties" in trace.get("data", {}):
            t_rest, t_head, t_props = split_properties(trace)
            m_rest, m_head, m_props = split_properties(obj)
            problems += differences(t_rest, m_rest, where)
            problems += differences(t_head, m_head, where + " spark.properties header")
            problems += differences(t_props, m_props, where + " spark.properties")
        else:
            problems += differences(trace, obj, where)
    return problems
