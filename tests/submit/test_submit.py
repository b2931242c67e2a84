"""The submission core shared by the operator and ``kubespark submit``, on emulated servers.

Planning per server (POST where apply would fail, apply where it works, every change noted),
adopting what a retry finds, refusing what is not the submission's, undoing a half-written
submission on a permanent failure, keeping it on a temporary one, and the follow-up helpers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from kubespark.compat import WriteMethod, offline_capabilities
from kubespark.emulator import Faults
from kubespark.kube.client import KubeClient, RetryPolicy
from kubespark.kube.requests import JSON, KubeRequest
from kubespark.records import replace
from kubespark.spark import load_application
from kubespark.spark.model import SparkApplication
from kubespark.submit import (
    DriverState,
    SubmissionConflict,
    SubmissionFailed,
    delete_application,
    diagnose,
    driver_status,
    plan_submission,
    server_capabilities,
    submit_application,
)

APP = """
apiVersion: sparkoperator.k8s.io/v1beta2
kind: SparkApplication
metadata: {{name: {name}, namespace: default}}
spec:
  type: Scala
  image: apache/spark:{spark}
  sparkVersion: "{spark}"
  mainClass: org.apache.spark.examples.SparkPi
  mainApplicationFile: local:///opt/spark/examples/jars/spark-examples.jar
  executor: {{instances: 1}}
