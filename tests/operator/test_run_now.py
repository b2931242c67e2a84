"""``run-now``: a ScheduledSparkApplication's run made by hand is a run like the operator's own.

With the operator running (on fake time, the schedule far off): the run ``run_now`` creates
carries the schedule's label, owner and ``<name>-<unix seconds>`` name, the operator runs it,
counts it for concurrencyPolicy Forbid (a second run-now is refused while it runs) and keeps it
in the schedule's history once it has completed.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from operator_harness import Cluster, running_cluster, spark_pi

from kubespark.operator.run_now import ANNOTATION_INSTANTIATE, run_now

SCHEDULED = "scheduledsparkapplications"


def yearly(name: str, policy: str) -> dict[str, Any]:
    return {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": "ScheduledSparkApplication",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "schedule": "0 0 1 1 *",  # not due while the test runs
            "timeZone": "UTC",
            "concurrencyPolicy": policy,
            "template": spark_pi("x", run_seconds=20)["spec"],  # 1 s at the emulator's speed
        },
    }


async def state(cluster: Cluster, name: str) -> str:
    app = await cluster.get(name)
    return str(((app.get("status") or {}).get("applicationState") or {}).get("state") or "")


async def wait_for(check: Any, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out: {what}")


async def test_a_manual_run_is_run_counted_and_kept(emulator_factory: Any) -> None:
    async with (
        running_cluster(emulator_factory, "1.29", fake_time=True) as cluster,
        cluster.time_flows(),
    ):
        created = await cluster.create(yearly("nightly", "Forbid"), SCHEDULED)
        first = await run_now(cluster.client, "default", "nightly")
        assert first.started and first.run.startswith("nightly-")
        assert int(first.run.rsplit("-", 1)[1]) >= int(time.time()) - 5
        run = await cluster.get(first.run)
        meta = run["metadata"]
        assert meta["labels"]["sparkoperator.k8s.io/scheduled-app-name"] == "nightly"
        assert meta["ownerReferences"][0]["uid"] == created["metadata"]["uid"]
        assert meta["annotations"][ANNOTATION_INSTANTIATE] == "manual"
        assert run["spec"]["mainClass"] == "org.apache.spark.examples.SparkPi"
        # Forbid: refused while the first run has not finished; nothing created.
        blocked = await run_now(cluster.client, "default", "nightly")
        assert not blocked.started and blocked.blocked_by == first.run

        async def completed() -> bool:
            return await state(cluster, first.run) == "COMPLETED"

        await wait_for(completed, 60, "the manual run completed")

        async def in_history() -> bool:
            status = (await cluster.get("nightly", SCHEDULED)).get("status") or {}
            return first.run in (status.get("pastSuccessfulRunNames") or [])

        await wait_for(in_history, 30, "the operator kept the manual run in the history")
        second = await run_now(cluster.client, "default", "nightly")
        assert second.started and second.run != first.run


async def test_replace_deletes_the_unfinished_run(emulator_factory: Any) -> None:
    async with running_cluster(emulator_factory, "1.29", operator=False) as cluster:
        await cluster.create(yearly("hourly", "Replace"), SCHEDULED)
        first = await run_now(cluster.client, "default", "hourly")
        # No operator here: the run stays New, unfinished; Replace deletes it.
        second = await run_now(cluster.client, "default", "hourly")
        assert second.started and second.replaced == first.run and second.run != first.run
        query = (("labelSelector", "sparkoperator.k8s.io/scheduled-app-name=hourly"),)
        from kubespark.kube.requests import KubeRequest

        listing = await cluster.client.send(KubeRequest("GET", cluster.apps_path(), query))
        assert [i["metadata"]["name"] for i in listing["items"]] == [second.run]
