"""execute_plan against emulated API servers over real HTTP: writes, fallbacks, owner uids.

Needs the emulator's pytest plugin (``kubespark.emulator.testing``, branch ``emulator``):
skipped until that branch is merged; they pass on a scratch merge of both branches.
"""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

import pytest

pytest.importorskip("kubespark.emulator.testing")

from kubespark.compat import (
    Intent,
    NoteCode,
    PlanExecutionFailed,
    WriteMethod,
    execute_plan,
    live_capabilities,
    plan_writes,
    predict_apply,
)
from kubespark.kube.client import KubeClient
from kubespark.kube.errors import Conflict, TypedPatchRejected
from kubespark.kube.requests import ResourcePath

NS = "spark-jobs"


def submission(spark351_all: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """spark-submit 3.5.1's Pod, Service and ConfigMap, owner uids left for the executor."""
    bodies = copy.deepcopy(spark351_all)
    for body in bodies[1:]:
        for ref in body["metadata"]["ownerReferences"]:
            ref["uid"] = ""
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "spark"}}
    return [*bodies, namespace, account]


def run(emulator: Any, work: Any) -> Any:
    async def go() -> Any:
        async with KubeClient.from_kubeconfig(str(emulator.kubeconfig_path)) as client:
            return await work(client)

    return asyncio.run(go())


@pytest.mark.emulator(version="1.19")
def test_a_planned_submission_is_accepted_where_apply_is_rejected(
    emulator: Any, spark351_all: list[dict[str, Any]]
) -> None:
    objects = submission(spark351_all)

    async def work(client: KubeClient) -> Any:
        surface = await live_capabilities(client)
        plan = plan_writes(objects, surface, Intent.APPLY, namespace=NS)
        written = await execute_plan(client, plan)
        # The raw spark-submit apply of the Service, as the planner predicted, is rejected.
        service = objects[1]
        raw = {**service, "metadata": {**service["metadata"], "name": "raw", "namespace": NS}}
        resource = surface.resource("v1", "Service")
        assert resource is not None
        with pytest.raises(TypedPatchRejected) as rejected:
            await client.send(
                ResourcePath(resource).apply(raw, field_manager="fabric8", force=True)
            )
        predicted = predict_apply(surface, raw)
        return surface, plan, written, rejected.value, predicted

    surface, plan, written, rejected, predicted = run(emulator, work)
    assert str(surface.version) == "1.19"
    assert [w.object.kind for w in plan.writes] == [
        "Namespace",
        "ServiceAccount",
        "Pod",
        "Service",
        "ConfigMap",
    ]
    service_write = plan.writes[3]
    assert service_write.method is WriteMethod.CREATE
    assert NoteCode.APPLY_WOULD_FAIL in [n.code for n in service_write.notes]
    pod, service, config_map = written[2:]
    assert service["metadata"]["name"] == "spark-pi-815834a21b9c71bf-driver-svc"
    assert "ipFamilies" not in service["spec"]
    assert service["spec"]["ports"][0]["protocol"] == "TCP"  # the server's default on create
    # The owner references name the driver Pod this run created.
    uid = pod["metadata"]["uid"]
    assert [r["uid"] for r in service["metadata"]["ownerReferences"]] == [uid]
    assert [r["uid"] for r in config_map["metadata"]["ownerReferences"]] == [uid]
    assert config_map["immutable"] is True
    assert rejected.status.code == 500
    assert rejected.message == predicted.status_message


@pytest.mark.emulator(version="1.19")
def test_running_a_plan_again_follows_each_fallback(
    emulator: Any, spark351_all: list[dict[str, Any]]
) -> None:
    objects = submission(spark351_all)[:3]  # Namespace and account are made first, below

    async def work(client: KubeClient) -> Any:
        surface = await live_capabilities(client)
        setup = submission(spark351_all)[3:]
        await execute_plan(client, plan_writes(setup, surface, Intent.CREATE, namespace=NS))
        applied = plan_writes(objects, surface, Intent.APPLY, namespace=NS)
        first = await execute_plan(client, applied)
        again = await execute_plan(client, applied)  # Service: 409 -> merge patch
        # A running Pod cannot be replaced (its spec is immutable), as with kubectl replace.
        replaced = await execute_plan(
            client, plan_writes(objects[1:], surface, Intent.CREATE_OR_REPLACE, namespace=NS)
        )
        with pytest.raises(PlanExecutionFailed) as failed:
            await execute_plan(client, plan_writes(objects, surface, Intent.CREATE, namespace=NS))
        return first, again, replaced, failed.value

    first, again, replaced, failed = run(emulator, work)
    svc, svc_again, svc_replaced = (
        next(o for o in run_ if o["kind"] == "Service") for run_ in (first, again, replaced)
    )
    assert svc_again["metadata"]["uid"] == svc["metadata"]["uid"]
    assert svc_replaced["metadata"]["uid"] == svc["metadata"]["uid"]
    # The replace kept the clusterIP the server allocated (the body has none).
    assert svc_replaced["spec"]["clusterIP"] == svc["spec"]["clusterIP"]
    assert int(svc_replaced["metadata"]["resourceVersion"]) > int(
        svc["metadata"]["resourceVersion"]
    )
    assert isinstance(failed.cause, Conflict) and failed.cause.already_exists
    assert failed.completed == []  # the Pod came first and already existed
    assert failed.write.object.kind == "Pod"


@pytest.mark.emulator(version="1.21")
def test_on_1_21_every_write_is_an_apply(emulator: Any, spark351_all: list[dict[str, Any]]) -> None:
    objects = submission(spark351_all)

    async def work(client: KubeClient) -> Any:
        surface = await live_capabilities(client)
        plan = plan_writes(objects, surface, Intent.APPLY, namespace=NS)
        return plan, await execute_plan(client, plan)

    plan, written = run(emulator, work)
    assert {w.method for w in plan.writes} == {WriteMethod.APPLY}
    assert plan.notes == ()
    service = written[3]
    assert service["spec"]["ipFamilies"] == ["IPv4"]
    managers = {m["manager"] for m in service["metadata"]["managedFields"]}
    assert "kubespark" in managers


@pytest.mark.emulator(version="1.19")
def test_validate_against_the_live_server_sees_its_crds(
    emulator: Any, spark351_all: list[dict[str, Any]], tmp_path: Any
) -> None:
    import yaml
    from typer.testing import CliRunner

    from kubespark.cli.app import app

    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "names": {"kind": "Widget", "plural": "widgets"},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                }
            ],
        },
    }

    async def install(client: KubeClient) -> None:
        surface = await live_capabilities(client)
        await execute_plan(client, plan_writes([crd], surface, Intent.CREATE))

    run(emulator, install)
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    manifest = tmp_path / "app.yaml"
    manifest.write_text(yaml.safe_dump_all([widget, spark351_all[1]], sort_keys=False))
    result = CliRunner().invoke(
        app,
        [
            "validate",
            "-f",
            str(manifest),
            "--kubeconfig",
            str(emulator.kubeconfig_path),
            "-o",
            "json",
        ],
    )
    report = json.loads(result.stdout)
    assert report["kubernetes"].startswith("1.19")
    kinds = {r["object"]["kind"]: {f["rule"] for f in r["findings"]} for r in report["results"]}
    assert kinds == {"Service": {"unknown-field", "apply-would-fail"}}  # the Widget is served
    assert result.exit_code == 0
