"""Smaller promises on an emulated 1.19: capped executorState, more waiting reasons."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from operator_harness import running_cluster, spark_pi


def _annotated(name: str, **annotations: str) -> dict[str, Any]:
    app = spark_pi(name, run_seconds=3)
    app["spec"]["driver"]["annotations"].update(
        {f"kubespark.io/emulate-{k}": v for k, v in annotations.items()}
    )
    return app


async def test_executor_state_is_capped(emulator_factory: Any) -> None:
    async with running_cluster(emulator_factory, "1.19", max_tracked_executors=2) as cluster:
        await cluster.create(spark_pi("wide", run_seconds=6, executor={"instances": 4}))
        done = await cluster.wait_state("wide", "COMPLETED", within=40)
        tracked = list(done["status"]["executorState"])
        # Spark names executors <app>-<16 hex, fresh per run>-exec-<id>; only two are tracked.
        assert 1 <= len(tracked) <= 2
        assert all(re.fullmatch(r"wide-[0-9a-f]{16}-exec-[12]", name) for name in tracked)


async def test_unschedulable_and_evicted_drivers_say_why(emulator_factory: Any) -> None:
    async with running_cluster(emulator_factory, "1.19") as cluster:
        await cluster.create(_annotated("stuck", unschedulable="true"))
        await cluster.create(_annotated("evicted", evicted="true"))
        stuck = await cluster.wait_for(
            "stuck",
            lambda o: (o.get("status") or {}).get("waiting", {}).get("reason") == "Unschedulable",
        )
        assert stuck["status"]["applicationState"]["state"] == "SUBMITTED"
        evicted = await cluster.wait_state("evicted", "FAILED", within=40)
        assert "Evicted" in evicted["status"]["applicationState"]["errorMessage"]
        await asyncio.sleep(0)
