"""``kubespark submit --wait`` end to end on emulated servers over real HTTP.

Spark 3.5.1's SparkPi runs to completion on every server from 1.16 to the newest, with the
writes each one needs (POST where server-side apply would fail, filled list-map keys on 1.20
before the protocol backport, apply from 1.21); a failing driver exits 1 with the doctor's
diagnosis; a write refused part-way deletes what was written and is diagnosed; a temporary one
is retried and adopted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from submit_support import (
    eventually,
    get,
    kubespark,
    nothing_stored,
    prepare,
    spark_pi,
    stored,
    write_app,
)

from kubespark.apisurface import newest_version
from kubespark.emulator import Faults
from kubespark.emulator.testing import RunningEmulator
from kubespark.submit.submitted_apps import CLI_RETRY

NEWEST = str(newest_version())
Factory = Callable[..., RunningEmulator]


def started(emulator_factory: Factory, version: str) -> RunningEmulator:
    emu = emulator_factory(version)
    prepare(emu)
    return emu


def objects_of(emu: RunningEmulator, kind: str) -> list[dict[str, object]]:
    plural = {"Service": "services", "ConfigMap": "configmaps", "Pod": "pods"}[kind]
    return list(get(emu, f"/api/v1/namespaces/spark-jobs/{plural}")["items"])


def operations(obj: dict[str, object]) -> set[tuple[str, str]]:
    meta = obj["metadata"]
    assert isinstance(meta, dict)
    return {(m["manager"], m["operation"]) for m in meta.get("managedFields") or []}


@pytest.mark.parametrize("k8s", ["1.16", "1.19", "1.20", "1.20.5", "1.21", NEWEST])
def test_spark_pi_3_5_1_runs_to_completion(
    emulator_factory: Factory, tmp_path: Path, k8s: str
) -> None:
    emu = started(emulator_factory, k8s)
    result = kubespark(emu, "submit", str(write_app(tmp_path, spark_pi())), "--wait")
    out = result.stdout
    assert result.exit_code == 0, result.output
    assert "✓ submitted spark-jobs/spark-pi (Spark 3.5.1)" in out
    assert "executors: 2 running" in out  # the simulated driver ran its executors
    assert "✓ spark-pi completed" in out
    pod = get(emu, "/api/v1/namespaces/spark-jobs/pods/spark-pi-driver")
    assert pod["status"]["phase"] == "Succeeded"
    log = get_log(emu)
    assert "Pi is roughly" in log
    services = [s["metadata"]["name"] for s in objects_of(emu, "Service")]
    assert len([n for n in services if n.endswith("-driver-svc")]) == 1


def get_log(emu: RunningEmulator) -> str:
    import httpx

    with httpx.Client(base_url=emu.url, timeout=10) as client:
        return client.get("/api/v1/namespaces/spark-jobs/pods/spark-pi-driver/log").text


@pytest.mark.parametrize("k8s", ["1.16", "1.19"])
def test_before_1_20_the_service_is_posted_without_the_fields_it_lacks(
    emulator_factory: Factory, tmp_path: Path, k8s: str
) -> None:
    emu = started(emulator_factory, k8s)
    result = kubespark(emu, "submit", str(write_app(tmp_path, spark_pi())), "-o", "json")
    assert result.exit_code == 0, result.output
    notes = json.loads(result.stdout)["notes"]
    version = emu.version.lstrip("v")
    assert (
        f"server {version}: created the Service with POST instead of apply; dropped "
        "spec.ipFamilies (added in 1.20), spec.ipFamilyPolicy (added in 1.20); if it exists, "
        "the same body is sent as a JSON merge patch"
    ) in notes
    # People read each dropped field once: folded into the fallback sentence, not repeated.
    assert sum("dropped spec.ipFamilies" in note for note in notes) == 1, notes
    (driver_svc,) = [
        s for s in objects_of(emu, "Service") if s["metadata"]["name"].endswith("-driver-svc")
    ]
    assert "ipFamilies" not in driver_svc["spec"]
    assert ("kubespark", "Apply") not in operations(driver_svc)


def test_on_1_20_before_the_backport_the_protocol_key_is_filled_and_applied(
    emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = started(emulator_factory, "1.20.5")
    result = kubespark(emu, "submit", str(write_app(tmp_path, spark_pi())), "-o", "json")
    assert result.exit_code == 0, result.output
    notes = json.loads(result.stdout)["notes"]
    assert any("filled spec.ports[0].protocol: TCP" in n for n in notes)
    (driver_svc,) = [
        s for s in objects_of(emu, "Service") if s["metadata"]["name"].endswith("-driver-svc")
    ]
    assert ("kubespark", "Apply") in operations(driver_svc)
    assert driver_svc["spec"]["ipFamilies"] == ["IPv4"]


def test_on_the_newest_every_dependent_is_server_side_applied(
    emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = started(emulator_factory, NEWEST)
    result = kubespark(emu, "submit", str(write_app(tmp_path, spark_pi())), "-o", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["notes"] == []
    applied = [
        o["metadata"]["name"]
        for kind in ("Service", "ConfigMap")
        for o in objects_of(emu, kind)
        if ("kubespark", "Apply") in operations(o)
    ]
    assert len([n for n in applied if n.endswith("-driver-svc")]) == 1
    assert len([n for n in applied if n.endswith("-conf-map")]) == 2
    (pod,) = [p for p in objects_of(emu, "Pod") if p["metadata"]["name"] == "spark-pi-driver"]
    assert ("kubespark", "Update") in operations(pod)  # created with POST, as spark-submit does


def test_a_failing_driver_exits_1_with_the_doctors_diagnosis(
    emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = started(emulator_factory, "1.19")
    app = spark_pi(**{"kubespark.io/emulate-oom-killed": "true"})
    result = kubespark(emu, "submit", str(write_app(tmp_path, app)), "--wait")
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert "✗ spark-pi failed: driver container failed with ExitCode: 137, Reason: OOMKilled" in out
    assert "container-oom-killed" in out and "remedies" in out
    status = kubespark(emu, "status", "spark-pi", "-n", "spark-jobs")
    assert status.exit_code == 1 and "FAILED" in status.stdout


def test_a_driver_that_cannot_start_says_why_and_gives_up_at_the_timeout(
    emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = started(emulator_factory, "1.19")
    app = spark_pi(**{"kubespark.io/emulate-image-pull-failure": "true"})
    result = kubespark(
        emu, "submit", str(write_app(tmp_path, app)), "--wait", "--timeout", "3", "-o", "json"
    )
    assert result.exit_code == 1, result.output
    outcome = json.loads(result.stdout)["result"]
    assert outcome["timedOut"] is True and outcome["state"] == "PENDING"
    assert outcome["waiting"].startswith(("ImagePullBackOff", "ErrImagePull"))


def test_a_write_refused_part_way_is_cleaned_up_and_diagnosed(
    emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = started(emulator_factory, "1.19")
    emu.set_faults(Faults(fail_write=3, fail_write_code=403))
    result = kubespark(emu, "submit", str(write_app(tmp_path, spark_pi())))
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert "✗ submitting spark-jobs/spark-pi failed" in out
    assert "is forbidden" in out and "HTTP 403" in out
    assert "written before the failure: Pod spark-jobs/spark-pi-driver" in out
    assert "deleted again: " in out and "deleted again: nothing" not in out
    # The doctor's reading keeps the verb, the namespace and the status of the refused write.
    # The third write on 1.19 is the pod template's ConfigMap, applied server-side.
    assert re.search(
        r"API call: PATCH configmaps spark-jobs/spark-pi-\S+ → HTTP 403 Forbidden", out
    )
    # The pod was deleted gracefully (the kubelet stops it first), its executors by the GC.
    assert eventually(lambda: nothing_stored(emu))


def test_a_temporary_failure_part_way_is_retried_and_adopted(
    emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = started(emulator_factory, "1.19")
    emu.set_faults(Faults(fail_write=3, fail_write_code=503))
    result = kubespark(emu, "submit", str(write_app(tmp_path, spark_pi())), "--wait")
    assert result.exit_code == 0, result.output
    objects = stored(emu)
    assert "spark-pi-driver" in objects["pods"]
    assert len([c for c in objects["configmaps"] if c.endswith("-conf-map")]) == 2


def test_a_temporary_failure_that_outlasts_the_retries_is_cleaned_up_too(
    emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = started(emulator_factory, "1.19")
    # Every attempt at the three dependents fails (3 writes x the CLI's attempts); the deletes
    # that follow do not.
    attempts = 3 * CLI_RETRY.attempts
    emu.set_faults(Faults(fail_write=2, fail_write_count=attempts, fail_write_code=503))
    result = kubespark(emu, "submit", str(write_app(tmp_path, spark_pi())))
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert "the server is currently unable to handle the request" in out
    assert "deleted again: Pod spark-jobs/spark-pi-driver" in out
    assert eventually(lambda: nothing_stored(emu))


@pytest.mark.parametrize("output", ["text", "json"])
def test_a_refused_notes_annotation_warns_and_the_submission_stands(
    emulator_factory: Factory, tmp_path: Path, output: str
) -> None:
    emu = started(emulator_factory, "1.19")
    # Writes on 1.19: the pod, its Service and two ConfigMaps, then the notes' merge patch.
    emu.set_faults(Faults(fail_write=5, fail_write_code=403))
    result = kubespark(emu, "submit", str(write_app(tmp_path, spark_pi())), "--wait", "-o", output)
    assert result.exit_code == 0, result.output
    if output == "json":
        (warning,) = json.loads(result.stdout)["warnings"]
    else:
        (warning,) = [line for line in result.stdout.splitlines() if "warning" in line]
    assert "compat notes could not be recorded on spark-jobs/spark-pi-driver" in warning
    assert "HTTP 403" in warning and "allow this user to patch pods" in warning
    driver = get(emu, "/api/v1/namespaces/spark-jobs/pods/spark-pi-driver")
    assert driver["status"]["phase"] == "Succeeded"
    assert "kubespark.io/compat-notes" not in (driver["metadata"].get("annotations") or {})
