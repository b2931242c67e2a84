"""kubeflow parity on a cluster: Volcano PodGroups, the operator defaults, and the webhook
refusals at kubectl apply where the server runs CEL
(the CRDs' x-kubernetes-validations), by the operator (FAILED, nothing created) where it does not.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from operator_harness import running_cluster, spark_pi

from kubespark.apisurface import newest_version
from kubespark.kube.errors import Invalid, NotFound
from kubespark.kube.requests import KubeRequest

NEWEST = str(newest_version())
BOTH_LEVELS = "node selector cannot be defined at both SparkApplication and Driver/Executor"


def _both_levels(name: str) -> dict[str, Any]:
    app = spark_pi(name)
    app["spec"]["nodeSelector"] = {"pool": "spark"}
    app["spec"]["driver"]["nodeSelector"] = {"disk": "ssd"}
    return app


async def _pods(cluster: Any) -> list[str]:
    listing = await cluster.client.send(KubeRequest("GET", "/api/v1/namespaces/default/pods"))
    return [p["metadata"]["name"] for p in listing["items"]]


async def test_a_cel_server_refuses_at_create_with_kubeflows_message(emulator_factory: Any) -> None:
    async with running_cluster(emulator_factory, NEWEST, operator=False) as cluster:
        with pytest.raises(Invalid) as caught:
            await cluster.create(_both_levels("both"))
        assert BOTH_LEVELS in caught.value.message
        denied = spark_pi("master")
        denied["spec"]["sparkConf"] = {"spark.master": "local[2]"}
        with pytest.raises(Invalid) as caught:
            await cluster.create(denied)
        assert 'sparkConf key "spark.master" is not allowed' in caught.value.message
        with pytest.raises(Invalid) as caught:
            await cluster.create(spark_pi("9lives"))
        # 1.27+: the CRD's messageExpression gives kubeflow's message with the name in it
        assert 'invalid SparkApplication name "9lives": a DNS-1035' in caught.value.message
        stored = await cluster.create(spark_pi("fine", timeToLiveSeconds=0, retryInterval=0))
        assert stored["spec"]["timeToLiveSeconds"] == 0


async def test_a_server_without_message_expressions_refuses_with_the_fixed_message(
    emulator_factory: Any,
) -> None:
    async with running_cluster(emulator_factory, "1.26", operator=False) as cluster:
        with pytest.raises(Invalid) as caught:
            await cluster.create(spark_pi("9lives"))
        assert "invalid SparkApplication name: a DNS-1035" in caught.value.message
        crd = await cluster.client.send(
            KubeRequest(
                "GET",
                "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
                "sparkapplications.sparkoperator.k8s.io",
            )
        )
        assert "messageExpression" not in str(crd)


async def test_an_old_server_accepts_and_the_operator_fails_it_creating_nothing(
    emulator_factory: Any,
) -> None:
    async with running_cluster(emulator_factory, "1.19") as cluster:
        await cluster.create(_both_levels("both"))  # 1.19 evaluates no CEL
        failed = await cluster.wait_state("both", "FAILED")
        assert BOTH_LEVELS in failed["status"]["applicationState"]["errorMessage"]
        assert await _pods(cluster) == []


async def test_the_namespace_rule_no_crd_can_express_is_the_operators(
    emulator_factory: Any,
) -> None:
    async with running_cluster(emulator_factory, NEWEST) as cluster:
        app = spark_pi("elsewhere")
        app["spec"]["sparkConf"] = {"spark.kubernetes.namespace": "other"}
        await cluster.create(app)
        failed = await cluster.wait_state("elsewhere", "FAILED")
        message = failed["status"]["applicationState"]["errorMessage"]
        assert "must equal the application namespace" in message
        assert await _pods(cluster) == []


async def test_volcano_without_its_crd_fails_the_application_with_the_reason(
    emulator_factory: Any,
) -> None:
    async with running_cluster(emulator_factory, NEWEST) as cluster:
        await cluster.create(spark_pi("gang", batchScheduler="volcano"))
        failed = await cluster.wait_state("gang", "FAILED")
        assert "CRD PodGroup does not exist" in failed["status"]["applicationState"]["errorMessage"]
        assert await _pods(cluster) == []


def _pod_group_crd(group: str, version: str) -> dict[str, Any]:
    """A PodGroup CRD as the scheduler installs it (schemaless is enough here)."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"podgroups.{group}"},
        "spec": {
            "group": group,
            "names": {"kind": "PodGroup", "plural": "podgroups"},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": version,
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


async def test_volcano_pod_group_is_owned_by_the_application(emulator_factory: Any) -> None:
    crd = _pod_group_crd("scheduling.volcano.sh", "v1beta1")
    async with running_cluster(emulator_factory, "1.19") as cluster:
        path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
        await cluster.client.send(KubeRequest("POST", path, (), "application/json", crd))
        options = {"queue": "q", "priorityClassName": "high"}
        app = spark_pi("gang", batchScheduler="volcano", batchSchedulerOptions=options)
        created = await cluster.create(app)
        await cluster.wait_state("gang", "RUNNING", "SUBMITTED")
        group = await cluster.client.send(
            KubeRequest(
                "GET",
                "/apis/scheduling.volcano.sh/v1beta1/namespaces/default/podgroups/spark-gang-pg",
            )
        )
        assert group["spec"]["queue"] == "q" and group["spec"]["priorityClassName"] == "high"
        owner = group["metadata"]["ownerReferences"][0]
        assert (owner["kind"], owner["uid"]) == ("SparkApplication", created["metadata"]["uid"])
        await cluster.wait_state("gang", "COMPLETED")  # kubeflow's Cleanup at termination
        groups = "/apis/scheduling.volcano.sh/v1beta1/namespaces/default/podgroups"
        for _ in range(100):
            if not (await cluster.client.send(KubeRequest("GET", groups)))["items"]:
                break
            await asyncio.sleep(0.1)
        assert (await cluster.client.send(KubeRequest("GET", groups)))["items"] == []


async def test_operator_defaults_for_batch_scheduler_and_time_to_live(
    emulator_factory: Any,
) -> None:
    """kubeflow's --default-batch-scheduler and --default-time-to-live-seconds."""
    options = {"default_batch_scheduler": "volcano", "default_ttl_seconds": 0}
    async with running_cluster(emulator_factory, NEWEST, **options) as cluster:
        # No Volcano here: the defaulted scheduler fails the application with the reason...
        await cluster.create(spark_pi("gang"))
        failed = await cluster.wait_state("gang", "FAILED")
        assert "CRD PodGroup does not exist" in failed["status"]["applicationState"]["errorMessage"]
        # ...then the default TTL of 0 expires it at once, as timeToLiveSeconds: 0 would.
        await cluster.gone("gang", within=15)
        # An application naming its own scheduler keeps it: this one runs to the end.
        own = {"driver": {"annotations": {"kubespark.io/emulate-run-seconds": "1"}}}
        await cluster.create(spark_pi("own", batchScheduler="default-scheduler", **own))
        await cluster.wait_state("own", "COMPLETED")
        await cluster.gone("own", within=15)


@pytest.mark.parametrize(("version", "policy"), [("1.19", "v1beta1"), (NEWEST, "v1")])
async def test_driver_pdb_while_the_driver_runs(
    emulator_factory: Any, version: str, policy: str
) -> None:
    """kubeflow's --enable-driver-pdb: minAvailable 1 over the driver, removed at the end."""
    async with running_cluster(emulator_factory, version, enable_driver_pdb=True) as cluster:
        run = {"driver": {"annotations": {"kubespark.io/emulate-run-seconds": "6"}}}
        created = await cluster.create(spark_pi("guarded", driverPodDisruptionBudget=True, **run))
        await cluster.create(spark_pi("plain", **run))
        await cluster.wait_state("guarded", "RUNNING")
        path = f"/apis/policy/{policy}/namespaces/default/poddisruptionbudgets"
        pdb = await _eventually(cluster, f"{path}/guarded-driver")
        assert pdb["spec"]["minAvailable"] == 1
        running = await cluster.client.send(KubeRequest("GET", path))
        assert [p["metadata"]["name"] for p in running["items"]] == ["guarded-driver"]
        assert pdb["spec"]["selector"]["matchLabels"]["spark-role"] == "driver"
        owner = pdb["metadata"]["ownerReferences"][0]
        assert owner["uid"] == created["metadata"]["uid"]
        await cluster.wait_state("guarded", "COMPLETED")
        await cluster.wait_state("plain", "COMPLETED")
        for _ in range(100):
            listing = await cluster.client.send(KubeRequest("GET", path))
            if not listing["items"]:
                break
            await asyncio.sleep(0.1)
        assert listing["items"] == []


async def _eventually(cluster: Any, path: str) -> dict[str, Any]:
    for _ in range(100):
        try:
            found: dict[str, Any] = await cluster.client.send(KubeRequest("GET", path))
            return found
        except NotFound:
            await asyncio.sleep(0.1)
    raise AssertionError(f"{path} never appeared")


async def test_coscheduling_pod_group_for_a_kube_scheduler_name(emulator_factory: Any) -> None:
    """kubeflow's --kube-scheduler-names: the plugin's PodGroup and label on the pods."""
    names = ("scheduler-plugins-scheduler",)
    async with running_cluster(emulator_factory, NEWEST, kube_scheduler_names=names) as cluster:
        path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
        crd = _pod_group_crd("scheduling.x-k8s.io", "v1alpha1")
        await cluster.client.send(KubeRequest("POST", path, (), "application/json", crd))
        await cluster.create(spark_pi("gang", batchScheduler="scheduler-plugins-scheduler"))
        await cluster.wait_state("gang", "RUNNING", "SUBMITTED", "COMPLETED")
        group = await _eventually(
            cluster, "/apis/scheduling.x-k8s.io/v1alpha1/namespaces/default/podgroups/gang-pg"
        )
        assert group["spec"]["minMember"] == 1 and group["spec"]["minResources"]["cpu"]
        pod = await cluster.client.send(
            KubeRequest("GET", "/api/v1/namespaces/default/pods/gang-driver")
        )
        assert pod["metadata"]["labels"]["scheduling.x-k8s.io/pod-group"] == "gang-pg"
        assert pod["spec"]["schedulerName"] == "scheduler-plugins-scheduler"