"""


def app(name: str = "pi", spark: str = "3.4.1") -> SparkApplication:
    return load_application(APP.format(name=name, spark=spark))


@asynccontextmanager
async def server(
    emulator_factory: Any, version: str = "1.19"
) -> AsyncIterator[tuple[Any, KubeClient]]:
    running = emulator_factory(version=version)
    client = KubeClient.from_kubeconfig(str(running.kubeconfig_path))
    try:
        yield running, client
    finally:
        await client.aclose()


def test_plan_follows_spark_submit_and_the_server() -> None:
    """Spark 3.5 applies its Service; a 1.19 server cannot type it, so it is POSTed, and why."""
    spark35 = app(spark="3.5.1")
    old = plan_submission(
        spark35, surface=offline_capabilities("1.19"), submission_id="s", attempt=1
    )
    new = plan_submission(
        spark35, surface=offline_capabilities("1.37"), submission_id="s", attempt=1
    )
    service = next(w for w in old.dependents if w.object.kind == "Service")
    assert old.pod.method is WriteMethod.CREATE and service.method is WriteMethod.CREATE
    messages = [n.message for n in service.notes]
    assert any("created the Service with POST instead of apply" in m for m in messages)
    assert any("dropped spec.ipFamilies, added in 1.20" in m for m in messages)
    assert next(w for w in new.dependents if w.object.kind == "Service").method is WriteMethod.APPLY
    spark34 = plan_submission(
        app(spark="3.4.1"), surface=offline_capabilities("1.37"), submission_id="s"
    )
    assert all(w.method is WriteMethod.CREATE for w in spark34.writes)  # 3.4 POSTs everything


def test_names_are_deterministic_per_submission_and_attempt() -> None:
    caps = offline_capabilities("1.19")
    one = plan_submission(app(), surface=caps, submission_id="s", attempt=1)
    again = plan_submission(app(), surface=caps, submission_id="s", attempt=1)
    other = plan_submission(app(), surface=caps, submission_id="s", attempt=2)
    names = [w.object.name for w in one.writes]
    assert names == [w.object.name for w in again.writes]
    assert names != [w.object.name for w in other.writes]
    assert one.pod.object.name == other.pod.object.name == "pi-driver"


async def test_submit_adopt_and_conflict(emulator_factory: Any) -> None:
    async with server(emulator_factory) as (_, client):
        caps = await server_capabilities(client)
        assert await server_capabilities(client) is caps  # discovered once per client
        first = await submit_application(client, app(), surface=caps, submission_id="s1", attempt=1)
        assert [r.kind for r in first.written] == [
            "Pod",
            "Service",
            "ConfigMap",
            "ConfigMap",
            "Service",
        ]
        assert not first.adopted and first.spark_application_id.startswith("spark-")
        assert any("dropped spec.ipFamilies" in n for n in first.note_lines())
        pod = await client.send(KubeRequest("GET", "/api/v1/namespaces/default/pods/pi-driver"))
        for ref in first.written[1:4]:
            plural = "services" if ref.kind == "Service" else "configmaps"
            dependent = await client.send(
                KubeRequest("GET", f"/api/v1/namespaces/default/{plural}/{ref.name}")
            )
            assert dependent["metadata"]["ownerReferences"][0]["uid"] == pod["metadata"]["uid"]
        retry = await submit_application(client, app(), surface=caps, submission_id="s1", attempt=1)
        assert (
            not retry.written and len(retry.adopted) == 5 and retry.driver_uid == first.driver_uid
        )
        with pytest.raises(SubmissionConflict) as caught:
            await submit_application(client, app(), surface=caps, submission_id="s2", attempt=1)
        assert "belongs to submission s1" in caught.value.message and not caught.value.temporary


async def test_permanent_failure_undoes_the_submission(emulator_factory: Any) -> None:
    async with server(emulator_factory) as (_, client):
        caps = await server_capabilities(client)
        plan = plan_submission(app("taken"), surface=caps, submission_id="s", attempt=1)
        config = next(w for w in plan.dependents if w.object.kind == "ConfigMap")
        squatter = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": config.object.name},
        }
        await client.send(
            KubeRequest("POST", "/api/v1/namespaces/default/configmaps", (), JSON, squatter)
        )
        with pytest.raises(SubmissionConflict) as caught:
            await submit_application(
                client, app("taken"), surface=caps, submission_id="s", attempt=1
            )
        assert (
            "ConfigMap" in caught.value.message
            and "owned by something else" in caught.value.message
        )
        assert "Pod" in [
            r.kind for r in caught.value.deleted
        ]  # the pod it had created is gone again
        status = await driver_status(client, app("taken"))
        assert not status.exists or status.pod_name == "taken-driver"


async def test_temporary_failure_keeps_what_was_written(emulator_factory: Any) -> None:
    async with server(emulator_factory) as (running, _):
        patient = KubeClient.from_kubeconfig(
            str(running.kubeconfig_path), retry=RetryPolicy(attempts=1)
        )
        try:
            caps = await server_capabilities(patient)
            running.set_faults(Faults(error_rate=1.0, error_codes=(503,)))
            with pytest.raises(SubmissionFailed) as caught:
                await submit_application(
                    patient, app("busy"), surface=caps, submission_id="s", attempt=1
                )
            assert (
                caught.value.temporary
                and caught.value.diagnosis is None
                and not caught.value.deleted
            )
            running.set_faults(Faults())
            done = await submit_application(
                patient, app("busy"), surface=caps, submission_id="s", attempt=1
            )
            assert done.driver_pod == "busy-driver"
        finally:
            await patient.aclose()


async def test_missing_service_account_fails_permanently_and_cleanly(emulator_factory: Any) -> None:
    async with server(emulator_factory) as (_, client):
        caps = await server_capabilities(client)
        spec = replace(app("nosa").spec, driver=replace(app().spec.driver, service_account="ghost"))
        with pytest.raises(SubmissionFailed) as caught:
            await submit_application(
                client,
                replace(app("nosa"), spec=spec),
                surface=caps,
                submission_id="s",
                attempt=1,
            )
        failure = caught.value
        assert (
            not failure.temporary
            and failure.api_error is not None
            and failure.api_error.code == 403
        )
        assert 'serviceaccount "ghost" not found' in failure.summary()
        assert not (await driver_status(client, app("nosa"))).exists


async def test_follow_and_delete(emulator_factory: Any) -> None:
    async with server(emulator_factory) as (_, client):
        caps = await server_capabilities(client)
        await submit_application(client, app("gone"), surface=caps, submission_id="s", attempt=1)
        status = await driver_status(client, app("gone"))
        assert status.exists and status.submission_id == "s"
        assert status.state in (DriverState.PENDING, DriverState.RUNNING, DriverState.COMPLETED)
        deleted = await delete_application(client, app("gone"), surface=caps)
        assert [(r.kind, r.name) for r in deleted] == [
            ("Pod", "gone-driver"),
            ("Service", "gone-ui-svc"),
        ]


def test_the_doctor_diagnoses_a_rejected_apply() -> None:
    text = (
        "PATCH /api/v1/namespaces/default/services/pi-svc: HTTP 500 InternalError: failed to "
        "create typed patch object (/pi-svc; /v1, Kind=Service): .spec.ipFamilies: field not "
        "declared in schema"
    )
    found = diagnose(text)
    assert found is not None and found.issue_id == "spark35-ssa-old-k8s"
    assert "Kubernetes" in found.remedy or "Spark" in found.remedy
    failure = SubmissionFailed("submitting default/pi: rejected", cause=None, diagnosis=found)
    assert "spark35-ssa-old-k8s" in failure.summary()
    assert failure.fix is not None and failure.fix.startswith(found.remedy)
