"""Volcano and YuniKorn, re-expressing kubeflow's internal/scheduler/{volcano,yunikorn} tests.

Pure planning (PodGroup body, annotations, kubeflow's minimum resources), then on the emulator:
with Volcano's PodGroup CRD installed the submission writes the group before the driver runs
and annotates the pods; without it nothing is written and ``kubespark submit`` exits 2.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from kubespark.apisurface import newest_version
from kubespark.cli.app import app as cli
from kubespark.kube.client import KubeClient
from kubespark.kube.requests import JSON, KubeRequest
from kubespark.spark import load_application
from kubespark.spark.model import SparkApplication
from kubespark.submit import server_capabilities, submit_application
from kubespark.submit.batch import (
    GROUP_ANNOTATION,
    POD_GROUP_LABEL,
    QUEUE_LABEL,
    TASK_GROUP_NAME,
    TASK_GROUPS,
    min_resources,
    plan_batch,
)

POD_GROUP_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "podgroups.scheduling.volcano.sh"},
    "spec": {
        "group": "scheduling.volcano.sh",
        "names": {"kind": "PodGroup", "plural": "podgroups", "singular": "podgroup"},
        "scope": "Namespaced",
        "versions": [
            {
                "name": "v1beta1",
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


def _doc(name: str = "test-app", **spec: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "sparkVersion": "3.5.1",
        "image": "apache/spark:3.5.1",
        "mainClass": "org.apache.spark.examples.SparkPi",
        "mainApplicationFile": "local:///opt/spark/examples/jars/spark-examples.jar",
        "batchScheduler": "volcano",
        "driver": {},
        "executor": {"instances": 1},
    }
    base.update(spec)
    return {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": "SparkApplication",
        "metadata": {"name": name, "namespace": "default"},
        "spec": base,
    }


def _app(**spec: Any) -> SparkApplication:
    return load_application(yaml.safe_dump(_doc(**spec)))


def test_cluster_mode_with_queue_groups_driver_and_executors() -> None:
    plan = plan_batch(_app(batchSchedulerOptions={"queue": "batch-queue"}))
    assert plan.pod_group is not None
    assert plan.pod_group["metadata"]["name"] == "spark-test-app-pg"
    assert plan.pod_group["spec"]["queue"] == "batch-queue"
    assert "priorityClassName" not in plan.pod_group["spec"]
    assert plan.pod_group["spec"]["minMember"] == 1
    assert plan.app.spec.driver.annotations[GROUP_ANNOTATION] == "spark-test-app-pg"
    assert plan.app.spec.executor.annotations[GROUP_ANNOTATION] == "spark-test-app-pg"


def test_client_mode_with_queue_and_priority_groups_the_executors_only() -> None:
    options = {"queue": "high-priority", "priorityClassName": "high"}
    plan = plan_batch(_app(mode="client", batchSchedulerOptions=options))
    assert plan.pod_group is not None
    assert plan.pod_group["spec"]["priorityClassName"] == "high"
    assert GROUP_ANNOTATION not in plan.app.spec.driver.annotations
    assert plan.app.spec.executor.annotations[GROUP_ANNOTATION] == "spark-test-app-pg"


def test_batch_scheduler_options_resources_replace_the_computed_minimum() -> None:
    resources = {"cpu": "4", "memory": "8Gi", "gpu": "2"}
    plan = plan_batch(_app(batchSchedulerOptions={"resources": resources}))
    assert plan.pod_group is not None
    assert plan.pod_group["spec"]["minResources"] == resources


def test_minimum_resources_as_kubeflow_sums_them() -> None:
    app = _app(
        driver={"cores": 1, "memory": "512Mi", "memoryOverhead": "512Mi"},
        executor={"instances": 2, "cores": 2, "coreRequest": "500m", "memory": "1Gi"},
    )
    # driver 1 cpu + 1Gi; executors: coreRequest before cores, two of them
    assert min_resources(app) == {"cpu": "2", "memory": "3Gi"}
    assert min_resources(app, driver=False) == {"cpu": "1", "memory": "2Gi"}
    # Spark's "1g" is no Kubernetes quantity: kubeflow's ParseQuantity fails and leaves it out
    spark_style = _app(driver={"cores": 1, "memory": "1g"}, executor={"instances": 1})
    assert "memory" not in min_resources(spark_style)


def test_dynamic_allocation_counts_the_initial_executors() -> None:
    app = _app(
        executor={"cores": 1},
        dynamicAllocation={"enabled": True, "initialExecutors": 3, "minExecutors": 1},
    )
    assert min_resources(app, driver=False)["cpu"] == "3"


def test_another_scheduler_or_a_user_group_is_left_alone() -> None:
    assert plan_batch(_app(batchScheduler="yunikorn")).pod_group is None
    grouped = _app(driver={"annotations": {GROUP_ANNOTATION: "mine"}})
    assert plan_batch(grouped).pod_group is None


async def _install_pod_group_crd(client: KubeClient) -> None:
    path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    await client.send(KubeRequest("POST", path, (), JSON, POD_GROUP_CRD))
    for _ in range(100):
        try:
            await client.send(KubeRequest("GET", "/apis/scheduling.volcano.sh/v1beta1"))
            return
        except Exception:
            await asyncio.sleep(0.05)


@pytest.mark.parametrize("version", ["1.19", str(newest_version())])
async def test_submission_writes_the_pod_group_and_annotates_the_driver(
    emulator_factory: Any, version: str
) -> None:
    running = emulator_factory(version=version)
    client = KubeClient.from_kubeconfig(str(running.kubeconfig_path))
    try:
        await _install_pod_group_crd(client)
        surface = await server_capabilities(client)
        app = _app(batchSchedulerOptions={"queue": "q1"})
        submission = await submit_application(client, app, surface=surface, submission_id="s1")
        group = await client.send(
            KubeRequest(
                "GET",
                "/apis/scheduling.volcano.sh/v1beta1/namespaces/default/podgroups/spark-test-app-pg",
            )
        )
        assert group["spec"]["queue"] == "q1"
        assert group["metadata"]["ownerReferences"][0]["uid"] == submission.driver_uid
        pod = await client.send(
            KubeRequest("GET", f"/api/v1/namespaces/default/pods/{submission.driver_pod}")
        )
        assert pod["metadata"]["annotations"][GROUP_ANNOTATION] == "spark-test-app-pg"
        assert pod["spec"]["schedulerName"] == "volcano"
    finally:
        await client.aclose()


def test_submit_without_volcano_exits_2_and_writes_nothing(
    emulator_factory: Any, tmp_path: Path
) -> None:
    running = emulator_factory(version=str(newest_version()))
    path = tmp_path / "app.yaml"
    path.write_text(yaml.safe_dump(_doc()))
    args = ["submit", str(path), "--kubeconfig", str(running.kubeconfig_path)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert "CRD PodGroup does not exist" in result.output
    assert "spec.batchScheduler" in result.output
    assert asyncio.run(_pod_names(str(running.kubeconfig_path))) == []


async def _pod_names(kubeconfig: str) -> list[str]:
    client = KubeClient.from_kubeconfig(kubeconfig)
    try:
        pods = await client.send(KubeRequest("GET", "/api/v1/namespaces/default/pods"))
    finally:
        await client.aclose()
    return [p["metadata"]["name"] for p in pods["items"]]


# ---- YuniKorn (kubeflow's internal/scheduler/yunikorn/scheduler_test.go) ------------------------


def _task_groups(app: SparkApplication) -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = json.loads(app.spec.driver.annotations[TASK_GROUPS])
    return groups


def test_yunikorn_spark_pi_task_groups_with_the_minimum_overhead() -> None:
    pod = {"cores": 1, "coreLimit": "1200m", "memory": "512m"}
    planned = plan_batch(
        _app(
            batchScheduler="yunikorn",
            driver=pod,
            executor={**pod, "instances": 2},
            batchSchedulerOptions={"queue": "root.default"},
        )
    )
    assert planned.pod_group is None  # YuniKorn needs no object
    spec = planned.app.spec
    assert _task_groups(planned.app) == [
        {"name": "spark-driver", "minMember": 1, "minResource": {"cpu": "1", "memory": "896Mi"}},
        {"name": "spark-executor", "minMember": 2, "minResource": {"cpu": "1", "memory": "896Mi"}},
    ]
    assert spec.driver.annotations[TASK_GROUP_NAME] == "spark-driver"
    assert spec.executor.annotations[TASK_GROUP_NAME] == "spark-executor"
    assert spec.driver.labels[QUEUE_LABEL] == spec.executor.labels[QUEUE_LABEL] == "root.default"
    assert spec.driver.scheduler_name == spec.executor.scheduler_name == "yunikorn"


def test_yunikorn_dynamic_allocation_and_memory_overhead() -> None:
    planned = plan_batch(
        _app(
            type="Python",
            batchScheduler="yunikorn",
            memoryOverheadFactor="0.3",
            driver={"coreRequest": "2000m", "cores": 4, "memory": "8g"},
            executor={"instances": 4, "memoryOverhead": "2g", "cores": 8, "memory": "64g"},
            dynamicAllocation={"enabled": True, "initialExecutors": 8, "minExecutors": 2},
        )
    )
    driver, executor = _task_groups(planned.app)
    assert driver["minResource"] == {"cpu": "2000m", "memory": "10649Mi"}
    assert (executor["minMember"], executor["minResource"]) == (
        8,
        {"cpu": "8", "memory": "67584Mi"},
    )


def test_yunikorn_node_selectors_merge_and_pyspark_memory_counts() -> None:
    # Node selectors at both levels: the webhook refuses them today; older kubeflow merged them.
    document = yaml.safe_dump(
        _doc(
            type="Python",
            batchScheduler="yunikorn",
            nodeSelector={"key": "value"},
            sparkConf={"spark.executor.pyspark.memory": "500"},
            driver={"memory": "1g", "labels": {"team": "a"}},
            executor={"instances": 1, "memory": "1g", "nodeSelector": {"disk": "ssd"}},
            batchSchedulerOptions={"queue": "q"},
        )
    )
    planned = plan_batch(load_application(document, kubeflow_refusals=False))
    driver, executor = _task_groups(planned.app)
    assert driver["nodeSelector"] == {"key": "value"}
    assert driver["labels"] == {"queue": "q", "team": "a"}  # Go's shared labels map
    assert executor["nodeSelector"] == {"disk": "ssd", "key": "value"}
    assert driver["minResource"]["memory"] == "1433Mi"  # 1024Mi * 1.4 non-JVM overhead
    assert executor["minResource"]["memory"] == "1933Mi"  # ... plus 500Mi PySpark memory


async def test_yunikorn_driver_pod_carries_queue_and_task_groups(emulator_factory: Any) -> None:
    running = emulator_factory(version="1.19")
    client = KubeClient.from_kubeconfig(str(running.kubeconfig_path))
    try:
        surface = await server_capabilities(client)
        app = _app(batchScheduler="yunikorn", batchSchedulerOptions={"queue": "root.spark"})
        submission = await submit_application(client, app, surface=surface, submission_id="y1")
        pod = await client.send(
            KubeRequest("GET", f"/api/v1/namespaces/default/pods/{submission.driver_pod}")
        )
    finally:
        await client.aclose()
    assert pod["spec"]["schedulerName"] == "yunikorn"
    assert pod["metadata"]["labels"][QUEUE_LABEL] == "root.spark"
    annotations = pod["metadata"]["annotations"]
    assert annotations[TASK_GROUP_NAME] == "spark-driver"
    assert [g["name"] for g in json.loads(annotations[TASK_GROUPS])] == [
        "spark-driver",
        "spark-executor",
    ]


# ---- the coscheduling plugin (kubeflow's internal/scheduler/kubescheduler) ----------------------


def test_coscheduling_pod_group_and_label_for_a_kube_scheduler_name() -> None:
    app = _app(
        batchScheduler="scheduler-plugins-scheduler",
        driver={"cores": 1, "memory": "1Gi"},
        executor={"instances": 2, "cores": 1, "memory": "1Gi"},
    )
    plain = plan_batch(app)
    assert plain.pod_group is None  # not named as a kube-scheduler: just the scheduler name
    planned = plan_batch(app, ("scheduler-plugins-scheduler",))
    assert planned.pod_group is not None
    assert planned.pod_group["apiVersion"] == "scheduling.x-k8s.io/v1alpha1"
    assert planned.pod_group["metadata"]["name"] == "test-app-pg"
    assert planned.pod_group["spec"] == {
        "minMember": 1,
        "minResources": {"cpu": "3", "memory": "3Gi"},
    }
    assert planned.app.metadata.labels[POD_GROUP_LABEL] == "test-app-pg"


def test_submit_with_a_kube_scheduler_name_writes_the_coscheduling_pod_group(
    emulator_factory: Any, tmp_path: Path
) -> None:
    running = emulator_factory(version=str(newest_version()))
    kubeconfig = str(running.kubeconfig_path)
    crd = json.loads(json.dumps(POD_GROUP_CRD))
    crd["metadata"]["name"] = "podgroups.scheduling.x-k8s.io"
    crd["spec"]["group"] = "scheduling.x-k8s.io"
    crd["spec"]["versions"][0]["name"] = "v1alpha1"
    crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    asyncio.run(_send(kubeconfig, "POST", crds, crd))
    path = tmp_path / "app.yaml"
    path.write_text(yaml.safe_dump(_doc(batchScheduler="sp-scheduler")))
    args = ["submit", str(path), "--kubeconfig", kubeconfig]
    args += ["--kube-scheduler-name", "sp-scheduler"]
    for _ in range(50):  # the new group-version is served once the CRD is established
        result = CliRunner().invoke(cli, args)
        if result.exit_code != 2:
            break
        time.sleep(0.1)
    assert result.exit_code == 0, result.output
    groups = "/apis/scheduling.x-k8s.io/v1alpha1/namespaces/default/podgroups"
    group = asyncio.run(_send(kubeconfig, "GET", f"{groups}/test-app-pg"))
    assert group["spec"]["minMember"] == 1
    pods = asyncio.run(_send(kubeconfig, "GET", "/api/v1/namespaces/default/pods"))
    roles = {p["metadata"]["labels"].get("spark-role"): p for p in pods["items"]}
    assert roles["driver"]["metadata"]["labels"][POD_GROUP_LABEL] == "test-app-pg"


async def _send(kubeconfig: str, method: str, path: str, body: Any = None) -> Any:
    client = KubeClient.from_kubeconfig(kubeconfig)
    try:
        request = KubeRequest(method, path, (), JSON, body) if body else KubeRequest(method, path)
        return await client.send(request)
    finally:
        await client.aclose()


# ---- --dry-run lists what the batch scheduler adds ---------------------------------------------


def _dry_run(tmp_path: Path, doc: dict[str, Any], *flags: str) -> Any:
    path = tmp_path / "app.yaml"
    path.write_text(yaml.safe_dump(doc))
    return CliRunner().invoke(cli, ["submit", str(path), "--dry-run", *flags])


def test_dry_run_lists_the_volcano_pod_group_after_the_driver_pod(tmp_path: Path) -> None:
    doc = _doc(batchSchedulerOptions={"queue": "q1"})
    result = _dry_run(tmp_path, doc, "--k8s", "1.30", "-o", "json")
    assert result.exit_code == 0, result.output
    writes = json.loads(result.output)["writes"]
    kinds = [w["object"]["kind"] for w in writes]
    assert kinds[:2] == ["Pod", "PodGroup"]  # the pod owns it: written right after it
    group = writes[1]
    assert group["path"] == "/apis/scheduling.volcano.sh/v1beta1/namespaces/default/podgroups"
    assert group["body"]["spec"]["queue"] == "q1"
    assert group["body"]["metadata"]["ownerReferences"][0]["kind"] == "Pod"
    assert writes[0]["body"]["metadata"]["annotations"][GROUP_ANNOTATION] == "spark-test-app-pg"
    assert any("podgroups.scheduling.volcano.sh" in n["message"] for n in group["notes"])
    text = _dry_run(tmp_path, doc, "--k8s", "1.30")
    assert text.exit_code == 0, text.output
    assert "PodGroup default/spark-test-app-pg" in text.output


def test_dry_run_lists_the_coscheduling_pod_group_for_a_kube_scheduler(tmp_path: Path) -> None:
    doc = _doc(batchScheduler="scheduler-plugins-scheduler")
    flags = ("--k8s", "1.30", "-o", "json", "--kube-scheduler-name", "scheduler-plugins-scheduler")
    result = _dry_run(tmp_path, doc, *flags)
    assert result.exit_code == 0, result.output
    writes = json.loads(result.output)["writes"]
    group = next(w for w in writes if w["object"]["kind"] == "PodGroup")
    assert group["object"]["apiVersion"] == "scheduling.x-k8s.io/v1alpha1"
    assert group["object"]["name"] == "test-app-pg"
    assert writes[0]["body"]["metadata"]["labels"][POD_GROUP_LABEL] == "test-app-pg"
    plain = _dry_run(tmp_path, _doc(batchScheduler=None), "--k8s", "1.30", "-o", "json")
    assert "PodGroup" not in [w["object"]["kind"] for w in json.loads(plain.output)["writes"]]


def test_dry_run_against_a_server_without_volcano_exits_2(
    emulator_factory: Any, tmp_path: Path
) -> None:
    running = emulator_factory(version=str(newest_version()))
    result = _dry_run(tmp_path, _doc(), "--kubeconfig", str(running.kubeconfig_path))
    assert result.exit_code == 2, result.output
    assert "CRD PodGroup does not exist" in result.output
